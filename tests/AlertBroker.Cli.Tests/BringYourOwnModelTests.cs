using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Scoring;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// Issue 13's acceptance: a graph shaped as <c>torch.onnx.export</c> writes the paper's network — inputs <c>x [batch, steps,
/// 4]</c> and <c>h0 [2, batch, 100]</c>, outputs <c>probs [batch, steps, 5]</c> and <c>hn</c>, opset 14, no lengths, no
/// metadata, producer "pytorch" — built here with the project's exporter, is packaged with <c>models package</c> on the
/// <c>muthukrishna2025</c> encoding, verified with <c>models verify</c> against a reference from the managed forward pass,
/// pushed and promoted (directory and Redis registries), and served by a worker that follows the registry: every
/// classification equals a full re-run, and updates are incremental.
/// </summary>
public sealed class BringYourOwnModelTests : IClassFixture<RedisServerFixture>, IDisposable
{
    private static readonly string[] s_classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
    private readonly RedisServerFixture _redis;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-byom-").FullName;
    private readonly string _prefix = "byom" + Guid.NewGuid().ToString("N")[..8];

    public BringYourOwnModelTests(RedisServerFixture redis) => _redis = redis;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("directory")]
    [InlineData("redis")]
    public async Task PyTorchStyleGraph_PackagedVerifiedPromotedAndServed(string backend)
    {
        if (backend == "redis")
        {
            Assert.True(_redis.Available, _redis.UnavailableReason);
        }

        // The "PyTorch export".
        var config = new GruClassifierConfig { InputFeatures = 4, MetaFeatures = 0, HiddenSize = 100, Layers = 2, Classes = 5 };
        var weights = GruClassifierWeights.Random(config, 13);
        var onnx = Path.Combine(_root, "export", "paper_gru.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(onnx)!);
        File.WriteAllBytes(onnx, GruClassifierExporter.ToOnnx(weights, GruClassifierExportOptions.PyTorchStyle));

        // models package
        var package = Path.Combine(_root, "models", "paper-gru", "1.0.0");
        Assert.Equal(0, await RunAsync(["models", "package", "--onnx", onnx, "--classes", string.Join(',', s_classes), "--encoding", "muthukrishna2025", "--surveys", "ztf,lsst", "--out", package]));
        Assert.Equal(0, await RunAsync(["models", "inspect", package]));

        // models verify, with what a PyTorch user would json.dump: x, h0 in; probs, hn out; other keys ignored.
        var random = new Random(4);
        var x = Enumerable.Range(0, 3 * 9 * 4).Select(i => (float)(random.NextDouble() - 0.2)).ToArray();
        var h0 = Enumerable.Range(0, 2 * 3 * 100).Select(_ => (float)((random.NextDouble() - 0.5) * 0.4)).ToArray();
        var probs = new float[3 * 9 * 5];
        var hn = new float[2 * 3 * 100];
        new GruClassifier(weights).Forward(x, [], [9, 9, 9], h0, 3, 9, probs, hn);
        string Reference(float[] p) => ReferenceJson.Build(
            [("x", [3, 9, 4], ReferenceJson.Doubles(x)), ("h0", [2, 3, 100], ReferenceJson.Doubles(h0)), ("probs", [3, 9, 5], ReferenceJson.Doubles(p)), ("hn", [2, 3, 100], ReferenceJson.Doubles(hn))],
            new Dictionary<string, string> { ["framework"] = "\"torch 2.3.0\"" });
        var reference = Path.Combine(_root, "export", "reference.json");
        File.WriteAllText(reference, Reference(probs));
        Assert.Equal(0, await RunAsync(["models", "verify", package, "--reference", reference, "--tolerance", "1e-4"]));
        var off = (float[])probs.Clone();
        off[17] += 5e-3f;
        File.WriteAllText(reference + ".off", Reference(off));
        Assert.Equal(1, await RunAsync(["models", "verify", package, "--reference", reference + ".off", "--tolerance", "1e-4"]));

        // models push + promote
        var registryDirectory = Path.Combine(_root, "registry");
        string[] where = backend == "redis" ? ["--redis", _redis.Configuration, "--prefix", _prefix] : ["--registry", registryDirectory];
        Assert.Equal(0, await RunAsync(["models", "push", package, .. where]));
        Assert.Equal(0, await RunAsync(["models", "promote", "paper-gru@1.0.0", .. where]));

        // A worker following the registry serves it.
        using var connection = backend == "redis" ? await _redis.ConnectAsync() : null;
        IModelRegistry registry = connection is null ? new DirectoryModelRegistry(registryDirectory) : new RedisModelRegistry(connection, _prefix);
        await using var source = new RegistryModelSource(new ActiveModelWatcher(registry, new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromHours(1) }));
        await source.Watcher.StartAsync();
        var store = new InMemoryObjectStateStore();
        var processor = new AlertBatchProcessor(new AlertDecoder(), store, source.ForNextBatch, new ClassificationCodec());
        var model = source.ForNextBatch().For("ztf");
        Assert.NotNull(model);
        Assert.Equal(("paper-gru", "1.0.0"), (model.Name, model.Version));
        Assert.Same(Muthukrishna2025Encoding.Instance, model.Encoding);
        Assert.True(model.IsIncremental);

        var alerts = SyntheticZtfAlerts.Generate(objects: 5, alertsPerObject: 9, seed: 21, maxHistory: 5);
        var classifications = new List<Classification>();
        for (var i = 0; i < alerts.Count; i += 4)
        {
            var batch = alerts.Skip(i).Take(4).Select((a, k) => new InputMessage(a.Message, "ztf", 0, i + k, 1_700_000_000_000)).ToList();
            var result = await processor.ProcessAsync(batch);
            Assert.Empty(result.DeadLetters);
            classifications.AddRange(result.Outputs.Select(o => o.Classification));
        }

        Assert.Equal(alerts.Count, classifications.Count);
        Assert.Contains(classifications, c => c.Scoring == ScoringPath.Incremental);
        Assert.All(classifications, c => Assert.Equal(s_classes, c.Classes));

        // Every classification equals a full re-run over the object's points up to the alert (alerts arrive in time order).
        var keys = classifications.Select(c => new ObjectKey(c.Survey, c.ObjectId)).Distinct().ToArray();
        var states = new ObjectState?[keys.Length];
        await store.ReadAsync(keys, states);
        var curves = keys.Zip(states).ToDictionary(p => p.First, p => p.Second!.Observations);
        foreach (var c in classifications)
        {
            var points = curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray();
            var steps = model.Encoding.SelectSteps(points, out var t0);
            var features = new float[steps.Length * 4];
            model.Encoding.EncodeSteps(steps, 0, t0, double.NaN, features);
            var full = model.Scorer.Score([new ScoringRequest(features, ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty)])[0];
            Assert.Equal(steps.Length, c.StepCount);
            var last = full.Probabilities.AsSpan((steps.Length - 1) * 5, 5);
            for (var k = 0; k < 5; k++)
            {
                Assert.True(Math.Abs(last[k] - c.Probabilities[k]) < 2e-5, $"{c.ObjectId} at {c.Mjd}: class {k} {c.Probabilities[k]} vs full re-run {last[k]}");
            }
        }
    }

    private static Task<int> RunAsync(string[] args) => AlertBrokerCommand.Create().Parse(args).InvokeAsync();
}
