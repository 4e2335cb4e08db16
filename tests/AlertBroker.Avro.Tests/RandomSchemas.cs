using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace AlertBroker.Avro.Tests;

/// <summary>FsCheck generators for random schemas (bounded depth, every named type defined inline) and conforming datums.</summary>
internal static class RandomSchemas
{
    private static readonly string[] s_primitives =
    [
        "\"null\"", "\"boolean\"", "\"int\"", "\"long\"", "\"float\"", "\"double\"", "\"bytes\"", "\"string\"",
        """{"type":"int","logicalType":"date"}""",
        """{"type":"long","logicalType":"timestamp-micros"}""",
        """{"type":"long","logicalType":"timestamp-millis"}""",
        """{"type":"string","logicalType":"uuid"}""",
        """{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}""",
        """{"type":"string","version":"x"}""",
    ];

    private static readonly string[] s_unionMembers = ["\"null\"", "\"boolean\"", "\"int\"", "\"long\"", "\"float\"", "\"double\"", "\"bytes\"", "\"string\""];

    public static Gen<string> Schema(int depth, string path)
    {
        var primitive = Gen.Elements(s_primitives);
        var named = Gen.OneOf(Enum(path), Fixed(path));
        if (depth <= 0)
        {
            return Gen.Frequency((4, primitive), (1, named));
        }

        return Gen.Frequency(
            (4, primitive),
            (1, named),
            (2, Schema(depth - 1, path + "a").Select(items => $$"""{"type":"array","items":{{items}}}""")),
            (2, Schema(depth - 1, path + "m").Select(values => $$"""{"type":"map","values":{{values}}}""")),
            (3, RecordSchema(depth, path)),
            (2, Union(depth, path)));
    }

    public static Gen<string> RecordSchema(int depth, string path) =>
        from count in Gen.Choose(0, 5)
        from fields in Gen.CollectToArray(Enumerable.Range(0, count).Select(i => Schema(depth - 1, path + "f" + i.ToString(CultureInfo.InvariantCulture))))
            // An explicit null namespace ("") nested in a named namespace is left out: the Parsing Canonical Form cannot express it
            // (the spec's form drops namespaces, so re-parsing inherits the enclosing one), a known limitation of the spec.
        from ns in Gen.Elements("", "\"namespace\":\"p.q\",", "\"namespace\":\"r.s\",")
        select $$"""{"type":"record","name":"R{{path}}",{{ns}}"fields":[{{string.Join(",", fields.Select((f, i) => $$"""{"name":"f{{i}}","type":{{f}}}"""))}}]}""";

    private static Gen<string> Enum(string path) =>
        Gen.Choose(1, 5).Select(n => $$"""{"type":"enum","name":"E{{path}}","symbols":[{{string.Join(",", Enumerable.Range(0, n).Select(i => $"\"S{i}\""))}}]}""");

    private static Gen<string> Fixed(string path) =>
        Gen.Choose(0, 9).Select(n => $$"""{"type":"fixed","name":"F{{path}}","size":{{n}}}""");

    private static Gen<string> Union(int depth, string path) =>
        from members in Gen.Shuffle(s_unionMembers)
        from take in Gen.Choose(1, 4)
        from withRecord in Gen.Elements(false, true)
        from record in RecordSchema(depth - 1, path + "u")
        select "[" + string.Join(",", members.Take(take).Concat(withRecord ? [record] : [])) + "]";

