using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlertBroker.Registry;

/// <summary>A model loaded and warmed, ready to score.</summary>
public sealed class LoadedModel : IDisposable
{
    private int _leases;
    private int _retired;
    private int _disposed;

    internal LoadedModel(ModelRef model, ModelPackage package)
    {
        Ref = model;
        Package = package;
        Scorer = new BatchScorer(package);
    }

    public ModelRef Ref { get; }

    public ModelPackage Package { get; }

    public BatchScorer Scorer { get; }

    public string Sha256 => Package.Sha256;

    /// <summary>"name@version#sha256", as compare-and-set names a pointer.</summary>
    public string Identity => Ref + "#" + Sha256;

    /// <summary>"name@version#sha256[..12]", as shadow statistics name a model (<see cref="ActivePointer.ShortIdentity"/>).</summary>
    public string ShortIdentity => Ref + "#" + Sha256[..Math.Min(12, Sha256.Length)];

    internal bool TryAcquire()
    {
        Interlocked.Increment(ref _leases);
        if (Volatile.Read(ref _retired) == 0)
        {
            return true;
        }

        Release();
        return false;
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0 && Volatile.Read(ref _retired) == 1)
        {
            DisposeOnce();
        }
    }

    /// <summary>No new leases; the session is disposed when the last lease ends.</summary>
    internal void Retire()
    {
        // A full fence: the lease count read below must not move before this write (TryAcquire pairs with it).
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _leases) == 0)
        {
            DisposeOnce();
        }
    }

    public void Dispose() => Retire();

    private void DisposeOnce()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Scorer.Dispose();
            Package.Dispose();
        }
    }
}

/// <summary>
/// What a worker scores with at one moment: each survey's active model and shadow model, and the registry's metadata source
/// declarations. Immutable; the watcher swaps in a new one when anything changes, so a batch that took a lease sees one
/// consistent set for its whole run.
/// </summary>
public sealed class WatchedModels
{
    internal WatchedModels(IReadOnlyDictionary<string, LoadedModel> active, IReadOnlyDictionary<string, LoadedModel> shadows, IReadOnlyList<MetadataSourceDeclaration> metadataSources)
    {
        Active = active;
        Shadows = shadows;
        MetadataSources = metadataSources;
        var distinct = new List<LoadedModel>();
        foreach (var m in active.Values.Concat(shadows.Values))
        {
            if (!distinct.Contains(m))
            {
                distinct.Add(m);
            }
        }

        Distinct = distinct;
    }

    /// <summary>Nothing loaded.</summary>
    public static WatchedModels Empty { get; } = new(new Dictionary<string, LoadedModel>(), new Dictionary<string, LoadedModel>(), []);

    /// <summary>Survey → the model its alerts are classified with.</summary>
    public IReadOnlyDictionary<string, LoadedModel> Active { get; }

    /// <summary>Survey → the candidate also scored on its alerts.</summary>
    public IReadOnlyDictionary<string, LoadedModel> Shadows { get; }

    /// <summary>The registry's metadata source declarations when the set was made.</summary>
    public IReadOnlyList<MetadataSourceDeclaration> MetadataSources { get; }

    /// <summary>Every model in the set once (a model serving several surveys is one session).</summary>
    public IReadOnlyList<LoadedModel> Distinct { get; }

    public bool IsEmpty => Distinct.Count == 0;
}

/// <summary>
/// A batch's hold on the models it scores with: none of them can be disposed while the batch uses them, and every
/// classification of the batch is tagged with the one model its survey had when the batch started — a batch never mixes
/// versions of a survey's model.
/// </summary>
public sealed class ModelSetLease : IDisposable
{
    private List<LoadedModel>? _held;

    internal ModelSetLease(WatchedModels models, List<LoadedModel> held)
    {
        Models = models;
        _held = held;
    }

    public WatchedModels Models { get; }

