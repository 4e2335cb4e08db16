using System.Text;

namespace AlertBroker.Avro;

/// <summary>One node of a compiled resolution plan: reads a writer value and returns the reader's generic datum.</summary>
internal abstract class Decoder
{
    public abstract object? Read(ref AvroReader r, ReadOnlyMemory<byte> src);
}

internal sealed class NullDecoder : Decoder
{
    public static readonly NullDecoder Instance = new();

    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src) => null;
}

internal sealed class BooleanDecoder : Decoder
{
    public static readonly BooleanDecoder Instance = new();
    private static readonly object s_true = true;
    private static readonly object s_false = false;

    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src) => r.ReadBoolean() ? s_true : s_false;
}

internal sealed class IntDecoder : Decoder
{
    public static readonly IntDecoder Instance = new();

    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src) => r.ReadInt();
}

internal sealed class LongDecoder(bool fromInt) : Decoder
{
    public static readonly LongDecoder Instance = new(false);
    public static readonly LongDecoder FromInt = new(true);

    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src) => fromInt ? r.ReadInt() : r.ReadLong();
}

internal sealed class FloatDecoder(AvroType writer) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src) => writer switch
    {
        AvroType.Float => r.ReadFloat(),
        AvroType.Int => (float)r.ReadInt(),
        _ => (float)r.ReadLong(),
    };
}

internal sealed class DoubleDecoder(AvroType writer) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src) => writer switch
    {
        AvroType.Double => r.ReadDouble(),
        AvroType.Float => (double)r.ReadFloat(),
        AvroType.Int => (double)r.ReadInt(),
        _ => (double)r.ReadLong(),
    };
}

/// <summary>bytes (or a string read as bytes): a slice of the caller's memory, not a copy.</summary>
internal sealed class BytesDecoder(bool fromString) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        var (start, length) = fromString ? r.ReadStringRange() : r.ReadBytesRange();
        return src.Slice(start, length);
    }
}

internal sealed class StringDecoder(bool fromBytes) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        if (!fromBytes)
        {
            return r.ReadString();
        }

        var (start, length) = r.ReadBytesRange();
        if (length > r.Limits.MaxStringLength)
        {
            r.ThrowFormat($"string length {length} exceeds the limit of {r.Limits.MaxStringLength}", start);
        }

        return Encoding.UTF8.GetString(src.Span.Slice(start, length));
    }
}

/// <summary>int/long-based logical types (date, time, timestamps).</summary>
internal sealed class TemporalDecoder(AvroType writer, LogicalKind kind) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        var start = r.Position;
        long v = writer == AvroType.Int ? r.ReadInt() : r.ReadLong();
        var value = LogicalValues.FromLong(kind, v, out var error);
        if (error is not null)
        {
            r.ThrowFormat(error, start);
        }

        return value;
    }
}

internal sealed class UuidStringDecoder(bool fromBytes) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        var start = r.Position;
        var (s, length) = fromBytes ? r.ReadBytesRange() : r.ReadStringRange();
        var span = src.Span.Slice(s, length);
        if (!System.Buffers.Text.Utf8Parser.TryParse(span, out Guid g, out var consumed, 'D') || consumed != span.Length)
        {
            r.ThrowFormat("string is not a UUID", start);
        }

        return g;
    }
}

internal sealed class DecimalBytesDecoder(int precision, int scale, bool fromString) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        var (s, length) = fromString ? r.ReadStringRange() : r.ReadBytesRange();
        return LogicalValues.DecimalFromBytes(src.Span.Slice(s, length), precision, scale);
    }
}

internal sealed class FixedDecoder(FixedSchema reader, bool applyLogical) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        var start = r.Position;
        r.Advance(reader.Size);
        var bytes = src.Slice(start, reader.Size);
        return (applyLogical ? reader.Logical : LogicalKind.None) switch
        {
            LogicalKind.Decimal => LogicalValues.DecimalFromBytes(bytes.Span, reader.DecimalPrecision, reader.DecimalScale),
            LogicalKind.Uuid => LogicalValues.UuidFromFixed(bytes.Span),
            _ => new GenericFixed(reader, bytes),
        };
    }
}

internal sealed class EnumDecoder : Decoder
{
    private readonly EnumSchema _writer;
    private readonly GenericEnum?[] _byWriterIndex;

