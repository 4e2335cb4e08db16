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
/// A batch's hold on the model it scores with: the model cannot be disposed while a batch uses it, and every
/// classification of the batch is tagged with this one model — a batch never mixes versions.
/// </summary>
public readonly struct ModelLease : IDisposable
{
    internal ModelLease(LoadedModel model) => Model = model;

    public LoadedModel Model { get; }

    public void Dispose() => Model?.Release();
}

/// <summary>Options for <see cref="ActiveModelWatcher"/>.</summary>
public sealed record ActiveModelWatcherOptions
{
    public string WorkerId { get; init; } = Environment.MachineName + "-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How often the pointer is checked even without a notification, so a missed message cannot leave a worker behind.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    public OnnxSessionOptions SessionOptions { get; init; } = new();

    /// <summary>What the heartbeat reports of the worker's throughput (none when null).</summary>
    public Func<HeartbeatStatistics?>? Statistics { get; init; }
}

/// <summary>Registries that can push pointer changes (Redis pub/sub); others are polled.</summary>
public interface IModelRegistryNotifications
{
    Task SubscribeAsync(Action<ActivePointer> onChange);
}

/// <summary>
/// Keeps a worker on the registry's active model: learns of promotions (notification, plus a periodic check),
/// downloads and verifies the bytes, loads and warms the new session in the background, and makes it current for
/// the next batch. A model that fails to load never replaces a working one; the failure is kept in
/// <see cref="LastError"/>, logged, and reported in the worker's heartbeat.
/// </summary>
public sealed class ActiveModelWatcher : IAsyncDisposable
{
    private readonly IModelRegistry _registry;
    private readonly ActiveModelWatcherOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _checkLock = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stop = new();
    private LoadedModel? _current;
    private string? _refusedIdentity;
    private Task? _loop;

    public ActiveModelWatcher(IModelRegistry registry, ActiveModelWatcherOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _options = options ?? new ActiveModelWatcherOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The model now used for new batches, or null before the first successful load.</summary>
    public LoadedModel? Current => Volatile.Read(ref _current);

    /// <summary>The last refusal (hash mismatch, load failure, unsupported encoding), cleared by the next successful switch.</summary>
    public string? LastError { get; private set; }

    /// <summary>How many times the current model changed.</summary>
    public int Switches { get; private set; }

    /// <summary>Raised after a switch (from the watcher's thread).</summary>
    public event Action<LoadedModel>? Switched;

    /// <summary>Raised when an active model is refused (hash mismatch, load failure, unsupported encoding); the argument says why.</summary>
    public event Action<string>? Refused;

    /// <summary>Loads the active model (if any), then keeps watching in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await CheckNowAsync(cancellationToken).ConfigureAwait(false);
        if (_registry is IModelRegistryNotifications notifications)
        {
            await notifications.SubscribeAsync(_ => _wake.Release()).ConfigureAwait(false);
        }

        _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Takes a lease on the current model for one batch; null when no model is loaded.</summary>
    public ModelLease? Acquire()
    {
        while (true)
        {
            var model = Volatile.Read(ref _current);
            if (model is null)
            {
                return null;
            }

            if (model.TryAcquire())
            {
                return new ModelLease(model);
            }
        }
    }

    /// <summary>Compares the registry's pointer with the loaded model and switches if it changed.</summary>
    public async Task CheckNowAsync(CancellationToken cancellationToken = default)
    {
        await _checkLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var active = await _registry.GetActiveAsync(cancellationToken).ConfigureAwait(false);
            var identity = PackageDescriptions.Identity(active);
            var current = Current;
            if (active is null || (current is not null && current.Ref == active.Ref && current.Sha256 == active.Sha256) || identity == _refusedIdentity)
            {
                return;
            }

            Log.LoadingModel(_logger, active.Ref.ToString(), active.Sha256);
            LoadedModel next;
            try
            {
                next = await Task.Run(() => LoadAndWarm(active, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RegistryException or ModelPackageException or OnnxRuntimeException)
            {
                _refusedIdentity = identity;
                LastError = $"{active.Ref}: {e.Message}";
                Log.RefusedModel(_logger, active.Ref.ToString(), current?.Ref.ToString() ?? "(none)", e.Message);
                Refused?.Invoke(LastError);
                return;
            }

            var previous = Interlocked.Exchange(ref _current, next);
            previous?.Retire();
            _refusedIdentity = null;
            LastError = null;
            Switches++;
            Log.SwitchedModel(_logger, next.Ref.ToString(), previous?.Ref.ToString() ?? "(none)");
            Switched?.Invoke(next);
        }
        finally
        {
            _checkLock.Release();
        }
    }

    /// <summary>Reports this worker's model (and any refusal) to the registry.</summary>
    public Task ReportHeartbeatAsync(CancellationToken cancellationToken = default)
    {
        var current = Current;
        return _registry.ReportHeartbeatAsync(
            new WorkerHeartbeat
            {
                WorkerId = _options.WorkerId,
                Model = current?.Ref.ToString(),
                Sha256 = current?.Sha256,
                LastError = LastError,
                Utc = DateTimeOffset.UtcNow,
                Statistics = _options.Statistics?.Invoke(),
            },
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
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

        Interlocked.Exchange(ref _current, null)?.Retire();
        _stop.Dispose();
        _checkLock.Dispose();
        _wake.Dispose();
    }

    private LoadedModel LoadAndWarm(ActivePointer active, CancellationToken cancellationToken)
    {
        var bytes = _registry.GetPackageAsync(active.Ref, cancellationToken).GetAwaiter().GetResult();
        var sha = ModelPackage.ComputeSha256(bytes.Onnx);
        if (!string.Equals(sha, active.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException($"downloaded model.onnx has SHA-256 {sha}, the active pointer says {active.Sha256}");
        }

        var package = ModelPackage.Load(bytes.Manifest, bytes.Onnx, LightCurveEncoding.Supported, _options.SessionOptions, active.Ref.ToString());
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
                Log.RegistryCheckFailed(_logger, e.Message);
            }

            if (DateTime.UtcNow >= nextHeartbeat)
            {
                nextHeartbeat = DateTime.UtcNow + _options.HeartbeatInterval;
                try
                {
                    await ReportHeartbeatAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.HeartbeatFailed(_logger, e.Message);
                }
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
