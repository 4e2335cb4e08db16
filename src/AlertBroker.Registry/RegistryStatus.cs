using System.Text.Json;
using System.Text.Json.Serialization;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Registry;

/// <summary>A survey's shadow statistics in plain numbers (null where not defined yet), for status displays and JSON.</summary>
public sealed record ShadowSummary
{
    public required string Candidate { get; init; }

    public required string Active { get; init; }

    public long Alerts { get; init; }

    public double? Agreement { get; init; }

    public IReadOnlyDictionary<string, double> MeanAbsDiff { get; init; } = new Dictionary<string, double>();

    public long Labelled { get; init; }

    public double? CandidateMacroAuroc { get; init; }

    public double? ActiveMacroAuroc { get; init; }

    public IReadOnlyDictionary<string, double> CandidateAuroc { get; init; } = new Dictionary<string, double>();

    public IReadOnlyDictionary<string, double> ActiveAuroc { get; init; } = new Dictionary<string, double>();

    public static ShadowSummary From(ShadowStatistics s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new ShadowSummary
        {
            Candidate = s.Pair.Candidate,
            Active = s.Pair.Active,
            Alerts = s.Alerts,
            Agreement = Finite(s.Agreement),
            MeanAbsDiff = s.MeanAbsDiff.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            Labelled = s.Labelled,
            CandidateMacroAuroc = Finite(s.CandidateMacroAuroc),
            ActiveMacroAuroc = Finite(s.ActiveMacroAuroc),
            CandidateAuroc = s.CandidateAuroc,
            ActiveAuroc = s.ActiveAuroc,
        };
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
}

/// <summary>One survey as <c>models status</c> shows it.</summary>
public sealed record SurveyStatus
{
    public required string Survey { get; init; }

    public ActivePointer? Active { get; init; }

    /// <summary>What a rollback would restore.</summary>
    public ActivePointer? Previous { get; init; }

    public ActivePointer? Shadow { get; init; }

    /// <summary>The shadow's statistics against the current active model (null without a shadow or before any alert).</summary>
    public ShadowSummary? ShadowStatistics { get; init; }

    public IReadOnlyList<MetadataSourceDeclaration> MetadataSources { get; init; } = [];

    /// <summary>Live workers that score this survey.</summary>
    public int Workers { get; init; }

    /// <summary>Of those, the ones already on the active model.</summary>
    public int WorkersOnActive { get; init; }
}

/// <summary>
/// The registry at a glance: every survey (active, rollback target, shadow and its statistics, metadata sources, live
/// workers), the live workers' heartbeats and the recent audit trail. What <c>alertbroker models status</c> prints (and,
/// with <c>--json</c>, writes as JSON); a web view can read the same with <see cref="ReadAsync"/>.
/// </summary>
public sealed record RegistryStatus
{
    // An undefined figure (a NaN metric of an audit record or a model) is null (FigureJson): without it, serialising one threw.
    private static readonly JsonSerializerOptions s_json = new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    }.WithFigures();

    public required IReadOnlyList<SurveyStatus> Surveys { get; init; }

    public required IReadOnlyList<WorkerHeartbeat> Workers { get; init; }

    public required IReadOnlyList<PromotionRecord> Audit { get; init; }

    /// <summary>
    /// Reads the status; workers count as live when their last heartbeat is younger than <paramref name="liveWorker"/>;
    /// the newest <paramref name="auditTail"/> audit records (none for 0).
    /// </summary>
    public static async Task<RegistryStatus> ReadAsync(IModelRegistry registry, TimeSpan liveWorker, int auditTail = 20, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var metadata = await registry.GetMetadataSourcesAsync(cancellationToken).ConfigureAwait(false);
        var workers = await registry.GetWorkersAsync(liveWorker, cancellationToken).ConfigureAwait(false);
        var names = (await registry.GetSurveysAsync(cancellationToken).ConfigureAwait(false)).Concat(metadata.Select(m => m.Survey)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var surveys = new List<SurveyStatus>();
        foreach (var name in names)
        {
            var pointers = await registry.GetSurveyAsync(name, cancellationToken).ConfigureAwait(false);
            ShadowSummary? stats = null;
            if (pointers.Shadow is { } shadow && pointers.Active is { } active
                && await registry.GetShadowStatisticsAsync(ShadowPair.Of(name, shadow, active), cancellationToken).ConfigureAwait(false) is { } s)
            {
                stats = ShadowSummary.From(s);
            }

            var serving = workers.Where(w => ModelOf(w, name) is not null).ToList();
            surveys.Add(new SurveyStatus
            {
                Survey = name,
                Active = pointers.Active,
                Previous = pointers.Previous,
                Shadow = pointers.Shadow,
                ShadowStatistics = stats,
                MetadataSources = [.. metadata.Where(m => m.Survey == name)],
                Workers = serving.Count,
                WorkersOnActive = pointers.Active is null ? 0 : serving.Count(w => ModelOf(w, name) == pointers.Active.Ref.ToString()),
            });
        }

        var audit = auditTail > 0 ? (await registry.GetRecentAuditAsync(auditTail, cancellationToken).ConfigureAwait(false)).Records : [];
        return new RegistryStatus { Surveys = surveys, Workers = workers, Audit = audit };
    }

    /// <summary>The model a worker reports for a survey (its per-survey map; a worker from before per-survey heartbeats: its one model).</summary>
    public static string? ModelOf(WorkerHeartbeat worker, string survey)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return worker.Surveys is { } map ? map.GetValueOrDefault(survey) : survey == RegistryNames.DefaultSurvey ? worker.Model : null;
    }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);
}
