using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Simulation;
using FsCheck;
using FsCheck.Fluent;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

public sealed class AlertBatchProcessorTests
{
    [OnnxFact]
    public async Task ProcessAsync_NewAlerts_OneClassificationPerAlertAndExactLightCurves()
    {
        var alerts = SyntheticZtfAlerts.Generate(12, 6, seed: 3);
        var store = new InMemoryObjectStateStore();
        var processor = Processor(store);
        var inputs = Inputs(alerts);
        var outputs = new List<OutputMessage>();
        for (var i = 0; i < inputs.Count; i += 17)
        {
            var r = await processor.ProcessAsync(inputs.GetRange(i, Math.Min(17, inputs.Count - i)));
            Assert.Empty(r.DeadLetters);
            outputs.AddRange(r.Outputs);
        }

        Assert.Equal(alerts.Count, outputs.Count);
        Assert.Contains(outputs, o => o.Classification.Scoring == ScoringPath.Incremental);
        Assert.Contains(outputs, o => o.Classification.Scoring == ScoringPath.Full);
        for (var i = 0; i < alerts.Count; i++)
        {
            var decoded = ClassificationCodec.Decode(outputs[i].Value);
            Assert.Equal(alerts[i].ObjectId, outputs[i].Key);
            Assert.Equal(alerts[i].ObjectId, decoded.ObjectId);
            Assert.Equal(alerts[i].Candid, decoded.SourceId);
            Assert.Equal(4, decoded.Probabilities.Length);
            Assert.Equal(1f, decoded.Probabilities.Sum(), 3);
            Assert.NotNull(decoded.TopClass);
        }

        var expected = ExpectedLightCurves(alerts.Select(a => a.Message));
        Assert.Equal(12, expected.Count);
        var keys = expected.Keys.ToArray();
        var states = new ObjectState?[keys.Length];
        await store.ReadAsync(keys, states);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(expected[keys[i]], states[i]!.Observations);
        }
    }

    [OnnxFact]
    public async Task ProcessAsync_SameAlertsAgain_ChangesNoStateAndGivesSameProbabilities()
    {
        var alerts = SyntheticZtfAlerts.Generate(8, 5, seed: 4);
        var store = new InMemoryObjectStateStore();
        var processor = Processor(store);
        var first = await processor.ProcessAsync(Inputs(alerts));
        var keys = ExpectedLightCurves(alerts.Select(a => a.Message)).Keys.ToArray();
        var before = new ObjectState?[keys.Length];
        await store.ReadAsync(keys, before);

        var second = await processor.ProcessAsync(Inputs(alerts));
        Assert.Equal(0, second.ObservationsAdded);
        Assert.Equal(0, second.ObjectsWritten);
        var after = new ObjectState?[keys.Length];
        await store.ReadAsync(keys, after);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(before[i]!.Version, after[i]!.Version);
        }

        Assert.Equal(first.Outputs.Count, second.Outputs.Count);
        for (var i = 0; i < first.Outputs.Count; i++)
        {
            var a = first.Outputs[i].Classification;
            var b = second.Outputs[i].Classification;
            Assert.Equal(a.SourceId, b.SourceId);
            Assert.Equal(a.StepCount, b.StepCount);
            AssertClose(a.Probabilities, b.Probabilities);
            Assert.Contains(b.Scoring, new[] { ScoringPath.Cached, ScoringPath.Prefix });
        }
    }

    [OnnxFact]
    public async Task ProcessAsync_PoisonAmongGood_DeadLettersPoisonAndClassifiesTheRest()
    {
        var alerts = SyntheticZtfAlerts.Generate(5, 2, seed: 5);
        var inputs = Inputs(alerts);
        var poison = PoisonMessages();
        for (var i = 0; i < poison.Length; i++)
        {
            inputs.Insert(i * 2, new InputMessage(poison[i], "in", 0, 1000 + i));
        }

        var result = await Processor(new InMemoryObjectStateStore()).ProcessAsync(inputs);
        Assert.Equal(alerts.Count, result.Outputs.Count);
        Assert.Equal(poison.Length, result.DeadLetters.Count);
        for (var i = 0; i < poison.Length; i++)
        {
            Assert.True(result.DeadLetters[i].Message.Value.Span.SequenceEqual(poison[i]));
            Assert.False(string.IsNullOrEmpty(result.DeadLetters[i].Kind));
            Assert.False(string.IsNullOrEmpty(result.DeadLetters[i].Error));
        }
    }

    [OnnxFact]
    public void IncrementalScoring_AnyBatching_EqualsFullRerun()
    {
        // Objects' alerts delivered in arbitrary batch sizes, occasionally with a batch's order reversed (out-of-order
        // delivery): every stored probability and every classification equals a full re-run over the same points.
        var gen = from seed in Gen.Choose(1, 10_000)
                  from batch in Gen.Choose(1, 9)
                  from reverse in Gen.Elements(false, false, true)
                  select (seed, batch, reverse);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (seed, batchSize, reverse) = t;
            var alerts = SyntheticZtfAlerts.Generate(3, 7, seed: seed, maxHistory: 4);
            var store = new InMemoryObjectStateStore();
            var processor = Processor(store);
            var inputs = Inputs(alerts);
            var delivered = new List<byte[]>();
            for (var i = 0; i < inputs.Count; i += batchSize)
            {
                var batch = inputs.GetRange(i, Math.Min(batchSize, inputs.Count - i));
                if (reverse)
                {
                    batch.Reverse();
                }

                var result = processor.ProcessAsync(batch).GetAwaiter().GetResult();
                foreach (var m in batch)
                {
                    delivered.Add(m.Value.ToArray());
                }

                // Each alert's probabilities equal a full re-run over the points stored up to its time.
                var curves = ExpectedLightCurves(delivered);
                foreach (var o in result.Outputs)
                {
                    var c = o.Classification;
                    var points = curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray();
                    var full = FullRerun(TestModels.A, points, out var steps);
                    Assert.Equal(steps, c.StepCount);
                    AssertClose(full.AsSpan((steps - 1) * 4, 4), c.Probabilities);
                }
            }

            var expected = ExpectedLightCurves(delivered);
            var keys = expected.Keys.ToArray();
            var states = new ObjectState?[keys.Length];
            store.ReadAsync(keys, states).GetAwaiter().GetResult();
            for (var i = 0; i < keys.Length; i++)
            {
                var full = FullRerun(TestModels.A, expected[keys[i]], out var steps);
                Assert.Equal(steps, states[i]!.ScoredSteps);
                AssertClose(full.AsSpan((steps - 1) * 4, 4), states[i]!.Probabilities);
            }

            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(25));
    }

    [OnnxFact]
    public void IncrementalScoring_AnyBatchingWithObjectLimit_EqualsFullRerunOverTheWindow()
    {
        // With a per-object limit below the objects' length, an object's window is the newest N points it was ever sent and
        // t0 its first detection inside the window: any batching still gives, for the stored state and for every
        // classification, a full re-run over the window (as of the alert's time: the newest N points at or before it).
        var gen = from seed in Gen.Choose(1, 10_000)
                  from batch in Gen.Choose(1, 9)
                  from limit in Gen.Choose(2, 9)
                  from reverse in Gen.Elements(false, false, true)
                  select (seed, batch, limit, reverse);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (seed, batchSize, limit, reverse) = t;
            var alerts = SyntheticZtfAlerts.Generate(3, 7, seed: seed, maxHistory: 4);
            var store = new InMemoryObjectStateStore();
            var processor = Processor(store, limit: limit);
            var inputs = Inputs(alerts);
            var delivered = new List<byte[]>();
            var dropped = 0;
            for (var i = 0; i < inputs.Count; i += batchSize)
            {
                var batch = inputs.GetRange(i, Math.Min(batchSize, inputs.Count - i));
                if (reverse)
                {
                    batch.Reverse();
                }

                var result = processor.ProcessAsync(batch).GetAwaiter().GetResult();
                dropped += result.ObservationsDropped;
                foreach (var m in batch)
                {
                    delivered.Add(m.Value.ToArray());
                }

                var curves = ExpectedLightCurves(delivered);
                foreach (var o in result.Outputs)
                {
                    var c = o.Classification;
                    var window = Newest(curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray(), limit);
                    Assert.Equal(window.Length, c.ObservationCount);
                    var full = FullRerun(TestModels.A, window, out var steps);
                    Assert.Equal(steps, c.StepCount);
                    if (steps > 0)
                    {
                        AssertClose(full.AsSpan((steps - 1) * 4, 4), c.Probabilities);
                    }
                }
            }

            var expected = ExpectedLightCurves(delivered);
            Assert.True(dropped > 0 || expected.Values.All(v => v.Length <= limit));
            var keys = expected.Keys.ToArray();
            var states = new ObjectState?[keys.Length];
            store.ReadAsync(keys, states).GetAwaiter().GetResult();
            for (var i = 0; i < keys.Length; i++)
            {
                var window = Newest(expected[keys[i]], limit);
                Assert.Equal(window, states[i]!.Observations);
                var full = FullRerun(TestModels.A, window, out var steps);
                Assert.Equal(steps, states[i]!.ScoredSteps);
                if (steps > 0)
                {
                    AssertClose(full.AsSpan((steps - 1) * 4, 4), states[i]!.Probabilities);
                }
            }

            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(25));
    }

    [OnnxFact]
    public async Task ProcessAsync_AlertsDeliveredAgainInAnyBatching_SameClassificationsIncludingCounts()
    {
        var alerts = SyntheticZtfAlerts.Generate(4, 6, seed: 21);
        var store = new InMemoryObjectStateStore();
        var processor = Processor(store);
        var inputs = Inputs(alerts);
        var first = new List<Classification>();
        foreach (var m in inputs)
        {
            first.Add((await processor.ProcessAsync([m])).Outputs.Single().Classification);
        }

        // The whole stream again, at once and then backwards one by one: every alert gets what it got the first time.
        var again = (await processor.ProcessAsync(inputs)).Outputs.Select(o => o.Classification).ToList();
        var backwards = new List<Classification>();
        for (var i = inputs.Count - 1; i >= 0; i--)
        {
            backwards.Insert(0, (await processor.ProcessAsync([inputs[i]])).Outputs.Single().Classification);
        }

        foreach (var redelivered in new[] { again, backwards })
        {
            Assert.Equal(first.Count, redelivered.Count);
            for (var i = 0; i < first.Count; i++)
            {
                Assert.Equal(first[i].SourceId, redelivered[i].SourceId);
                Assert.Equal(first[i].ObservationCount, redelivered[i].ObservationCount);
                Assert.Equal(first[i].StepCount, redelivered[i].StepCount);
                AssertClose(first[i].Probabilities, redelivered[i].Probabilities);
            }
        }

        Assert.Contains(first, c => c.ObservationCount > 1);
    }

    [OnnxFact]
    public async Task ProcessAsync_IdenticalMessagesInOneBatch_OneClassificationEach()
    {
        var alerts = SyntheticZtfAlerts.Generate(2, 3, seed: 22);
        var inputs = Inputs(alerts);
        inputs.Add(new InputMessage(alerts[0].Message, "in", 0, 100, 1_700_000_000_000));
        inputs.Add(new InputMessage(alerts[0].Message, "in", 1, 7, 1_700_000_000_000));

        var result = await Processor(new InMemoryObjectStateStore()).ProcessAsync(inputs);

        Assert.Equal(inputs.Count, result.Outputs.Count);
        var copies = result.Outputs.Where(o => o.Classification.SourceId == alerts[0].Candid).ToList();
        Assert.Equal(3, copies.Count);
        Assert.Equal([0, 100, 7], copies.Select(o => o.Source.Offset));
        Assert.All(copies, c => AssertClose(copies[0].Classification.Probabilities, c.Classification.Probabilities));
        Assert.All(copies, c => Assert.Equal(copies[0].Classification.ObservationCount, c.Classification.ObservationCount));
    }

    [OnnxFact]
    public async Task ProcessAsync_HistoryOverTheObjectLimit_KeepsTheNewestPointsAndScoresThem()
    {
        const int Limit = 4_000;
        var store = new InMemoryObjectStateStore();
        var processor = Processor(store, limit: Limit);
        var alert = SyntheticZtfAlerts.LongHistory(1, 9_000);
        var result = await processor.ProcessAsync([new InputMessage(alert.Message, "in", 0, 0)]);

        var curve = ExpectedLightCurves([alert.Message]).Single();
        var window = Newest(curve.Value, Limit);
        var states = new ObjectState?[1];
        await store.ReadAsync([curve.Key], states);
        Assert.Equal(window, states[0]!.Observations);
        Assert.Equal(9_000 - Limit, result.ObservationsDropped);
        var c = result.Outputs.Single().Classification;
        Assert.Equal(Limit, c.ObservationCount);
        var full = FullRerun(TestModels.A, window, out var steps);
        Assert.Equal(steps, c.StepCount);
        AssertClose(full.AsSpan((steps - 1) * 4, 4), c.Probabilities);

        // The same alert again changes nothing (its old points are dropped again) and gets the same answer.
        var again = await processor.ProcessAsync([new InputMessage(alert.Message, "in", 0, 1)]);
        Assert.Equal(0, again.ObjectsWritten);
        Assert.Equal(ScoringPath.Cached, again.Outputs.Single().Classification.Scoring);
        AssertClose(c.Probabilities, again.Outputs.Single().Classification.Probabilities);
    }

    [OnnxFact]
    public async Task ProcessAsync_HistoryOverThePerAlertLimit_DeadLetteredAndNothingStored()
    {
        var store = new InMemoryObjectStateStore();
        var alert = SyntheticZtfAlerts.LongHistory(2, 100_000);
        var good = SyntheticZtfAlerts.Generate(1, 2, seed: 23);
        var result = await Processor(store).ProcessAsync([new InputMessage(alert.Message, "in", 0, 0), .. Inputs(good)]);

        var dead = Assert.Single(result.DeadLetters);
        Assert.Equal(nameof(AlertBroker.Alerts.AlertErrorKind.HistoryTooLong), dead.Kind);
        Assert.Equal(good.Count, result.Outputs.Count);
        var states = new ObjectState?[1];
        await store.ReadAsync([new ObjectKey(AlertBroker.Alerts.Survey.Ztf, alert.ObjectId)], states);
        Assert.Null(states[0]);
    }

    [OnnxFact]
    public async Task ProcessAsync_ModelChanged_ReRunsFullLightCurve()
    {
        var alerts = SyntheticZtfAlerts.Generate(2, 4, seed: 8);
        var store = new InMemoryObjectStateStore();
        await Processor(store, TestModels.A).ProcessAsync(Inputs(alerts.Take(6)));
        var result = await Processor(store, TestModels.B).ProcessAsync(Inputs(alerts.Skip(6)));
        Assert.All(result.Outputs, o => Assert.Equal(ScoringPath.Full, o.Classification.Scoring));
        var expected = ExpectedLightCurves(alerts.Select(a => a.Message));
        foreach (var o in result.Outputs)
        {
            var full = FullRerun(TestModels.B, expected[new ObjectKey(o.Classification.Survey, o.Key)].Where(p => p.Mjd <= o.Classification.Mjd).ToArray(), out var steps);
            AssertClose(full.AsSpan((steps - 1) * 4, 4), o.Classification.Probabilities);
        }

        // The next alert of an object continues incrementally from model B's state.
        var more = await Processor(store, TestModels.B).ProcessAsync(Inputs(alerts.Skip(6)));
        Assert.All(more.Outputs, o => Assert.NotEqual(ScoringPath.Full, o.Classification.Scoring));
    }

    [Fact]
    public void ClassificationCodec_RoundTrip_ThroughPublishedSchema()
    {
        var c = new Classification("ZTF26aaaa", 123, 124, AlertBroker.Alerts.Survey.Ztf, 60000.5, "m", "1", ["A", "B"], [0.25f, 0.75f], 10, 7, ScoringPath.Incremental, 1_700_000_000_123, 1_700_000_000_200, 1_700_000_000_300);
        var bytes = new ClassificationCodec().Encode(c);
        Assert.Equal(0xC3, bytes[0]);
        var back = ClassificationCodec.Decode(bytes);
        Assert.Equal(c with { Classes = back.Classes, Probabilities = back.Probabilities }, back);
        Assert.Equal(c.Classes, back.Classes);
        Assert.Equal(c.Probabilities, back.Probabilities);
        Assert.Equal("B", back.TopClass);

        // A consumer holding only the schema file decodes the message generically.
        var repo = AlertBroker.Tests.Common.SharedData.RepositoryRoot();
        if (repo is not null)
        {
            var schema = AlertBroker.Avro.AvroSchema.Parse(File.ReadAllText(Path.Combine(repo, "schemas", "classification", "alertbroker-classification.avsc")));
            var record = (AlertBroker.Avro.GenericRecord)AlertBroker.Avro.SingleObjectEncoding.Decode(bytes, f => f == schema.Fingerprint ? schema : null)!;
            Assert.Equal("ZTF26aaaa", record["objectId"]);
            Assert.Equal("B", record["topClass"]);
        }

        var wire = new ClassificationCodec(OutputFraming.ConfluentWire, 77).Encode(c with { Probabilities = [], Classes = [], ModelName = string.Empty, ModelVersion = string.Empty, Scoring = ScoringPath.None, Reason = "no model serves the survey lsst" });
        Assert.Equal(0, wire[0]);
        var empty = ClassificationCodec.Decode(wire);
        Assert.Null(empty.TopClass);
        Assert.Empty(empty.Probabilities);
        Assert.Equal("no model serves the survey lsst", empty.Reason);
        Assert.Null(back.Reason);
    }
}
