using AlertBroker.Avro;

namespace AlertBroker.Alerts.Tests;

public class ZtfSampleTests
{
    private readonly AlertDecoder _decoder = new();

    public static IEnumerable<string> AllZtfFiles() =>
        SharedData.Files("alert-samples/ztf").Concat(SharedData.Files("alert-samples/ztf-real-50"));

    [SharedDataFact]
    public void Decode_EveryZtfSample_GivesOneAlertThatAgreesWithTheRawRecord()
    {
        var files = AllZtfFiles().ToArray();
        Assert.Equal(55, files.Length);
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var alert = _decoder.DecodeSingle(bytes);
            var raw = (GenericRecord)AvroContainerReader.Open(bytes).ReadAll().Single()!;
            var candidate = (GenericRecord)raw["candidate"]!;

            Assert.Equal(Survey.Ztf, alert.Survey);
            Assert.StartsWith("ztf ", alert.SchemaVersion, StringComparison.Ordinal);
            Assert.Equal((string)raw["objectId"]!, alert.ObjectId);
            Assert.Equal((long)raw["candid"]!, alert.SourceId);
            Assert.Equal((double)candidate["jd"]! - 2400000.5, alert.Mjd, 1e-9);
            Assert.Equal((double)candidate["ra"]!, alert.Ra);
            Assert.Equal((double)candidate["dec"]!, alert.Dec);

            // The trigger's flux follows from magpsf/sigmapsf/isdiffpos with the AB zero point.
            var mag = (float)candidate["magpsf"]!;
            var sign = (string)candidate["isdiffpos"]! is "t" or "1" ? 1 : -1;
            var expected = sign * Math.Pow(10, (23.9 - mag) / 2.5);
            Assert.Equal(expected, alert.Candidate.FluxMicroJy, Math.Abs(expected) * 1e-6);
            Assert.Equal(Math.Abs(expected) * (float)candidate["sigmapsf"]! * Math.Log(10) / 2.5, alert.Candidate.FluxErrMicroJy, Math.Abs(expected) * 1e-6);

            var prvAll = (raw["prv_candidates"] as List<object?> ?? []).Cast<GenericRecord>().ToList();

            // The 3.5 sample carries forced photometry (fp_hist fields) under prv_candidates.
            var prv = prvAll.Where(p => p.Schema.GetField("magpsf") is not null).ToList();
            var fpInPrv = prvAll.Count - prv.Count;
            // History: detections carry a magnitude (and a candid, except in schema 3.5), limits do not.
            var prvDetections = prv.Where(p => p["magpsf"] is float)
                .Select(p => p.TryGetValue("candid", out var c) && c is long id ? id : (long)p["pid"]!).ToHashSet();
            var prvLimits = prv.Count(p => p["magpsf"] is null);
            prvDetections.Add(alert.SourceId);
            Assert.Equal(prvDetections.Count, alert.Detections.Length);
            Assert.Equal(prvLimits, alert.UpperLimits.Length);
            Assert.Contains(alert.Detections, d => d.SourceId == alert.SourceId);

            var fp = raw.TryGetValue("fp_hists", out var fpValue) ? fpValue as List<object?> ?? [] : [];
            Assert.Equal(fp.Count + fpInPrv, alert.ForcedPhotometry.Length);

            AssertTimeOrdered(alert.Detections);
            AssertTimeOrdered(alert.UpperLimits);
            AssertTimeOrdered(alert.ForcedPhotometry);
            Assert.All(alert.Detections, d => Assert.True(d.Band is Passband.ZtfG or Passband.ZtfR or Passband.ZtfI));
            Assert.All(alert.UpperLimits, l => Assert.True(float.IsNaN(l.FluxMicroJy) && l.FluxErrMicroJy > 0));
        }
    }

    [SharedDataFact]
    public void Decode_SchemaVersions_ComeFromTheAlerts()
    {
        var versions = AllZtfFiles().Select(f => _decoder.DecodeSingle(File.ReadAllBytes(f)).SchemaVersion).ToHashSet();

        // The official samples span schema 1.8 to 3.5 (the samples' README); the 2021 stream is 3.3.
        Assert.Contains("ztf 3.3", versions);
        Assert.Contains(versions, v => v.StartsWith("ztf 1.", StringComparison.Ordinal));
        Assert.True(versions.Count >= 4, string.Join(", ", versions));
    }

    [SharedDataFact]
    public void Decode_OfficialSamples_CarryDetectionHistory()
    {
        var alerts = SharedData.Files("alert-samples/ztf").Select(f => _decoder.DecodeSingle(File.ReadAllBytes(f))).ToList();
        var v20 = alerts.Single(a => a.SchemaVersion == "ztf 2.0");
        Assert.Equal(63, v20.Detections.Length);
        Assert.Equal(11, v20.UpperLimits.Length);
        var v35 = alerts.Single(a => a.SchemaVersion == "ztf 3.5");
        Assert.Equal(23, v35.ForcedPhotometry.Length);
        Assert.Empty(v35.UpperLimits);
    }

    [SharedDataFact]
    public void Decode_ZtfReal_HasThirtyDayHistoryAndMetadata()
    {
        var alerts = SharedData.Files("alert-samples/ztf-real-50").Select(f => _decoder.DecodeSingle(File.ReadAllBytes(f))).ToList();
        Assert.All(alerts, a =>
        {
            Assert.Matches("^ZTF[0-9]{2}[a-z]{7}$", a.ObjectId);
            Assert.InRange(a.Mjd, 58800, 59700); // 2020–2022
            Assert.All(a.UpperLimits, l => Assert.InRange(a.Mjd - l.Mjd, 0, 30.5)); // 30-day history
            Assert.False(float.IsNaN(a.Metadata.RealBogus));
            Assert.InRange(a.Metadata.RealBogus, 0f, 1f);
        });

        // The file name is the triggering candid.
        foreach (var file in SharedData.Files("alert-samples/ztf-real-50"))
        {
            var alert = _decoder.DecodeSingle(File.ReadAllBytes(file));
            Assert.Equal(long.Parse(Path.GetFileNameWithoutExtension(file), System.Globalization.CultureInfo.InvariantCulture), alert.SourceId);
        }

        Assert.All(alerts, a => Assert.NotEmpty(a.UpperLimits));
    }

    [SharedDataFact]
    public void Decode_NegativeSubtraction_GivesNegativeFlux()
    {
        var negatives = AllZtfFiles()
            .Select(f => _decoder.DecodeSingle(File.ReadAllBytes(f)))
            .SelectMany(a => a.Detections)
            .Where(d => d.FluxMicroJy < 0)
            .ToList();

        // Real streams contain negative subtractions (isdiffpos 'f'); each keeps its magnitude as |flux|.
        Assert.NotEmpty(negatives);
        Assert.All(negatives, d => Assert.True(float.IsNaN((float)d.Magnitude)));
    }

    private static void AssertTimeOrdered(Observation[] observations)
    {
        for (var i = 1; i < observations.Length; i++)
        {
            Assert.True(observations[i - 1].Mjd <= observations[i].Mjd);
        }
    }
}
