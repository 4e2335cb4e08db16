using System.Globalization;

namespace AlertBroker.Training.Experiments;

/// <summary>A figure over seeds: the median, the range (min, max) and how many runs it rests on.</summary>
public sealed record SeedRange(double Median, double Min, double Max, int Runs)
{
    /// <summary>No runs.</summary>
    public static SeedRange None { get; } = new(double.NaN, double.NaN, double.NaN, 0);

    public bool IsKnown => Runs > 0 && double.IsFinite(Median);
}

/// <summary>
/// The rule behind every headline claim of <see cref="TransferExperiment"/>: one way of training is better than
/// another only where the two ranges over seeds do not overlap — every seed of the one above every seed of the other —
/// and both rest on at least <see cref="DefaultMinSeeds"/> seeds (with fewer, a range says little about the spread).
/// Medians are reported, never claimed on.
/// </summary>
public static class TransferClaims
{
    /// <summary>Seeds a point needs before it can carry a claim.</summary>
    public const int DefaultMinSeeds = 3;

    /// <summary>+1 when every run of <paramref name="a"/> is above every run of <paramref name="b"/>, −1 for the reverse, 0 when the ranges overlap or either has too few runs.</summary>
    public static int Compare(SeedRange a, SeedRange b, int minSeeds = DefaultMinSeeds)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!a.IsKnown || !b.IsKnown || a.Runs < minSeeds || b.Runs < minSeeds)
        {
            return 0;
        }

        return a.Min > b.Max ? 1 : b.Min > a.Max ? -1 : 0;
    }

    /// <summary>
    /// The smallest training size from which on the curve is above <paramref name="reference"/> (<see cref="Compare"/> = +1)
    /// at that size and at every larger size of the grid; null when it is not above at the largest size. A curve that
    /// is above at 100 objects but not at 200 gets no claim at 100: a lucky small point does not count.
    /// </summary>
    /// <param name="curve">The points of one way of training, by size (any order).</param>
    /// <param name="reference">What the curve must beat (e.g. scratch trained on all the data).</param>
    /// <param name="minSeeds">Seeds every point involved needs.</param>
    public static int? SmallestSizeAbove(IReadOnlyList<(int Size, SeedRange Figure)> curve, SeedRange reference, int minSeeds = DefaultMinSeeds)
    {
        ArgumentNullException.ThrowIfNull(curve);
        int? result = null;
        foreach (var (size, figure) in curve.OrderByDescending(p => p.Size))
        {
            if (Compare(figure, reference, minSeeds) != 1)
            {
                break;
            }

            result = size;
        }

        return result;
    }

    /// <summary>
    /// The share of epochs saved, 1 − median(transfer)/median(scratch), when every transfer run reached its best
    /// validation in fewer epochs than every scratch run; null otherwise.
    /// </summary>
    public static double? FewerEpochs(SeedRange transfer, SeedRange scratch, int minSeeds = DefaultMinSeeds) =>
        Compare(scratch, transfer, minSeeds) == 1 && scratch.Median > 0 ? 1 - (transfer.Median / scratch.Median) : null;

    /// <summary>The claims of one headline, as sentences (also for the CLI's summary lines).</summary>
    public static IReadOnlyList<string> Describe(TransferHeadline h, int minSeeds = DefaultMinSeeds)
    {
        ArgumentNullException.ThrowIfNull(h);
        var inv = CultureInfo.InvariantCulture;
        var claims = new List<string>();
        var seeds = Math.Min(h.ScratchAll.Runs, h.ModeAll.Runs);
        if (seeds < minSeeds)
        {
            claims.Add(string.Create(inv, $"no claim: {seeds} seed(s) per point; a claim needs ≥ {minSeeds} seeds and non-overlapping ranges"));
            return claims;
        }

        string Share(int size) => string.Create(inv, $"{size} objects ({100.0 * size / h.Pool:0}% of the pool)");
        void Data(int? size, string metric, bool smallest)
        {
            if (size is { } n)
            {
                claims.Add(string.Create(inv, $"{metric}: beats scratch trained on all {h.Pool} objects with {Share(n)}{(smallest ? ", already at the smallest size tried (an upper bound)" : string.Empty)}: every seed above every seed of scratch-on-all ({seeds} seeds)"));
            }
            else
            {
                claims.Add($"{metric}: no claim that it matches scratch-on-all with less data (the seed ranges overlap or it is below)");
            }
        }

        Data(h.SizeBeatingScratchAll, "whole light curve", h.SizeBeatingScratchAll == h.SmallestSize);
        if (h.ScratchAllDay10.IsKnown)
        {
            Data(h.SizeBeatingScratchAllDay10, "10 days", h.SizeBeatingScratchAllDay10 == h.SmallestSize);
        }

        claims.Add(Compare(h.ModeAll, h.ScratchAll, minSeeds) switch
        {
            1 => string.Create(inv, $"all data: better than scratch ({h.ModeAll.Min:0.000}–{h.ModeAll.Max:0.000} vs {h.ScratchAll.Min:0.000}–{h.ScratchAll.Max:0.000})"),
            -1 => string.Create(inv, $"all data: worse than scratch ({h.ModeAll.Min:0.000}–{h.ModeAll.Max:0.000} vs {h.ScratchAll.Min:0.000}–{h.ScratchAll.Max:0.000})"),
            _ => "all data: no difference from scratch supported (ranges overlap)",
        });
        if (h.BetterAtSizes.Count > 0 || h.WorseAtSizes.Count > 0)
        {
            claims.Add(string.Create(inv, $"same size as scratch: better at {List(h.BetterAtSizes)}; worse at {List(h.WorseAtSizes)}; the rest overlap"));
        }

        if (h.FewerEpochs is { } fewer)
        {
            claims.Add(string.Create(inv, $"converges faster: {fewer * 100:0}% fewer epochs to its best validation loss with all data (median {h.ModeEpochs.Median:0} vs {h.ScratchEpochs.Median:0}; every seed below every seed of scratch)"));
        }
        else if (Compare(h.ModeEpochs, h.ScratchEpochs, minSeeds) == 1)
        {
            claims.Add(string.Create(inv, $"converges more slowly: median {h.ModeEpochs.Median:0} epochs to its best validation loss vs {h.ScratchEpochs.Median:0} (every seed above every seed of scratch)"));
        }
        else
        {
            claims.Add("no convergence claim (best-epoch ranges overlap)");
        }

        return claims;
    }

    private static string List(IReadOnlyList<int> sizes) => sizes.Count == 0 ? "none" : string.Join(", ", sizes);
}
