using System.Diagnostics.Metrics;
using AlertBroker.Alerts;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>One model per survey: a batch is split by survey, each model scores its own objects, each classification names its model.</summary>
public sealed class RoutingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-routing-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [SharedDataFact]
    public async Task OneBatch_ZtfAndRubinAlerts_ScoredByTwoModels_EachClassificationNamesItsModel()
    {
        using var ztf = Model("ztf-test", ["ztf"], ["SNIa", "SNII", "AGN"], 11);
        using var lsst = Model("lsst-test", ["lsst"], ["SNIa", "SNII", "SNIbc", "TDE"], 12);

        // Real alerts of both surveys, interleaved, in one batch (Rubin as container files: one message, many alerts).
        var ztfFiles = SharedData.AvroFiles("ztf-real-50").Take(20).ToList();
        var lsstFiles = SharedData.AvroFiles("lsst-real-v7_4").Take(20).ToList();
        var inputs = new List<InputMessage>();
        for (var i = 0; i < 20; i++)
        {
            inputs.Add(new InputMessage(File.ReadAllBytes(ztfFiles[i]), "in", 0, inputs.Count, 1_700_000_000_000));
            inputs.Add(new InputMessage(File.ReadAllBytes(lsstFiles[i]), "in", 0, inputs.Count, 1_700_000_000_000));
        }

        var store = new InMemoryObjectStateStore();
        // Every alert scored and published (most of these real samples are not transient candidates: CandidatePipelineTests).
        var processor = new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of([ztf, lsst]), new ClassificationCodec()) { Candidates = CandidateFilter.None };
        var result = await processor.ProcessAsync(inputs);

        Assert.Empty(result.DeadLetters);
        Assert.Equal(result.Alerts, result.Outputs.Count);
        var bySurvey = result.Outputs.GroupBy(o => o.Classification.Survey).ToDictionary(g => g.Key, g => g.ToList());
        Assert.True(bySurvey[Survey.Ztf].Count >= 20);
        Assert.True(bySurvey[Survey.Lsst].Count >= 20);
        var curves = ExpectedLightCurves(inputs.Select(m => m.Value.ToArray()));
        foreach (var o in result.Outputs)
        {
            var c = ClassificationCodec.Decode(o.Value);
            var model = c.Survey == Survey.Ztf ? ztf : lsst;
            Assert.Equal(model.Name, c.ModelName);
            Assert.Equal(model.Version, c.ModelVersion);
            Assert.Equal(model.Classes, c.Classes);
            Assert.Null(c.Reason);

            // Each object's numbers are its own survey's model's full re-run.
            var points = curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray();
            var full = FullRerun(model, points, out var steps);
            Assert.Equal(steps, c.StepCount);
            if (steps > 0)
            {
                AssertClose(full.AsSpan((steps - 1) * model.Classes.Length, model.Classes.Length), c.Probabilities);
            }
        }

        // And each object's stored hidden state belongs to its survey's model.
        var keys = curves.Keys.ToArray();
        var states = new ObjectState?[keys.Length];
        await store.ReadAsync(keys, states);
        for (var i = 0; i < keys.Length; i++)
        {
            if (states[i]!.ScoredSteps > 0)
            {
                Assert.Equal((keys[i].Survey == Survey.Ztf ? ztf : lsst).Id, states[i]!.ModelId);
            }
        }
    }

    [OnnxFact]
    public async Task Alerts_OfASurveyNoModelServes_AreStoredClassifiedNoneWithAReasonAndCounted_ThenScoredInFullOnceAModelServesIt()
    {
        using var lsst = Model("lsst-only", ["lsst"], ["A", "B"], 13);
        using var ztf = Model("ztf-later", ["ztf"], ["A", "B", "C"], 14);
        var alerts = SyntheticZtfAlerts.Generate(objects: 5, alertsPerObject: 3, seed: 21);
        var store = new InMemoryObjectStateStore();
        using var metrics = new WorkerMetrics();
        var unserved = CountMeasurements("alertbroker.alerts.unserved", out var listener, metrics);
        using (listener)
        {
            var first = await new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(lsst), new ClassificationCodec(), metrics).ProcessAsync(Inputs(alerts.Take(10)));

            Assert.Equal(10, first.Outputs.Count);
            foreach (var o in first.Outputs)
            {
                var c = ClassificationCodec.Decode(o.Value);
                Assert.Equal(ScoringPath.None, c.Scoring);
                Assert.Equal(string.Empty, c.ModelName);
                Assert.Empty(c.Probabilities);
                Assert.Null(c.TopClass);
                Assert.Equal("no model serves the survey ztf", c.Reason);
                Assert.True(c.ObservationCount > 0);
            }

            listener.RecordObservableInstruments();
            Assert.Equal(10, unserved["ztf"]);
        }

        // The light curves were kept: a model for ztf scores each whole stored curve at the next alert.
        var later = await new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(ztf), new ClassificationCodec()).ProcessAsync(Inputs(alerts.Skip(10)));
        var curves = ExpectedLightCurves(alerts.Select(a => a.Message));
        Assert.All(later.Outputs, o => Assert.Equal("ztf-later", o.Classification.ModelName));
        foreach (var o in later.Outputs.Where(o => o.Classification.StepCount > 1))
        {
            var c = o.Classification;
            Assert.Equal(ScoringPath.Full, c.Scoring);
            var full = FullRerun(ztf, curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray(), out var steps);
            Assert.Equal(steps, c.StepCount);
            AssertClose(full.AsSpan((steps - 1) * 3, 3), c.Probabilities);
        }
    }

    [Fact]
    public void ModelSet_TwoModelsDeclaringOneSurvey_IsRefused()
    {
        using var a = Model("a", ["ztf"], ["A", "B"], 1);
        using var b = Model("b", ["ztf", "lsst"], ["A", "B"], 2);
        var e = Assert.Throws<ArgumentException>(() => ModelSet.Of([a, b]));
        Assert.Contains("ztf", e.Message, StringComparison.Ordinal);
    }

    [OnnxFact]
    public async Task Registry_PromotionForLsst_DoesNotDisturbZtfBatches()
    {
        var registry = new DirectoryModelRegistry(Path.Combine(_root, "registry"));
        foreach (var (name, version, seed, survey) in new[] { ("z", "1", 31, "ztf"), ("l", "1", 32, "lsst"), ("l", "2", 33, "lsst") })
        {
            var dir = TestModelPackages.Export(Path.Combine(_root, "export", name + version), name, version, seed, hidden: 16, surveys: [survey]);
            await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), "test");
        }

        var promoter = new ModelPromoter(registry);
        Assert.True((await promoter.PromoteAsync(new ModelRef("z", "1"), new PromotionOptions())).Promoted);
        Assert.True((await promoter.PromoteAsync(new ModelRef("l", "1"), new PromotionOptions())).Promoted);
        await using var source = new RegistryModelSource(new ActiveModelWatcher(registry, new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromHours(1) }));
        await source.Watcher.StartAsync();
        var processor = new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), source.ForNextBatch, new ClassificationCodec());
        var alerts = SyntheticZtfAlerts.Generate(objects: 6, alertsPerObject: 3, seed: 5);
        var byRound = alerts.GroupBy(a => a.ObjectId).SelectMany(g => g.Select((a, i) => (Round: i, Alert: a))).ToLookup(x => x.Round, x => x.Alert);

        var first = await processor.ProcessAsync(Inputs(byRound[0]));
        var ztfModel = source.ForNextBatch().For("ztf");
        Assert.True((await promoter.PromoteAsync(new ModelRef("l", "2"), new PromotionOptions())).Promoted);
        await source.Watcher.CheckNowAsync();
        var models = source.ForNextBatch();
        var second = await processor.ProcessAsync(Inputs(byRound[1]));

        // lsst moved to l@2; ztf kept the same model object, and its objects continue incrementally.
        Assert.Equal("2", models.For("lsst")!.Version);
        Assert.Same(ztfModel, models.For("ztf"));
        Assert.All(first.Outputs.Concat(second.Outputs), o => Assert.Equal("z", o.Classification.ModelName));
        Assert.All(second.Outputs.Where(o => o.Classification.StepCount > 1), o => Assert.Equal(ScoringPath.Incremental, o.Classification.Scoring));
    }

    [SharedDataFact]
    public async Task AModelTrainedOnDetectionsOnly_IsFedDetectionsOnly_TheOtherModelInTheBatchEveryPoint()
    {
        // Real Rubin alerts carry forced photometry beside their detections; the ZTF 4.x-style model here is told (model.json
        // encoding.detectionsOnly) that it was trained on detections only, the LSST one that it was trained on every point.
        using var detections = Model("det-only", ["lsst"], ["A", "B", "C"], 21, detectionsOnly: true);
        using var every = Model("every-point", ["lsst"], ["A", "B", "C"], 21);
        Assert.True(detections.Package.Manifest.EffectiveDetectionsOnly);
        Assert.False(every.Package.Manifest.EffectiveDetectionsOnly);
        var inputs = SharedData.AvroFiles("lsst-real-v7_4").Take(30)
            .Select((f, i) => new InputMessage(File.ReadAllBytes(f), "in", 0, i, 1_700_000_000_000)).ToList();
        var curves = ExpectedLightCurves(inputs.Select(m => m.Value.ToArray()));
        Assert.Contains(curves.Values, c => c.Any(p => p.Kind == ObservationKind.Forced));

        var differ = 0;
        var negativeOnly = 0;
        foreach (var model in new[] { detections, every })
        {
            var result = await new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => ModelSet.Of(model), new ClassificationCodec()) { Candidates = CandidateFilter.None }.ProcessAsync(inputs);
            Assert.Empty(result.DeadLetters);
            foreach (var o in result.Outputs)
            {
                var c = ClassificationCodec.Decode(o.Value);
                var points = curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray();
                // Detections of positive flux only: Rubin reports diaSources of either sign, and no training detection is negative.
                var detected = points.Count(p => p.Kind == ObservationKind.Detection && float.IsFinite(p.FluxMicroJy) && p.FluxMicroJy > 0);
                var stepPoints = points.Count(p => p.Kind != ObservationKind.UpperLimit && float.IsFinite(p.FluxMicroJy));
                Assert.Equal(model == detections ? detected : stepPoints, c.StepCount);
                differ += detected != stepPoints ? 1 : 0;
                negativeOnly += model == detections && detected == 0 && points.Any(p => p.Kind == ObservationKind.Detection) ? 1 : 0;

                // The numbers are the full re-run of the points the model takes: positive detections only for the first model.
                var full = FullRerun(model, model == detections ? [.. points.Where(p => p.Kind == ObservationKind.Detection && p.FluxMicroJy > 0)] : points, out var steps);
                Assert.Equal(steps, c.StepCount);
                if (steps == 0)
                {
                    Assert.Empty(c.Probabilities);
                    continue;
                }

                AssertClose(full.AsSpan((steps - 1) * model.Classes.Length, model.Classes.Length), c.Probabilities);
            }
        }

        Assert.True(differ > 0, "no object had forced photometry before its classification");
        Assert.True(negativeOnly > 0, "no object had only negative detections (the case a detections-only model now skips)");
    }

    private ActiveModel Model(string name, string[] surveys, string[] classes, int seed, bool detectionsOnly = false) =>
        ActiveModel.CreateRandom(Path.Combine(_root, name), classes, seed, hiddenSize: 16, surveys: surveys, name: name, detectionsOnly: detectionsOnly);

    /// <summary>
    /// Sums a counter's measurements by one of its tags (the survey unless told), from every worker's instruments or only
    /// from those of <paramref name="only"/> (other tests' workers publish under the same meter name).
    /// </summary>
    internal static Dictionary<string, long> CountMeasurements(string instrument, out MeterListener listener, WorkerMetrics only, string tag = "survey")
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                // This worker's instruments only: tests running in parallel record under the same meter name.
                if (ReferenceEquals(i.Meter, only.Meter) && i.Name == instrument)
                {
                    l.EnableMeasurementEvents(i);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == tag)
                {
                    lock (counts)
                    {
                        counts[(string)t.Value!] = counts.GetValueOrDefault((string)t.Value!) + value;
                    }
                }
            }
        });
        listener.Start();
        return counts;
    }
}
