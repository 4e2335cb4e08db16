using System.Globalization;
using System.Numerics;
using ApacheEnum = global::Avro.Generic.GenericEnum;
using ApacheFixed = global::Avro.Generic.GenericFixed;
using ApacheRecord = global::Avro.Generic.GenericRecord;

namespace AlertBroker.Avro.Tests.Oracle;

/// <summary>
/// Compares a datum of our generic data model with Apache.Avro's, field by field. The mapping:
/// <list type="table">
/// <item><term>null, boolean, int, long, string</term><description>the same CLR values (strings ordinal; invalid UTF-8 is U+FFFD in both)</description></item>
/// <item><term>float, double</term><description>equal bit patterns (so NaN payloads and −0 must survive both decoders)</description></item>
/// <item><term>bytes</term><description><c>ReadOnlyMemory&lt;byte&gt;</c> ↔ <c>byte[]</c>, equal contents</description></item>
/// <item><term>record</term><description><c>GenericRecord</c> ↔ Apache <c>GenericRecord</c>: same full name, same field names in the same order, every field equal</description></item>
/// <item><term>enum</term><description><c>GenericEnum</c> ↔ Apache <c>GenericEnum</c>: same full name and symbol</description></item>
/// <item><term>fixed</term><description><c>GenericFixed</c> ↔ Apache <c>GenericFixed</c>: same full name and bytes</description></item>
/// <item><term>array</term><description><c>List&lt;object?&gt;</c> ↔ <c>object[]</c>, item by item</description></item>
/// <item><term>map</term><description><c>Dictionary&lt;string, object?&gt;</c> ↔ <c>IDictionary&lt;string, object&gt;</c>: same keys, equal values</description></item>
/// <item><term>union</term><description>both return the branch's value, compared as above</description></item>
/// <item><term>timestamp-millis/micros</term><description><c>DateTimeOffset</c> (offset 0) ↔ <c>DateTime</c> (Kind Utc): equal UTC ticks</description></item>
/// <item><term>local-timestamp-millis/micros</term><description><c>DateTime</c> (Unspecified) ↔ <c>DateTime</c>: equal ticks</description></item>
/// <item><term>date</term><description><c>DateOnly</c> ↔ <c>DateTime</c> at midnight: same day</description></item>
/// <item><term>time-millis/micros</term><description><c>TimeOnly</c> ↔ <c>TimeSpan</c>: equal ticks</description></item>
/// <item><term>decimal</term><description><c>AvroDecimal</c> ↔ Apache <c>AvroDecimal</c>: equal unscaled value and scale</description></item>
/// <item><term>uuid</term><description><c>Guid</c> ↔ <c>Guid</c></description></item>
/// </list>
/// </summary>
internal static class OracleComparer
{
    /// <summary>Fails with every difference found (up to 20), each with its path.</summary>
    public static void AssertSame(object? ours, object? apache, string path, bool projection = false)
    {
        var differences = Differences(ours, apache, path, projection);
        Assert.True(differences.Count == 0, $"{differences.Count} differences, first: {string.Join("; ", differences.Take(20))}");
    }

    /// <param name="ours">Our datum.</param>
    /// <param name="apache">Apache's datum.</param>
    /// <param name="path">Where the datum sits, for messages.</param>
    /// <param name="projection">Ours was resolved to a reader schema, Apache's read with the writer's: names of records, enums
    /// and fixed are not compared, and record fields are matched by name (Apache's extra writer fields, and reader fields
    /// that only ours has, are passed over).</param>
    public static List<string> Differences(object? ours, object? apache, string path, bool projection = false)
    {
        var differences = new List<string>();
        Compare(ours, apache, path, projection, differences);
        return differences;
    }

    /// <summary>Counts the leaf values of a datum of ours (to show a comparison covered real content).</summary>
    public static int CountLeaves(object? datum) => datum switch
    {
        GenericRecord r => r.Schema.Fields.Sum(f => CountLeaves(r[f.Position])),
        List<object?> list => list.Sum(CountLeaves),
        Dictionary<string, object?> map => map.Values.Sum(CountLeaves),
        _ => 1,
    };