    public EnumDecoder(EnumSchema writer, EnumSchema reader)
    {
        _writer = writer;
        _byWriterIndex = new GenericEnum?[writer.SymbolArray.Length];
        var fallback = reader.Default is null ? -1 : reader.IndexOf(reader.Default);
        for (var i = 0; i < _byWriterIndex.Length; i++)
        {
            var index = reader.IndexOf(writer.SymbolArray[i]);
            if (index < 0)
            {
                index = fallback;
            }

            _byWriterIndex[i] = index < 0 ? null : new GenericEnum(reader, index);
        }
    }

    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        var start = r.Position;
        var index = r.ReadEnum(_byWriterIndex.Length);
        var value = _byWriterIndex[index];
        if (value is null)
        {
            r.ThrowFormat($"enum symbol '{_writer.SymbolArray[index]}' of {_writer.FullName} is unknown to the reader schema, which has no default", start);
        }

        return value;
    }
}

internal sealed class WriterUnionDecoder(Decoder?[] branches, string[] writerBranchNames, string path) : Decoder
{
    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        var start = r.Position;
        var index = r.ReadUnionIndex(branches.Length);
        var branch = branches[index];
        if (branch is null)
        {
            r.ThrowFormat($"{path}: writer union branch {writerBranchNames[index]} matches nothing in the reader schema", start);
        }

        return branch.Read(ref r, src);
    }
}

internal sealed class ArrayDecoder(Decoder item, int writerItemMinSize) : Decoder
{
    public Decoder Item { get; set; } = item;

    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        r.EnterNested();
        var list = new List<object?>();
        long total = 0;
        var max = r.Limits.MaxCollectionItems;
        while (true)
        {
            var start = r.Position;
            var count = r.ReadBlockHeader(out var byteSize);
            if (count == 0)
            {
                break;
            }

            total += count;
            if (total > max)
            {
                r.ThrowFormat($"array has more than {max} items", start);
            }

            if (writerItemMinSize > 0 && count > r.Remaining / writerItemMinSize)
            {
                r.ThrowFormat($"array block of {count} items cannot fit in the {r.Remaining} remaining bytes", start);
            }

            list.EnsureCapacity((int)Math.Min(total, writerItemMinSize > 0 ? total : 4096));
            var decoder = Item;
            var itemsStart = r.Position;
            for (long i = 0; i < count; i++)
            {
                list.Add(decoder.Read(ref r, src));
            }

            r.CheckBlockSize(byteSize, itemsStart);
        }

        r.ExitNested();
        return list;
    }
}

internal sealed class MapDecoder(Decoder value, int writerValueMinSize) : Decoder
{
    public Decoder Value { get; set; } = value;

    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        r.EnterNested();
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        long total = 0;
        var max = r.Limits.MaxCollectionItems;
        var entryMin = (long)writerValueMinSize + 1;
        while (true)
        {
            var start = r.Position;
            var count = r.ReadBlockHeader(out var byteSize);
            if (count == 0)
            {
                break;
            }

            total += count;
            if (total > max)
            {
                r.ThrowFormat($"map has more than {max} entries", start);
            }

            if (count > r.Remaining / entryMin)
            {
                r.ThrowFormat($"map block of {count} entries cannot fit in the {r.Remaining} remaining bytes", start);
            }

            map.EnsureCapacity((int)total);
            var decoder = Value;
            var itemsStart = r.Position;
            for (long i = 0; i < count; i++)
            {
                var key = r.ReadString();
                map[key] = decoder.Read(ref r, src);
            }

            r.CheckBlockSize(byteSize, itemsStart);
        }

        r.ExitNested();
        return map;
    }
}

internal readonly record struct FieldStep(int Target, Decoder? Decoder, AvroSchema WriterSchema);

internal readonly record struct FieldDefault(int Target, object? Value, bool Immutable);

internal sealed class RecordDecoder(RecordSchema reader) : Decoder
{
    public FieldStep[] Steps { get; set; } = [];

    public FieldDefault[] Defaults { get; set; } = [];

    public override object? Read(ref AvroReader r, ReadOnlyMemory<byte> src)
    {
        r.EnterNested();
        var record = new GenericRecord(reader);
        var values = record.Values;
        foreach (var step in Steps)
        {
            if (step.Decoder is { } decoder)
            {
                values[step.Target] = decoder.Read(ref r, src);
            }
            else
            {
                r.Skip(step.WriterSchema);
            }
        }

        foreach (var d in Defaults)
        {
            values[d.Target] = d.Immutable ? d.Value : DefaultValues.DeepCopy(d.Value);
        }

        r.ExitNested();
        return record;
    }
}
