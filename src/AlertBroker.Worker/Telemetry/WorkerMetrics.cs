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
    private readonly Counter<long> _unserved;
    private readonly Counter<long> _invalidOutput;
    private readonly Counter<long> _filtered;
    private readonly Counter<long> _shadowClassifications;
    private readonly Counter<long> _shadowCompared;
    private readonly Counter<long> _shadowAgreed;
    private readonly Counter<double> _shadowAbsDiff;
    private readonly Counter<long> _metadataLookups;
    private readonly Counter<long> _observationsDropped;
    private readonly Counter<long> _statesUnreadable;
    private readonly Counter<long> _deadLettersTruncated;
    private readonly Counter<long> _kafkaErrors;
    private readonly Counter<long> _offsetResets;
    private readonly Counter<long> _partitionsLost;
    private readonly Counter<long> _librdkafkaLog;
    private readonly ConcurrentDictionary<(string Topic, int Partition), long> _lag = new();
    private readonly ConcurrentDictionary<string, int> _dependencies = new(StringComparer.Ordinal);
    private volatile (string Name, string Version)[] _models = [];
    private volatile (string Survey, string Role, string Name, string Version)[] _serving = [];
    private volatile (string Survey, string Model, string Source)[] _metadataMissing = [];
    private volatile ShadowGauge[] _shadowGauges = [];
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
        _statesUnreadable = _meter.CreateCounter<long>("alertbroker.state.unreadable", "{object}", "Stored object records that could not be read (damaged, or written by another program), by survey: each object's light curve starts again from the alert that found it.");
        _batchSize = _meter.CreateHistogram<int>("alertbroker.batch.size", "{message}", "Messages per batch.");
        _stageSeconds = _meter.CreateHistogram<double>("alertbroker.stage.duration", "s", "Time per batch stage (decode, state_read, score, state_write, encode, publish, total).");
        _endToEndSeconds = _meter.CreateHistogram<double>("alertbroker.alert.latency", "s", "End to end: Kafka timestamp of the input message to classification produced.");
        _meter.CreateObservableGauge("alertbroker.consumer.lag", ObserveLag, "{message}", "Messages between the consumer's position and the partition's high watermark, after each batch and while a batch waits to be retried.");
        _meter.CreateObservableGauge("alertbroker.model.active", ObserveModel, "1", "1 for the active model, tagged with its name and version.");
        _meter.CreateObservableGauge("alertbroker.librdkafka.info", ObserveLibrdkafka, unit: null, "1, tagged with the version of the librdkafka the Kafka client loaded (absent until it is loaded).");
        _filtered = _meter.CreateCounter<long>("alertbroker.alerts.filtered", "{alert}", "Alerts that are not transient candidates (low real/bogus, negative difference flux, solar-system object, star) or carry too few detections (AlertBroker:Candidates:MinDetections): stored and scored, published without probabilities, by survey and reason.");
        _unserved = _meter.CreateCounter<long>("alertbroker.alerts.unserved", "{alert}", "Alerts of a survey no loaded model serves (stored, classified with scoring NONE and a reason), by survey.");
        _invalidOutput = _meter.CreateCounter<long>("alertbroker.alerts.invalid_output", "{classification}", "Classifications (active and shadow) whose model gave no probability distribution (NaN, infinite or negative values, or a sum other than 1): published with the model, scoring NONE, no probabilities and the problem as the reason, by survey, model and version. Any increase means a broken model.");
        _shadowClassifications = _meter.CreateCounter<long>("alertbroker.shadow.classifications", "{classification}", "Shadow classifications produced (shadow topic), by survey and shadow model.");
        _shadowCompared = _meter.CreateCounter<long>("alertbroker.shadow.compared", "{alert}", "Alerts both the active and the shadow model classified (first delivery), by survey and shadow model.");
        _shadowAgreed = _meter.CreateCounter<long>("alertbroker.shadow.agreed", "{alert}", "Of the compared alerts, those whose top class was the same, by survey and shadow model.");
        _shadowAbsDiff = _meter.CreateCounter<double>("alertbroker.shadow.abs_diff", "1", "Sum of |p_shadow - p_active| per class over compared alerts (divide by alertbroker.shadow.compared for the mean).");
        _metadataLookups = _meter.CreateCounter<long>("alertbroker.metadata.lookups", "{object}", "Metadata lookups by survey, source and result (found, missing, invalid, unavailable).");
        _meter.CreateObservableGauge("alertbroker.model.serving", ObserveServing, "1", "1 per survey and role (active, shadow), tagged with the model name and version serving it.");
        _meter.CreateObservableGauge("alertbroker.model.metadata_missing", ObserveMetadataMissing, "1", "1 for each metadata source a model serving a survey needs but the worker has no source for (scored as unknown).");
        _meter.CreateObservableGauge("alertbroker.shadow.aggregate.alerts", () => ObserveShadow(g => g.Alerts), "{alert}", "Alerts compared for the survey's shadow model, summed over every worker (from the registry).");
        _meter.CreateObservableGauge("alertbroker.shadow.aggregate.agreement", () => ObserveShadow(g => g.Agreement), "1", "Top-class agreement of the survey's shadow model with its active model, over every worker (from the registry).");
        _meter.CreateObservableGauge("alertbroker.shadow.aggregate.auroc", ObserveShadowAuroc, "1", "Macro AUROC on labelled alerts over every worker (from the registry), role candidate or active.");
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

    public void Error(WorkerError kind) => _errors.Add(1, new KeyValuePair<string, object?>("kind", Label(kind)));

    /// <summary>The <c>kind</c> label of an error: its name in snake case (<c>state_unavailable</c>, <c>model_refused</c>, …).</summary>
    public static string Label(WorkerError kind) => kind switch
    {
        WorkerError.StateUnavailable => "state_unavailable",
        WorkerError.StateConflict => "state_conflict",
        WorkerError.SchemaRegistryUnavailable => "schema_registry_unavailable",
        WorkerError.Publish => "publish",
        WorkerError.Commit => "commit",
        WorkerError.KafkaConsume => "kafka_consume",
        WorkerError.ModelRefused => "model_refused",
        WorkerError.RegistryRecordDamaged => "registry_record_damaged",
        WorkerError.RecentClassifications => "recent_classifications",
        WorkerError.OtlpExport => "otlp_export",
        WorkerError.Internal => "internal",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public void SetModel(string name, string version) => _models = [(name, version)];

    /// <summary>The models in use: <c>alertbroker.model.active</c> per distinct active model, <c>alertbroker.model.serving</c> per survey and role.</summary>
    public void SetModels(IEnumerable<(string Survey, string Role, string Name, string Version)> serving)
    {
        ArgumentNullException.ThrowIfNull(serving);
        var list = serving.ToArray();
        _serving = list;
        _models = [.. list.Where(s => s.Role == "active").Select(s => (s.Name, s.Version)).Distinct()];
    }

    /// <summary>The metadata sources models in use need but the worker does not have (scored as unknown).</summary>
    public void SetMetadataMissing(IEnumerable<(string Survey, string Model, string Source)> missing)
    {
        ArgumentNullException.ThrowIfNull(missing);
        _metadataMissing = [.. missing];
    }

    /// <summary>Aggregated shadow statistics as last read from the registry.</summary>
    public void SetShadowStatistics(IEnumerable<ShadowGauge> gauges)
    {
        ArgumentNullException.ThrowIfNull(gauges);
        _shadowGauges = [.. gauges];
    }

    public void Filtered(string survey, string reason, long count) => _filtered.Add(count, new KeyValuePair<string, object?>("survey", survey), new KeyValuePair<string, object?>("reason", reason));

    public void Unserved(string survey, long count) => _unserved.Add(count, new KeyValuePair<string, object?>("survey", survey));

    public void InvalidOutput(string survey, string model, string version, long count) =>
        _invalidOutput.Add(count, new KeyValuePair<string, object?>("survey", survey), new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("version", version));

    public void Shadow(string survey, string model, string version, string[] classes, long classified, long compared, long agreed, double[] absDiff)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(absDiff);
        var s = new KeyValuePair<string, object?>("survey", survey);
        var m = new KeyValuePair<string, object?>("model", model);
        var v = new KeyValuePair<string, object?>("version", version);
        _shadowClassifications.Add(classified, s, m, v);
        if (compared > 0)
        {
            _shadowCompared.Add(compared, s, m, v);
            _shadowAgreed.Add(agreed, s, m, v);
            for (var i = 0; i < classes.Length; i++)
            {
                _shadowAbsDiff.Add(absDiff[i], s, m, v, new KeyValuePair<string, object?>("class", classes[i]));
            }
        }
    }

    public void MetadataLookups(string survey, string source, long found, long missing, long invalid)
    {
        var s = new KeyValuePair<string, object?>("survey", survey);
        var src = new KeyValuePair<string, object?>("source", source);
        _metadataLookups.Add(found, s, src, new KeyValuePair<string, object?>("result", "found"));
        _metadataLookups.Add(missing, s, src, new KeyValuePair<string, object?>("result", "missing"));
        if (invalid > 0)
        {
            _metadataLookups.Add(invalid, s, src, new KeyValuePair<string, object?>("result", "invalid"));
        }
    }

    /// <summary>Objects whose lookup found the source unable to serve (a Redis hash key of another type, an ACL refusal).</summary>
    public void MetadataUnavailable(string survey, string source, long objects) =>
        _metadataLookups.Add(objects, new KeyValuePair<string, object?>("survey", survey), new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("result", "unavailable"));

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

    /// <summary>
    /// Exports the counters of rare events at 0 — offset resets of the assigned topics, lost partitions, dead letters,
    /// and errors of every kind (decode errors and every <see cref="WorkerError"/>) — so that their first event is an increase from 0: a counter series that first appears
    /// at N has no increase for Prometheus's <c>increase()</c>/<c>rate()</c>, so the chart's alerts on these counters
    /// would miss a worker's first reset or loss, and a dashboard's rate panel a first burst of dead letters.
    /// </summary>
    public void StartCounting(IEnumerable<string> topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        _partitionsLost.Add(0);
        foreach (var survey in new[] { "ztf", "lsst" })
        {
            _statesUnreadable.Add(0, new KeyValuePair<string, object?>("survey", survey));
        }

        foreach (var topic in topics.Distinct(StringComparer.Ordinal))
        {
            _offsetResets.Add(0, new KeyValuePair<string, object?>("topic", topic));
        }

        foreach (var kind in DeadLetterKinds)
        {
            _deadLetters.Add(0, new KeyValuePair<string, object?>("kind", kind));
            _errors.Add(0, new KeyValuePair<string, object?>("kind", "decode_" + kind));
        }

        foreach (var kind in Enum.GetValues<WorkerError>())
        {
            _errors.Add(0, new KeyValuePair<string, object?>("kind", Label(kind)));
        }
    }

    /// <summary>
    /// Every kind a dead letter can have: the decode error kinds, and <c>Internal</c>. Not <c>Archive</c>: the worker
    /// decodes Kafka messages, never tar or gzip archives, and a series exported at 0 for it named a failure that cannot
    /// occur (as <c>consume --kind</c> does not take it).
    /// </summary>
    public static IReadOnlyList<string> DeadLetterKinds { get; } =
        [.. Enum.GetNames<AlertBroker.Alerts.AlertErrorKind>().Where(k => k != nameof(AlertBroker.Alerts.AlertErrorKind.Archive)), "Internal"];

    public void LibrdkafkaLog(string level) => _librdkafkaLog.Add(1, new KeyValuePair<string, object?>("level", level));

    public void SetAssignedPartitions(int count) => Volatile.Write(ref _assigned, count);

    /// <summary>Sets the <c>alertbroker.dependency.up</c> gauge of a dependency (redis, schema_registry).</summary>
    public void SetDependency(string dependency, bool up) => _dependencies[dependency] = up ? 1 : 0;

    /// <summary>Sets the <c>alertbroker.consumer.lag</c> gauge of one partition.</summary>
    public void SetLag(string topic, int partition, long lag) => _lag[(topic, partition)] = lag;

    /// <summary>
    /// Drops the lag of partitions this worker no longer has (revoked or lost): a partition's lag is then reported by its
    /// new owner only, not also frozen at its last value here.
    /// </summary>
    public void RemoveLag(string topic, int partition) => _lag.TryRemove((topic, partition), out _);

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
        foreach (var d in batch.DeadLetters)
        {
            DeadLetter(d.Kind);
        }

        _observationsAdded.Add(batch.ObservationsAdded);
        ObservationsDropped(batch.ObservationsDropped);
        foreach (var survey in batch.UnreadableStates.GroupBy(k => k.Survey))
        {
            _statesUnreadable.Add(survey.Count(), new KeyValuePair<string, object?>("survey", Scoring.ModelSet.SurveyName(survey.Key)));
        }

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
        foreach (var (name, version) in _models)
        {
            if (name.Length > 0)
            {
                yield return new Measurement<int>(1, new KeyValuePair<string, object?>("model", name), new KeyValuePair<string, object?>("version", version));
            }
        }
    }

    private IEnumerable<Measurement<int>> ObserveServing()
    {
        foreach (var (survey, role, name, version) in _serving)
        {
            yield return new Measurement<int>(
                1,
                new KeyValuePair<string, object?>("survey", survey),
                new KeyValuePair<string, object?>("role", role),
                new KeyValuePair<string, object?>("model", name),
                new KeyValuePair<string, object?>("version", version));
        }
    }

    private IEnumerable<Measurement<int>> ObserveMetadataMissing()
    {
        foreach (var (survey, model, source) in _metadataMissing)
        {
            yield return new Measurement<int>(1, new KeyValuePair<string, object?>("survey", survey), new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("source", source));
        }
    }

    private IEnumerable<Measurement<double>> ObserveShadow(Func<ShadowGauge, double> value)
    {
        foreach (var g in _shadowGauges)
        {
            var v = value(g);
            if (double.IsFinite(v))
            {
                yield return new Measurement<double>(v, new KeyValuePair<string, object?>("survey", g.Survey), new KeyValuePair<string, object?>("model", g.Model), new KeyValuePair<string, object?>("version", g.Version));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveShadowAuroc()
    {
        foreach (var g in _shadowGauges)
        {
            foreach (var (role, v) in new[] { ("candidate", g.CandidateMacroAuroc), ("active", g.ActiveMacroAuroc) })
            {
                if (double.IsFinite(v))
                {
                    yield return new Measurement<double>(v, new KeyValuePair<string, object?>("survey", g.Survey), new KeyValuePair<string, object?>("model", g.Model), new KeyValuePair<string, object?>("version", g.Version), new KeyValuePair<string, object?>("role", role));
                }
            }
        }
    }
}

/// <summary>One survey's aggregated shadow statistics for the <c>alertbroker.shadow.aggregate.*</c> gauges.</summary>
public sealed record ShadowGauge(string Survey, string Model, string Version, double Alerts, double Agreement, double CandidateMacroAuroc, double ActiveMacroAuroc);

/// <summary>The worker's errors other than decode errors: the <c>kind</c> label of <c>alertbroker.errors</c> (<see cref="WorkerMetrics.Label"/>).</summary>
public enum WorkerError
{
    /// <summary>Redis (object state) could not be read or written for a batch.</summary>
    StateUnavailable,

    /// <summary>Check-and-set writes of object state kept losing to other writers; the batch is retried as a whole.</summary>
    StateConflict,

    /// <summary>The schema registry could not be reached for a Confluent-framed alert's schema.</summary>
    SchemaRegistryUnavailable,

    /// <summary>A classification or dead letter could not be published.</summary>
    Publish,

    /// <summary>An offset commit failed.</summary>
    Commit,

    /// <summary>The consumer reported an error (a broken message, a consumer-level failure).</summary>
    KafkaConsume,

    /// <summary>A registry pointer named a model the worker refused (it keeps its current model).</summary>
    ModelRefused,

    /// <summary>An unexpected failure in a batch (a bug), caught so the worker goes on.</summary>
    Internal,

    /// <summary>A registry record the worker reads could not be (shadow statistics holding what no worker writes), at each read.</summary>
    RegistryRecordDamaged,

    /// <summary>A batch's entries of the recent-classifications list (the web view's) could not be written to Redis.</summary>
    RecentClassifications,

    /// <summary>The OTLP exporter reported a failed export (the collector did not answer or refused it).</summary>
    OtlpExport,
}
