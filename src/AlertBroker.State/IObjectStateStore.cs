namespace AlertBroker.State;

/// <summary>One check-and-set write: store <see cref="State"/> under <see cref="Key"/> only if the stored version is still <see cref="ExpectedVersion"/>.</summary>
/// <param name="Key">The object.</param>
/// <param name="ExpectedVersion">The version the writer read (0: the object must not exist).</param>
/// <param name="State">The new state; its <see cref="ObjectState.Version"/> must be <paramref name="ExpectedVersion"/> + 1.</param>
public readonly record struct StateWrite(ObjectKey Key, long ExpectedVersion, ObjectState State);

/// <summary>
/// Per-object state, read and written in batches. Every write is an atomic check-and-set on the object's version,
/// so a merge computed from a read is stored only when nobody wrote the object in between; a writer that loses re-reads
/// and merges again. Implementations: <see cref="RedisObjectStateStore"/> (one pipelined round trip per batch read and
/// per batch write) and <see cref="InMemoryObjectStateStore"/>; both pass the same contract tests.
/// </summary>
public interface IObjectStateStore
{
    /// <summary>Reads the objects' states; <paramref name="results"/>[i] is null when <paramref name="keys"/>[i] is unknown.</summary>
    /// <exception cref="StateStoreUnavailableException">the store cannot be reached; nothing was read.</exception>
    Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies the writes, each atomically and independently; <paramref name="committed"/>[i] is false when write i lost its
    /// check-and-set (the stored version had moved on) and changed nothing.
    /// </summary>
    /// <exception cref="StateStoreUnavailableException">the store cannot be reached; some writes may have been applied, which a retry with the same versions detects.</exception>
    Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default);

    /// <summary>Whether the store answers (for readiness probes).</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken = default);
}

/// <summary>The state store could not be reached or did not answer in time; the operation may be retried.</summary>
public sealed class StateStoreUnavailableException : Exception
{
    /// <summary>
    /// The store answers but refuses writes (Redis full under a no-eviction policy, a read-only replica, a failing
    /// snapshot): an outage that lasts until a write succeeds, whatever a PING says.
    /// </summary>
    public bool WritesRefused { get; init; }

    public StateStoreUnavailableException()
    {
    }

    public StateStoreUnavailableException(string message)
        : base(message)
    {
    }

    public StateStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Why the state store cannot be used now, in words (<see cref="Reason"/>), and whether it answers but refuses writes.</summary>
public sealed record StateStoreProblem(string Reason, bool WritesRefused = false);
