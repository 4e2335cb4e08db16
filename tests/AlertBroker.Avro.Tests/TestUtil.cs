using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace AlertBroker.Avro.Tests;

internal static class TestUtil
{
    public static byte[] Encode(AvroSchema schema, object? datum)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new GenericDatumWriter(schema).Write(new AvroWriter(buffer), datum);
        return buffer.WrittenSpan.ToArray();
    }

    public static object? Decode(AvroSchema writer, byte[] bytes, AvroSchema? reader = null)
    {
        var position = 0;
        var value = new GenericDatumReader(writer, reader).Read(bytes, ref position);
        Assert.Equal(bytes.Length, position);
        return value;
    }

    public static RecordSchema Record(string json) => (RecordSchema)AvroSchema.Parse(json);

    /// <summary>Compares a JSON document with a generic datum wherever both have a value; returns the number of leaves compared.</summary>
    public static int AssertMatchesJson(JsonElement json, object? datum, string path)
    {
        switch (json.ValueKind)
        {
            case JsonValueKind.Null:
                Assert.True(datum is null, $"{path}: expected null, got {datum}");
                return 1;
            case JsonValueKind.Object:
                {
                    var record = Assert.IsType<GenericRecord>(datum);
                    var compared = 0;
                    // Duplicate keys: the last one wins, as in most JSON readers.
                    var last = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                    foreach (var p in json.EnumerateObject())
                    {
                        last[p.Name] = p.Value;
                    }

                    foreach (var (name, element) in last)
                    {
                        if (record.TryGetValue(name, out var value))
                        {
                            compared += AssertMatchesJson(element, value, path + "." + name);
                        }
                    }

                    return compared;
                }

            case JsonValueKind.Array:
                {
                    var list = Assert.IsType<List<object?>>(datum);
                    Assert.True(json.GetArrayLength() == list.Count, $"{path}: expected {json.GetArrayLength()} items, got {list.Count}");
                    var compared = 0;
                    var i = 0;
                    foreach (var item in json.EnumerateArray())
                    {
                        compared += AssertMatchesJson(item, list[i], $"{path}[{i}]");
                        i++;
                    }

                    return compared;
                }

            case JsonValueKind.String:
                Assert.True(json.GetString() == datum as string, $"{path}: expected '{json.GetString()}', got '{datum}'");
                return 1;
            case JsonValueKind.True:
            case JsonValueKind.False:
                Assert.Equal(json.GetBoolean(), Assert.IsType<bool>(datum));
                return 1;
            case JsonValueKind.Number:
                switch (datum)
                {
                    case int i:
                        Assert.True(json.GetInt64() == i, $"{path}: expected {json.GetRawText()}, got {i}");
                        break;
                    case long l:
                        Assert.True(json.GetInt64() == l, $"{path}: expected {json.GetRawText()}, got {l}");
                        break;
                    case float f:
                        Assert.True((float)json.GetDouble() == f, $"{path}: expected {json.GetRawText()}, got {f.ToString(CultureInfo.InvariantCulture)}");
                        break;
                    case double d:
                        Assert.True(json.GetDouble() == d, $"{path}: expected {json.GetRawText()}, got {d.ToString(CultureInfo.InvariantCulture)}");
                        break;
                    default:
                        Assert.Fail($"{path}: expected the number {json.GetRawText()}, got {datum ?? "null"}");
                        break;
                }

                return 1;
            default:
                return 0;
        }
    }
}
