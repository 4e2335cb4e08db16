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
                CheckValue(section, type, found);
            }
            else
            {
                found.Add((section.Path, Closest(section.Key, Sections.Keys) is { } s ? Root + ":" + s : null));
            }
        }

        return found;
    }

    /// <summary>Logs one warning per unknown key.</summary>
    public static void Warn(IConfiguration configuration, ILogger logger)
    {
        foreach (var (key, didYouMean) in Find(configuration))
        {
            Log.UnknownConfigurationKey(logger, key, didYouMean is null ? string.Empty : " (did you mean " + didYouMean + "?)");
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type, List<(string, string?)> found)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsScalar(type))
        {
            return;
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            foreach (var child in section.GetChildren())
            {
                CheckValue(child, valueType, found);
            }

            return;
        }

        if (ElementType(type) is { } elementType)
        {
            foreach (var child in section.GetChildren())
            {
                CheckValue(child, elementType, found);
            }

            return;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToList();
        foreach (var child in section.GetChildren())
        {
            var property = properties.Find(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var prefix = section.Path + ":";
                found.Add((child.Path, Closest(child.Key, properties.Select(p => p.Name)) is { } s ? prefix + s : null));
            }
            else
            {
                CheckValue(child, property.PropertyType, found);
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
