using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;
using StackExchange.Redis;

namespace AlertBroker.Web;

/// <summary>Where the recent classifications come from.</summary>
internal interface IRecentSource
{
    string Description { get; }

    Task<IReadOnlyList<RecentClassification>> LatestAsync(int count, CancellationToken cancellationToken);
}

/// <summary>The recent classifications of the worker this web view runs in.</summary>
internal sealed class InProcessRecentSource(RecentClassificationLog log) : IRecentSource
{
    public string Description => "this worker (in process)";

    public Task<IReadOnlyList<RecentClassification>> LatestAsync(int count, CancellationToken cancellationToken) =>
        Task.FromResult(log.Latest(count));
}

/// <summary>The capped list the workers keep in the state store's Redis (<see cref="RedisRecentClassifications"/>).</summary>
internal sealed class RedisRecentSource(IConnectionMultiplexer redis, string keyPrefix) : IRecentSource
{
    public string Description => "Redis list " + RedisRecentClassifications.Key(keyPrefix);

    public Task<IReadOnlyList<RecentClassification>> LatestAsync(int count, CancellationToken cancellationToken) =>
        RedisRecentClassifications.ReadAsync(redis.GetDatabase(), keyPrefix, count);
}

/// <summary>No source: the list is empty (e.g. <c>serve</c> without a state store).</summary>
internal sealed class NoRecentSource(string why) : IRecentSource
{
    public string Description => why;

    public Task<IReadOnlyList<RecentClassification>> LatestAsync(int count, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RecentClassification>>([]);
}

/// <summary>Where the overview's live numbers come from.</summary>
internal interface IStatisticsSource
{
    /// <summary>"worker" (this process's metrics) or "heartbeats" (the registry's worker heartbeats).</summary>
    string Kind { get; }

    /// <summary>One entry per worker: its id and numbers (a worker without numbers has null statistics).</summary>
    Task<IReadOnlyList<WorkerNumbers>> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>One worker's numbers: full in process, the heartbeat's summary otherwise.</summary>
internal sealed record WorkerNumbers(string WorkerId, string? Model, DateTimeOffset Utc, HeartbeatStatistics? Summary, WorkerStatisticsSnapshot? Full, string? LastError);

/// <summary>The statistics of the worker this web view runs in.</summary>
internal sealed class InProcessStatisticsSource(WorkerStatistics statistics, string workerId) : IStatisticsSource
{
    public string Kind => "worker";

    public Task<IReadOnlyList<WorkerNumbers>> ReadAsync(CancellationToken cancellationToken)
    {
        var s = statistics.Snapshot();

        // As the worker's heartbeat names them: one model, or "lsst=…, ztf=…" when the surveys have different ones (the
        // overview named whichever active gauge was read last).
        var active = s.Serving.Where(m => m.Role == "active").ToList();
        var distinct = active.Select(m => m.Name + "@" + m.Version).Distinct(StringComparer.Ordinal).ToList();
        var model = distinct.Count switch
        {
            0 => s.ModelName is null ? null : s.ModelName + "@" + s.ModelVersion,
            1 => distinct[0],
            _ => string.Join(", ", active.OrderBy(m => m.Survey, StringComparer.Ordinal).Select(m => m.Survey + "=" + m.Name + "@" + m.Version)),
        };
        return Task.FromResult<IReadOnlyList<WorkerNumbers>>([new WorkerNumbers(workerId, model, s.Utc, s.ToHeartbeat(), s, null)]);
    }
}

/// <summary>The fleet's numbers from the heartbeats workers write to the model registry every few seconds.</summary>
internal sealed class HeartbeatStatisticsSource(IModelRegistry? registry) : IStatisticsSource
{
    /// <summary>Heartbeats older than this are not counted (a worker writes one every 5 s).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    public string Kind => "heartbeats";

    public async Task<IReadOnlyList<WorkerNumbers>> ReadAsync(CancellationToken cancellationToken)
    {
        if (registry is null)
        {
            return [];
        }

        var workers = await registry.GetWorkersAsync(MaxAge, cancellationToken).ConfigureAwait(false);
        return workers.Select(w => new WorkerNumbers(w.WorkerId, w.Model, w.Utc, w.Statistics, null, w.LastError)).ToList();
    }
}

/// <summary>Everything the web view reads, chosen by how it runs (in a worker, alone, in the demo).</summary>
internal sealed class WebSources : IDisposable
{
    private OverviewSnapshot? _overview;
    private int _streams;
    private Exception? _lastReported;

