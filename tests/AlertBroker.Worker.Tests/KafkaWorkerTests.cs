using AlertBroker.State;
using AlertBroker.Worker.Simulation;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>The worker against librdkafka's mock cluster and a real redis-server.</summary>
public sealed class KafkaWorkerTests : IClassFixture<MockKafkaFixture>, IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(40);
    private readonly MockKafkaFixture _kafka;
    private readonly RedisServerFixture _redis;

    public KafkaWorkerTests(MockKafkaFixture kafka, RedisServerFixture redis)
    {
        _kafka = kafka;
        _redis = redis;
    }

    private async Task<RedisObjectStateStore> RedisStoreAsync() =>
        await RedisObjectStateStore.ConnectAsync(new RedisStateOptions
        {
            Configuration = _redis.Configuration,
            KeyPrefix = "w" + Guid.NewGuid().ToString("N")[..8],
            CommandTimeout = TimeSpan.FromSeconds(1),
        });

    private static List<(string?, byte[])> Keyed(IEnumerable<SyntheticZtfAlerts.SyntheticAlert> alerts)
    {
        var list = new List<(string?, byte[])>();
        foreach (var a in alerts)
        {
            list.Add((a.ObjectId, a.Message));
        }

        return list;
    }

    private static async Task AssertStoredExactlyAsync(IObjectStateStore store, List<SyntheticZtfAlerts.SyntheticAlert> alerts)
    {
        var expected = ExpectedLightCurves(alerts.Select(a => a.Message));
        var keys = expected.Keys.ToArray();
        var states = new ObjectState?[keys.Length];
        await store.ReadAsync(keys, states);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.NotNull(states[i]);
            Assert.Equal(expected[keys[i]], states[i]!.Observations);
        }
    }

    [OnnxFact]
    public async Task Worker_AlertsAndPoison_ClassifiesEveryAlertDeadLettersPoisonStoresExactCurves()
    {
        Assert.True(_redis.Available, "redis-server is not installed (run eng/setup.sh)");
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(15, 4, seed: 11);
        var messages = Keyed(alerts);
        var poison = PoisonMessages();
        for (var i = 0; i < poison.Length; i++)
        {
            messages.Insert(i * 7, (null, poison[i]));
        }

        using var store = await RedisStoreAsync();
        var worker = topics.Worker(store);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync(messages);
        var outputs = topics.ReadAll(topics.Output, r => r.Count >= alerts.Count, s_timeout);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= poison.Length, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.Equal(alerts.Count, outputs.Count);
        Assert.Equal(alerts.Select(a => a.Candid).ToHashSet(), TestTopics.SourceIds(outputs));
        foreach (var o in outputs)
        {
            Assert.Equal(AlertBroker.Worker.Output.ClassificationCodec.Decode(o.Message.Value).ObjectId, System.Text.Encoding.UTF8.GetString(o.Message.Key!));
        }

        Assert.Equal(poison.Length, dead.Count);
        foreach (var d in dead)
        {
            Assert.Contains(poison, p => p.AsSpan().SequenceEqual(d.Message.Value));
            Assert.True(d.Message.Headers.TryGetLastBytes("alertbroker.error.kind", out var kind) && kind.Length > 0);
            Assert.True(d.Message.Headers.TryGetLastBytes("alertbroker.error.message", out var error) && error.Length > 0);
        }

        await AssertStoredExactlyAsync(store, alerts);

        // The same alerts again (a replay): nothing is added to any object.
        var before = worker.Alerts;
        var replay = topics.Worker(store);
        using var stop2 = new CancellationTokenSource();
        var run2 = replay.RunAsync(stop2.Token);
        await topics.ProduceAsync(Keyed(alerts));
        var all = topics.ReadAll(topics.Output, r => r.Count >= 2 * alerts.Count, s_timeout);
        await stop2.CancelAsync();
        await run2;
        Assert.Equal(2 * alerts.Count, all.Count);
        Assert.True(before > 0);
        await AssertStoredExactlyAsync(store, alerts);
    }

    [OnnxFact]
    public async Task Worker_KilledMidStreamAndRestarted_ClassifiesEveryAlertWithoutLossOrDuplicates()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(20, 5, seed: 12);
        var store = new InMemoryObjectStateStore();
        var first = topics.Worker(store, batchSize: 10);

        // Killed right after a batch's state and classifications were written but before its offsets were stored: the
        // worst moment, since that batch must be delivered again and must change nothing the second time.
        first.BatchCompleted += _ =>
        {
            if (first.Alerts >= alerts.Count / 3)
            {
                first.Abort();
            }
        };
        using var never = new CancellationTokenSource();
        var run1 = first.RunAsync(never.Token);
        var produce = topics.ProduceAsync(Keyed(alerts), perSecond: 300);
        await run1.WaitAsync(s_timeout);
        Assert.True(first.Alerts < alerts.Count, "the first worker finished before it was killed");

        var second = topics.Worker(store, batchSize: 10);
        using var stop = new CancellationTokenSource();
        var run2 = second.RunAsync(stop.Token);
        await produce;
        var outputs = topics.ReadAll(topics.Output, r => TestTopics.SourceIds(r).Count >= alerts.Count, s_timeout);
        await stop.CancelAsync();
        await run2;

        Assert.Equal(alerts.Select(a => a.Candid).ToHashSet(), TestTopics.SourceIds(outputs));
        await AssertStoredExactlyAsync(store, alerts);
    }

    [OnnxFact]
    public async Task Worker_RedisRestartedMidRun_PausesAndRecoversWithoutLoss()
    {
        Assert.True(_redis.Available, "redis-server is not installed (run eng/setup.sh)");
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(20, 4, seed: 13);
        using var store = await RedisStoreAsync();
        var worker = topics.Worker(store, batchSize: 10);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        var produce = topics.ProduceAsync(Keyed(alerts), perSecond: 200);
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Alerts >= 10, s_timeout));
        await _redis.RestartAsync(TimeSpan.FromSeconds(2));
        await produce;
        var outputs = topics.ReadAll(topics.Output, r => TestTopics.SourceIds(r).Count >= alerts.Count, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.Equal(alerts.Select(a => a.Candid).ToHashSet(), TestTopics.SourceIds(outputs));
        await AssertStoredExactlyAsync(store, alerts);
    }

    [OnnxFact]
    public async Task Worker_MessageThatKeepsFailingUnexpectedly_IsDeadLetteredAndTheRestFlows()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(6, 2, seed: 15);
        var cursed = alerts[3].ObjectId;
        var store = new ThrowingStore(new InMemoryObjectStateStore(), cursed);
        var worker = topics.Worker(store, batchSize: 50);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync(Keyed(alerts));
        var cursedCount = alerts.Count(a => a.ObjectId == cursed);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= cursedCount, s_timeout);
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Classifications >= alerts.Count - cursedCount, s_timeout));
        await stop.CancelAsync();
        await run;

        Assert.Equal(cursedCount, dead.Count);
        Assert.All(dead, d => Assert.True(d.Message.Headers.TryGetLastBytes("alertbroker.error.kind", out var k) && System.Text.Encoding.UTF8.GetString(k) == "Internal"));
        var outputs = topics.ReadAll(topics.Output, r => r.Count >= alerts.Count - cursedCount, s_timeout);
        Assert.Equal(alerts.Where(a => a.ObjectId != cursed).Select(a => a.Candid).ToHashSet(), TestTopics.SourceIds(outputs));
    }

    /// <summary>A store that fails (not as "unavailable") whenever one particular object is involved.</summary>
    private sealed class ThrowingStore(IObjectStateStore inner, string objectId) : IObjectStateStore
    {
        public Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default)
        {
            foreach (var k in keys)
            {
                if (k.ObjectId == objectId)
                {
                    throw new InvalidOperationException("simulated bug for " + objectId);
                }
            }

            return inner.ReadAsync(keys, results, cancellationToken);
        }

        public Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(writes, committed, cancellationToken);

        public Task<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);
    }

    [OnnxFact]
    public async Task TwoWorkers_OneGroup_SharePartitionsAndTotalsAreRight()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(24, 3, seed: 14);
        var store = new InMemoryObjectStateStore();
        var a = topics.Worker(store, batchSize: 10);
        var b = topics.Worker(store, batchSize: 10);
        using var stop = new CancellationTokenSource();
        var runA = a.RunAsync(stop.Token);
        var runB = b.RunAsync(stop.Token);
        await Task.Delay(3000);
        await topics.ProduceAsync(Keyed(alerts));
        Assert.True(await TestTopics.WaitUntilAsync(() => a.Alerts + b.Alerts >= alerts.Count, s_timeout));
        await stop.CancelAsync();
        await Task.WhenAll(runA, runB);

        Assert.True(a.Alerts > 0 && b.Alerts > 0, $"both workers should have had partitions: {a.Alerts} and {b.Alerts}");
        Assert.Equal(alerts.Count, a.Alerts + b.Alerts);
        var outputs = topics.ReadAll(topics.Output, r => r.Count >= alerts.Count, s_timeout);
        Assert.Equal(alerts.Select(x => x.Candid).ToHashSet(), TestTopics.SourceIds(outputs));
        await AssertStoredExactlyAsync(store, alerts);
    }
}
