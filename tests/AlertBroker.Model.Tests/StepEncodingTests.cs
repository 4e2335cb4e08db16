using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Tests;

public class StepEncodingTests
{
    private static Observation Point(long id, double mjd, Passband band, ObservationKind kind, float flux, float error) =>
        new(id, mjd, band, kind, flux, error, float.NaN);

    [Fact]
    public void Registry_BothEncodings_FoundByIdAndParsedByName()
    {
        Assert.Equal([new EncodingId("alertbroker-lc", 1), new EncodingId("muthukrishna2025", 1)], StepEncodings.Ids);
        Assert.Same(Muthukrishna2025Encoding.Instance, StepEncodings.Parse("muthukrishna2025"));
        Assert.Same(Muthukrishna2025Encoding.Instance, StepEncodings.Parse("muthukrishna2025@1"));
        Assert.Same(LightCurveEncoding.Instance, StepEncodings.Parse("alertbroker-lc"));
        Assert.Same(LightCurveEncoding.Instance, StepEncodings.Get(new EncodingId("alertbroker-lc", 1)));
        Assert.Equal(StepEncodings.Ids, LightCurveEncoding.Supported);
    }

    [Fact]
    public void DetectionsOnly_DropsForcedPhotometryBeforeTheInnerEncodingSelects_SameFeaturesAndTimeZero()
    {
        // A forced point before the first detection, one between two detections, an upper limit.
        Observation[] curve =
        [
            Point(1, 100.0, Passband.LsstG, ObservationKind.Forced, 5f, 2f),
            Point(2, 101.0, Passband.LsstR, ObservationKind.UpperLimit, float.NaN, float.NaN),
            Point(3, 102.0, Passband.LsstR, ObservationKind.Detection, 300f, 10f),
            Point(4, 103.0, Passband.LsstG, ObservationKind.Forced, 280f, 10f),
            Point(5, 105.0, Passband.LsstG, ObservationKind.Detection, 500f, 12f),
        ];
        foreach (var inner in StepEncodings.All)
        {
            var e = StepEncodings.DetectionsOnly(inner);
            Assert.Same(e, StepEncodings.DetectionsOnly(e));
            Assert.Equal(inner.Id, e.Id);
            Assert.True(e.Descriptor(metadata: false).DetectionsOnly);
            Assert.Null(inner.Descriptor(metadata: false).DetectionsOnly);
            Assert.False(e.IsCandidate(curve[0]));
            Assert.True(e.IsCandidate(curve[2]) == inner.IsCandidate(curve[2]));

            var steps = e.SelectOrderedSteps(curve, out var t0);
            Assert.Equal([3L, 5L], steps.Select(p => p.SourceId));
            Assert.Equal(102.0, t0);
            var all = inner.SelectOrderedSteps(curve, out var allT0);
            Assert.Contains(all, p => p.Kind == ObservationKind.Forced);
            Assert.Equal(102.0, allT0);

            // The features of the kept points are the inner encoding's over the same points.
            var expected = new float[2 * inner.StepFeatureCount];
            var actual = new float[2 * inner.StepFeatureCount];
            inner.EncodeSteps(inner.SelectOrderedSteps([curve[2], curve[4]], out var t), 0, t, double.NaN, expected);
            e.EncodeSteps(steps, 0, t0, double.NaN, actual);
            Assert.Equal(expected, actual);
        }
    }

    // Found by the train/serve hunt: Rubin reports diaSources of either sign (181 of the 292 detections in the real
    // samples are negative) and ZTF negative ones as isdiffpos 'f'. Every detection in the training data has a positive
    // flux (the simulator detects at 5σ above zero; BTS light curves are magnitudes), so a negative one was a point the
    // model never saw, and it moved time zero earlier. Neither is fed now; every-point models are unchanged.
    [Fact]
    public void DetectionsOnly_ANegativeDetection_IsNotAStep_NorTimeZero()
    {
        Observation[] curve =
        [
            Point(1, 100.0, Passband.LsstG, ObservationKind.Detection, -400f, 20f),
            Point(2, 102.0, Passband.LsstR, ObservationKind.Detection, 300f, 10f),
            Point(3, 104.0, Passband.LsstG, ObservationKind.Detection, -50f, 9f),
            Point(4, 105.0, Passband.LsstG, ObservationKind.Detection, 500f, 12f),
        ];
        foreach (var inner in StepEncodings.All)
        {
            var e = StepEncodings.DetectionsOnly(inner);
            Assert.False(e.IsCandidate(curve[0]));
            Assert.Equal(inner.IsCandidate(curve[1]), e.IsCandidate(curve[1]));

            var steps = e.SelectOrderedSteps(curve, out var t0);
            Assert.Equal([2L, 4L], steps.Select(p => p.SourceId));
            Assert.Equal(102.0, t0);
            Assert.Contains(inner.SelectOrderedSteps(curve, out _), p => p.SourceId == 1);
        }
    }

