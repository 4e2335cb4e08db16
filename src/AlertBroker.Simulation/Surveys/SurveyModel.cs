using AlertBroker.Alerts;

namespace AlertBroker.Simulation.Surveys;

/// <summary>How one band of a survey is scheduled and how deep it goes.</summary>
/// <param name="Band">The passband.</param>
/// <param name="MedianLimitingMag">Median 5σ limiting magnitude of a single exposure.</param>
/// <param name="LimitingMagSigma">Gaussian scatter of the limit from exposure to exposure (seeing, airmass).</param>
/// <param name="VisitProbability">Chance that the object is observed in this band on a night its field is scheduled (see <see cref="SurveyModel.FieldNightProbability"/>); with it, sets the revisit time per band.</param>
/// <param name="PairProbability">Chance that a visit is repeated later the same night (ZTF's and LSST's nightly pairs, for asteroids).</param>
/// <param name="MoonBrightening">How many magnitudes the limit loses at full moon (the sky is brighter in blue bands).</param>
public sealed record BandModel(
    Passband Band,
    double MedianLimitingMag,
    double LimitingMagSigma,
    double VisitProbability,
    double PairProbability,
    double MoonBrightening);

/// <summary>
/// A survey as data: bands, cadence, depth, weather and noise. The simulator holds no survey-specific
/// code; <see cref="ZtfSurvey"/> and <see cref="LsstSurvey"/> are instances of this.
/// </summary>
public sealed record SurveyModel
{
    /// <summary>Short name ("ztf", "lsst").</summary>
    public required string Name { get; init; }

    public required Survey Survey { get; init; }

    public required IReadOnlyList<BandModel> Bands { get; init; }

    /// <summary>
    /// Chance that the object's field is scheduled on a clear night in season. Bands are then drawn with their
    /// own probabilities, so a survey that takes g and r on the same nights (ZTF) has a low value here and high
    /// band probabilities; 1 makes the bands independent.
    /// </summary>
    public double FieldNightProbability { get; init; } = 1.0;

    /// <summary>Added to every band's median 5σ limiting magnitude (positive: deeper); 0 for the bands as defined.</summary>
    public double LimitingMagOffset { get; init; }

    /// <summary>Fraction of nights with usable weather.</summary>
    public required double ClearNightFraction { get; init; }

    /// <summary>Runs of lost nights (weather systems, engineering): blocks of this many nights are lost with this probability.</summary>
    public (double Probability, int LengthNights) LostSpells { get; init; } = (0, 1);

    /// <summary>Days per year a field is observable (seasonal visibility).</summary>
    public required double SeasonLengthDays { get; init; }

    /// <summary>Start of observing within the night, as a fraction of a day after 0h UT (MJD fraction).</summary>
    public required double NightStartFraction { get; init; }

    /// <summary>Length of the observing night, days.</summary>
    public required double NightLengthDays { get; init; }

    /// <summary>Minimum and maximum time between the two exposures of a nightly pair, days.</summary>
    public required (double Min, double Max) PairSeparationDays { get; init; }

    /// <summary>Probability that a bad night loses depth (clouds, poor seeing) and the mean loss, mag.</summary>
    public required (double Probability, double MeanLossMag) BadConditions { get; init; }

    /// <summary>Signal-to-noise at which a difference-image source is detected (and an alert issued).</summary>
    public double DetectionSigma { get; init; } = 5.0;

    /// <summary>
    /// Detection efficiency near the threshold, in magnitudes (δ; 0 = none): a point measured Δ = 2.5·log10(S/N /
    /// <see cref="DetectionSigma"/>) magnitudes above the threshold is detected with probability 1 − exp(−Δ/δ), as
    /// difference imaging and its real/bogus vetting lose faint sources (half of them Δ = 0.69·δ above the threshold).
    /// </summary>
    public double DetectionEfficiencyMag { get; init; }

    /// <summary>
    /// Signal-to-noise an object's first detection needs (0: <see cref="DetectionSigma"/>, as every later one): points
    /// before the first one at this S/N are not detections, as a new source must stand out more than one already known
    /// before a survey's pipeline reports it. Later points need only <see cref="DetectionSigma"/>.
    /// </summary>
    public double FirstDetectionSigma { get; init; }

    /// <summary>Fractional calibration error added in quadrature to every flux error.</summary>
    public double CalibrationFloor { get; init; } = 0.01;

    /// <summary>Source photon noise: at flux F the variance grows by σ_sky² · F / (this × σ_sky).</summary>
    public double SourceNoiseScale { get; init; } = 50.0;

    /// <summary>How far back an alert's history reaches, days (ZTF 30; Rubin 365).</summary>
    public required double AlertHistoryDays { get; init; }

    /// <summary>Default first night of simulated alert streams, MJD.</summary>
    public required double DefaultStartMjd { get; init; }

    /// <summary>Host photometric-redshift scatter σ_z / (1 + z) and catastrophic outlier rate.</summary>
    public (double Sigma, double OutlierRate) HostPhotoZ { get; init; } = (0.03, 0.03);

    /// <summary>Declination range the survey covers, degrees.</summary>
    public (double Min, double Max) DeclinationRangeDeg { get; init; } = (-30, 90);

    /// <summary>The band model for a passband, or null.</summary>
    public BandModel? Find(Passband band)
    {
        foreach (var b in Bands)
        {
            if (b.Band == band)
            {
                return b;
            }
        }

        return null;
    }

    /// <summary>The deepest median limit of all bands.</summary>
    public double DeepestMedianLimit
    {
        get
        {
            var deepest = double.NegativeInfinity;
            foreach (var b in Bands)
            {
                deepest = Math.Max(deepest, b.MedianLimitingMag);
            }

            return deepest + LimitingMagOffset;
        }
    }

    /// <summary>Looks a survey up by name ("ztf" or "lsst"/"rubin").</summary>
    public static SurveyModel ByName(string name) => name?.ToUpperInvariant() switch
    {
        "ZTF" => ZtfSurvey.Model,
        "LSST" or "RUBIN" => LsstSurvey.Model,
        _ => throw new ArgumentException($"unknown survey '{name}' (expected ztf or lsst)", nameof(name)),
    };
}
