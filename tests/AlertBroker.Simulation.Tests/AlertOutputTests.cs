using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.Avro;
using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation.Tests;

public class AlertOutputTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ab-sim-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    private static SimulatedLightCurve CurveWithHistory(SurveyModel survey, long seed)
    {
        var simulator = new LightCurveSimulator(new SimulationOptions { Survey = survey, Seed = seed, MinDetections = 6 });
        return simulator.SimulateOne(0);
    }

    private static int LastDetection(SimulatedLightCurve curve)
    {
        for (var i = curve.Points.Length - 1; i >= 0; i--)
        {
            if (curve.Points[i].Detected)
            {
                return i;
            }
        }

        throw new InvalidOperationException("no detection");
    }

    [Fact]
    public void ZtfAlert_DecodedWithAlertDecoder_GivesTheSimulatedLightCurve()
    {
        var curve = CurveWithHistory(ZtfSurvey.Model, 21);
        var last = LastDetection(curve);
        using var writer = new AlertStreamWriter(ZtfSurvey.Model, _dir, AlertOutputLayout.Files, 21, cutouts: false);

        var alert = new AlertDecoder().DecodeSingle(writer.EncodeMessage(new SimulatedAlert(curve, last)).ToArray());

        Assert.Equal(Survey.Ztf, alert.Survey);
        var t = curve.Points[last].Mjd;
        var expectedDetections = curve.Points.Where(p => p.Detected && p.Mjd <= t && p.Mjd >= t - 30).ToList();
        var expectedLimits = curve.Points.Where(p => !p.Detected && p.Mjd < t && p.Mjd >= t - 30).ToList();
        Assert.Equal(expectedDetections.Count, alert.Detections.Length);
        Assert.Equal(expectedLimits.Count, alert.UpperLimits.Length);
        for (var i = 0; i < expectedDetections.Count; i++)
        {
            var e = expectedDetections[i];
            var d = alert.Detections[i];
            Assert.Equal(e.Mjd, d.Mjd, 6);
            Assert.Equal(e.Band, d.Band);
            Assert.Equal(e.FluxMicroJy, d.FluxMicroJy, Math.Abs(e.FluxMicroJy) * 1e-4);
            Assert.Equal(e.FluxErrMicroJy, d.FluxErrMicroJy, Math.Abs(e.FluxErrMicroJy) * 1e-4);
        }

        for (var i = 0; i < expectedLimits.Count; i++)
        {
            Assert.Equal(expectedLimits[i].Mjd, alert.UpperLimits[i].Mjd, 6);
            Assert.Equal(expectedLimits[i].LimitingMag, alert.UpperLimits[i].LimitingMag, 4);
        }

        Assert.Equal(curve.Points[last].Mjd, alert.Mjd, 6);
        Assert.StartsWith("ZTF", alert.ObjectId, StringComparison.Ordinal);
    }

    [Fact]
    public void RubinAlert_DecodedWithAlertDecoder_GivesTheSimulatedLightCurve()
    {
        var curve = CurveWithHistory(LsstSurvey.Model, 22);
        var last = LastDetection(curve);
        using var writer = new AlertStreamWriter(LsstSurvey.Model, _dir, AlertOutputLayout.Files, 22, cutouts: false);

        var alert = new AlertDecoder().DecodeSingle(writer.EncodeMessage(new SimulatedAlert(curve, last)).ToArray());

        Assert.Equal(Survey.Lsst, alert.Survey);
        var t = curve.Points[last].Mjd;
        var detections = curve.Points.Where(p => p.Detected && p.Mjd <= t && p.Mjd >= t - 365).ToList();
        var forced = curve.Points.Where(p => p.Mjd < t && p.Mjd >= t - 365).ToList();
        Assert.Equal(detections.Count, alert.Detections.Length);
        Assert.Equal(forced.Count, alert.ForcedPhotometry.Length);
        for (var i = 0; i < detections.Count; i++)
        {
            Assert.Equal(detections[i].Mjd, alert.Detections[i].Mjd, 6);
            Assert.Equal(detections[i].Band, alert.Detections[i].Band);
            Assert.Equal(detections[i].FluxMicroJy, alert.Detections[i].FluxMicroJy, Math.Abs(detections[i].FluxMicroJy) * 1e-5);
        }

        for (var i = 0; i < forced.Count; i++)
        {
            Assert.Equal(forced[i].FluxMicroJy, alert.ForcedPhotometry[i].FluxMicroJy, Math.Abs(forced[i].FluxErrMicroJy) * 1e-4);
        }
    }

    [Fact]
    public void ZtfAlert_WithCutouts_IsAboutSixtyKilobytes()
    {
        var curve = CurveWithHistory(ZtfSurvey.Model, 23);
        using var writer = new AlertStreamWriter(ZtfSurvey.Model, _dir, AlertOutputLayout.Files, 23);

        var size = writer.EncodeMessage(new SimulatedAlert(curve, LastDetection(curve))).Length;

        Assert.InRange(size, 50_000, 80_000);
    }

    [SharedDataFact]
    public void ZtfAlert_ReadWithOfficialSchema402_ResolvesAndKeepsValues()
    {
        var official = AvroSchemaSet.LoadDirectory(SharedData.Path("alert-samples", "ztf", "schema"))["ztf.alert"];
        var curve = CurveWithHistory(ZtfSurvey.Model, 24);
        var last = LastDetection(curve);
        using var writer = new AlertStreamWriter(ZtfSurvey.Model, _dir, AlertOutputLayout.Files, 24);
        var message = writer.EncodeMessage(new SimulatedAlert(curve, last)).ToArray();

        var record = (GenericRecord)AvroContainerReader.Open(message).ReadAll(official).Single()!;

        Assert.Same(official, record.Schema);
        var candidate = (GenericRecord)record["candidate"]!;
        Assert.Equal(Photometry.MicroJyToMag(curve.Points[last].FluxMicroJy), (float)candidate["magpsf"]!, 3);
        Assert.Null(candidate["ssnamenr"]);
        var history = (List<object?>)record["prv_candidates"]!;
        Assert.NotEmpty(history);
        Assert.Equal(curve.Points[last].Mjd + 2400000.5, (double)candidate["jd"]!, 6);
        Assert.InRange(((GenericRecord)record["cutoutScience"]!)["stampData"] is ReadOnlyMemory<byte> stamp ? stamp.Length : 0, 15_000, 25_000);
    }

    [SharedDataFact]
    public void RubinAlert_ReadWithOfficialSchemasV7AndV11_Resolves()
    {
        var curve = CurveWithHistory(LsstSurvey.Model, 25);
        var last = LastDetection(curve);
        using var writer = new AlertStreamWriter(LsstSurvey.Model, _dir, AlertOutputLayout.Files, 25, cutouts: false);
        var message = writer.EncodeMessage(new SimulatedAlert(curve, last)).ToArray();
        var container = AvroContainerReader.Open(message);
        Assert.True(container.TryReadBlock(out var block));

        foreach (var (version, root) in new[] { ("v7_4", "lsst.v7_4.alert"), ("v11_0", "lsst.v11_0.alert") })
        {
            var official = AvroSchemaSet.LoadDirectory(SharedData.Path("alert-samples", "lsst", version))[root];
            var position = 0;
            var record = (GenericRecord)new GenericDatumReader(writer.Schema, official).Read(block.Data, ref position)!;

            Assert.Equal(block.Data.Length, position);
            var source = (GenericRecord)record["diaSource"]!;
            Assert.Equal(curve.Points[last].Mjd, (double)source["midpointMjdTai"]!, 9);
            Assert.Equal((float)(curve.Points[last].FluxMicroJy * 1000), (float)source["psfFlux"]!, 1);
            Assert.NotNull(record["prvDiaForcedSources"]);
        }
    }

    // simulate alerts --survey lsst with every default was one night the weather closes for seed 1: no alert, exit 1.
    [Fact]
    public void DefaultStart_EveryNightClosed_MovesToTheFirstOpenNightOnly()
    {
        AlertStreamSimulator Stream(int nights, double? start) => new(new AlertStreamOptions
        {
            Simulation = new SimulationOptions { Survey = LsstSurvey.Model, Seed = 1 },
            Nights = nights,
            StartMjd = start,
        });

        var weather = new LightCurveSimulator(new SimulationOptions { Survey = LsstSurvey.Model, Seed = 1 });
        Assert.False(weather.IsClear(LsstSurvey.Model.DefaultStartMjd));

        // One night: the first open one after the default.
        var moved = Stream(1, null).StartMjd;
        Assert.True(moved > LsstSurvey.Model.DefaultStartMjd);
        Assert.True(weather.IsClear(moved));
        for (var night = LsstSurvey.Model.DefaultStartMjd; night < moved; night++)
        {
            Assert.False(weather.IsClear(night));
        }

        // A window with an open night, and a first night given, stay where they are (the streams made before, unchanged).
        Assert.Equal(LsstSurvey.Model.DefaultStartMjd, Stream(2, null).StartMjd);
        Assert.Equal(LsstSurvey.Model.DefaultStartMjd, Stream(1, LsstSurvey.Model.DefaultStartMjd).StartMjd);
    }

    [Fact]
    public void WriteStream_NightlyTarArchives_ReadBackTimeOrderedThroughArchiveReader()
    {
        var options = new AlertStreamOptions
        {
            Simulation = new SimulationOptions { Survey = ZtfSurvey.Model, Seed = 31, ClassMix = ClassMixKind.Natural, MinDetections = 1 },
            Nights = 3,
            ObjectsPerNight = 4,
            LeadDays = 120,
        };
        AlertStreamSummary summary;
        using (var writer = new AlertStreamWriter(ZtfSurvey.Model, _dir, AlertOutputLayout.NightlyTar, 31, cutouts: false))
        {
            summary = writer.WriteStream(new AlertStreamSimulator(options));
        }

        var archives = Directory.GetFiles(_dir, "ztf_public_*.tar.gz");
        Assert.Equal(3, archives.Length);
        var decoder = new AlertDecoder();
        var alerts = new List<Alert>();
        foreach (var input in AlertArchiveReader.Read([_dir]))
        {
            Assert.Null(input.Error);
            decoder.Decode(input.Payload, alerts);
        }

        Assert.True(summary.Alerts > 10);
        Assert.Equal(summary.Alerts, alerts.Count);
        Assert.Equal(alerts.Count, alerts.Select(a => a.SourceId).Distinct().Count());
        for (var i = 1; i < alerts.Count; i++)
        {
            Assert.True(alerts[i].Mjd >= alerts[i - 1].Mjd);
        }
    }

    [Theory]
    [InlineData("ztf")]
    [InlineData("lsst")]
    public void WriteStream_WithLabels_OneTruthLinePerObject_KeyedByTheDecodedObjectIds(string surveyName)
    {
        var survey = SurveyModel.ByName(surveyName);
        var options = new AlertStreamOptions
        {
            Simulation = new SimulationOptions { Survey = survey, Seed = 32, ClassMix = ClassMixKind.Natural, MinDetections = 1 },
            Nights = 2,
            ObjectsPerNight = 4,
            LeadDays = 120,
        };
        var labels = new StringWriter();
        using (var writer = new AlertStreamWriter(survey, _dir, AlertOutputLayout.Files, 32, cutouts: false) { Labels = labels })
        {
            writer.WriteStream(new AlertStreamSimulator(options));
        }

        var lines = labels.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("object_id,class,redshift,mwebv", lines[0]);
        var truth = lines.Skip(1).Select(l => l.Split(',')).ToDictionary(f => f[0], f => f[1]);
        Assert.Equal(lines.Length - 1, truth.Count);
        var decoder = new AlertDecoder();
        var alerts = new List<Alert>();
        foreach (var input in AlertArchiveReader.Read([_dir]))
        {
            decoder.Decode(input.Payload, alerts);
        }

        Assert.NotEmpty(alerts);
        Assert.Equal(truth.Keys.Order(StringComparer.Ordinal), alerts.Select(a => a.ObjectId).Distinct().Order(StringComparer.Ordinal));
        Assert.All(truth.Values, c => Assert.Contains(c, TransientClasses.All.Select(m => m.Name)));
    }

    // Two nights of three objects each, written in the layout (no cutouts).
    private string WriteSmallStream(SurveyModel survey, long seed, AlertOutputLayout layout, string name)
    {
        var path = Path.Combine(_dir, name);
        var options = new AlertStreamOptions
        {
            Simulation = new SimulationOptions { Survey = survey, Seed = seed, ClassMix = ClassMixKind.Natural, MinDetections = 1 },
            Nights = 2,
            ObjectsPerNight = 3,
            LeadDays = 100,
        };
        using (var writer = new AlertStreamWriter(survey, path, layout, seed, cutouts: false))
        {
            writer.WriteStream(new AlertStreamSimulator(options));
        }

        return path;
    }

    [Fact]
    public void WriteStream_SameSeed_SameBytes()
    {
        byte[] Run(string name) => File.ReadAllBytes(WriteSmallStream(LsstSurvey.Model, 5, AlertOutputLayout.SingleFile, name));

        var a = Run("a.avro");
        var b = Run("b.avro");

        // The bytes, sync marker included (a random one made every run's files differ though the help promises the same
        // output for the same seed), and so the records.
        Assert.Equal(a, b);
        var ra = AvroContainerReader.Open(a).ReadAll().Select(r => r!.ToString()).ToList();
        Assert.NotEmpty(ra);
    }

    // Nightly archives: the tar entries were dated the moment of writing, so two runs a second apart differed.
    [Fact]
    public void WriteStream_NightlyArchives_SameSeed_SameBytes()
    {
        Dictionary<string, byte[]> Run(string name) =>
            Directory.GetFiles(WriteSmallStream(ZtfSurvey.Model, 6, AlertOutputLayout.NightlyTar, name)).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

        var a = Run("a");
        Thread.Sleep(1100);
        var b = Run("b");

        Assert.NotEmpty(a);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.All(a, kv => Assert.Equal(kv.Value, b[kv.Key]));
    }

    [Fact]
    public void EncodeMessage_SameSeed_SameBytes_AnotherSeed_AnotherSyncMarker()
    {
        var curve = CurveWithHistory(LsstSurvey.Model, 27);
        var alert = new SimulatedAlert(curve, LastDetection(curve));
        byte[][] Messages(long seed, string name)
        {
            using var writer = new AlertStreamWriter(LsstSurvey.Model, Path.Combine(_dir, name), AlertOutputLayout.Files, seed, cutouts: false);
            return [writer.EncodeMessage(alert).ToArray(), writer.EncodeMessage(alert).ToArray()];
        }

        var first = Messages(3, "a");
        var again = Messages(3, "b");
        var other = Messages(4, "c");

        Assert.Equal(first, again);
        Assert.NotEqual(AvroContainerReader.Open(first[0]).Header.SyncMarker.ToArray(), AvroContainerReader.Open(first[1]).Header.SyncMarker.ToArray());
        Assert.NotEqual(AvroContainerReader.Open(first[0]).Header.SyncMarker.ToArray(), AvroContainerReader.Open(other[0]).Header.SyncMarker.ToArray());
    }

    [Fact]
    public async Task RubinAlert_ConfluentFraming_DecodesThroughTheSchemaDirectory()
    {
        var curve = CurveWithHistory(LsstSurvey.Model, 26);
        var last = LastDetection(curve);
        using var writer = new AlertStreamWriter(LsstSurvey.Model, _dir, AlertOutputLayout.Files, 26, cutouts: false, AlertFraming.ConfluentWire, schemaId: 42);
        var message = writer.EncodeMessage(new SimulatedAlert(curve, last)).ToArray();

        Assert.True(ConfluentWireFormat.TryReadHeader(message, out var id));
        Assert.Equal(42, id);
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = new DirectorySchemaLookup(Path.Combine(_dir, "schemas")) });
        var alerts = new List<Alert>();
        await decoder.DecodeAsync(message, alerts);

        var alert = Assert.Single(alerts);
        Assert.Equal(RubinAlertEncoder.DiaSourceId(curve.Index, last), alert.SourceId);
        Assert.Equal(curve.Points[last].FluxMicroJy, alert.Candidate.FluxMicroJy, Math.Abs(curve.Points[last].FluxMicroJy) * 1e-5);
    }

    [Fact]
    public void NightlyTar_NightWithoutAlerts_IsAValidEmptyArchive()
    {
        using (var writer = new AlertStreamWriter(ZtfSurvey.Model, _dir, AlertOutputLayout.NightlyTar, 1, cutouts: false))
        {
            writer.BeginNight(58650);
            writer.EndNight();
        }

        var archive = Assert.Single(Directory.GetFiles(_dir, "*.tar.gz"));
        Assert.Empty(AlertArchiveReader.Read([archive]));
        using var tar = new System.Formats.Tar.TarReader(new System.IO.Compression.GZipStream(File.OpenRead(archive), System.IO.Compression.CompressionMode.Decompress));
        Assert.Null(tar.GetNextEntry());
    }
}
