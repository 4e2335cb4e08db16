using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Cli.Consume;
using AlertBroker.State;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Simulation;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// The process-level fault suite (<c>--filter Category=Fault</c>, or <c>bash eng/fault-suite.sh</c>): a real
/// <c>alertbroker run</c> against librdkafka's mock cluster and a real redis-server, fed good alerts and a poison mix
/// (random bytes, a truncated alert, a wrong schema, 20 MB, NaN, an absurd time, a 100,000-point history, a few kilobytes
/// inflating to 64 MB), then
/// <c>kill -9</c> mid-stream and a restart, a Redis restart with persistence, a Redis stop/start without it, and SIGTERM.
/// The output and dead-letter topics are read back with <c>alertbroker consume --jsonl</c>; the report (alerts in,
/// classifications out, lost, duplicated, dead letters by kind, state consistency) is printed and asserted: 0 lost,
/// re-deliveries identical, every poison message dead-lettered with its kind, state consistent, exit code 0.
/// </summary>
[Trait("Category", "Fault")]
public sealed class FaultSuiteTests : IClassFixture<RedisServerFixture>, IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);
    private readonly RedisServerFixture _redis;
    private readonly ITestOutputHelper _output;
    private readonly MockKafkaCluster _kafka = MockKafkaCluster.Start();
    private readonly string _root = Directory.CreateTempSubdirectory("ab-fault-").FullName;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    public FaultSuiteTests(RedisServerFixture redis, ITestOutputHelper output)
    {
        _redis = redis;
        _output = output;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    private string Input => "in-" + _id;

    private string Output => "out-" + _id;

    private string DeadLetters => "dlq-" + _id;

    private string Prefix => "fault" + _id;

    public void Dispose()
    {
        _kafka.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task FaultSuite_KillRedisOutagesAndPoisonMix_NothingLostStateConsistentPoisonDeadLettered()
    {
        _kafka.CreateTopics(Input, Output, DeadLetters);
        var model = TestModelPackages.Export(Path.Combine(_root, "model", "1"), "fault-gru", "1", seed: 11);
        var good = new Dictionary<(int Partition, long Offset), SyntheticZtfAlerts.SyntheticAlert>();
        var poison = new Dictionary<(int Partition, long Offset), (string Name, string? Kind)>();
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            LingerMs = 5,
            MessageMaxBytes = 32 * 1024 * 1024,
            CompressionType = CompressionType.Zstd, // the mock keeps ~5 MB per partition: the 20 MB message travels compressed
        }).Build();

        async Task ProduceGood(IEnumerable<SyntheticZtfAlerts.SyntheticAlert> alerts, int delayMs = 0)
        {
            foreach (var a in alerts)
            {
                var r = await producer.ProduceAsync(Input, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(a.ObjectId), Value = a.Message });
                lock (good)
                {
                    good[(r.Partition.Value, r.Offset.Value)] = a;
                }

                if (delayMs > 0)
                {
                    await Task.Delay(delayMs);
                }
            }
        }

        // Phase 1: half the first alerts, the poison mix, the worker; the other half while it runs; kill -9 mid-stream.
        var first = SyntheticZtfAlerts.Generate(30, 4, seed: 51);
        await ProduceGood(first.Take(60));
        var partition = 0;
        foreach (var (name, kind, bytes) in PoisonMix(first[0]))
        {
            var r = await producer.ProduceAsync(new TopicPartition(Input, partition++ % MockKafkaCluster.PartitionsPerTopic), new Message<byte[]?, byte[]> { Value = bytes });
            poison[(r.Partition.Value, r.Offset.Value)] = (name, kind);
        }

        await using var outputs = new TopicCollector(_kafka.BootstrapServers, [Output, DeadLetters]);
        var worker = StartWorker(model);
        var stopwatch = Stopwatch.StartNew();
        var rest = ProduceGood(first.Skip(60), delayMs: 10);
        Assert.True(await WaitUntilAsync(() => outputs.Classifications >= 40, s_timeout), "no classifications before the kill; worker output:\n" + worker.Output);
        var beforeKill = outputs.Classifications;
        worker.Signal(9);
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var killCode = worker.ExitCode;
        worker.Dispose();
        await rest;
        worker = StartWorker(model);
        Assert.True(
            await WaitUntilAsync(() => outputs.Covers(good.Keys) && outputs.DeadLettered(poison.Keys), s_timeout),
            "phase 1 incomplete; worker output:\n" + worker.Output);

        // The first worker may have classified everything before the kill landed; then the phases below must not begin
        // while the second one is still starting (Redis down at start is exit 4 by design, not the outage tested here).
        Assert.True(await WaitUntilAsync(() => worker.Output.Contains("Partitions assigned", StringComparison.Ordinal), s_timeout), "the restarted worker did not start; output:\n" + worker.Output);

        // Phase 2: Redis restarted with its data (SHUTDOWN SAVE, 2 s down) while alerts arrive.
        var second = SyntheticZtfAlerts.Generate(20, 3, seed: 52, objectOffset: 1000);
        var during = ProduceGood(second, delayMs: 20);
        await _redis.RestartAsync(TimeSpan.FromSeconds(2));
        await during;
        Assert.True(await WaitUntilAsync(() => outputs.Covers(good.Keys), s_timeout), "phase 2 incomplete; worker output:\n" + worker.Output);
        var consistentWithPersistence = await CheckStateAsync(first.Concat(second), outputs);

        // Phase 3: Redis stopped and started empty (no persistence) for 3 s; new objects arrive meanwhile.
        await _redis.StopAsync();
        var third = SyntheticZtfAlerts.Generate(20, 3, seed: 53, objectOffset: 2000);
        var whileDown = ProduceGood(third, delayMs: 20);
        await Task.Delay(3000);
        await _redis.StartAsync(_redis.Port);
        await whileDown;
        Assert.True(await WaitUntilAsync(() => outputs.Covers(good.Keys), s_timeout), "phase 3 incomplete; worker output:\n" + worker.Output);
        var consistentAfterWipe = await CheckStateAsync(third, outputs);

        // Phase 4: SIGTERM during a Redis outage is a clean stop that commits nothing unwritten: a new worker classifies
        // what arrived during the outage once Redis is back.
        await _redis.StopAsync();
        var fourth = SyntheticZtfAlerts.Generate(10, 2, seed: 54, objectOffset: 3000);
        await ProduceGood(fourth);
        await Task.Delay(3000);
        worker.Signal(15);
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var outageTermCode = worker.ExitCode;
        var outageLog = worker.Output;
        worker.Dispose();
        await _redis.StartAsync(_redis.Port);
        worker = StartWorker(model);
        Assert.True(await WaitUntilAsync(() => outputs.Covers(good.Keys), s_timeout), "phase 4 incomplete; worker output:\n" + worker.Output);

        // Memory: the worker's resident set once caught up, then after four alerts of 9,000 points each (accepted; each
        // object keeps its newest 4,000), a full GC, and 200 ordinary alerts.
        var rssBaseline = worker.ResidentMegabytes();
        var longOnes = Enumerable.Range(0, 4).Select(i => SyntheticZtfAlerts.LongHistory(8_000_000 + i, 9_000, seed: 70 + i)).ToList();
        await ProduceGood(longOnes);
        Assert.True(await WaitUntilAsync(() => outputs.Covers(good.Keys), s_timeout), "long histories not classified; worker output:\n" + worker.Output);
        var rssPeak = worker.ResidentMegabytes();
        await ProduceGood(SyntheticZtfAlerts.Generate(50, 4, seed: 55, objectOffset: 4000));
        Assert.True(await WaitUntilAsync(() => outputs.Covers(good.Keys), s_timeout), "phase 5 incomplete; worker output:\n" + worker.Output);
        var rssAfter = worker.ResidentMegabytes();
        var longStored = await StoredObservationsAsync(longOnes.Select(a => a.ObjectId));

        // SIGTERM: a clean stop.
        worker.Signal(15);
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var termCode = worker.ExitCode;
        var log = worker.Output;
        worker.Dispose();

        // Read both topics back as an operator would.
        var (consumeCode, consumeOutput, jsonl) = await AlertBrokerProcess.RunAsync(
            ["consume", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", Output, "--topic", DeadLetters, "--from-beginning", "--jsonl", "--timeout", "5"]);
        var lines = jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var classifications = lines.Where(l => l.GetProperty("type").GetString() == "classification").ToList();
        var deadLetters = lines.Where(l => l.GetProperty("type").GetString() == "dead_letter").ToList();
        static (int, long) Source(JsonElement e) => (e.GetProperty("source").GetProperty("partition").GetInt32(), e.GetProperty("source").GetProperty("offset").GetInt64());
        var classifiedSources = classifications.GroupBy(Source).ToDictionary(g => g.Key, g => g.ToList());
        var lost = good.Keys.Count(k => !classifiedSources.ContainsKey(k));
        var duplicated = classifications.Count - classifiedSources.Count;
        var unfaithful = classifiedSources.Values.Count(g => g.Select(c => c.GetProperty("observationCount").GetInt32() + "/" + c.GetProperty("probabilities").GetRawText()).Distinct().Count() > 1);
        var deadBySource = deadLetters.GroupBy(Source).ToDictionary(g => g.Key, g => g.First().GetProperty("kind").GetString());
        var kinds = deadLetters.GroupBy(d => d.GetProperty("kind").GetString()).ToDictionary(g => g.Key!, g => g.Count());

        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"fault suite: {good.Count + poison.Count} messages in ({good.Count} alerts, {poison.Count} poison), {classifications.Count} classifications out for {classifiedSources.Count} alerts, lost {lost}, duplicated {duplicated} (re-delivered after kill -9; {unfaithful} differing from the first)")
            .AppendLine(CultureInfo.InvariantCulture, $"  kill -9 after {beforeKill} classifications ({stopwatch.Elapsed.TotalSeconds:F1} s), exit {killCode}; SIGTERM during a Redis outage exit {outageTermCode}; SIGTERM exit {termCode}; consume exit {consumeCode}")
            .AppendLine(CultureInfo.InvariantCulture, $"  worker RSS {rssBaseline:F0} MB caught up, {rssPeak:F0} MB after four 9,000-point alerts (stored: {string.Join("/", longStored)} points), {rssAfter:F0} MB after 200 more alerts")
            .AppendLine(CultureInfo.InvariantCulture, $"  {deadLetters.Count} dead letters for {deadBySource.Count} messages (a poison message read again after kill -9 is dead-lettered again); by kind: {string.Join(", ", kinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"))}")
            .AppendLine("  poison: " + string.Join(", ", poison.Select(p => $"{p.Value.Name} → {deadBySource.GetValueOrDefault(p.Key) ?? "NOT DEAD-LETTERED"}")))
            .AppendLine(CultureInfo.InvariantCulture, $"  state consistent after kill -9 and a Redis restart with persistence: {consistentWithPersistence.Consistent}/{consistentWithPersistence.Objects} objects; after a restart without persistence (new objects): {consistentAfterWipe.Consistent}/{consistentAfterWipe.Objects}");
        _output.WriteLine(report.ToString());
        if (Environment.GetEnvironmentVariable("AB_FAULT_REPORT") is { Length: > 0 } reportFile)
        {
            File.WriteAllText(reportFile, report.ToString());
        }

        Assert.True(termCode == 0, $"SIGTERM exit code {termCode}:\n{log}");
        Assert.True(outageTermCode == 0, $"SIGTERM during a Redis outage: exit code {outageTermCode}:\n{outageLog}");
        Assert.All(longStored, n => Assert.Equal(AlertBroker.Worker.Pipeline.AlertBatchProcessor.DefaultMaxObservationsPerObject, n));
        Assert.True(consumeCode == 0, consumeOutput);
        Assert.Equal(0, lost);
        Assert.Equal(0, unfaithful);
        Assert.Equal(good.Count + poison.Count, classifiedSources.Count + deadBySource.Count);
        foreach (var (position, (name, kind)) in poison)
        {
            Assert.True(deadBySource.TryGetValue(position, out var actual), name + " was not dead-lettered\n" + report);
            if (kind is not null)
            {
                Assert.True(kind == actual, $"{name}: dead-lettered as {actual}, expected {kind}");
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(actual), name);
            }
        }

        Assert.Equal(consistentWithPersistence.Objects, consistentWithPersistence.Consistent);
        Assert.Equal(consistentAfterWipe.Objects, consistentAfterWipe.Consistent);
        Assert.Equal(poison.Count, deadBySource.Count);
        Assert.DoesNotContain(deadBySource.Keys, k => good.ContainsKey(k));
    }

    /// <summary>The poison mix, each with the dead-letter kind it must get (null: any kind, said in the report).</summary>
    private static IEnumerable<(string Name, string? Kind, byte[] Bytes)> PoisonMix(SyntheticZtfAlerts.SyntheticAlert sample)
    {
        var random = new Random(99);
        var junk = new byte[5000];
        random.NextBytes(junk);
        yield return ("random bytes", null, junk);
        yield return ("truncated alert", nameof(AlertErrorKind.CorruptAvro), sample.Message[..(sample.Message.Length * 2 / 3)]);

        var other = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"Weather","fields":[{"name":"celsius","type":"double"}]}""");
        var record = new GenericRecord(other);
        record["celsius"] = 12.5;
        using (var stream = new MemoryStream())
        {
            using (var writer = new AvroContainerWriter(stream, other, leaveOpen: true))
            {
                writer.Write(record);
            }

            yield return ("wrong schema", nameof(AlertErrorKind.UnknownFormat), stream.ToArray());
        }

        var huge = new byte[20 * 1024 * 1024];
        random.NextBytes(huge.AsSpan(0, 256 * 1024));
        "Obj\u0001"u8.CopyTo(huge);
        yield return ("20 MB", nameof(AlertErrorKind.CorruptAvro), huge);
        yield return ("NaN magnitude", nameof(AlertErrorKind.InvalidValue), Mutate(sample.Message, c => c["magpsf"] = float.NaN));
        yield return ("MJD 1e30", nameof(AlertErrorKind.InvalidValue), Mutate(sample.Message, c => c["jd"] = 1e30));
        yield return ("100,000-point history", nameof(AlertErrorKind.HistoryTooLong), SyntheticZtfAlerts.LongHistory(9_999_999, 100_000, seed: 3).Message);
        yield return ("zstandard bomb", nameof(AlertErrorKind.TooLarge), SyntheticZtfAlerts.CompressionBomb(64 * 1024 * 1024));
    }

    private static byte[] Mutate(byte[] container, Action<GenericRecord> changeCandidate)
    {
        var reader = AvroContainerReader.Open(container);
        var alert = (GenericRecord)reader.ReadAll().Single()!;
        changeCandidate((GenericRecord)alert["candidate"]!);
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, reader.Header.Schema, leaveOpen: true))
        {
            writer.Write(alert);
        }

        return stream.ToArray();
    }

    /// <summary>
    /// State is consistent for an object when Redis holds exactly as many observations as the classification of its newest
    /// alert counted (every observation up to that alert's time, nothing lost, nothing twice).
    /// </summary>
    private async Task<(int Objects, int Consistent)> CheckStateAsync(IEnumerable<SyntheticZtfAlerts.SyntheticAlert> alerts, TopicCollector outputs)
    {
        var newest = alerts.GroupBy(a => a.ObjectId).Select(g => g.MaxBy(a => a.Mjd)!).ToList();
        using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions { Configuration = _redis.Configuration, KeyPrefix = Prefix });
        var states = new ObjectState?[newest.Count];
        await store.ReadAsync(newest.Select(a => new ObjectKey(Survey.Ztf, a.ObjectId)).ToList(), states);
        var consistent = 0;
        for (var i = 0; i < newest.Count; i++)
        {
            var counts = outputs.ObservationCounts(newest[i].Candid);
            if (states[i] is { } s && counts.Count > 0 && counts.All(c => c == s.Observations.Length)
                && s.Observations.Distinct().Count() == s.Observations.Length)
            {
                consistent++;
            }
            else
            {
                _output.WriteLine($"inconsistent: {newest[i].ObjectId}: {states[i]?.Observations.Length.ToString(CultureInfo.InvariantCulture) ?? "no state"} stored, classifications counted {string.Join("/", counts)}");
            }
        }

        return (newest.Count, consistent);
    }

    private async Task<List<int>> StoredObservationsAsync(IEnumerable<string> objectIds)
    {
        var ids = objectIds.ToList();
        using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions { Configuration = _redis.Configuration, KeyPrefix = Prefix });
        var states = new ObjectState?[ids.Count];
        await store.ReadAsync(ids.Select(id => new ObjectKey(Survey.Ztf, id)).ToList(), states);
        return states.Select(s => s?.Observations.Length ?? 0).ToList();
    }

    private AlertBrokerProcess StartWorker(string model) => AlertBrokerProcess.Start(
        ["run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", Input, "--group", "g-" + _id, "--output-topic", Output, "--dead-letter-topic", DeadLetters,
            "--redis", _redis.Configuration, "--model", model, "--batch-size", "10", "--http-port", "0"],
        new Dictionary<string, string?>
        {
            ["AlertBroker__State__KeyPrefix"] = Prefix,
            ["AlertBroker__Kafka__Properties__session.timeout.ms"] = "6000",
        });

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }

    /// <summary>Reads the output and dead-letter topics in the background while the suite runs.</summary>
    private sealed class TopicCollector : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<(int, long), ConcurrentBag<TopicMessage>> _classified = new();
        private readonly ConcurrentDictionary<(int, long), string> _dead = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _classifications;

        public TopicCollector(string bootstrap, string[] topics)
        {
            _loop = Task.Run(() => TopicReader.ReadAsync(
                new TopicReaderSettings { BootstrapServers = bootstrap, Topics = topics, FromBeginning = true },
                new TopicMessageDecoder(new AlertDecoder()),
                m =>
                {
                    Add(m);
                    return Task.CompletedTask;
                },
                _stop.Token));
        }

        public int Classifications => Volatile.Read(ref _classifications);

        public bool Covers(IEnumerable<(int Partition, long Offset)> inputs) => inputs.ToList().All(_classified.ContainsKey);

        public bool DeadLettered(IEnumerable<(int Partition, long Offset)> inputs) => inputs.All(_dead.ContainsKey);

        public List<int> ObservationCounts(long sourceId) =>
            _classified.Values.SelectMany(b => b).Where(m => m.Classification!.SourceId == sourceId).Select(m => m.Classification!.ObservationCount).ToList();

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }

        private void Add(TopicMessage m)
        {
            if (m.Source is not { } source)
            {
                return;
            }

            if (m.Type == TopicMessageType.Classification)
            {
                _classified.GetOrAdd((source.Partition, source.Offset), _ => []).Add(m);
                Interlocked.Increment(ref _classifications);
            }
            else if (m.Type == TopicMessageType.DeadLetter)
            {
                _dead[(source.Partition, source.Offset)] = m.DeadLetter!.Kind;
            }
        }
    }
}
