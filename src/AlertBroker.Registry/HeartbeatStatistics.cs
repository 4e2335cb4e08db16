namespace AlertBroker.Registry;

/// <summary>
/// A worker's throughput summary, carried in its heartbeat so that a web view that is not inside any worker
/// (<c>alertbroker serve</c>) can show the fleet's alerts/s, latency, dead letters and lag without scraping every worker.
/// All figures are the worker's own (its in-process metrics) at <see cref="WorkerHeartbeat.Utc"/>.
/// </summary>
public sealed record HeartbeatStatistics
{
    /// <summary>When the worker started counting.</summary>
    public DateTimeOffset SinceUtc { get; init; }

    /// <summary>Alerts decoded since <see cref="SinceUtc"/>.</summary>
    public long Alerts { get; init; }

    /// <summary>Classifications published since <see cref="SinceUtc"/>.</summary>
    public long Classifications { get; init; }

    /// <summary>Of those, published without probabilities because their alert was not a transient candidate (0 from workers older than the field).</summary>
    public long Withheld { get; init; }

    /// <summary>Alerts per second over the last 10 s.</summary>
    public double AlertsPerSecond { get; init; }

    /// <summary>Alerts per second over the last 60 s.</summary>
    public double AlertsPerSecondMinute { get; init; }

    /// <summary>Kafka timestamp → classification published, over the worker's most recent classifications (ms); null before the first.</summary>
    public double? LatencyP50Ms { get; init; }

    public double? LatencyP90Ms { get; init; }

    public double? LatencyP99Ms { get; init; }

    /// <summary>How many latencies the percentiles were taken over.</summary>
    public int LatencySamples { get; init; }

    /// <summary>Dead letters since <see cref="SinceUtc"/>, by error kind.</summary>
    public IReadOnlyDictionary<string, long> DeadLetters { get; init; } = new Dictionary<string, long>();

    /// <summary>Messages between the consumer's positions and the high watermarks of its partitions, summed.</summary>
    public long ConsumerLag { get; init; }

    /// <summary>Partitions the lag is summed over.</summary>
    public int Partitions { get; init; }
}