    public static Gen<object?> Datum(AvroSchema s, int depth = 0)
    {
        switch (s.Type)
        {
            case AvroType.Null:
                return Gen.Constant<object?>(null);
            case AvroType.Boolean:
                return Gen.Elements<object?>(true, false);
            case AvroType.Int:
                if (s.LogicalTypeName == "date")
                {
                    return Gen.Choose(-700_000, 2_900_000).Select(d => (object?)DateOnly.FromDayNumber(719_162 + d));
                }

                return Int().Select(i => (object?)i);
            case AvroType.Long:
                return s.LogicalTypeName switch
                {
                    "timestamp-micros" => Long(-62_135_596_800_000_000L, 253_402_300_799_999_999L).Select(us => (object?)DateTimeOffset.UnixEpoch.AddTicks(us * 10)),
                    "timestamp-millis" => Long(-62_135_596_800_000L, 253_402_300_799_999L).Select(ms => (object?)DateTimeOffset.UnixEpoch.AddMilliseconds(ms)),
                    _ => Long(long.MinValue, long.MaxValue).Select(l => (object?)l),
                };
            case AvroType.Float:
                return Int().Select(bits => (object?)BitConverter.Int32BitsToSingle(bits));
            case AvroType.Double:
                return Long(long.MinValue, long.MaxValue).Select(bits => (object?)BitConverter.Int64BitsToDouble(bits));
            case AvroType.Bytes:
                if (s.LogicalTypeName == "decimal")
                {
                    return Long(long.MinValue, long.MaxValue).Select(v => (object?)new AvroDecimal(v, s.DecimalScale, s.DecimalPrecision));
                }

                return Bytes(0, 40).Select(b => (object?)new ReadOnlyMemory<byte>(b));
            case AvroType.String:
                if (s.LogicalTypeName == "uuid")
                {
                    return Bytes(16, 16).Select(b => (object?)new Guid(b));
                }

                return Text().Select(t => (object?)t);
            case AvroType.Enum:
                {
                    var e = (EnumSchema)s;
                    return Gen.Choose(0, e.Symbols.Count - 1).Select(i => (object?)new GenericEnum(e, i));
                }

            case AvroType.Fixed:
                {
                    var f = (FixedSchema)s;
                    return Bytes(f.Size, f.Size).Select(b => (object?)new GenericFixed(f, b));
                }

            case AvroType.Array:
                {
                    var items = ((ArraySchema)s).Items;
                    return from n in Gen.Choose(0, depth > 3 ? 1 : 4)
                           from list in Gen.CollectToArray(Enumerable.Range(0, n).Select(_ => Datum(items, depth + 1)))
                           select (object?)list.ToList();
                }

            case AvroType.Map:
                {
                    var values = ((MapSchema)s).Values;
                    return from n in Gen.Choose(0, depth > 3 ? 1 : 4)
                           from keys in Gen.CollectToArray(Enumerable.Range(0, n).Select(_ => Text()))
                           from vals in Gen.CollectToArray(Enumerable.Range(0, n).Select(_ => Datum(values, depth + 1)))
                           select (object?)ToMap(keys.ToArray(), vals.ToArray());
                }

            case AvroType.Record:
                {
                    var r = (RecordSchema)s;
                    return Gen.CollectToArray(r.Fields.Select(f => Datum(f.Schema, depth + 1))).Select(values =>
                    {
                        var record = new GenericRecord(r);
                        var i = 0;
                        foreach (var v in values)
                        {
                            record[i++] = v;
                        }

                        return (object?)record;
                    });
                }

            case AvroType.Union:
                {
                    var u = (UnionSchema)s;
                    return Gen.Choose(0, u.Branches.Count - 1).SelectMany(i => Datum(u.Branches[i], depth + 1));
                }

            default:
                throw new InvalidOperationException(s.Type.ToString());
        }
    }

    private static Dictionary<string, object?> ToMap(string[] keys, object?[] values)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
        {
            map[keys[i]] = values[i];
        }

        return map;
    }

    public static Gen<int> Int() => Gen.Frequency((3, Gen.Choose(-300, 300)), (2, Gen.Choose(int.MinValue, int.MaxValue)), (1, Gen.Elements(int.MinValue, int.MaxValue, 0, -1)));

    public static Gen<long> Long(long min, long max) =>
        Gen.Frequency(
            (3, Gen.Choose(-300, 300).Select(i => Math.Clamp(i, min, max))),
            (3, Gen.Choose(int.MinValue, int.MaxValue).SelectMany(hi => Gen.Choose(int.MinValue, int.MaxValue).Select(lo =>
            {
                var v = ((long)hi << 32) | (uint)lo;
                if (min == long.MinValue && max == long.MaxValue)
                {
                    return v;
                }

                var range = (ulong)(max - min) + 1;
                return min + (long)((ulong)v % range);
            }))),
            (1, Gen.Elements(min, max)));

    private static Gen<byte[]> Bytes(int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => Gen.CollectToArray(Enumerable.Range(0, n).Select(_ => Gen.Choose(0, 255))).Select(b => b.Select(x => (byte)x).ToArray()));

    private static readonly string[] s_textPieces = ["a", "Z", "0", "_", " ", "é", "漢", "😀", "\"", "\\", "\n", "\u0000"];

    private static Gen<string> Text() =>
        Gen.Choose(0, 8).SelectMany(n => Gen.CollectToArray(Enumerable.Range(0, n).Select(_ => Gen.Elements(s_textPieces))).Select(parts => string.Concat(parts)));

    /// <summary>A parsed random schema with a few datums that conform to it.</summary>
    public sealed record Case(string Json, AvroSchema Schema, object?[] Datums)
    {
        public override string ToString()
        {
            var sb = new StringBuilder(Json);
            foreach (var d in Datums)
            {
                sb.Append('\n').Append(AvroJson.ToJson(d, new AvroJsonOptions { BytesAsLength = false }));
            }

            return sb.ToString();
        }
    }

    public static Gen<Case> Cases(Gen<string> schemas) =>
        from json in schemas
        let schema = AvroSchema.Parse(json)
        from datums in Gen.CollectToArray(Enumerable.Range(0, 3).Select(_ => Datum(schema)))
        select new Case(json, schema, datums.ToArray());
}
