namespace AlertBroker.Avro;

/// <summary>Base class of every error raised by AlertBroker.Avro.</summary>
public class AvroException : Exception
{
    public AvroException()
    {
    }

    public AvroException(string message)
        : base(message)
    {
    }

    public AvroException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The schema JSON is invalid: bad syntax, unknown type names, duplicate names, invalid names.</summary>
public sealed class AvroSchemaException : AvroException
{
    public AvroSchemaException()
    {
    }

    public AvroSchemaException(string message)
        : base(message)
    {
    }

    public AvroSchemaException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The binary data does not decode under its schema; <see cref="Offset"/> is the absolute byte offset of the failure.</summary>
public class AvroFormatException : AvroException
{
    public AvroFormatException()
    {
    }

    public AvroFormatException(string message)
        : base(message)
    {
    }

    public AvroFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public AvroFormatException(string message, long offset)
        : base($"{message} (at byte offset {offset})")
    {
        Offset = offset;
    }

    public AvroFormatException(string message, long offset, Exception? innerException)
        : base($"{message} (at byte offset {offset})", innerException)
    {
        Offset = offset;
    }

    /// <summary>Absolute byte offset where decoding failed.</summary>
    public long Offset { get; }
}

/// <summary>
/// Data that would inflate beyond a limit of <see cref="AvroLimits"/> (<see cref="AvroLimits.MaxBlockLength"/> or
/// <see cref="AvroLimits.MaxInflatedBytes"/>): not necessarily corrupt, but refused before more memory or time is spent on
/// it (a compression bomb, or a message larger than the reader was configured for).
/// </summary>
public sealed class AvroLimitExceededException : AvroFormatException
{
    public AvroLimitExceededException()
    {
    }

    public AvroLimitExceededException(string message)
        : base(message)
    {
    }

    public AvroLimitExceededException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public AvroLimitExceededException(string message, long offset, long limit)
        : base(message, offset)
    {
        Limit = limit;
    }

    /// <summary>The limit, in bytes, that the data would have exceeded.</summary>
    public long Limit { get; }
}

/// <summary>A writer schema cannot be resolved against a reader schema; the message names the path of the mismatch.</summary>
public sealed class AvroResolutionException : AvroException
{
    public AvroResolutionException()
    {
    }

    public AvroResolutionException(string message)
        : base(message)
    {
    }

    public AvroResolutionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A schema id could not be found or fetched (schema registry or directory lookups).</summary>
public sealed class AvroSchemaLookupException : AvroException
{
    public AvroSchemaLookupException()
    {
    }

    public AvroSchemaLookupException(string message)
        : base(message)
    {
    }

    public AvroSchemaLookupException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A schema lookup could not answer now (the registry is unreachable, overloaded, or refuses the credentials): unlike
/// <see cref="AvroSchemaLookupException"/> it says nothing about the schema id, so a message that needs it is retried, not
/// rejected. Deliberately not an <see cref="AvroException"/>: decoders let it through to their caller.
/// </summary>
public sealed class SchemaLookupUnavailableException : Exception
{
    public SchemaLookupUnavailableException()
    {
    }

    public SchemaLookupUnavailableException(string message)
        : base(message)
    {
    }

    public SchemaLookupUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
