using System.Numerics;
using Outcome = AlertBroker.Avro.Tests.Oracle.MutationDifferentialTests.Outcome;

namespace AlertBroker.Avro.Tests.Oracle;

/// <summary>
/// The reviewed ways in which ours and Apache.Avro 1.12.2 disagree on mutated input. In every one, ours refuses and
/// Apache accepts something the Avro specification does not allow, and returns a value the bytes do not encode.
/// Each category is recognised by our error message AND checked independently: the varint at the offset ours
/// reports is re-read here with unbounded precision, so a category cannot hide a case where ours refuses a valid
/// encoding. Documented in docs/avro.md ("Apache.Avro as an oracle").
/// </summary>
internal static class Disagreements
{
    /// <summary>Int beyond 32 bits. Spec: "int: 32-bit signed integer", written as a zig-zag varint (so at most 5 bytes).
    /// Apache's <c>ReadInt</c> is <c>(int)ReadLong()</c>: it truncates, and also reads 6+ byte encodings.</summary>
    public const string IntOverflow = "ours refuses an int varint beyond 32 bits; Apache truncates it to 32 bits (spec: int is 32-bit)";

    /// <summary>Long beyond 64 bits. Apache's <c>ReadLong</c> reads any number of continuation bytes and its shift
    /// wraps (a C# shift count is taken mod 64), so an 11+ byte varint, or a 10th byte carrying more than the one bit
    /// left, yields whatever the wrapped bits make. Java's <c>BinaryDecoder</c> refuses both ("Invalid long encoding").</summary>
    public const string LongOverflow = "ours refuses a long varint beyond 64 bits or 10 bytes; Apache reads on, its shift wrapping (spec: long is 64-bit)";

    /// <summary>Union index beyond 32 bits. Spec: the index is a long; Apache reads it with <c>ReadInt</c>, so
    /// 2^32 + 1 selects branch 1.</summary>
    public const string UnionIndexTruncated = "ours refuses a union index beyond the branches; Apache truncates it to 32 bits and picks a branch";

    /// <summary>String length beyond 32 bits. Spec: the length is a long; Apache's <c>ReadString</c> reads it with
    /// <c>ReadInt</c> and reads a string of the truncated length.</summary>
    public const string StringLengthTruncated = "ours refuses a string length beyond the data; Apache truncates the length to 32 bits";

    /// <summary>Block count beyond 32 bits. Apache's generic reader casts the count to int (2^40 becomes 0 and ends
    /// the array early, 2^32 + n reads n items).</summary>
    public const string BlockCountTruncated = "ours refuses an array/map block count beyond its limit; Apache truncates it to 32 bits";

    /// <summary>A negative block count's byte size that is negative, past the end, or not the size of the block's
    /// items. Spec: "the count is followed immediately by a long block size indicating the number of bytes in the
    /// block". Apache reads the size and ignores it when it decodes the items (it would use it only to skip).</summary>
    public const string BlockSizeIgnored = "ours refuses a block byte size that is not the size of the block; Apache ignores the size";

    /// <summary>A timestamp-millis/micros beyond what .NET's <c>DateTime</c> holds (years 1–9999). The spec allows any
    /// long, so here ours is the stricter one: its generic reader returns timestamps as <c>DateTimeOffset</c> and
    /// refuses one it cannot represent, with an <c>AvroFormatException</c> (a documented limitation; the alert fast
    /// path reads the plain long). Apache multiplies without overflow checking and returns a wrong date
    /// (<c>long.MinValue</c> µs × 10 wraps to 0 ticks: 1970-01-01).</summary>
    public const string TimestampBeyondClr = "ours refuses a timestamp outside DateTime's years 1-9999 (spec: any long); Apache's unchecked multiply returns a wrong date";

    /// <summary>A container block whose serialized objects do not fill it. Spec: a block is "a long indicating the
    /// count of objects in this block, a long indicating the size in bytes of the serialized objects in the current
    /// block, the serialized objects", so bytes beyond the counted objects are corruption. Apache's
    /// <c>DataFileReader</c> never looks at what is left of a block: a block whose count was corrupted to 0 yields no
    /// alert and no error (Java's <c>DataFileStream</c> refuses: "Block read partially, the data may be corrupt").</summary>
    public const string BlockNotFilled = "ours refuses a container block with bytes beyond its counted objects; Apache ignores them (a count corrupted to 0 loses the alert silently)";

