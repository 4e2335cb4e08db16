using System.Globalization;

namespace AlertBroker.Alerts;

/// <summary>Why an alert is not a transient candidate (<see cref="CandidateFilter"/>).</summary>
public enum CandidateRejectionKind
{
    /// <summary>The survey's real/bogus score (ZTF <c>drb</c>, else <c>rb</c>; Rubin <c>reliability</c>) is below the threshold.</summary>
    LowReliability,

    /// <summary>The triggering detection is a negative difference (fainter than the template): a fading variable or a bad subtraction, not a new brightening.</summary>
    NegativeFlux,

    /// <summary>The source is, or lies within the set radius of, a known solar-system object.</summary>
    SolarSystemObject,

    /// <summary>ZTF: the nearest Pan-STARRS1 source lies within the set radius and is a star (<c>sgscore1</c> at or above the threshold).</summary>
    Star,

    /// <summary>
    /// The object has fewer detections up to the alert than <see cref="CandidateFilter.MinDetections"/>: too few to classify
    /// (a network given one or two points reads its class prior).
    /// </summary>
    TooFewDetections,
}

/// <summary>One rejection: its kind (also the metric tag, <see cref="CandidateFilter.Tag"/>) and a sentence with the values.</summary>
public sealed record CandidateRejection(CandidateRejectionKind Kind, string Message);

/// <summary>
/// Which alerts are transient candidates: those whose triggering detection a survey's own vetting calls real, that
/// brighten against the template, and that are neither a known asteroid nor a catalogued star. A classifier of
/// supernovae and other extragalactic transients says nothing credible about the rest — real/bogus scores near zero,
/// negative subtractions of variable stars, asteroids — so the worker stores their points as usual but publishes their
/// classification without probabilities (docs/worker.md, "Transient candidates"). A value an alert does not carry (NaN,
/// null) is not judged: only what an alert says can reject it. The checks, in order (the first that fails is the reason):
/// <list type="number">
/// <item>real/bogus below <see cref="ZtfMinRealBogus"/> (ZTF <c>drb</c>, else <c>rb</c>) or <see cref="LsstMinReliability"/>
/// (Rubin <c>reliability</c>);</item>
/// <item>a triggering flux below zero, when <see cref="RequirePositiveFlux"/> (ZTF <c>isdiffpos</c> = f, a Rubin
/// <c>psfFlux</c> below zero);</item>
/// <item>a solar-system object: Rubin <c>ssObjectId</c> set, ZTF <c>ssdistnr</c> within <see cref="SolarSystemRadiusArcsec"/>;</item>
/// <item>ZTF: <c>distpsnr1</c> within <see cref="StarRadiusArcsec"/> and <c>sgscore1</c> at least <see cref="MinStarScore"/>;</item>
/// <item>fewer detections of the object than <see cref="MinDetections"/> (default 1: never): those the alert carries, or
/// those its stored light curve has up to the alert's time when the worker knows them and they are more.</item>
/// </list>
/// </summary>
public sealed record CandidateFilter
{
    /// <summary>Whether any check runs (<see cref="None"/>: every alert is a candidate).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Lowest ZTF real/bogus score of a candidate (default 0.5, the score's midpoint: braai's deep real/bogus score
    /// <c>drb</c>, Duev et al. 2019, puts real detections near 1 and bogus ones near 0).
    /// </summary>
    public double ZtfMinRealBogus { get; init; } = 0.5;

    /// <summary>Lowest Rubin <c>reliability</c> of a candidate (default 0.5, the score's midpoint).</summary>
    public double LsstMinReliability { get; init; } = 0.5;

    /// <summary>Whether a negative triggering difference flux rejects the alert (default: yes).</summary>
    public bool RequirePositiveFlux { get; init; } = true;

    /// <summary>ZTF: a known solar-system object within this many arcsec (<c>ssdistnr</c>) rejects the alert (default 5; 0: not checked).</summary>
    public double SolarSystemRadiusArcsec { get; init; } = 5;

    /// <summary>ZTF: a Pan-STARRS1 star within this many arcsec (<c>distpsnr1</c>) rejects the alert (default 1; 0: not checked).</summary>
    public double StarRadiusArcsec { get; init; } = 1;

    /// <summary>ZTF: the <c>sgscore1</c> from which the nearest Pan-STARRS1 source counts as a star (default 0.9).</summary>
    public double MinStarScore { get; init; } = 0.9;

    /// <summary>
    /// Fewest detections of the object up to the alert — its triggering detection and those of its history, in the packet
    /// (ZTF: the last 30 days; Rubin: the last 12 months) or, in the worker, in its stored light curve when that has more —
    /// for its classification to carry probabilities (default 1: every candidate is classified from its first detection).
    /// Checked after the other checks.
    /// </summary>
    public int MinDetections { get; init; } = 1;

    /// <summary>The defaults above.</summary>
    public static CandidateFilter Default { get; } = new();

    /// <summary>No checks: every alert is a candidate.</summary>
    public static CandidateFilter None { get; } = new() { Enabled = false };

