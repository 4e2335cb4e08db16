using System.Buffers;
using System.Buffers.Binary;

namespace AlertBroker.Avro;

/// <summary>Avro single-object encoding: marker C3 01, the little-endian CRC-64-AVRO fingerprint of the writer schema, then the datum.</summary>
public static class SingleObjectEncoding
{
    public const int HeaderLength = 10;

    public static bool TryReadHeader(ReadOnlySpan<byte> data, out ulong fingerprint)
    {
        if (data.Length < HeaderLength || data[0] != 0xC3 || data[1] != 0x01)
        {
            fingerprint = 0;
            return false;
        }

        fingerprint = BinaryPrimitives.ReadUInt64LittleEndian(data[2..]);
        return true;
    }

    public static void WriteHeader(IBufferWriter<byte> output, ulong fingerprint)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(HeaderLength);
        span[0] = 0xC3;
        span[1] = 0x01;
        BinaryPrimitives.WriteUInt64LittleEndian(span[2..], fingerprint);
        output.Advance(HeaderLength);
    }

    public static byte[] Encode(AvroSchema schema, object? datum)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteHeader(buffer, schema.Fingerprint);
        new GenericDatumWriter(schema).Write(new AvroWriter(buffer), datum);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes a single-object message; <paramref name="resolveWriterSchema"/> maps the fingerprint to the writer schema
    /// (null when unknown, which raises <see cref="AvroSchemaLookupException"/>).
    /// </summary>
    public static object? Decode(ReadOnlyMemory<byte> data, Func<ulong, AvroSchema?> resolveWriterSchema, AvroSchema? readerSchema = null)
    {
        ArgumentNullException.ThrowIfNull(resolveWriterSchema);
        if (!TryReadHeader(data.Span, out var fingerprint))
        {
            throw new AvroFormatException("not an Avro single-object encoded message (missing C3 01 marker)", 0);
        }

        var writer = resolveWriterSchema(fingerprint)
            ?? throw new AvroSchemaLookupException($"no writer schema known for fingerprint 0x{fingerprint:x16}");
        var reader = readerSchema is null ? GenericDatumReader.ForSchema(writer) : new GenericDatumReader(writer, readerSchema);
        var position = HeaderLength;
        var value = reader.Read(data, ref position);
        if (position != data.Length)
        {
            throw new AvroFormatException($"{data.Length - position} bytes left after the datum", position);
        }

        return value;
    }
}
