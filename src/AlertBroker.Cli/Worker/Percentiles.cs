namespace AlertBroker.Cli.Worker;

/// <summary>Percentiles of a sample (nearest rank).</summary>
internal static class Percentiles
{
    public static double Of(List<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
