using System.Globalization;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Features;

/// <summary>
/// Which metadata values a network is given: one rule for the trainer and <c>evaluate</c> (labelled CSVs, alert labels)
/// and for the worker (CSV and Redis sources), so that a value a catalogue writes for "missing" (−99, −1, 99) is unknown
/// everywhere instead of unknown in training and a number in the stream. A host redshift is used from 0 to
/// <see cref="MaxRedshift"/>, a Milky Way E(B−V) from 0 to <see cref="MaxMilkyWayEbv"/> mag; a value of another source is
/// used when it is finite in single precision (the network's inputs are floats: 1e300 would be infinite). Anything else is
/// unknown, as an empty cell is.
/// </summary>
public static class MetadataValues
{
    /// <summary>The largest host redshift used (the farthest galaxies known are at z ≈ 14; no transient is seen beyond).</summary>
    public const double MaxRedshift = 15;

    /// <summary>The largest E(B−V) used, in magnitudes (A_V ≈ 31 mag: nothing optical is detected through more dust).</summary>
    public const double MaxMilkyWayEbv = 10;

    /// <summary>Whether <paramref name="value"/> is a value of <paramref name="source"/> the network can be given.</summary>
    public static bool IsUsable(string source, double value) => source switch
    {
        MetadataSources.HostRedshift => value is >= 0 and <= MaxRedshift,
        MetadataSources.MilkyWayEbv => value is >= 0 and <= MaxMilkyWayEbv,
        _ => double.IsFinite(value) && Math.Abs(value) <= float.MaxValue,
    };

    /// <summary><paramref name="value"/> when it is usable (<see cref="IsUsable"/>), else NaN (unknown).</summary>
    public static double Usable(string source, double value) => IsUsable(source, value) ? value : double.NaN;

    /// <summary>A host redshift as used: from 0 to <see cref="MaxRedshift"/>, else NaN.</summary>
    public static double Redshift(double value) => Usable(MetadataSources.HostRedshift, value);

    /// <summary>A Milky Way E(B−V) as used: from 0 to <see cref="MaxMilkyWayEbv"/>, else NaN.</summary>
    public static double MilkyWayEbv(double value) => Usable(MetadataSources.MilkyWayEbv, value);

    /// <summary>What <paramref name="source"/> takes, for messages: "a number from 0 to 15".</summary>
    public static string Range(string source) => source switch
    {
        MetadataSources.HostRedshift => string.Create(CultureInfo.InvariantCulture, $"a number from 0 to {MaxRedshift}"),
        MetadataSources.MilkyWayEbv => string.Create(CultureInfo.InvariantCulture, $"a number from 0 to {MaxMilkyWayEbv}"),
        _ => "a finite number within single precision",
    };
}
