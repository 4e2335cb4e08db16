using AlertBroker.Avro;

namespace AlertBroker.Alerts.Tests;

/// <summary>
/// The value checks at decode (<see cref="AlertValidation"/>): real ZTF and Rubin samples, each mutated in one field and
/// written back with its own schema, must be refused as <see cref="AlertErrorKind.InvalidValue"/>; the samples as they
/// are must pass.
/// </summary>
public sealed class ValidationTests
{
    private static readonly AlertDecoder s_decoder = new();

    private static string ZtfSample => SharedData.AvroFiles("ztf-real-50").Concat(SharedData.AvroFiles("ztf")).First(HasPrvDetection);

    private static string RubinSample => SharedData.Files("alert-samples/lsst-real-v7_4").First(f => PrvCount(f, "prvDiaSources") >= 1 && PrvCount(f, "prvDiaForcedSources") >= 1);

    [SharedDataFact]
    public void Decode_EveryRealSample_PassesTheDefaultChecks()
    {
        var count = 0;
        foreach (var folder in new[] { "ztf", "ztf-real-50", "lsst-real-v7_4", Path.Combine("lsst", "v11_0") })
        {
            foreach (var file in SharedData.AvroFiles(folder))
            {
                Assert.NotNull(s_decoder.DecodeSingle(File.ReadAllBytes(file)));
                count++;
            }
        }

        Assert.Equal(156, count);
    }

    public static TheoryData<string> ZtfMutations => new()
    {
        "candidate.magpsf=NaN",
        "candidate.magpsf=-1e30",
        "candidate.sigmapsf=-0.1",
        "candidate.sigmapsf=Infinity",
        "candidate.jd=1e30",
        "candidate.jd=2400000.5",
        "prv.jd=-1e300",
        "prv.jd=NaN",
        "prv.jd=Infinity",
        "prv.magpsf=NaN",
    };

    [SharedDataTheory]
    [MemberData(nameof(ZtfMutations))]
    public void Decode_ZtfSampleWithAbsurdValue_IsInvalidValue(string mutation)
    {
        var bytes = Mutate(File.ReadAllBytes(ZtfSample), alert =>
        {
            var (path, value) = Split(mutation);
            var record = path[0] == "candidate" ? (GenericRecord)alert["candidate"]! : FirstDetection((List<object?>)alert["prv_candidates"]!);
            Set(record, path[1], value);
        });

        var e = Assert.Throws<AlertFormatException>(() => s_decoder.DecodeSingle(bytes));
        Assert.Equal(AlertErrorKind.InvalidValue, e.Kind);
    }

    public static TheoryData<string> RubinMutations => new()
    {
        "diaSource.psfFlux=NaN",
        "diaSource.psfFlux=Infinity",
        "diaSource.psfFlux=-Infinity",
        "diaSource.psfFluxErr=-5",
        "diaSource.psfFluxErr=NaN",
        "diaSource.midpointMjdTai=1e30",
        "diaSource.midpointMjdTai=-1e300",
        "diaSource.midpointMjdTai=1480360995",
        "prvDiaSources.midpointMjdTai=-1e300",
        "prvDiaSources.psfFlux=NaN",
        "prvDiaForcedSources.psfFlux=Infinity",
        "prvDiaForcedSources.psfFluxErr=-1",
        "prvDiaForcedSources.midpointMjdTai=NaN",
        "prvDiaForcedSources.midpointMjdTai=50000",
    };

    [SharedDataTheory]
    [MemberData(nameof(RubinMutations))]
    public void Decode_RubinSampleWithAbsurdValue_IsInvalidValue(string mutation)
    {
        var bytes = Mutate(File.ReadAllBytes(RubinSample), alert =>
        {
            var (path, value) = Split(mutation);
            var record = path[0] == "diaSource" ? (GenericRecord)alert["diaSource"]! : (GenericRecord)((List<object?>)alert[path[0]]!)[0]!;
            Set(record, path[1], value);
        });

        var e = Assert.Throws<AlertFormatException>(() => s_decoder.DecodeSingle(bytes));
        Assert.Equal(AlertErrorKind.InvalidValue, e.Kind);
    }

