using AlertBroker.Registry;
using AlertBroker.Worker.Enrichment;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Worker.Scoring;

/// <summary>Hands each batch the models it scores with.</summary>
public interface IBatchModelSource
{
    /// <summary>The models for the batch about to start. Called once per batch, so a batch never mixes versions of a survey's model.</summary>
    ModelSet ForNextBatch();
}

/// <summary>Fixed model packages for the worker's lifetime, each serving the surveys it declares (or an explicit survey map).</summary>
public sealed class FixedModelSource : IBatchModelSource
{
    public FixedModelSource(ActiveModel model)
        : this(ModelSet.Of(model))
    {
    }

    public FixedModelSource(ModelSet models)
    {
        ArgumentNullException.ThrowIfNull(models);
        Models = models;
    }

    public ModelSet Models { get; }

    public ModelSet ForNextBatch() => Models;
}

/// <summary>
/// The registry's models, hot-swapped between batches survey by survey: an <see cref="ActiveModelWatcher"/> loads and warms
/// a promoted model in the background; the next batch takes a lease on the current set, and the previous batch's lease —
/// and with it any session no survey uses any more — is released only then. Batches are processed one at a time by the
/// Kafka loop, which is what makes "the batch before has finished" true at that point.
/// </summary>
public sealed class RegistryModelSource : IBatchModelSource, IAsyncDisposable
{
    private readonly ActiveModelWatcher _watcher;
    private readonly Action<ModelSet>? _onSwitch;
    private readonly Func<IReadOnlyList<MetadataSourceDeclaration>, MetadataSourceSet>? _metadata;
    private readonly WorkerMetrics? _metrics;
    private readonly Lock _gate = new();
    private readonly Dictionary<LoadedModel, ActiveModel> _wrappers = new(ReferenceEqualityComparer.Instance);
    private ModelSetLease? _lease;
    private ModelSet? _set;
    private IReadOnlyList<MetadataSourceDeclaration>? _declarations;
    private MetadataSourceSet _sources = MetadataSourceSet.Empty;
    private object? _statistics;

    /// <param name="watcher">The watcher that follows the registry.</param>
    /// <param name="onSwitch">Called with each new set of models (logging, metrics, health).</param>
    /// <param name="metadata">Opens the metadata sources for the registry's declarations (the worker's configuration decides the rest); none: no metadata.</param>
    /// <param name="metrics">Receives the aggregated shadow statistics the watcher reads back from the registry.</param>
    public RegistryModelSource(ActiveModelWatcher watcher, Action<ModelSet>? onSwitch = null, Func<IReadOnlyList<MetadataSourceDeclaration>, MetadataSourceSet>? metadata = null, WorkerMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        _watcher = watcher;
        _onSwitch = onSwitch;
        _metadata = metadata;
        _metrics = metrics;
    }

    public ActiveModelWatcher Watcher => _watcher;

    /// <summary>What <paramref name="models"/> serve, survey by survey, as the serving gauges take it (active first).</summary>
    public static IEnumerable<(string Survey, string Role, string Name, string Version)> Serving(WatchedModels models)
    {
        ArgumentNullException.ThrowIfNull(models);
        foreach (var (survey, m) in models.Active)
        {
            yield return (survey, "active", m.Ref.Name, m.Ref.Version);
        }

        foreach (var (survey, m) in models.Shadows)
        {
            yield return (survey, "shadow", m.Ref.Name, m.Ref.Version);
        }
    }

    public ModelSet ForNextBatch()
    {
        lock (_gate)
        {
            PublishStatistics();
            var lease = _watcher.Acquire() ?? throw new InvalidOperationException(
                "no model is active in the registry" + (_watcher.LastError is { } e ? " (last refusal: " + e + ")" : string.Empty));
            if (_lease is { } held && ReferenceEquals(held.Models, lease.Models) && _set is not null)
            {
                lease.Dispose();
                return _set;
            }

            _lease?.Dispose();
            _lease = lease;
            var models = lease.Models;
            foreach (var stale in _wrappers.Keys.Where(m => !models.Distinct.Contains(m)).ToList())
            {
                _wrappers.Remove(stale);
            }

            if (!ReferenceEquals(_declarations, models.MetadataSources))
            {
                _declarations = models.MetadataSources;
                _sources = _metadata?.Invoke(models.MetadataSources) ?? MetadataSourceSet.Empty;
            }

            // The wrappers add the worker's view (classes, metadata encoding, state identity); the sessions belong to the lease.
            _set = ModelSet.Create(
                models.Active.ToDictionary(kv => kv.Key, kv => Wrap(kv.Value), StringComparer.Ordinal),
                models.Shadows.ToDictionary(kv => kv.Key, kv => Wrap(kv.Value), StringComparer.Ordinal),
                _sources);
            _onSwitch?.Invoke(_set);
            return _set;
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _lease?.Dispose();
            _lease = null;
        }

        await _watcher.DisposeAsync().ConfigureAwait(false);
    }

    private ActiveModel Wrap(LoadedModel model)
    {
        if (!_wrappers.TryGetValue(model, out var wrapper))
        {
            wrapper = new ActiveModel(model.Package, model.Scorer);
            _wrappers[model] = wrapper;
        }

        return wrapper;
    }

    private void PublishStatistics()
    {
        var statistics = _watcher.ShadowStatistics;
        if (_metrics is null || ReferenceEquals(statistics, _statistics))
        {
            return;
        }

        _statistics = statistics;
        var gauges = new List<ShadowGauge>();
        foreach (var (pair, s) in statistics)
        {
            var candidate = pair.Candidate;
            var at = candidate.IndexOf('@', StringComparison.Ordinal);
            var hash = candidate.IndexOf('#', StringComparison.Ordinal);
            var name = at > 0 ? candidate[..at] : candidate;
            var version = at > 0 && hash > at ? candidate[(at + 1)..hash] : string.Empty;
            gauges.Add(new ShadowGauge(pair.Survey, name, version, s.Alerts, s.Agreement, s.CandidateMacroAuroc, s.ActiveMacroAuroc));
        }

        _metrics.SetShadowStatistics(gauges);
    }
}
