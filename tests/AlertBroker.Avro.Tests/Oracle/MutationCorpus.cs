using System.Buffers;

namespace AlertBroker.Avro.Tests.Oracle;

/// <summary>What an encoded value is, for targeted corruption.</summary>
internal enum ValueKind
{
    Int,
    Long,
    Length,
    BlockCount,
    UnionIndex,
    EnumIndex,
    Boolean,
    Float,
    Double,
    StringPayload,
    BytesPayload,
}

/// <summary>One encoded value of a datum: where it lies, what it is, and its decoded value (for varints).</summary>
/// <param name="Offset">First byte.</param>
/// <param name="Length">Encoded length in bytes.</param>
/// <param name="Kind">What it encodes.</param>
/// <param name="Value">The varint's value (for a block count: the item count).</param>
/// <param name="Extra">Union: the number of branches; block count: the byte length of the block's items.</param>
internal readonly record struct ValueSpan(int Offset, int Length, ValueKind Kind, long Value, long Extra);

/// <summary>A real alert's datum and the schema that wrote it, with the container file it came from.</summary>
internal sealed record BaseAlert(string Name, byte[] File, AvroContainerHeader Header, byte[] Datum, ValueSpan[] Spans)
{
    public override string ToString() => Name;
}

/// <summary>One mutated input: what was done, and the bytes.</summary>
internal sealed record Mutation(string Description, byte[] Data);

/// <summary>
/// A deterministic corpus of mutated real alerts: bit flips (mostly on structural bytes, where they matter), truncations,
/// and targeted corruptions of every kind of varint (lengths, block counts, union and enum indexes, ints and longs:
/// off by one, zero, negative, huge, beyond 32 bits, overlong and non-minimal encodings), booleans, NaN payloads and
/// invalid UTF-8. Seeds are fixed, so a failure reproduces.
/// </summary>
internal static class MutationCorpus
{
    /// <summary>Real alerts of every schema family in the samples.</summary>
    public static List<BaseAlert> LoadBases()
    {
        var files = new List<string>();
        files.AddRange(SharedData.AvroFiles("ztf"));
        files.AddRange(SharedData.AvroFiles("ztf-real-50").Take(3));
        files.AddRange(SharedData.AvroFiles(Path.Combine("lsst", "v7_4")));
        files.AddRange(SharedData.AvroFiles(Path.Combine("lsst", "v11_0")));
        files.AddRange(SharedData.AvroFiles("lsst-real-v7_4").Take(3));
        var bases = new List<BaseAlert>();
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var container = AvroContainerReader.Open(bytes, new AvroSchemaCache());
            Assert.True(container.TryReadBlock(out var block));
            Assert.Equal(1, block.Count);
            var datum = block.Data.ToArray();
            bases.Add(new BaseAlert(Path.GetFileName(file), bytes, container.Header, datum, Walk(container.Header.Schema, datum)));
        }

