using System.Text.Json.Nodes;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

public sealed class ExportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "abtrain-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    // models average|ensemble|priors said "model.json: InvalidJson: …" for a manifest that does not parse, without saying
    // which of their packages it was; every other problem named the directory.
    [Theory]
    [InlineData("{ \"version\": 5 }", "InvalidJson")]
    [InlineData("", "InvalidJson")]
    [InlineData("[]", "InvalidJson")]
    public void LoadPackage_AManifestThatDoesNotParse_IsNamedWithItsDirectory(string manifest, string kind)
    {
        var root = SharedData.RepositoryRoot();
        if (root is null)
        {
            return;
        }

        Directory.CreateDirectory(_dir);
        File.Copy(Path.Combine(root, "models", "ztf-bts", "2.2.0", ModelPackage.OnnxFileName), Path.Combine(_dir, ModelPackage.OnnxFileName));
        File.WriteAllText(Path.Combine(_dir, ModelPackage.ManifestFileName), manifest);

        var e = Assert.Throws<ModelPackageException>(() => ModelIo.LoadPackage(_dir));

        Assert.StartsWith($"{_dir} is not a sound model package: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(kind, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPackage_EveryShippedPackage_LoadsAsABase()
    {
        // LoadPackage (finetune --from, --distill-from, models average|ensemble|priors, experiment transfer) checks the
        // package as a worker would and its model.json's network against the graph: every package in models/ passes.
        var root = SharedData.RepositoryRoot();
        if (root is null)
        {
            return;
        }

        var packages = Directory.GetFiles(Path.Combine(root, "models"), ModelPackage.ManifestFileName, SearchOption.AllDirectories);
        Assert.NotEmpty(packages);
        foreach (var manifest in packages)
        {
            var model = ModelIo.LoadPackage(Path.GetDirectoryName(manifest)!);
            Assert.Equal(model.Manifest!.Network.Hidden, model.Weights.Config.HiddenSize);
        }
    }

    // One of our own graphs packaged again by `models package` (which describes the head's widths as 0, "not described") was
    // refused by evaluate, priors, average, ensemble and finetune --from ("dense 0 in model.json, 200 in the graph") while
    // inspect, score and promote took it.
    [Fact]
    public void LoadPackage_OwnGraphPackagedAgain_LoadsTheSameWeights()
    {
        var root = SharedData.RepositoryRoot();
        if (root is null)
        {
            return;
        }

        var shipped = Path.Combine(root, "models", "ztf-bts", "2.2.0");
        var result = ModelPackager.Package(new PackageRequest
        {
            Onnx = File.ReadAllBytes(Path.Combine(shipped, ModelPackage.OnnxFileName)),
            Classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"],
            Encoding = LightCurveEncoding.Instance,
            Name = "again",
            Version = "1.0.0",
        }, _dir);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal((0, 0, 0), (result.Manifest!.Network.Dense, result.Manifest.Network.Merge, result.Manifest.Network.Latent));

        var again = ModelIo.LoadPackage(_dir);
        var original = ModelIo.LoadPackage(shipped);

        Assert.Equal(original.Weights.Config, again.Weights.Config);
        for (var p = 0; p < original.Weights.Parameters.Count; p++)
        {
            Assert.Equal(original.Weights.Parameters[p].Values, again.Weights.Parameters[p].Values);
        }
    }

    [Fact]
    public void Export_TrainedModel_OnnxOutputsEqualTrainerForwardPass()
    {
        var config = ModelIo.DefaultConfig(5) with { HiddenSize = 16, DenseSize = 12, MergeSize = 10, LatentSize = 9 };
        var data = TestNetworks.RandomData([7, 3, 1, 9, 4, 6], 4, 5, 13);
        var trained = GruTrainer.Train(GruClassifierWeights.Random(config, 1), data, null, new TrainingOptions { MaxEpochs = 2, BatchSize = 4 }).Weights;
        var classes = new[] { "SNIa", "SNII", "SNIbc", "SLSN-I", "TDE" };
        ModelIo.Export(trained, classes, "test", "1", _dir, new JsonObject(), new Dictionary<string, double> { ["testMacroAuroc"] = 0.5 });

        var expected = Predictor.Predict(trained, data, threads: 1);
        using var package = ModelPackage.Load(_dir, LightCurveEncoding.Supported);
        Assert.Equal(classes, package.Manifest.Classes);
        var scorer = new BatchScorer(package);
        var requests = new ScoringRequest[data.Count];
        for (var i = 0; i < data.Count; i++)
        {
            requests[i] = new ScoringRequest(data.StepsInternal[i], data.MetaInternal.AsMemory(i * 4, 4), ReadOnlyMemory<float>.Empty);
        }

        var results = scorer.Score(requests);
        for (var i = 0; i < data.Count; i++)
        {
            Assert.Equal(expected[i].Length, results[i].Probabilities.Length);
            for (var j = 0; j < expected[i].Length; j++)
            {
                Assert.Equal(expected[i][j], results[i].Probabilities[j], 5);
            }
        }

        // And the package reads back into the same weights (what finetune starts from).
        var back = ModelIo.LoadPackage(_dir);
        for (var p = 0; p < trained.Parameters.Count; p++)
        {
            Assert.Equal(trained.Parameters[p].Values, back.Weights.Parameters[p].Values);
        }
    }
}
