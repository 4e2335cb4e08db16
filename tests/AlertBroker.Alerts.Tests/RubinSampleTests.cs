using System.Text.Json;
using AlertBroker.Avro;

namespace AlertBroker.Alerts.Tests;

public class RubinSampleTests
{
    private readonly AlertDecoder _decoder = new();

    [SharedDataFact]
    public void Decode_FakeAlerts_MatchTheirJson()
    {
        // The v7_4 fake alert's times are Unix seconds (midpointMjdTai 1480360995): normalisation is compared with the value
        // checks off; Decode_FakeV7_4AlertWithUnixTimes_IsInvalidValue shows the default refusing it.
        var lenient = new AlertDecoder(new AlertDecoderOptions { Validation = AlertValidation.None });
        foreach (var version in new[] { "v7_4", "v11_0" })
        {
            var alert = lenient.DecodeSingle(File.ReadAllBytes(SharedData.Path("alert-samples", "lsst", version, "fakeAlert.avro")));
            using var json = JsonDocument.Parse(File.ReadAllText(SharedData.Path("alert-samples", "lsst", version, "alert.json")));
            var source = json.RootElement.GetProperty("diaSource");

            Assert.Equal(Survey.Lsst, alert.Survey);
            Assert.Equal("lsst." + version, alert.SchemaVersion);
            Assert.Equal(source.GetProperty("diaSourceId").GetInt64(), alert.SourceId);
            Assert.Equal(json.RootElement.GetProperty("diaObject").GetProperty("diaObjectId").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), alert.ObjectId);
            Assert.Equal(Passband.LsstR, alert.Band);
            Assert.Equal(source.GetProperty("midpointMjdTai").GetDouble(), alert.Mjd);
            Assert.Equal(source.GetProperty("ra").GetDouble(), alert.Ra);

            // psfFlux is in nJy: 1241 nJy = 1.241 µJy.
            Assert.Equal(source.GetProperty("psfFlux").GetDouble() / 1000.0, alert.Candidate.FluxMicroJy, 1e-6);
            Assert.Equal(source.GetProperty("psfFluxErr").GetDouble() / 1000.0, alert.Candidate.FluxErrMicroJy, 1e-6);

            var previous = json.RootElement.GetProperty("prvDiaSources").GetArrayLength();
            Assert.Equal(previous + 1, alert.Detections.Length);
            Assert.Empty(alert.ForcedPhotometry);
        }
    }

    [SharedDataFact]
    public void Decode_FakeV7_4AlertWithUnixTimes_IsInvalidValue()
    {
        var e = Assert.Throws<AlertFormatException>(() => _decoder.DecodeSingle(File.ReadAllBytes(SharedData.Path("alert-samples", "lsst", "v7_4", "fakeAlert.avro"))));
        Assert.Equal(AlertErrorKind.InvalidValue, e.Kind);
        Assert.Contains("outside the Rubin window", e.Message, StringComparison.Ordinal);

        // The v11_0 fake alert has real MJDs and passes.
        Assert.Equal(Survey.Lsst, _decoder.DecodeSingle(File.ReadAllBytes(SharedData.Path("alert-samples", "lsst", "v11_0", "fakeAlert.avro"))).Survey);
    }

    [SharedDataFact]
    public void Decode_RealRubinAlertsRewrittenBySpark_AreRecognisedByStructure()
    {
        var files = SharedData.Files("alert-samples/lsst-real-v7_4");
        Assert.Equal(100, files.Length);
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var alert = _decoder.DecodeSingle(bytes);
            var raw = (GenericRecord)AvroContainerReader.Open(bytes).ReadAll().Single()!;
            var source = (GenericRecord)raw["diaSource"]!;

            // Spark renamed the root "topLevelRecord": the format is found from the fields instead.
            Assert.Equal("topLevelRecord", ((RecordSchema)AvroContainerReader.Open(bytes).Header.Schema).Name);
            Assert.Equal(Survey.Lsst, alert.Survey);
            Assert.Equal((long)source["diaSourceId"]!, alert.SourceId);
            Assert.Equal((double)source["midpointMjdTai"]!, alert.Mjd);
            var flux = source["psfFlux"] is float f ? f / 1000.0 : double.NaN;
            Assert.Equal(flux, alert.Candidate.FluxMicroJy, (Math.Abs(flux) * 1e-6) + 1e-9);
            Assert.Equal(Passbands.FromLsstBand(System.Text.Encoding.UTF8.GetBytes((string)source["band"]!)), alert.Band);

            var prv = raw["prvDiaSources"] as List<object?> ?? [];
            var ids = prv.Cast<GenericRecord>().Select(p => (long)p["diaSourceId"]!).Append(alert.SourceId).ToHashSet();
            Assert.Equal(ids.Count, alert.Detections.Length);
            var forced = raw["prvDiaForcedSources"] as List<object?> ?? [];
            Assert.Equal(forced.Count, alert.ForcedPhotometry.Length);
        }
    }
}
