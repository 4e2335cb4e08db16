using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlertBroker.Worker.Pipeline;

namespace AlertBroker.Worker.Telemetry;

/// <summary>
/// The worker's instruments (meter and activity source <c>AlertBroker.Worker</c>): alerts in, classifications out, dead
/// letters and errors by kind, batch size, stage and end-to-end latencies, consumer lag, the active model and the loaded
/// librdkafka version.
/// </summary>
public sealed class WorkerMetrics : IDisposable
{
    public const string MeterName = "AlertBroker.Worker";

    private readonly Meter _meter;
    private readonly Counter<long> _messagesIn;
    private readonly Counter<long> _alertsIn;
    private readonly Counter<long> _classificationsOut;
    private readonly Counter<long> _deadLetters;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _observationsAdded;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _stageSeconds;
    private readonly Histogram<double> _endToEndSeconds;
    private readonly Counter<long> _observationsDropped;
    private readonly Counter<long> _deadLettersTruncated;
    private readonly Counter<long> _kafkaErrors;
    private readonly Counter<long> _offsetResets;
    private readonly Counter<long> _partitionsLost;
    private readonly Counter<long> _librdkafkaLog;
    private readonly ConcurrentDictionary<(string Topic, int Partition), long> _lag = new();
    private readonly ConcurrentDictionary<string, int> _dependencies = new(StringComparer.Ordinal);
    private volatile string[] _model = ["", ""];
    private int _assigned;

