using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlertBroker.Model.Packaging;

/// <summary>
/// How the project's JSON files and answers carry a figure that can be undefined (an AUROC of a class without objects,
/// an F1 without predictions, an early-classification point without objects, a metric of a diverged run): a finite
/// number is a JSON number; NaN and ±∞ are JSON <c>null</c>, meaning "undefined", which every strict JSON reader accepts.
/// Read back, <c>null</c> is NaN, and the strings <c>"NaN"</c>, <c>"Infinity"</c> and <c>"-Infinity"</c> that earlier
/// releases wrote (System.Text.Json's named floating-point literals) are still read as those values, as is a number
/// written as a string.
/// </summary>
/// <remarks>
/// Until 2026-12-07 these files held NaN as the string "NaN": a strict reader (jq's arithmetic, JavaScript's typed code,
/// pydantic, Python with a schema) found a string where a number belongs.
/// </remarks>
public static class FigureJson
{
    /// <summary>The converters of <see cref="double"/> and <see cref="float"/> figures, for a serializer's options.</summary>
    public static IReadOnlyList<JsonConverter> Converters { get; } = [new FigureJsonConverter(), new FigureSingleJsonConverter()];

    /// <summary>Adds <see cref="Converters"/> to <paramref name="options"/> and returns it.</summary>
    public static JsonSerializerOptions WithFigures(this JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var c in Converters)
        {
            options.Converters.Add(c);
        }

        return options;
    }

    internal static double Read(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return double.NaN;
            case JsonTokenType.Number:
                return reader.TryGetDouble(out var d) && double.IsFinite(d)
                    ? d
                    : throw new JsonException("a number too large for a double");
            case JsonTokenType.String:
                var s = reader.GetString();
                return s switch
                {
                    "NaN" => double.NaN,
                    "Infinity" => double.PositiveInfinity,
                    "-Infinity" => double.NegativeInfinity,
                    _ when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) => v,
                    _ => throw new JsonException($"\"{(s is { Length: > 40 } ? s[..40] + "…" : s)}\" is not a number (a figure is a number, or null where it is undefined)"),
                };
            default:
                throw new JsonException($"a {reader.TokenType} where a number (or null) belongs");
        }
    }

    internal static void Write(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>A <see cref="double"/> figure: a number, or <c>null</c> for NaN and ±∞ (<see cref="FigureJson"/>).</summary>
public sealed class FigureJsonConverter : JsonConverter<double>
{
    public override bool HandleNull => true;

    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => FigureJson.Read(ref reader);

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        FigureJson.Write(writer, value);
    }

    public override double ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        double.Parse(reader.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(value.ToString("R", CultureInfo.InvariantCulture));
    }
}

/// <summary>A <see cref="float"/> figure: a number, or <c>null</c> for NaN and ±∞ (<see cref="FigureJson"/>).</summary>
public sealed class FigureSingleJsonConverter : JsonConverter<float>
{
    public override bool HandleNull => true;

    public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var d = FigureJson.Read(ref reader);
        var f = (float)d;
        return double.IsFinite(d) && !float.IsFinite(f) ? throw new JsonException("a number too large for a float") : f;
    }

    public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    public override float ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        float.Parse(reader.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(value.ToString("R", CultureInfo.InvariantCulture));
    }
}
