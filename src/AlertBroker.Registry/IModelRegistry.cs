namespace AlertBroker.Registry;

/// <summary>
/// Where model versions, the active-model pointer, the promotion audit trail and worker heartbeats live.
/// Redis in production (workers need no shared file system); a local directory for the embedded mode.
/// </summary>
public interface IModelRegistry
{
    /// <summary>Stores a package's bytes and its description. Pushing the same version again with other bytes is refused.</summary>
    Task<RegisteredModel> PushAsync(ModelPackageBytes package, string pushedBy, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<RegisteredModel>> ListAsync(CancellationToken cancellationToken = default);

    Task<RegisteredModel?> GetAsync(ModelRef model, CancellationToken cancellationToken = default);

    /// <summary>The package's bytes, verified against the SHA-256 recorded at push time.</summary>
    Task<ModelPackageBytes> GetPackageAsync(ModelRef model, CancellationToken cancellationToken = default);

    Task<ActivePointer?> GetActiveAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the active pointer to <paramref name="next"/> when the current pointer still equals
    /// <paramref name="expectedCurrent"/> (compare-and-set), remembers the old one for rollback, appends
    /// <paramref name="record"/> to the audit trail and notifies the workers — all or nothing.
    /// </summary>
    Task SetActiveAsync(ActivePointer? expectedCurrent, ActivePointer next, PromotionRecord record, CancellationToken cancellationToken = default);

    /// <summary>The pointer a rollback would restore (the one before the current), or null.</summary>
    Task<ActivePointer?> GetPreviousAsync(CancellationToken cancellationToken = default);

    /// <summary>Restores the previous pointer when the current one still equals <paramref name="expectedCurrent"/>.</summary>
    Task<ActivePointer> RollbackAsync(ActivePointer expectedCurrent, PromotionRecord record, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<PromotionRecord>> GetAuditAsync(CancellationToken cancellationToken = default);

    Task ReportHeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default);

    /// <summary>Heartbeats newer than <paramref name="maxAge"/>.</summary>
    Task<IReadOnlyList<WorkerHeartbeat>> GetWorkersAsync(TimeSpan maxAge, CancellationToken cancellationToken = default);
}
