using System.Text.Json;
using System.Text.Json.Nodes;
using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

/// <summary>Models without metadata (what alerts carry), early classification as a metric, the fixed held-out ids.</summary>
public sealed class StreamConditionsTests : IDisposable
{
    private static readonly string[] s_classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "abstream-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void WithoutMetadata_EqualsTheSourceWithEveryValueUnknown()
    {
        var config = ModelIo.DefaultConfig(5) with { HiddenSize = 12, DenseSize = 9, MergeSize = 8, LatentSize = 7 };
        var source = GruClassifierWeights.Random(config, 17);
        var dropped = ModelIo.WithoutMetadata(source);

        Assert.Equal(0, dropped.Config.MetaFeatures);
        Assert.Null(dropped.MetaDense);
        var unknown = new float[LightCurveEncoding.MetaFeatureCount];
        LightCurveEncoding.EncodeMeta(double.NaN, double.NaN, unknown);
        var random = new Random(4);
        var steps = new float[11 * 6];
        for (var i = 0; i < steps.Length; i++)
        {
            steps[i] = (float)((random.NextDouble() * 2) - 1);
        }

        var expected = new float[11 * 5];
        var actual = new float[11 * 5];
        var hn = new float[2 * 12];
        new GruClassifier(source).Run(steps, unknown, [], expected, hn);
        new GruClassifier(dropped).Run(steps, [], [], actual, hn);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 5);
        }
    }

    [Fact]
    public void Finetune_NoMetadataPackage_LoadsTrainsExportsAndScoresLikeTheTrainer()
    {
        // A no-metadata base package, as `train --no-meta` writes it.
        var config = ModelIo.DefaultConfig(5, metadata: false) with { HiddenSize = 16, DenseSize = 12, MergeSize = 10, LatentSize = 9 };
        var data = TestNetworks.RandomData([7, 3, 1, 9, 4, 6, 2, 8], 0, 5, 31);
        var baseDir = Path.Combine(_dir, "base", "1");
        var baseWeights = GruTrainer.Train(GruClassifierWeights.Random(config, 1), data, null, new TrainingOptions { MaxEpochs = 1, BatchSize = 4 }).Weights;
        var baseManifest = ModelIo.Export(baseWeights, s_classes, "base", "1", baseDir, new JsonObject(), new Dictionary<string, double>(), surveys: ["ztf"]);
        Assert.False(baseManifest.EffectiveRequiresMetadata);
        Assert.Empty(baseManifest.Encoding.MetaFeatures);

        // Fine-tune the head only: frozen layers stay bit-identical, the exported model scores through ONNX Runtime
        // exactly as the trainer computes it.
        var loaded = ModelIo.LoadPackage(baseDir);
        Assert.Equal(0, loaded.Weights.Config.MetaFeatures);
        var start = ModelIo.AdaptHead(loaded, s_classes, replaceHead: false, seed: 3);
        var tuned = GruTrainer.Train(start, data, null, new TrainingOptions { MaxEpochs = 3, BatchSize = 4, Trainable = TrainableLayers.Parse("latent,output"), StepLoss = StepLoss.PerObject }).Weights;
        Assert.Equal(loaded.Weights.GetParameter("gru.weight_hh_l0").Values, tuned.GetParameter("gru.weight_hh_l0").Values);
        Assert.NotEqual(loaded.Weights.GetParameter("latent.weight").Values, tuned.GetParameter("latent.weight").Values);
        var dir = Path.Combine(_dir, "tuned", "1");
        ModelIo.Export(tuned, s_classes, "tuned", "1", dir, new JsonObject(), new Dictionary<string, double>(), surveys: ["ztf"]);

        using var package = ModelPackage.Load(dir, LightCurveEncoding.Supported);
        Assert.DoesNotContain("meta", package.Session.Inputs.Select(i => i.Name));
        var expected = Predictor.Predict(tuned, data, threads: 1);
        var results = new BatchScorer(package).Score([.. Enumerable.Range(0, data.Count).Select(i => new ScoringRequest(data.StepsInternal[i], ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty))]);
        for (var i = 0; i < data.Count; i++)
        {
            for (var j = 0; j < expected[i].Length; j++)
            {
                Assert.Equal(expected[i][j], results[i].Probabilities[j], 5);
            }
        }
    }

    [Fact]
    public void Finetune_FromMetadataBaseWithoutMetadata_StartsFromTheUnknownMetadataFunction()
    {
        var config = ModelIo.DefaultConfig(5) with { HiddenSize = 8, DenseSize = 6, MergeSize = 6, LatentSize = 5 };
        var baseModel = new TrainedModel(GruClassifierWeights.Random(config, 2), s_classes, null);
        var dropped = baseModel with { Weights = ModelIo.WithoutMetadata(baseModel.Weights) };
        var start = ModelIo.AdaptHead(dropped, s_classes, replaceHead: false, seed: 1);
        var data = TestNetworks.RandomData([5, 2, 6, 3], 0, 5, 9);

        var result = GruTrainer.Train(start, data, data, new TrainingOptions { MaxEpochs = 2, BatchSize = 2, LearningRate = 1e-3f });

        Assert.Equal(0, result.Weights.Config.MetaFeatures);
        Assert.All(result.History, e => Assert.True(double.IsFinite(e.TrainLoss)));
    }

    [Fact]
    public void Encode_MetadataUse_ControlsTheVectorAndTheTimeFrame()
    {
        var observations = new[]
        {
            new Observation(1, 100, Passband.ZtfG, ObservationKind.Detection, 50, 5, float.NaN),
            new Observation(2, 122, Passband.ZtfR, ObservationKind.Detection, 80, 5, float.NaN),
        };
        var data = new LabelledDataset("t", [new LabelledObject("A", "SNIa", observations, 0.1, 0.03)]);

        var known = EncodedDataset.Encode(data, ["SNIa"], new EncodingOptions { Metadata = MetadataUse.Known });
        var unknown = EncodedDataset.Encode(data, ["SNIa"], new EncodingOptions { Metadata = MetadataUse.Unknown });
        var none = EncodedDataset.Encode(data, ["SNIa"], new EncodingOptions { Metadata = MetadataUse.None });

        Assert.Equal(4, known.MetaFeatures);
        Assert.Equal([0.1f, 1f, 0.03f, 1f], known.MetaInternal);
        Assert.Equal([0f, 0f, 0f, 0f], unknown.MetaInternal);
        Assert.Equal(0, none.MetaFeatures);
        Assert.Empty(none.MetaInternal);

        // time_rest of the second step: 22 d / (1 + z) / 100 with a known redshift, 22 d / 100 (observer frame) without.
        Assert.Equal(0.22f / 1.1f, known.StepsInternal[0][6 + 1], 5);
        Assert.Equal(0.22f, unknown.StepsInternal[0][6 + 1], 5);
        Assert.Equal(unknown.StepsInternal[0], none.StepsInternal[0]);

        // What the worker computes for the same points without a redshift.
        var points = LightCurveEncoding.SelectSteps(observations);
        var worker = new float[points.Length * 6];
        LightCurveEncoding.EncodeSteps(points, 0, LightCurveEncoding.ReferenceTime(points), double.NaN, worker);
        Assert.Equal(worker, none.StepsInternal[0]);
    }

    [Fact]
    public void EarlyCurve_HandMadeCase_ScoresTheLastObservationUpToEachDay()
    {
        // Two classes, four objects. Steps at days 0, 3, 12 (objects 0, 1), 0, 40 (object 2), 0 (object 3).
        var steps = new[] { new float[3 * 6], new float[3 * 6], new float[2 * 6], new float[6] };
        var data = EncodedDataset.FromArrays(["A", "B"], steps, [], [0, 1, 0, 1], 0, [[0, 3, 12], [0, 3, 12], [0, 40], [0]]);
        float[][] probs =
        [
            [0.4f, 0.6f, 0.6f, 0.4f, 0.9f, 0.1f], // A: wrong at day 0, right from day 3
            [0.5f, 0.5f, 0.3f, 0.7f, 0.2f, 0.8f], // B: tie at day 0, right from day 3
            [0.7f, 0.3f, 0.1f, 0.9f], // A: right at day 0, wrong from day 40
            [0.45f, 0.55f], // B: right throughout
        ];

        var curve = EarlyCurve.MacroAuroc(data, probs);

        // Day 0: P(A) = 0.4, 0.5, 0.7, 0.45 for A, B, A, B. AUROC(A) = P(score_A > score_B) over the 4 pairs:
        // (0.4 vs 0.5) 0, (0.4 vs 0.45) 0, (0.7 vs 0.5) 1, (0.7 vs 0.45) 1 → 0.5; AUROC(B) is the same ranking reversed → 0.5.
        Assert.Equal(0.5, curve[0], 10);

        // Days 2: unchanged (no step between 0 and 2).
        Assert.Equal(curve[0], curve[1], 10);

        // Days 5…30: P(A) = 0.6 (A), 0.3 (B), 0.7 (A), 0.45 (B) → every A above every B → 1.
        Assert.Equal(1.0, curve[2], 10);
        Assert.Equal(1.0, curve[6], 10);

        // Day 50: object 2 has flipped: P(A) = 0.9 (A), 0.2 (B), 0.1 (A), 0.45 (B) → pairs 1, 1, 0, 0 → 0.5.
        Assert.Equal(0.5, curve[7], 10);
        Assert.Equal(EarlyCurve.Days, [0, 2, 5, 10, 15, 20, 30, 50]);

        // The mean over the eight days and the whole light curve (= day 50 here): (0.5 · 2 + 1 · 5 + 0.5 + 0.5) / 9.
        Assert.Equal(7.0 / 9, EarlyCurve.MeanMacroAuroc(data, probs), 10);
    }

    [Fact]
    public void EvaluationJson_CarriesTheEarlyClassificationCurve()
    {
        var config = ModelIo.DefaultConfig(3, metadata: false) with { HiddenSize = 6, DenseSize = 5, MergeSize = 5, LatentSize = 4 };
        var data = TestNetworks.RandomData([9, 4, 12, 7, 3, 10], 0, 3, 8);
        var report = EvaluationReport.Evaluate(GruClassifierWeights.Random(config, 1), data, threads: 1, bootstrap: 50) with { Conditions = "no metadata" };

        var json = JsonDocument.Parse(ReportWriter.ToJson(report)).RootElement;
        var early = json.GetProperty("early").EnumerateArray().ToList();
        Assert.Equal([0.0, 2, 5, 10, 15, 20, 30, 50], early.Select(p => p.GetProperty("days").GetDouble()));
        Assert.All(early, p =>
        {
            Assert.Equal(6, p.GetProperty("objects").GetInt32());
            Assert.InRange(p.GetProperty("macroAuroc").GetDouble(), 0, 1);
            Assert.Equal(3, p.GetProperty("perClassAuroc").GetArrayLength());
        });

        // Steps are one day apart (FromArrays): at day 5, objects longer than 6 steps are still observed.
        Assert.Equal(4, early[2].GetProperty("stillObserved").GetInt32());
        Assert.True(json.TryGetProperty("meanEarlyMacroAuroc", out _));
        Assert.Equal(2, json.GetProperty("macroAurocInterval").GetArrayLength());
        Assert.Equal(50, json.GetProperty("bootstrapResamples").GetInt32());
        Assert.All(early, p => Assert.Equal(2, p.GetProperty("macroAurocInterval").GetArrayLength()));
        Assert.Equal("no metadata", json.GetProperty("conditions").GetString());
        var html = ReportWriter.ToHtml(report);
        Assert.Contains("Early classification", html, StringComparison.Ordinal);
        Assert.Contains("<td>whole</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Bootstrap_Interval_IsDeterministicBracketsTheFigureAndIsWideForFewObjects()
    {
        // Two classes: 200 "A" scored by noise around 0.6, and a rare "B" of 3 objects, one of which looks like an A.
        var random = new Random(2);
        var labels = new int[203];
        var probs = new float[203 * 2];
        for (var i = 0; i < 203; i++)
        {
            labels[i] = i < 200 ? 0 : 1;
            var pA = i < 200 ? 0.6f + (0.3f * (float)(random.NextDouble() - 0.5)) : i == 200 ? 0.7f : 0.2f;
            probs[2 * i] = pA;
            probs[(2 * i) + 1] = 1 - pA;
        }

        var point = ClassificationMetrics.MacroAuroc(probs, labels, 2);
        var a = Bootstrap.MacroAurocInterval(probs, labels, 2, 500);
        var b = Bootstrap.MacroAurocInterval(probs, labels, 2, 500);

        Assert.Equal(a, b);
        Assert.InRange(point, a[0], a[1]);
        Assert.True(a[1] - a[0] > 0.1, $"[{a[0]}, {a[1]}]: three objects of a class make a wide interval");

        // Perfectly separated classes: every resample is separated too.
        for (var i = 200; i < 203; i++)
        {
            probs[2 * i] = 0.01f;
            probs[(2 * i) + 1] = 0.99f;
        }

        Assert.Equal([1.0, 1.0], Bootstrap.MacroAurocInterval(probs, labels, 2, 100));
    }

    [Fact]
    public void Train_SelectionByAuroc_RestoresTheEpochWithTheBestValidationAuroc()
    {
        var config = ModelIo.DefaultConfig(3, metadata: false) with { HiddenSize = 6, DenseSize = 5, MergeSize = 5, LatentSize = 4 };
        var train = TestNetworks.RandomData([9, 4, 12, 7, 3, 10, 5, 8, 6], 0, 3, 2);
        var validation = TestNetworks.RandomData([5, 8, 3, 9, 4, 7], 0, 3, 3);

        var result = GruTrainer.Train(GruClassifierWeights.Random(config, 4), train, validation, new TrainingOptions { MaxEpochs = 6, BatchSize = 3, Patience = 0, Selection = SelectionMetric.EarlyAuroc });

        var best = result.History.MaxBy(e => e.ValidationEarlyAuroc)!;
        Assert.Equal(result.History.First(e => e.ValidationEarlyAuroc == best.ValidationEarlyAuroc).Epoch, result.BestEpoch);
        Assert.All(result.History, e => Assert.InRange(e.ValidationEarlyAuroc, 0, 1));
    }

    [Fact]
    public void HoldoutIds_WriteRead_SelectsTheListedObjects()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "ids.txt");
        var written = HoldoutIds.Write(path, ["b", "a"], ["a comment"]);

        Assert.Equal("# a comment\na\nb\n", File.ReadAllText(path));
        Assert.Equal(2, written.Count);
        Assert.Equal(64, written.Sha256.Length);
        var data = EncodedDataset.FromArrays(["X"], [new float[6], new float[6], new float[6]], [], [0, 0, 0], 0);
        var held = HoldoutIds.Read(path);
        Assert.Empty(held.Select(data, inside: true)); // FromArrays names objects "0", "1", "2"
        File.WriteAllText(path, "# header\n1 # the second\n\n2\n");
        held = HoldoutIds.Read(path);
        Assert.Equal([1, 2], held.Select(data, inside: true));
        Assert.Equal([0], held.Select(data, inside: false));

        File.WriteAllText(path, "1\n1\n");
        Assert.Throws<InvalidDataException>(() => HoldoutIds.Read(path));
        File.WriteAllText(path, "# nothing\n");
        Assert.Throws<InvalidDataException>(() => HoldoutIds.Read(path));
    }

    [Theory]
    [InlineData("ztf-bts", "2.7.0", true)]
    [InlineData("ztf-bts", "2.6.0", true)]
    [InlineData("ztf-bts", "2.5.0", true)]
    [InlineData("ztf-bts", "2.4.0", true)]
    [InlineData("ztf-bts", "2.3.0", true)]
    [InlineData("ztf-bts", "2.2.0", true)]
    [InlineData("ztf-bts", "2.1.0", true)]
    [InlineData("ztf-bts", "2.0.0", true)]
    [InlineData("ztf-sim-base", "2.0.0", true)]
    [InlineData("ztf-sim-base", "2.1.0", true)]
    [InlineData("lsst-sim", "1.1.0", true)]
    [InlineData("lsst-sim", "1.0.0", false)]
    public void ShippedModels_AreFedThePointsTheyWereTrainedOn(string name, string version, bool detectionsOnly)
    {
        // The BTS models saw detections only (the alert photometry of the BTS set), as did lsst-sim 1.1.0; lsst-sim 1.0.0
        // was trained on every point, forced photometry included. The worker must feed each what it saw.
        var repo = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("no repository root");
        var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(repo, "models", name, version, "model.json")));

        Assert.Equal(detectionsOnly, manifest.EffectiveDetectionsOnly);
        Assert.Equal(detectionsOnly, StepEncodings.ForModel(manifest) is DetectionsOnlyEncoding);
    }

    [Fact]
    public void Export_WritesDetectionsOnlyIntoTheEncodingSection_AsTheDataDescriptionRecordsIt()
    {
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(2, metadata: false) with { HiddenSize = 8 }, 3);
        foreach (var detectionsOnly in new[] { true, false })
        {
            var dir = Directory.CreateTempSubdirectory("ab-export-det-").FullName;
            try
            {
                var data = new JsonObject { ["encoding"] = new JsonObject { ["detectionsOnly"] = detectionsOnly } };
                var manifest = ModelIo.Export(weights, ["A", "B"], "t", "1", dir, data, new Dictionary<string, double>());
                Assert.Equal(detectionsOnly, manifest.Encoding.DetectionsOnly);
                Assert.Equal(detectionsOnly, ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(dir, ModelPackage.ManifestFileName))).EffectiveDetectionsOnly);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [SharedDataFact]
    public void CommittedBtsTestIds_AreTheRuleAppliedToTheSharedSet()
    {
        var repo = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("no repository root");
        var committed = HoldoutIds.Read(Path.Combine(repo, "data", "splits", "ztf-bts-test-ids.txt"));
        var data = LightCurveCsvReader.Read(SharedData.Path("labelled", "ztf-bts"), new CsvReadOptions { DetectionsOnly = true });
        var encoded = EncodedDataset.Encode(data, s_classes, new EncodingOptions { Metadata = MetadataUse.None });

        var rule = HoldoutIds.StratifiedTestIds(encoded, 0.3, 12345);

        Assert.Equal(482, committed.Count);
        Assert.Equal(committed.Ids.Order(StringComparer.Ordinal), rule.Order(StringComparer.Ordinal));
        var counts = committed.Select(encoded, inside: true).GroupBy(i => encoded.Labels[i]).ToDictionary(g => s_classes[g.Key], g => g.Count());
        Assert.Equal(360, counts["SNIa"]);
        Assert.Equal(5, counts["SLSN-I"]);
        Assert.Equal(3, counts["TDE"]);
    }
}
