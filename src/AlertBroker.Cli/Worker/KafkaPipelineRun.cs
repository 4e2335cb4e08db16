using System.Diagnostics;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;
using Confluent.Kafka;

namespace AlertBroker.Cli.Worker;

/// <summary>What a <see cref="KafkaPipelineRun"/> measured.</summary>
internal sealed class PipelineRunResult
{
    public int MessagesProduced { get; set; }

    public long MessagesProcessed { get; set; }

    public long Alerts { get; set; }

    public long DeadLetters { get; set; }

    public long ObservationsAdded { get; set; }

    public TimeSpan Elapsed { get; set; }

    public List<double> EndToEndMs { get; } = [];

    public List<double> BatchMs { get; } = [];

    public Dictionary<string, long> ByTopClass { get; } = new(StringComparer.Ordinal);

    public Dictionary<ScoringPath, long> ByPath { get; } = [];

    /// <summary>Classifications per model ("name version", or "(no model for SURVEY)").</summary>
    public Dictionary<string, long> ByModel { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Classification> LatestByObject { get; } = new(StringComparer.Ordinal);

    /// <summary>Dead letters by kind: how many, and the first one's error (what a user of the demo asks first).</summary>
    public Dictionary<string, (long Count, string FirstError)> DeadLetterKinds { get; } = new(StringComparer.Ordinal);

    /// <summary>Alerts published without probabilities because they are not transient candidates, by reason.</summary>
    public Dictionary<CandidateRejectionKind, long> Withheld { get; } = [];

    public int OutputTopicCount { get; set; } = -1;

    /// <summary>Messages the mock cluster did not acknowledge.</summary>
    public long ProduceFailures { get; set; }

    /// <summary>The run ended because nothing moved for a while, not because every message was processed.</summary>
    public bool Stalled { get; set; }

    public double AlertsPerSecond => Alerts / Math.Max(1e-9, Elapsed.TotalSeconds);
}

/// <summary>
/// The whole pipeline through librdkafka's mock Kafka cluster: replay messages into an input topic while a
/// <see cref="KafkaAlertWorker"/> (the same class <c>alertbroker run</c> hosts) consumes, scores and publishes, and
/// collect what it did. Used by <c>demo</c> and <c>bench pipeline</c>.
/// </summary>
internal sealed class KafkaPipelineRun
{
    /// <summary>The models, by survey (and shadows).</summary>
    public required ModelSet Models { get; init; }

    /// <summary>Where shadow comparisons are recorded (none when null).</summary>
    public AlertBroker.Registry.ShadowStatisticsAccumulator? ShadowStatistics { get; init; }

    public required IObjectStateStore Store { get; init; }

    public required IReadOnlyList<(string? Key, byte[] Value)> Messages { get; init; }

    public AlertBroker.Avro.ISchemaLookup? Schemas { get; init; }

    public int BatchSize { get; init; } = 500;

    /// <summary>Which alerts' classifications carry probabilities (<see cref="AlertBatchProcessor.Candidates"/>).</summary>
    public CandidateFilter Candidates { get; init; } = CandidateFilter.Default;

    /// <summary>Called about once a second with (produced, processed messages, alerts, dead letters).</summary>
    public Action<int, long, long, long>? Progress { get; init; }

    public bool VerifyOutputTopic { get; init; } = true;

    /// <summary>The worker's instruments; a new set (disposed at the end) when not given. The demo's web view reads the one it gives.</summary>
    public WorkerMetrics? Metrics { get; init; }

    /// <summary>Called on the consume thread after each batch (the demo's web view keeps the recent classifications).</summary>
    public Action<BatchResult>? BatchCompleted { get; init; }

    /// <summary>How far (bytes) the producer may run ahead of the worker.</summary>
    public long MaxBytesAhead { get; init; } = 2 * 1024 * 1024;