    private static void Compare(object? ours, object? apache, string path, bool projection, List<string> differences)
    {
        void Differ(string what) => differences.Add($"{path}: {what} (ours {Show(ours)}, Apache {Show(apache)})");

        switch (ours)
        {
            case null:
                if (apache is not null)
                {
                    Differ("null vs a value");
                }

                return;
            case bool b:
                if (apache is not bool ab || ab != b)
                {
                    Differ("boolean");
                }

                return;
            case int i:
                if (apache is not int ai || ai != i)
                {
                    Differ("int");
                }

                return;
            case long l:
                if (apache is not long al || al != l)
                {
                    Differ("long");
                }

                return;
            case float f:
                if (apache is not float af || BitConverter.SingleToInt32Bits(af) != BitConverter.SingleToInt32Bits(f))
                {
                    Differ("float bits");
                }

                return;
            case double d:
                if (apache is not double ad || BitConverter.DoubleToInt64Bits(ad) != BitConverter.DoubleToInt64Bits(d))
                {
                    Differ("double bits");
                }

                return;
            case string s:
                if (apache is not string aS || !string.Equals(s, aS, StringComparison.Ordinal))
                {
                    Differ("string");
                }

                return;
            case ReadOnlyMemory<byte> bytes:
                if (apache is not byte[] aBytes || !bytes.Span.SequenceEqual(aBytes))
                {
                    Differ("bytes");
                }

                return;
            case GenericRecord record:
                {
                    if (apache is not ApacheRecord aRecord)
                    {
                        Differ("record vs another type");
                        return;
                    }

                    var fields = record.Schema.Fields;
                    var aFields = aRecord.Schema.Fields;
                    if (projection)
                    {
                        foreach (var field in fields)
                        {
                            if (aRecord.TryGetValue(field.Name, out var aValue))
                            {
                                Compare(record[field.Position], aValue, path + "." + field.Name, projection, differences);
                            }
                        }

                        return;
                    }

                    if (record.Schema.FullName != aRecord.Schema.Fullname || fields.Count != aFields.Count)
                    {
                        Differ($"record {record.Schema.FullName} ({fields.Count} fields) vs {aRecord.Schema.Fullname} ({aFields.Count} fields)");
                        return;
                    }

                    for (var k = 0; k < fields.Count; k++)
                    {
                        if (fields[k].Name != aFields[k].Name)
                        {
                            differences.Add($"{path}: field {k} is '{fields[k].Name}' in ours, '{aFields[k].Name}' in Apache");
                            continue;
                        }

                        Compare(record[k], aRecord.GetValue(k), path + "." + fields[k].Name, projection, differences);
                    }

                    return;
                }

            case GenericEnum e:
                if (apache is not ApacheEnum ae || ae.Value != e.Symbol || (!projection && ae.Schema.Fullname != e.Schema.FullName))
                {
                    Differ("enum");
                }

                return;
            case GenericFixed x:
                if (apache is not ApacheFixed ax || (!projection && ax.Schema.Fullname != x.Schema.FullName) || !x.Value.Span.SequenceEqual(ax.Value))
                {
                    Differ("fixed");
                }

                return;
            case List<object?> list:
                {
                    if (apache is not object?[] array)
                    {
                        Differ("array vs another type");
                        return;
                    }

                    if (array.Length != list.Count)
                    {
                        Differ($"array of {list.Count} vs {array.Length} items");
                        return;
                    }

                    for (var k = 0; k < list.Count; k++)
                    {
                        Compare(list[k], array[k], $"{path}[{k}]", projection, differences);
                    }

                    return;
                }

            case Dictionary<string, object?> map:
                {
                    if (apache is not IDictionary<string, object?> aMap)
                    {
                        Differ("map vs another type");
                        return;
                    }

                    if (aMap.Count != map.Count)
                    {
                        Differ($"map of {map.Count} vs {aMap.Count} entries");
                        return;
                    }

                    foreach (var (key, value) in map)
                    {
                        if (!aMap.TryGetValue(key, out var aValue))
                        {
                            differences.Add($"{path}: key '{key}' missing in Apache's map");
                            continue;
                        }

                        Compare(value, aValue, $"{path}[\"{key}\"]", projection, differences);
                    }

                    return;
                }

            case DateTimeOffset dto:
                if (apache is not DateTime adt || adt.Kind != DateTimeKind.Utc || adt.Ticks != dto.UtcTicks || dto.Offset != TimeSpan.Zero)
                {
                    Differ("timestamp");
                }

                return;
            case DateTime local:
                if (apache is not DateTime aLocal || aLocal.Ticks != local.Ticks)
                {
                    Differ("local timestamp");
                }

                return;
            case DateOnly date:
                if (apache is not DateTime aDate || aDate.TimeOfDay != TimeSpan.Zero || DateOnly.FromDateTime(aDate) != date)
                {
                    Differ("date");
                }

                return;
            case TimeOnly time:
                if (apache is not TimeSpan aTime || aTime.Ticks != time.Ticks)
                {
                    Differ("time");
                }

                return;
            case Guid g:
                if (apache is not Guid ag || ag != g)
                {
                    Differ("uuid");
                }

                return;
            case AvroDecimal dec:
                if (apache is not global::Avro.AvroDecimal aDec || aDec.Scale != dec.Scale || aDec.UnscaledValue != (BigInteger)dec.Unscaled)
                {
                    Differ("decimal");
                }

                return;
            default:
                Differ($"unmapped type {ours.GetType().Name}");
                return;
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        float f => $"{f.ToString("R", CultureInfo.InvariantCulture)} (0x{BitConverter.SingleToInt32Bits(f):x8})",
        double d => $"{d.ToString("R", CultureInfo.InvariantCulture)} (0x{BitConverter.DoubleToInt64Bits(d):x16})",
        ReadOnlyMemory<byte> m => $"{m.Length} bytes",
        byte[] b => $"{b.Length} bytes",
        GenericRecord r => "record " + r.Schema.FullName,
        ApacheRecord r => "record " + r.Schema.Fullname,
        _ => $"{value} ({value.GetType().Name})",
    };
}