    [SharedDataFact]
    public void Decode_RubinForcedPointWithMissingFlux_IsKeptAsMissingNotRefused()
    {
        // A forced measurement that failed (NaN) is a missing value, as ZTF's −99999 sentinel is: kept, never a step.
        var bytes = Mutate(File.ReadAllBytes(RubinSample), alert =>
        {
            var forced = (GenericRecord)((List<object?>)alert["prvDiaForcedSources"]!)[0]!;
            Set(forced, "psfFlux", "NaN");
            Set(forced, "psfFluxErr", "NaN");
        });

        var alert = s_decoder.DecodeSingle(bytes);
        Assert.Contains(alert.ForcedPhotometry, o => float.IsNaN(o.FluxMicroJy));
    }

    [SharedDataFact]
    public void Decode_WindowsAreConfigurable()
    {
        var bytes = File.ReadAllBytes(ZtfSample);
        var mjd = s_decoder.DecodeSingle(bytes).Mjd;
        var end = Math.Floor(mjd) - 1;
        var narrow = new AlertDecoder(new AlertDecoderOptions { Validation = new AlertValidation { ZtfMaxMjd = end } });
        var e = Assert.Throws<AlertFormatException>(() => narrow.DecodeSingle(bytes));
        Assert.Equal(AlertErrorKind.InvalidValue, e.Kind);
        Assert.Contains("ZTF window 58000.." + end.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);

        // With the checks off the same alert decodes.
        Assert.NotNull(new AlertDecoder(new AlertDecoderOptions { Validation = AlertValidation.None }).DecodeSingle(Mutate(bytes, a => Set((GenericRecord)a["candidate"]!, "jd", "1e30"))));
    }

    [SharedDataFact]
    public void Decode_HistoryOverThePerAlertLimit_IsHistoryTooLong()
    {
        // A real ZTF alert whose prv_candidates are repeated to 10,001 points; a Rubin one with 10,001 forced sources.
        var ztf = Mutate(File.ReadAllBytes(ZtfSample), alert => Repeat((List<object?>)alert["prv_candidates"]!, 10_001));
        var rubin = Mutate(File.ReadAllBytes(RubinSample), alert => Repeat((List<object?>)alert["prvDiaForcedSources"]!, 10_001));
        foreach (var bytes in new[] { ztf, rubin })
        {
            var e = Assert.Throws<AlertFormatException>(() => s_decoder.DecodeSingle(bytes));
            Assert.Equal(AlertErrorKind.HistoryTooLong, e.Kind);
            Assert.Contains("10000", e.Message, StringComparison.Ordinal);

            // Under a higher limit they decode (the repeated points are one point each after deduplication).
            Assert.NotNull(new AlertDecoder(new AlertDecoderOptions { Validation = new AlertValidation { MaxObservationsPerAlert = 20_000 } }).DecodeSingle(bytes));
        }

        // The limit counts every kind: the unmutated sample is refused under a limit below its size.
        var small = new AlertDecoder(new AlertDecoderOptions { Validation = new AlertValidation { MaxObservationsPerAlert = 2 } });
        Assert.Equal(AlertErrorKind.HistoryTooLong, Assert.Throws<AlertFormatException>(() => small.DecodeSingle(File.ReadAllBytes(RubinSample))).Kind);
    }

    private static (string[] Path, string Value) Split(string mutation)
    {
        var parts = mutation.Split('=');
        return (parts[0].Split('.'), parts[1]);
    }

    private static GenericRecord FirstDetection(List<object?> prv) =>
        prv.Cast<GenericRecord>().First(p => p.TryGetValue("magpsf", out var m) && m is not null);

    private static void Set(GenericRecord record, string field, string text)
    {
        var value = double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        record[field] = record[field] switch
        {
            float => (object)(float)value,
            _ => value,
        };
    }

    private static void Repeat(List<object?> items, int total)
    {
        var original = items.ToList();
        while (items.Count < total)
        {
            items.Add(original[items.Count % original.Count]);
        }
    }

    private static bool HasPrvDetection(string file)
    {
        var record = (GenericRecord)AvroContainerReader.Open(File.ReadAllBytes(file)).ReadAll().Single()!;
        return record["prv_candidates"] is List<object?> prv && prv.Cast<GenericRecord>().Any(p => p.TryGetValue("magpsf", out var m) && m is not null);
    }

    private static int PrvCount(string file, string field)
    {
        var record = (GenericRecord)AvroContainerReader.Open(File.ReadAllBytes(file)).ReadAll().Single()!;
        return record.TryGetValue(field, out var v) && v is List<object?> list ? list.Count : 0;
    }

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