    /// <summary>The metric tag of a rejection kind: <c>reliability</c>, <c>negative-flux</c>, <c>solar-system</c>, <c>star</c>, <c>too-few-detections</c>.</summary>
    public static string Tag(CandidateRejectionKind kind) => kind switch
    {
        CandidateRejectionKind.LowReliability => "reliability",
        CandidateRejectionKind.NegativeFlux => "negative-flux",
        CandidateRejectionKind.SolarSystemObject => "solar-system",
        CandidateRejectionKind.Star => "star",
        CandidateRejectionKind.TooFewDetections => "too-few-detections",
        _ => "other",
    };

    /// <summary>Null when the alert is a transient candidate, else why not (values compared in the alert's own float precision, so 0.9 means 0.9f).</summary>
    public CandidateRejection? Check(Alert alert) => Check(alert, 0);

    /// <summary>
    /// As <see cref="Check(Alert)"/>, counting toward <see cref="MinDetections"/> the object's detections up to the alert's
    /// time as its stored light curve has them (<paramref name="objectDetections"/>) when they are more than the alert carries
    /// (a ZTF packet holds only the last 30 days).
    /// </summary>
    public CandidateRejection? Check(Alert alert, int objectDetections)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!Enabled)
        {
            return null;
        }

        var m = alert.Metadata;
        var minimum = alert.Survey switch
        {
            Survey.Ztf => ZtfMinRealBogus,
            Survey.Lsst => LsstMinReliability,
            _ => 0,
        };
        if (float.IsFinite(m.RealBogus) && m.RealBogus < (float)minimum)
        {
            var name = alert.Survey == Survey.Lsst ? "reliability" : "real/bogus";
            return new(CandidateRejectionKind.LowReliability, Invariant($"not a transient candidate: {name} {m.RealBogus:0.###} < {minimum:0.###}"));
        }

        var flux = alert.Candidate.FluxMicroJy;
        if (RequirePositiveFlux && flux < 0)
        {
            return new(CandidateRejectionKind.NegativeFlux, Invariant($"not a transient candidate: negative difference flux ({flux:0.###} µJy), fainter than the template"));
        }

        if (m.SolarSystemObjectId is long ss)
        {
            return new(CandidateRejectionKind.SolarSystemObject, Invariant($"not a transient candidate: solar-system object {ss}"));
        }

        if (SolarSystemRadiusArcsec > 0 && m.SolarSystemDistanceArcsec >= 0 && m.SolarSystemDistanceArcsec <= (float)SolarSystemRadiusArcsec)
        {
            return new(CandidateRejectionKind.SolarSystemObject, Invariant($"not a transient candidate: a known solar-system object {m.SolarSystemDistanceArcsec:0.##}″ away (≤ {SolarSystemRadiusArcsec:0.##}″)"));
        }

        if (StarRadiusArcsec > 0 && m.DistanceToNearestPs1Arcsec >= 0 && m.DistanceToNearestPs1Arcsec <= (float)StarRadiusArcsec && m.StarGalaxyScore >= (float)MinStarScore)
        {
            return new(CandidateRejectionKind.Star, Invariant($"not a transient candidate: on a Pan-STARRS1 star (sgscore1 {m.StarGalaxyScore:0.###} ≥ {MinStarScore:0.###}, {m.DistanceToNearestPs1Arcsec:0.##}″ away)"));
        }

        // Detections of positive flux: what a model is fed (a Rubin diaSource of either sign counted before 2026-12-07).
        var positive = 0;
        foreach (ref readonly var d in alert.Detections.AsSpan())
        {
            positive += d.IsPositiveDetection ? 1 : 0;
        }

        var detections = Math.Max(positive, objectDetections);
        if (MinDetections > 1 && detections < MinDetections)
        {
            return new(CandidateRejectionKind.TooFewDetections, Invariant($"not classified yet: {detections} detection(s) of the object, fewer than {MinDetections}"));
        }

        return null;
    }

    /// <summary>Problems with the settings themselves (empty when they are usable).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!(ZtfMinRealBogus is >= 0 and <= 1))
        {
            problems.Add(Invariant($"ZtfMinRealBogus must be in [0, 1], not {ZtfMinRealBogus}"));
        }

        if (!(LsstMinReliability is >= 0 and <= 1))
        {
            problems.Add(Invariant($"LsstMinReliability must be in [0, 1], not {LsstMinReliability}"));
        }

        if (!(MinStarScore is >= 0 and <= 1))
        {
            problems.Add(Invariant($"MinStarScore must be in [0, 1], not {MinStarScore}"));
        }

        if (!(SolarSystemRadiusArcsec is >= 0 and <= 3600))
        {
            problems.Add(Invariant($"SolarSystemRadiusArcsec must be in [0, 3600] arcsec, not {SolarSystemRadiusArcsec}"));
        }

        if (!(StarRadiusArcsec is >= 0 and <= 3600))
        {
            problems.Add(Invariant($"StarRadiusArcsec must be in [0, 3600] arcsec, not {StarRadiusArcsec}"));
        }

        if (MinDetections is < 1 or > 1000)
        {
            problems.Add(Invariant($"MinDetections must be in [1, 1000], not {MinDetections}"));
        }

        return problems;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
