using System.Globalization;
using ApacheRecord = global::Avro.Generic.GenericRecord;

namespace AlertBroker.Alerts.Tests;

/// <summary>
/// The fast alert path (a compiled plan over <c>AvroReader</c> → <see cref="Alert"/>) against values read from the same
/// messages by Apache.Avro 1.12.2's generic reader, mapped by the rules of docs/alerts.md: object id, source ids, times,
/// bands, fluxes and their errors, for the trigger and every detection, upper limit and forced point, on every sample.
/// </summary>
public class ApacheOracleAlertTests
{
    private static readonly string[] s_folders = ["ztf", "ztf-real-50", Path.Combine("lsst", "v7_4"), Path.Combine("lsst", "v11_0"), "lsst-real-v7_4"];

    [SharedDataFact]
    public void EverySample_FastPath_MatchesApacheReadValues()
    {
        // Normalisation is compared, not validation: the official lsst v7_4 fake alert has Unix seconds for times, which the
        // default checks refuse (RubinSampleTests).
        var decoder = new AlertDecoder(new AlertDecoderOptions { Validation = AlertValidation.None });
        int files = 0, observations = 0;
        foreach (var folder in s_folders)
        {
            foreach (var file in SharedData.AvroFiles(folder))
            {
                var bytes = File.ReadAllBytes(file);
                var alert = decoder.DecodeSingle(bytes);
                using var reader = global::Avro.File.DataFileReader<ApacheRecord>.OpenReader(new MemoryStream(bytes));
                var record = reader.Next();
                Assert.False(reader.HasNext());
                var expected = record.TryGetValue("candidate", out _) ? Ztf(record) : Rubin(record);
                var name = Path.GetFileName(file);

                Assert.Equal(expected.Survey, alert.Survey);
                Assert.Equal(expected.ObjectId, alert.ObjectId);
                Assert.Equal(expected.SourceId, alert.SourceId);
                Assert.Equal(expected.AlertId, alert.AlertId);
                Assert.Equal(expected.Trigger.Mjd, alert.Mjd);
                Assert.Equal(expected.Trigger.Band, alert.Band);
                Assert.Equal(expected.Ra, alert.Ra);
                Assert.Equal(expected.Dec, alert.Dec);
                AssertSame(expected.Trigger, alert.Candidate, name + " candidate");
                observations += AssertSameSet(expected.Detections, alert.Detections, name + " detections");
                observations += AssertSameSet(expected.Limits, alert.UpperLimits, name + " upper limits");
                observations += AssertSameSet(expected.Forced, alert.ForcedPhotometry, name + " forced photometry");
                files++;
            }
        }

        Assert.Equal(157, files);
        Assert.True(observations > 800, $"only {observations} observations compared");
    }

    private sealed record Expected(Survey Survey, string ObjectId, long SourceId, long AlertId, double Ra, double Dec, Observation Trigger, List<Observation> Detections, List<Observation> Limits, List<Observation> Forced);

    private static Expected Ztf(ApacheRecord alert)
    {
        var candidate = (ApacheRecord)alert["candidate"];
        var trigger = ZtfDetection(candidate, (long)candidate["candid"]);
        var detections = new List<Observation> { trigger };
        var limits = new List<Observation>();
        var forced = new List<Observation>();
        if (Get(alert, "fp_hists") is object[] fpHists)
        {
            forced.AddRange(fpHists.Cast<ApacheRecord>().Select(ZtfForced));
        }

        if (Get(alert, "prv_candidates") is object[] history)
        {
            foreach (ApacheRecord prv in history)
            {
                if (!prv.TryGetValue("magpsf", out _) && prv.TryGetValue("forcediffimflux", out _))
                {
                    // The 3.5 sample carries forced photometry (fp_hist fields) under prv_candidates.
                    forced.Add(ZtfForced(prv));
                }
                else if (Get(prv, "magpsf") is not null)
                {
                    // Versions without candid in prv_candidates (3.5) are keyed by the image's pid.
                    detections.Add(ZtfDetection(prv, Get(prv, "candid") as long? ?? (long)prv["pid"]));
                }
                else
                {
                    var limit = (double)(float)prv["diffmaglim"];
                    limits.Add(new Observation((long)prv["pid"], (double)prv["jd"] - 2400000.5, ZtfBand(prv), ObservationKind.UpperLimit,
                        float.NaN, (float)(Math.Pow(10, (23.9 - limit) / 2.5) / 5), (float)limit));
                }
            }
        }

        return new Expected(Survey.Ztf, (string)alert["objectId"], trigger.SourceId, trigger.SourceId, (double)candidate["ra"], (double)candidate["dec"], trigger, detections, limits, forced);
    }

