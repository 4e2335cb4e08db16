using System.Globalization;
using System.Text;

namespace AlertBroker.Training.Data;

/// <summary>
/// Labelled objects of a data set that a command could not use, and why — so that an evaluation on someone else's
/// held-out set says how many of its objects it scored instead of leaving the rest out silently. Each object is counted
/// once, under the first reason that applies in reading order: no observation, no label, a class the network does not
/// have, no step the encoding can use.
/// </summary>
public sealed record LeftOutObjects
{
    /// <summary>Nothing left out.</summary>
    public static LeftOutObjects None { get; } = new();

    /// <summary>Labelled objects (metadata or labels rows) with no usable observation: none in the light-curve file, or
    /// none left after the row checks and the detections-only view.</summary>
    public int WithoutObservations { get; init; }

    /// <summary>Objects of a light-curve file with no metadata row, hence no class (CSV pairs only: an alert stream is
    /// mostly unlabelled objects, which are not counted).</summary>
    public int WithoutLabel { get; init; }

    /// <summary>Objects whose class is not one of the network's, per class name (ordinal: names are case-sensitive).</summary>
    public IReadOnlyDictionary<string, int> OtherClasses { get; init; } = new Dictionary<string, int>();

    /// <summary>Objects of the network's classes with no step its encoding uses (e.g. only bands it does not read).</summary>
    public int WithoutSteps { get; init; }

    /// <summary>All objects left out.</summary>
    public int Total => WithoutObservations + WithoutLabel + OtherClasses.Values.Sum() + WithoutSteps;

    /// <summary>The sum of two accounts (e.g. of several files read as one set).</summary>
    public LeftOutObjects Add(LeftOutObjects other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var classes = new Dictionary<string, int>(OtherClasses, StringComparer.Ordinal);
        foreach (var (name, n) in other.OtherClasses)
        {
            classes[name] = classes.GetValueOrDefault(name) + n;
        }

        return new LeftOutObjects
        {
            WithoutObservations = WithoutObservations + other.WithoutObservations,
            WithoutLabel = WithoutLabel + other.WithoutLabel,
            OtherClasses = classes,
            WithoutSteps = WithoutSteps + other.WithoutSteps,
        };
    }

    /// <summary>
    /// One line: how many objects were left out and why; for a class name that equals one of <paramref name="classes"/>
    /// but for case, the name it probably means.
    /// </summary>
    public string Describe(IReadOnlyList<string> classes, string whose = "the model")
    {
        ArgumentNullException.ThrowIfNull(classes);
        var parts = new List<string>();
        if (OtherClasses.Count > 0)
        {
            var counted = OtherClasses.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{(p.Key.Length == 0 ? "(empty)" : p.Key)} {p.Value}"));
            var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{OtherClasses.Values.Sum()} of classes {whose} does not have ({string.Join(", ", counted)}; its classes: {string.Join(", ", classes)}");
            foreach (var name in OtherClasses.Keys.Order(StringComparer.Ordinal))
            {
                if (classes.FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase)) is { } meant)
                {
                    text.Append(CultureInfo.InvariantCulture, $"; '{name}' is not '{meant}': names are case-sensitive, --class-map renames");
                }
            }

            parts.Add(text.Append(')').ToString());
        }

        if (WithoutObservations > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{WithoutObservations} labelled without a usable observation"));
        }

        if (WithoutLabel > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{WithoutLabel} observed without a metadata row or label (no class)"));
        }

        if (WithoutSteps > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{WithoutSteps} without a point the model's encoding reads"));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{Total} object(s) of the data left out: {string.Join("; ", parts)}");
    }
}