        return bases;
    }

    /// <summary>Walks a datum with the schema and lists every encoded value in it.</summary>
    public static ValueSpan[] Walk(AvroSchema schema, byte[] datum)
    {
        var spans = new List<ValueSpan>();
        var reader = new AvroReader(datum);
        Walk(schema, ref reader, spans);
        Assert.True(reader.IsAtEnd);
        return [.. spans];
    }

    private static void Walk(AvroSchema schema, ref AvroReader r, List<ValueSpan> spans)
    {
        var start = r.Position;
        switch (schema)
        {
            case RecordSchema record:
                foreach (var field in record.Fields)
                {
                    Walk(field.Schema, ref r, spans);
                }

                return;
            case UnionSchema union:
                {
                    var index = r.ReadUnionIndex(union.Branches.Count);
                    spans.Add(new ValueSpan(start, r.Position - start, ValueKind.UnionIndex, index, union.Branches.Count));
                    Walk(union.Branches[index], ref r, spans);
                    return;
                }

            case ArraySchema or MapSchema:
                while (true)
                {
                    var blockStart = r.Position;
                    var count = r.ReadLong();
                    Assert.True(count >= 0, "the samples use positive block counts");
                    var headerLength = r.Position - blockStart;
                    if (count == 0)
                    {
                        spans.Add(new ValueSpan(blockStart, headerLength, ValueKind.BlockCount, 0, 0));
                        return;
                    }

                    var index = spans.Count;
                    spans.Add(default);
                    for (long i = 0; i < count; i++)
                    {
                        if (schema is MapSchema map)
                        {
                            Walk(AvroSchema.String, ref r, spans);
                            Walk(map.Values, ref r, spans);
                        }
                        else
                        {
                            Walk(((ArraySchema)schema).Items, ref r, spans);
                        }
                    }

                    spans[index] = new ValueSpan(blockStart, headerLength, ValueKind.BlockCount, count, r.Position - blockStart - headerLength);
                }

            case EnumSchema e:
                {
                    var index = r.ReadEnum(e.Symbols.Count);
                    spans.Add(new ValueSpan(start, r.Position - start, ValueKind.EnumIndex, index, e.Symbols.Count));
                    return;
                }
            case FixedSchema f:
                r.ReadFixed(f.Size);
                return;
        }

        switch (schema.Type)
        {
            case AvroType.Null:
                return;
            case AvroType.Boolean:
                r.ReadBoolean();
                spans.Add(new ValueSpan(start, 1, ValueKind.Boolean, 0, 0));
                return;
            case AvroType.Int:
                {
                    var v = r.ReadInt();
                    spans.Add(new ValueSpan(start, r.Position - start, ValueKind.Int, v, 0));
                    return;
                }

            case AvroType.Long:
                {
                    var v = r.ReadLong();
                    spans.Add(new ValueSpan(start, r.Position - start, ValueKind.Long, v, 0));
                    return;
                }

            case AvroType.Float:
                r.ReadFloat();
                spans.Add(new ValueSpan(start, 4, ValueKind.Float, 0, 0));
                return;
            case AvroType.Double:
                r.ReadDouble();
                spans.Add(new ValueSpan(start, 8, ValueKind.Double, 0, 0));
                return;
            case AvroType.Bytes:
            case AvroType.String:
                {
                    var (payload, length) = r.ReadBytesRange();
                    spans.Add(new ValueSpan(start, payload - start, ValueKind.Length, length, 0));
                    if (length > 0)
                    {
                        spans.Add(new ValueSpan(payload, length, schema.Type == AvroType.String ? ValueKind.StringPayload : ValueKind.BytesPayload, 0, 0));
                    }

                    return;
                }

            default:
                throw new InvalidOperationException("unexpected schema " + schema.Type);
        }
    }

    /// <summary>Mutations of one datum; <paramref name="seed"/> fixes the random choices.</summary>
    public static List<Mutation> DatumMutations(BaseAlert alert, int seed, int bitFlips, int truncations, int targeted)
    {
        var random = new Random(seed);
        var datum = alert.Datum;
        var spans = alert.Spans;
        var structural = spans.Where(s => s.Kind is not (ValueKind.StringPayload or ValueKind.BytesPayload)).ToArray();
        var mutations = new List<Mutation>();

        for (var i = 0; i < bitFlips; i++)
        {
            // Most flips land on structural bytes: a flip inside a 20 KB cutout tells nothing.
            int position;
            if (random.NextDouble() < 0.75)
            {
                var span = structural[random.Next(structural.Length)];
                position = span.Offset + random.Next(Math.Max(1, span.Length));
            }
            else
            {
                position = random.Next(datum.Length);
            }

            var bit = random.Next(8);
            var data = (byte[])datum.Clone();
            data[position] ^= (byte)(1 << bit);
            mutations.Add(new Mutation($"flip bit {bit} of byte {position}", data));
        }

        for (var i = 0; i < truncations; i++)
        {
            // Cut at a value boundary half of the time, anywhere otherwise.
            var at = random.NextDouble() < 0.5 ? spans[random.Next(spans.Length)].Offset + random.Next(2) : random.Next(datum.Length);
            at = Math.Min(at, datum.Length - 1);
            mutations.Add(new Mutation($"truncate to {at} bytes", datum[..at]));
        }

        // Targeted corruptions pick the kind of value first, so the few block counts and enum indexes of an alert get
        // as much attention as its hundreds of union indexes.
        var byKind = structural.GroupBy(s => s.Kind).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
        for (var i = 0; i < targeted; i++)
        {
            var ofKind = byKind[random.Next(byKind.Length)];
            var span = ofKind[random.Next(ofKind.Length)];
            if (random.NextDouble() < 0.1)
            {
                // Invalid UTF-8 in a string: both decoders must turn it into the same text (U+FFFD).
                var strings = spans.Where(s => s.Kind == ValueKind.StringPayload).ToArray();
                if (strings.Length > 0)
                {
                    span = strings[random.Next(strings.Length)];
                }
            }

            mutations.Add(Targeted(datum, span, random));
        }

        return mutations;
    }

    private static Mutation Targeted(byte[] datum, ValueSpan span, Random random)
    {
        switch (span.Kind)
        {
            case ValueKind.Boolean:
                {
                    var b = random.Next(3) switch { 0 => (byte)2, 1 => (byte)0x80, _ => (byte)0xFF };
                    return Replace(datum, span, [b], $"boolean byte {b}");
                }

            case ValueKind.Float:
                {
                    uint[] patterns = [0x7FC00000, 0x7FC00001, 0x7F800001, 0xFFC00000, 0xFFFFFFFF, 0x80000000, 0x7F800000, 0x00000001];
                    var bits = patterns[random.Next(patterns.Length)];
                    return Replace(datum, span, BitConverter.GetBytes(bits), $"float bits 0x{bits:x8}");
                }

            case ValueKind.Double:
                {
                    ulong[] patterns = [0x7FF8000000000000, 0x7FF8000000000001, 0x7FF0000000000001, 0xFFF8000000000000, 0xFFFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFF0000000000000];
                    var bits = patterns[random.Next(patterns.Length)];
                    return Replace(datum, span, BitConverter.GetBytes(bits), $"double bits 0x{bits:x16}");
                }

            case ValueKind.StringPayload or ValueKind.BytesPayload:
                {
                    byte[][] invalid = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80]];
                    var bad = invalid[random.Next(invalid.Length)];
                    var at = span.Offset + random.Next(Math.Max(1, span.Length - bad.Length + 1));
                    var data = (byte[])datum.Clone();
                    bad.AsSpan(0, Math.Min(bad.Length, datum.Length - at)).CopyTo(data.AsSpan(at));
                    return new Mutation($"invalid UTF-8 {Convert.ToHexString(bad)} at {at}", data);
                }
        }

        var v = span.Value;
        var remaining = datum.Length - span.Offset - span.Length;
        (string What, byte[] Encoding)[] choices = span.Kind switch
        {
            ValueKind.Int or ValueKind.EnumIndex =>
            [
                ("+1", Zigzag(v + 1)), ("-1", Zigzag(v - 1)), ("0", Zigzag(0)), ("int.MaxValue", Zigzag(int.MaxValue)), ("int.MinValue", Zigzag(int.MinValue)),
                ("2^31 (beyond int)", Zigzag(1L << 31)), ("v + 2^32 (beyond int)", Zigzag(v + (1L << 32))), ("5-byte non-minimal", Padded(v, 5)),
                ("6-byte overlong", Padded(v, 6)), ("enum count", Zigzag(span.Extra)),
            ],
            ValueKind.Long =>
            [
                ("+1", Zigzag(v + 1)), ("-1", Zigzag(v - 1)), ("0", Zigzag(0)), ("long.MaxValue", Zigzag(long.MaxValue)), ("long.MinValue", Zigzag(long.MinValue)),
                ("10-byte non-minimal", Padded(v, 10)), ("11-byte overlong", Padded(v, 11)), ("10th byte > 1", Overflowing64()),
            ],
            ValueKind.UnionIndex =>
            [
                ("+1", Zigzag(v + 1)), ("-1", Zigzag(-1)), ("branch count", Zigzag(span.Extra)), ("v + 2^32", Zigzag(v + (1L << 32))),
                ("10-byte non-minimal", Padded(v, 10)), ("11-byte overlong", Padded(v, 11)),
            ],
            ValueKind.Length =>
            [
                ("+1", Zigzag(v + 1)), ("-1", Zigzag(v - 1)), ("0", Zigzag(0)), ("negative", Zigzag(-v - 1)), ("past the end", Zigzag(remaining + 1)),
                ("int.MaxValue", Zigzag(int.MaxValue)), ("2^40", Zigzag(1L << 40)), ("v + 2^32", Zigzag(v + (1L << 32))), ("long.MinValue", Zigzag(long.MinValue)),
                ("10-byte non-minimal", Padded(v, 10)),
            ],
            ValueKind.BlockCount =>
            [
                ("+1", Zigzag(v + 1)), ("-1", Zigzag(v - 1)), ("0", Zigzag(0)), ("negative with its byte size", [.. Zigzag(-v), .. Zigzag(span.Extra)]),
                ("negative with size + 1", [.. Zigzag(-v), .. Zigzag(span.Extra + 1)]), ("negative with size past the end", [.. Zigzag(-v), .. Zigzag(remaining + 5)]),
                ("negative with size -1", [.. Zigzag(-v), .. Zigzag(-1)]), ("v + 2^32", Zigzag(v + (1L << 32))), ("int.MaxValue", Zigzag(int.MaxValue)),
                ("2^40", Zigzag(1L << 40)), ("long.MinValue", Zigzag(long.MinValue)),
            ],
            _ => throw new InvalidOperationException(span.Kind.ToString()),
        };
        var (what, encoding) = choices[random.Next(choices.Length)];
        return Replace(datum, span, encoding, $"{span.Kind} {v} at {span.Offset} → {what}");
    }

    private static Mutation Replace(byte[] datum, ValueSpan span, byte[] replacement, string description)
    {
        byte[] data = [.. datum.AsSpan(0, span.Offset), .. replacement, .. datum.AsSpan(span.Offset + span.Length)];
        return new Mutation(description, data);
    }

    /// <summary>The zig-zag varint of <paramref name="value"/>, minimal.</summary>
    public static byte[] Zigzag(long value)
    {
        var n = (ulong)((value << 1) ^ (value >> 63));
        var bytes = new List<byte>(10);
        while (n >= 0x80)
        {
            bytes.Add((byte)(n | 0x80));
            n >>= 7;
        }

        bytes.Add((byte)n);
        return [.. bytes];
    }

    /// <summary>The zig-zag varint of <paramref name="value"/> padded with continuation bytes to <paramref name="length"/> bytes (non-minimal, or overlong past 10).</summary>
    public static byte[] Padded(long value, int length)
    {
        var minimal = Zigzag(value);
        if (minimal.Length >= length)
        {
            return minimal;
        }

        var bytes = new byte[length];
        minimal.CopyTo(bytes, 0);
        for (var i = 0; i < length - 1; i++)
        {
            bytes[i] |= 0x80;
        }

        return bytes;
    }

    /// <summary>A 10-byte varint whose last byte carries more than the one bit left of 64.</summary>
    private static byte[] Overflowing64() => [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02];

    /// <summary>
    /// Mutations of a whole container file (the Kafka message): bit flips in the header (magic, metadata, schema JSON,
    /// codec, sync marker) and in the block framing (object count, byte size, trailing sync marker), truncations,
    /// mutated datums re-framed with a consistent block size, and hand-made framing cases (empty blocks, a wrong object
    /// count, trailing bytes).
    /// </summary>
    public static List<Mutation> ContainerMutations(BaseAlert alert, int seed)
    {
        var random = new Random(seed);
        var file = alert.File;
        var headerLength = alert.Header.Length;
        var framingLength = Zigzag(1).Length + Zigzag(alert.Datum.Length).Length;
        var mutations = new List<Mutation>();
        byte[] Flip(int position, int bit)
        {
            var data = (byte[])file.Clone();
            data[position] ^= (byte)(1 << bit);
            return data;
        }

        for (var i = 0; i < 20; i++)
        {
            // Bias towards the first bytes (magic, metadata counts and lengths, the schema's first attributes).
            var position = random.NextDouble() < 0.4 ? random.Next(Math.Min(64, headerLength)) : random.Next(headerLength);
            var bit = random.Next(8);
            mutations.Add(new Mutation($"header: flip bit {bit} of byte {position}", Flip(position, bit)));
        }

        for (var i = 0; i < 12; i++)
        {
            var position = random.NextDouble() < 0.5 ? headerLength + random.Next(framingLength) : file.Length - 16 + random.Next(16);
            var bit = random.Next(8);
            mutations.Add(new Mutation($"framing: flip bit {bit} of byte {position}", Flip(position, bit)));
        }

        foreach (var at in new[] { 0, 3, 4, headerLength - 16, headerLength - 1, headerLength, headerLength + 1, headerLength + framingLength, file.Length - 16, file.Length - 1 }
            .Concat(Enumerable.Range(0, 4).Select(_ => random.Next(file.Length))))
        {
            mutations.Add(new Mutation($"truncate the file to {at} bytes", file[..at]));
        }

        foreach (var m in DatumMutations(alert, seed + 77, bitFlips: 3, truncations: 1, targeted: 4))
        {
            mutations.Add(new Mutation("re-framed datum: " + m.Description, Frame(alert, m.Data)));
        }

        var sync = alert.Header.SyncMarker.ToArray();
        byte[] EmptyBlock() => [.. Zigzag(0), .. Zigzag(0), .. sync];
        mutations.Add(new Mutation("block declares 0 objects", Frame(alert, alert.Datum, count: 0)));
        mutations.Add(new Mutation("block declares 2 objects", Frame(alert, alert.Datum, count: 2)));
        mutations.Add(new Mutation("block declares -1 objects", Frame(alert, alert.Datum, count: -1)));
        mutations.Add(new Mutation("an empty block after the data block", [.. file, .. EmptyBlock()]));
        mutations.Add(new Mutation("an empty block before the data block", [.. file.AsSpan(0, headerLength), .. EmptyBlock(), .. file.AsSpan(headerLength)]));
        mutations.Add(new Mutation("the data block twice", [.. file, .. file.AsSpan(headerLength)]));
        mutations.Add(new Mutation("one zero byte after the last block", [.. file, 0]));
        mutations.Add(new Mutation("one byte left over in the block", Frame(alert, [.. alert.Datum, 0])));
        return mutations;
    }

    /// <summary>A container with the alert's header and one block holding <paramref name="datum"/> (the block size follows the datum).</summary>
    public static byte[] Frame(BaseAlert alert, byte[] datum, long count = 1)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(alert.File.AsSpan(0, alert.Header.Length));
        buffer.Write(Zigzag(count));
        buffer.Write(Zigzag(datum.Length));
        buffer.Write(datum);
        buffer.Write(alert.Header.SyncMarker.Span);
        return buffer.WrittenSpan.ToArray();
    }
}
