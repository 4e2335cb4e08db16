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
