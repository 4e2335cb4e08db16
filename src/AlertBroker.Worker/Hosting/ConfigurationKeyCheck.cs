using System.Collections;
using System.Reflection;
using AlertBroker.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker.Hosting;

/// <summary>
/// Finds configuration keys under <c>AlertBroker:</c> that no options class binds (a typo such as
/// <c>AlertBroker__Kafka__BatchSzie</c> would otherwise be ignored without a word), by comparing each section's keys with
/// the property names of the class bound to it. Children of dictionaries (free-form names such as
/// <c>Metadata:Sources:SURVEY:SOURCE</c> or Kafka <c>Properties</c>) are never reported; their values' own keys are.
/// </summary>
internal static class ConfigurationKeyCheck
{
    public const string Root = "AlertBroker";

    /// <summary>The sections the worker and the web view bind, and their classes.</summary>
    internal static readonly IReadOnlyDictionary<string, Type> Sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
    {
        ["Kafka"] = typeof(KafkaOptions),
        ["Schemas"] = typeof(SchemaOptions),
        ["State"] = typeof(StateOptions),
        ["Alerts"] = typeof(AlertOptions),
        ["Candidates"] = typeof(AlertBroker.Alerts.CandidateFilter),
        ["Model"] = typeof(ModelOptions),
        ["Metadata"] = typeof(MetadataOptions),
        ["Telemetry"] = typeof(TelemetryOptions),
        ["Redis"] = typeof(RedisOptions),
        ["Web"] = typeof(WebOptions),
    };

    /// <summary>Each unknown key (its full path) and the likely intended one, or null when none is close.</summary>
    public static List<(string Key, string? DidYouMean)> Find(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var found = new List<(string, string?)>();
        foreach (var section in configuration.GetSection(Root).GetChildren())
        {
            if (Sections.TryGetValue(section.Key, out var type))
            {
                Inspect(section, type, found, []);
            }
            else
            {
                found.Add((section.Path, Closest(section.Key, Sections.Keys) is { } s ? Root + ":" + s : null));
            }
        }

        return found;
    }

    /// <summary>
    /// Values of the wrong shape, which the configuration binder either rejects with a message that names no key ("Cannot
    /// create instance of type 'System.String'", the worker's "fatal", exit 70) or accepts in a way no one meant: an object
    /// or a list where a setting takes one value (<c>"SaslUsername": {"name": "x"}</c>); one value where it takes a list
    /// or settings (<c>AlertBroker__Kafka__Topics=ztf</c>, ignored: no topic); an enum given as a number or as several
    /// names (<c>"SecurityProtocol": "-1"</c> or <c>"Ssl,Plaintext"</c>, which the binder turns into a value no code
    /// handles). Each is one line naming the key; the commands report them as invalid configuration (exit 2) before the
    /// host starts. <paramref name="sections"/> limits the check to those sections of <see cref="Root"/> (default: all).
    /// </summary>
    public static List<string> ShapeProblems(IConfiguration configuration, params string[] sections)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        foreach (var section in configuration.GetSection(Root).GetChildren())
        {
            if (Sections.TryGetValue(section.Key, out var type) && (sections.Length == 0 || sections.Contains(section.Key, StringComparer.OrdinalIgnoreCase)))
            {
                Inspect(section, type, [], problems);
            }
        }

        return problems;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    /// <summary>Logs one warning per unknown key.</summary>
    public static void Warn(IConfiguration configuration, ILogger logger)
    {
        foreach (var (key, didYouMean) in Find(configuration))
        {
            Log.UnknownConfigurationKey(logger, key, didYouMean is null ? string.Empty : " (did you mean " + didYouMean + "?)");
        }
    }

    /// <summary>
    /// Walks a section as the binder would bind it to <paramref name="type"/>: keys no property has go to
    /// <paramref name="unknown"/> (with the likely intended one), values of the wrong shape to <paramref name="shapes"/>.
    /// </summary>
    private static void Inspect(IConfigurationSection section, Type type, List<(string, string?)> unknown, List<string> shapes)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var children = section.GetChildren().ToList();
        if (IsScalar(type))
        {
            if (type == typeof(object))
            {
                return;
            }

            if (children.Count > 0)
            {
                shapes.Add($"{section.Path} takes one value, not an object or a list (it holds {string.Join(", ", children.Take(3).Select(c => c.Key))}{(children.Count > 3 ? ", …" : string.Empty)}).");
            }
            else if (type.IsEnum && !string.IsNullOrWhiteSpace(section.Value)
                && Enum.TryParse(type, section.Value, ignoreCase: true, out _)
                && !Enum.GetNames(type).Contains(section.Value.Trim(), StringComparer.OrdinalIgnoreCase))
            {
                // The binder's Enum.Parse takes "-1", "7" and "Ssl,Plaintext" (undefined or combined values). A name it
                // does not know it refuses itself, and the commands say which names are accepted (with hints); the
                // values it would take are refused here in the same words.
                var names = Enum.GetNames(type);
                shapes.Add($"{section.Path}: '{section.Value}' is not one of {(names.Length == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1])}.");
            }

            return;
        }

        // A list, a dictionary or a class given one value: the binder ignores it (the setting keeps its default). An
        // empty value is an empty list or object (what a JSON "[]" or "{}" reads as).
        if (children.Count == 0)
        {
            if (!string.IsNullOrWhiteSpace(section.Value))
            {
                var takes = DictionaryValueType(type) is not null ? "named settings (a JSON object: NAME: VALUE, …)"
                    : ElementType(type) is not null ? $"a list (a JSON array; as environment variables {section.Path.Replace(":", "__", StringComparison.Ordinal)}__0, __1 …)"
                    : $"settings ({string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name))})";
                shapes.Add($"{section.Path} takes {takes}, not one value ('{Shorten(section.Value)}').");
            }

            return;
        }

        if ((DictionaryValueType(type) ?? ElementType(type)) is { } itemType)
        {
            foreach (var child in children)
            {
                Inspect(child, itemType, unknown, shapes);
            }

            return;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToList();
        foreach (var child in children)
        {
            var property = properties.Find(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var prefix = section.Path + ":";
                unknown.Add((child.Path, Closest(child.Key, properties.Select(p => p.Name)) is { } s ? prefix + s : null));
            }
            else
            {
                Inspect(child, property.PropertyType, unknown, shapes);
            }
        }
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(Uri)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(object);

    private static Type? DictionaryValueType(Type type)
    {
        foreach (var i in type.GetInterfaces().Append(type))
        {
            if (i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            {
                return i.GetGenericArguments()[1];
            }
        }

        return typeof(IDictionary).IsAssignableFrom(type) ? typeof(object) : null;
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        foreach (var i in type.GetInterfaces().Append(type))
        {
            if (i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                return i.GetGenericArguments()[0];
            }
        }

        return null;
    }

    /// <summary>The candidate nearest <paramref name="key"/> in edit distance (ignoring case), when it is close enough to be a typo.</summary>
    internal static string? Closest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = Distance(key.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
        }

        return best is not null && bestDistance <= Math.Max(2, Math.Min(key.Length, best.Length) / 3) ? best : null;
    }

    /// <summary>Damerau–Levenshtein (optimal string alignment) distance: a swap of two letters counts as one edit.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
