namespace AlertBroker.Worker.Hosting;

/// <summary>
/// What the worker knows about itself, set by the consume loop and the model source and read by the health checks
/// (<see cref="WorkerHealthChecks"/>): consume loop running, Kafka partitions assigned, model loaded, last state-store
/// operation succeeded.
/// </summary>
public sealed class WorkerHealth
{
    private volatile bool _modelLoaded;
    private int _assigned;
    private volatile bool _running;
    private volatile bool _stateReachable = true;

    public bool ModelLoaded { get => _modelLoaded; set => _modelLoaded = value; }

    public int AssignedPartitions { get => Volatile.Read(ref _assigned); set => Volatile.Write(ref _assigned, value); }

    /// <summary>The consume loop is alive.</summary>
    public bool Running { get => _running; set => _running = value; }

    /// <summary>The last state-store operation succeeded.</summary>
    public bool StateReachable { get => _stateReachable; set => _stateReachable = value; }
}
