using System.Globalization;

namespace AlertBroker.Worker.Tests;

/// <summary>One sample of a Prometheus text exposition: <c>name{label="value",…} value</c>.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A parsed <c>/metrics</c> response (text format 0.0.4), enough for assertions.</summary>
internal sealed class PrometheusScrape
{
    private PrometheusScrape(List<PrometheusSample> samples, Dictionary<string, string> types)
    {
        Samples = samples;
        Types = types;
    }

    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>Metric family → type, from the <c># TYPE</c> lines.</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    public static PrometheusScrape Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                types[parts[2]] = parts[3];
                continue;
            }

            if (line[0] == '#')
            {
                continue;
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            string name;
            string rest;
            if (brace >= 0)
            {
                name = line[..brace];
                var end = line.IndexOf('}', brace);
                foreach (var pair in SplitLabels(line[(brace + 1)..end]))
                {
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..eq]] = pair[(eq + 2)..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
                }

                rest = line[(end + 1)..].Trim();
            }
            else
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                name = line[..space];
                rest = line[(space + 1)..].Trim();
            }

            var valueText = rest.Split(' ')[0];
            var value = valueText switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new PrometheusSample(name, labels, value));
        }

        return new PrometheusScrape(samples, types);
    }

    /// <summary>The value of the one sample with this name whose labels include <paramref name="labels"/> (name=value pairs).</summary>
    public double Value(string name, params string[] labels)
    {
        var matches = Samples.Where(s => s.Name == name && Matches(s, labels)).ToList();
        Assert.True(matches.Count == 1, $"expected one sample {name}{{{string.Join(",", labels)}}}, found {matches.Count}: {string.Join("; ", Samples.Where(s => s.Name == name).Select(s => string.Join(",", s.Labels.Select(kv => kv.Key + "=" + kv.Value))))}");
        return matches[0].Value;
    }

    private static bool Matches(PrometheusSample sample, string[] labels)
    {
        foreach (var l in labels)
        {
            var eq = l.IndexOf('=', StringComparison.Ordinal);
            if (!sample.Labels.TryGetValue(l[..eq], out var v) || v != l[(eq + 1)..])
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<string> SplitLabels(string s)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\')
            {
                i++;
                continue;
            }

            if (s[i] == '"')
            {
                quoted = !quoted;
            }
            else if (s[i] == ',' && !quoted)
            {
                yield return s[start..i];
                start = i + 1;
            }
        }

        if (start < s.Length)
        {
            yield return s[start..];
        }
    }
}
