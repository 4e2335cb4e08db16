using System.Diagnostics.Metrics;
using AlertBroker.Registry;

namespace AlertBroker.Worker.Telemetry;

/// <summary>Latency percentiles in milliseconds over the most recent samples; null values before the first sample.</summary>
public sealed record LatencySummary(double? P50, double? P90, double? P99, double? Max, int Samples);

/// <summary>Lag of one assigned partition.</summary>
public sealed record PartitionLag(string Topic, int Partition, long Lag);

/// <summary>Alerts decoded during one second (Unix seconds).</summary>
public sealed record ThroughputPoint(long UnixSecond, long Alerts);

/// <summary>A model a worker serves: the survey, its role there (active or shadow), and the model.</summary>
public sealed record ServingModel(string Survey, string Role, string Name, string Version);

/// <summary>What <see cref="WorkerStatistics"/> has counted, at one moment.</summary>
public sealed record WorkerStatisticsSnapshot
{
    public required DateTimeOffset Utc { get; init; }

    public required DateTimeOffset SinceUtc { get; init; }

    public long Messages { get; init; }

    public long Alerts { get; init; }

    public long Classifications { get; init; }

    /// <summary>Classifications published without probabilities because their alert was not a transient candidate.</summary>
    public long Withheld { get; init; }

    /// <summary>Alerts per second over the last 10 s.</summary>
    public double AlertsPerSecond { get; init; }

    /// <summary>Alerts per second over the last 60 s.</summary>
    public double AlertsPerSecondMinute { get; init; }

    /// <summary>The highest one-second count of the last <see cref="WorkerStatistics.ThroughputSeconds"/> seconds.</summary>
    public long PeakAlertsPerSecond { get; init; }

    /// <summary>Alerts per second, one point per second, over the last <see cref="WorkerStatistics.ThroughputSeconds"/> seconds (oldest first).</summary>
    public IReadOnlyList<ThroughputPoint> Throughput { get; init; } = [];

    /// <summary>Kafka timestamp → classification published.</summary>
    public required LatencySummary Latency { get; init; }

    /// <summary>Time to process one batch (decode to encoded classifications).</summary>
    public required LatencySummary Batch { get; init; }

    public IReadOnlyDictionary<string, long> DeadLetters { get; init; } = new Dictionary<string, long>();

    public IReadOnlyDictionary<string, long> Errors { get; init; } = new Dictionary<string, long>();

    public long ConsumerLag { get; init; }

    public IReadOnlyList<PartitionLag> Partitions { get; init; } = [];

    public string? ModelName { get; init; }

    public string? ModelVersion { get; init; }

    /// <summary>The models this worker serves, per survey and role (active, shadow).</summary>
    public IReadOnlyList<ServingModel> Serving { get; init; } = [];

    /// <summary>The summary a heartbeat carries.</summary>
    public HeartbeatStatistics ToHeartbeat() => new()
    {
        SinceUtc = SinceUtc,
        Alerts = Alerts,
        Classifications = Classifications,
        Withheld = Withheld,
        AlertsPerSecond = AlertsPerSecond,
        AlertsPerSecondMinute = AlertsPerSecondMinute,
        LatencyP50Ms = Latency.P50,
        LatencyP90Ms = Latency.P90,
        LatencyP99Ms = Latency.P99,
        LatencySamples = Latency.Samples,
        DeadLetters = DeadLetters,
        ConsumerLag = ConsumerLag,
        Partitions = Partitions.Count,
    };
}

/// <summary>
/// The worker's own metrics, summarised in process for the web view and the registry heartbeat: a
/// <see cref="MeterListener"/> on one <see cref="WorkerMetrics"/> instance (the same instruments <c>/metrics</c> exports)
/// keeps totals, per-second alert counts over the last few minutes, the latest latencies and batch times (for
/// percentiles), dead letters and errors by kind, and reads the lag and active-model gauges when asked. The callbacks run
/// on the thread that records (the consume loop): each is a few additions under an uncontended lock.
/// </summary>
public sealed class WorkerStatistics : IDisposable
{
    /// <summary>Seconds of per-second alert counts kept.</summary>
    public const int ThroughputSeconds = 300;

    /// <summary>Latencies kept for the percentiles (the most recent ones).</summary>
    public const int LatencySamples = 4096;

    private const int BatchSamples = 512;