    public WorkerMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _messagesIn = _meter.CreateCounter<long>("alertbroker.messages.received", "{message}", "Messages taken from the input topics.");
        _alertsIn = _meter.CreateCounter<long>("alertbroker.alerts.received", "{alert}", "Alerts decoded.");
        _classificationsOut = _meter.CreateCounter<long>("alertbroker.classifications.published", "{classification}", "Classifications produced.");
        _deadLetters = _meter.CreateCounter<long>("alertbroker.dead_letters", "{message}", "Messages sent to the dead-letter topic, by error kind.");
        _errors = _meter.CreateCounter<long>("alertbroker.errors", "{error}", "Errors by kind (state_unavailable, state_conflict, produce, kafka, dead letters by decode kind).");
        _observationsAdded = _meter.CreateCounter<long>("alertbroker.observations.added", "{observation}", "New observations merged into object state.");
        _batchSize = _meter.CreateHistogram<int>("alertbroker.batch.size", "{message}", "Messages per batch.");
        _stageSeconds = _meter.CreateHistogram<double>("alertbroker.stage.duration", "s", "Time per batch stage (decode, state_read, score, state_write, encode, publish, total).");
        _endToEndSeconds = _meter.CreateHistogram<double>("alertbroker.alert.latency", "s", "End to end: Kafka timestamp of the input message to classification produced.");
        _meter.CreateObservableGauge("alertbroker.consumer.lag", ObserveLag, "{message}", "Messages between the consumer's position and the partition's high watermark, after each batch.");
        _meter.CreateObservableGauge("alertbroker.model.active", ObserveModel, "1", "1 for the active model, tagged with its name and version.");
        _meter.CreateObservableGauge("alertbroker.librdkafka.info", ObserveLibrdkafka, unit: null, "1, tagged with the version of the librdkafka the Kafka client loaded (absent until it is loaded).");
        _observationsDropped = _meter.CreateCounter<long>("alertbroker.observations.dropped", "{observation}", "Oldest observations left out of objects' light curves by the per-object limit.");
        _deadLettersTruncated = _meter.CreateCounter<long>("alertbroker.dead_letters.truncated", "{message}", "Dead letters over the dead-letter topic's size limit, sent as a reference with the start of the payload.");
        _kafkaErrors = _meter.CreateCounter<long>("alertbroker.kafka.errors", "{error}", "Errors librdkafka reported to the consumer or producer, by client and error code.");
        _offsetResets = _meter.CreateCounter<long>("alertbroker.kafka.offset_resets", "{reset}", "Consumer offset resets after an error (e.g. the committed offset was deleted by retention), by topic.");
        _partitionsLost = _meter.CreateCounter<long>("alertbroker.kafka.partitions_lost", "{partition}", "Partitions lost without a revocation (the group moved on without this member).");
        _librdkafkaLog = _meter.CreateCounter<long>("alertbroker.kafka.log_messages", "{message}", "librdkafka log lines at notice level or above, by level.");
        _meter.CreateObservableGauge("alertbroker.kafka.partitions_assigned", () => Volatile.Read(ref _assigned), "{partition}", "Input partitions assigned to this worker.");
        _meter.CreateObservableGauge("alertbroker.dependency.up", ObserveDependencies, "1", "1 while a dependency answers, 0 while it fails (tag dependency: redis, schema_registry).");
    }

    /// <summary>This instance's meter (<see cref="WorkerStatistics"/> listens to it and to no other).</summary>
    internal Meter Meter => _meter;

    /// <summary>The traces: one activity per batch.</summary>
    public static ActivitySource ActivitySource { get; } = new(MeterName);

    public void MessagesReceived(int count) => _messagesIn.Add(count);

    public void DeadLetter(string kind)
    {
        _deadLetters.Add(1, new KeyValuePair<string, object?>("kind", kind));
        _errors.Add(1, new KeyValuePair<string, object?>("kind", "decode_" + kind));
    }

    public void Error(string kind) => _errors.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void ObservationsDropped(int count)
    {
        if (count > 0)
        {
            _observationsDropped.Add(count);
        }
    }

    public void DeadLetterTruncated() => _deadLettersTruncated.Add(1);

    public void KafkaError(string client, string code) =>
        _kafkaErrors.Add(1, new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("code", code));

    public void OffsetReset(string topic) => _offsetResets.Add(1, new KeyValuePair<string, object?>("topic", topic));

    public void PartitionsLost(int count) => _partitionsLost.Add(count);

    public void LibrdkafkaLog(string level) => _librdkafkaLog.Add(1, new KeyValuePair<string, object?>("level", level));

    public void SetAssignedPartitions(int count) => Volatile.Write(ref _assigned, count);

    /// <summary>Sets the <c>alertbroker.dependency.up</c> gauge of a dependency (redis, schema_registry).</summary>
    public void SetDependency(string dependency, bool up) => _dependencies[dependency] = up ? 1 : 0;

    public void SetModel(string name, string version) => _model = [name, version];

    public void SetLag(string topic, int partition, long lag) => _lag[(topic, partition)] = lag;

    public void ClearLag() => _lag.Clear();

    public void Stage(string stage, TimeSpan duration) =>
        _stageSeconds.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));

    public void Published(BatchResult batch, long publishedUnixMs)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _classificationsOut.Add(batch.Outputs.Count);
        foreach (var o in batch.Outputs)
        {
            if (o.Classification.AlertTimestampMs is { } ts && ts > 0)
            {
                _endToEndSeconds.Record(Math.Max(0, publishedUnixMs - ts) / 1000.0);
            }
        }
    }

    public void RecordBatch(BatchResult batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _alertsIn.Add(batch.Alerts);
        _observationsAdded.Add(batch.ObservationsAdded);
        ObservationsDropped(batch.ObservationsDropped);
        _batchSize.Record(batch.Messages);
        var t = batch.Timings;
        Stage("decode", t.Decode);
        Stage("state_read", t.StateRead);
        Stage("score", t.Score);
        Stage("state_write", t.StateWrite);
        Stage("encode", t.Encode);
        Stage("process", t.Total);
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var (key, lag) in _lag)
        {
            yield return new Measurement<long>(lag, new KeyValuePair<string, object?>("topic", key.Topic), new KeyValuePair<string, object?>("partition", key.Partition));
        }
    }

    private IEnumerable<Measurement<int>> ObserveDependencies()
    {
        foreach (var (name, up) in _dependencies)
        {
            yield return new Measurement<int>(up, new KeyValuePair<string, object?>("dependency", name));
        }
    }

    private static IEnumerable<Measurement<int>> ObserveLibrdkafka()
    {
        // Read from the loader, never from Confluent.Kafka: asking it would load a librdkafka of its own choosing.
        if (Kafka.KafkaNativeLibrary.LoadedVersion is { } version)
        {
            yield return new Measurement<int>(1, new KeyValuePair<string, object?>("version", version));
        }
    }

    private IEnumerable<Measurement<int>> ObserveModel()
    {
        var m = _model;
        if (m[0].Length > 0)
        {
            yield return new Measurement<int>(1, new KeyValuePair<string, object?>("model", m[0]), new KeyValuePair<string, object?>("version", m[1]));
        }
    }
}
