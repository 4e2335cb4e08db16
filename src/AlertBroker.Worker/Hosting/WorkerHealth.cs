using AlertBroker.State;

namespace AlertBroker.Worker.Hosting;

/// <summary>What /healthz and /readyz report: Kafka partitions assigned, state store reachable, model loaded.</summary>
public sealed class WorkerHealth(IObjectStateStore store)
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

    /// <summary>Ready: model loaded, at least one partition assigned, the state store answers a ping.</summary>
    public async Task<(bool Ready, string Detail)> CheckReadyAsync(CancellationToken cancellationToken)
    {
        var storeUp = await store.PingAsync(cancellationToken).ConfigureAwait(false);
        var ready = ModelLoaded && AssignedPartitions > 0 && storeUp;
        var detail = string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"model_loaded={ModelLoaded} kafka_assigned_partitions={AssignedPartitions} state_reachable={storeUp}\n");
        return (ready, detail);
    }
}
