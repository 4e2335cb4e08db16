using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Scoring;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;

namespace AlertBroker.Worker.Tests;

/// <summary>Helpers shared by the pipeline tests: processors, expected light curves, reference (full re-run) scores.</summary>
internal static class PipelineTestKit
{
    public static AlertBatchProcessor Processor(IObjectStateStore store, ActiveModel? model = null, int limit = AlertBatchProcessor.DefaultMaxObservationsPerObject, AlertDecoder? decoder = null)
    {
        var m = model ?? TestModels.A;
        return new AlertBatchProcessor(decoder ?? new AlertDecoder(), store, () => m, new ClassificationCodec()) { MaxObservationsPerObject = limit };
    }

    /// <summary>The newest <paramref name="limit"/> points (all when 0) of an ordered light curve: an object's window.</summary>
    public static Observation[] Newest(Observation[] curve, int limit) =>
        limit > 0 && curve.Length > limit ? curve[^limit..] : curve;

    public static List<InputMessage> Inputs(IEnumerable<SyntheticZtfAlerts.SyntheticAlert> alerts)
    {
        var list = new List<InputMessage>();
        foreach (var a in alerts)
        {
            list.Add(new InputMessage(a.Message, "in", 0, list.Count, 1_700_000_000_000));
        }

        return list;
    }

    /// <summary>The union of every observation in the messages, per object, deduplicated and ordered as the store keeps them.</summary>
    public static Dictionary<ObjectKey, Observation[]> ExpectedLightCurves(IEnumerable<byte[]> messages)
    {
        var decoder = new AlertDecoder();
        var sets = new Dictionary<ObjectKey, Dictionary<(long, ObservationKind), Observation>>();
        var alerts = new List<Alert>();
        foreach (var m in messages)
        {
            alerts.Clear();
            try
            {
                decoder.Decode(m, alerts);
            }
            catch (AlertFormatException)
            {
                continue;
            }

            foreach (var a in alerts)
            {
                var key = new ObjectKey(a.Survey, a.ObjectId);
                if (!sets.TryGetValue(key, out var set))
                {
                    set = [];
                    sets[key] = set;
                }

                foreach (var o in a.Detections)
                {
                    set.TryAdd((o.SourceId, o.Kind), o);
                }

                foreach (var o in a.UpperLimits)
                {
                    set.TryAdd((o.SourceId, o.Kind), o);
                }

                foreach (var o in a.ForcedPhotometry)
                {
                    set.TryAdd((o.SourceId, o.Kind), o);
                }
            }
        }

        var result = new Dictionary<ObjectKey, Observation[]>();
        foreach (var (key, set) in sets)
        {
            var array = new Observation[set.Count];
            set.Values.CopyTo(array, 0);
            Array.Sort(array, static (x, y) => LightCurveMerge.Compare(x, y));
            result[key] = array;
        }

        return result;
    }

    /// <summary>Probabilities after every step of a full re-run over the observations with the model's encoding ([steps × classes]).</summary>
    public static float[] FullRerun(ActiveModel model, Observation[] observations, out int steps)
    {
        var points = model.Encoding.SelectSteps(observations, out var t0);
        steps = points.Length;
        if (steps == 0)
        {
            return [];
        }

        var x = new float[steps * model.Encoding.StepFeatureCount];
        model.Encoding.EncodeSteps(points, 0, t0, double.NaN, x);
        var result = model.Scorer.Score([new ScoringRequest(x, model.Meta, ReadOnlyMemory<float>.Empty)]);
        return result[0].Probabilities;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance = 2e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    public static byte[][] PoisonMessages()
    {
        var random = new Random(5);
        var garbage = new byte[300];
        random.NextBytes(garbage);
        var good = SyntheticZtfAlerts.Generate(1, 1, seed: 99, objectOffset: 9_000_000)[0].Message;
        return
        [
            garbage,
            [],
            good.AsSpan(0, good.Length / 2).ToArray(),
            [0, 0, 0, 0, 42, 1, 2, 3],
            "{\"not\": \"avro\"}"u8.ToArray(),
        ];
    }
}
