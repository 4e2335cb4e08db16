using AlertBroker.Alerts;
using AlertBroker.Model.Features;

namespace AlertBroker.Model.Tests;

public class LightCurveEncodingTests
{
    private const float Tol = 1e-5f;

    [Fact]
    public void EncodeSteps_ZtfDetections_MatchHandComputedValues()
    {
        // r-band 18.0 ± 0.1 mag then g-band 17.5 ± 0.05 mag three days later, at z = 0.1.
        var r = Observation(1, 59000.0, Passband.ZtfR, 18.0, 0.1);
        var g = Observation(2, 59003.0, Passband.ZtfG, 17.5, 0.05);
        var steps = new float[2 * LightCurveEncoding.StepFeatureCount];

        LightCurveEncoding.EncodeSteps([r, g], 0, referenceMjd: 59000.0, redshift: 0.1, steps);

        // flux 10^((23.9-18)/2.5) = 229.0868 µJy, σ = 21.0997 µJy; asinh(x/10)/5.
        float[] expected =
        [
            0.6366f, 0f, 0f, 0.7650278f, 0.2983519f, 1f,
            0.4746f, 0.0272727f, 0.2856956f, 0.8570739f, 0.2573110f, 1f,
        ];
        AssertClose(expected, steps);
    }

    [Fact]
    public void EncodeSteps_RubinFakeAlertValues_MatchHandComputedValues()
    {
        // psfFlux 1241 nJy = 1.241 µJy; psfFluxErr 12 nJy = 0.012 µJy; band r (LSST r, 0.6223 µm); unknown redshift.
        var p = new Observation(281323062375219200, 60902.9933, Passband.LsstR, ObservationKind.Detection, 1.241f, 0.012f, float.NaN);
        var steps = new float[LightCurveEncoding.StepFeatureCount];

        LightCurveEncoding.EncodeSteps([p], 0, 60902.9933, double.NaN, steps);

        AssertClose([0.6223f, 0f, 0f, 0.0247567f, 0.00024f, 1f], steps);
    }

    [Fact]
    public void EncodeSteps_Tail_EqualsTheSameStepsOfTheWholeCurve()
    {
        var random = new Random(5);
        var points = Enumerable.Range(0, 40)
            .Select(i => Observation(i, 59000 + (i * 1.7) + random.NextDouble(), i % 2 == 0 ? Passband.LsstG : Passband.LsstI, 17 + (3 * random.NextDouble()), 0.05 + (0.1 * random.NextDouble())))
            .ToArray();
        var all = new float[points.Length * LightCurveEncoding.StepFeatureCount];
        LightCurveEncoding.EncodeSteps(points, 0, points[0].Mjd, 0.3, all);

        for (var start = 0; start < points.Length; start += 7)
        {
            var tail = new float[(points.Length - start) * LightCurveEncoding.StepFeatureCount];
            LightCurveEncoding.EncodeSteps(points, start, points[0].Mjd, 0.3, tail);
            Assert.Equal(all.AsSpan(start * LightCurveEncoding.StepFeatureCount).ToArray(), tail);
        }
    }

    [Fact]
    public void EncodeMeta_MissingValues_AreFlaggedNotZeroed()
    {
        var meta = new float[LightCurveEncoding.MetaFeatureCount];
        LightCurveEncoding.EncodeMeta(0.25, double.NaN, meta);
        Assert.Equal([0.25f, 1f, 0f, 0f], meta);
        LightCurveEncoding.EncodeMeta(double.NaN, 0.0, meta);
        Assert.Equal([0f, 0f, 0f, 1f], meta);
    }

    [Fact]
    public void SelectSteps_DropsLimitsNaNsAndDuplicates_AndSortsByTime()
    {
        Observation[] observations =
        [
            Observation(3, 59010, Passband.ZtfR, 18, 0.1),
            Observation(1, 59001, Passband.ZtfG, 19, 0.1),
            Observation(3, 59010, Passband.ZtfR, 18, 0.1), // replayed alert
            new(9, 59005, Passband.ZtfR, ObservationKind.UpperLimit, float.NaN, 20f, 20.5f),
            new(7, 59006, Passband.ZtfR, ObservationKind.Detection, float.NaN, 1f, 20.5f),
            new(8, 59007, Passband.Unknown, ObservationKind.Detection, 10f, 1f, 20.5f),
            new(4, 59003, Passband.ZtfG, ObservationKind.Forced, -3f, 2f, 20.5f),
        ];

        var steps = LightCurveEncoding.SelectSteps(observations);

        Assert.Equal([1L, 4L, 3L], steps.Select(s => s.SourceId).ToArray());
        Assert.Equal(59001, LightCurveEncoding.ReferenceTime(steps));
        var features = new float[steps.Length * LightCurveEncoding.StepFeatureCount];
        LightCurveEncoding.EncodeSteps(steps, 0, LightCurveEncoding.ReferenceTime(steps), double.NaN, features);
        Assert.Equal(0f, features[LightCurveEncoding.StepFeatureCount + 5]); // forced photometry is not a detection
        Assert.True(features[LightCurveEncoding.StepFeatureCount + 3] < 0); // negative flux stays negative
    }

    [Fact]
    public void Descriptor_NamesEveryFeatureAndBand()
    {
        var d = LightCurveEncoding.Descriptor();
        Assert.Equal(LightCurveEncoding.Id, d.Id);
        Assert.Equal(LightCurveEncoding.StepFeatureCount, d.StepFeatures.Count);
        Assert.Equal(LightCurveEncoding.MetaFeatureCount, d.MetaFeatures.Count);
        Assert.Equal(0.4746, d.BandWavelengthsMicron["ztf:g"]);
        Assert.Equal(0.9712, d.BandWavelengthsMicron["lsst:y"]);
        Assert.Equal(100f, d.Scaling["timeScaleDays"]);
    }

    private static Observation Observation(long id, double mjd, Passband band, double mag, double magErr)
    {
        var flux = Photometry.MagToMicroJy(mag);
        return new Observation(id, mjd, band, ObservationKind.Detection, (float)flux, (float)Photometry.MagErrToFluxErr(flux, magErr), 20.5f);
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < Tol, $"feature {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
