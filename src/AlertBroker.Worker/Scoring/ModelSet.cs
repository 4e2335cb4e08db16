using AlertBroker.Alerts;
using AlertBroker.Worker.Enrichment;

namespace AlertBroker.Worker.Scoring;

/// <summary>
/// The models one batch scores with, by survey: each survey's active model (its alerts' classifications), its optional
/// shadow model (a candidate scored beside it), and the metadata sources in force. A batch takes one set when it starts,
/// so it never mixes versions of a survey's model; alerts of a survey no model serves are stored and classified with
/// scoring NONE and a reason.
/// </summary>
public sealed class ModelSet
{
    private readonly Dictionary<string, ActiveModel> _active;
    private readonly Dictionary<string, ActiveModel> _shadows;

    private ModelSet(Dictionary<string, ActiveModel> active, Dictionary<string, ActiveModel> shadows, MetadataSourceSet metadata)
    {
        _active = active;
        _shadows = shadows;
        Metadata = metadata;
        var distinct = new List<ActiveModel>();
        foreach (var m in active.Values.Concat(shadows.Values))
        {
            if (!distinct.Contains(m))
            {
                distinct.Add(m);
            }
        }

        Distinct = distinct;
    }

    /// <summary>Survey → the model its alerts are classified with.</summary>
    public IReadOnlyDictionary<string, ActiveModel> Active => _active;

    /// <summary>Survey → the candidate also scored on its alerts.</summary>
    public IReadOnlyDictionary<string, ActiveModel> Shadows => _shadows;

    /// <summary>Where metadata (and shadow labels) come from for this batch.</summary>
    public MetadataSourceSet Metadata { get; }

    /// <summary>Every model of the set once.</summary>
    public IReadOnlyList<ActiveModel> Distinct { get; }

    /// <summary>
    /// Each model serves the surveys it declares (<c>model.json</c> <c>surveys</c>); two models declaring the same survey
    /// are a configuration error (give one model per survey).
    /// </summary>
    /// <exception cref="ArgumentException">two models declare one survey.</exception>
    public static ModelSet Of(IEnumerable<ActiveModel> models, MetadataSourceSet? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        var active = new Dictionary<string, ActiveModel>(StringComparer.Ordinal);
        foreach (var m in models)
        {
            foreach (var survey in m.Surveys)
            {
                if (active.TryGetValue(survey, out var other) && !ReferenceEquals(other, m))
                {
                    throw new ArgumentException($"both {other.Name} {other.Version} and {m.Name} {m.Version} declare the survey {survey}; give one model per survey");
                }

                active[survey] = m;
            }
        }

        return new ModelSet(active, new Dictionary<string, ActiveModel>(StringComparer.Ordinal), metadata ?? MetadataSourceSet.Empty);
    }

    /// <summary>One model for the surveys it declares.</summary>
    public static ModelSet Of(ActiveModel model, MetadataSourceSet? metadata = null) => Of([model], metadata);

    /// <summary>An explicit survey → model map (the registry's pointers), with optional shadows.</summary>
    public static ModelSet Create(IReadOnlyDictionary<string, ActiveModel> active, IReadOnlyDictionary<string, ActiveModel>? shadows = null, MetadataSourceSet? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(active);
        return new ModelSet(
            new Dictionary<string, ActiveModel>(active, StringComparer.Ordinal),
            shadows is null ? new Dictionary<string, ActiveModel>(StringComparer.Ordinal) : new Dictionary<string, ActiveModel>(shadows, StringComparer.Ordinal),
            metadata ?? MetadataSourceSet.Empty);
    }

    /// <summary>The same models with <paramref name="shadows"/> scored beside them.</summary>
    public ModelSet WithShadows(IReadOnlyDictionary<string, ActiveModel> shadows) => Create(_active, shadows, Metadata);

    /// <summary>The same models with other metadata sources.</summary>
    public ModelSet WithMetadata(MetadataSourceSet metadata) => Create(_active, _shadows, metadata);

    /// <summary>The survey's model, or null when none serves it.</summary>
    public ActiveModel? For(string survey) => _active.GetValueOrDefault(survey);

    /// <summary>The survey's shadow model, or null.</summary>
    public ActiveModel? ShadowFor(string survey) => _shadows.GetValueOrDefault(survey);

    /// <summary>The name a survey has in manifests and the registry: "ztf", "lsst".</summary>
    public static string SurveyName(Survey survey) => survey switch
    {
        Survey.Ztf => "ztf",
        Survey.Lsst => "lsst",
        _ => survey.ToString().ToLowerInvariant(),
    };

    /// <summary>"ztf: ztf-bts 2.0.0, lsst: lsst-… 1.0.0" for logs and the demo.</summary>
    public string Describe() =>
        _active.Count == 0 ? "(no model)" : string.Join(", ", _active.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value.Name} {kv.Value.Version}"))
            + (_shadows.Count == 0 ? string.Empty : "; shadows " + string.Join(", ", _shadows.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value.Name} {kv.Value.Version}")));
}
