namespace AlertBroker.Alerts.Tests;

/// <summary>
/// <see cref="CandidateFilter"/>: which alerts are transient candidates. Each check on its own, at and beyond its threshold;
/// a value the alert does not carry is never a reason; the first failing check is the one reported.
/// </summary>
public sealed class CandidateFilterTests
{
    private static readonly CandidateFilter s_filter = CandidateFilter.Default;

    [Fact]
    public void Check_AGoodZtfCandidate_Passes()
    {
        Assert.Null(s_filter.Check(Ztf(flux: 120, realBogus: 0.97f, starScore: 0.03f, ps1Arcsec: 0.8f)));
    }

    [Fact]
    public void Check_AnAlertCarryingNoVettingAtAll_IsNotJudged()
    {
        // Every metadata value missing (NaN / null): nothing the alert says rejects it.
        Assert.Null(s_filter.Check(Ztf(flux: 50)));
        Assert.Null(s_filter.Check(Rubin(flux: 3)));
    }

    [Theory]
    [InlineData(0.49f, true)]
    [InlineData(0.5f, false)]
    [InlineData(0.0034f, true)]
    public void Check_ZtfRealBogus_RejectsBelowTheThreshold(float realBogus, bool rejected)
    {
        var r = s_filter.Check(Ztf(flux: 120, realBogus: realBogus));
        Assert.Equal(rejected, r is not null);
        if (rejected)
        {
            Assert.Equal(CandidateRejectionKind.LowReliability, r!.Kind);
            Assert.StartsWith("not a transient candidate: real/bogus", r.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Check_RubinReliability_UsesItsOwnThreshold()
    {
        var strict = CandidateFilter.Default with { LsstMinReliability = 0.9, ZtfMinRealBogus = 0.1 };
        Assert.Equal(CandidateRejectionKind.LowReliability, strict.Check(Rubin(flux: 3, reliability: 0.8f))!.Kind);
        Assert.Contains("reliability 0.8 < 0.9", strict.Check(Rubin(flux: 3, reliability: 0.8f))!.Message, StringComparison.Ordinal);
        Assert.Null(strict.Check(Ztf(flux: 3, realBogus: 0.8f)));
    }

    [Fact]
    public void Check_NegativeDifferenceFlux_IsRejectedUnlessSwitchedOff()
    {
        var r = s_filter.Check(Ztf(flux: -5369.75f, realBogus: 0.9f));
        Assert.Equal(CandidateRejectionKind.NegativeFlux, r!.Kind);
        Assert.Contains("negative difference flux", r.Message, StringComparison.Ordinal);
        Assert.Null((s_filter with { RequirePositiveFlux = false }).Check(Ztf(flux: -5369.75f, realBogus: 0.9f)));
    }

    [Fact]
    public void Check_TheFirstFailingCheckIsTheReason()
    {
        // Bogus, negative, on a star: reported as bogus.
        Assert.Equal(CandidateRejectionKind.LowReliability, s_filter.Check(Ztf(flux: -10, realBogus: 0.01f, starScore: 1f, ps1Arcsec: 0.3f))!.Kind);
        Assert.Equal(CandidateRejectionKind.NegativeFlux, s_filter.Check(Ztf(flux: -10, realBogus: 0.7f, starScore: 1f, ps1Arcsec: 0.3f))!.Kind);
    }

    [Theory]
    [InlineData(4.9f, true)]
    [InlineData(5f, true)]
    [InlineData(5.1f, false)]
    public void Check_ZtfKnownSolarSystemObjectNearby_IsRejectedWithinTheRadius(float distance, bool rejected)
    {
        var r = s_filter.Check(Ztf(flux: 80, realBogus: 0.9f, solarSystemArcsec: distance));
        Assert.Equal(rejected, r?.Kind == CandidateRejectionKind.SolarSystemObject);
        Assert.Null((s_filter with { SolarSystemRadiusArcsec = 0 }).Check(Ztf(flux: 80, realBogus: 0.9f, solarSystemArcsec: distance)));
    }

    [Fact]
    public void Check_RubinSourceOfASolarSystemObject_IsRejected()
    {
        var r = s_filter.Check(Rubin(flux: 3, reliability: 0.99f, solarSystemObject: 12345));
        Assert.Equal(CandidateRejectionKind.SolarSystemObject, r!.Kind);
        Assert.Contains("12345", r.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.95f, 0.3f, true)]
    [InlineData(0.95f, 1.5f, false)]
    [InlineData(0.5f, 0.3f, false)]
    [InlineData(0.9f, 1.0f, true)]
    public void Check_ZtfOnAPanStarrsStar_IsRejected(float starScore, float distance, bool rejected)
    {
        var r = s_filter.Check(Ztf(flux: 80, realBogus: 0.9f, starScore: starScore, ps1Arcsec: distance));
        Assert.Equal(rejected, r?.Kind == CandidateRejectionKind.Star);
    }

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(2, 3, true)]
    [InlineData(3, 3, false)]
    [InlineData(7, 3, false)]
    public void Check_TooFewDetectionsInTheAlert_NotClassifiedYet(int detections, int minimum, bool rejected)
    {
        var alert = Make(Survey.Ztf, Passband.ZtfR, 120, new AlertMetadata { RealBogus = 0.97f }, detections);

        var r = (CandidateFilter.Default with { MinDetections = minimum }).Check(alert);

        Assert.Equal(rejected, r is not null);
        if (r is not null)
        {
            Assert.Equal(CandidateRejectionKind.TooFewDetections, r.Kind);
            Assert.Equal($"not classified yet: {detections} detection(s) of the object, fewer than {minimum}", r.Message);
        }

        // The vetting checks come first: a bogus alert is rejected as bogus, whatever its detections.
        Assert.Equal(CandidateRejectionKind.LowReliability, (CandidateFilter.Default with { MinDetections = 50 }).Check(Ztf(flux: 120, realBogus: 0.1f))!.Kind);
    }

    [Theory]
    [InlineData(1, 0, true)]
    [InlineData(1, 2, true)]
    [InlineData(1, 3, false)]
    [InlineData(4, 2, false)]
    public void Check_ObjectDetectionsBeyondThePacket_CountTowardTheMinimum(int inAlert, int ofObject, bool rejected)
    {
        var alert = Make(Survey.Ztf, Passband.ZtfR, 120, new AlertMetadata { RealBogus = 0.97f }, inAlert);

        var r = (CandidateFilter.Default with { MinDetections = 3 }).Check(alert, ofObject);

        Assert.Equal(rejected, r is not null);
        Assert.Equal(rejected ? $"not classified yet: {Math.Max(inAlert, ofObject)} detection(s) of the object, fewer than 3" : null, r?.Message);
    }

    // A Rubin object's diaSources of either sign counted as detections, though a model is fed the positive ones only:
    // "3 detections" could mean one step. Only positive ones count now; the default minimum (1) is still no check.
    [Fact]
    public void Check_NegativeDetections_DoNotCountTowardTheMinimum()
    {
        var made = Make(Survey.Lsst, Passband.LsstI, 120, new AlertMetadata { RealBogus = 0.97f }, 3);
        var alert = new Alert
        {
            Survey = made.Survey,
            SchemaVersion = made.SchemaVersion,
            ObjectId = made.ObjectId,
            SourceId = made.SourceId,
            Mjd = made.Mjd,
            Band = made.Band,
            Candidate = made.Candidate,
            Detections = [made.Detections[0] with { FluxMicroJy = -80 }, made.Detections[1] with { FluxMicroJy = -60 }, made.Candidate],
            Metadata = made.Metadata,
        };

        var r = (CandidateFilter.Default with { MinDetections = 2 }).Check(alert);

        Assert.Equal(CandidateRejectionKind.TooFewDetections, r!.Kind);
        Assert.Equal("not classified yet: 1 detection(s) of the object, fewer than 2", r.Message);
        Assert.Null(CandidateFilter.Default.Check(alert));
        Assert.Null((CandidateFilter.None with { MinDetections = 1 }).Check(Rubin(flux: -50)));
    }

    [Fact]
    public void Check_None_AcceptsEverything()
    {
        Assert.Null(CandidateFilter.None.Check(Ztf(flux: -10, realBogus: 0.01f, starScore: 1f, ps1Arcsec: 0.3f, solarSystemArcsec: 1)));
        Assert.Null(CandidateFilter.None.Check(Rubin(flux: -3, reliability: 0f, solarSystemObject: 7)));
    }

    [Fact]
    public void Problems_NameEveryBadSetting()
    {
        Assert.Empty(CandidateFilter.Default.Problems());
        var bad = new CandidateFilter { ZtfMinRealBogus = 1.5, LsstMinReliability = double.NaN, MinStarScore = -0.1, SolarSystemRadiusArcsec = -1, StarRadiusArcsec = double.PositiveInfinity, MinDetections = 0 };
        var problems = bad.Problems();
        Assert.Equal(6, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("MinDetections", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ZtfMinRealBogus", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("LsstMinReliability", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("MinStarScore", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("SolarSystemRadiusArcsec", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("StarRadiusArcsec", StringComparison.Ordinal));
    }

    [Fact]
    public void Tag_IsStableForEveryKind()
    {
        Assert.Equal(["reliability", "negative-flux", "solar-system", "star", "too-few-detections"], Enum.GetValues<CandidateRejectionKind>().Select(CandidateFilter.Tag));
    }

    private static Alert Ztf(float flux, float realBogus = float.NaN, float starScore = float.NaN, float ps1Arcsec = float.NaN, float solarSystemArcsec = float.NaN) =>
        Make(Survey.Ztf, Passband.ZtfR, flux, new AlertMetadata { RealBogus = realBogus, StarGalaxyScore = starScore, DistanceToNearestPs1Arcsec = ps1Arcsec, SolarSystemDistanceArcsec = solarSystemArcsec });

    private static Alert Rubin(float flux, float reliability = float.NaN, long? solarSystemObject = null) =>
        Make(Survey.Lsst, Passband.LsstI, flux, new AlertMetadata { RealBogus = reliability, SolarSystemObjectId = solarSystemObject });

    // detections: the trigger and detections - 1 earlier ones, a day apart.
    private static Alert Make(Survey survey, Passband band, float flux, AlertMetadata metadata, int detections = 1)
    {
        var candidate = new Observation(detections, 60776.8, band, ObservationKind.Detection, flux, 0.3f, float.NaN);
        return new Alert
        {
            Survey = survey,
            SchemaVersion = "test",
            ObjectId = "obj",
            SourceId = candidate.SourceId,
            Mjd = candidate.Mjd,
            Band = band,
            Candidate = candidate,
            Detections = [.. Enumerable.Range(1, detections - 1).Select(i => candidate with { SourceId = i, Mjd = candidate.Mjd - (detections - i) }), candidate],
            Metadata = metadata,
        };
    }
}
