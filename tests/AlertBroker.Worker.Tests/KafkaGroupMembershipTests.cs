using System.Collections.Concurrent;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Simulation;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// How a worker leaves its consumer group, seen from the broker: each test starts its own mock cluster with
/// <c>debug=mock</c>, whose brokers log every LeaveGroup request they handle ("Member … is leaving group …").
/// </summary>
/// <remarks>
/// The restart delay itself is not asserted: librdkafka's mock coordinator, unlike a Kafka broker, answers the last
/// member's LeaveGroup by waiting <c>session.timeout.ms</c> − 1 s before it admits the next member (docs/operations.md,
/// "Restarts and consumer-group membership"), so on the mock a clean stop and a session expiry differ only in how long
/// the newcomer waits.
/// </remarks>
public sealed class KafkaGroupMembershipTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [OnnxFact]
    public async Task Worker_StoppedCleanlyThenRestarted_LeavesTheGroupAndTheNextMemberReadsOnlyWhatFollows()
    {
        var leaves = new ConcurrentQueue<string>();
        using var cluster = StartLoggingCluster(leaves);
        var topics = new TestTopics(cluster);
        var store = new InMemoryObjectStateStore();
        var health = new WorkerHealth();
        var first = topics.Worker(Processor(store), health: health);
        using var stopFirst = new CancellationTokenSource();
        var runFirst = first.RunAsync(stopFirst.Token);
        var before = SyntheticZtfAlerts.Generate(6, 2, seed: 51);
        await topics.ProduceAsync(Keyed(before));
        Assert.True(await TestTopics.WaitUntilAsync(() => first.Classifications >= before.Count, s_timeout), $"{first.Classifications} of {before.Count} classified");
        var leftWhileRunning = LeftGroup(leaves, topics.Group);

        // The way every command stops: the token fires, the batch in hand is finished, offsets are committed, Close().
        await stopFirst.CancelAsync();
        await runFirst;
        var leftAfterStop = LeftGroup(leaves, topics.Group);

        var second = topics.Worker(Processor(store));
        using var stopSecond = new CancellationTokenSource();
        var runSecond = second.RunAsync(stopSecond.Token);
        var after = SyntheticZtfAlerts.Generate(5, 2, seed: 52, objectOffset: 100);
        await topics.ProduceAsync(Keyed(after));
        var resumed = await TestTopics.WaitUntilAsync(() => second.Classifications >= after.Count, s_timeout);
        await stopSecond.CancelAsync();
        await runSecond;

        Assert.False(leftWhileRunning);
        Assert.True(leftAfterStop, "the broker saw no LeaveGroup from the stopped worker");
        Assert.True(resumed, $"the restarted member classified {second.Classifications} of {after.Count}");

        // What the first member processed was committed as it closed: none of it is delivered again.
        Assert.Equal(after.Count, second.Alerts);
    }

    [OnnxFact]
    public async Task Worker_Aborted_DoesNotLeaveTheGroup()
    {
        // Abort stands for a crash (kill -9): the broker learns of it only when the session times out. This is what makes
        // the LeaveGroup seen after a clean stop the worker's doing rather than the mock's.
        var leaves = new ConcurrentQueue<string>();
        using var cluster = StartLoggingCluster(leaves);
        var topics = new TestTopics(cluster);
        using var never = new CancellationTokenSource();
        var (worker, run) = await StartAssignedAsync(topics, never.Token);

        worker.Abort();
        await run;

        Assert.False(LeftGroup(leaves, topics.Group));
    }

    [OnnxFact]
    public async Task Worker_GroupRebalanceNotFinished_SaysSoInTheLogUntilItIsIn()
    {
        // A group whose rebalance has not ended keeps a newcomer out without a word from librdkafka. On Kafka that is a
        // member that stopped without leaving (until its session times out); the mock's coordinator does it after the last
        // member's LeaveGroup, for session.timeout.ms − 1 s (5 s here; see the remarks above), and drops a member whose
        // connection closes, so a clean stop is what holds the group here. The newcomer says so after
        // NotInGroupWarnAfter, and once in, reads.
        using var cluster = MockKafkaCluster.Start();
        var topics = new TestTopics(cluster);
        using var stopFirst = new CancellationTokenSource();
        var (_, runFirst) = await StartAssignedAsync(topics, stopFirst.Token);
        await stopFirst.CancelAsync();
        await runFirst;

        var logs = new LogCapture();
        var health = new WorkerHealth();
        var next = new KafkaAlertWorker(topics.Options(), new StateOptions(), Processor(new InMemoryObjectStateStore()), health: health, logger: logs)
        {
            NotInGroupWarnAfter = TimeSpan.FromSeconds(1),
        };
        using var stop = new CancellationTokenSource();
        var run = next.RunAsync(stop.Token);
        var joined = await TestTopics.WaitUntilAsync(() => health.InGroup, s_timeout);
        var alerts = SyntheticZtfAlerts.Generate(3, 2, seed: 53);
        await topics.ProduceAsync(Keyed(alerts));
        var read = await TestTopics.WaitUntilAsync(() => next.Classifications >= alerts.Count, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.True(joined, "the newcomer never joined the group");
        Assert.True(read, $"classified {next.Classifications} of {alerts.Count}");
        var messages = logs.Entries.Select(e => e.Message).ToList();
        var waiting = messages.FindIndex(m => m.StartsWith($"Not yet a member of consumer group {topics.Group} after ", StringComparison.Ordinal));
        var assigned = messages.FindIndex(m => m.StartsWith("Partitions assigned", StringComparison.Ordinal));
        Assert.True(waiting >= 0, "no line about the wait:\n" + string.Join("\n", messages));
        Assert.True(waiting < assigned, "the wait was said after the assignment");
        Assert.Contains("session.timeout.ms (6 s)", messages[waiting], StringComparison.Ordinal);
        Assert.Equal(LogLevel.Warning, logs.Entries.ElementAt(waiting).Level);
    }

    // A worker with in-memory state, started and holding every partition of the topic.
    private static async Task<(KafkaAlertWorker Worker, Task Run)> StartAssignedAsync(TestTopics topics, CancellationToken stop)
    {
        var health = new WorkerHealth();
        var worker = topics.Worker(Processor(new InMemoryObjectStateStore()), health: health);
        var run = worker.RunAsync(stop);
        Assert.True(await TestTopics.WaitUntilAsync(() => health.AssignedPartitions == MockKafkaCluster.PartitionsPerTopic, s_timeout), "never assigned");
        return (worker, run);
    }

    [Fact]
    public void CreateConfigs_GroupInstanceIdAndSessionTimeout_ConsumerGetsThemAndProducerAndAdminStartWithoutWarnings()
    {
        // Static membership for StatefulSet pods is a pass-through setting; only the consumer is a group member.
        var options = new KafkaOptions { BootstrapServers = "127.0.0.1:1", Topics = ["t"] };
        options.Properties["group.instance.id"] = "alertbroker-0";
        options.Properties["session.timeout.ms"] = "60000";
        options.Properties["linger.ms"] = "7";
        var warnings = new ConcurrentQueue<string>();
        KafkaNativeLibrary.Load();
        using (new ProducerBuilder<Null, Null>(KafkaAlertWorker.CreateProducerConfig(options)).SetLogHandler((_, m) => Warned(m)).Build())
        using (new ProducerBuilder<Null, Null>(KafkaAlertWorker.CreateAdminConfig(options)).SetLogHandler((_, m) => Warned(m)).Build())
        {
        }

        var consumer = KafkaAlertWorker.CreateConsumerConfig(options);
        Assert.Equal("alertbroker-0", consumer.GroupInstanceId);
        Assert.Equal(60000, consumer.SessionTimeoutMs);
        Assert.Equal("7", KafkaAlertWorker.CreateProducerConfig(options).Get("linger.ms"));
        Assert.Empty(warnings);

        void Warned(LogMessage m)
        {
            if (m.Facility == "CONFWARN")
            {
                warnings.Enqueue(m.Message);
            }
        }
    }

    private static MockKafkaCluster StartLoggingCluster(ConcurrentQueue<string> leaves) =>
        MockKafkaCluster.Start(settings: new Dictionary<string, string>(StringComparer.Ordinal) { ["debug"] = "mock" }, log: line =>
        {
            if (line.Contains(" is leaving group ", StringComparison.Ordinal))
            {
                leaves.Enqueue(line);
            }
        });

    private static bool LeftGroup(ConcurrentQueue<string> leaves, string group) =>
        leaves.Any(l => l.EndsWith(" is leaving group " + group, StringComparison.Ordinal));

    private static List<(string? Key, byte[] Value)> Keyed(List<SyntheticZtfAlerts.SyntheticAlert> alerts) =>
        [.. alerts.Select(a => ((string?)a.ObjectId, a.Message))];
}