    private readonly MeterListener _listener;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly DateTimeOffset _since;
    private readonly long[] _secondStamp = new long[ThroughputSeconds];
    private readonly long[] _secondAlerts = new long[ThroughputSeconds];
    private readonly double[] _latencies = new double[LatencySamples];
    private readonly double[] _batches = new double[BatchSamples];
    private readonly Dictionary<string, long> _deadLetters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Topic, int Partition), long> _lag = [];
    private long _latencyCount;
    private long _batchCount;
    private long _messages;
    private long _alerts;
    private long _classifications;
    private long _withheld;
    private readonly List<ServingModel> _serving = [];
    private string? _modelName;
    private string? _modelVersion;

    public WorkerStatistics(WorkerMetrics metrics, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _time = time ?? TimeProvider.System;
        _since = _time.GetUtcNow();
        var meter = metrics.Meter;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && IsObserved(instrument.Name))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(OnLong);
        _listener.SetMeasurementEventCallback<int>(OnInt);
        _listener.SetMeasurementEventCallback<double>(OnDouble);
        _listener.Start();
    }

    /// <summary>Everything counted so far; reads the lag and model gauges now.</summary>
    public WorkerStatisticsSnapshot Snapshot()
    {
        var now = _time.GetUtcNow();
        var second = now.ToUnixTimeSeconds();
        lock (_gate)
        {
            _lag.Clear();
            _modelName = _modelVersion = null;
            _serving.Clear();
            _listener.RecordObservableInstruments();
            var throughput = new List<ThroughputPoint>(120);
            long last10 = 0, last60 = 0, peak = 0;
            for (var s = second - ThroughputSeconds + 1; s <= second; s++)
            {
                var slot = (int)(s % ThroughputSeconds);
                var count = _secondStamp[slot] == s ? _secondAlerts[slot] : 0;
                peak = Math.Max(peak, count);

                // The current second is still filling: rates are taken over the whole seconds before it.
                if (s < second && s >= second - 10)
                {
                    last10 += count;
                }

                if (s < second && s >= second - 60)
                {
                    last60 += count;
                }

                if (s > second - 120)
                {
                    throughput.Add(new ThroughputPoint(s, count));
                }
            }

            var partitions = new List<PartitionLag>(_lag.Count);
            long lag = 0;
            foreach (var ((topic, partition), value) in _lag)
            {
                partitions.Add(new PartitionLag(topic, partition, value));
                lag += value;
            }

            partitions.Sort(static (a, b) => a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic));
            return new WorkerStatisticsSnapshot
            {
                Utc = now,
                SinceUtc = _since,
                Messages = _messages,
                Alerts = _alerts,
                Classifications = _classifications,
                Withheld = _withheld,
                AlertsPerSecond = last10 / 10.0,
                AlertsPerSecondMinute = last60 / 60.0,
                PeakAlertsPerSecond = peak,
                Throughput = throughput,
                Latency = Summarise(_latencies, _latencyCount),
                Batch = Summarise(_batches, _batchCount),
                DeadLetters = new Dictionary<string, long>(_deadLetters, StringComparer.Ordinal),
                Errors = new Dictionary<string, long>(_errors, StringComparer.Ordinal),
                ConsumerLag = lag,
                Partitions = partitions,
                ModelName = _modelName,
                ModelVersion = _modelVersion,
                Serving = [.. _serving.OrderBy(m => m.Survey, StringComparer.Ordinal).ThenBy(m => m.Role, StringComparer.Ordinal)],
            };
        }
    }

    public void Dispose() => _listener.Dispose();

    private static bool IsObserved(string name) => name is "alertbroker.messages.received" or "alertbroker.alerts.received"
        or "alertbroker.classifications.published" or "alertbroker.alerts.filtered" or "alertbroker.dead_letters" or "alertbroker.errors" or "alertbroker.alert.latency"
        or "alertbroker.stage.duration" or "alertbroker.consumer.lag" or "alertbroker.model.active" or "alertbroker.model.serving";

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var t in tags)
        {
            if (t.Key == key)
            {
                return t.Value?.ToString();
            }
        }

        return null;
    }

    private static LatencySummary Summarise(double[] ring, long count)
    {
        var n = (int)Math.Min(count, ring.Length);
        if (n == 0)
        {
            return new LatencySummary(null, null, null, null, 0);
        }

        var sorted = ring.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        return new LatencySummary(Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99), sorted[^1], n);
    }

    // Nearest rank, in milliseconds.
    private static double Percentile(double[] sorted, double p) =>
        Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)], 3);

    private void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        lock (_gate)
        {
            switch (instrument.Name)
            {
                case "alertbroker.messages.received":
                    _messages += value;
                    break;
                case "alertbroker.alerts.received":
                    _alerts += value;
                    var second = _time.GetUtcNow().ToUnixTimeSeconds();
                    var slot = (int)(second % ThroughputSeconds);
                    if (_secondStamp[slot] != second)
                    {
                        _secondStamp[slot] = second;
                        _secondAlerts[slot] = 0;
                    }

                    _secondAlerts[slot] += value;
                    break;
                case "alertbroker.classifications.published":
                    _classifications += value;
                    break;
                case "alertbroker.alerts.filtered":
                    _withheld += value;
                    break;
                case "alertbroker.dead_letters":
                    var kind = Tag(tags, "kind") ?? "unknown";
                    _deadLetters[kind] = _deadLetters.GetValueOrDefault(kind) + value;
                    break;
                case "alertbroker.errors":
                    var error = Tag(tags, "kind") ?? "unknown";
                    _errors[error] = _errors.GetValueOrDefault(error) + value;
                    break;
                case "alertbroker.consumer.lag":
                    // Observed only inside Snapshot (RecordObservableInstruments), which holds the lock already.
                    var topic = Tag(tags, "topic") ?? string.Empty;
                    var partition = int.TryParse(Tag(tags, "partition"), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : -1;
                    _lag[(topic, partition)] = value;
                    break;
            }
        }
    }

    private void OnInt(Instrument instrument, int value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == "alertbroker.model.active" && value == 1)
        {
            lock (_gate)
            {
                _modelName = Tag(tags, "model");
                _modelVersion = Tag(tags, "version");
            }
        }
        else if (instrument.Name == "alertbroker.model.serving" && value == 1)
        {
            lock (_gate)
            {
                _serving.Add(new ServingModel(Tag(tags, "survey") ?? string.Empty, Tag(tags, "role") ?? string.Empty, Tag(tags, "model") ?? string.Empty, Tag(tags, "version") ?? string.Empty));
            }
        }
    }

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == "alertbroker.alert.latency")
        {
            lock (_gate)
            {
                _latencies[(int)(_latencyCount++ % LatencySamples)] = value * 1000.0;
            }
        }
        else if (instrument.Name == "alertbroker.stage.duration" && Tag(tags, "stage") == "process")
        {
            lock (_gate)
            {
                _batches[(int)(_batchCount++ % BatchSamples)] = value * 1000.0;
            }
        }
    }
}