    public async Task<PipelineRunResult> RunAsync(CancellationToken cancellationToken)
    {
        using var cluster = MockKafkaCluster.Start();
        const string Input = "alerts";
        const string Output = "classifications";
        const string Dead = "dead-letters";
        cluster.CreateTopics(Input, Output, Dead);
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = Schemas, Limits = new AlertOptions().ToDecoderLimits() });
        var metrics = Metrics ?? new WorkerMetrics();
        var processor = new AlertBatchProcessor(decoder, Store, () => Models, new ClassificationCodec(), metrics) { ShadowStatistics = ShadowStatistics, Candidates = Candidates, ScoreUnsuppliedMetadataAsUnknown = true };
        var options = new KafkaOptions
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "alertbroker-demo",
            Topics = [Input],
            OutputTopic = Output,
            DeadLetterTopic = Dead,
            BatchSize = BatchSize,
            BatchTimeoutMs = 50,
            CommitIntervalMs = 500,
        };
        var health = new WorkerHealth();
        var worker = new KafkaAlertWorker(options, new StateOptions(), processor, metrics, health);
        var result = new PipelineRunResult { MessagesProduced = Messages.Count };
        var gate = new Lock();
        long processed = 0;
        worker.BatchCompleted += batch =>
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            lock (gate)
            {
                processed += batch.Messages;
                result.ObservationsAdded += batch.ObservationsAdded;
                result.BatchMs.Add(batch.Timings.Total.TotalMilliseconds);
                foreach (var d in batch.DeadLetters)
                {
                    result.DeadLetterKinds[d.Kind] = result.DeadLetterKinds.TryGetValue(d.Kind, out var seen) ? (seen.Count + 1, seen.FirstError) : (1, d.Error);
                }

                foreach (var o in batch.Outputs)
                {
                    var c = o.Classification;
                    if (c.AlertTimestampMs is { } ts)
                    {
                        result.EndToEndMs.Add(now - ts);
                    }

                    if (c.Rejection is { } rejected)
                    {
                        result.Withheld[rejected] = result.Withheld.GetValueOrDefault(rejected) + 1;
                    }

                    // Every classification without probabilities was "(no usable point yet)": Rubin alerts no model serves,
                    // alerts withheld for metadata and invalid outputs included.
                    var top = c.TopClass ?? c.Rejection switch
                    {
                        CandidateRejectionKind.TooFewDetections => "(too few detections yet)",
                        not null => "(not a transient candidate)",
                        null when c.ModelName.Length == 0 => "(no model serves " + c.Survey.ToString().ToLowerInvariant() + ")",
                        null when c.Reason is null or AlertBatchProcessor.NoStepReason => "(no usable point yet)",
                        null when c.Reason.Contains(" metadata ", StringComparison.Ordinal) => "(metadata unavailable)",
                        null when c.Reason.StartsWith("the model's output is not a probability distribution", StringComparison.Ordinal) => "(invalid model output)",
                        null => "(not scored)",
                    };
                    result.ByTopClass[top] = result.ByTopClass.GetValueOrDefault(top) + 1;
                    result.ByPath[c.Scoring] = result.ByPath.GetValueOrDefault(c.Scoring) + 1;
                    var by = c.ModelName.Length > 0 ? c.ModelName + " " + c.ModelVersion : "(no model for " + c.Survey.ToString().ToLowerInvariant() + ")";
                    result.ByModel[by] = result.ByModel.GetValueOrDefault(by) + 1;
                    result.LatestByObject[c.Survey + ":" + c.ObjectId] = c;
                }
            }

            BatchCompleted?.Invoke(batch);
        };

        using var stop = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, cancellationToken);
        var run = worker.RunAsync(linked.Token);

        // Join the group before producing, so latencies measure the pipeline rather than the first rebalance.
        var joinClock = Stopwatch.StartNew();
        while (health.AssignedPartitions == 0 && joinClock.Elapsed < TimeSpan.FromSeconds(30) && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        var produced = 0;
        long failures = 0;
        var produce = Task.Run(
            () =>
            {
                using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
                {
                    BootstrapServers = cluster.BootstrapServers,
                    LingerMs = 5,
                    MessageMaxBytes = 16 * 1024 * 1024,
                }).Build();
                // librdkafka's mock broker keeps only a few MB per partition and drops the oldest data beyond that, so
                // the producer stays at most a few MB ahead of what the worker has processed.
                var prefix = new long[Messages.Count + 1];
                for (var i = 0; i < Messages.Count; i++)
                {
                    prefix[i + 1] = prefix[i] + Messages[i].Value.Length + 64;
                }

                var index = 0;
                foreach (var (key, value) in Messages)
                {
                    linked.Token.ThrowIfCancellationRequested();
                    while (true)
                    {
                        long done;
                        lock (gate)
                        {
                            done = processed;
                        }

                        if (prefix[index] - prefix[Math.Min(index, (int)done)] < MaxBytesAhead)
                        {
                            break;
                        }

                        producer.Poll(TimeSpan.FromMilliseconds(10));
                        linked.Token.ThrowIfCancellationRequested();
                    }

                    index++;
                    while (true)
                    {
                        try
                        {
                            producer.Produce(Input, new Message<byte[]?, byte[]> { Key = key is null ? null : System.Text.Encoding.UTF8.GetBytes(key), Value = value }, r =>
                            {
                                if (r.Error.IsError)
                                {
                                    Interlocked.Increment(ref failures);
                                }
                            });
                            break;
                        }
                        catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                        {
                            producer.Poll(TimeSpan.FromMilliseconds(20));
                        }
                    }

                    Interlocked.Increment(ref produced);
                }

                producer.Flush(TimeSpan.FromSeconds(60));
            },
            linked.Token);

        var lastProgress = TimeSpan.Zero;
        var lastDone = -1L;
        var lastMove = clock.Elapsed;
        while (!cancellationToken.IsCancellationRequested)
        {
            long done;
            lock (gate)
            {
                done = processed;
            }

            if (done != lastDone)
            {
                lastDone = done;
                lastMove = clock.Elapsed;
            }

            if (done >= Messages.Count - Interlocked.Read(ref failures) || run.IsCompleted)
            {
                break;
            }

            // The mock cluster is a functional double that can drop data; do not wait forever for what it lost.
            if (produce.IsCompleted && clock.Elapsed - lastMove > TimeSpan.FromSeconds(15))
            {
                result.Stalled = true;
                break;
            }

            if (produce.IsFaulted)
            {
                await produce.ConfigureAwait(false);
            }

            if (Progress is not null && clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(1))
            {
                lastProgress = clock.Elapsed;
                Progress(Volatile.Read(ref produced), done, worker.Alerts, worker.DeadLetters);
            }

            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        }

        result.Elapsed = clock.Elapsed;
        await stop.CancelAsync().ConfigureAwait(false);
        await run.ConfigureAwait(false);
        try
        {
            await produce.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        result.MessagesProcessed = processed;
        result.ProduceFailures = Interlocked.Read(ref failures);
        result.Alerts = worker.Alerts;
        result.DeadLetters = worker.DeadLetters;
        if (VerifyOutputTopic)
        {
            result.OutputTopicCount = CountDecodable(cluster.BootstrapServers, Output, worker.Classifications, TimeSpan.FromSeconds(20));
        }

        if (Metrics is null)
        {
            metrics.Dispose();
        }

        return result;
    }

    /// <summary>The messages under the paths in their survey's wire format, keyed by object id (so an object's alerts stay in order on one partition).</summary>
    public static List<(string? Key, byte[] Value)> ReadArchives(IEnumerable<string> paths, SurveyWireFormat wire, out int unreadable) =>
        ReadArchives(paths, wire, out unreadable, out _);

    /// <summary>As above; <paramref name="undecodable"/>: how many of the messages returned do not decode (kept: they are dead letters to the worker).</summary>
    public static List<(string? Key, byte[] Value)> ReadArchives(IEnumerable<string> paths, SurveyWireFormat wire, out int unreadable, out int undecodable)
    {
        var counts = new ArchiveCounts();
        var list = EnumerateArchives(paths, wire, counts).ToList();
        unreadable = counts.Unreadable;
        undecodable = counts.Undecodable;
        return list;
    }

    /// <summary>
    /// As <see cref="ReadArchives(IEnumerable{string}, SurveyWireFormat, out int)"/>, one message at a time as the archives
    /// are read (a night's archive need not fit in memory); <paramref name="counts"/> grows as it goes.
    /// </summary>
    public static IEnumerable<(string? Key, byte[] Value)> EnumerateArchives(IEnumerable<string> paths, SurveyWireFormat wire, ArchiveCounts counts, CancellationToken cancellationToken = default)
    {
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = wire });
        var alerts = new List<Alert>(1);
        foreach (var input in AlertArchiveReader.Read(paths, cancellationToken))
        {
            if (input.Error is not null)
            {
                counts.Unreadable++;
                if (counts.Problems.Count < ArchiveCounts.ProblemsKept)
                {
                    counts.Problems.Add(input.Source + ": " + input.Error.Message);
                }

                continue;
            }

            foreach (var message in wire.ToWire(input.Payload))
            {
                alerts.Clear();
                string? key = null;
                try
                {
                    decoder.Decode(message, alerts);
                    key = alerts.Count > 0 ? alerts[0].ObjectId : null;
                }
                catch (AlertFormatException e)
                {
                    // Still published: the worker's dead-letter path is part of what a replay exercises.
                    counts.Undecodable++;
                    counts.FirstUndecodable ??= input.Source + ": " + e.Message;
                    if (e.Kind == AlertErrorKind.SchemaNotFound)
                    {
                        counts.WithoutSchema++;
                    }

                    if (counts.UndecodableExamples.Count < ArchiveCounts.ProblemsKept)
                    {
                        counts.UndecodableExamples.Add(input.Source + ": " + e.Message);
                    }
                }

                yield return (key, message);
            }
        }
    }

    /// <summary>What <see cref="EnumerateArchives"/> could not read (inputs) or decode (messages, still returned).</summary>
    public sealed class ArchiveCounts
    {
        /// <summary>How many unreadable inputs <see cref="Problems"/> names.</summary>
        public const int ProblemsKept = 20;

        public int Unreadable { get; set; }

        /// <summary>The first <see cref="ProblemsKept"/> unreadable inputs, each "SOURCE: why".</summary>
        public List<string> Problems { get; } = [];

        public int Undecodable { get; set; }

        /// <summary>The first <see cref="ProblemsKept"/> messages that did not decode, each "SOURCE: why".</summary>
        public List<string> UndecodableExamples { get; } = [];

        /// <summary>The first message that did not decode, "SOURCE: why" (null when all did).</summary>
        public string? FirstUndecodable { get; set; }

        /// <summary>How many of the <see cref="Undecodable"/> messages did so for want of their writer schema.</summary>
        public int WithoutSchema { get; set; }
    }

    /// <summary>Synthetic ZTF-format alerts keyed by object.</summary>
    public static List<(string? Key, byte[] Value)> Synthetic(int objects, int alertsPerObject, int seed, CancellationToken cancellationToken = default)
    {
        var list = new List<(string?, byte[])>();
        // 500,000 alerts take longer than the grace period a stop request leaves.
        foreach (var a in SyntheticZtfAlerts.Generate(objects, alertsPerObject, seed, cancellationToken: cancellationToken))
        {
            list.Add((a.ObjectId, a.Message));
        }

        return list;
    }

    private static int CountDecodable(string bootstrap, string topic, long expected, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "demo-reader",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var count = 0;
        var deadline = DateTime.UtcNow + timeout;
        while (count < expected && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null)
            {
                continue;
            }

            try
            {
                ClassificationCodec.Decode(r.Message.Value);
                count++;
            }
            catch (AlertBroker.Avro.AvroException)
            {
            }
        }

        consumer.Close();
        return count;
    }
}
