namespace AlertBroker.State;

/// <summary>
/// An <see cref="IObjectStateStore"/> in process memory, for the demo, tests and single-process embedding. Records are
/// kept encoded, exactly as Redis keeps them, so both stores share one format and one contract.
/// </summary>
public sealed class InMemoryObjectStateStore : IObjectStateStore
{
    /// <summary>Writes between two sweeps at the least; more when more objects are held, so a sweep costs O(1) per write.</summary>
    internal const int SweepEvery = 4096;

    private readonly Dictionary<ObjectKey, Entry> _entries = [];
    private readonly Lock _lock = new();
    private int _writesSinceSweep;
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;

    /// <param name="ttl">Expire an object this long after its last write; zero or negative keeps objects forever.</param>
    /// <param name="timeProvider">Clock for expiry (tests); the system clock by default.</param>
    public InMemoryObjectStateStore(TimeSpan ttl = default, TimeProvider? timeProvider = null)
    {
        _ttl = ttl;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Number of objects held: expired ones are included until they are touched again or the next sweep, which runs
    /// under a write once at least <see cref="SweepEvery"/> writes, and as many as there are objects, have gone by.
    /// </summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(results);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            for (var i = 0; i < keys.Count; i++)
            {
                results[i] = TryGet(keys[i], now, out var record) ? ObjectStateCodec.Decode(record) : null;
            }
        }

        return Task.CompletedTask;
    }

    public Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        ArgumentNullException.ThrowIfNull(committed);
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            for (var i = 0; i < writes.Count; i++)
            {
                var w = writes[i];
                var current = TryGet(w.Key, now, out var record) ? ObjectStateCodec.ReadVersion(record) : 0;
                if (current != w.ExpectedVersion)
                {
                    committed[i] = false;
                    continue;
                }

                _entries[w.Key] = new Entry(ObjectStateCodec.Encode(w.State), _ttl > TimeSpan.Zero ? now + _ttl : DateTimeOffset.MaxValue);
                committed[i] = true;
            }

            // An object never written again was forgotten only when its own key was read: `run --in-memory` with a TTL
            // kept every object of a long stream, memory growing without bound where Redis forgets them.
            _writesSinceSweep += writes.Count;
            if (_ttl > TimeSpan.Zero && _writesSinceSweep >= Math.Max(SweepEvery, _entries.Count))
            {
                _writesSinceSweep = 0;
                foreach (var (key, entry) in _entries)
                {
                    if (entry.Expires <= now)
                    {
                        _entries.Remove(key);
                    }
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<bool> PingAsync(CancellationToken cancellationToken = default) => Task.FromResult(true);

    private bool TryGet(ObjectKey key, DateTimeOffset now, out byte[] record)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > now)
            {
                record = entry.Record;
                return true;
            }

            _entries.Remove(key);
        }

        record = [];
        return false;
    }

    private readonly record struct Entry(byte[] Record, DateTimeOffset Expires);
}
