using AlertBroker.State;

namespace AlertBroker.Web;

/// <summary>
/// The probability histories the object pages ask for: each re-runs the network over the object's whole stored light
/// curve, up to <c>State:MaxObservationsPerObject</c> (4,000) steps — about 46 ms for 4,000 steps with
/// <c>ztf-bts</c> 2.7.0 (docs/performance.md). In a worker (<c>run --web</c>) that CPU is the consume loop's, so the
/// computations run at most <see cref="Slots"/> at once, and the last <see cref="Capacity"/> results are kept: one is valid
/// while the object's stored version and model are unchanged, so a page reloaded or opened by several people costs one run.
/// </summary>
internal sealed class HistoryComputations : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly Dictionary<(ObjectKey Key, long Version, string ModelId), HistoryDto> _kept = [];
    private readonly Queue<(ObjectKey Key, long Version, string ModelId)> _order = new();
    private long _runs;

    public HistoryComputations(int slots, int capacity, TimeSpan wait)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Slots = slots;
        Capacity = capacity;
        Wait = wait;
        _slots = new SemaphoreSlim(slots, slots);
    }

    /// <summary>Half the processors (at least one): a worker keeps the other half for its batches.</summary>
    public static int DefaultSlots => Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Most computations at once.</summary>
    public int Slots { get; }

    /// <summary>Most results kept.</summary>
    public int Capacity { get; }

    /// <summary>Longest wait for a slot before the request is answered 503.</summary>
    public TimeSpan Wait { get; }

    /// <summary>Computations run so far (results served from what was kept are not counted).</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>
    /// The kept result for this object, version and model, or a new one from <paramref name="compute"/> run in a slot;
    /// null when no slot freed within <see cref="Wait"/>.
    /// </summary>
    public async Task<HistoryDto?> GetAsync(ObjectKey key, long version, string modelId, Func<HistoryDto> compute, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(compute);
        var id = (key, version, modelId);
        lock (_kept)
        {
            if (_kept.TryGetValue(id, out var kept))
            {
                return kept;
            }
        }

        if (!await _slots.WaitAsync(Wait, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        HistoryDto dto;
        try
        {
            lock (_kept)
            {
                // Computed by another request while this one waited.
                if (_kept.TryGetValue(id, out var kept))
                {
                    return kept;
                }
            }

            Interlocked.Increment(ref _runs);
            dto = compute();
        }
        finally
        {
            _slots.Release();
        }

        if (Capacity > 0)
        {
            lock (_kept)
            {
                if (_kept.TryAdd(id, dto))
                {
                    _order.Enqueue(id);
                    while (_order.Count > Capacity)
                    {
                        _kept.Remove(_order.Dequeue());
                    }
                }
            }
        }

        return dto;
    }

    public void Dispose() => _slots.Dispose();
}
