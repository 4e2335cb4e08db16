using AlertBroker.Alerts;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using Confluent.Kafka;
using Xunit.Abstractions;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// Promotions and a rollback reaching two workers of one consumer group while alerts flow through the mock Kafka cluster:
/// nothing is lost or duplicated, every classification is tagged with the model that computed it, and each worker moves
/// through the promoted versions in order without flapping.
/// </summary>
public sealed class HotSwapUnderLoadTests : IClassFixture<MockKafkaFixture>, IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly string[] s_classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
    private readonly MockKafkaFixture _kafka;
    private readonly ITestOutputHelper _output;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-hotswap-load-").FullName;

    public HotSwapUnderLoadTests(MockKafkaFixture kafka, ITestOutputHelper output)
    {
        _kafka = kafka;
        _output = output;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [OnnxFact]
    public async Task TwoWorkers_PromotionsAndRollbackUnderLoad_EveryAlertOnceTaggedWithItsModelAndNoFlapping()
    {
        // Three versions of one model; v1 is active when the workers start.
        var registry = new DirectoryModelRegistry(Path.Combine(_root, "registry"));
        var dirs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (version, seed) in new[] { ("1", 11), ("2", 22), ("3", 33) })
        {
            dirs[version] = Export(version, seed);
            await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dirs[version], "model.json")), File.ReadAllBytes(Path.Combine(dirs[version], "model.onnx"))), "test");
        }

        var promoter = new ModelPromoter(registry);
        Assert.True((await promoter.PromoteAsync(new ModelRef("swap", "1"), new PromotionOptions { By = "test" })).Promoted);

        var topics = new TestTopics(_kafka.Cluster);
        var store = new InMemoryObjectStateStore();
        await using var a = new Rig("a", registry, topics, store);
        await using var b = new Rig("b", registry, topics, store);
        Rig[] rigs = [a, b];
        await a.StartAsync();
        await b.StartAsync();

        // Both members hold partitions before anything is produced, so no rebalance happens while alerts flow.
        Assert.True(await TestTopics.WaitUntilAsync(() => a.Health.AssignedPartitions > 0 && b.Health.AssignedPartitions > 0, s_timeout), "both workers should get partitions");

        // A steady producer: objects with several alerts each, interleaved in time, until told to stop.
        var pool = SyntheticZtfAlerts.Generate(objects: 60, alertsPerObject: 10, seed: 21);
        using var producer = new Producer(topics, pool, perSecond: 40);
        var production = producer.RunAsync();

        // v1 → v2 → v3 → (rollback) v2 → v3, each step once both workers have scored with the version before it.
        (string Action, string Version)[] steps = [("start", "1"), ("promote", "2"), ("promote", "3"), ("rollback", "2"), ("promote", "3")];
        foreach (var (action, version) in steps)
        {
            var marks = rigs.Select(r => r.BatchCount).ToArray();
            var produced = producer.Produced;
            switch (action)
            {
                case "promote":
                    var result = await promoter.PromoteAsync(new ModelRef("swap", version), new PromotionOptions { By = "test" });
                    Assert.True(result.Promoted, string.Join("; ", result.Findings));
                    break;
                case "rollback":
                    var record = await promoter.RollbackAsync("ztf", "test", "under-load rollback");
                    Assert.Equal("swap@" + version, record.To);
                    break;
                default:
                    break;
            }

            foreach (var rig in rigs)
            {
                Assert.True(await TestTopics.WaitUntilAsync(() => rig.Watcher.CurrentFor("ztf")?.Ref.Version == version, s_timeout), $"worker {rig.Name} never switched to v{version} ({rig.Watcher.LastError})");
            }

            // Let alerts flow under this version: enough of them produced, and each worker has scored some batches with it.
            for (var i = 0; i < rigs.Length; i++)
            {
                var rig = rigs[i];
                var mark = marks[i];
                Assert.True(
                    await TestTopics.WaitUntilAsync(() => producer.Produced >= produced + 50 && rig.BatchesWithVersionSince(mark, version) >= 2, s_timeout),
                    $"worker {rig.Name} scored no batches with v{version} (produced {producer.Produced}, exhausted {producer.Exhausted})");
            }
        }

        await producer.StopAsync();
        await production;
        var sent = producer.Sent;
        Assert.InRange(sent.Count, 250, pool.Count);
        Assert.True(await TestTopics.WaitUntilAsync(() => a.Worker.Alerts + b.Worker.Alerts >= sent.Count, s_timeout), $"classified {a.Worker.Alerts + b.Worker.Alerts} of {sent.Count}");
        foreach (var rig in rigs)
        {
            await rig.StopAsync();
        }

        var published = a.Outputs.Count + b.Outputs.Count;
        var outputs = topics.ReadAll(topics.Output, r => r.Count >= published, s_timeout);

        // 1. Every alert exactly once in the output topic, and what was published is what the workers report.
        var bySource = outputs.Select(o => ClassificationCodec.Decode(o.Message.Value)).ToList();
        Assert.Equal(sent.Count, published);
        Assert.Equal(sent.Count, outputs.Count);
        Assert.Equal(sent.Select(x => x.Candid).Order(), bySource.Select(c => c.SourceId).Order());
        var reported = a.Outputs.Concat(b.Outputs).ToDictionary(c => c.SourceId);
        foreach (var c in bySource)
        {
            var r = reported[c.SourceId];
            Assert.Equal(r.ModelVersion, c.ModelVersion);
            Assert.Equal(r.Probabilities, c.Probabilities);
        }

        // No object's partition moved between the workers.
        Assert.Empty(a.Outputs.Select(c => c.ObjectId).Intersect(b.Outputs.Select(c => c.ObjectId), StringComparer.Ordinal));

        // 2. Each classification is the tagged model's full re-run over the light curve as of that alert.
        var curves = ExpectedLightCurves(sent.Select(x => x.Message));
        var models = dirs.ToDictionary(kv => kv.Key, kv => ActiveModel.Load(kv.Value), StringComparer.Ordinal);
        try
        {
            foreach (var c in bySource)
            {
                Assert.Equal("swap", c.ModelName);
                Assert.True(models.TryGetValue(c.ModelVersion, out var model), $"v{c.ModelVersion} was never active");
                var points = curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray();
                var full = FullRerun(model!, points, out var n);
                Assert.Equal(n, c.StepCount);
                AssertClose(full.AsSpan((n - 1) * s_classes.Length, s_classes.Length), c.Probabilities);
            }
        }
        finally
        {
            foreach (var m in models.Values)
            {
                m.Dispose();
            }
        }

        // 3. Per object, in output order: a model the object's state was not computed with re-runs the whole curve; the
        //    same model continues from the stored state.
        var swapReruns = 0;
        var incremental = 0;
        foreach (var group in bySource.GroupBy(c => c.ObjectId, StringComparer.Ordinal))
        {
            var history = group.ToList();
            for (var i = 0; i < history.Count; i++)
            {
                var c = history[i];
                if (i == 0 || history[i - 1].ModelVersion != c.ModelVersion)
                {
                    Assert.True(c.Scoring == ScoringPath.Full, $"{c.ObjectId} alert {c.SourceId}: first v{c.ModelVersion} classification was {c.Scoring}, not a full re-run");
                    swapReruns += i == 0 ? 0 : 1;
                }
                else
                {
                    Assert.True(c.Scoring is ScoringPath.Incremental or ScoringPath.Full, $"{c.ObjectId} alert {c.SourceId}: {c.Scoring}");
                    incremental += c.Scoring == ScoringPath.Incremental ? 1 : 0;
                }
            }
        }

        _output.WriteLine($"{sent.Count} alerts of {curves.Count} objects; batches a={a.BatchCount} b={b.BatchCount}; full re-runs after a swap {swapReruns}, incremental {incremental}");
        Assert.True(swapReruns > 0, "no object was re-run after a swap");
        Assert.True(incremental > 0, "no classification was incremental");

        // 4. Each worker followed the registry step by step: its watcher switched once per promotion or rollback, and the
        //    versions of its batches (one version per batch) changed only there, ending at v3.
        string[] expected = ["1", "2", "3", "2", "3"];
        foreach (var rig in rigs)
        {
            Assert.Equal(expected, rig.Switches);
            Assert.Equal(expected.Length, rig.Watcher.Switches);
            Assert.Null(rig.Watcher.LastError);
            Assert.Equal(expected, rig.BatchVersionRuns());
            await rig.Watcher.ReportHeartbeatAsync();
        }

        var workers = await registry.GetWorkersAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(new[] { "hot-a", "hot-b" }, workers.Select(w => w.WorkerId));
        Assert.All(workers, w => Assert.Equal("swap@3", w.Model));
        var audit = await registry.GetAuditAsync();
        Assert.Equal(new[] { "promote", "promote", "promote", "rollback", "promote" }, audit.Select(r => r.Action));
    }

    private string Export(string version, int seed) =>
        TestModelPackages.Export(Path.Combine(_root, "export", version), "swap", version, seed, hidden: 16, classes: s_classes);

    /// <summary>One worker following the registry: watcher, model source, Kafka loop, and what it did, batch by batch.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly Lock _gate = new();
        private readonly List<string> _switches = [];
        private readonly List<Classification[]> _batches = [];
        private readonly CancellationTokenSource _stop = new();
        private readonly RegistryModelSource _source;
        private Task? _run;

        public Rig(string name, IModelRegistry registry, TestTopics topics, IObjectStateStore store)
        {
            Name = name;
            Watcher = new ActiveModelWatcher(registry, new ActiveModelWatcherOptions
            {
                WorkerId = "hot-" + name,
                PollInterval = TimeSpan.FromMilliseconds(200),
                HeartbeatInterval = TimeSpan.FromSeconds(1),
            });
            Watcher.Switched += m =>
            {
                lock (_gate)
                {
                    _switches.Add(m.Model!.Ref.Version);
                }
            };
            _source = new RegistryModelSource(Watcher);
            Health = new WorkerHealth();
            Worker = topics.Worker(new AlertBatchProcessor(new AlertDecoder(), store, _source.ForNextBatch, new ClassificationCodec()), batchSize: 20, health: Health);
            Worker.BatchCompleted += r =>
            {
                var outputs = r.Outputs.Select(o => o.Classification).ToArray();
                if (outputs.Length == 0)
                {
                    return;
                }

                lock (_gate)
                {
                    _batches.Add(outputs);
                }
            };
        }

        public string Name { get; }

        public ActiveModelWatcher Watcher { get; }

        public WorkerHealth Health { get; }

        public KafkaAlertWorker Worker { get; }

        public int BatchCount
        {
            get
            {
                lock (_gate)
                {
                    return _batches.Count;
                }
            }
        }

        public List<string> Switches
        {
            get
            {
                lock (_gate)
                {
                    return [.. _switches];
                }
            }
        }

        public List<Classification> Outputs
        {
            get
            {
                lock (_gate)
                {
                    return [.. _batches.SelectMany(b => b)];
                }
            }
        }

        public async Task StartAsync()
        {
            await Watcher.StartAsync();
            _run = Worker.RunAsync(_stop.Token);
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            if (_run is not null)
            {
                await _run;
                _run = null;
            }
        }

        public int BatchesWithVersionSince(int mark, string version)
        {
            lock (_gate)
            {
                return _batches.Skip(mark).Count(b => b[0].ModelVersion == version);
            }
        }

        /// <summary>The model versions of the batches in order, runs collapsed; asserts that no batch mixed versions.</summary>
        public List<string> BatchVersionRuns()
        {
            var runs = new List<string>();
            lock (_gate)
            {
                foreach (var batch in _batches)
                {
                    var version = batch[0].ModelVersion;
                    Assert.All(batch, c => Assert.Equal(version, c.ModelVersion));
                    if (runs.Count == 0 || runs[^1] != version)
                    {
                        runs.Add(version);
                    }
                }
            }

            return runs;
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            await _source.DisposeAsync();
            _stop.Dispose();
        }
    }

    /// <summary>Publishes the pool's alerts (keyed by object) at a steady pace until stopped or the pool runs out.</summary>
    private sealed class Producer(TestTopics topics, List<SyntheticZtfAlerts.SyntheticAlert> pool, int perSecond) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<SyntheticZtfAlerts.SyntheticAlert> _sent = [];
        private int _produced;
        private volatile bool _exhausted;

        public int Produced => Volatile.Read(ref _produced);

        public bool Exhausted => _exhausted;

        /// <summary>What was delivered, in order (read after <see cref="RunAsync"/> has finished).</summary>
        public List<SyntheticZtfAlerts.SyntheticAlert> Sent => _sent;

        public async Task RunAsync()
        {
            using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = topics.Cluster.BootstrapServers, LingerMs = 5 }).Build();
            var start = DateTime.UtcNow;
            foreach (var alert in pool)
            {
                if (_stop.IsCancellationRequested)
                {
                    break;
                }

                await producer.ProduceAsync(topics.Input, new Message<byte[]?, byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(alert.ObjectId), Value = alert.Message });
                _sent.Add(alert);
                Interlocked.Increment(ref _produced);
                var wait = start + TimeSpan.FromSeconds(_sent.Count / (double)perSecond) - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }

            _exhausted = _sent.Count == pool.Count;
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        public Task StopAsync() => _stop.CancelAsync();

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }
}
