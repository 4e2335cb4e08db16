using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Schemas;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// The consume loop under failure, against librdkafka's mock cluster: oversized dead letters, exact partition counts and
/// readiness without partitions, offset resets and lost partitions counted, librdkafka's log in the worker's log, Kafka
/// unreachable at start, a schema registry outage retried.
/// </summary>
public sealed class KafkaReliabilityTests : IClassFixture<MockKafkaFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly MockKafkaFixture _kafka;

    public KafkaReliabilityTests(MockKafkaFixture kafka)
    {
        _kafka = kafka;
    }

    [OnnxFact]
    public async Task Worker_20MbMessageThenGoodAlerts_DeadLettersAReferenceAndClassifiesEveryGoodAlert()
    {
        // The mock keeps ~5 MB per partition and drops older messages when one arrives (a batch stored over 5 MB is dropped
        // at once): the 20 MB message travels compressed (random 256 KB, then zeros: ~260 KB as zstd), as a real broker
        // would store it; the worker gets all 20 MB. It is appended after the worker has read everything before it, and
        // the alerts behind it only once it has been taken.
        var topics = new TestTopics(_kafka.Cluster);
        var store = new InMemoryObjectStateStore();
        using var metrics = new WorkerMetrics();
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(topics.Options(), new StateOptions { RetryInitialMs = 50, RetryMaxMs = 500 }, Processor(store), metrics, logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var before = SyntheticZtfAlerts.Generate(3, 2, seed: 41);
        await ProduceToPartitionAsync(topics, 0, before.Select(a => a.Message));
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Classifications >= before.Count, s_timeout));

        var huge = new byte[20 * 1024 * 1024];
        new Random(7).NextBytes(huge.AsSpan(0, 256 * 1024));
        "Obj\u0001"u8.CopyTo(huge); // an Avro container's magic: the decoder tries, and fails on, the whole 20 MB
        await ProduceToPartitionAsync(topics, 0, [huge], messageMaxBytes: 32 * 1024 * 1024, compression: CompressionType.Zstd);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= 1, s_timeout);

        var after = SyntheticZtfAlerts.Generate(4, 3, seed: 42, objectOffset: 100);
        await ProduceToPartitionAsync(topics, 0, after.Select(a => a.Message));
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Classifications >= before.Count + after.Count, s_timeout), $"{worker.Classifications} classified, {worker.DeadLetters} dead letters; log:\n" + string.Join('\n', logs.Lines.TakeLast(30)));
        await stop.CancelAsync();
        await run;

        var d = Assert.Single(dead);
        Assert.True(d.Message.Value.Length <= 1_000_000, $"dead letter of {d.Message.Value.Length} bytes");
        Assert.True(huge.AsSpan(0, d.Message.Value.Length).SequenceEqual(d.Message.Value), "the dead letter keeps the start of the payload");
        Assert.Equal("CorruptAvro", Header(d, "alertbroker.error.kind"));
        Assert.Equal(huge.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(d, KafkaAlertWorker.PayloadSizeHeader));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(huge)), Header(d, KafkaAlertWorker.PayloadSha256Header));
        Assert.Equal(d.Message.Value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(d, KafkaAlertWorker.PayloadKeptHeader));
        Assert.Equal(topics.Input, Header(d, KafkaAlertWorker.SourceTopicHeader));
        Assert.Equal("0", Header(d, KafkaAlertWorker.SourcePartitionHeader));
        var outputs = topics.ReadAll(topics.Output, r => r.Count >= before.Count + after.Count, s_timeout);
        Assert.Equal(before.Concat(after).Select(a => a.Candid).ToHashSet(), TestTopics.SourceIds(outputs));

        // A clean stop says so (the unfinished and uncommitted endings are said otherwise: the state-outage test below).
        Assert.Contains(logs.Lines, l => l.StartsWith("Information: Shutting down: finished the batch in hand, committed offsets, closed the consumer", StringComparison.Ordinal));
    }

    [OnnxFact]
    public async Task Worker_BrokerRefusesDeadLetterAsTooLarge_SendsItAgainSmaller()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var junk = new byte[300_000];
        new Random(8).NextBytes(junk);
        await ProduceToPartitionAsync(topics, 1, [junk]);

        // The broker answers the next produce request — the worker's dead letter — "message too large", as a topic with a
        // smaller max.message.bytes would.
        _kafka.Cluster.PushRequestErrors(0, ErrorCode.MsgSizeTooLarge);
        var worker = topics.Worker(new InMemoryObjectStateStore());
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= 1, s_timeout);
        await stop.CancelAsync();
        await run;

        var d = Assert.Single(dead);
        Assert.True(d.Message.Value.Length < junk.Length, "sent again with less of the payload");
        Assert.Equal("300000", Header(d, KafkaAlertWorker.PayloadSizeHeader));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(junk)), Header(d, KafkaAlertWorker.PayloadSha256Header));
    }

    [OnnxFact]
    public async Task Worker_ProducerMessageMaxBytesBelowTheLimit_DeadLetterFitsTheProducer()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var options = topics.Options();
        options.Properties["message.max.bytes"] = "100000";
        var worker = new KafkaAlertWorker(options, new StateOptions(), Processor(new InMemoryObjectStateStore()));
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var junk = new byte[250_000];
        new Random(9).NextBytes(junk);
        await ProduceToPartitionAsync(topics, 2, [junk]);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= 1, s_timeout);
        await stop.CancelAsync();
        await run;

        var d = Assert.Single(dead);
        Assert.InRange(d.Message.Value.Length, 1, 100_000);
        Assert.Equal("250000", Header(d, KafkaAlertWorker.PayloadSizeHeader));
    }

    // Until 2026-12-07 a batch whose classifications could not be published was processed again before each new try: its
    // alerts were counted again, and its classifications went out as re-deliveries (scoring CACHED, from the state the
    // first try had written) instead of with the scoring they were given. Only the publishing is tried again now.
    [OnnxFact]
    public async Task Worker_PublishRefusedOnce_PublishesTheBatchAsProcessed_CountingItsAlertsOnce()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(4, 2, seed: 53);
        await ProduceToPartitionAsync(topics, 0, alerts.Select(a => a.Message));

        // The broker refuses the worker's first produce request (a permanent error: librdkafka does not retry it).
        _kafka.Cluster.PushRequestErrors(0, ErrorCode.TopicAuthorizationFailed);
        using var metrics = new WorkerMetrics();
        long received = 0, publishErrors = 0;
        using var alertsListener = Listen(metrics, "alertbroker.alerts.received", (v, _) => Interlocked.Add(ref received, v));
        using var errorsListener = Listen(metrics, "alertbroker.errors", (v, tags) =>
        {
            if (tags.TryGetValue("kind", out var kind) && (string?)kind == "publish")
            {
                Interlocked.Add(ref publishErrors, v);
            }
        });
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(topics.Options(batchSize: 100), new StateOptions { RetryInitialMs = 50, RetryMaxMs = 200 }, new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => TestModels.A, new ClassificationCodec(), metrics), metrics, logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var outputs = topics.ReadAll(topics.Output, r => TestTopics.SourceIds(r).Count >= alerts.Count, s_timeout);
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Classifications >= alerts.Count, s_timeout), $"{worker.Classifications} classified; log:\n" + string.Join('\n', logs.Lines.TakeLast(20)));
        await stop.CancelAsync();
        await run;

        Assert.True(Interlocked.Read(ref publishErrors) >= 1, "the refused publish is counted; log:\n" + string.Join('\n', logs.Lines.TakeLast(20)));
        Assert.Equal(alerts.Count, Interlocked.Read(ref received));
        Assert.Equal(alerts.Count, worker.Classifications);

        // Every alert's classification as first scored; one refused produce request may have held only some of them, so
        // an alert can be there twice (at-least-once), but never as a re-delivery of itself.
        Assert.Equal(alerts.Select(a => a.Candid).ToHashSet(), TestTopics.SourceIds(outputs));
        foreach (var o in outputs)
        {
            var c = ClassificationCodec.Decode(o.Message.Value);
            Assert.True(c.Scoring is ScoringPath.Incremental or ScoringPath.Full, $"{c.ObjectId} {c.SourceId}: scoring {c.Scoring}");
        }
    }

    // Until 2026-12-07 writes that kept losing their check-and-set (another writer on the same objects) were taken for an
    // outage: "State store unavailable" in the log, and the health (/readyz, the web view) said the store was down.
    [OnnxFact]
    public async Task Worker_StateWritesKeepLosing_SaysAnotherWriter_NotAnOutage_AndGoesOnOnceTheyWin()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(3, 2, seed: 59);
        await ProduceToPartitionAsync(topics, 0, alerts.Select(a => a.Message));
        var store = new LosingStore(new InMemoryObjectStateStore()) { Losses = 45 };
        var health = new WorkerHealth();
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(topics.Options(batchSize: 100), new StateOptions { RetryInitialMs = 50, RetryMaxMs = 200 }, new AlertBatchProcessor(new AlertDecoder(), store, () => TestModels.A, new ClassificationCodec()) { MaxCasAttempts = 5 }, health: health, logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var conflictSaid = await TestTopics.WaitUntilAsync(() => logs.Lines.Any(l => l.Contains("State writes kept losing to another writer", StringComparison.Ordinal)), s_timeout);
        var outageDuringConflict = health.StateOutage;
        var done = await TestTopics.WaitUntilAsync(() => worker.Classifications >= alerts.Count, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.True(conflictSaid, "log:\n" + string.Join('\n', logs.Lines.TakeLast(20)));
        Assert.Null(outageDuringConflict);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("State store unavailable", StringComparison.Ordinal));
        Assert.True(done, $"{worker.Classifications} classified; log:\n" + string.Join('\n', logs.Lines.TakeLast(20)));
        Assert.Equal(alerts.Count, worker.Classifications);
        Assert.Equal(0, store.Losses);
    }

    [OnnxFact]
    public async Task Worker_AssignedFourPartitions_ReportsFourBeforeAnyMessage()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var health = new WorkerHealth();
        var worker = topics.Worker(Processor(new InMemoryObjectStateStore()), health: health);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        Assert.True(await TestTopics.WaitUntilAsync(() => health.InGroup, s_timeout));
        await Task.Delay(500);
        var assigned = health.AssignedPartitions;
        await stop.CancelAsync();
        await run;

        // Cooperative-sticky assigns incrementally; the count is the whole assignment, not the first increment or "1".
        Assert.Equal(MockKafkaCluster.PartitionsPerTopic, assigned);
        Assert.Equal(0, worker.Batches);
    }

    [OnnxFact]
    public async Task Workers_MoreThanPartitions_ExtraMemberIsInTheGroupWithNoPartitionAndReady()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var n = MockKafkaCluster.PartitionsPerTopic + 1;
        var healths = Enumerable.Range(0, n).Select(_ => new WorkerHealth()).ToArray();
        var workers = healths.Select(h => topics.Worker(Processor(new InMemoryObjectStateStore()), health: h)).ToArray();
        using var stop = new CancellationTokenSource();
        var runs = new List<Task>();
        foreach (var w in workers)
        {
            runs.Add(w.RunAsync(stop.Token));
            await Task.Delay(300);
        }

        var settled = await TestTopics.WaitUntilAsync(() => healths.All(h => h.InGroup) && healths.Sum(h => h.AssignedPartitions) == MockKafkaCluster.PartitionsPerTopic, s_timeout);
        var snapshot = healths.Select(h => (h.InGroup, h.AssignedPartitions)).ToArray();
        await stop.CancelAsync();
        await Task.WhenAll(runs);

        Assert.True(settled, "members: " + string.Join(", ", snapshot.Select(s => $"{s.InGroup}/{s.AssignedPartitions}")));
        Assert.Contains(snapshot, s => s.InGroup && s.AssignedPartitions == 0);
    }

    [OnnxFact]
    public async Task Workers_SecondMemberJoins_FirstReportsLagOnlyForThePartitionsItKeeps()
    {
        var topics = new TestTopics(_kafka.Cluster);
        using var metrics = new WorkerMetrics();
        var healthA = new WorkerHealth();
        var healthB = new WorkerHealth();
        var a = new KafkaAlertWorker(topics.Options(), new StateOptions(), Processor(new InMemoryObjectStateStore()), metrics, healthA);
        var b = new KafkaAlertWorker(topics.Options(), new StateOptions(), Processor(new InMemoryObjectStateStore()), new WorkerMetrics(), healthB);
        using var stop = new CancellationTokenSource();
        var runA = a.RunAsync(stop.Token);
        var alerts = SyntheticZtfAlerts.Generate(24, 1, seed: 43);
        await topics.ProduceAsync([.. alerts.Select(x => ((string?)x.ObjectId, x.Message))]);
        Assert.True(await TestTopics.WaitUntilAsync(() => a.Classifications >= alerts.Count, s_timeout));
        var alone = LagPartitions(metrics);

        var runB = b.RunAsync(stop.Token);
        var shared = await TestTopics.WaitUntilAsync(() => healthA.AssignedPartitions + healthB.AssignedPartitions == MockKafkaCluster.PartitionsPerTopic && healthB.AssignedPartitions > 0, s_timeout);
        var kept = healthA.AssignedPartitions;
        var afterwards = LagPartitions(metrics);
        await stop.CancelAsync();
        await Task.WhenAll(runA, runB);

        // Keyed alerts reach all four partitions, so the lone worker reports each; once the newcomer has some, the first
        // reports only what it kept (no batch has run since: the revocation itself drops the others).
        Assert.Equal(MockKafkaCluster.PartitionsPerTopic, alone.Count);
        Assert.True(shared, $"assignment never split: {healthA.AssignedPartitions} + {healthB.AssignedPartitions}");
        Assert.Equal(kept, afterwards.Count);
        Assert.True(afterwards.IsSubsetOf(alone));
    }

    // Found by the long-run hunt: the lag was set after each finished batch only, so through a 71-s Redis outage it read
    // 0 while 22,546 messages piled up. It is brought up to date while the batch waits, from the brokers' high watermarks.
    [OnnxFact]
    public async Task Worker_StateOutage_TheLagGrowsWhileTheBatchWaits()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(23, 1, seed: 47);
        var down = new StallingStore(new InMemoryObjectStateStore()) { StallFor = TimeSpan.FromDays(1) };
        var logs = new LogCapture();
        using var metrics = new WorkerMetrics();
        var worker = new KafkaAlertWorker(topics.Options(batchSize: 3), new StateOptions { RetryInitialMs = 50, RetryMaxMs = 200 }, Processor(down), metrics, logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await ProduceToPartitionAsync(topics, 0, alerts.Take(3).Select(a => a.Message));
        Assert.True(await TestTopics.WaitUntilAsync(() => logs.Lines.Any(l => l.Contains("State store unavailable", StringComparison.Ordinal)), s_timeout));

        await ProduceToPartitionAsync(topics, 0, alerts.Skip(3).Select(a => a.Message));
        var grown = await TestTopics.WaitUntilAsync(() => Lag(metrics, 0) >= 20, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.True(grown, $"lag of partition 0: {Lag(metrics, 0)}");
        Assert.Equal(0, worker.Classifications);
    }

    // Found by the long-run hunt: a metadata source that cannot serve was logged once per batch for as long as it lasted
    // (118 lines a minute at 500 alerts/s). Each problem is said once a minute now, and the batches not said are counted.
    [OnnxFact]
    public async Task Worker_AMetadataProblemInEveryBatch_IsSaidOnceAMinute_TheRestCountedAtTheStop()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var dir = Directory.CreateTempSubdirectory("ab-meta-log-").FullName;
        try
        {
            using var model = ActiveModel.CreateRandom(dir, hiddenSize: 8, metadata: true, name: "needs-z");
            Assert.True(model.MetadataRequired);
            var alerts = SyntheticZtfAlerts.Generate(5, 1, seed: 53);
            var logs = new LogCapture();
            var worker = new KafkaAlertWorker(topics.Options(batchSize: 1), new StateOptions(), Processor(new InMemoryObjectStateStore(), model), logger: logs);
            using (var stop = new CancellationTokenSource())
            {
                var run = worker.RunAsync(stop.Token);
                await ProduceToPartitionAsync(topics, 0, alerts.Select(a => a.Message));
                Assert.True(await TestTopics.WaitUntilAsync(() => worker.Classifications >= alerts.Count, s_timeout), string.Join('\n', logs.Lines));
                await stop.CancelAsync();
                await run;
            }

            Assert.True(worker.Batches >= 2, $"{worker.Batches} batches");
            var said = Assert.Single(logs.Lines, l => l.Contains("unavailable: no source supplies it here", StringComparison.Ordinal) && !l.Contains("more batches", StringComparison.Ordinal));
            Assert.StartsWith("Warning: ztf metadata ", said, StringComparison.Ordinal);
            var counted = Assert.Single(logs.Lines, l => l.Contains("more batches in the last", StringComparison.Ordinal));
            Assert.Contains($"{worker.Batches - 1} more batches", counted, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // The consumer-lag gauge of one partition of this worker's metrics (-1 when it reports none).
    private static long Lag(WorkerMetrics metrics, int partition)
    {
        var lag = -1L;
        using var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (ReferenceEquals(i.Meter, metrics.Meter) && i.Name == "alertbroker.consumer.lag")
                {
                    l.EnableMeasurementEvents(i);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == "partition" && Convert.ToInt32(t.Value, System.Globalization.CultureInfo.InvariantCulture) == partition)
                {
                    lag = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return lag;
    }

    // The partitions the consumer-lag gauge of this worker's metrics reports now.
    private static HashSet<int> LagPartitions(WorkerMetrics metrics)
    {
        var partitions = new HashSet<int>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (ReferenceEquals(i.Meter, metrics.Meter) && i.Name == "alertbroker.consumer.lag")
                {
                    l.EnableMeasurementEvents(i);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == "partition")
                {
                    partitions.Add(Convert.ToInt32(t.Value, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return partitions;
    }

    [OnnxFact]
    public async Task Worker_CommittedOffsetDeletedByRetention_CountsTheOffsetResetAndLogsIt()
    {
        var topics = new TestTopics(_kafka.Cluster);

        // The group has committed offset 1 of partition 3; then more than the mock's ~5 MB arrive there, and the mock
        // drops the oldest messages: offset 1 is gone, as after Kafka's retention deleted unconsumed data.
        var tp = new TopicPartition(topics.Input, 3);
        using (var committer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _kafka.Cluster.BootstrapServers, GroupId = topics.Group }).Build())
        {
            committer.Commit([new TopicPartitionOffset(tp, 1)]);
        }

        var filler = Enumerable.Range(0, 14).Select(i => new byte[512 * 1024]).ToList();
        await ProduceToPartitionAsync(topics, 3, filler);
        var resets = new ConcurrentBag<string>();
        using var metrics = new WorkerMetrics();
        using var listener = Listen(metrics, "alertbroker.kafka.offset_resets", (value, tags) =>
        {
            // The counter is exported at 0 on assignment; a reset adds 1.
            if (value > 0)
            {
                resets.Add((string)tags["topic"]!);
            }
        });
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(topics.Options(), new StateOptions(), Processor(new InMemoryObjectStateStore()), metrics, logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var counted = await TestTopics.WaitUntilAsync(() => !resets.IsEmpty, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.True(counted, "no offset reset counted; log:\n" + string.Join('\n', logs.Lines));
        Assert.Contains(topics.Input, resets);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("OFFSET", StringComparison.Ordinal) && e.Message.Contains("offset reset", StringComparison.Ordinal));
    }

    [OnnxFact]
    public async Task Worker_StalledLongerThanMaxPollInterval_CountsLostPartitionsAndRecovers()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var options = topics.Options(batchSize: 5);
        options.Properties["max.poll.interval.ms"] = "6000";
        var store = new StallingStore(new InMemoryObjectStateStore());
        var lost = 0L;
        using var metrics = new WorkerMetrics();
        using var listener = Listen(metrics, "alertbroker.kafka.partitions_lost", (value, _) => Interlocked.Add(ref lost, value));
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(options, new StateOptions { RetryInitialMs = 100, RetryMaxMs = 500 }, Processor(store), metrics, logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var alerts = SyntheticZtfAlerts.Generate(4, 2, seed: 44);
        store.StallFor = TimeSpan.FromSeconds(10);
        await topics.ProduceAsync(alerts.Select(a => ((string?)a.ObjectId, a.Message)).ToList());
        var counted = await TestTopics.WaitUntilAsync(() => Interlocked.Read(ref lost) > 0, s_timeout);
        var classified = await TestTopics.WaitUntilAsync(() => worker.Classifications >= alerts.Count, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.True(counted, "no lost partitions counted; log:\n" + string.Join('\n', logs.Lines.TakeLast(40)));
        Assert.True(classified, $"{worker.Classifications} of {alerts.Count} classified after the member rejoined; log:\n" + string.Join('\n', logs.Lines.TakeLast(60)));
        Assert.Contains(logs.Entries, e => e.Message.StartsWith("Partitions lost", StringComparison.Ordinal));
    }

    [OnnxFact]
    public async Task Worker_OutputTopicMissingAtStart_SaysSoOnceNamingIt()
    {
        // A cluster that does not create topics itself (auto.create.topics.enable=false) left a worker whose output topic
        // was never made retrying its first batch with nothing at start to say why.
        var topics = new TestTopics(_kafka.Cluster);
        var options = topics.Options();
        options.OutputTopic = "never-made-" + topics.Group;
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(options, new StateOptions(), Processor(new InMemoryObjectStateStore()), new WorkerMetrics(), logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var started = await TestTopics.WaitUntilAsync(() => logs.Entries.Any(e => e.Message.StartsWith("Partitions assigned", StringComparison.Ordinal)), s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.True(started, "never assigned; log:\n" + string.Join('\n', logs.Lines));
        var warning = Assert.Single(logs.Entries, e => e.Message.StartsWith("Kafka has no topic", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.StartsWith($"Kafka has no topic {options.OutputTopic} yet: it is made at its first use only where the brokers create topics themselves", warning.Message, StringComparison.Ordinal);
        Assert.EndsWith("every batch is held and retried until it exists (nothing is committed meanwhile)", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_KafkaUnreachableAtStart_FailsWithKafkaUnavailableAndLibrdkafkaLogIsVisible()
    {
        var options = new KafkaOptions
        {
            BootstrapServers = "127.0.0.1:1",
            Topics = ["t"],
            StartTimeoutMs = 2000,
        };
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(options, new StateOptions(), new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), (Func<ModelSet>)(() => throw new InvalidOperationException("no model needed")), new ClassificationCodec()), new WorkerMetrics(), logger: logs);

        var e = await Assert.ThrowsAsync<KafkaUnavailableException>(() => worker.RunAsync(CancellationToken.None).WaitAsync(s_timeout));

        Assert.Contains("127.0.0.1:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("did not answer within 2 s", e.Message, StringComparison.Ordinal);

        // librdkafka's own line ("rdkafka#producer-1 FAIL: … Connect to ipv4#127.0.0.1:1 failed") reaches the worker's log at error level (syslog 3).
        Assert.Contains(logs.Entries, x => x.Level == LogLevel.Error && x.Message.StartsWith("librdkafka rdkafka#producer", StringComparison.Ordinal) && x.Message.Contains(" FAIL: ", StringComparison.Ordinal) && x.Message.Contains("Connection refused", StringComparison.Ordinal));

        // Its last line does not claim a finished batch or a commit: nothing was read.
        Assert.Contains("Information: Stopped before reading anything: nothing to commit", logs.Lines);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("Shutting down", StringComparison.Ordinal) || l.Contains("Stopped without committing", StringComparison.Ordinal));
    }

    // Found by the long-run hunt: with the brokers down, librdkafka's FAIL line reached the worker's log about 22 times a
    // second per worker, at error level, for as long as the outage lasted. Each client and facility now has the first few
    // lines of a window logged and the rest counted, as dead letters do.
    [Fact]
    public async Task Worker_KafkaUnreachable_LibrdkafkaLinesAreBoundedPerClientAndFacility_TheRestCounted()
    {
        var options = new KafkaOptions
        {
            BootstrapServers = "127.0.0.1:1",
            Topics = ["t"],
            StartTimeoutMs = 6000,
        };
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(options, new StateOptions(), new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), (Func<ModelSet>)(() => throw new InvalidOperationException("no model needed")), new ClassificationCodec()), new WorkerMetrics(), logger: logs)
        {
            LibrdkafkaLog = new DeadLetterLogLimiter(perKindPerWindow: 1, window: TimeSpan.FromSeconds(2)),
        };

        await Assert.ThrowsAsync<KafkaUnavailableException>(() => worker.RunAsync(CancellationToken.None).WaitAsync(s_timeout));

        var lines = logs.Entries.Where(x => x.Message.StartsWith("librdkafka ", StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, x => x.Message.Contains(" FAIL: ", StringComparison.Ordinal));
        var summaries = logs.Entries.Where(x => x.Message.Contains("more librdkafka lines of ", StringComparison.Ordinal)).ToList();
        Assert.True(summaries.Count > 0, "nothing was held back in 6 s of reconnects; log:\n" + string.Join('\n', logs.Lines));
        Assert.Contains("alertbroker_kafka_log_messages_total counts every one", summaries[0].Message, StringComparison.Ordinal);

        // At most one line per client and facility in each 2-s window: 6 s of reconnects give at most 4 windows.
        foreach (var group in lines.GroupBy(x => string.Join(' ', x.Message.Split(' ').Skip(1).Take(2))))
        {
            Assert.True(group.Count() <= 4, $"{group.Count()} lines of {group.Key}");
        }
    }

    [Theory]
    [InlineData(SyslogLevel.Emergency, LogLevel.Critical)]
    [InlineData(SyslogLevel.Alert, LogLevel.Critical)]
    [InlineData(SyslogLevel.Critical, LogLevel.Critical)]
    [InlineData(SyslogLevel.Error, LogLevel.Error)]
    [InlineData(SyslogLevel.Warning, LogLevel.Warning)]
    [InlineData(SyslogLevel.Notice, LogLevel.Information)]
    [InlineData(SyslogLevel.Info, LogLevel.Information)]
    [InlineData(SyslogLevel.Debug, LogLevel.Debug)]
    public void ToLogLevel_EverySyslogLevel_MapsToTheMatchingLogLevel(SyslogLevel syslog, LogLevel expected) =>
        Assert.Equal(expected, KafkaAlertWorker.ToLogLevel(syslog));

    [SharedDataFact]
    public async Task Worker_SchemaRegistryDownWhileRunning_RetriesInsteadOfDeadLetteringAndReportsIt()
    {
        // A real Rubin alert in Confluent wire format; its schema registered in the fake registry.
        var wire = new SurveyWireFormat();
        var message = wire.ToWire(File.ReadAllBytes(SharedData.AvroFiles("lsst-real-v7_4").First())).First();
        Assert.True(ConfluentWireFormat.TryReadHeader(message, out var originalId));
        await using var registry = await FakeSchemaRegistry.StartAsync();
        var id = registry.Add("lsst-value", wire.Schemas[originalId].ToString());
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
        var unknown = (byte[])message.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(unknown.AsSpan(1), 9999);
        using var lookup = ConfluentSchemaRegistryLookup.Create(registry.Url);

        var topics = new TestTopics(_kafka.Cluster);
        var health = new WorkerHealth();
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = lookup });
        var worker = new KafkaAlertWorker(topics.Options(), new StateOptions { RetryInitialMs = 100, RetryMaxMs = 400 }, Processor(new InMemoryObjectStateStore(), decoder: decoder), health: health);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        registry.FailStatus = 503;
        await ProduceToPartitionAsync(topics, 0, [message]);
        var reported = await TestTopics.WaitUntilAsync(() => health.RegistryOutage is not null, s_timeout);
        await Task.Delay(1000);
        var deadDuringOutage = worker.DeadLetters;
        var classifiedDuringOutage = worker.Classifications;
        var reason = health.RegistryOutage?.Reason;
        registry.FailStatus = null;
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Classifications >= 1, s_timeout));
        await ProduceToPartitionAsync(topics, 0, [unknown]);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= 1, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.True(reported);
        Assert.Contains("503", reason, StringComparison.Ordinal);
        Assert.Equal(0, deadDuringOutage);
        Assert.Equal(0, classifiedDuringOutage);
        Assert.Null(health.RegistryOutage);

        // A schema id the registry genuinely does not know is still a dead letter.
        var d = Assert.Single(dead);
        Assert.Equal("SchemaNotFound", Header(d, "alertbroker.error.kind"));
    }

    // Stopped while Redis was down, the worker logged "Partitions revoked: t [[0]] @3; committed stored offsets": read as
    // offset 3 committed, while nothing had been (checked by hand against a stopped redis-server, then here): the next
    // member of the group classifies every alert the stopped one had read.
    [OnnxFact]
    public async Task Worker_StoppedDuringStateOutage_CommitsNothingAndSaysWhatThePositionsAre()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(3, 1, seed: 43);
        var down = new StallingStore(new InMemoryObjectStateStore()) { StallFor = TimeSpan.FromDays(1) };
        var logs = new LogCapture();
        var first = new KafkaAlertWorker(topics.Options(), new StateOptions { RetryInitialMs = 50, RetryMaxMs = 200 }, Processor(down), logger: logs);
        using (var stop = new CancellationTokenSource())
        {
            var run = first.RunAsync(stop.Token);
            await ProduceToPartitionAsync(topics, 0, alerts.Select(a => a.Message));
            Assert.True(await TestTopics.WaitUntilAsync(() => logs.Lines.Count(l => l.Contains("State store unavailable", StringComparison.Ordinal)) >= 2, s_timeout));
            await stop.CancelAsync();
            await run;
        }

        var revoked = Assert.Single(logs.Lines, l => l.Contains("Partitions revoked:", StringComparison.Ordinal));
        Assert.Contains(topics.Input + " [[0]] (read to 3)", revoked, StringComparison.Ordinal);
        Assert.Contains("committed the offsets of the alerts processed", revoked, StringComparison.Ordinal);
        Assert.DoesNotContain("@", revoked, StringComparison.Ordinal);
        Assert.Equal(0, first.Classifications);

        // The last line says the batch in hand was not finished (it said "finished the batch in hand" whatever happened).
        var stopped = Assert.Single(logs.Lines, l => l.Contains("Shutting down:", StringComparison.Ordinal));
        Assert.Contains("the batch in hand (3 messages) was not finished before the stop", stopped, StringComparison.Ordinal);
        Assert.DoesNotContain("finished the batch in hand", stopped, StringComparison.Ordinal);

        var second = new KafkaAlertWorker(topics.Options(), new StateOptions(), Processor(new InMemoryObjectStateStore()));
        using var stop2 = new CancellationTokenSource();
        var run2 = second.RunAsync(stop2.Token);
        var all = await TestTopics.WaitUntilAsync(() => second.Classifications >= alerts.Count, s_timeout);
        await stop2.CancelAsync();
        await run2;
        Assert.True(all, $"{second.Classifications} of {alerts.Count} classified by the next member");
    }

    /// <summary>
    /// Stopped while Kafka is gone, with alerts processed since the last commit: librdkafka's final commit waits for the
    /// group coordinator (until the session times out, and in about one run in six of this test, before the bound, for
    /// ever); the worker gives it <see cref="KafkaAlertWorker.FinalStepTimeout"/>, says the commit failed (nothing claims
    /// the offsets committed) and stops.
    /// </summary>
    [Fact]
    public async Task Worker_StoppedWhileKafkaIsGone_GivesUpTheFinalCommit_SaysSo_AndStops()
    {
        var logs = await StopWhileKafkaIsGoneAsync(seed: 44, commitIntervalMs: 3_600_000); // no periodic commit: all is left for the stop

        Assert.Contains(logs.Lines, l => l.Contains("Kafka did not answer the final commit within 1 s", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Contains("Stopped without committing: the commit failed", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("committed the offsets", StringComparison.Ordinal));
    }

    /// <summary>
    /// Stopped while Kafka is gone with everything already committed: the final commit has nothing to do, and librdkafka's
    /// close (the group leave) waits for the coordinator; the worker gives it <see cref="KafkaAlertWorker.FinalStepTimeout"/>
    /// and stops, saying it committed but did not leave the group (not "closed the consumer").
    /// </summary>
    [Fact]
    public async Task Worker_StoppedWhileKafkaIsGone_AfterItsLastCommit_GivesUpTheGroupLeave_SaysSo_AndStops()
    {
        var logs = await StopWhileKafkaIsGoneAsync(seed: 45, commitIntervalMs: 200, settle: TimeSpan.FromSeconds(1)); // several periodic commits: nothing is left

        Assert.Contains(logs.Lines, l => l.Contains("Kafka did not answer the group leave within 1 s", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Contains("Shutting down: finished the batch in hand and committed offsets, but did not leave the group", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("closed the consumer", StringComparison.Ordinal));
    }

    /// <summary>
    /// The double fault: the group leave given up (Kafka gone at the stop, everything classified before committed, as in
    /// the test above) and the batch in hand unfinished (the state store down for the last three alerts). The last line
    /// says both: that batch not committed, and no group leave (it said "closed the consumer").
    /// </summary>
    [Fact]
    public async Task Worker_StoppedWithABatchUnfinished_WhileKafkaIsGone_SaysItDidNotLeaveTheGroup()
    {
        var store = new StallingStore(new InMemoryObjectStateStore());
        var logs = await StopWhileKafkaIsGoneAsync(seed: 46, commitIntervalMs: 200, settle: TimeSpan.FromSeconds(1), store: store, beforeKafkaGoes: async (topics, log) =>
        {
            store.StallFor = TimeSpan.FromDays(1);
            var more = SyntheticZtfAlerts.Generate(3, 1, seed: 47, objectOffset: 100);
            await topics.ProduceAsync([.. more.Select(a => ((string?)a.ObjectId, a.Message))]);
            Assert.True(await TestTopics.WaitUntilAsync(() => log.Lines.Count(l => l.Contains("State store unavailable", StringComparison.Ordinal)) >= 2, s_timeout), "the store did not stall");
        });

        var stopped = Assert.Single(logs.Lines, l => l.Contains("Shutting down:", StringComparison.Ordinal));
        Assert.Contains("was not finished before the stop", stopped, StringComparison.Ordinal);
        Assert.Contains(logs.Lines, l => l.Contains("Kafka did not answer the group leave within 1 s", StringComparison.Ordinal));
        Assert.Contains("committed the batches before it, but did not leave the group", stopped, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("closed the consumer", StringComparison.Ordinal));
    }

    // A worker on its own mock cluster (FinalStepTimeout 1 s) classifies three alerts; after `settle` (and
    // `beforeKafkaGoes`) the cluster is disposed and the worker stopped; returns its log once it has stopped (within
    // s_timeout, else the test fails).
    private static async Task<LogCapture> StopWhileKafkaIsGoneAsync(int seed, int commitIntervalMs, TimeSpan settle = default, IObjectStateStore? store = null, Func<TestTopics, LogCapture, Task>? beforeKafkaGoes = null)
    {
        var kafka = MockKafkaCluster.Start();
        var topics = new TestTopics(kafka);
        var alerts = SyntheticZtfAlerts.Generate(3, 1, seed: seed);
        var logs = new LogCapture();
        var options = topics.Options();
        options.CommitIntervalMs = commitIntervalMs;
        var worker = new KafkaAlertWorker(options, new StateOptions { RetryInitialMs = 50, RetryMaxMs = 200 }, Processor(store ?? new InMemoryObjectStateStore()), logger: logs) { FinalStepTimeout = TimeSpan.FromSeconds(1) };
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync([.. alerts.Select(a => ((string?)a.ObjectId, a.Message))]);
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Classifications >= alerts.Count, s_timeout), $"{worker.Classifications} of {alerts.Count} classified");
        await Task.Delay(settle);
        if (beforeKafkaGoes is not null)
        {
            await beforeKafkaGoes(topics, logs);
        }

        kafka.Dispose();
        await stop.CancelAsync();
        await run.WaitAsync(s_timeout);
        return logs;
    }

    private static string? Header(ConsumeResult<byte[]?, byte[]> r, string name) =>
        r.Message.Headers.TryGetLastBytes(name, out var b) ? Encoding.UTF8.GetString(b) : null;

    private async Task ProduceToPartitionAsync(TestTopics topics, int partition, IEnumerable<byte[]> values, int messageMaxBytes = 1_000_000, CompressionType compression = CompressionType.None)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.Cluster.BootstrapServers, LingerMs = 5, MessageMaxBytes = messageMaxBytes, CompressionType = compression }).Build();
        foreach (var v in values)
        {
            await producer.ProduceAsync(new TopicPartition(topics.Input, partition), new Message<byte[]?, byte[]> { Value = v });
        }

        producer.Flush(TimeSpan.FromSeconds(10));
    }

    // Measurements of this worker's instruments only: other tests' workers, running in parallel, record under the same
    // meter name (a reset of topic "t" from WorkerEndpointsTests once ended the offset-reset test's wait).
    private static MeterListener Listen(WorkerMetrics metrics, string instrument, Action<long, Dictionary<string, object?>> onMeasurement)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (ReferenceEquals(i.Meter, metrics.Meter) && i.Name == instrument)
                {
                    l.EnableMeasurementEvents(i);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var t in tags)
            {
                dict[t.Key] = t.Value;
            }

            onMeasurement(value, dict);
        });
        listener.Start();
        return listener;
    }

    /// <summary>A store whose writes lose their check-and-set, changing nothing, until <see cref="Losses"/> have been lost.</summary>
    private sealed class LosingStore(IObjectStateStore inner) : IObjectStateStore
    {
        private int _losses;

        public int Losses { get => Volatile.Read(ref _losses); init => _losses = value; }

        public Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default) => inner.ReadAsync(keys, results, cancellationToken);

        public Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref _losses) > 0)
            {
                Interlocked.Decrement(ref _losses);
                Array.Fill(committed, false, 0, writes.Count);
                return Task.CompletedTask;
            }

            return inner.WriteAsync(writes, committed, cancellationToken);
        }

        public Task<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);
    }

    /// <summary>A store whose reads fail as "unavailable" for a while once <see cref="StallFor"/> is set.</summary>
    private sealed class StallingStore(IObjectStateStore inner) : IObjectStateStore
    {
        private DateTime _until = DateTime.MinValue;

        public TimeSpan StallFor { get; set; }

        public Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default)
        {
            if (StallFor > TimeSpan.Zero && _until == DateTime.MinValue)
            {
                _until = DateTime.UtcNow + StallFor;
            }

            if (DateTime.UtcNow < _until)
            {
                throw new StateStoreUnavailableException("simulated outage");
            }

            return inner.ReadAsync(keys, results, cancellationToken);
        }

        public Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default) => inner.WriteAsync(writes, committed, cancellationToken);

        public Task<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);
    }
}

/// <summary>An <see cref="ILogger"/> that keeps every entry (level and formatted message).</summary>
internal sealed class LogCapture : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IEnumerable<string> Lines => Entries.Select(e => e.Level + ": " + e.Message);

    /// <summary>Called with each entry as it is logged, on the logging thread (e.g. to act on a line at once).</summary>
    public Action<LogLevel, string>? OnEntry { get; init; }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Entries.Enqueue((logLevel, formatter(state, exception)));
        OnEntry?.Invoke(logLevel, formatter(state, exception));
        if (Environment.GetEnvironmentVariable("AB_TEST_LOG") is { } file)
        {
            lock (Entries)
            {
                File.AppendAllText(file, DateTime.UtcNow.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) + " " + logLevel + ": " + formatter(state, exception) + "\n");
            }
        }
    }
}