    private static Observation ZtfForced(ApacheRecord fp)
    {
        // DN with zero point magzpsci → µJy; −99999 marks a missing value.
        var scale = Get(fp, "magzpsci") is float zp ? Math.Pow(10, (23.9 - zp) / 2.5) : double.NaN;
        static double Counts(object? v) => v is float f && f > -99999 ? f : double.NaN;
        return new Observation((long)fp["pid"], (double)fp["jd"] - 2400000.5, ZtfBand(fp), ObservationKind.Forced,
            (float)(Counts(Get(fp, "forcediffimflux")) * scale), (float)(Counts(Get(fp, "forcediffimfluxunc")) * scale),
            Get(fp, "diffmaglim") is float lim ? lim : float.NaN);
    }

    private static Observation ZtfDetection(ApacheRecord c, long sourceId)
    {
        var mag = (double)(float)c["magpsf"];
        var flux = Math.Pow(10, (23.9 - mag) / 2.5);
        if (Get(c, "isdiffpos") is string s && (s.StartsWith('f') || s.StartsWith('0')))
        {
            flux = -flux;
        }

        var err = Math.Abs(flux) * (float)c["sigmapsf"] * Math.Log(10) / 2.5;
        return new Observation(sourceId, (double)c["jd"] - 2400000.5, ZtfBand(c), ObservationKind.Detection, (float)flux, (float)err,
            Get(c, "diffmaglim") is float lim ? lim : float.NaN);
    }

    private static Passband ZtfBand(ApacheRecord c) => (int)c["fid"] switch { 1 => Passband.ZtfG, 2 => Passband.ZtfR, 3 => Passband.ZtfI, _ => Passband.Unknown };

    private static Expected Rubin(ApacheRecord alert)
    {
        var source = (ApacheRecord)alert["diaSource"];
        var trigger = RubinPoint(source, "diaSourceId", ObservationKind.Detection);
        var detections = new List<Observation> { trigger };
        detections.AddRange(RubinPoints(alert, "prvDiaSources", "diaSourceId", ObservationKind.Detection));
        var forced = RubinPoints(alert, "prvDiaForcedSources", "diaForcedSourceId", ObservationKind.Forced);
        var limits = new List<Observation>();
        if (Get(alert, "prvDiaNondetectionLimits") is object[] nondetections)
        {
            foreach (ApacheRecord n in nondetections)
            {
                var noise = (double)(float)n["diaNoise"] / 1000;
                limits.Add(new Observation((long)n["ccdVisitId"], (double)n["midpointMjdTai"], Band(n), ObservationKind.UpperLimit, float.NaN, (float)noise, (float)(23.9 - (2.5 * Math.Log10(5 * noise)))));
            }
        }

        var objectId = Get(alert, "diaObject") is ApacheRecord o && (long)o["diaObjectId"] != 0
            ? ((long)o["diaObjectId"]).ToString(CultureInfo.InvariantCulture)
            : Get(source, "diaObjectId") is long id && id != 0
                ? id.ToString(CultureInfo.InvariantCulture)
                : "ss" + ((long)source["ssObjectId"]).ToString(CultureInfo.InvariantCulture);
        var alertId = Get(alert, "alertId") as long? ?? trigger.SourceId;
        return new Expected(Survey.Lsst, objectId, trigger.SourceId, alertId, (double)source["ra"], (double)source["dec"], trigger, detections, limits, forced);
    }

