namespace AlertBroker.Alerts;

/// <summary>Why an alert message could not be turned into an <see cref="Alert"/>.</summary>
public enum AlertErrorKind
{
    /// <summary>The bytes are not an Avro container file, Confluent wire message or single-object encoding.</summary>
    NotAvro,

    /// <summary>Avro framing or data is corrupt or truncated.</summary>
    CorruptAvro,

    /// <summary>The writer schema (by registry id or fingerprint) could not be found.</summary>
    SchemaNotFound,

    /// <summary>The schema is valid Avro but neither a ZTF nor a Rubin alert, or a needed field has an unusable type.</summary>
    UnknownFormat,

    /// <summary>A required value (e.g. the detection time) is missing or invalid.</summary>
    InvalidValue,

    /// <summary>An archive (tar, gzip) entry could not be read.</summary>
    Archive,

    /// <summary>The alert carries more observations than <see cref="AlertValidation.MaxObservationsPerAlert"/>.</summary>
    HistoryTooLong,

    /// <summary>
    /// The message's compressed Avro blocks inflate beyond the decoder's limit (<see cref="AlertBroker.Avro.AvroLimits.MaxInflatedBytes"/>,
    /// or <see cref="AlertBroker.Avro.AvroLimits.MaxBlockLength"/> for one block): a compression bomb, or an alert larger than
    /// the limit was set for. Refused after at most that much decompression.
    /// </summary>
    TooLarge,
}

/// <summary>A typed failure to decode or normalise one alert message.</summary>
public sealed class AlertFormatException : Exception
{
    public AlertFormatException()
        : this(AlertErrorKind.InvalidValue, "invalid alert")
    {
    }

    public AlertFormatException(string message)
        : this(AlertErrorKind.InvalidValue, message)
    {
    }

    public AlertFormatException(string message, Exception innerException)
        : this(AlertErrorKind.InvalidValue, message, -1, innerException)
    {
    }

    public AlertFormatException(AlertErrorKind kind, string message, long offset = -1, Exception? innerException = null)
        : base(offset >= 0 ? $"{message} (at byte {offset})" : message, innerException)
    {
        Kind = kind;
        Offset = offset;
    }

    /// <summary>What went wrong, for counting.</summary>
    public AlertErrorKind Kind { get; }

    /// <summary>Byte offset in the message where decoding failed, or -1.</summary>
    public long Offset { get; }
}