    public void Dispose()
    {
        var held = Interlocked.Exchange(ref _held, null);
        if (held is not null)
        {
            foreach (var m in held)
            {
                m.Release();
            }
        }
    }
}

/// <summary>Decides whether a model may serve a survey in this worker (e.g. its metadata sources are available); returns the problem, or null.</summary>
/// <param name="survey">The survey.</param>
/// <param name="role"><see cref="PointerRoles.Active"/> or <see cref="PointerRoles.Shadow"/>.</param>
/// <param name="manifest">The model's manifest.</param>
/// <param name="declarations">The registry's metadata source declarations.</param>
public delegate string? ModelServeCheck(string survey, string role, ModelManifest manifest, IReadOnlyList<MetadataSourceDeclaration> declarations);

/// <summary>Options for <see cref="ActiveModelWatcher"/>.</summary>
public sealed record ActiveModelWatcherOptions
{
    public string WorkerId { get; init; } = Environment.MachineName + "-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How often the pointers are checked even without a notification, so a missed message cannot leave a worker behind.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the heartbeat is reported and shadow statistics are flushed to the registry.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    public OnnxSessionOptions SessionOptions { get; init; } = new();

    /// <summary>Whether a model may serve a survey here (the worker checks its metadata sources); null: every model may.</summary>
    public ModelServeCheck? CanServe { get; init; }

    /// <summary>Shadow statistics recorded by the worker, flushed to the registry every <see cref="HeartbeatInterval"/>.</summary>
    public ShadowStatisticsAccumulator? ShadowStatistics { get; init; }
    /// <summary>What the heartbeat reports of the worker's throughput (none when null).</summary>
    public Func<HeartbeatStatistics?>? Statistics { get; init; }
}

/// <summary>One change the watcher applied: a survey's active or shadow model (null when a shadow was cleared).</summary>
public sealed record ModelSwitch(string Survey, string Role, LoadedModel? Model, LoadedModel? Previous);

/// <summary>Registries that can push changes (Redis pub/sub); others are polled.</summary>
public interface IModelRegistryNotifications
{
    Task SubscribeAsync(Action<RegistryEvent> onChange);
}

/// <summary>
/// Keeps a worker on the registry's models, survey by survey: learns of promotions, rollbacks, shadows and metadata
/// changes (notification, plus a periodic check), downloads and verifies the bytes, loads and warms a new session in the
/// background, and makes it current for the next batch — only for the survey whose pointer moved; the other surveys keep
/// their models (and so their incremental states). A model that fails to load, or that may not serve a survey here
/// (<see cref="ActiveModelWatcherOptions.CanServe"/>), never replaces a working one; the failure is kept in
/// <see cref="Errors"/>, logged, and reported in the worker's heartbeat. A model pointed to by several surveys is loaded once.
/// </summary>
public sealed class ActiveModelWatcher : IAsyncDisposable
{
    private readonly IModelRegistry _registry;
    private readonly ActiveModelWatcherOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _checkLock = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;
    private readonly Dictionary<(string Survey, string Role), string> _refused = [];
    private readonly Dictionary<string, string> _errors = new(StringComparer.Ordinal);
    private WatchedModels _models = WatchedModels.Empty;
    private IReadOnlyDictionary<ShadowPair, ShadowStatistics> _statistics = new Dictionary<ShadowPair, ShadowStatistics>();
    private Task? _loop;

