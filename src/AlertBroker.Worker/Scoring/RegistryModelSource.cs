using AlertBroker.Registry;

namespace AlertBroker.Worker.Scoring;

/// <summary>Hands each batch the model it scores with.</summary>
public interface IBatchModelSource
{
    /// <summary>The model for the batch about to start. Called once per batch, so a batch never mixes versions.</summary>
    ActiveModel ForNextBatch();
}

/// <summary>One fixed model package for the worker's lifetime.</summary>
public sealed class FixedModelSource(ActiveModel model) : IBatchModelSource
{
    public ActiveModel Model { get; } = model;

    public ActiveModel ForNextBatch() => Model;
}

/// <summary>
/// The registry's active model, hot-swapped between batches: an <see cref="ActiveModelWatcher"/> loads and warms a
/// promoted model in the background; the next batch takes a lease on it, and the previous batch's lease — and with
/// it the old ONNX Runtime session, once nothing uses it — is released only then. Batches are processed one at a
/// time by the Kafka loop, which is what makes "the batch before has finished" true at that point.
/// </summary>
public sealed class RegistryModelSource : IBatchModelSource, IAsyncDisposable
{
    private readonly ActiveModelWatcher _watcher;
    private readonly Action<ActiveModel>? _onSwitch;
    private readonly Lock _gate = new();
    private ModelLease? _lease;
    private ActiveModel? _model;

    public RegistryModelSource(ActiveModelWatcher watcher, Action<ActiveModel>? onSwitch = null)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        _watcher = watcher;
        _onSwitch = onSwitch;
    }

    public ActiveModelWatcher Watcher => _watcher;

    public ActiveModel ForNextBatch()
    {
        lock (_gate)
        {
            var lease = _watcher.Acquire() ?? throw new InvalidOperationException(
                "no model is active in the registry" + (_watcher.LastError is { } e ? " (last refusal: " + e + ")" : string.Empty));
            if (_lease is { } held && ReferenceEquals(held.Model, lease.Model) && _model is not null)
            {
                lease.Dispose();
                return _model;
            }

            _lease?.Dispose();
            _lease = lease;

            // The wrapper adds the worker's view (classes, metadata vector, state identity); the session belongs to the lease.
            _model = new ActiveModel(lease.Model.Package);
            _onSwitch?.Invoke(_model);
            return _model;
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
}
