namespace AlertBroker.Worker.Hosting;

/// <summary>
/// What the worker knows about itself, set by the consume loop, the model source and the state-store monitor and read by
/// the health checks (<see cref="WorkerHealthChecks"/>): consume loop running, group membership and partitions, model
/// loaded, and for each dependency that can fail after start (the state store, the schema registry) whether its last
/// use succeeded, since when it fails and why.
/// </summary>
public sealed class WorkerHealth(TimeProvider? time = null)
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private volatile bool _modelLoaded;
    private volatile bool _stopping;
    private int _assigned;
    private volatile bool _running;
    private volatile bool _inGroup;
    private long _emptySince;
    private Outage? _state;
    private Outage? _registry;

    public bool ModelLoaded { get => _modelLoaded; set => _modelLoaded = value; }

    public int AssignedPartitions
    {
        get => Volatile.Read(ref _assigned);
        set
        {
            Volatile.Write(ref _assigned, value);
            NoteEmptyAssignment();
        }
    }

    /// <summary>The consume loop is alive.</summary>
    public bool Running { get => _running; set => _running = value; }

    /// <summary>
    /// A stop was asked for: the worker is finishing its batch, committing and leaving its group (the endpoints answer
    /// until it is done; /readyz says not ready from here on).
    /// </summary>
    public bool Stopping { get => _stopping; set => _stopping = value; }

    /// <summary>
    /// The consumer is a member of its group: it received an assignment from the group (possibly empty, when the group has
    /// more members than partitions) and has not lost it since.
    /// </summary>
    public bool InGroup
    {
        get => _inGroup;
        set
        {
            _inGroup = value;
            NoteEmptyAssignment();
        }
    }

    /// <summary>
    /// How long a member of the group must have held no partition before it is taken to be standing by (more members than
    /// partitions) rather than waiting in a rebalance: a cooperative rebalance hands a joining member an empty assignment
    /// first, and its partitions a round later. The worker sets it from its consumer's session timeout (twice it: each
    /// round may wait that long for a member that stopped without leaving; 90 s with the default 45 s).
    /// </summary>
    public TimeSpan StandByAfter { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>How long this member of the group has held no partition (null: it holds some, or is not a member).</summary>
    public TimeSpan? EmptyAssignmentFor
    {
        get
        {
            var since = Interlocked.Read(ref _emptySince);
            return since == 0 ? null : _time.GetElapsedTime(since);
        }
    }

    // Starts the clock when the member is in the group with no partition, keeps it while that lasts, clears it otherwise.
    private void NoteEmptyAssignment()
    {
        if (_inGroup && Volatile.Read(ref _assigned) == 0)
        {
            Interlocked.CompareExchange(ref _emptySince, _time.GetTimestamp(), 0);
        }
        else
        {
            Interlocked.Exchange(ref _emptySince, 0);
        }
    }

    /// <summary>The last state-store operation succeeded.</summary>
    public bool StateReachable
    {
        get
        {
            lock (_lock)
            {
                return _state is null;
            }
        }

        set
        {
            if (value)
            {
                StateRecovered();
            }
            else
            {
                StateFailed("the state store did not answer");
            }
        }
    }

    /// <summary>The current state-store outage (null while it answers).</summary>
    public Outage? StateOutage
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>The current schema-registry outage (null while it answers, or when none is used).</summary>
    public Outage? RegistryOutage
    {
        get
        {
            lock (_lock)
            {
                return _registry;
            }
        }
    }

    /// <summary>
    /// How long after a batch's writes were refused a probe that goes through does not end the outage: while the batch is
    /// in hand it is retried at least every <c>AlertBroker:State:RetryMaxMs</c> (5 s by default), so a refusal this recent
    /// means it is still refused — where an ACL refuses the probe's own key and the PING alone decides, for one, or by a
    /// shard that joined the cluster after the client last read the slot map.
    /// </summary>
    public static readonly TimeSpan BatchRefusalHold = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Records a failed state-store operation (the outage keeps its first time and takes the latest reason;
    /// <paramref name="writesRefused"/>: the store answers but refused a write; <paramref name="byBatch"/>: a batch's).
    /// </summary>
    /// <returns>true when this starts a new outage.</returns>
    public bool StateFailed(string reason, DateTimeOffset? now = null, bool writesRefused = false, bool byBatch = false)
    {
        lock (_lock)
        {
            var started = _state is null;
            var at = now ?? DateTimeOffset.UtcNow;
            _state = new Outage(_state?.Since ?? at, reason)
            {
                WritesRefused = writesRefused,
                BatchRefusedAt = writesRefused && byBatch ? at : _state?.BatchRefusedAt,
            };
            return started;
        }
    }

    /// <summary>
    /// Ends the state-store outage: after a batch went through, or (<paramref name="byProbe"/>) after the monitor's or the
    /// readiness check's probe did — which does not end it within <see cref="BatchRefusalHold"/> of a batch's refused
    /// writes (a full server that the probe cannot see refusing writes would otherwise be called well every few seconds while
    /// the batch in hand stays refused).
    /// </summary>
    /// <returns>the outage that ended, if there was one.</returns>
    public Outage? StateRecovered(bool byProbe = false, DateTimeOffset? now = null)
    {
        lock (_lock)
        {
            var ended = _state;
            if (byProbe && ended?.BatchRefusedAt is { } refused && (now ?? DateTimeOffset.UtcNow) - refused < BatchRefusalHold)
            {
                return null;
            }

            _state = null;
            return ended;
        }
    }

    /// <summary>
    /// Records what a probe of the state store found (the monitor's every few seconds, the readiness check's): a problem
    /// is a failure, none a recovery as far as <see cref="StateRecovered"/> lets a probe end one.
    /// </summary>
    /// <returns>the outage the probe ended, if it ended one.</returns>
    public Outage? StateProbed(AlertBroker.State.StateStoreProblem? problem, DateTimeOffset? now = null)
    {
        if (problem is not null)
        {
            StateFailed(problem.Reason, now, problem.WritesRefused);
            return null;
        }

        return StateRecovered(byProbe: true, now);
    }

    /// <summary>Records a schema-registry lookup that could not be answered.</summary>
    /// <returns>true when this starts a new outage.</returns>
    public bool RegistryFailed(string reason, DateTimeOffset? now = null)
    {
        lock (_lock)
        {
            var started = _registry is null;
            _registry = new Outage(_registry?.Since ?? now ?? DateTimeOffset.UtcNow, reason);
            return started;
        }
    }

    /// <returns>the outage that ended, if there was one.</returns>
    public Outage? RegistryRecovered()
    {
        lock (_lock)
        {
            var ended = _registry;
            _registry = null;
            return ended;
        }
    }
}

/// <summary>A dependency failing since <paramref name="Since"/>, for the reason last seen.</summary>
public sealed record Outage(DateTimeOffset Since, string Reason)
{
    /// <summary>The state store answers but refused the last write tried.</summary>
    public bool WritesRefused { get; init; }

    /// <summary>When a batch's writes were last refused during this outage (null: never).</summary>
    public DateTimeOffset? BatchRefusedAt { get; init; }

    /// <summary>"for 42 s: reason".</summary>
    public string Describe(DateTimeOffset now) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"for {Math.Max(0, (now - Since).TotalSeconds):F0} s (since {Since:HH:mm:ss}Z): {Reason}");
}
