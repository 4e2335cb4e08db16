using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AlertBroker.Avro;

/// <summary>Options for <see cref="AvroJson"/>.</summary>
public sealed record AvroJsonOptions
{
    /// <summary>Write bytes and fixed values as their length (true, the default) instead of base64.</summary>
    public bool BytesAsLength { get; init; } = true;

    /// <summary>Indent the output.</summary>
    public bool Indented { get; init; }

    public static AvroJsonOptions Default { get; } = new();
}

/// <summary>
/// A JSON view of generic datums for humans and tools: records as objects, union values unwrapped, NaN and
/// infinities as strings, logical values in ISO form. Not the Avro JSON encoding (which wraps union values).
/// </summary>
public static class AvroJson
{
    private const int MaxDepth = 1000;

    public static void WriteDatum(Utf8JsonWriter writer, object? datum, AvroJsonOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Write(writer, datum, options ?? AvroJsonOptions.Default, 0);
    }

    public static string ToJson(object? datum, AvroJsonOptions? options = null)
    {
        options ??= AvroJsonOptions.Default;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = options.Indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true }))
        {
            Write(writer, datum, options, 0);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter w, object? d, AvroJsonOptions o, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new AvroException($"datum nests deeper than {MaxDepth} levels");
        }

        switch (d)
        {
            case null:
                w.WriteNullValue();
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case int i:
                w.WriteNumberValue(i);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case float f:
                if (float.IsFinite(f))
                {
                    w.WriteNumberValue(f);
                }
                else
                {
                    w.WriteStringValue(NonFinite(f));
                }

                break;
            case double x:
                if (double.IsFinite(x))
                {
                    w.WriteNumberValue(x);
                }
                else
                {
                    w.WriteStringValue(NonFinite(x));
                }

                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case ReadOnlyMemory<byte> m:
                WriteBytes(w, m.Span, o);
                break;
            case byte[] a:
                WriteBytes(w, a, o);
                break;
            case GenericFixed gf:
                WriteBytes(w, gf.Value.Span, o);
                break;
            case GenericEnum ge:
                w.WriteStringValue(ge.Symbol);
                break;
            case GenericRecord r:
                w.WriteStartObject();
                foreach (var f in r.Schema.FieldArray)
                {
                    w.WritePropertyName(f.Name);
                    Write(w, r.Values[f.Position], o, depth + 1);
                }

                w.WriteEndObject();
                break;
            case DateOnly date:
                w.WriteStringValue(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case TimeOnly time:
                w.WriteStringValue(time.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
                break;
            case DateTimeOffset dto:
                w.WriteStringValue(dto.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
                break;
            case DateTime dt:
                w.WriteStringValue(dt.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
                break;
            case Guid g:
                w.WriteStringValue(g.ToString("D"));
                break;
            case AvroDecimal dec:
                w.WriteRawValue(dec.ToString(), skipInputValidation: true);
                break;
            case decimal m:
                w.WriteNumberValue(m);
                break;
            case IDictionary<string, object?> map:
                w.WriteStartObject();
                foreach (var (k, v) in map)
                {
                    w.WritePropertyName(k);
                    Write(w, v, o, depth + 1);
                }

                w.WriteEndObject();
                break;
            case IList list:
                w.WriteStartArray();
                foreach (var item in list)
                {
                    Write(w, item, o, depth + 1);
                }

                w.WriteEndArray();
                break;
            default:
                w.WriteStringValue(Convert.ToString(d, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static void WriteBytes(Utf8JsonWriter w, ReadOnlySpan<byte> bytes, AvroJsonOptions o)
    {
        if (o.BytesAsLength)
        {
            w.WriteNumberValue(bytes.Length);
        }
        else
        {
            w.WriteBase64StringValue(bytes);
        }
    }

    private static string NonFinite(double x) => double.IsNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
}
