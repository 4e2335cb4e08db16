using AlertBroker.Alerts;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// Transient candidates in the pipeline (<see cref="AlertBatchProcessor.Candidates"/>): on the real ZTF and Rubin samples
/// — most of them bogus or negative subtractions — an alert that is not a candidate is published with its model, no
/// probabilities and the rejection as the reason, and counted; a candidate is published as before; and what is stored
/// (points, hidden state, scored steps) is exactly what the worker stores without the filter.
/// </summary>
public sealed class CandidatePipelineTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-candidates-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [SharedDataFact]
    public async Task RealSamples_NonCandidatesArePublishedWithoutProbabilities_CandidatesAsBefore_StateUnchanged()
    {
        using var ztf = ActiveModel.CreateRandom(Path.Combine(_root, "z"), ["SNIa", "SNII", "TDE"], 3, hiddenSize: 16, surveys: ["ztf"], name: "z");
        using var lsst = ActiveModel.CreateRandom(Path.Combine(_root, "l"), ["SNIa", "SNII", "TDE"], 4, hiddenSize: 16, surveys: ["lsst"], name: "l");
        var inputs = SharedData.AvroFiles("ztf-real-50").Concat(SharedData.AvroFiles("lsst-real-v7_4"))
            .Select((f, i) => new InputMessage(File.ReadAllBytes(f), "in", 0, i, 1_700_000_000_000)).ToList();

        var filteredStore = new InMemoryObjectStateStore();
        var allStore = new InMemoryObjectStateStore();
        // Counted on this processor's own instruments only (other tests' workers publish under the same meter name).
        using var metrics = new WorkerMetrics();
        var filtered = RoutingTests.CountMeasurements("alertbroker.alerts.filtered", out var bySurvey, metrics);
        var reasons = RoutingTests.CountMeasurements("alertbroker.alerts.filtered", out var byReason, metrics, "reason");
        BatchResult withFilter, without;
        using (bySurvey)
        using (byReason)
        {
            withFilter = await new AlertBatchProcessor(new AlertDecoder(), filteredStore, () => ModelSet.Of([ztf, lsst]), new ClassificationCodec(), metrics).ProcessAsync(inputs);
        }

        without = await new AlertBatchProcessor(new AlertDecoder(), allStore, () => ModelSet.Of([ztf, lsst]), new ClassificationCodec()) { Candidates = CandidateFilter.None }.ProcessAsync(inputs);
        Assert.Empty(withFilter.DeadLetters);
        Assert.Equal(withFilter.Alerts, withFilter.Outputs.Count);
        Assert.Equal(without.Outputs.Count, withFilter.Outputs.Count);

        var alerts = new List<Alert>();
        foreach (var m in inputs)
        {
            new AlertDecoder().Decode(m.Value, alerts);
        }

        var withheld = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < alerts.Count; i++)
        {
            var a = alerts[i];
            var c = ClassificationCodec.Decode(withFilter.Outputs[i].Value);
            var plain = ClassificationCodec.Decode(without.Outputs[i].Value);
            Assert.Equal(a.SourceId, c.SourceId);
            Assert.Equal(a.Survey == Survey.Ztf ? "z" : "l", c.ModelName);

            // What the alert says, read here without the filter: the survey's real/bogus, the sign of its difference flux.
            var bogus = a.Metadata.RealBogus < 0.5f;
            var negative = a.Candidate.FluxMicroJy < 0;
            if (bogus || negative)
            {
                Assert.Equal(ScoringPath.None, c.Scoring);
                Assert.Empty(c.Probabilities);
                Assert.Empty(c.Classes);
                Assert.Equal(0, c.StepCount);
                Assert.Equal(plain.ObservationCount, c.ObservationCount);
                var recent = RecentClassification.From(withFilter.Outputs[i].Classification);
                Assert.Equal(c.Reason, recent.Reason);
                Assert.Null(recent.TopClass);
                Assert.Null(recent.TopProbability);
                Assert.StartsWith("not a transient candidate: " + (bogus ? (a.Survey == Survey.Lsst ? "reliability" : "real/bogus") : "negative difference flux"), c.Reason, StringComparison.Ordinal);
                var survey = a.Survey.ToString().ToLowerInvariant();
                withheld[survey] = withheld.GetValueOrDefault(survey) + 1;
            }
            else if (c.Reason is null)
            {
                // A candidate: exactly what the worker publishes without the filter.
                Assert.Equal(plain.Scoring, c.Scoring);
                Assert.Equal(plain.StepCount, c.StepCount);
                Assert.Equal(plain.Probabilities, c.Probabilities);
            }
            else
            {
                // Passed real/bogus and sign, so the star or asteroid check: ZTF sgscore1 ≥ 0.9 within 1″ in these samples.
                Assert.StartsWith("not a transient candidate: on a Pan-STARRS1 star", c.Reason, StringComparison.Ordinal);
                Assert.True(a.Metadata.StarGalaxyScore >= 0.9f && a.Metadata.DistanceToNearestPs1Arcsec <= 1f);
                withheld["ztf"] = withheld.GetValueOrDefault("ztf") + 1;
            }
        }

        // The samples hold both kinds, in both surveys, and the counter saw every withheld alert.
        Assert.True(withheld.GetValueOrDefault("ztf") >= 30, $"ZTF withheld: {withheld.GetValueOrDefault("ztf")}");
        Assert.True(withheld.GetValueOrDefault("lsst") >= 50, $"Rubin withheld: {withheld.GetValueOrDefault("lsst")}");
        Assert.Contains(withFilter.Outputs, o => o.Classification.Survey == Survey.Ztf && o.Classification.Probabilities.Length > 0);
        Assert.Contains(withFilter.Outputs, o => o.Classification.Survey == Survey.Lsst && o.Classification.Probabilities.Length > 0);
        Assert.Equal(withheld, filtered);
        Assert.Superset(new HashSet<string>(["reliability", "negative-flux"]), reasons.Keys.ToHashSet());
        Assert.All(withFilter.Outputs, o => Assert.Equal(o.Classification.Reason is not null, o.Classification.Rejection is not null));

        // Stored: the same points, hidden states and scored steps as without the filter, so later alerts score incrementally.
        var keys = alerts.Select(a => new ObjectKey(a.Survey, a.ObjectId)).Distinct().ToArray();
        var a1 = new ObjectState?[keys.Length];
        var a2 = new ObjectState?[keys.Length];
        await filteredStore.ReadAsync(keys, a1);
        await allStore.ReadAsync(keys, a2);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(a2[i]!.Observations, a1[i]!.Observations);
            Assert.Equal(a2[i]!.ScoredSteps, a1[i]!.ScoredSteps);
            Assert.Equal(a2[i]!.ModelId, a1[i]!.ModelId);
            Assert.Equal(a2[i]!.HiddenState, a1[i]!.HiddenState);
        }
    }

    [Fact]
    public async Task State_RecordsWhetherTheNewestAlertWasWithheld_AnOlderAlertLeavesIt_ANewerCandidateClearsIt()
    {
        var alerts = SyntheticZtfAlerts.Generate(objects: 1, alertsPerObject: 3, seed: 5);
        var store = new InMemoryObjectStateStore();
        var key = new ObjectKey(Survey.Ztf, alerts[0].ObjectId);
        var rejectAll = new CandidateFilter { ZtfMinRealBogus = 2 };
        async Task<ObjectState> Process(SyntheticZtfAlerts.SyntheticAlert alert, CandidateFilter filter)
        {
            var processor = new AlertBatchProcessor(new AlertDecoder(), store, () => TestModels.A, new ClassificationCodec()) { Candidates = filter };
            await processor.ProcessAsync(PipelineTestKit.Inputs([alert]));
            var states = new ObjectState?[1];
            await store.ReadAsync([key], states);
            return states[0]!;
        }

        // The second alert, not a candidate: recorded with its reason.
        var withheld = await Process(alerts[1], rejectAll);
        Assert.Equal(alerts[1].Mjd, withheld.NewestAlertMjd, 6);
        Assert.StartsWith("not a transient candidate: real/bogus", withheld.NewestAlertWithheld, StringComparison.Ordinal);

        // The first (older) alert arriving late, a candidate: the newest alert is still the withheld one.
        var late = await Process(alerts[0], CandidateFilter.None);
        Assert.Equal(withheld.NewestAlertMjd, late.NewestAlertMjd);
        Assert.Equal(withheld.NewestAlertWithheld, late.NewestAlertWithheld);

        // The third (newer) alert, a candidate: published with probabilities, so nothing is withheld any more.
        var newer = await Process(alerts[2], CandidateFilter.None);
        Assert.Equal(alerts[2].Mjd, newer.NewestAlertMjd, 6);
        Assert.Empty(newer.NewestAlertWithheld);
        Assert.NotEmpty(newer.Probabilities);
    }

    // MinDetections counted the packet's detections only: a ZTF packet holds 30 days, so an object with many detections
    // could be withheld as "too few". Now the object's detections up to the alert, stored or in the same batch, count.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task MinDetections_CountsTheObjectsStoredDetections_NotOnlyThePackets(bool oneBatchPerAlert)
    {
        // Packets without history: each carries its own detection only.
        var alerts = SyntheticZtfAlerts.Generate(objects: 6, alertsPerObject: 4, seed: 9, maxHistory: 0);
        var processor = new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => TestModels.A, new ClassificationCodec())
        {
            Candidates = CandidateFilter.Default with { MinDetections = 3 },
        };
        var outputs = new List<Classification>();
        if (oneBatchPerAlert)
        {
            foreach (var a in alerts)
            {
                var result = await processor.ProcessAsync(PipelineTestKit.Inputs([a]));
                outputs.AddRange(result.Outputs.Select(o => ClassificationCodec.Decode(o.Value)));
            }
        }
        else
        {
            var result = await processor.ProcessAsync(PipelineTestKit.Inputs(alerts));
            outputs.AddRange(result.Outputs.Select(o => ClassificationCodec.Decode(o.Value)));
        }

        Assert.Equal(alerts.Count, outputs.Count);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in outputs.OrderBy(c => c.Mjd))
        {
            var n = seen[c.ObjectId] = seen.GetValueOrDefault(c.ObjectId) + 1;
            if (n < 3)
            {
                Assert.Equal(ScoringPath.None, c.Scoring);
                Assert.Equal($"not classified yet: {n} detection(s) of the object, fewer than 3", c.Reason);
            }
            else
            {
                Assert.NotEqual(ScoringPath.None, c.Scoring);
                Assert.NotEmpty(c.Probabilities);
            }
        }

        Assert.Equal(6, seen.Count);
    }
}
