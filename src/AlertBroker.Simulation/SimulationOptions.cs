using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation;

/// <summary>
/// A magnitude-limited spectroscopic selection like the ZTF Bright Transient Survey: every object whose
/// brightest detection is brighter than <see cref="CompleteToMag"/> is kept, completeness then falls
/// linearly to <see cref="CompletenessAtLimit"/> at <see cref="LimitMag"/>, and nothing fainter is kept.
/// </summary>
public sealed record SpectroscopicSelection(double CompleteToMag = 18.5, double LimitMag = 19.0, double CompletenessAtLimit = 0.35)
{
    /// <summary>The BTS-like default (complete to 18.5, classified to 19).</summary>
    public static SpectroscopicSelection Bts { get; } = new();

    /// <summary>Probability that an object with this observed peak magnitude is selected.</summary>
    public double Completeness(double peakMag)
    {
        if (!(peakMag <= LimitMag))
        {
            return 0;
        }

        if (peakMag <= CompleteToMag)
        {
            return 1;
        }

        var f = (peakMag - CompleteToMag) / (LimitMag - CompleteToMag);
        return 1 - (f * (1 - CompletenessAtLimit));
    }
}

/// <summary>Knobs that make simulated data less ideal, to study the gap between simulation and reality.</summary>
/// <param name="ExtraScatterMag">Gaussian scatter (mag) added to every true flux, e.g. imperfect templates.</param>
/// <param name="OutlierFraction">Fraction of epochs whose measurement is thrown off by a large error.</param>
/// <param name="OutlierSigma">Size of an outlier, in units of the epoch's flux error.</param>
/// <param name="MissingEpochFraction">Fraction of scheduled epochs dropped (lost data, failed subtractions).</param>
/// <param name="ErrorUnderestimate">Factor by which reported errors are smaller than the true noise (1 = honest).</param>
public sealed record RealismOptions(
    double ExtraScatterMag = 0,
    double OutlierFraction = 0,
    double OutlierSigma = 8,
    double MissingEpochFraction = 0,
    double ErrorUnderestimate = 1)
{
    public static RealismOptions Ideal { get; } = new();
}

/// <summary>How classes are mixed.</summary>
public enum ClassMixKind
{
    /// <summary>The same number of each class (for training).</summary>
    Equal,

    /// <summary>As a flux-limited survey sees them: volumetric rate × volume × detection probability.</summary>
    Natural,

    /// <summary>The fractions given in <see cref="SimulationOptions.ClassFractions"/>.</summary>
    Explicit,
}

/// <summary>Everything that defines a simulated light-curve set. Same options and seed, same output.</summary>
public sealed record SimulationOptions
{
    public SurveyModel Survey { get; init; } = ZtfSurvey.Model;

    public long Seed { get; init; } = 1;

    /// <summary>Classes to simulate.</summary>
    public IReadOnlyList<TransientClassModel> Classes { get; init; } = TransientClasses.RealSetClasses;

    public ClassMixKind ClassMix { get; init; } = ClassMixKind.Equal;

    /// <summary>For <see cref="ClassMixKind.Explicit"/>: one weight per entry of <see cref="Classes"/> (normalised).</summary>
    public IReadOnlyList<double>? ClassFractions { get; init; }

    /// <summary>A BTS-like selection on the observed peak, or null for every detected object.</summary>
    public SpectroscopicSelection? Selection { get; init; }

    public RealismOptions Realism { get; init; } = RealismOptions.Ideal;

    /// <summary>Objects with fewer detections are redrawn.</summary>
    public int MinDetections { get; init; } = 2;

    /// <summary>Peaks are spread uniformly over this many days from the survey start.</summary>
    public double DurationDays { get; init; } = 3 * 365.25;

    /// <summary>First day of the survey, MJD; null for the survey's default.</summary>
    public double? StartMjd { get; init; }

    /// <summary>Non-detections kept before the first and after the last detection, observer days.</summary>
    public double PaddingDays { get; init; } = 30;

    public Cosmology Cosmology { get; init; } = Cosmology.Default;

    /// <summary>Object id prefix, e.g. "ZTFsim_".</summary>
    public string? ObjectIdPrefix { get; init; }
}
