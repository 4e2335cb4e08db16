using AlertBroker.Registry;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Web;

// The JSON shapes of the API (docs/web.md). Serialised with System.Text.Json's web defaults (camelCase); a value that
// is not a finite number is null.
#pragma warning disable SA1649, CA1812

/// <summary>GET /api/overview.</summary>
internal sealed record OverviewDto(
    string Source,
    DateTimeOffset Utc,
    int Workers,
    long Alerts,
    long Classifications,
    long Withheld,
    double AlertsPerSecond,
    double AlertsPerSecondMinute,
    long? PeakAlertsPerSecond,
    LatencyDto LatencyMs,
    LatencyDto? BatchMs,
    IReadOnlyDictionary<string, long> DeadLetters,
    LagDto Lag,
    IReadOnlyList<ThroughputPoint> Throughput,
    IReadOnlyDictionary<string, SurveyModelsDto> Models,
    IReadOnlyList<WorkerRowDto> PerWorker,
    IReadOnlyList<string> Notes)
{
    /// <summary>How often the numbers are refreshed (the event stream's period; a page that polls waits as long).</summary>
    public double RefreshSeconds { get; init; }
}

internal sealed record LatencyDto(double? P50, double? P90, double? P99, int Samples);

internal sealed record LagDto(long Total, IReadOnlyList<PartitionLag> Partitions);

/// <summary>The models of one survey: the active one and the shadow (a candidate scored beside it), when there is one.</summary>
internal sealed record SurveyModelsDto(ModelPointerDto? Active, ModelPointerDto? Shadow);

internal sealed record ModelPointerDto(string Name, string Version, string? Sha256, DateTimeOffset? SinceUtc)
{
    public static ModelPointerDto? From(ActivePointer? p) => p is null ? null : new ModelPointerDto(p.Name, p.Version, p.Sha256, p.SinceUtc);

    public static ModelPointerDto? Parse(string? nameAtVersion)
    {
        if (string.IsNullOrEmpty(nameAtVersion))
        {
            return null;
        }

        var at = nameAtVersion.LastIndexOf('@');
        return at > 0 ? new ModelPointerDto(nameAtVersion[..at], nameAtVersion[(at + 1)..], null, null) : new ModelPointerDto(nameAtVersion, string.Empty, null, null);
    }
}

internal sealed record WorkerRowDto(string WorkerId, string? Model, DateTimeOffset Utc, double? AlertsPerSecond, long? Alerts, double? LatencyP50Ms, double? LatencyP99Ms, long? ConsumerLag, long? DeadLetters, string? LastError);

/// <summary>GET /api/models.</summary>
internal sealed record ModelsDto(
    string? Registry,
    IReadOnlyList<ModelVersionDto> Versions,
    IReadOnlyDictionary<string, SurveyPointersDto> Pointers,
    IReadOnlyList<PromotionRecord> Audit,
    IReadOnlyList<WorkerHeartbeat> Workers,
    IReadOnlyList<LocalPackageDto> LocalPackages,
    IReadOnlyList<string> Notes)
{
    /// <summary>The trail holds older records than <see cref="Audit"/> (which is the newest <see cref="WebApi.MaxAuditRecords"/>).</summary>
    public bool AuditTruncated { get; init; }

    /// <summary>
    /// The parts left out because a record in them cannot be read (<c>status</c>: pointers and workers; <c>audit</c>;
    /// <c>versions</c>), each named in <see cref="Notes"/>: an empty list there means "could not be read", not "none".
    /// </summary>
    public IReadOnlyList<string> LeftOut { get; init; } = [];
}

internal sealed record ModelVersionDto(string Name, string Version, string Sha256, string Encoding, IReadOnlyList<string> Classes, IReadOnlyDictionary<string, double> Metrics, string PushedBy, DateTimeOffset PushedUtc, bool Active, bool Rollback)
{
    /// <summary>The surveys this version is the active model of.</summary>
    public IReadOnlyList<string> ActiveFor { get; init; } = [];

    /// <summary>The surveys this version is the shadow model of.</summary>
    public IReadOnlyList<string> ShadowFor { get; init; } = [];
}

/// <summary>A survey's pointers: active, what a rollback would restore, the shadow, and the shadow's agreement statistics (all workers).</summary>
internal sealed record SurveyPointersDto(ModelPointerDto? Active, ModelPointerDto? Rollback, ModelPointerDto? Shadow, ShadowSummary? ShadowStatistics);

internal sealed record LocalPackageDto(string Name, string Version, string Sha256, string Directory);

/// <summary>GET /api/objects/recent.</summary>
internal sealed record RecentDto(string Source, IReadOnlyList<RecentClassification> Items);

/// <summary>GET /api/objects/search.</summary>
internal sealed record SearchDto(string Query, IReadOnlyList<SearchMatchDto> Matches, IReadOnlyList<string> Notes);

internal sealed record SearchMatchDto(string Survey, string ObjectId, int? Observations, string Source);

/// <summary>GET /api/objects/{survey}/{objectId}.</summary>
internal sealed record ObjectDto(
    string Survey,
    string ObjectId,
    long Version,
    DateTimeOffset UpdatedUtc,
    IReadOnlyList<ObservationDto> Observations,
    IReadOnlyDictionary<string, BandCountsDto> Bands,
    string? ModelId,
    LatestDto? Latest,
    string? Withheld = null,
    string? Unreadable = null);

internal sealed record ObservationDto(long SourceId, double? Mjd, string Band, string Kind, double? Flux, double? FluxErr, double? LimitingMag, double? UpperLimitFlux);

internal sealed record BandCountsDto(int Detections, int Forced, int UpperLimits);

internal sealed record LatestDto(IReadOnlyList<string>? Classes, IReadOnlyList<double?> Probabilities, string? TopClass, double? TopProbability, int ScoredSteps, double? LastStepMjd);

/// <summary>GET /api/objects/{survey}/{objectId}/history.</summary>
internal sealed record HistoryDto(
    string Survey,
    string ObjectId,
    string? ModelId,
    bool Available,
    string? Source,
    string? Reason,
    IReadOnlyList<string>? Classes,
    IReadOnlyList<HistoryStepDto> Steps,
    double? StoredDifference);

internal sealed record HistoryStepDto(int Step, double Mjd, string Band, string Kind, IReadOnlyList<double?> Probabilities);

/// <summary>Any error answer.</summary>
internal sealed record ErrorDto(string Error);
