using AlertBroker.Alerts;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Enrichment;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>A shadow model scores every alert of its survey beside the active model, with its own incremental state.</summary>
public sealed class ShadowScoringTests : IClassFixture<MockKafkaFixture>, IDisposable
{
    private readonly MockKafkaFixture _kafka;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-shadow-").FullName;

    public ShadowScoringTests(MockKafkaFixture kafka)
    {
        _kafka = kafka;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [OnnxFact]
    public async Task Shadow_ScoresEveryAlertWithItsOwnState_AndLeavesTheActiveModelsOutputAndStateUntouched()
    {
        var alerts = SyntheticZtfAlerts.Generate(objects: 8, alertsPerObject: 5, seed: 12);
        var withShadow = ModelSet.Of(TestModels.A).WithShadows(new Dictionary<string, ActiveModel> { ["ztf"] = TestModels.B });
        var shadowStore = new InMemoryObjectStateStore();
        var plainStore = new InMemoryObjectStateStore();
        var stats = new ShadowStatisticsAccumulator();
        var shadowed = new AlertBatchProcessor(new AlertDecoder(), shadowStore, () => withShadow, new ClassificationCodec()) { ShadowStatistics = stats };
        var plain = Processor(plainStore, TestModels.A);

        var outputs = new List<Classification>();
        var shadows = new List<Classification>();
        var plainOutputs = new List<Classification>();
        var inputs = Inputs(alerts);
        for (var i = 0; i < inputs.Count; i += 7)
        {
            var batch = inputs.GetRange(i, Math.Min(7, inputs.Count - i));
            var r = await shadowed.ProcessAsync(batch);
            outputs.AddRange(r.Outputs.Select(o => o.Classification));
            shadows.AddRange(r.ShadowOutputs.Select(o => ClassificationCodec.Decode(o.Value)));
            plainOutputs.AddRange((await plain.ProcessAsync(batch)).Outputs.Select(o => o.Classification));
        }

        // One shadow classification per alert, by the candidate, equal to its full re-run (its incremental state is exact).
        Assert.Equal(alerts.Count, shadows.Count);
        Assert.Contains(shadows, c => c.Scoring == ScoringPath.Incremental);
        var curves = ExpectedLightCurves(alerts.Select(a => a.Message));
        foreach (var s in shadows)
        {
            Assert.Equal(TestModels.B.Name, s.ModelName);
            var full = FullRerun(TestModels.B, curves[new ObjectKey(s.Survey, s.ObjectId)].Where(p => p.Mjd <= s.Mjd).ToArray(), out var steps);
            AssertClose(full.AsSpan((steps - 1) * 4, 4), s.Probabilities);
        }

        // The active model's classifications are exactly what they are without a shadow …
        Assert.Equal(plainOutputs.Count, outputs.Count);
        for (var i = 0; i < outputs.Count; i++)
        {
            Assert.Equal(plainOutputs[i].Scoring, outputs[i].Scoring);
            Assert.Equal(plainOutputs[i].Probabilities, outputs[i].Probabilities);
        }

        // … and so is its stored state; the shadow's state sits beside it.
        var keys = curves.Keys.ToArray();
        var a = new ObjectState?[keys.Length];
        var b = new ObjectState?[keys.Length];
        await shadowStore.ReadAsync(keys, a);
        await plainStore.ReadAsync(keys, b);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(b[i]!.ModelId, a[i]!.ModelId);
            Assert.Equal(b[i]!.HiddenState, a[i]!.HiddenState);
            Assert.Equal(b[i]!.Probabilities, a[i]!.Probabilities);
            Assert.Null(b[i]!.Shadow);
            Assert.Equal(TestModels.B.Id, a[i]!.Shadow!.ModelId);
            Assert.Equal(a[i]!.ScoredSteps, a[i]!.Shadow!.ScoredSteps);
        }

        // Statistics: every alert compared once, agreement as the outputs say.
        var drained = stats.Drain().Single();
        var computed = ShadowStatistics.FromFields(drained.Key, drained.Value);
        Assert.Equal(new ShadowPair("ztf", TestModels.B.ShortIdentity, TestModels.A.ShortIdentity), drained.Key);
        Assert.Equal(alerts.Count, computed.Alerts);
        Assert.Equal(outputs.Zip(shadows).Count(p => p.First.TopClass == p.Second.TopClass), computed.Agreed);
        Assert.Equal(outputs.Zip(shadows).Average(p => Math.Abs(p.First.Probabilities[0] - p.Second.Probabilities[0])), computed.MeanAbsDiff[TestModels.A.Classes[0]], 5);
    }

    [OnnxFact]
    public async Task Shadow_WithALabelSource_GivesBothModelsAurocOnLabelledAlerts()
    {
        var alerts = SyntheticZtfAlerts.Generate(objects: 40, alertsPerObject: 2, seed: 13);
        var ids = alerts.Select(a => a.ObjectId).Distinct().ToList();
        var labels = Path.Combine(_root, "labels.csv");
        File.WriteAllLines(labels, ["object_id,class", .. ids.Select((id, i) => id + "," + TestModels.A.Classes[i % 4])]);
        var sources = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource> { [("ztf", MetadataSourceDeclaration.LabelSource)] = new CsvObjectValueSource(labels, "class") });
        var models = ModelSet.Of(TestModels.A, sources).WithShadows(new Dictionary<string, ActiveModel> { ["ztf"] = TestModels.B });
        var stats = new ShadowStatisticsAccumulator();

        await new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => models, new ClassificationCodec()) { ShadowStatistics = stats }.ProcessAsync(Inputs(alerts));

        var drained = stats.Drain().Single();
        var s = ShadowStatistics.FromFields(drained.Key, drained.Value);
        Assert.Equal(alerts.Count, s.Labelled);
        Assert.Equal(4, s.CandidateAuroc.Count);
        Assert.Equal(4, s.ActiveAuroc.Count);
        Assert.InRange(s.CandidateMacroAuroc, 0, 1);
    }

    [OnnxFact]
    public async Task Worker_ShadowClassifications_GoToTheShadowTopic()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var shadowTopic = "shadow-" + Guid.NewGuid().ToString("N")[..8];
        _kafka.Cluster.CreateTopics(shadowTopic);
        var models = ModelSet.Of(TestModels.A).WithShadows(new Dictionary<string, ActiveModel> { ["ztf"] = TestModels.B });
        var processor = new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => models, new ClassificationCodec());
        var options = topics.Options();
        options.ShadowTopic = shadowTopic;
        var worker = new AlertBroker.Worker.Kafka.KafkaAlertWorker(options, new AlertBroker.Worker.Hosting.StateOptions(), processor);
        var alerts = SyntheticZtfAlerts.Generate(objects: 5, alertsPerObject: 3, seed: 14);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync([.. alerts.Select(a => ((string?)a.ObjectId, a.Message))]);

        var outputs = topics.ReadAll(topics.Output, r => r.Count >= alerts.Count, TimeSpan.FromSeconds(60));
        var shadowed = topics.ReadAll(shadowTopic, r => r.Count >= alerts.Count, TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await run;

        Assert.Equal(TestTopics.SourceIds(outputs), TestTopics.SourceIds(shadowed));
        Assert.Equal(alerts.Count, shadowed.Count);
        Assert.All(shadowed, r => Assert.Equal(TestModels.B.Name, ClassificationCodec.Decode(r.Message.Value).ModelName));
        Assert.All(shadowed, r => Assert.Equal(ClassificationCodec.Decode(r.Message.Value).ObjectId, System.Text.Encoding.UTF8.GetString(r.Message.Key!)));
    }
}