    /// <summary>A container block with 0 objects followed by more blocks. The spec does not forbid empty blocks;
    /// Apache's <c>DataFileReader.HasNext</c> (like Java's <c>DataFileStream</c>) ends the file at the first one, so
    /// every later block is dropped without an error. Ours reads on.</summary>
    public const string EmptyBlockEndsApache = "ours reads past an empty container block; Apache stops there and drops the later blocks silently";

    /// <summary>Schema JSON that is not valid UTF-8. The schema is JSON (spec), and JSON text exchanged between
    /// systems must be UTF-8 (RFC 8259 §8.1); Apache decodes it with replacement characters and goes on.</summary>
    public const string SchemaNotUtf8 = "ours refuses container schema JSON that is not valid UTF-8; Apache replaces the bad bytes (RFC 8259 §8.1: UTF-8)";

    /// <summary>Schema JSON with a control character (here NUL) outside the four JSON whitespace characters or
    /// unescaped in a string: not JSON (RFC 8259 §2 and §7). Newtonsoft.Json, under Apache's parser, skips it.</summary>
    public const string SchemaNotJson = "ours refuses container schema JSON with a raw control character; Apache's Newtonsoft.Json accepts it (RFC 8259 §2, §7)";

    /// <summary>The category of a disagreement, or null when it is not one of the reviewed ones.</summary>
    /// <param name="alert">The real alert the input was made from.</param>
    /// <param name="ours">Our outcome.</param>
    /// <param name="apache">Apache's outcome.</param>
    /// <param name="mutation">The input.</param>
    /// <param name="bothAcceptAndAgree">Runs both decoders on another input: true when both accept it with equal values.</param>
    public static string? Explain(BaseAlert alert, Outcome ours, Outcome apache, Mutation mutation, Func<byte[], bool> bothAcceptAndAgree)
    {
        if (ours.Accepted && apache.Accepted)
        {
            return ExplainBothAccept(alert, ours, apache, mutation);
        }

        if (ours.Accepted || !apache.Accepted)
        {
            // Every disagreement seen so far is "ours refuses, Apache accepts"; anything else needs a human.
            return null;
        }

        if (ours.Error is AvroSchemaException schemaError)
        {
            return ExplainSchema(alert, mutation, schemaError);
        }

        if (ours.Error is not AvroFormatException e)
        {
            return null;
        }

        var message = e.Message;
        var offset = (int)e.Offset;
        var raw = RawVarint.At(mutation.Data, offset);
        if (message.StartsWith("int varint", StringComparison.Ordinal))
        {
            return raw is { } v && (v.Length > 5 || v.Value < int.MinValue || v.Value > int.MaxValue) ? IntOverflow : null;
        }

        if (message.StartsWith("long varint", StringComparison.Ordinal))
        {
            return raw is { } v && (v.Length > 10 || v.Value < long.MinValue || v.Value > long.MaxValue) ? LongOverflow : null;
        }

        if (message.StartsWith("union branch index", StringComparison.Ordinal))
        {
            return raw is { } v && (v.Value < int.MinValue || v.Value > int.MaxValue) ? UnionIndexTruncated : null;
        }

        if (message.StartsWith("string length", StringComparison.Ordinal) && message.Contains("remaining bytes", StringComparison.Ordinal))
        {
            return raw is { } v && v.Value > int.MaxValue && v.Value > mutation.Data.Length ? StringLengthTruncated : null;
        }

        if (message.StartsWith("block count", StringComparison.Ordinal) && message.Contains("exceeds the limit", StringComparison.Ordinal))
        {
            return raw is { } v && BigInteger.Abs(v.Value) > int.MaxValue ? BlockCountTruncated : null;
        }

        if (message.StartsWith("timestamp ", StringComparison.Ordinal) && message.Contains(" is out of range", StringComparison.Ordinal))
        {
            // DateTime's range from the Unix epoch, in the unit ours names.
            var perTick = message.Contains(" µs ", StringComparison.Ordinal) ? 10 : TimeSpan.TicksPerMillisecond;
            var min = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / perTick;
            var max = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / perTick;
            return raw is { } v && (v.Value < min || v.Value > max) ? TimestampBeyondClr : null;
        }

        if (message.StartsWith("block holds ", StringComparison.Ordinal) && message.Contains(" bytes beyond its ", StringComparison.Ordinal))
        {
            // Cut the block to the bytes ours says its objects took: then both must accept and agree, which shows
            // that ours measured the objects as Apache reads them.
            return TrimBlock(mutation.Data, offset) is { } trimmed && bothAcceptAndAgree(trimmed) ? BlockNotFilled : null;
        }

        if (message.StartsWith("block byte size", StringComparison.Ordinal) && message.Contains("remaining bytes", StringComparison.Ordinal))
        {
            return raw is { } v && (v.Value < 0 || v.Value > mutation.Data.Length - offset - v.Length) ? BlockSizeIgnored : null;
        }

        if (message.StartsWith("block byte size", StringComparison.Ordinal) && message.Contains("does not match the ", StringComparison.Ordinal))
        {
            // The offset is where the items start; the size varint ends just before it. Put there the size ours
            // measured: then both must accept and agree, which shows ours measured the items right.
            var sizeEnd = offset - 1;
            var sizeStart = sizeEnd;
            while (sizeStart > 0 && (mutation.Data[sizeStart - 1] & 0x80) != 0)
            {
                sizeStart--;
            }

            var measured = long.Parse(message.Split("does not match the ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            byte[] repaired = [.. mutation.Data.AsSpan(0, sizeStart), .. MutationCorpus.Zigzag(measured), .. mutation.Data.AsSpan(offset)];
            return bothAcceptAndAgree(repaired) ? BlockSizeIgnored : null;
        }

        return null;
    }

    private static byte[]? TrimBlock(byte[] file, int leftoverOffset)
    {
        try
        {
            var reader = AvroContainerReader.Open(file, new AvroSchemaCache());
            while (true)
            {
                var framingStart = reader.Position;
                if (!reader.TryReadBlock(out var block))
                {
                    return null;
                }

                var dataStart = (int)block.Offset;
                var dataEnd = dataStart + block.Data.Length;
                if (leftoverOffset >= dataStart && leftoverOffset <= dataEnd)
                {
                    return
                    [
                        .. file.AsSpan(0, framingStart), .. MutationCorpus.Zigzag(block.Count), .. MutationCorpus.Zigzag(leftoverOffset - dataStart),
                        .. file.AsSpan(dataStart, leftoverOffset - dataStart), .. file.AsSpan(dataEnd),
                    ];
                }
            }
        }
        catch (AvroException)
        {
            return null;
        }
    }

    private static string? ExplainBothAccept(BaseAlert alert, Outcome ours, Outcome apache, Mutation mutation)
    {
        // Apache returned a strict prefix of ours, and ours met an empty block right after that prefix.
        if (ours.Value is not List<object?> all || apache.Value is not object?[] prefix || prefix.Length >= all.Count)
        {
            return null;
        }

        for (var i = 0; i < prefix.Length; i++)
        {
            if (OracleComparer.Differences(all[i], prefix[i], "datum").Count != 0)
            {
                return null;
            }
        }

        var reader = AvroContainerReader.Open(mutation.Data, new AvroSchemaCache());
        long read = 0;
        while (reader.TryReadBlock(out var block))
        {
            if (block.Count == 0)
            {
                return read == prefix.Length ? EmptyBlockEndsApache : null;
            }

            read += block.Count;
        }

        return null;
    }

    private static string? ExplainSchema(BaseAlert alert, Mutation mutation, AvroSchemaException e)
    {
        // A header bit flip: the schema JSON sits where it sat in the original file.
        if (mutation.Data.Length != alert.File.Length || !System.Runtime.InteropServices.MemoryMarshal.TryGetArray(alert.Header.SchemaJson, out var segment))
        {
            return null;
        }

        var json = mutation.Data.AsSpan(segment.Offset, segment.Count);
        if (e.Message.Contains("not valid UTF-8", StringComparison.Ordinal))
        {
            try
            {
                _ = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(json);
                return null;
            }
            catch (System.Text.DecoderFallbackException)
            {
                return SchemaNotUtf8;
            }
        }

        if (e.Message.Contains("invalid schema JSON", StringComparison.Ordinal))
        {
            foreach (var b in json)
            {
                if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r'))
                {
                    return SchemaNotJson;
                }
            }
        }

        return null;
    }

    /// <summary>A varint decoded with unbounded precision: its zig-zag value and its length in bytes.</summary>
    internal readonly record struct RawVarint(BigInteger Value, int Length)
    {
        public static RawVarint? At(byte[] data, int offset)
        {
            if (offset < 0 || offset >= data.Length)
            {
                return null;
            }

            var n = BigInteger.Zero;
            var shift = 0;
            for (var i = offset; i < data.Length; i++)
            {
                n |= new BigInteger(data[i] & 0x7F) << shift;
                shift += 7;
                if ((data[i] & 0x80) == 0)
                {
                    var value = n.IsEven ? n >> 1 : -((n + 1) >> 1);
                    return new RawVarint(value, i - offset + 1);
                }
            }

            return null;
        }
    }
}
