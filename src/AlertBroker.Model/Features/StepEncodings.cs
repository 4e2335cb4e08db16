using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Features;

/// <summary>
/// The feature encodings this build implements, keyed by (name, version): <c>alertbroker-lc</c> v1 (<see cref="LightCurveEncoding"/>)
/// and <c>muthukrishna2025</c> v1 (<see cref="Muthukrishna2025Encoding"/>). A worker refuses a model whose encoding is not here.
/// </summary>
public static class StepEncodings
{
    private static readonly IStepEncoding[] s_all = [LightCurveEncoding.Instance, Muthukrishna2025Encoding.Instance];

    /// <summary>Every implemented encoding.</summary>
    public static IReadOnlyList<IStepEncoding> All => s_all;

    /// <summary>The ids of every implemented encoding (what <c>ModelPackage.Load</c> takes as the supported set).</summary>
    public static IReadOnlyCollection<EncodingId> Ids { get; } = [.. s_all.Select(e => e.Id)];

    /// <summary>The project's default encoding (<c>alertbroker-lc</c> v1).</summary>
    public static IStepEncoding Default => LightCurveEncoding.Instance;

    /// <summary>The encoding with this id, or null.</summary>
    public static IStepEncoding? Find(EncodingId id)
    {
        foreach (var e in s_all)
        {
            if (e.Id == id)
            {
                return e;
            }
        }

        return null;
    }

    /// <summary>The encoding with this id; throws <see cref="KeyNotFoundException"/> naming the implemented ones.</summary>
    public static IStepEncoding Get(EncodingId id) =>
        Find(id) ?? throw new KeyNotFoundException($"feature encoding {id} is not implemented here (implemented: {Describe()})");

    /// <summary>
    /// Parses <c>NAME</c> (the newest version of that name) or <c>NAME@VERSION</c> (e.g. <c>muthukrishna2025</c>,
    /// <c>alertbroker-lc@1</c>); throws <see cref="ArgumentException"/> naming the implemented encodings otherwise.
    /// </summary>
    public static IStepEncoding Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var at = trimmed.LastIndexOf('@');
        var name = at < 0 ? trimmed : trimmed[..at];
        IStepEncoding? found = null;
        if (at < 0)
        {
            foreach (var e in s_all)
            {
                if (string.Equals(e.Id.Name, name, StringComparison.Ordinal) && (found is null || e.Id.Version > found.Id.Version))
                {
                    found = e;
                }
            }
        }
        else if (int.TryParse(trimmed[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            found = Find(new EncodingId(name, version));
        }

        return found ?? throw new ArgumentException($"unknown feature encoding '{text}' (implemented: {Describe()}; write NAME or NAME@VERSION)");
    }

    /// <summary>"alertbroker-lc@1 (6 step features), muthukrishna2025@1 (4 step features)".</summary>
    public static string Describe() =>
        string.Join(", ", s_all.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Id.Name}@{e.Id.Version} ({e.StepFeatureCount} step features)")));

    /// <summary>
    /// The encoding a model is scored with: its <c>model.json</c> encoding, restricted to detections
    /// (<see cref="DetectionsOnlyEncoding"/>) when the model was trained on detections only
    /// (<see cref="ModelManifest.EffectiveDetectionsOnly"/>); null when the encoding is not implemented here.
    /// </summary>
    public static IStepEncoding? ForModel(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var encoding = Find(manifest.Encoding.Id);
        return encoding is not null && manifest.EffectiveDetectionsOnly ? DetectionsOnly(encoding) : encoding;
    }

    /// <summary>The same encoding over detections only.</summary>
    public static IStepEncoding DetectionsOnly(IStepEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        return encoding as DetectionsOnlyEncoding ?? new DetectionsOnlyEncoding(encoding);
    }

    /// <summary>
    /// The steps of observations of any kinds and in any order: time-ordered (MJD, then source id), deduplicated by
    /// (source id, kind), then <see cref="IStepEncoding.SelectOrderedSteps"/>.
    /// </summary>
    public static Observation[] SelectSteps(this IStepEncoding encoding, IEnumerable<Observation> observations, out double referenceMjd)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(observations);
        var list = new List<Observation>();
        foreach (var o in observations)
        {
            if (encoding.IsCandidate(o))
            {
                list.Add(o);
            }
        }

        list.Sort(static (a, b) =>
        {
            var c = a.Mjd.CompareTo(b.Mjd);
            return c != 0 ? c : a.SourceId.CompareTo(b.SourceId);
        });
        var n = 0;
        for (var i = 0; i < list.Count; i++)
        {
            if (n == 0 || list[i].SourceId != list[n - 1].SourceId || list[i].Kind != list[n - 1].Kind)
            {
                list[n++] = list[i];
            }
        }

        list.RemoveRange(n, list.Count - n);
        return encoding.SelectOrderedSteps([.. list], out referenceMjd);
    }

    /// <summary>t₀ under <see cref="TimeZeroRule.FirstDetection"/>: the first detection's time, else the first point's, NaN for none.</summary>
    internal static double FirstDetection(ReadOnlySpan<Observation> points)
    {
        foreach (ref readonly var p in points)
        {
            if (p.Kind == ObservationKind.Detection)
            {
                return p.Mjd;
            }
        }

        return points.Length > 0 ? points[0].Mjd : double.NaN;
    }

    /// <summary>The points of <paramref name="timeOrdered"/> that pass <paramref name="keep"/>; the array itself when all do.</summary>
    internal static Observation[] Filter<TState>(Observation[] timeOrdered, TState state, Func<Observation, TState, bool> keep)
    {
        var count = 0;
        foreach (var o in timeOrdered)
        {
            if (keep(o, state))
            {
                count++;
            }
        }

        if (count == timeOrdered.Length)
        {
            return timeOrdered;
        }

        var result = new Observation[count];
        var k = 0;
        foreach (var o in timeOrdered)
        {
            if (keep(o, state))
            {
                result[k++] = o;
            }
        }

        return result;
    }
}
