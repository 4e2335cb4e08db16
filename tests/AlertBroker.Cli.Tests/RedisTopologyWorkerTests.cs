using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Redis;
using AlertBroker.State;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Simulation;
using StackExchange.Redis;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// One <c>alertbroker run</c> on librdkafka's mock cluster with its object state in a Redis deployment that changes under
/// it — a Redis Cluster master killed, its replica taking over (<see cref="ClusterFailoverTests"/>); slots moved to
/// another master with their keys (<see cref="ClusterReshardTests"/>); a Sentinel-watched primary killed
/// (<see cref="SentinelFailoverTests"/>) — or a cluster that speaks only TLS with an ACL user, registry included
/// (<see cref="SecureClusterWorkerTests"/>). Alerts go in before and during the change, and afterwards every alert has its
/// classification, nothing was dead-lettered, the worker stops with exit code 0, and every object's stored light curve
/// holds exactly the observations its alerts carried.
/// </summary>
public abstract class RedisTopologyWorkerTestsBase : IDisposable
{
    protected static readonly TimeSpan Step = TimeSpan.FromSeconds(90);
    private readonly MockKafkaCluster _kafka = MockKafkaCluster.Start();
    private readonly string _root = Directory.CreateTempSubdirectory("ab-e2e-cluster-worker-").FullName;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private AlertBrokerProcess? _worker;