    public ActiveModelWatcher(IModelRegistry registry, ActiveModelWatcherOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _options = options ?? new ActiveModelWatcherOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    public IModelRegistry Registry => _registry;

    /// <summary>The models used for new batches (empty before the first successful load).</summary>
    public WatchedModels Models => Volatile.Read(ref _models);

    /// <summary>The shadow statistics of the current comparisons, aggregated over all workers, as read after the last flush.</summary>
    public IReadOnlyDictionary<ShadowPair, ShadowStatistics> ShadowStatistics => Volatile.Read(ref _statistics);

    /// <summary>Refusals still in force, by survey ("ztf", or "ztf shadow"); cleared when that survey's next model loads.</summary>
    public IReadOnlyDictionary<string, string> Errors
    {
        get
        {
            lock (_errors)
            {
                return new Dictionary<string, string>(_errors, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>The refusals in force, joined, or null.</summary>
    public string? LastError
    {
        get
        {
            var errors = Errors;
            return errors.Count == 0 ? null : string.Join("; ", errors.Values);
        }
    }

    /// <summary>How many survey models (active or shadow) were switched.</summary>
    public int Switches { get; private set; }

    private long _heartbeats;

    /// <summary>Raised after each switch of one survey's model (from the watcher's thread).</summary>
    public event Action<ModelSwitch>? Switched;

    /// <summary>Raised when a model is refused (hash mismatch, load failure, unsupported encoding, missing metadata source); the argument says why.</summary>
    public event Action<string>? Refused;

    /// <summary>
    /// Raised when a survey's shadow statistics record cannot be read (damaged: <see cref="ShadowStatistics.Problem"/>), at
    /// each flush that meets it; the argument says which record and why. The comparison is left out of the gauges.
    /// </summary>
    public event Action<string>? ShadowStatisticsDamaged;

    /// <summary>Raised after the set of models or the metadata declarations changed.</summary>
    public event Action<WatchedModels>? Changed;

    /// <summary>The model the survey's alerts are classified with now, or null.</summary>
    public LoadedModel? CurrentFor(string survey) => Models.Active.GetValueOrDefault(survey);

    /// <summary>The survey's shadow model now, or null.</summary>
    public LoadedModel? ShadowFor(string survey) => Models.Shadows.GetValueOrDefault(survey);

    /// <summary>Loads the active models (if any), then keeps watching in the background.</summary>
    /// <exception cref="RegistryException">a registry key holds a value of the wrong Redis type (named, with the way out).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await CheckNowAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StackExchange.Redis.RedisServerException e) when (AlertBroker.Redis.RedisErrors.IsWrongType(e))
        {
            // A worker started on such a registry ended "fatal: RedisServerException: WRONGTYPE …" (exit 70), naming no key.
            throw new RegistryException(await DescribeCheckFailureAsync(e, cancellationToken).ConfigureAwait(false), e);
        }

        if (_registry is IModelRegistryNotifications notifications)
        {
            await notifications.SubscribeAsync(_ => _wake.Release()).ConfigureAwait(false);
        }

        _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Takes a lease on every current model for one batch; null when no model is loaded.</summary>
    public ModelSetLease? Acquire()
    {
        while (true)
        {
            var models = Volatile.Read(ref _models);
            if (models.IsEmpty)
            {
                return null;
            }

            var held = new List<LoadedModel>(models.Distinct.Count);
            foreach (var m in models.Distinct)
            {
                if (!m.TryAcquire())
                {
                    break;
                }

                held.Add(m);
            }

            if (held.Count == models.Distinct.Count)
            {
                return new ModelSetLease(models, held);
            }

            // A model was retired between reading the set and leasing it: a newer set is in place; take that one.
            foreach (var m in held)
            {
                m.Release();
            }
        }
    }

    /// <summary>Compares the registry's pointers with the loaded models and switches the surveys whose pointer changed.</summary>
    public async Task CheckNowAsync(CancellationToken cancellationToken = default)
    {
        await _checkLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var snapshot = await _registry.GetSnapshotAsync(cancellationToken).ConfigureAwait(false);
            var current = Models;
            var loaded = current.Distinct.ToDictionary(m => m.Identity, StringComparer.Ordinal);
            var fresh = new List<LoadedModel>();
            var active = new Dictionary<string, LoadedModel>(current.Active, StringComparer.Ordinal);
            var shadows = new Dictionary<string, LoadedModel>(current.Shadows, StringComparer.Ordinal);
            var switches = new List<ModelSwitch>();
            var metadataChanged = RegistryJson.Serialize(snapshot.MetadataSources) != RegistryJson.Serialize(current.MetadataSources);
            if (metadataChanged)
            {
                // A model refused for its metadata may serve under the new declarations: every refusal is tried again (it
                // stuck until a restart, or until another model was promoted first).
                _refused.Clear();
            }

            foreach (var (survey, pointers) in snapshot.Surveys)
            {
                await ApplyAsync(survey, PointerRoles.Active, pointers.Active, active, loaded, fresh, snapshot.MetadataSources, metadataChanged, switches, cancellationToken).ConfigureAwait(false);
                await ApplyAsync(survey, PointerRoles.Shadow, pointers.Shadow, shadows, loaded, fresh, snapshot.MetadataSources, metadataChanged, switches, cancellationToken).ConfigureAwait(false);
            }

            foreach (var survey in shadows.Keys.Where(s => !snapshot.Surveys.ContainsKey(s)).ToList())
            {
                switches.Add(new ModelSwitch(survey, PointerRoles.Shadow, null, shadows[survey]));
                shadows.Remove(survey);
            }

            if (switches.Count == 0 && !metadataChanged)
            {
                foreach (var m in fresh)
                {
                    m.Retire();
                }

                return;
            }

            var next = new WatchedModels(active, shadows, snapshot.MetadataSources);
            Volatile.Write(ref _models, next);

            // Sessions no survey uses any more are disposed once the batches holding them finish.
            foreach (var m in current.Distinct.Concat(fresh))
            {
                if (!next.Distinct.Contains(m))
                {
                    m.Retire();
                }
            }

            foreach (var change in switches)
            {
                Switches++;
                Log.SwitchedModel(_logger, change.Survey + (change.Role == PointerRoles.Shadow ? " shadow" : string.Empty), change.Model?.Ref.ToString() ?? "(none)", change.Previous?.Ref.ToString() ?? "(none)");
                Switched?.Invoke(change);
            }

            Changed?.Invoke(next);
        }
        finally
        {
            _checkLock.Release();
        }
    }

    /// <summary>Reports this worker's models (and any refusal) to the registry.</summary>
    public Task ReportHeartbeatAsync(CancellationToken cancellationToken = default)
    {
        var models = Models;
        var surveys = models.Active.ToDictionary(kv => kv.Key, kv => kv.Value.Ref.ToString(), StringComparer.Ordinal);
        var single = models.Active.Values.Distinct().ToList();
        return _registry.ReportHeartbeatAsync(
            new WorkerHeartbeat
            {
                WorkerId = _options.WorkerId,
                Model = single.Count == 0 ? null : single.Count == 1 ? single[0].Ref.ToString() : string.Join(", ", surveys.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)),
                Sha256 = single.Count == 1 ? single[0].Sha256 : null,
                Surveys = surveys,
                Shadows = models.Shadows.ToDictionary(kv => kv.Key, kv => kv.Value.Ref.ToString(), StringComparer.Ordinal),
                LastError = LastError,
                Utc = DateTimeOffset.UtcNow,
                Statistics = _options.Statistics?.Invoke(),
            },
            cancellationToken);
    }

    /// <summary>Adds the worker's shadow statistics to the registry's, then reads back the aggregated statistics of the current comparisons.</summary>
    public async Task FlushShadowStatisticsAsync(CancellationToken cancellationToken = default)
    {
        var unwritable = new HashSet<ShadowPair>();
        if (_options.ShadowStatistics is { } accumulator)
        {
            var drained = accumulator.Drain();
            for (var i = 0; i < drained.Count; i++)
            {
                try
                {
                    await _registry.AddShadowStatisticsAsync(drained[i].Key, drained[i].Value, cancellationToken).ConfigureAwait(false);
                }
                catch (RegistryException e) when (e.DamagedRecord)
                {
                    // A record that cannot take the increments (a field that is not a number, a key or file of another
                    // kind) keeps them here until it is repaired or removed; the other comparisons are added and read all
                    // the same (until 2026-12-07 the whole flush failed on it, every 5 s, and no comparison's gauges moved).
                    accumulator.Restore([drained[i]]);
                    unwritable.Add(drained[i].Key);
                    Log.ShadowStatisticsDamaged(_logger, e.Message);
                    ShadowStatisticsDamaged?.Invoke(e.Message);
                }
                catch
                {
                    accumulator.Restore(drained.Skip(i));
                    throw;
                }
            }
        }

        var models = Models;
        var statistics = new Dictionary<ShadowPair, ShadowStatistics>();
        foreach (var (survey, shadow) in models.Shadows)
        {
            if (models.Active.TryGetValue(survey, out var active))
            {
                var pair = new ShadowPair(survey, shadow.ShortIdentity, active.ShortIdentity);
                if (unwritable.Contains(pair))
                {
                    continue; // said above, once
                }

                try
                {
                    if (await _registry.GetShadowStatisticsAsync(pair, cancellationToken).ConfigureAwait(false) is { } s)
                    {
                        statistics[pair] = s;
                    }
                }
                catch (RegistryException e) when (e.DamagedRecord)
                {
                    // This worker's increments were added; only the read-back failed. A damaged record (a hand edit: −3
                    // alerts, more agreed than compared) is left out of the gauges, not shown as a made-up agreement, and
                    // the other surveys' comparisons are read all the same (until 2026-12-07 it was read as it was).
                    Log.ShadowStatisticsDamaged(_logger, e.Message);
                    ShadowStatisticsDamaged?.Invoke(e.Message);
                }
            }
        }

        Volatile.Write(ref _statistics, statistics);
    }

    /// <summary>Stops the watcher, flushes what the shadow statistics hold and retires the models; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        try
        {
            // What was recorded since the last flush is not lost on a clean stop.
            await FlushShadowStatisticsAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.ShadowStatisticsFailed(_logger, await DescribeWriteFailureAsync(e, (_registry as RedisModelRegistry)?.StatisticsKeysName, CancellationToken.None).ConfigureAwait(false));
        }

        if (_loop is not null)
        {
            try
            {
                // A worker that stops cleanly leaves no heartbeat behind (they piled up, one per pod or process id).
                await _registry.RemoveHeartbeatAsync(_options.WorkerId, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.HeartbeatFailed(_logger, await DescribeWriteFailureAsync(e, (_registry as RedisModelRegistry)?.WorkersKeyName, CancellationToken.None).ConfigureAwait(false));
            }
        }

        foreach (var m in Interlocked.Exchange(ref _models, WatchedModels.Empty).Distinct)
        {
            m.Retire();
        }

        _stop.Dispose();
        _checkLock.Dispose();
        _wake.Dispose();
    }

    private async Task ApplyAsync(
        string survey,
        string role,
        ActivePointer? pointer,
        Dictionary<string, LoadedModel> map,
        Dictionary<string, LoadedModel> loaded,
        List<LoadedModel> fresh,
        IReadOnlyList<MetadataSourceDeclaration> declarations,
        bool metadataChanged,
        List<ModelSwitch> switches,
        CancellationToken cancellationToken)
    {
        map.TryGetValue(survey, out var have);
        var key = role == PointerRoles.Shadow ? survey + " shadow" : survey;
        if (pointer is null)
        {
            // A cleared shadow stops; an active pointer is never removed (a survey keeps its last model). A refusal of the
            // pointer that was there is over: the same shadow set again later is tried again (it stuck: "shadows nothing").
            if (role == PointerRoles.Shadow && have is not null)
            {
                map.Remove(survey);
                switches.Add(new ModelSwitch(survey, role, null, have));
            }

            _refused.Remove((survey, role));
            ClearError(key);
            return;
        }

        var identity = PackageDescriptions.Identity(pointer);
        if (have is not null && have.Identity == identity)
        {
            // The registry names the model held (a rollback from one this worker refused): that refusal is over, so the
            // refused model promoted again is tried again (it stuck until a restart).
            if (_refused.Remove((survey, role)))
            {
                ClearError(key);
            }

            // Declarations changed under the model held: said when it may no longer serve here. Its alerts are then
            // classified without probabilities, stored, until a source supplies what it requires (AlertBatchProcessor).
            if (metadataChanged)
            {
                if (_options.CanServe?.Invoke(survey, role, have.Package.Manifest, declarations) is { } lost)
                {
                    var error = $"{pointer.Ref} may no longer serve {survey} here: {lost}; its alerts are stored and classified without probabilities until the metadata is supplied";
                    lock (_errors)
                    {
                        _errors[key] = error;
                    }

                    Log.ModelMayNoLongerServe(_logger, key, error);
                    Refused?.Invoke(error);
                }
                else
                {
                    ClearError(key);
                }
            }

            return;
        }

        if (_refused.GetValueOrDefault((survey, role)) == identity)
        {
            return;
        }

        if (!loaded.TryGetValue(identity, out var model))
        {
            Log.LoadingModel(_logger, pointer.Ref.ToString(), pointer.Sha256);
            try
            {
                model = await Task.Run(() => LoadAndWarm(pointer, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RegistryException or ModelPackageException or OnnxRuntimeException)
            {
                Refuse(survey, role, key, identity, $"{pointer.Ref}: {e.Message}", have);
                return;
            }

            loaded[identity] = model;
            fresh.Add(model);
        }

        if (_options.CanServe?.Invoke(survey, role, model.Package.Manifest, declarations) is { } problem)
        {
            Refuse(survey, role, key, identity, $"{pointer.Ref} may not serve {survey} here: {problem}", have);
            return;
        }

        map[survey] = model;
        _refused.Remove((survey, role));
        ClearError(key);
        switches.Add(new ModelSwitch(survey, role, model, have));
    }

    private void Refuse(string survey, string role, string key, string identity, string error, LoadedModel? current)
    {
        _refused[(survey, role)] = identity;
        lock (_errors)
        {
            _errors[key] = error;
        }

        Log.RefusedModel(_logger, key, error, current?.Ref.ToString() ?? "(none)");
        Refused?.Invoke(error);
    }

    private void ClearError(string key)
    {
        lock (_errors)
        {
            _errors.Remove(key);
        }
    }

    private LoadedModel LoadAndWarm(ActivePointer active, CancellationToken cancellationToken)
    {
        var bytes = _registry.GetPackageAsync(active.Ref, cancellationToken).GetAwaiter().GetResult();
        var sha = ModelPackage.ComputeSha256(bytes.Onnx);
        if (!string.Equals(sha, active.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException($"downloaded model.onnx has SHA-256 {sha}, the pointer says {active.Sha256}");
        }

        // The smoke batch as the promotion gate runs it: a pointer set behind the gate's back to a package whose output is
        // not a probability distribution is refused here, and the worker keeps the model it has.
        var package = ModelPackager.Verified(ModelPackage.Load(bytes.Manifest, bytes.Onnx, LightCurveEncoding.Supported, _options.SessionOptions, active.Ref.ToString()), active.Ref.ToString());
        var model = new LoadedModel(active.Ref, package);

        // Warm: the first Run allocates ORT's arenas and JITs our paths; do it here, not in a live batch.
        try
        {
            var d = model.Scorer.Dimensions;
            model.Scorer.Score([new ScoringRequest(new float[d.InputFeatures], new float[d.MetaFeatures], ReadOnlyMemory<float>.Empty)]);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return model;
    }

    /// <summary>
    /// A failed check in one line: the client's diagnostics left out; Redis's WRONGTYPE (which names no key) with the
    /// registry keys of the wrong type, as <c>models</c> commands say it.
    /// </summary>
    private async Task<string> DescribeCheckFailureAsync(Exception e, CancellationToken cancellationToken)
    {
        var said = AlertBroker.Redis.RedisErrors.Brief(e);
        if (!AlertBroker.Redis.RedisErrors.IsWrongType(e) || _registry is not RedisModelRegistry redis)
        {
            return said;
        }

        try
        {
            var mistyped = await redis.FindMistypedKeysAsync(cancellationToken).ConfigureAwait(false);
            return mistyped.Count == 0
                ? said
                : $"{said}: {string.Join("; ", mistyped)} (another program writes under the registry's prefix: give the registry a prefix of its own, AlertBroker:Model:RegistryPrefix)";
        }
        catch (Exception e2) when (e2 is StackExchange.Redis.RedisException or TimeoutException)
        {
            // A user whose ACL forbids SCAN or TYPE: the error is said without the key.
            return said;
        }
    }

    /// <summary>
    /// A failed heartbeat or statistics write in one line: a refusal to write (full, read-only) with its advice; WRONGTYPE
    /// with the registry keys of the wrong type; NOPERM with the key(s) <paramref name="written"/> (Redis names none).
    /// </summary>
    private async Task<string> DescribeWriteFailureAsync(Exception e, string? written, CancellationToken cancellationToken)
    {
        if (AlertBroker.Redis.RedisWriteRefusal.Describe(e) is { } refusal)
        {
            return refusal;
        }

        if (written is not null && AlertBroker.Redis.RedisErrors.IsNoPermission(e))
        {
            return $"{AlertBroker.Redis.RedisErrors.Brief(e)} ({written}: the registry's Redis user may not use it; its ACL needs the registry's keys)";
        }

        try
        {
            return await DescribeCheckFailureAsync(e, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return AlertBroker.Redis.RedisErrors.Brief(e);
        }
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        var nextHeartbeat = DateTime.UtcNow;
        while (!cancellationToken.IsCancellationRequested)
        {
            var wait = Min(_options.PollInterval, _options.HeartbeatInterval);
            try
            {
                await _wake.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
                await CheckNowAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.RegistryCheckFailed(_logger, await DescribeCheckFailureAsync(e, cancellationToken).ConfigureAwait(false));
            }

            if (DateTime.UtcNow >= nextHeartbeat)
            {
                nextHeartbeat = DateTime.UtcNow + _options.HeartbeatInterval;

                // Each on its own: another program's key at the workers hash stopped the shadow statistics too (they were
                // flushed after the heartbeat in one try), so a promotion requiring a shadow could never pass.
                try
                {
                    await ReportHeartbeatAsync(cancellationToken).ConfigureAwait(false);

                    // Workers killed without a clean stop leave their heartbeats, one per pod or process id, and every status
                    // and overview read reads them all: any live worker removes those a day old, once every 60 heartbeats.
                    if (_heartbeats++ % 60 == 0)
                    {
                        await _registry.PruneHeartbeatsAsync(StaleHeartbeatAge, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.HeartbeatFailed(_logger, await DescribeWriteFailureAsync(e, (_registry as RedisModelRegistry)?.WorkersKeyName, cancellationToken).ConfigureAwait(false));
                }

                try
                {
                    await FlushShadowStatisticsAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.ShadowStatisticsFailed(_logger, await DescribeWriteFailureAsync(e, (_registry as RedisModelRegistry)?.StatisticsKeysName, cancellationToken).ConfigureAwait(false));
                }
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>How old a heartbeat is before a live worker removes it (<see cref="IModelRegistry.PruneHeartbeatsAsync"/>).</summary>
    public static readonly TimeSpan StaleHeartbeatAge = TimeSpan.FromDays(1);
}