    private static List<Observation> RubinPoints(ApacheRecord alert, string field, string idField, ObservationKind kind)
    {
        var points = new List<Observation>();
        if (Get(alert, field) is object[] items)
        {
            foreach (ApacheRecord item in items)
            {
                points.Add(RubinPoint(item, idField, kind));
            }
        }

        return points;
    }

    private static Observation RubinPoint(ApacheRecord r, string idField, ObservationKind kind) => new(
        (long)r[idField],
        (double)r["midpointMjdTai"],
        Band(r),
        kind,
        (float)(Number(r, "psfFlux") / 1000),
        (float)(Number(r, "psfFluxErr") / 1000),
        float.NaN);

    private static Passband Band(ApacheRecord r) => Get(r, "band") switch
    {
        "u" => Passband.LsstU,
        "g" => Passband.LsstG,
        "r" => Passband.LsstR,
        "i" => Passband.LsstI,
        "z" => Passband.LsstZ,
        "y" => Passband.LsstY,
        _ => Passband.Unknown,
    };

    private static double Number(ApacheRecord r, string field) => Get(r, field) switch
    {
        float f => f,
        double d => d,
        null => double.NaN,
        var other => throw new InvalidOperationException($"{field} is {other.GetType()}"),
    };

    private static object? Get(ApacheRecord r, string field) => r.TryGetValue(field, out var value) ? value : null;

    private static void AssertSame(Observation expected, Observation actual, string what)
    {
        Assert.True(expected.SourceId == actual.SourceId, $"{what}: source id {actual.SourceId}, expected {expected.SourceId}");
        Assert.True(expected.Mjd.Equals(actual.Mjd), $"{what} {expected.SourceId}: mjd {actual.Mjd}, expected {expected.Mjd}");
        Assert.True(expected.Band == actual.Band, $"{what} {expected.SourceId}: band {actual.Band}, expected {expected.Band}");
        Assert.True(expected.Kind == actual.Kind, $"{what} {expected.SourceId}: kind {actual.Kind}, expected {expected.Kind}");
        AssertClose(expected.FluxMicroJy, actual.FluxMicroJy, $"{what} {expected.SourceId}: flux");
        AssertClose(expected.FluxErrMicroJy, actual.FluxErrMicroJy, $"{what} {expected.SourceId}: flux error");
        AssertClose(expected.LimitingMag, actual.LimitingMag, $"{what} {expected.SourceId}: limiting magnitude");
    }

    private static void AssertClose(float expected, float actual, string what)
    {
        // Float results of the same formula; only the order of double operations may differ.
        var ok = float.IsNaN(expected) ? float.IsNaN(actual) : Math.Abs(expected - actual) <= 1e-6 * Math.Max(Math.Abs(expected), 1e-3f);
        Assert.True(ok, $"{what} {actual.ToString("R", CultureInfo.InvariantCulture)}, expected {expected.ToString("R", CultureInfo.InvariantCulture)}");
    }

    /// <summary>Ours: time-ordered, one point per source id; each equal to Apache's point with that id.</summary>
    private static int AssertSameSet(List<Observation> expected, Observation[] actual, string what)
    {
        var byId = new Dictionary<long, Observation>();
        foreach (var e in expected)
        {
            if (double.IsFinite(e.Mjd))
            {
                byId.TryAdd(e.SourceId, e);
            }
        }

        Assert.True(byId.Count == actual.Length, $"{what}: {actual.Length} points, expected {byId.Count}");
        for (var i = 0; i < actual.Length; i++)
        {
            Assert.True(i == 0 || actual[i - 1].Mjd <= actual[i].Mjd, $"{what}: not in time order at {i}");
            Assert.True(byId.TryGetValue(actual[i].SourceId, out var e), $"{what}: unexpected source id {actual[i].SourceId}");
            AssertSame(e, actual[i], what);
        }

        return actual.Length;
    }
}