    [Fact]
    public void ForModel_DetectionsOnlyFromTheEncodingSection_ElseFromTheTrainingRecord_ElseEveryPoint()
    {
        var lc = LightCurveEncoding.Descriptor(metadata: false);
        ModelManifest Manifest(bool? declared, bool? recorded) => new()
        {
            Encoding = lc with { DetectionsOnly = declared },
            Training = new TrainingSummary
            {
                Data = recorded is null ? null : new System.Text.Json.Nodes.JsonObject { ["encoding"] = new System.Text.Json.Nodes.JsonObject { ["detectionsOnly"] = recorded.Value } },
            },
        };

        Assert.IsType<DetectionsOnlyEncoding>(StepEncodings.ForModel(Manifest(true, null)));
        Assert.IsType<DetectionsOnlyEncoding>(StepEncodings.ForModel(Manifest(null, true)));
        Assert.Same(LightCurveEncoding.Instance, StepEncodings.ForModel(Manifest(false, true)));
        Assert.Same(LightCurveEncoding.Instance, StepEncodings.ForModel(Manifest(null, false)));
        Assert.Same(LightCurveEncoding.Instance, StepEncodings.ForModel(Manifest(null, null)));
        Assert.Null(StepEncodings.ForModel(new ModelManifest { Encoding = new FeatureEncodingDescriptor { Name = "unknown", Version = 9 } }));

        // The field round-trips through model.json and is left out when unset.
        var json = ModelPackage.SerializeManifest(Manifest(true, null));
        Assert.Contains("\"detectionsOnly\": true", System.Text.Encoding.UTF8.GetString(json), StringComparison.Ordinal);
        Assert.True(ModelPackage.ParseManifest(json).Encoding.DetectionsOnly);
        Assert.DoesNotContain("detectionsOnly", System.Text.Encoding.UTF8.GetString(ModelPackage.SerializeManifest(Manifest(null, null))), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("muthukrishna2024")]
    [InlineData("muthukrishna2025@2")]
    [InlineData("alertbroker-lc@x")]
    public void Parse_UnknownEncoding_ThrowsNamingTheImplementedOnes(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => StepEncodings.Parse(text));

        Assert.Contains("muthukrishna2025@1 (4 step features)", e.Message, StringComparison.Ordinal);
        Assert.Contains("alertbroker-lc@1 (6 step features)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Muthukrishna2025_Declaration_FourFeaturesNoMetadataWindowAroundTheFirstDetection()
    {
        IStepEncoding e = Muthukrishna2025Encoding.Instance;

        Assert.Equal(4, e.StepFeatureCount);
        Assert.Equal(["wavelength_um", "time_trigger", "flux", "flux_err"], e.StepFeatureNames);
        Assert.Equal(0, e.MetaFeatureCount);
        Assert.True(e.IncrementalExact);
        Assert.Equal(TimeZeroRule.FirstDetection, e.TimeZero);
        Assert.Equal(new StepWindow(30, 70), e.Window);
        Assert.Empty(e.MetadataRequirements());
        Assert.Empty(e.Descriptor(metadata: true).MetaFeatures);
    }

    [Fact]
    public void Muthukrishna2025_EncodeSteps_MatchHandComputedValues()
    {
        // Forced photometry 10 days before the first detection, the detection (t₀), and an r detection 12.5 days later.
        Observation[] points =
        [
            Point(1, 60000.0, Passband.ZtfG, ObservationKind.Forced, -25f, 40f),
            Point(2, 60010.0, Passband.ZtfG, ObservationKind.Detection, 250f, 20f),
            Point(3, 60022.5, Passband.ZtfR, ObservationKind.Detection, 1000f, 15f),
        ];
        var encoding = Muthukrishna2025Encoding.Instance;

        var steps = encoding.SelectSteps(points, out var t0);
        var x = new float[steps.Length * 4];
        encoding.EncodeSteps(steps, 0, t0, double.NaN, x);

        Assert.Equal(60010.0, t0);
        float[] expected =
        [
            0.4827f, (-10f + 30f) / 100f, -25f / 500f, 40f / 500f,
            0.4827f, 0.30f, 0.5f, 0.04f,
            0.6223f, (12.5f + 30f) / 100f, 2.0f, 0.03f,
        ];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - x[i]) < 1e-6, $"feature {i}: expected {expected[i]}, got {x[i]}");
        }
    }

    [Fact]
    public void Muthukrishna2025_SelectSteps_WindowIsExclusiveAndUnusablePointsAreNotSteps()
    {
        const double t0 = 60100.0;
        Observation[] points =
        [
            Point(1, t0 - 30.0, Passband.ZtfG, ObservationKind.Forced, 1f, 1f),          // exactly −30 d: outside
            Point(2, t0 - 29.9, Passband.ZtfG, ObservationKind.Forced, 1f, 1f),          // inside
            Point(3, t0 - 5, Passband.ZtfR, ObservationKind.UpperLimit, float.NaN, 1f),  // an upper limit: never a step
            Point(4, t0, Passband.ZtfR, ObservationKind.Detection, 100f, 5f),            // the first detection: t₀
            Point(5, t0 + 1, Passband.DesG, ObservationKind.Detection, 100f, 5f),        // a band the encoding does not know
            Point(6, t0 + 2, Passband.ZtfG, ObservationKind.Detection, 100f, 0f),        // no positive error
            Point(7, t0 + 69.9, Passband.ZtfG, ObservationKind.Detection, 100f, 5f),     // inside
            Point(8, t0 + 70.0, Passband.ZtfG, ObservationKind.Detection, 100f, 5f),     // exactly +70 d: outside
        ];

        var steps = Muthukrishna2025Encoding.Instance.SelectOrderedSteps(points, out var referenceMjd);

        Assert.Equal(t0, referenceMjd);
        Assert.Equal([2L, 4L, 7L], steps.Select(s => s.SourceId));
    }

    [Fact]
    public void Muthukrishna2025_EncodingTheTail_EqualsEncodingEverything()
    {
        var random = new Random(5);
        var points = Enumerable.Range(0, 60)
            .Select(i => Point(i, 60000 + (i * 1.7), i % 2 == 0 ? Passband.LsstG : Passband.LsstR, i < 3 ? ObservationKind.Forced : ObservationKind.Detection, (float)(random.NextDouble() * 900), 3f + i))
            .ToArray();
        var encoding = Muthukrishna2025Encoding.Instance;
        var steps = encoding.SelectSteps(points, out var t0);
        var all = new float[steps.Length * 4];
        encoding.EncodeSteps(steps, 0, t0, double.NaN, all);

        for (var start = 0; start < steps.Length; start += 7)
        {
            var tail = new float[(steps.Length - start) * 4];
            encoding.EncodeSteps(steps, start, t0, double.NaN, tail);
            Assert.Equal(all.AsSpan(start * 4).ToArray(), tail);
        }

        // The curve spans 100 days; points 70 days or more after the first detection (day 5.1) are not steps.
        Assert.All(steps, s => Assert.True(s.Mjd - t0 < 70));
        Assert.Equal(points.Count(p => p.Mjd - t0 < 70), steps.Length);
        Assert.True(steps.Length < points.Length);
    }

    [Fact]
    public void Muthukrishna2025_BandTable_ZtfAndLsstFromTheAuthorsCode()
    {
        var bands = Muthukrishna2025Encoding.Instance.BandWavelengthsMicron;

        Assert.Equal(0.4827, bands["ztf:g"]);
        Assert.Equal(0.6223, bands["ztf:r"]);
        Assert.Equal((320 + 400) / 2000.0, bands["lsst:u"], 12);
        Assert.Equal((400 + 552) / 2000.0, bands["lsst:g"], 12);
        Assert.Equal((552 + 691) / 2000.0, bands["lsst:r"], 12);
        Assert.Equal((691 + 818) / 2000.0, bands["lsst:i"], 12);
        Assert.Equal((818 + 922) / 2000.0, bands["lsst:z"], 12);
        Assert.Equal((950 + 1080) / 2000.0, bands["lsst:y"], 12);
        Assert.False(bands.ContainsKey("des:g"));
    }

    [Fact]
    public void LightCurveAdapter_SelectAndEncode_EqualsTheStaticApi()
    {
        Observation[] points =
        [
            Point(3, 59003.0, Passband.ZtfG, ObservationKind.Detection, 300f, 10f),
            Point(1, 59000.0, Passband.ZtfR, ObservationKind.Forced, 30f, 10f),
            Point(2, 59001.0, Passband.ZtfR, ObservationKind.UpperLimit, float.NaN, 10f),
            Point(4, 59004.0, Passband.ZtfR, ObservationKind.Detection, 200f, 10f),
        ];

        var viaAdapter = LightCurveEncoding.Instance.SelectSteps(points, out var t0);
        var viaStatic = LightCurveEncoding.SelectSteps(points);

        Assert.Equal(viaStatic, viaAdapter);
        Assert.Equal(LightCurveEncoding.ReferenceTime(viaStatic), t0);
        var a = new float[viaAdapter.Length * 6];
        var b = new float[viaAdapter.Length * 6];
        LightCurveEncoding.Instance.EncodeSteps(viaAdapter, 0, t0, 0.1, a);
        LightCurveEncoding.EncodeSteps(viaStatic, 0, t0, 0.1, b);
        Assert.Equal(b, a);
        Assert.Null(LightCurveEncoding.Instance.Window);
    }
}
