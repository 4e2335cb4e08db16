namespace AlertBroker.Alerts;

/// <summary>
/// Value checks applied to every decoded alert, so that a value no survey can produce is refused at the door
/// (<see cref="AlertErrorKind.InvalidValue"/>, or <see cref="AlertErrorKind.HistoryTooLong"/>) instead of being stored and
/// scored. Every observation of the alert — trigger, history, limits, forced photometry — must have:
/// <list type="bullet">
/// <item>a finite time inside the survey's window (<see cref="ZtfMinMjd"/>..<see cref="ZtfMaxMjd"/>,
/// <see cref="LsstMinMjd"/>..<see cref="LsstMaxMjd"/>);</item>
/// <item>for a detection, a finite flux; for forced photometry, a flux that is finite or missing (NaN: ZTF's −99999
/// sentinel, a null, a failed measurement), never infinite;</item>
/// <item>an error that is finite and not negative, or missing (NaN) for a limit or a forced point (one with a flux but no
/// error is kept and shown, as the survey sent it, but is not a step for the network, which cannot weigh it: refusing the
/// whole alert for it would lose its good points).</item>
/// </list>
/// and the alert may carry at most <see cref="MaxObservationsPerAlert"/> observations in all.
/// </summary>
public sealed record AlertValidation
{
    /// <summary>
    /// ZTF window start: MJD 58000 (2017-09-04), before ZTF's first light (2017-11-01) minus the 30 days of history an
    /// alert carries. The oldest shared sample (schema 1.8, January 2018) reaches back to MJD 58101.
    /// </summary>
    public double ZtfMinMjd { get; init; } = 58_000;

    /// <summary>ZTF window end: MJD 63000 (2031-04-17), beyond any announced ZTF operations.</summary>
    public double ZtfMaxMjd { get; init; } = 63_000;

    /// <summary>
    /// Rubin window start: MJD 60000 (2023-02-25), before Rubin's first on-sky alerts (ComCam, late 2024); the real
    /// shared samples are at MJD 60776 (April 2025), the simulator starts at 61000 by default.
    /// </summary>
    public double LsstMinMjd { get; init; } = 60_000;

    /// <summary>Rubin window end: MJD 66000 (2039-07-18), the ten-year survey (2025–2035) with margin.</summary>
    public double LsstMaxMjd { get; init; } = 66_000;

    /// <summary>
    /// Most observations (detections, limits and forced photometry together) one alert may carry; 0: no limit. The
    /// default, 10,000, is over 100× the longest real ZTF alert history in the shared samples (74) and 50× the longest
    /// simulated Rubin one (186, twelve months of history); an alert beyond it is refused while it is read, before its
    /// points are held in memory.
    /// </summary>
    public int MaxObservationsPerAlert { get; init; } = 10_000;

    /// <summary>Whether the value checks run at all (<see cref="None"/> turns them off, e.g. to look at a broken file).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The defaults above.</summary>
    public static AlertValidation Default { get; } = new();

    /// <summary>No checks and no limit: every decodable alert is returned as it is.</summary>
    public static AlertValidation None { get; } = new() { Enabled = false, MaxObservationsPerAlert = 0 };

    /// <summary>The accepted time window of a survey (MJD, inclusive).</summary>
    public (double Min, double Max) WindowOf(Survey survey) => survey switch
    {
        Survey.Ztf => (ZtfMinMjd, ZtfMaxMjd),
        Survey.Lsst => (LsstMinMjd, LsstMaxMjd),
        _ => (double.NegativeInfinity, double.PositiveInfinity),
    };

    /// <summary>Problems with the settings themselves (empty when they are usable).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!(double.IsFinite(ZtfMinMjd) && double.IsFinite(ZtfMaxMjd) && ZtfMinMjd < ZtfMaxMjd))
        {
            problems.Add("the ZTF window needs finite ZtfMinMjd < ZtfMaxMjd");
        }

        if (!(double.IsFinite(LsstMinMjd) && double.IsFinite(LsstMaxMjd) && LsstMinMjd < LsstMaxMjd))
        {
            problems.Add("the Rubin window needs finite LsstMinMjd < LsstMaxMjd");
        }

        if (MaxObservationsPerAlert < 0)
        {
            problems.Add("MaxObservationsPerAlert must be 0 (no limit) or positive");
        }

        return problems;
    }
}
