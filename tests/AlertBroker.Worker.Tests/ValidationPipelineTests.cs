using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Simulation;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// Real ZTF and Rubin samples with one absurd value each go through the batch step: dead-lettered as
/// <c>InvalidValue</c>, nothing stored for their object, the good alerts beside them classified.
/// </summary>
public sealed class ValidationPipelineTests
{
    public static TheoryData<string, string, string> Mutations => new()
    {
        { "ztf", "candidate", "magpsf=NaN" },
        { "ztf", "candidate", "jd=1e30" },
        { "ztf", "candidate", "sigmapsf=-0.2" },
        { "lsst", "diaSource", "psfFlux=Infinity" },
        { "lsst", "diaSource", "psfFluxErr=-3" },
        { "lsst", "diaSource", "midpointMjdTai=-1e300" },
        { "lsst", "prvDiaForcedSources", "midpointMjdTai=1e30" },
    };

    [SharedDataTheory]
    [MemberData(nameof(Mutations))]
    public async Task ProcessAsync_RealSampleWithAbsurdValue_DeadLetteredInvalidValueNothingStored(string survey, string record, string change)
    {
        var file = survey == "ztf" ? SharedData.AvroFiles("ztf-real-50").First() : SharedData.AvroFiles("lsst-real-v7_4").First(f => Count(f, "prvDiaForcedSources") > 0);
        var original = File.ReadAllBytes(file);
        var bytes = Mutate(original, alert =>
        {
            var target = alert[record] is List<object?> list ? (GenericRecord)list[0]! : (GenericRecord)alert[record]!;
            var (field, text) = (change.Split('=')[0], change.Split('=')[1]);
            var value = double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            var isFloat = target.Schema.Fields.First(f => f.Name == field).Schema.ToString().Contains("float", StringComparison.Ordinal);
            target[field] = isFloat ? (object)(float)value : value;
        });
        var key = new AlertDecoder().DecodeSingle(original);
        var good = SyntheticZtfAlerts.Generate(2, 2, seed: 31);
        var store = new InMemoryObjectStateStore();

        var result = await Processor(store).ProcessAsync([new InputMessage(bytes, "in", 0, 0), .. Inputs(good)]);

        var dead = Assert.Single(result.DeadLetters);
        Assert.Equal("InvalidValue", dead.Kind);
        Assert.Equal(good.Count, result.Outputs.Count);
        var states = new ObjectState?[1];
        await store.ReadAsync([new ObjectKey(key.Survey, key.ObjectId)], states);
        Assert.Null(states[0]);

        // The unmutated sample is classified and stored.
        Assert.Single((await Processor(store).ProcessAsync([new InputMessage(original, "in", 0, 1)])).Outputs);
        await store.ReadAsync([new ObjectKey(key.Survey, key.ObjectId)], states);
        Assert.NotNull(states[0]);
    }

    // Found by the worker hunt (2026-12-07): an alert whose every point has a flux error of 0 passes validation (an error
    // may be 0) but gives the model no step; it was published without probabilities and without a reason.
    [SharedDataFact]
    public async Task ProcessAsync_NoPointTheModelCanScore_ClassifiedWithoutProbabilitiesSayingWhy()
    {
        // A sample that is a transient candidate and scored as it is (most real samples are bogus).
        byte[]? candidate = null;
        foreach (var file in SharedData.AvroFiles("ztf-real-50"))
        {
            var bytesOfFile = File.ReadAllBytes(file);
            var scored = (await Processor(new InMemoryObjectStateStore()).ProcessAsync([new InputMessage(bytesOfFile, "in", 0, 0)])).Outputs.Single().Classification;
            if (scored.Reason is null && scored.Probabilities.Length > 0)
            {
                candidate = bytesOfFile;
                break;
            }
        }

        Assert.NotNull(candidate);
        var bytes = Mutate(candidate, alert =>
        {
            ZeroErrors((GenericRecord)alert["candidate"]!);
            foreach (var list in new[] { alert["prv_candidates"], alert.Schema.Fields.Any(f => f.Name == "fp_hists") ? alert["fp_hists"] : null })
            {
                foreach (var point in list as List<object?> ?? [])
                {
                    ZeroErrors((GenericRecord)point!);
                }
            }
        });

        var result = await Processor(new InMemoryObjectStateStore()).ProcessAsync([new InputMessage(bytes, "in", 0, 0)]);

        Assert.Empty(result.DeadLetters);
        var c = Assert.Single(result.Outputs).Classification;
        Assert.Equal(ScoringPath.None, c.Scoring);
        Assert.Empty(c.Probabilities);
        Assert.Equal(AlertBatchProcessor.NoStepReason, c.Reason);

        static void ZeroErrors(GenericRecord point)
        {
            foreach (var field in new[] { "sigmapsf", "forcediffimfluxunc" })
            {
                if (point.Schema.Fields.Any(f => f.Name == field) && point[field] is float)
                {
                    point[field] = 0f;
                }
            }
        }
    }

    private static int Count(string file, string field) =>
        ((GenericRecord)AvroContainerReader.Open(File.ReadAllBytes(file)).ReadAll().Single()!)[field] is List<object?> list ? list.Count : 0;

    private static byte[] Mutate(byte[] container, Action<GenericRecord> change)
    {
        var reader = AvroContainerReader.Open(container);
        var record = (GenericRecord)reader.ReadAll().Single()!;
        change(record);
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, reader.Header.Schema, leaveOpen: true))
        {
            writer.Write(record);
        }

        return stream.ToArray();
    }
}
