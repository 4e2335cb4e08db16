using System.Text.Json;

namespace AlertBroker.Avro;

/// <summary>Validates JSON default values against a schema and decodes them into generic datums.</summary>
internal static class DefaultValues
{
    private const int MaxDepth = 256;

    public static bool IsValid(JsonElement v, AvroSchema s, int depth)
    {
        if (depth > MaxDepth)
        {
            return false;
        }

        switch (s.Type)
        {
            case AvroType.Null:
                return v.ValueKind == JsonValueKind.Null;
            case AvroType.Boolean:
                return v.ValueKind is JsonValueKind.True or JsonValueKind.False;
            case AvroType.Int:
                return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out _);
            case AvroType.Long:
                return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _);
            case AvroType.Float:
            case AvroType.Double:
                return (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out _))
                    || (v.ValueKind == JsonValueKind.String && v.GetString() is "NaN" or "Infinity" or "-Infinity");
            case AvroType.String:
                return v.ValueKind == JsonValueKind.String;
            case AvroType.Bytes:
                return v.ValueKind == JsonValueKind.String && IsByteString(v.GetString()!, -1);
            case AvroType.Fixed:
                return v.ValueKind == JsonValueKind.String && IsByteString(v.GetString()!, ((FixedSchema)s).Size);
            case AvroType.Enum:
                return v.ValueKind == JsonValueKind.String && ((EnumSchema)s).IndexOf(v.GetString()!) >= 0;
            case AvroType.Array:
                if (v.ValueKind != JsonValueKind.Array)
                {
                    return false;
                }

                foreach (var item in v.EnumerateArray())
                {
                    if (!IsValid(item, ((ArraySchema)s).Items, depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            case AvroType.Map:
                if (v.ValueKind != JsonValueKind.Object)
                {
                    return false;
                }

                foreach (var p in v.EnumerateObject())
                {
                    if (!IsValid(p.Value, ((MapSchema)s).Values, depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            case AvroType.Record:
                if (v.ValueKind != JsonValueKind.Object)
                {
                    return false;
                }

                foreach (var f in ((RecordSchema)s).FieldArray)
                {
                    if (v.TryGetProperty(f.Name, out var fv))
                    {
                        if (!IsValid(fv, f.Schema, depth + 1))
                        {
                            return false;
                        }
                    }
                    else if (!f.HasDefault)
                    {
                        return false;
                    }
                }

                return true;
            case AvroType.Union:
                // Avro 1.12 lets a union default match any branch, not only the first.
                foreach (var b in ((UnionSchema)s).BranchArray)
                {
                    if (IsValid(v, b, depth + 1))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>Decodes a default (already validated) into the value a reader would produce, logical types included.</summary>
    public static object? Decode(JsonElement v, AvroSchema s)
    {
        switch (s.Type)
        {
            case AvroType.Null:
                return null;
            case AvroType.Boolean:
                return v.GetBoolean();
            case AvroType.Int:
                {
                    var i = v.GetInt32();
                    return LogicalValues.IsSurfaced(s.Logical) ? Logical(s.Logical, i) : i;
                }

            case AvroType.Long:
                {
                    var l = v.GetInt64();
                    return LogicalValues.IsSurfaced(s.Logical) ? Logical(s.Logical, l) : l;
                }

            case AvroType.Float:
                return v.ValueKind == JsonValueKind.String ? (float)SpecialDouble(v.GetString()!) : v.GetSingle();
            case AvroType.Double:
                return v.ValueKind == JsonValueKind.String ? SpecialDouble(v.GetString()!) : v.GetDouble();
            case AvroType.String:
                {
                    var text = v.GetString()!;
                    if (s.Logical == LogicalKind.Uuid)
                    {
                        return LogicalValues.UuidFromString(text) ?? throw new AvroResolutionException($"default '{text}' is not a UUID");
                    }

                    return text;
                }

            case AvroType.Bytes:
                {
                    var bytes = ToBytes(v.GetString()!);
                    return s.Logical == LogicalKind.Decimal
                        ? LogicalValues.DecimalFromBytes(bytes, s.DecimalPrecision, s.DecimalScale)
                        : new ReadOnlyMemory<byte>(bytes);
                }

            case AvroType.Fixed:
                {
                    var bytes = ToBytes(v.GetString()!);
                    return s.Logical switch
                    {
                        LogicalKind.Decimal => LogicalValues.DecimalFromBytes(bytes, s.DecimalPrecision, s.DecimalScale),
                        LogicalKind.Uuid => LogicalValues.UuidFromFixed(bytes),
                        _ => new GenericFixed((FixedSchema)s, bytes),
                    };
                }

            case AvroType.Enum:
                return new GenericEnum((EnumSchema)s, v.GetString()!);
            case AvroType.Array:
                {
                    var items = ((ArraySchema)s).Items;
                    var list = new List<object?>(v.GetArrayLength());
                    foreach (var item in v.EnumerateArray())
                    {
                        list.Add(Decode(item, items));
                    }

                    return list;
                }

            case AvroType.Map:
                {
                    var values = ((MapSchema)s).Values;
                    var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var p in v.EnumerateObject())
                    {
                        map[p.Name] = Decode(p.Value, values);
                    }

                    return map;
                }

            case AvroType.Record:
                {
                    var record = (RecordSchema)s;
                    var result = new GenericRecord(record);
                    foreach (var f in record.FieldArray)
                    {
                        if (v.TryGetProperty(f.Name, out var fv))
                        {
                            result.Values[f.Position] = Decode(fv, f.Schema);
                        }
                        else if (f.Default is { } d)
                        {
                            result.Values[f.Position] = Decode(d, f.Schema);
                        }
                    }

                    return result;
                }

            case AvroType.Union:
                foreach (var b in ((UnionSchema)s).BranchArray)
                {
                    if (IsValid(v, b, 0))
                    {
                        return Decode(v, b);
                    }
                }

                throw new AvroResolutionException($"default {v.GetRawText()} matches no branch of the union");
            default:
                throw new AvroResolutionException($"cannot decode a default for {s.DisplayName}");
        }
    }

    private static object Logical(LogicalKind kind, long value) =>
        LogicalValues.FromLong(kind, value, out var error) ?? throw new AvroResolutionException("invalid default: " + error);

    private static double SpecialDouble(string s) => s switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        _ => double.NegativeInfinity,
    };

    private static bool IsByteString(string s, int size)
    {
        if (size >= 0 && s.Length != size)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c > 0xFF)
            {
                return false;
            }
        }

        return true;
    }

    private static byte[] ToBytes(string s)
    {
        var bytes = new byte[s.Length];
        for (var i = 0; i < s.Length; i++)
        {
            bytes[i] = (byte)s[i];
        }

        return bytes;
    }

    /// <summary>True when a decoded default can be shared between records because nothing in it is mutable.</summary>
    public static bool IsImmutable(object? value) => value is not (List<object?> or Dictionary<string, object?> or GenericRecord);

    /// <summary>Deep copy of the mutable containers of a generic datum.</summary>
    public static object? DeepCopy(object? value)
    {
        switch (value)
        {
            case List<object?> list:
                {
                    var copy = new List<object?>(list.Count);
                    foreach (var item in list)
                    {
                        copy.Add(DeepCopy(item));
                    }

                    return copy;
                }

            case Dictionary<string, object?> map:
                {
                    var copy = new Dictionary<string, object?>(map.Count, StringComparer.Ordinal);
                    foreach (var (k, v) in map)
                    {
                        copy[k] = DeepCopy(v);
                    }

                    return copy;
                }

            case GenericRecord record:
                {
                    var copy = new GenericRecord(record.Schema);
                    for (var i = 0; i < record.Values.Length; i++)
                    {
                        copy.Values[i] = DeepCopy(record.Values[i]);
                    }

                    return copy;
                }

            default:
                return value;
        }
    }
}
