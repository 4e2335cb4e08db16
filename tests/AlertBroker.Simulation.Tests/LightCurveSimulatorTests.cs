using AlertBroker.Alerts;
using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation.Tests;

public class LightCurveSimulatorTests
{
    private static LightCurveSimulator Ztf(long seed = 7, SpectroscopicSelection? selection = null) =>
        new(new SimulationOptions { Survey = ZtfSurvey.Model, Seed = seed, Selection = selection });

    // A failing simulation named whichever object a parallel worker failed on first: another object (and class) from run
    // to run. It is the lowest failing index now, however the work was split.
    [Fact]
    public void RunParallel_SeveralFail_ThrowsTheLowestIndexs()
    {
        using var laterFailed = new ManualResetEventSlim();
        var e = Assert.Throws<InvalidOperationException>(() => LightCurveSimulator.RunParallel(2048, i =>
        {
            if (i == 1)
            {
                laterFailed.Wait(TimeSpan.FromSeconds(10)); // fails last, as a slow object would
                throw new InvalidOperationException("1");
            }

            if (i == 1500)
            {
                laterFailed.Set();
                throw new InvalidOperationException("1500");
            }
        }));

        Assert.Equal("1", e.Message);
    }

    [Fact]
    public void Simulate_SameSeed_SameLightCurves()
    {
        var a = Ztf(11).Simulate(200).ToList();
        var b = Ztf(11).Simulate(200).ToList();

        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].ObjectId, b[i].ObjectId);
            Assert.Equal(a[i].ClassName, b[i].ClassName);
            Assert.Equal(a[i].Redshift, b[i].Redshift);
            Assert.Equal(a[i].Points, b[i].Points);
        }
    }

    [Fact]
    public void Simulate_DifferentSeed_DifferentLightCurves()
    {
        var a = Ztf(1).SimulateOne(5);
        var b = Ztf(2).SimulateOne(5);

        Assert.NotEqual(a.Redshift, b.Redshift);
    }

    [Fact]
    public void SimulateOne_AnyOrder_SameAsBatch()
    {
        var simulator = Ztf(3);
        var batch = simulator.Simulate(50).ToList();
        var single = simulator.SimulateOne(37);

        Assert.Equal(batch[37].Points, single.Points);
    }

    [Fact]
    public void Simulate_Detections_NeverFainterThanTheLimitAndAboveFiveSigma()
    {
        var detections = 0;
        foreach (var curve in Ztf(5).Simulate(300))
        {
            foreach (var p in curve.Points)
            {
                if (!p.Detected)
                {
                    continue;
                }

                detections++;
                Assert.True(p.FluxMicroJy >= 5 * p.FluxErrMicroJy);
                Assert.True(Photometry.MicroJyToMag(p.FluxMicroJy) <= p.LimitingMag + 1e-4, $"{curve.ObjectId}: detection at {Photometry.MicroJyToMag(p.FluxMicroJy)} below limit {p.LimitingMag}");
            }
        }

        Assert.True(detections > 1000);
    }

    [Fact]
    public void Simulate_EveryCurve_HasTheMinimumDetectionsAndSortedEpochs()
    {
        foreach (var curve in Ztf(6).Simulate(200))
        {
            Assert.True(curve.DetectionCount >= 2);
            for (var i = 1; i < curve.Points.Length; i++)
            {
                Assert.True(curve.Points[i].Mjd >= curve.Points[i - 1].Mjd);
            }
        }
    }

    [Fact]
    public void Simulate_ZtfLimitingMagnitudes_CentredNearTwentyPointFiveInR()
    {
        var limits = new List<double>();
        foreach (var curve in Ztf(8).Simulate(200))
        {
            foreach (var p in curve.Points)
            {
                if (p.Band == Passband.ZtfR)
                {
                    limits.Add(p.LimitingMag);
                }
            }
        }

        limits.Sort();
        var median = limits[limits.Count / 2];
        Assert.InRange(median, 20.2, 20.7);
    }

    [Fact]
    public void Simulate_BtsSelection_KeepsOnlyObjectsBrighterThanNineteen()
    {
        var curves = Ztf(9, SpectroscopicSelection.Bts).Simulate(300).ToList();

        Assert.All(curves, c => Assert.True(c.ObservedPeakMag <= 19.0));
        Assert.Contains(curves, c => c.ObservedPeakMag > 18.5);
    }

    [Fact]
    public void Simulate_EqualMix_DrawsEveryRealClass()
    {
        var counts = new Dictionary<string, int>();
        foreach (var c in Ztf(10).Simulate(500))
        {
            counts[c.ClassName] = counts.GetValueOrDefault(c.ClassName) + 1;
        }

        foreach (var model in TransientClasses.RealSetClasses)
        {
            Assert.InRange(counts.GetValueOrDefault(model.Name), 60, 140);
        }
    }

    [Fact]
    public void ClassFractions_NaturalMixWithBts_SnIaDominateLikeTheRealSet()
    {
        var simulator = new LightCurveSimulator(new SimulationOptions { ClassMix = ClassMixKind.Natural, Selection = SpectroscopicSelection.Bts });
        var f = simulator.ClassFractions;

        // Real BTS set: 75% SNIa, 18% SNII, 5.5% SNIbc, 1.1% SLSN-I, 0.6% TDE.
        Assert.InRange(f[0], 0.6, 0.85);
        Assert.InRange(f[1], 0.08, 0.3);
        Assert.True(f[3] < 0.05 && f[4] < 0.05);
    }

    [Fact]
    public void Simulate_Lsst_UsesAllSixBandsAndDeeperLimits()
    {
        var simulator = new LightCurveSimulator(new SimulationOptions { Survey = LsstSurvey.Model, Seed = 4 });
        var bands = new HashSet<Passband>();
        var faintest = 0.0;
        foreach (var curve in simulator.Simulate(150))
        {
            foreach (var p in curve.Points)
            {
                bands.Add(p.Band);
                if (p.Detected)
                {
                    faintest = Math.Max(faintest, Photometry.MicroJyToMag(p.FluxMicroJy));
                }
            }
        }

        Assert.Equal(6, bands.Count);
        Assert.True(faintest > 23.0);
    }

    [Fact]
    public void Simulate_RealismKnobs_DropEpochsAndAddOutliers()
    {
        var ideal = new LightCurveSimulator(new SimulationOptions { Seed = 12 });
        var lossy = new LightCurveSimulator(new SimulationOptions { Seed = 12, Realism = new RealismOptions(MissingEpochFraction: 0.5) });
        var idealEpochs = ideal.Simulate(100).Sum(c => c.Points.Length);
        var lossyEpochs = lossy.Simulate(100).Sum(c => c.Points.Length);

        Assert.True(lossyEpochs < 0.8 * idealEpochs, $"{lossyEpochs} vs {idealEpochs}");
    }

    [Fact]
    public void Simulate_DetectionEfficiency_LosesPointsNearTheThresholdAsOneMinusExpAndNoneBelowIt()
    {
        const double delta = 0.3;
        var model = ZtfSurvey.Model with { DetectionEfficiencyMag = delta };
        var simulator = new LightCurveSimulator(new SimulationOptions { Survey = model, Seed = 21 });
        var bins = new (double Lo, double Hi, int Points, int Detected)[] { (0, 0.1, 0, 0), (0.2, 0.3, 0, 0), (0.5, 0.7, 0, 0), (1.5, 10, 0, 0) };
        foreach (var curve in simulator.Simulate(3000))
        {
            foreach (var p in curve.Points)
            {
                var snr = p.FluxMicroJy / p.FluxErrMicroJy;
                if (snr < model.DetectionSigma)
                {
                    // (a hair's room for the float rounding of the stored flux and error)
                    Assert.False(p.Detected && snr < model.DetectionSigma * (1 - 1e-5));
                    continue;
                }

                var above = 2.5 * Math.Log10(snr / model.DetectionSigma);
                for (var b = 0; b < bins.Length; b++)
                {
                    if (above >= bins[b].Lo && above < bins[b].Hi)
                    {
                        bins[b].Points++;
                        bins[b].Detected += p.Detected ? 1 : 0;
                    }
                }
            }
        }

        foreach (var (lo, hi, points, detected) in bins)
        {
            Assert.True(points > 200, $"[{lo}, {hi}): only {points} points");
            // The expected fraction lies between the efficiency at the bin's two ends (a generous band for sampling).
            var low = 1 - Math.Exp(-lo / delta);
            var high = 1 - Math.Exp(-Math.Min(hi, 5) / delta);
            Assert.InRange((double)detected / points, low - 0.03, high + 0.03);
        }

        // Off (the default): every point above the threshold is detected, and the draw is not made at all.
        Assert.Equal(0, ZtfSurvey.Model.DetectionEfficiencyMag);
        var off = new LightCurveSimulator(new SimulationOptions { Survey = ZtfSurvey.Model with { DetectionEfficiencyMag = 0 }, Seed = 21 }).Simulate(100).ToList();
        var standard = new LightCurveSimulator(new SimulationOptions { Survey = ZtfSurvey.Model, Seed = 21 }).Simulate(100).ToList();
        Assert.Equal(standard.SelectMany(c => c.Points), off.SelectMany(c => c.Points));
    }

    [Fact]
    public void Simulate_FirstDetectionSigma_NoDetectionBeforeTheFirstPointAtThatSignalToNoise()
    {
        var strict = new LightCurveSimulator(new SimulationOptions { Survey = ZtfSurvey.Model with { FirstDetectionSigma = 10 }, Seed = 22 });
        var later = 0;
        foreach (var curve in strict.Simulate(500))
        {
            var first = Array.FindIndex(curve.Points, p => p.Detected);
            Assert.True(first >= 0);
            Assert.True(curve.Points[first].FluxMicroJy >= 10 * curve.Points[first].FluxErrMicroJy * (1 - 1e-6));
            later += curve.Points.Skip(first + 1).Count(p => p.Detected && p.FluxMicroJy < 10 * p.FluxErrMicroJy);
        }

        // Only the first detection needs 10σ: later ones at 5–10σ remain.
        Assert.True(later > 100, $"{later} later detections below 10σ");

        // At or below the 5σ of every point it changes nothing (and draws no random number).
        var same = new LightCurveSimulator(new SimulationOptions { Survey = ZtfSurvey.Model with { FirstDetectionSigma = 5 }, Seed = 22 }).Simulate(100).ToList();
        var standard = new LightCurveSimulator(new SimulationOptions { Survey = ZtfSurvey.Model, Seed = 22 }).Simulate(100).ToList();
        Assert.Equal(standard.SelectMany(c => c.Points), same.SelectMany(c => c.Points));
    }
}
