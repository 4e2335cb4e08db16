using System.Globalization;
using System.Text;

namespace AlertBroker.Tests.Common;

/// <summary>
/// Writes a <c>models verify</c> reference the way <c>json.dump</c> of nested lists does: one JSON object, each tensor as
/// nested arrays whose nesting is its shape.
/// </summary>
internal static class ReferenceJson
{
    public static string Build(IEnumerable<(string Name, long[] Shape, IReadOnlyList<double> Values)> tensors, IReadOnlyDictionary<string, string>? extra = null)
    {
        var text = new StringBuilder("{");
        var first = true;
        foreach (var (name, shape, values) in tensors)
        {
            text.Append(first ? string.Empty : ", ").Append('"').Append(name).Append("\": ");
            var index = 0;
            Nest(text, shape, 0, values, ref index);
            first = false;
        }

        foreach (var (key, json) in extra ?? new Dictionary<string, string>())
        {
            text.Append(first ? string.Empty : ", ").Append('"').Append(key).Append("\": ").Append(json);
            first = false;
        }

        return text.Append('}').ToString();
    }

    public static IReadOnlyList<double> Doubles(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    private static void Nest(StringBuilder text, long[] shape, int depth, IReadOnlyList<double> values, ref int index)
    {
        if (depth == shape.Length)
        {
            text.Append(values[index++].ToString("R", CultureInfo.InvariantCulture));
            return;
        }

        text.Append('[');
        for (var i = 0; i < shape[depth]; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            Nest(text, shape, depth + 1, values, ref index);
        }

        text.Append(']');
    }
}
