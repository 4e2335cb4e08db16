using AlertBroker.Model.Packaging;

namespace AlertBroker.Registry;

/// <summary>
/// Where model versions, each survey's active and shadow pointers (with the active pointer's rollback history), shadow
/// statistics, metadata source declarations, the audit trail and worker heartbeats live. Redis in production (workers need
/// no shared file system); a local directory for the embedded mode. Both implementations pass one contract-test suite.
/// </summary>
/// <remarks>
/// Pointers are per survey ("ztf", "lsst", …: <see cref="RegistryNames.IsSurvey"/>). A registry written before per-survey
/// pointers (one active pointer and one history) is migrated on first use: its pointer becomes the pointer of every survey
/// the model declares (<c>["ztf"]</c> for packages without <c>surveys</c>), with the same history, and a "migrate" audit
/// record says so.
/// </remarks>
public interface IModelRegistry
{
    /// <summary>Stores a package's bytes and its description. Pushing the same version again with other bytes is refused.</summary>
    Task<RegisteredModel> PushAsync(ModelPackageBytes package, string pushedBy, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<RegisteredModel>> ListAsync(CancellationToken cancellationToken = default);

    Task<RegisteredModel?> GetAsync(ModelRef model, CancellationToken cancellationToken = default);

    /// <summary>The package's bytes, verified against the SHA-256 recorded at push time.</summary>
    Task<ModelPackageBytes> GetPackageAsync(ModelRef model, CancellationToken cancellationToken = default);

    /// <summary>The package's <c>model.json</c>, parsed (without reading the ONNX bytes), or null when the version is not registered.</summary>
    Task<ModelManifest?> GetManifestAsync(ModelRef model, CancellationToken cancellationToken = default);

    /// <summary>The surveys that have an active or a shadow pointer, sorted.</summary>
    Task<IReadOnlyList<string>> GetSurveysAsync(CancellationToken cancellationToken = default);

    /// <summary>One survey's active pointer, the pointer a rollback would restore, and its shadow pointer.</summary>
    Task<SurveyPointers> GetSurveyAsync(string survey, CancellationToken cancellationToken = default);

    /// <summary>Every survey's active and shadow pointers and the metadata source declarations (what a worker follows).</summary>
    Task<RegistrySnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default);

    /// <summary>The survey's active pointer, or null.</summary>
    Task<ActivePointer?> GetActiveAsync(string survey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves several surveys' active pointers as one change: each move as <see cref="ModelRegistryExtensions.SetActiveAsync"/>,
    /// and either every pointer moves (each with its history entry, audit record and notification) or none does — a
    /// compare-and-set that fails for one survey, or a key of another type, leaves every survey as it was. The surveys must differ.
    /// </summary>
    Task SetActiveAsync(IReadOnlyList<PointerMove> moves, CancellationToken cancellationToken = default);

    /// <summary>The pointer a rollback of the survey would restore (the one before the current), or null.</summary>
    Task<ActivePointer?> GetPreviousAsync(string survey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Restores the survey's previous pointer when its current one still equals <paramref name="expectedCurrent"/>, and,
    /// in the same atomic step, only while the survey declares every one of <paramref name="requiredSources"/> (the metadata
    /// sources the restored model needs); a shadow that is the restored model is cleared in that step (audited as
    /// "shadow-clear").
    /// </summary>
    Task<ActivePointer> RollbackAsync(string survey, ActivePointer expectedCurrent, PromotionRecord record, IReadOnlyList<string>? requiredSources = null, CancellationToken cancellationToken = default);

    /// <summary>The survey's shadow pointer (a candidate scored beside the active model), or null.</summary>
    Task<ActivePointer?> GetShadowAsync(string survey, CancellationToken cancellationToken = default);

    /// <summary>Sets or clears several surveys' shadow pointers as one change: all (each audited and notified) or none. The surveys must differ.</summary>
    Task SetShadowAsync(IReadOnlyList<ShadowMove> moves, CancellationToken cancellationToken = default);

    /// <summary>Adds a worker's increments to the comparison's statistics (each field added atomically; see <see cref="ShadowStatistics"/>).</summary>
    Task AddShadowStatisticsAsync(ShadowPair pair, IReadOnlyDictionary<string, double> increments, CancellationToken cancellationToken = default);

    /// <summary>The comparison's statistics aggregated over all workers, or null when nothing was recorded.</summary>
    Task<ShadowStatistics?> GetShadowStatisticsAsync(ShadowPair pair, CancellationToken cancellationToken = default);

    /// <summary>Every survey's metadata source declarations, sorted by survey and source.</summary>
    Task<IReadOnlyList<MetadataSourceDeclaration>> GetMetadataSourcesAsync(CancellationToken cancellationToken = default);

    /// <summary>Declares (or replaces) where a survey's workers find one metadata source; audited and notified.</summary>
    Task SetMetadataSourceAsync(MetadataSourceDeclaration declaration, PromotionRecord record, CancellationToken cancellationToken = default);

    /// <summary>Removes a declaration; false when there was none. Audited and notified.</summary>
    Task<bool> RemoveMetadataSourceAsync(string survey, string source, PromotionRecord record, CancellationToken cancellationToken = default);

    /// <summary>The whole audit trail, oldest first.</summary>
    Task<IReadOnlyList<PromotionRecord>> GetAuditAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The newest <paramref name="count"/> (at least 1) records of the audit trail, oldest first, and whether older ones
    /// exist; reads (and deserialises) those records only, however long the trail has grown.
    /// </summary>
    Task<AuditTail> GetRecentAuditAsync(int count, CancellationToken cancellationToken = default);

    Task ReportHeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default);

    /// <summary>
    /// Heartbeats newer than <paramref name="maxAge"/> (and not stamped more than <paramref name="maxAge"/> ahead: a clock far
    /// in the future would keep a dead worker live for ever).
    /// </summary>
    Task<IReadOnlyList<WorkerHeartbeat>> GetWorkersAsync(TimeSpan maxAge, CancellationToken cancellationToken = default);

    /// <summary>Removes one worker's heartbeat (a worker that stops cleanly); nothing when there is none.</summary>
    Task RemoveHeartbeatAsync(string workerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the heartbeats last written more than <paramref name="olderThan"/> ago, and damaged ones (workers killed
    /// without a clean stop: every pod or process id adds one, and every status and overview read all of them); returns how
    /// many.
    /// </summary>
    Task<int> PruneHeartbeatsAsync(TimeSpan olderThan, CancellationToken cancellationToken = default);
}

/// <summary>One-survey forms of the registry's pointer changes.</summary>
public static class ModelRegistryExtensions
{
    /// <summary>
    /// Moves the survey's active pointer to <paramref name="next"/> when it still equals <paramref name="expectedCurrent"/>
    /// (compare-and-set), remembers the old one for rollback, appends <paramref name="record"/> to the audit trail and
    /// notifies the workers — all or nothing. Other surveys' pointers are not touched.
    /// </summary>
    public static Task SetActiveAsync(this IModelRegistry registry, string survey, ActivePointer? expectedCurrent, ActivePointer next, PromotionRecord record, CancellationToken cancellationToken = default) =>
        registry.SetActiveAsync([new PointerMove(survey, expectedCurrent, next, record)], cancellationToken);

    /// <summary>Sets (or, with null, clears) the survey's shadow pointer, appends <paramref name="record"/> and notifies the workers.</summary>
    public static Task SetShadowAsync(this IModelRegistry registry, string survey, ActivePointer? shadow, PromotionRecord record, CancellationToken cancellationToken = default) =>
        registry.SetShadowAsync([new ShadowMove(survey, shadow, record)], cancellationToken);
}
