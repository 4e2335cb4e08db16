using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AlertBroker.Redis;
using AlertBroker.Registry;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Simulation;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// Three <c>alertbroker run</c> processes in one consumer group on librdkafka's mock cluster, with object state and the model
/// registry in a three-master Redis Cluster: every alert is classified, every object's stored light curve holds exactly
/// the observations sent, and a promotion made with <c>alertbroker models promote</c> reaches all three workers (their
/// classifications switch model and their heartbeats say so).
/// </summary>
public sealed class ClusterWorkersEndToEndTests : IClassFixture<RedisClusterFixture>, IDisposable
{
    private const int Workers = 3;
    private static readonly TimeSpan s_step = TimeSpan.FromSeconds(90);
    private readonly RedisClusterFixture _redis;
    private readonly MockKafkaCluster _kafka;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-e2e-cluster-").FullName;

    public ClusterWorkersEndToEndTests(RedisClusterFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
        _kafka = MockKafkaCluster.Start();
    }

    public void Dispose()
    {
        _kafka.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task ThreeWorkers_OneGroup_StateInRedisCluster_ClassifyEverything_AndFollowAPromotion()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        string input = "in-" + id, output = "out-" + id, deadLetters = "dlq-" + id, group = "g-" + id;
        string registryPrefix = "reg" + id, statePrefix = "st" + id;
        _kafka.CreateTopics(input, output, deadLetters);

        // The registry in the cluster: v1 active; v2 pushed, to be promoted while the workers run.
        var v1 = TestModelPackages.Export(Path.Combine(_root, "v1"), "e2e-gru", "1", seed: 11);
        var v2 = TestModelPackages.Export(Path.Combine(_root, "v2"), "e2e-gru", "2", seed: 12);
        string[] registry = ["--redis", _redis.Configuration, "--prefix", registryPrefix];
        Assert.Equal(0, await AlertBrokerCommand.Create().Parse(["models", "push", v1, .. registry]).InvokeAsync());
        Assert.Equal(0, await AlertBrokerCommand.Create().Parse(["models", "push", v2, .. registry]).InvokeAsync());
        Assert.Equal(0, await AlertBrokerCommand.Create().Parse(["models", "promote", "e2e-gru@1", .. registry]).InvokeAsync());

        var environment = new Dictionary<string, string?>
        {
            ["AlertBroker__Model__RegistryPrefix"] = registryPrefix,
            ["AlertBroker__Model__RegistryPollSeconds"] = "2",
            ["AlertBroker__State__KeyPrefix"] = statePrefix,
            ["AlertBroker__Kafka__CommitIntervalMs"] = "200",
            ["AlertBroker__Kafka__Properties__session.timeout.ms"] = "6000",
            ["AlertBroker__Kafka__Properties__heartbeat.interval.ms"] = "500",
        };
        var workers = new List<AlertBrokerProcess>();
        try
        {
            for (var w = 0; w < Workers; w++)
            {
                workers.Add(AlertBrokerProcess.Start(
                    [
                        "run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", input, "--group", group, "--output-topic", output,
                        "--dead-letter-topic", deadLetters, "--redis", _redis.Configuration, "--model-registry-redis", _redis.Configuration,
                        "--batch-size", "50", "--batch-timeout-ms", "50", "--http-port", "0",
                    ],
                    environment));
            }

            // The group settles: the mock's four partitions split over the three workers, each holding at least one.
            var clock = Stopwatch.StartNew();
            Dictionary<int, int[]> assignment;
            while (true)
            {
                assignment = CurrentAssignment(workers, input);
                var owned = assignment.Values.SelectMany(p => p).ToList();
                if (assignment.Count == Workers && assignment.Values.All(p => p.Length > 0) && owned.Count == MockKafkaCluster.PartitionsPerTopic && owned.Distinct().Count() == owned.Count)
                {
                    break;
                }

                Assert.True(clock.Elapsed < s_step && workers.TrueForAll(w => !w.HasExited), "the group did not settle:\n" + Logs(workers));
                await Task.Delay(200);
            }

            Assert.All(workers, w => Assert.True(w.Contains("ztf: switched to model e2e-gru@1"), w.Output));

            // Phase 1 (v1 active): 24 objects, their first four alerts each; phase 2 after the promotion: their last two, and 8 new objects.
            var older = SyntheticZtfAlerts.Generate(24, 6, seed: 5);
            var newer = SyntheticZtfAlerts.Generate(8, 3, seed: 6, objectOffset: 1000);
            var phase1 = older.GroupBy(a => a.ObjectId).SelectMany(g => g.Take(4)).OrderBy(a => a.Mjd).ToList();
            var phase2 = older.GroupBy(a => a.ObjectId).SelectMany(g => g.Skip(4)).Concat(newer).OrderBy(a => a.Mjd).ToList();
            var partitionOf = new Dictionary<long, int>();
            await WorkerStreamKit.ProduceAsync(_kafka.BootstrapServers, input, phase1, partitionOf);
            var outputs = WorkerStreamKit.ReadClassifications(_kafka.BootstrapServers, output, phase1.Count, s_step);
            Assert.True(WorkerStreamKit.SourceIds(outputs).SetEquals(phase1.Select(a => a.Candid)), $"phase 1: {outputs.Count} classifications for {phase1.Count} alerts\n" + Logs(workers));
            Assert.All(outputs, o => Assert.Equal("1", o.ModelVersion));

            // The promotion, as an operator (or the chart's Job) makes it: the real command against the cluster-hosted registry.
            var (promoted, promotion, _) = await AlertBrokerProcess.RunAsync(["models", "promote", "e2e-gru@2", .. registry, "--actor", "e2e", "--reason", "test"], timeout: s_step);
            Assert.True(promoted == 0, promotion);
            foreach (var w in workers)
            {
                Assert.True(await w.WaitForLineAsync("ztf: switched to model e2e-gru@2", s_step), "a worker did not switch:\n" + w.Output);
            }

            // Heartbeats show every worker on v2.
            using var redis = await RedisConnectionFactory.ConnectAsync(_redis.Configuration);
            var models = new RedisModelRegistry(redis, registryPrefix);
            var ids = workers.Select(w => Environment.MachineName + "-" + w.Id.ToString(CultureInfo.InvariantCulture)).ToHashSet();
            clock.Restart();
            IReadOnlyList<WorkerHeartbeat> beats;
            while (true)
            {
                beats = (await models.GetWorkersAsync(TimeSpan.FromMinutes(1))).Where(b => ids.Contains(b.WorkerId)).ToList();
                if (beats.Count == Workers && beats.All(b => b.Model == "e2e-gru@2"))
                {
                    break;
                }

                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "heartbeats: " + string.Join(", ", beats.Select(b => b.WorkerId + "=" + b.Model)));
                await Task.Delay(250);
            }

            var (_, status, _) = await AlertBrokerProcess.RunAsync(["models", "status", .. registry], timeout: s_step);
            Assert.All(ids, i => Assert.Contains(i, status, StringComparison.Ordinal));

            await WorkerStreamKit.ProduceAsync(_kafka.BootstrapServers, input, phase2, partitionOf);
            var all = WorkerStreamKit.ReadClassifications(_kafka.BootstrapServers, output, phase1.Count + phase2.Count, s_step);
            var second = all.Where(o => phase2.Any(a => a.Candid == o.SourceId)).ToList();
            Assert.True(WorkerStreamKit.SourceIds(all).SetEquals(phase1.Concat(phase2).Select(a => a.Candid)), $"{all.Count} classifications for {phase1.Count + phase2.Count} alerts\n" + Logs(workers));
            Assert.All(second, o => Assert.Equal("2", o.ModelVersion));

            // Each worker classified in both phases, with v1 then with v2: attributed through the partition each alert went to.
            foreach (var (worker, partitions) in CurrentAssignment(workers, input))
            {
                var mine = all.Where(o => partitions.Contains(partitionOf[o.SourceId])).ToList();
                Assert.Contains(mine, o => o.ModelVersion == "1");
                Assert.Contains(mine, o => o.ModelVersion == "2");
                Assert.All(mine, o => Assert.Equal(phase1.Any(a => a.Candid == o.SourceId) ? "1" : "2", o.ModelVersion));
            }

            // Graceful stop: SIGTERM, batch finished, offsets committed, exit code 0.
            foreach (var w in workers)
            {
                w.Terminate();
            }

            foreach (var w in workers)
            {
                await w.WaitForExitAsync(TimeSpan.FromSeconds(60));
                Assert.True(w.ExitCode == 0, $"exit code {w.ExitCode}:\n{w.Output}");
            }

            // State: every object's stored observations are exactly the ones its alerts carried, and objects lie on every master.
            var keys = await WorkerStreamKit.AssertStoredExactlyAsync(redis, _redis.Configuration, statePrefix, phase1.Concat(phase2));
            var masters = keys.Select(k => redis.GetDatabase().IdentifyEndpoint(k.ToStorageKey(statePrefix))!.ToString()).Distinct().Count();
            Assert.Equal(RedisClusterFixture.Masters, masters);
        }
        finally
        {
            foreach (var w in workers)
            {
                w.Dispose();
            }
        }
    }

    private static string Logs(List<AlertBrokerProcess> workers) =>
        string.Join("\n----\n", workers.Select((w, i) => $"worker {i} (pid {w.Id}):\n{w.Output}"));

    /// <summary>Each worker's partitions of <paramref name="topic"/> now, from its log of assignments and revocations (keyed by pid).</summary>
    private static Dictionary<int, int[]> CurrentAssignment(List<AlertBrokerProcess> workers, string topic)
    {
        var result = new Dictionary<int, int[]>();
        var partition = new Regex(Regex.Escape(topic) + @" \[+(\d+)\]+");
        foreach (var w in workers)
        {
            var owned = new HashSet<int>();
            foreach (var line in w.Output.Split('\n'))
            {
                var assigned = line.Contains("Partitions assigned:", StringComparison.Ordinal);
                if (!assigned && !line.Contains("Partitions revoked:", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (Match m in partition.Matches(line))
                {
                    var p = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                    if (assigned)
                    {
                        owned.Add(p);
                    }
                    else
                    {
                        owned.Remove(p);
                    }
                }
            }

            if (w.Contains("Partitions assigned:"))
            {
                result[w.Id] = [.. owned.Order()];
            }
        }

        return result;
    }
}
