namespace AlertBroker.Registry.Tests;

public sealed class ShadowStatisticsTests
{
    private static readonly ShadowPair s_pair = new("ztf", "m@2#a", "m@1#b");

    [Fact]
    public void Record_AgreementAndMeanAbsDiff_MatchAHandCount()
    {
        var acc = new ShadowStatisticsAccumulator();
        string[] candidate = ["SNIa", "SNII", "TDE"];
        string[] active = ["SNII", "SNIa", "AGN"];

        // Top classes: SNIa vs SNIa (agree), TDE vs SNII (disagree). Classes are matched by name, not position.
        acc.Record(s_pair, candidate, [0.7f, 0.2f, 0.1f], active, [0.3f, 0.6f, 0.1f], null);
        acc.Record(s_pair, candidate, [0.1f, 0.3f, 0.6f], active, [0.5f, 0.4f, 0.1f], null);

        var stats = ShadowStatistics.FromFields(s_pair, Assert.Single(acc.Drain()).Value);
        Assert.Equal(2, stats.Alerts);
        Assert.Equal(1, stats.Agreed);
        Assert.Equal(0.5, stats.Agreement);
        Assert.Equal((0.1 + 0.3) / 2, stats.MeanAbsDiff["SNIa"], 6);
        Assert.Equal((0.1 + 0.2) / 2, stats.MeanAbsDiff["SNII"], 6);
        Assert.False(stats.MeanAbsDiff.ContainsKey("TDE"));
        Assert.Equal(0, stats.Labelled);
        Assert.True(double.IsNaN(stats.CandidateMacroAuroc));
        Assert.True(acc.IsEmpty);
    }

    [Fact]
    public void Auroc_FromLogitHistograms_MatchesTheExactAurocToOneHundredth()
    {
        var random = new Random(7);
        var acc = new ShadowStatisticsAccumulator();
        string[] classes = ["A", "B", "C"];
        var rows = new List<(float[] Candidate, float[] Active, string Label)>();
        for (var i = 0; i < 3000; i++)
        {
            var label = classes[random.Next(3)];
            var truth = Array.IndexOf(classes, label);
            var candidate = Softmax(random, truth, 2.0);
            var active = Softmax(random, truth, 0.7);
            rows.Add((candidate, active, label));
            acc.Record(s_pair, classes, candidate, classes, active, label);
        }

        var drained = acc.Drain().Single().Value;
        var stats = ShadowStatistics.FromFields(s_pair, drained);

        Assert.Equal(3000, stats.Labelled);
        for (var c = 0; c < classes.Length; c++)
        {
            Assert.Equal(ExactAuroc(rows.Select(r => (r.Candidate[c], r.Label == classes[c]))), stats.CandidateAuroc[classes[c]], 2);
            Assert.Equal(ExactAuroc(rows.Select(r => (r.Active[c], r.Label == classes[c]))), stats.ActiveAuroc[classes[c]], 2);
        }

        Assert.True(stats.CandidateMacroAuroc > stats.ActiveMacroAuroc);
    }

    [Fact]
    public void Restore_AfterAFailedFlush_KeepsEveryCount()
    {
        var acc = new ShadowStatisticsAccumulator();
        string[] classes = ["a", "b"];
        acc.Record(s_pair, classes, [0.9f, 0.1f], classes, [0.8f, 0.2f], null);
        var first = acc.Drain();
        acc.Record(s_pair, classes, [0.9f, 0.1f], classes, [0.1f, 0.9f], null);

        acc.Restore(first);

        var stats = ShadowStatistics.FromFields(s_pair, acc.Drain().Single().Value);
        Assert.Equal(2, stats.Alerts);
        Assert.Equal(1, stats.Agreed);
    }

    [Theory]
    [InlineData(0f, 0)]
    [InlineData(1f, ShadowStatistics.Bins - 1)]
    [InlineData(0.5f, ShadowStatistics.Bins / 2)]
    public void Bin_IsMonotoneOverLogitP(float p, int expected)
    {
        Assert.Equal(expected, ShadowStatistics.Bin(p));
        Assert.True(ShadowStatistics.Bin(0.3f) < ShadowStatistics.Bin(0.33f));
        Assert.True(ShadowStatistics.Bin(0.999f) < ShadowStatistics.Bin(0.9999f));
    }

    private static float[] Softmax(Random random, int truth, double signal)
    {
        var logits = new double[3];
        for (var i = 0; i < 3; i++)
        {
            logits[i] = (random.NextDouble() * 3) + (i == truth ? signal : 0);
        }

        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exp.Sum();
        return [.. exp.Select(e => (float)(e / sum))];
    }

    private static double ExactAuroc(IEnumerable<(float Score, bool Positive)> data)
    {
        var list = data.ToList();
        var pos = list.Where(d => d.Positive).Select(d => d.Score).ToList();
        var neg = list.Where(d => !d.Positive).Select(d => d.Score).ToList();
        double wins = 0;
        foreach (var p in pos)
        {
            foreach (var n in neg)
            {
                wins += p > n ? 1 : p == n ? 0.5 : 0;
            }
        }

        return wins / ((double)pos.Count * neg.Count);
    }
}
