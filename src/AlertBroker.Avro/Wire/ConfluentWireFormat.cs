using System.Buffers;
using System.Buffers.Binary;

namespace AlertBroker.Avro;

/// <summary>The Confluent Schema Registry framing: a zero magic byte and a big-endian int32 schema id before the Avro datum.</summary>
public static class ConfluentWireFormat
{
    public const int HeaderLength = 5;

    /// <summary>Reads the header; false when the message is too short or does not start with the magic byte 0.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> message, out int schemaId)
    {
        if (message.Length < HeaderLength || message[0] != 0)
        {
            schemaId = 0;
            return false;
        }

        schemaId = BinaryPrimitives.ReadInt32BigEndian(message[1..]);
        return true;
    }

    public static void WriteHeader(IBufferWriter<byte> output, int schemaId)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(HeaderLength);
        span[0] = 0;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], schemaId);
        output.Advance(HeaderLength);
    }
}

/// <summary>
/// Finds the writer schema registered under a schema id: throws <see cref="AvroSchemaLookupException"/> when the id is
/// unknown or its schema unusable, <see cref="SchemaLookupUnavailableException"/> when the lookup cannot answer now.
/// </summary>
public interface ISchemaLookup
{
    ValueTask<AvroSchema> GetSchemaAsync(int schemaId, CancellationToken cancellationToken = default);
}
