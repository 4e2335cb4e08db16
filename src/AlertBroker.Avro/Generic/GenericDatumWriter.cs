using System.Collections;

namespace AlertBroker.Avro;

/// <summary>
/// Encodes generic datums (the model <see cref="GenericDatumReader"/> produces) with a schema. A datum that does not
/// fit the schema raises <see cref="AvroException"/> naming the field path.
/// </summary>
public sealed class GenericDatumWriter
{
    public GenericDatumWriter(AvroSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Schema = schema;
    }

    public AvroSchema Schema { get; }

    public void Write(AvroWriter writer, object? datum)
    {
        ArgumentNullException.ThrowIfNull(writer);
        try
        {
            WriteValue(writer, Schema, datum, 0);
        }
        catch (DatumPathException ex)
        {
            var path = Schema is NamedSchema n ? n.Name : AvroSchema.TypeName(Schema.Type);
            throw new AvroException($"{path}{ex.Path}: {ex.Message}");
        }
    }

    /// <summary>Encodes one datum into a new array.</summary>
    public byte[] Encode(object? datum)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        Write(new AvroWriter(buffer), datum);
        return buffer.WrittenSpan.ToArray();
    }

    private const int MaxDepth = 1000;

    private static void WriteValue(AvroWriter w, AvroSchema s, object? d, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new DatumPathException(string.Empty, $"datum nests deeper than {MaxDepth} levels (cyclic?)");
        }

        switch (s.Type)
        {
            case AvroType.Null:
                if (d is not null)
                {
                    throw Mismatch(s, d);
                }

                return;
            case AvroType.Boolean:
                w.WriteBoolean(d is bool b ? b : throw Mismatch(s, d));
                return;
            case AvroType.Int:
                w.WriteInt(d switch
                {
                    int i => i,
                    short i => i,
                    byte i => i,
                    sbyte i => i,
                    ushort i => i,
                    long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
                    DateOnly or TimeOnly when s.Logical is LogicalKind.Date or LogicalKind.TimeMillis => (int)LogicalValues.ToEncoded(s.Logical, d),
                    _ => throw Mismatch(s, d),
                });
                return;
            case AvroType.Long:
                w.WriteLong(d switch
                {
                    long l => l,
                    int i => i,
                    short i => i,
                    byte i => i,
                    sbyte i => i,
                    ushort i => i,
                    uint i => i,
                    TimeOnly or DateTimeOffset or DateTime when LogicalValues.IsSurfaced(s.Logical) => LogicalValues.ToEncoded(s.Logical, d),
                    _ => throw Mismatch(s, d),
                });
                return;
            case AvroType.Float:
                w.WriteFloat(d switch
                {
                    float f => f,
                    int i => i,
                    long l => l,
                    double x => (float)x,
                    _ => throw Mismatch(s, d),
                });
                return;
            case AvroType.Double:
                w.WriteDouble(d switch
                {
                    double x => x,
                    float f => f,
                    int i => i,
                    long l => l,
                    _ => throw Mismatch(s, d),
                });
                return;
            case AvroType.String:
                switch (d)
                {
                    case string str:
                        w.WriteString(str);
                        return;
                    case Guid g when s.Logical == LogicalKind.Uuid:
                        w.WriteString(g.ToString("D"));
                        return;
                    default:
                        throw Mismatch(s, d);
                }

            case AvroType.Bytes:
                switch (d)
                {
                    case AvroDecimal dec when s.Logical == LogicalKind.Decimal:
                        w.WriteBytes(LogicalValues.DecimalToBytes(dec, s.DecimalScale));
                        return;
                    case decimal m when s.Logical == LogicalKind.Decimal:
                        w.WriteBytes(LogicalValues.DecimalToBytes(LogicalValues.DecimalFromClr(m, s.DecimalPrecision, s.DecimalScale), s.DecimalScale));
                        return;
                    default:
                        w.WriteBytes((AsBytes(d) ?? throw Mismatch(s, d)).Span);
                        return;
                }

            case AvroType.Fixed:
                WriteFixed(w, (FixedSchema)s, d);
                return;
            case AvroType.Enum:
                {
                    var e = (EnumSchema)s;
                    var index = d switch
                    {
                        GenericEnum ge => e.IndexOf(ge.Symbol),
                        string symbol => e.IndexOf(symbol),
                        _ => throw Mismatch(s, d),
                    };
                    if (index < 0)
                    {
                        throw new DatumPathException(string.Empty, $"'{d}' is not a symbol of enum {e.FullName}");
                    }

                    w.WriteEnum(index);
                    return;
                }

            case AvroType.Array:
                WriteArray(w, ((ArraySchema)s).Items, d, depth);
                return;
            case AvroType.Map:
                WriteMap(w, ((MapSchema)s).Values, d, depth);
                return;
            case AvroType.Record:
                WriteRecord(w, (RecordSchema)s, d, depth);
                return;
            case AvroType.Union:
                {
                    var u = (UnionSchema)s;
                    var index = SelectBranch(u, d);
                    if (index < 0)
                    {
                        throw new DatumPathException(string.Empty, $"a {TypeOf(d)} matches no branch of the union [{string.Join(", ", u.BranchArray.Select(x => x.DisplayName))}]");
                    }

                    w.WriteUnionIndex(index);
                    WriteValue(w, u.BranchArray[index], d, depth + 1);
                    return;
                }
        }
    }

    private static void WriteFixed(AvroWriter w, FixedSchema f, object? d)
    {
        switch (d)
        {
            case GenericFixed gf when gf.Value.Length == f.Size:
                w.WriteFixed(gf.Value.Span);
                return;
            case AvroDecimal dec when f.Logical == LogicalKind.Decimal:
                w.WriteFixed(SignExtend(LogicalValues.DecimalToBytes(dec, f.DecimalScale), f));
                return;
            case decimal m when f.Logical == LogicalKind.Decimal:
                w.WriteFixed(SignExtend(LogicalValues.DecimalToBytes(LogicalValues.DecimalFromClr(m, f.DecimalPrecision, f.DecimalScale), f.DecimalScale), f));
                return;
            case Guid g when f.Logical == LogicalKind.Uuid:
                {
                    Span<byte> bytes = stackalloc byte[16];
                    g.TryWriteBytes(bytes, bigEndian: true, out _);
                    w.WriteFixed(bytes);
                    return;
                }

            default:
                var raw = AsBytes(d);
                if (raw is null || raw.Value.Length != f.Size)
                {
                    throw Mismatch(f, d);
                }

                w.WriteFixed(raw.Value.Span);
                return;
        }
    }

    private static byte[] SignExtend(byte[] minimal, FixedSchema f)
    {
        if (minimal.Length > f.Size)
        {
            throw new DatumPathException(string.Empty, $"decimal needs {minimal.Length} bytes but fixed {f.FullName} holds {f.Size}");
        }

        var result = new byte[f.Size];
        var fill = minimal.Length > 0 && (minimal[0] & 0x80) != 0 ? (byte)0xFF : (byte)0;
        result.AsSpan(0, f.Size - minimal.Length).Fill(fill);
        minimal.CopyTo(result, f.Size - minimal.Length);
        return result;
    }

    private static void WriteArray(AvroWriter w, AvroSchema items, object? d, int depth)
    {
        if (d is IList list)
        {
            w.WriteArrayStart(list.Count);
            for (var i = 0; i < list.Count; i++)
            {
                WriteItem(w, items, list[i], depth, i);
            }

            w.WriteBlockEnd();
            return;
        }

        if (d is IEnumerable enumerable and not string and not IDictionary)
        {
            var buffered = new List<object?>();
            foreach (var item in enumerable)
            {
                buffered.Add(item);
            }

            WriteArray(w, items, buffered, depth);
            return;
        }

        throw new DatumPathException(string.Empty, $"expected an array (IList), got {TypeOf(d)}");
    }

    private static void WriteItem(AvroWriter w, AvroSchema items, object? item, int depth, int index)
    {
        try
        {
            WriteValue(w, items, item, depth + 1);
        }
        catch (DatumPathException ex)
        {
            throw ex.Prefix($"[{index}]");
        }
    }

    private static void WriteMap(AvroWriter w, AvroSchema values, object? d, int depth)
    {
        switch (d)
        {
            case IReadOnlyDictionary<string, object?> map:
                w.WriteMapStart(map.Count);
                foreach (var (key, value) in map)
                {
                    WriteEntry(w, values, key, value, depth);
                }

                break;
            case IDictionary map:
                w.WriteMapStart(map.Count);
                foreach (DictionaryEntry entry in map)
                {
                    WriteEntry(w, values, entry.Key as string ?? throw new DatumPathException(string.Empty, "map keys must be strings"), entry.Value, depth);
                }

                break;
            default:
                throw new DatumPathException(string.Empty, $"expected a map (IDictionary with string keys), got {TypeOf(d)}");
        }

        w.WriteBlockEnd();
    }

    private static void WriteEntry(AvroWriter w, AvroSchema values, string key, object? value, int depth)
    {
        w.WriteString(key);
        try
        {
            WriteValue(w, values, value, depth + 1);
        }
        catch (DatumPathException ex)
        {
            throw ex.Prefix($"[\"{key}\"]");
        }
    }

    private static void WriteRecord(AvroWriter w, RecordSchema s, object? d, int depth)
    {
        if (d is not GenericRecord record)
        {
            throw new DatumPathException(string.Empty, $"expected record {s.FullName}, got {TypeOf(d)}");
        }

        var sameSchema = ReferenceEquals(record.Schema, s);
        if (!sameSchema && record.Schema.FullName != s.FullName)
        {
            throw new DatumPathException(string.Empty, $"expected record {s.FullName}, got record {record.Schema.FullName}");
        }

        foreach (var field in s.FieldArray)
        {
            object? value;
            if (sameSchema)
            {
                value = record.Values[field.Position];
            }
            else if (!record.TryGetValue(field.Name, out value))
            {
                throw new DatumPathException("." + field.Name, "the record has no such field");
            }

            try
            {
                WriteValue(w, field.Schema, value, depth + 1);
            }
            catch (DatumPathException ex)
            {
                throw ex.Prefix("." + field.Name);
            }
        }
    }

    /// <summary>Picks the union branch for a datum: an exact CLR-type match first, then a lossless conversion.</summary>
    internal static int SelectBranch(UnionSchema u, object? d)
    {
        if (d is null)
        {
            return u.NullBranchIndex;
        }

        var best = -1;
        var bestScore = 0;
        var branches = u.BranchArray;
        for (var i = 0; i < branches.Length; i++)
        {
            var score = Score(branches[i], d);
            if (score > bestScore)
            {
                best = i;
                bestScore = score;
                if (score == 2)
                {
                    break;
                }
            }
        }

        return best;
    }

    private static int Score(AvroSchema b, object d) => (b.Type, d) switch
    {
        (AvroType.Boolean, bool) => 2,
        (AvroType.Int, int) => 2,
        (AvroType.Int, short or byte or sbyte or ushort) => 1,
        (AvroType.Long, long) => 2,
        (AvroType.Long, int or short or byte or sbyte or ushort or uint) => 1,
        (AvroType.Float, float) => 2,
        (AvroType.Float, int or long) => 1,
        (AvroType.Double, double) => 2,
        (AvroType.Double, float or int or long) => 1,
        (AvroType.String, string) => 2,
        (AvroType.String, Guid) when b.Logical == LogicalKind.Uuid => 2,
        (AvroType.Bytes, ReadOnlyMemory<byte> or byte[] or Memory<byte> or ArraySegment<byte>) => 2,
        (AvroType.Bytes, AvroDecimal or decimal) when b.Logical == LogicalKind.Decimal => 2,
        (AvroType.Fixed, GenericFixed gf) => gf.Schema.FullName == ((FixedSchema)b).FullName ? 2 : 0,
        (AvroType.Fixed, AvroDecimal or decimal) when b.Logical == LogicalKind.Decimal => 2,
        (AvroType.Fixed, Guid) when b.Logical == LogicalKind.Uuid => 2,
        (AvroType.Enum, GenericEnum ge) => ge.Schema.FullName == ((EnumSchema)b).FullName ? 2 : 0,
        (AvroType.Enum, string s) => ((EnumSchema)b).IndexOf(s) >= 0 ? 1 : 0,
        (AvroType.Record, GenericRecord r) => r.Schema.FullName == ((RecordSchema)b).FullName ? 2 : 0,
        (AvroType.Array, IList) => 2,
        (AvroType.Map, IDictionary or IReadOnlyDictionary<string, object?>) => 2,
        (AvroType.Int, DateOnly) when b.Logical == LogicalKind.Date => 2,
        (AvroType.Int, TimeOnly) when b.Logical == LogicalKind.TimeMillis => 2,
        (AvroType.Long, TimeOnly) when b.Logical == LogicalKind.TimeMicros => 2,
        (AvroType.Long, DateTimeOffset) when b.Logical is LogicalKind.TimestampMillis or LogicalKind.TimestampMicros => 2,
        (AvroType.Long, DateTime) when b.Logical is LogicalKind.LocalTimestampMillis or LogicalKind.LocalTimestampMicros => 2,
        (AvroType.Long, DateTime) when b.Logical is LogicalKind.TimestampMillis or LogicalKind.TimestampMicros => 1,
        _ => 0,
    };

    private static ReadOnlyMemory<byte>? AsBytes(object? d) => d switch
    {
        ReadOnlyMemory<byte> m => m,
        byte[] a => a,
        Memory<byte> m => m,
        ArraySegment<byte> s => s,
        _ => null,
    };

    private static string TypeOf(object? d) => d is null ? "null" : d.GetType().Name;

    private static DatumPathException Mismatch(AvroSchema s, object? d) =>
        new(string.Empty, $"a {TypeOf(d)} cannot be written as {s.DisplayName}{(s.LogicalTypeName is null ? string.Empty : $" ({s.LogicalTypeName})")}");

    /// <summary>Carries the path of a mismatch up the recursion; converted to <see cref="AvroException"/> at the top.</summary>
    private sealed class DatumPathException(string path, string message) : Exception(message)
    {
        public string Path { get; } = path;

        public DatumPathException Prefix(string segment) => new(segment + Path, Message);
    }
}