    /// <summary>"worker", "serve" or "demo".</summary>
    public required string Mode { get; init; }

    public required IStatisticsSource Statistics { get; init; }

    public required IRecentSource Recent { get; init; }

    /// <summary>The object states, or null when none is configured.</summary>
    public IObjectStateStore? Store { get; init; }

    public string StoreDescription { get; init; } = "none";

    public IModelRegistry? Registry { get; init; }

    public string? RegistryDescription { get; init; }

    /// <summary>The registry's own Redis connection, when the registry is in Redis (to fail at once while it is down).</summary>
    public IConnectionMultiplexer? RegistryConnection { get; init; }

    /// <summary>The models a worker without a registry serves, per survey and role (active, shadow): shown when there is no registry.</summary>
    public Func<IReadOnlyList<ServingModel>>? FixedModels { get; init; }

    public required ModelLibrary Models { get; init; }

    public double RefreshSeconds { get; init; } = 2;

    /// <summary>The most overview event streams open at once (<c>AlertBroker:Web:MaxStreamClients</c>); more are answered 503.</summary>
    public int MaxStreamClients { get; init; } = 100;

    /// <summary>The object pages' probability histories: how many run at once, and the last ones kept.</summary>
    public HistoryComputations History { get; init; } = new(HistoryComputations.DefaultSlots, capacity: 32, wait: TimeSpan.FromSeconds(10));

    /// <summary>The clock the shared overview's age is measured with.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The overview every client shares (computed at most once at a time, reused for <see cref="RefreshSeconds"/>).</summary>
    public OverviewSnapshot Overview => LazyInitializer.EnsureInitialized(ref _overview, () => new OverviewSnapshot(ct => WebApi.OverviewAsync(this, ct), TimeSpan.FromSeconds(RefreshSeconds), Time));

    /// <summary>Takes one of the <see cref="MaxStreamClients"/> stream slots, or null when all are taken; disposing it frees the slot.</summary>
    public IDisposable? TryOpenStream()
    {
        if (Interlocked.Increment(ref _streams) > MaxStreamClients)
        {
            Interlocked.Decrement(ref _streams);
            return null;
        }

        return new StreamSlot(this);
    }

    /// <summary>
    /// Whether <paramref name="e"/> was not reported before: the shared overview's failure reaches every open stream as the
    /// same exception, which is logged once.
    /// </summary>
    public bool FirstReportOf(Exception e) => !ReferenceEquals(Interlocked.Exchange(ref _lastReported, e), e);

    /// <summary>Disposed with the sources (connections and stores this view opened itself).</summary>
    public IReadOnlyList<IDisposable> Owned { get; init; } = [];

    /// <summary>
    /// Why the pages that read the state store cannot answer now (its Redis does not answer: they answer 503 until it does,
    /// the connection is retried in the background), or null. <c>serve</c> says it at start.
    /// </summary>
    public string? StoreNotAnswering() => Store is RedisObjectStateStore { Connection.IsConnected: false }
        ? "the state store (" + StoreDescription + ") does not answer yet: object pages and recent classifications answer 503 until it does (retried in the background)"
        : null;

    /// <summary>
    /// Fails at once while the state store's Redis is not connected (a 503 through the API's filter): every read would
    /// otherwise wait out the client's timeout (5 s) before failing, each page request holding a connection meanwhile.
    /// </summary>
    public void ThrowIfStoreDisconnected()
    {
        if (Store is RedisObjectStateStore { Connection.IsConnected: false })
        {
            throw new StateStoreUnavailableException("the state store (" + StoreDescription + ") is not connected (reconnecting in the background)");
        }
    }

    /// <summary>As <see cref="ThrowIfStoreDisconnected"/>, for the model registry's Redis.</summary>
    public void ThrowIfRegistryDisconnected()
    {
        if (RegistryConnection is { IsConnected: false })
        {
            throw new RegistryException("the model registry (" + RegistryDescription + ") is not connected (reconnecting in the background)");
        }
    }

    public void Dispose()
    {
        Models.Dispose();
        History.Dispose();
        foreach (var d in Owned)
        {
            d.Dispose();
        }
    }

    private sealed class StreamSlot(WebSources sources) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref sources._streams);
            }
        }
    }
}
