using System.Text.Json;
using System.Text.Json.Nodes;
using AlertBroker.Training.Experiments;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

public sealed class ExperimentTests
{
    [Fact]
    public void Sizes_CountsAndFractions_AreSortedDistinctAndEndAtThePool()
    {
        Assert.Equal([100, 200, 337, 674, 1123], TransferExperiment.Sizes([100, 200, 0.3, 0.6, 1.0], 1123));
        Assert.Equal([45, 100, 150], TransferExperiment.Sizes([100, 200, 0.3, 1.0], 150));

        // The sizes not run are said (they were left out without a word): below the minimum, above the pool.
        Assert.Equal([150], TransferExperiment.Sizes([0.05, 200], 150, out var dropped));
        Assert.Equal(["0.05 (8 objects): below 20", "200: above the pool of 150"], dropped);
    }

    [Fact]
    public void Summarise_RunsWithEarlyFigures_MediansPerDayInJsonMarkdownAndPlot()
    {
        var dir = Path.Combine(Path.GetTempPath(), "abexp-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new TransferExperimentOptions
            {
                BaseData = "sims",
                Targets = [new TransferTarget("ztf-bts", "real", "bts", "ztf", ["SNIa", "SNII"])],
                Sizes = [100, 1.0],
                Modes = [TransferExperiment.Scratch, TransferExperiment.All],
                OutputDirectory = dir,
            };
            double[] Early(double offset) => [.. Enumerable.Range(0, 8).Select(d => 0.5 + (0.05 * d) + offset)];
            var runs = new List<TransferRun>();
            foreach (var mode in options.Modes)
            {
                for (var seed = 0; seed < 3; seed++)
                {
                    foreach (var size in new[] { 100, 150 })
                    {
                        runs.Add(new TransferRun("ztf-bts", mode, size, seed, 0.8 + (0.01 * seed), 0.7, 3, 5, 1, Early(0.01 * seed)));
                    }
                }
            }

            var empty = new TransferResults("now", options, new JsonObject(), [], [], [], new Dictionary<string, double> { ["ztf-bts"] = 0.6 }, new Dictionary<string, int> { ["ztf-bts"] = 150 }, new Dictionary<string, int> { ["ztf-bts"] = 50 });
            var results = TransferExperiment.Summarise(empty, runs, options);
            TransferExperiment.Write(results, dir);

            var point = results.Points.Single(p => p.Mode == TransferExperiment.All && p.Size == 150);
            Assert.Equal(Early(0.01), point.EarlyMedian!);
            Assert.Equal(Early(0), point.EarlyMin!);
            Assert.Equal(Early(0.02), point.EarlyMax!);
            var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "transfer-results.json"))).RootElement;
            Assert.Equal(8, json.GetProperty("runs")[0].GetProperty("earlyMacroAuroc").GetArrayLength());
            Assert.Equal(8, json.GetProperty("points")[0].GetProperty("earlyMedian").GetArrayLength());
            var md = File.ReadAllText(Path.Combine(dir, "transfer-summary.md"));
            Assert.Contains("Early classification with all 150 training objects", md, StringComparison.Ordinal);
            Assert.Contains("| 10 d |", md, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dir, "transfer-ztf-bts-early.svg")));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void Compare_DisjointRanges_OrderThem_OverlapOrFewSeeds_Zero()
    {
        var high = new SeedRange(0.90, 0.88, 0.92, 5);
        var low = new SeedRange(0.85, 0.80, 0.87, 5);
        Assert.Equal(1, TransferClaims.Compare(high, low));
        Assert.Equal(-1, TransferClaims.Compare(low, high));
        Assert.Equal(0, TransferClaims.Compare(high, new SeedRange(0.86, 0.80, 0.885, 5)));
        Assert.Equal(0, TransferClaims.Compare(high with { Runs = 2 }, low));
        Assert.Equal(0, TransferClaims.Compare(high, SeedRange.None));
        Assert.Equal(1, TransferClaims.Compare(high with { Runs = 2 }, low, minSeeds: 2));
    }

    [Fact]
    public void SmallestSizeAbove_NonMonotoneCurve_ClaimsOnlyFromWhereEveryLargerSizeIsAbove()
    {
        var scratchAll = new SeedRange(0.875, 0.846, 0.880, 5);

        // Above at 100 by luck, overlapping at 200, above from 900 on: the claim starts at 900, not 100.
        (int, SeedRange)[] curve =
        [
            (100, new SeedRange(0.90, 0.89, 0.91, 5)),
            (200, new SeedRange(0.86, 0.80, 0.90, 5)),
            (900, new SeedRange(0.89, 0.885, 0.90, 5)),
            (1800, new SeedRange(0.90, 0.89, 0.91, 5)),
            (3000, new SeedRange(0.91, 0.90, 0.92, 5)),
        ];
        Assert.Equal(900, TransferClaims.SmallestSizeAbove(curve, scratchAll));

        // Not above with all the data: no claim at all, whatever the smaller sizes do.
        curve[4] = (3000, new SeedRange(0.90, 0.87, 0.92, 5));
        Assert.Null(TransferClaims.SmallestSizeAbove(curve, scratchAll));

        // Above everywhere: the smallest size (an upper bound on the share needed).
        Assert.Equal(100, TransferClaims.SmallestSizeAbove([(100, new SeedRange(0.9, 0.89, 0.91, 3)), (200, new SeedRange(0.9, 0.89, 0.91, 3))], scratchAll));

        // One seed: no claim even where the single values are far apart.
        Assert.Null(TransferClaims.SmallestSizeAbove([(100, new SeedRange(0.99, 0.99, 0.99, 1))], new SeedRange(0.5, 0.5, 0.5, 1)));
    }

    [Fact]
    public void FewerEpochs_OnlyWhenEveryTransferSeedStopsBeforeEveryScratchSeed()
    {
        Assert.Equal(0.5, TransferClaims.FewerEpochs(new SeedRange(10, 8, 12, 5), new SeedRange(20, 15, 30, 5))!.Value, 6);
        Assert.Null(TransferClaims.FewerEpochs(new SeedRange(10, 8, 16, 5), new SeedRange(20, 15, 30, 5)));
        Assert.Null(TransferClaims.FewerEpochs(new SeedRange(30, 25, 35, 5), new SeedRange(20, 15, 22, 5)));
    }

    [Fact]
    public void Summarise_QuickLikeRunWithOneSeed_ClaimsNothing_TheIssueCaseWithSeeds_ClaimsOnlyWhatRangesSupport()
    {
        var options = new TransferExperimentOptions
        {
            BaseData = "sims",
            Targets = [new TransferTarget("des-sims", "DES", "des", "des", ["SNIa", "SNII", "SNIbc"])],
            Sizes = [100, 200, 1.0],
            Modes = [TransferExperiment.Scratch, TransferExperiment.All],
            OutputDirectory = Path.GetTempPath(),
        };
        var pools = new Dictionary<string, int> { ["des-sims"] = 300 };
        var empty = new TransferResults("now", options, new JsonObject(), [], [], [], new Dictionary<string, double>(), pools, new Dictionary<string, int> { ["des-sims"] = 100 });
        TransferRun Run(string mode, int size, int seed, double auc, int epoch) => new("des-sims", mode, size, seed, auc, 0.5, epoch, epoch + 5, 1);

        // One seed, the issue's quick case: transfer at 100 above scratch-on-all by medians alone; no claim may follow.
        List<TransferRun> one =
        [
            Run(TransferExperiment.Scratch, 100, 0, 0.60, 20), Run(TransferExperiment.Scratch, 200, 0, 0.55, 20), Run(TransferExperiment.Scratch, 300, 0, 0.70, 20),
            Run(TransferExperiment.All, 100, 0, 0.72, 5), Run(TransferExperiment.All, 200, 0, 0.75, 5), Run(TransferExperiment.All, 300, 0, 0.80, 5),
        ];
        var h1 = Assert.Single(TransferExperiment.Summarise(empty, one, options).Headlines);
        Assert.Null(h1.SizeBeatingScratchAll);
        Assert.Null(h1.FewerEpochs);
        Assert.Empty(h1.BetterAtSizes);
        Assert.StartsWith("no claim: 1 seed", Assert.Single(h1.Claims), StringComparison.Ordinal);

        // Three seeds: transfer at 100 is below scratch at 100 (the DES case of the issue), above scratch-on-all from 200;
        // with all data the ranges are disjoint; epochs overlap, so no convergence claim.
        var three = new List<TransferRun>();
        for (var seed = 0; seed < 3; seed++)
        {
            three.Add(Run(TransferExperiment.Scratch, 100, seed, 0.62 + (0.01 * seed), 10 + seed));
            three.Add(Run(TransferExperiment.Scratch, 200, seed, 0.70 + (0.01 * seed), 10 + seed));
            three.Add(Run(TransferExperiment.Scratch, 300, seed, 0.80 + (0.01 * seed), 10 + (5 * seed)));
            three.Add(Run(TransferExperiment.All, 100, seed, 0.55 + (0.01 * seed), 5));
            three.Add(Run(TransferExperiment.All, 200, seed, 0.83 + (0.01 * seed), 12));
            three.Add(Run(TransferExperiment.All, 300, seed, 0.86 + (0.01 * seed), 8 + (4 * seed)));
        }

        var h3 = Assert.Single(TransferExperiment.Summarise(empty, three, options).Headlines);
        Assert.Equal(200, h3.SizeBeatingScratchAll);
        Assert.Equal([200, 300], h3.BetterAtSizes);
        Assert.Equal([100], h3.WorseAtSizes);
        Assert.Null(h3.FewerEpochs);
        Assert.Contains(h3.Claims, c => c.StartsWith("whole light curve: beats scratch trained on all 300 objects with 200 objects (67% of the pool)", StringComparison.Ordinal));
        Assert.Contains("no convergence claim (best-epoch ranges overlap)", h3.Claims);
        Assert.Contains(h3.Claims, c => c.StartsWith("all data: better than scratch", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_TwoConditions_SideBySideColumnsTenDayTableAndClaims()
    {
        var dir = Path.Combine(Path.GetTempPath(), "abexp-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new TransferExperimentOptions
            {
                BaseData = "sims",
                Targets = [new TransferTarget("lsst-sims", "LSST", "lsst", "lsst", ["SNIa", "SNII"])],
                Sizes = [100, 1.0],
                Modes = [TransferExperiment.Scratch, TransferExperiment.All],
                Conditions = [TransferExperiment.Stream, TransferExperiment.Redshift],
                OutputDirectory = dir,
            };
            var runs = new List<TransferRun>();
            foreach (var condition in options.Conditions)
            {
                foreach (var mode in options.Modes)
                {
                    for (var seed = 0; seed < 3; seed++)
                    {
                        foreach (var size in new[] { 100, 200 })
                        {
                            var offset = (condition == TransferExperiment.Redshift ? 0.05 : 0) + (mode == TransferExperiment.All ? 0.1 : 0);
                            runs.Add(new TransferRun("lsst-sims", mode, size, seed, 0.7 + offset + (0.01 * seed), 0.6, 4, 9, 1, [.. Enumerable.Range(0, 8).Select(d => 0.5 + offset + (0.01 * d))], condition));
                        }
                    }
                }
            }

            var zero = new Dictionary<string, double> { [TransferExperiment.Key("lsst-sims", TransferExperiment.Stream)] = 0.6, [TransferExperiment.Key("lsst-sims", TransferExperiment.Redshift)] = 0.65 };
            var empty = new TransferResults("now", options, new JsonObject(), [], [], [], zero, new Dictionary<string, int> { ["lsst-sims"] = 200 }, new Dictionary<string, int> { ["lsst-sims"] = 50 });
            var results = TransferExperiment.Summarise(empty, runs, options);
            TransferExperiment.Write(results, dir);

            Assert.Equal(2, results.Headlines.Count);
            Assert.All(results.Headlines, h => Assert.Equal(100, h.SizeBeatingScratchAll));
            var md = File.ReadAllText(Path.Combine(dir, "transfer-summary.md"));
            Assert.Contains("| training objects | scratch, no redshift | transfer all layers, no redshift | scratch, with redshift | transfer all layers, with redshift |", md, StringComparison.Ordinal);
            Assert.Contains("Macro AUROC 10 days after first detection", md, StringComparison.Ordinal);
            Assert.Contains("| lsst-sims | with redshift | transfer all layers | 3 |", md, StringComparison.Ordinal);
            Assert.Contains("≤ 50% (100)", md, StringComparison.Ordinal);
            Assert.Contains("Base model without fine-tuning: macro AUROC no redshift 0.600, with redshift 0.650", md, StringComparison.Ordinal);
            var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "transfer-results.json"))).RootElement;
            Assert.Equal("redshift", json.GetProperty("points").EnumerateArray().Last().GetProperty("condition").GetString());
            Assert.True(json.GetProperty("headlines")[0].GetProperty("claims").GetArrayLength() > 0);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void AtDay_PicksTheLastStepUpToTheDay()
    {
        var data = TestNetworks.RandomData([3, 1], 4, 2, 1);
        // Days of steps are 0, 1, 2 (see EncodedDataset.FromArrays).
        float[][] predictions = [[0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0.7f], [0.4f, 0.6f]];
        var at1 = Predictor.AtDay(data, predictions, 1.5, out var present);
        Assert.Equal([true, true], present);
        Assert.Equal(0.8f, at1[0]);
        Assert.Equal(0.4f, at1[2]);
        var before = Predictor.AtDay(data, predictions, -1, out present);
        Assert.Equal([false, false], present);
        Assert.Equal(0f, before[0]);
    }
}
