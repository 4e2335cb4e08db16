using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using FsCheck;
using FsCheck.Fluent;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// The worker serving models packaged from graphs shaped like a PyTorch export (<c>models package</c>): the paper's network
/// with state in/out (<c>h0 [2, batch, 100]</c> → <c>hn</c>), no lengths, no metadata, 4 step features on the
/// <c>muthukrishna2025</c> encoding; and the same without a state. Incremental scoring must equal full re-runs.
/// </summary>
public sealed class ExternalModelPipelineTests
{
    private static readonly string[] s_classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
    private static readonly Lazy<ActiveModel> s_paper = new(() => Packaged("paper", GruClassifierExportOptions.PyTorchStyle, hidden: 100));
    private static readonly Lazy<ActiveModel> s_stateless = new(() => Packaged("stateless", GruClassifierExportOptions.PyTorchStyle with { State = false }, hidden: 16));

    private static ActiveModel Packaged(string name, GruClassifierExportOptions options, int hidden)
    {
        var config = new GruClassifierConfig { InputFeatures = 4, MetaFeatures = 0, HiddenSize = hidden, Layers = 2, Classes = s_classes.Length };
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(config, 2025), options);
        var dir = Path.Combine(Path.GetTempPath(), $"ab-external-{name}-{Environment.ProcessId}", "1.0.0");
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        var result = ModelPackager.Package(
            new PackageRequest { Onnx = onnx, Classes = s_classes, Encoding = Muthukrishna2025Encoding.Instance, Name = name, Version = "1.0.0" },
            dir);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return ActiveModel.Load(dir);
    }

    [OnnxFact]
    public void PaperModel_Loaded_HasTheContractOfAPyTorchExport()
    {
        var model = s_paper.Value;

        Assert.Same(Muthukrishna2025Encoding.Instance, model.Encoding);
        Assert.True(model.IsIncremental);
        Assert.False(model.Scorer.HasLengths);
        Assert.Equal(2 * 100, model.Scorer.Dimensions.StateSize);
        Assert.Empty(model.Meta);
        Assert.Equal(14, model.Package.Manifest.Onnx.Opset);
    }

    [OnnxFact]
    public void PaperModel_AnyBatching_IncrementalScoringEqualsFullRerun()
    {
        var model = s_paper.Value;
        var gen = from seed in Gen.Choose(1, 10_000)
                  from batch in Gen.Choose(1, 9)
                  from reverse in Gen.Elements(false, false, true)
                  select (seed, batch, reverse);
        var incremental = 0;
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            incremental += RunAndCompare(model, SyntheticZtfAlerts.Generate(3, 7, seed: t.seed, maxHistory: 4), t.batch, t.reverse);
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(12));

        Assert.True(incremental > 0, "no update took the incremental path");
    }

    [OnnxFact]
    public void PaperModel_LightCurveLongerThanTheWindow_PointsAfter70DaysAreNotFed()
    {
        // ~60 detections at ~1.3-day cadence: the curve runs well past t₀ + 70 d, where the encoding stops feeding points.
        var model = s_paper.Value;
        var alerts = SyntheticZtfAlerts.Generate(2, 60, seed: 77, maxHistory: 10);

        RunAndCompare(model, alerts, batchSize: 5, reverse: false, out var classifications);

        var perObject = classifications.GroupBy(c => c.ObjectId).ToList();
        Assert.All(perObject, g =>
        {
            var ordered = g.OrderBy(c => c.Mjd).ToList();
            var first = ordered[0].Mjd;
            var late = ordered.Where(c => c.Mjd - first >= 70).ToList();
            Assert.NotEmpty(late);

            // Past the window nothing new is scored: the step count stops growing, and a batch of only late alerts scores nothing.
            Assert.All(late, c => Assert.Equal(late[0].StepCount, c.StepCount));
            Assert.Contains(late, c => c.Scoring == ScoringPath.Cached);
            Assert.True(late[0].StepCount < ordered.Count, "every alert's point was fed");
        });
    }

    [OnnxFact]
    public void StatelessModel_EveryUpdate_IsAFullReRunAndEqualsIt()
    {
        var model = s_stateless.Value;
        Assert.False(model.IsIncremental);

        var incremental = RunAndCompare(model, SyntheticZtfAlerts.Generate(3, 6, seed: 4, maxHistory: 4), batchSize: 2, reverse: false, out var classifications);

        Assert.Equal(0, incremental);
        Assert.Contains(classifications, c => c.Scoring == ScoringPath.Full && c.StepCount > 1);
    }

    private static int RunAndCompare(ActiveModel model, List<SyntheticZtfAlerts.SyntheticAlert> alerts, int batchSize, bool reverse) =>
        RunAndCompare(model, alerts, batchSize, reverse, out _);

    // Delivers the alerts in batches; every classification and every stored state must equal a full re-run over the points
    // stored up to the alert's time. Returns how many classifications took the incremental path.
    private static int RunAndCompare(ActiveModel model, List<SyntheticZtfAlerts.SyntheticAlert> alerts, int batchSize, bool reverse, out List<Classification> classifications)
    {
        var classes = model.Classes.Length;
        var store = new InMemoryObjectStateStore();
        var processor = Processor(store, model);
        var inputs = Inputs(alerts);
        var delivered = new List<byte[]>();
        var incremental = 0;
        classifications = [];
        for (var i = 0; i < inputs.Count; i += batchSize)
        {
            var batch = inputs.GetRange(i, Math.Min(batchSize, inputs.Count - i));
            if (reverse)
            {
                batch.Reverse();
            }

            var result = processor.ProcessAsync(batch).GetAwaiter().GetResult();
            delivered.AddRange(batch.Select(m => m.Value.ToArray()));
            var curves = ExpectedLightCurves(delivered);
            foreach (var o in result.Outputs)
            {
                var c = o.Classification;
                classifications.Add(c);
                incremental += c.Scoring == ScoringPath.Incremental ? 1 : 0;
                var points = curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray();
                var full = FullRerun(model, points, out var steps);
                Assert.Equal(steps, c.StepCount);
                AssertClose(full.AsSpan((steps - 1) * classes, classes), c.Probabilities);
            }
        }

        var expected = ExpectedLightCurves(delivered);
        var keys = expected.Keys.ToArray();
        var states = new ObjectState?[keys.Length];
        store.ReadAsync(keys, states).GetAwaiter().GetResult();
        for (var i = 0; i < keys.Length; i++)
        {
            var full = FullRerun(model, expected[keys[i]], out var steps);
            Assert.Equal(steps, states[i]!.ScoredSteps);
            AssertClose(full.AsSpan((steps - 1) * classes, classes), states[i]!.Probabilities);
        }

        return incremental;
    }
}
