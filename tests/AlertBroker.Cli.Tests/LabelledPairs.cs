namespace AlertBroker.Cli.Tests;

/// <summary>Labelled CSV pairs (<c>P_lightcurves.csv</c> + <c>P_metadata.csv</c>) the tests write and copy.</summary>
internal static class LabelledPairs
{
    /// <summary>Copies the pair named <paramref name="fromPrefix"/> in <paramref name="from"/> into <paramref name="to"/> (made) as <paramref name="toPrefix"/>; returns <paramref name="to"/>.</summary>
    public static string CopyAs(string from, string fromPrefix, string to, string toPrefix)
    {
        Directory.CreateDirectory(to);
        foreach (var part in new[] { "_lightcurves.csv", "_metadata.csv" })
        {
            File.Copy(Path.Combine(from, fromPrefix + part), Path.Combine(to, toPrefix + part));
        }

        return to;
    }
}