    protected RedisTopologyWorkerTestsBase(RedisServerFixture redis)
    {
        Redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    protected RedisServerFixture Redis { get; }

    /// <summary>The Redis Cluster (for the tests that have one).</summary>
    protected RedisClusterFixture Cluster => (RedisClusterFixture)Redis;

    protected string StatePrefix => "st" + _id;

    private protected AlertBrokerProcess Worker => _worker ?? throw new InvalidOperationException("no worker started");

    public void Dispose()
    {
        _worker?.Dispose();
        _kafka.Dispose();
        Directory.Delete(_root, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>The first four alerts of each of <paramref name="objects"/> objects, then their last two with three of as many new objects.</summary>
    protected static (List<SyntheticZtfAlerts.SyntheticAlert> First, List<SyntheticZtfAlerts.SyntheticAlert> Second) Phases(int objects)
    {
        var older = SyntheticZtfAlerts.Generate(objects, 6, seed: 5);
        var newer = SyntheticZtfAlerts.Generate(objects, 3, seed: 6, objectOffset: 1000);
        return (
            older.GroupBy(a => a.ObjectId).SelectMany(g => g.Take(4)).OrderBy(a => a.Mjd).ToList(),
            older.GroupBy(a => a.ObjectId).SelectMany(g => g.Skip(4)).Concat(newer).OrderBy(a => a.Mjd).ToList());
    }

    /// <summary>
    /// The <c>AlertBroker:Redis</c> settings of the fixture's ACL user and TLS, as environment variables (none for a plain
    /// cluster), and the registry prefix of this test.
    /// </summary>
    private Dictionary<string, string?> RedisEnvironment()
    {
        var environment = new Dictionary<string, string?> { ["AlertBroker__Model__RegistryPrefix"] = "reg" + _id };
        if (Redis.Tls)
        {
            environment["AlertBroker__Redis__User"] = Redis.User;
            environment["AlertBroker__Redis__Password"] = Redis.Password;
            environment["AlertBroker__Redis__Tls"] = "true";
            environment["AlertBroker__Redis__TlsCaFile"] = Redis.CaFile;
        }

        return environment;
    }

    /// <summary>
    /// Starts the worker (state in the cluster; the model the cluster-hosted registry makes active when
    /// <paramref name="fromRegistry"/>, else a small package), waits until it holds the input's partitions, and has it
    /// classify <paramref name="first"/>; returns those classifications.
    /// </summary>
    protected async Task<List<Classification>> StartWorkerAsync(IReadOnlyCollection<SyntheticZtfAlerts.SyntheticAlert> first, bool fromRegistry = false)
    {
        _kafka.CreateTopics(Input, Output, DeadLetters);
        var environment = RedisEnvironment();
        environment["AlertBroker__State__KeyPrefix"] = StatePrefix;
        environment["AlertBroker__Kafka__CommitIntervalMs"] = "200";
        string[] model = fromRegistry
            ? ["--model-registry-redis", Redis.Configuration]
            : ["--model", TestModelPackages.Export(Path.Combine(_root, "model"), "cluster-gru", "1", seed: 11)];
        _worker = AlertBrokerProcess.Start(
            [
                "run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", Input, "--group", "g-" + _id, "--output-topic", Output,
                "--dead-letter-topic", DeadLetters, "--redis", Redis.Configuration, .. model,
                "--batch-size", "50", "--batch-timeout-ms", "50", "--http-port", "0",
            ],
            environment);
        Assert.True(await _worker.WaitForLineAsync("Partitions assigned:", Step), "the worker did not join its group:\n" + _worker.Output);
        await ProduceAsync(first);
        var outputs = WorkerStreamKit.ReadClassifications(_kafka.BootstrapServers, Output, first.Count, Step);
        Assert.True(WorkerStreamKit.SourceIds(outputs).SetEquals(first.Select(a => a.Candid)), $"first phase: {outputs.Count} classifications for {first.Count} alerts\n" + _worker.Output);
        return outputs;
    }

    /// <summary>
    /// Makes a package <paramref name="name"/>@1, pushes it to the registry in the fixture's Redis and promotes it, with the
    /// real commands and every setting from the environment, as the chart's promote Job runs them.
    /// </summary>
    protected async Task PushAndPromoteAsync(string name)
    {
        var environment = RedisEnvironment();
        environment["AlertBroker__Model__RegistryRedis"] = Redis.Configuration;
        var package = TestModelPackages.Export(Path.Combine(_root, name), name, "1", seed: 12);
        foreach (var args in new[] { new[] { "models", "push", package }, ["models", "promote", name + "@1", "--actor", "test"] })
        {
            var (exit, output, _) = await AlertBrokerProcess.RunAsync(args, environment, Step);
            Assert.True(exit == 0, string.Join(' ', args) + " → " + exit + ":\n" + output);
        }
    }

    protected Task ProduceAsync(IEnumerable<SyntheticZtfAlerts.SyntheticAlert> alerts, int perSecond = 0) =>
        WorkerStreamKit.ProduceAsync(_kafka.BootstrapServers, Input, alerts, perSecond: perSecond);

    /// <summary>
    /// Waits for the classification of every alert <paramref name="sent"/>, checks that nothing was dead-lettered and that
    /// the worker stops with exit code 0, then reads the stored light curves back through a new connection (to a cluster's
    /// masters now, or through the Sentinel); returns that connection.
    /// </summary>
    protected async Task<ConnectionMultiplexer> AssertEverythingClassifiedAndStoredAsync(IReadOnlyCollection<SyntheticZtfAlerts.SyntheticAlert> sent)
    {
        var outputs = WorkerStreamKit.ReadClassifications(_kafka.BootstrapServers, Output, sent.Count, Step);
        Assert.True(WorkerStreamKit.SourceIds(outputs).SetEquals(sent.Select(a => a.Candid)), $"{WorkerStreamKit.SourceIds(outputs).Count} of {sent.Count} alerts classified\n" + Worker.Output);
        var deadLetters = WorkerStreamKit.ReadUntil(_kafka.BootstrapServers, DeadLetters, _ => false, TimeSpan.FromSeconds(2));
        Assert.True(deadLetters.Count == 0, $"{deadLetters.Count} dead letters\n" + Worker.Output);

        Worker.Terminate();
        await Worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(Worker.ExitCode == 0, $"exit code {Worker.ExitCode}:\n{Worker.Output}");

        var endpoints = Redis is RedisClusterFixture cluster
            ? string.Join(",", (await cluster.ClusterNodesAsync()).Where(n => n.IsMaster && !n.Failed && n.Slots.Count > 0).Select(n => "127.0.0.1:" + n.Port.ToString(CultureInfo.InvariantCulture)))
            : Redis.Configuration;
        var redis = await RedisConnectionFactory.ConnectAsync(endpoints, Redis.SecurityOptions());
        await WorkerStreamKit.AssertStoredExactlyAsync(redis, Redis.Configuration, StatePrefix, sent);
        return redis;
    }

    /// <summary>The objects of <paramref name="alerts"/>, each with the port of the master that serves its stored light curve now.</summary>
    protected async Task<Dictionary<ObjectKey, int>> MastersOfAsync(IEnumerable<SyntheticZtfAlerts.SyntheticAlert> alerts)
    {
        var masters = new Dictionary<ObjectKey, int>();
        foreach (var key in alerts.Select(a => new ObjectKey(Survey.Ztf, a.ObjectId)).Distinct())
        {
            masters[key] = await Cluster.MasterOfAsync(key.ToStorageKey(StatePrefix));
        }

        return masters;
    }

    private string Input => "in-" + _id;

    private string Output => "out-" + _id;

    private string DeadLetters => "dlq-" + _id;
}

/// <summary>A master killed (SIGKILL) while the worker runs, with alerts for its objects arriving at once.</summary>
public sealed class ClusterFailoverTests(RedisClusterWithReplicasFixture redis) : RedisTopologyWorkerTestsBase(redis), IClassFixture<RedisClusterWithReplicasFixture>
{
    [Fact]
    public async Task AMasterKilled_ItsReplicaTakesOver_TheWorkerGoesOnWithoutLosingOrDeadLetteringAnything()
    {
        var (first, second) = Phases(40);
        await StartWorkerAsync(first);

        // The victim serves some of the objects; its replica has everything it wrote, so nothing may be missing afterwards
        // (with writes not yet replicated, the loss of those is Redis's asynchronous replication, not the worker's).
        var masters = await MastersOfAsync(first);
        var victim = masters.Values.First();
        var onVictim = masters.Where(m => m.Value == victim).Select(m => m.Key).ToList();
        Assert.True(onVictim.Count > 0 && onVictim.Count < masters.Count, $"{onVictim.Count} of {masters.Count} objects on the master to be killed");
        await Cluster.WaitForReplicasInSyncAsync(Step);
        await Cluster.KillNodeAsync(victim);
        var produced = ProduceAsync(second, perSecond: 100);
        var successor = await Cluster.WaitForFailoverAsync(victim, Step);
        await produced;

        using (var connection = await AssertEverythingClassifiedAndStoredAsync([.. first, .. second]))
        {
            // The victim's objects (updated after the kill) are now served by its former replica.
            Assert.All(onVictim, k => Assert.Equal(successor, ((System.Net.IPEndPoint)connection.GetDatabase().IdentifyEndpoint(k.ToStorageKey(StatePrefix))!).Port));
        }
    }
}

/// <summary>Slots moved from one master to another (<c>redis-cli --cluster reshard</c>, keys migrating) while alerts arrive.</summary>
public sealed class ClusterReshardTests(RedisClusterFixture redis) : RedisTopologyWorkerTestsBase(redis), IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task SlotsMovedWithTheirKeys_WhileAlertsArrive_TheWorkerGoesOnWithoutLosingOrDeadLetteringAnything()
    {
        var (first, second) = Phases(60);
        await StartWorkerAsync(first);

        var before = await MastersOfAsync(first);

        // Alerts arrive through the whole move (about 3 s for 3,000 slots here; the alerts take 5 s).
        int from = Cluster.MasterPorts[0], to = Cluster.MasterPorts[1];
        var produced = ProduceAsync(second, perSecond: 60);
        var (exit, output) = await Cluster.ReshardAsync(from, to, 3000);
        Assert.True(exit == 0, "redis-cli --cluster reshard: " + output);
        await produced;

        (await AssertEverythingClassifiedAndStoredAsync([.. first, .. second])).Dispose();
        var after = await MastersOfAsync(first);
        var onSource = before.Where(m => m.Value == from).Select(m => m.Key).ToList();
        Assert.True(onSource.Any(k => after[k] == to), $"none of the {onSource.Count} objects on {from} moved: nothing was tested");
    }
}

/// <summary>
/// A Redis Cluster that speaks only TLS, with an ACL user (as a managed cluster with encryption in transit and
/// authentication): the registry commands push and promote there, and the worker follows that registry and keeps its
/// state there, every setting from the environment as the chart passes them.
/// </summary>
public sealed class SecureClusterWorkerTests(SecureRedisClusterFixture redis) : RedisTopologyWorkerTestsBase(redis), IClassFixture<SecureRedisClusterFixture>
{
    [Fact]
    public async Task TlsAndAclCluster_RegistryAndState_EverythingClassifiedAndStored_OnEveryMaster()
    {
        await PushAndPromoteAsync("tls-gru");

        var (first, second) = Phases(30);
        var classifications = await StartWorkerAsync(first, fromRegistry: true);
        Assert.All(classifications, c => Assert.Equal("tls-gru", c.ModelName));
        await ProduceAsync(second);

        using var connection = await AssertEverythingClassifiedAndStoredAsync([.. first, .. second]);
        var masters = first.Concat(second).Select(a => new ObjectKey(Survey.Ztf, a.ObjectId).ToStorageKey(StatePrefix)).Distinct()
            .Select(k => connection.GetDatabase().IdentifyEndpoint(k)!.ToString()).Distinct().Count();
        Assert.Equal(RedisClusterFixture.Masters, masters);
    }
}

/// <summary>
/// A primary watched by a Sentinel, killed (SIGKILL) while the worker runs with alerts arriving: the Sentinel promotes the
/// replica, and the worker — given the Sentinel and the service name, state and registry both there — follows it. Run
/// plain (<see cref="SentinelFailoverTests"/>) and with TLS everywhere and an ACL user (<see cref="SecureSentinelFailoverTests"/>).
/// </summary>
public abstract class SentinelFailoverTestsBase(RedisSentinelFixture redis) : RedisTopologyWorkerTestsBase(redis)
{
    [Fact]
    public async Task ThePrimaryKilled_TheSentinelPromotesTheReplica_TheWorkerFollowsWithoutLosingOrDeadLetteringAnything()
    {
        var sentinel = (RedisSentinelFixture)Redis;
        await PushAndPromoteAsync("sentinel-gru");

        var (first, second) = Phases(40);
        Assert.All(await StartWorkerAsync(first, fromRegistry: true), c => Assert.Equal("sentinel-gru", c.ModelName));

        await sentinel.WaitForReplicaInSyncAsync(Step);
        var lost = await sentinel.KillPrimaryAsync();
        var produced = ProduceAsync(second, perSecond: 100);
        var promoted = await sentinel.WaitForFailoverAsync(lost, Step);
        await produced;

        using var connection = await AssertEverythingClassifiedAndStoredAsync([.. first, .. second]);
        var key = new ObjectKey(Survey.Ztf, first[0].ObjectId).ToStorageKey(StatePrefix);
        Assert.Equal(promoted, ((System.Net.IPEndPoint)connection.GetDatabase().IdentifyEndpoint(key)!).Port);
    }
}

/// <summary>The Sentinel failover with no TLS and no ACL user.</summary>
public sealed class SentinelFailoverTests(RedisSentinelFixture redis) : SentinelFailoverTestsBase(redis), IClassFixture<RedisSentinelFixture>;

/// <summary>
/// The Sentinel failover with TLS everywhere and one ACL user on the Sentinel and the data nodes: every setting from the
/// environment, as the chart passes them. docs/deployment.md said this combination was untested.
/// </summary>
public sealed class SecureSentinelFailoverTests(SecureRedisSentinelFixture redis) : SentinelFailoverTestsBase(redis), IClassFixture<SecureRedisSentinelFixture>;
