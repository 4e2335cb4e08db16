using AlertBroker.Alerts;

namespace AlertBroker.Simulation.Populations;

/// <summary>
/// One simulated transient: its drawn physical parameters and the model that gives its flux in any band at
/// any time. Time dilation and the bandpass shift are exact for the model: an observed band at λ samples
/// the rest-frame spectrum at λ / (1 + z), and rest-frame time runs (1 + z) times slower.
/// </summary>
public sealed class Transient
{
    private readonly double _t0;
    private readonly double _riseShape;
    private readonly double _shapeNorm;
    private readonly double _referenceSed;
    private readonly BandConstant?[] _bands = new BandConstant?[32];

    public Transient(
        TransientClassModel model,
        double redshift,
        double distanceModulus,
        double peakMjd,
        double peakAbsMag,
        double riseDays,
        double declineDays,
        double peakTemperatureK,
        double mwEbv,
        double hostAv,
        double plateauEndDays = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Redshift = redshift;
        DistanceModulus = distanceModulus;
        PeakMjd = peakMjd;
        PeakAbsMag = peakAbsMag;
        RiseDays = riseDays;
        DeclineDays = Math.Max(declineDays, riseDays * 2.5);
        PeakTemperatureK = peakTemperatureK;
        LateTemperatureK = Math.Min(model.LateTemperatureK, peakTemperatureK);
        EarlyTemperatureK = model.EarlyTemperatureK > 0 ? model.EarlyTemperatureK * (peakTemperatureK / model.PeakTemperatureK) : peakTemperatureK;
        MwEbv = mwEbv;
        HostAv = hostAv;
        PlateauEndDays = plateauEndDays;

        // The curve (Bazin's for ν = 1) peaks at t0 + τr ln(τf/τr − ν); shift it so the reference-band peak is at t = 0.
        // τf ≥ 2.5 τr and ν ≤ 2 keep the logarithm's argument positive.
        _riseShape = Math.Clamp(model.RiseShape, 0.05, 2.0);
        _t0 = -RiseDays * Math.Log((DeclineDays / RiseDays) - _riseShape);
        _shapeNorm = Bazin(0, DeclineDays);
        _referenceSed = Sed(model.ReferenceWavelengthMicron, PeakTemperatureK);
    }

    public TransientClassModel Model { get; }

    public double Redshift { get; }

    public double DistanceModulus { get; }

    /// <summary>Observer-frame time of the peak at the reference wavelength, MJD.</summary>
    public double PeakMjd { get; }

    /// <summary>Peak absolute AB magnitude at the class's reference wavelength (no extinction).</summary>
    public double PeakAbsMag { get; }

    /// <summary>Rest-frame Bazin rise time scale, days.</summary>
    public double RiseDays { get; }

    /// <summary>Rest-frame Bazin decline time scale at the reference wavelength, days.</summary>
    public double DeclineDays { get; }

    public double PeakTemperatureK { get; }

    public double LateTemperatureK { get; }

    /// <summary>Temperature at the start of the rise (the object's share of the class's <see cref="TransientClassModel.EarlyTemperatureK"/>).</summary>
    public double EarlyTemperatureK { get; }

    /// <summary>Milky Way E(B−V).</summary>
    public double MwEbv { get; }

    /// <summary>Host-galaxy A_V (rest frame).</summary>
    public double HostAv { get; }

    /// <summary>Rest-frame days after peak at which a plateau ends (0: no plateau).</summary>
    public double PlateauEndDays { get; }

    /// <summary>
    /// Temperature at a rest-frame time from peak: before peak from <see cref="EarlyTemperatureK"/> to the peak
    /// temperature in step with the rising flux (T = T_peak + (T_early − T_peak)(1 − f/f_peak)); after peak cooling
    /// towards <see cref="LateTemperatureK"/>.
    /// </summary>
    public double TemperatureK(double restDays)
    {
        if (restDays > 0)
        {
            return LateTemperatureK + ((PeakTemperatureK - LateTemperatureK) * Math.Exp(-restDays / Model.CoolingDays));
        }

        if (EarlyTemperatureK == PeakTemperatureK)
        {
            return PeakTemperatureK;
        }

        var rising = Math.Clamp(Shape(restDays, DeclineDays), 0, 1);
        return PeakTemperatureK + ((EarlyTemperatureK - PeakTemperatureK) * (1 - rising));
    }

    /// <summary>Absolute AB magnitude at a rest-frame wavelength and rest-frame time from peak (no extinction).</summary>
    public double AbsoluteMagnitude(double restWavelengthMicron, double restDays)
    {
        var temperature = TemperatureK(restDays);
        var ratio = Shape(restDays, DeclineAt(restWavelengthMicron)) * Sed(restWavelengthMicron, temperature) / ReferenceSed(restDays, temperature);
        return ratio > 0 ? PeakAbsMag - (2.5 * Math.Log10(ratio)) : double.PositiveInfinity;
    }

    /// <summary>Observed AB magnitude in a band at an observer-frame time (includes extinction, K-correction by construction).</summary>
    public double ObservedMagnitude(Passband band, double mjd) => Photometry.MicroJyToMag(ObservedFluxMicroJy(band, mjd));

    /// <summary>Observed flux density in µJy (noise-free).</summary>
    public double ObservedFluxMicroJy(Passband band, double mjd)
    {
        var c = BandConstants(band);
        var restDays = (mjd - PeakMjd) / (1 + Redshift);
        var temperature = TemperatureK(restDays);
        var ratio = Shape(restDays, c.Decline) * Sed(c.RestWavelength, temperature, c.UvFactor) / ReferenceSed(restDays, temperature);
        return ratio > 0 ? c.Scale * ratio : 0.0;
    }

    // The SED at the reference wavelength the template is normalised by: the peak's, except during a rise whose
    // temperature changes, when it is the current one (so the reference band follows the template and only colours change).
    private double ReferenceSed(double restDays, double temperature) =>
        restDays < 0 && EarlyTemperatureK != PeakTemperatureK ? Sed(Model.ReferenceWavelengthMicron, temperature) : _referenceSed;

    /// <summary>Rest-frame days after peak at which the reference band has faded by <paramref name="magnitudes"/> (ignoring cooling).</summary>
    public double RestDaysToFade(double magnitudes) => Math.Max(0, (magnitudes / 1.0857 * DeclineDays) + 2 * RiseDays);

    /// <summary>Rest-frame days before peak at which the flux is negligible (7 e-folds of the rise, whose e-folding time long before peak is ν τ_rise).</summary>
    public double RestDaysBeforePeak => -_t0 + (7 * Math.Max(1.0, _riseShape) * RiseDays);

    // Kept above (ν + 0.5) τ_rise (1.5 τ_rise for Bazin's curve): a curve whose decline is faster than its early rise
    // (e-folding ν τ_rise) would grow into the past.
    private double DeclineAt(double restWavelengthMicron) =>
        Model.DeclineWavelengthIndex == 0
            ? DeclineDays
            : Math.Max(Math.Max(1.5, _riseShape + 0.5) * RiseDays, DeclineDays * Math.Pow(restWavelengthMicron / Model.ReferenceWavelengthMicron, Model.DeclineWavelengthIndex));

    private double Shape(double t, double decline)
    {
        var shape = Bazin(t, decline) / _shapeNorm;
        if (PlateauEndDays > 0 && t > PlateauEndDays - 40)
        {
            // A smooth step of a few days down to the tail, as at the end of a II-P plateau.
            var tail = Model.PlateauTailFraction;
            shape *= tail + ((1 - tail) / (1 + Math.Exp((t - PlateauEndDays) / 4)));
        }

        return shape;
    }

    private double Bazin(double t, double decline)
    {
        var x = t - _t0;
        if (x < -40 * RiseDays)
        {
            return 0;
        }

        if (_riseShape == 1.0)
        {
            return Math.Exp(-x / decline) / (1 + Math.Exp(-x / RiseDays));
        }

        // Richards rise: (1 + ν e^(−x/τr))^(−1/ν).
        return Math.Exp((-x / decline) - (Math.Log(1 + (_riseShape * Math.Exp(-x / RiseDays))) / _riseShape));
    }

    // The Bazin curve scales the flux density at the reference wavelength (a per-class template); the blackbody
    // only sets the colour. (Treating it as bolometric, B_ν / T⁴, made optical declines far slower than real.)
    private static double Sed(double restWavelengthMicron, double temperatureK, double uvFactor) =>
        Physics.BlackbodyFnu(restWavelengthMicron, temperatureK) * uvFactor;

    private double Sed(double restWavelengthMicron, double temperatureK) =>
        Sed(restWavelengthMicron, temperatureK, UvFactor(restWavelengthMicron));

    // Line blanketing: a steep but smooth suppression blueward of the cut-off.
    private double UvFactor(double restWavelengthMicron)
    {
        if (Model.UvCutoffMicron <= 0)
        {
            return 1.0;
        }

        var r = Model.UvCutoffMicron / restWavelengthMicron;
        var r2 = r * r;
        var r4 = r2 * r2;
        return 1.0 / (1 + (r4 * r4));
    }

    // Everything about a band that does not change with time, computed once per band: the per-epoch cost is
    // then four exponentials. Filling the cache from two threads at once is harmless (same values).
    private BandConstant BandConstants(Passband band)
    {
        var slot = (int)band;
        var cached = slot < _bands.Length ? _bands[slot] : null;
        if (cached is not null)
        {
            return cached;
        }

        var lambdaObs = Passbands.CentralWavelengthMicron(band);
        var lambdaRest = lambdaObs / (1 + Redshift);
        var offset = PeakAbsMag
            + DistanceModulus
            - (2.5 * Math.Log10(1 + Redshift))
            + (MwEbv * Physics.ExtinctionPerEbv(lambdaObs))
            + (HostAv / 3.1 * Physics.ExtinctionPerEbv(lambdaRest));
        var constant = new BandConstant(lambdaRest, DeclineAt(lambdaRest), UvFactor(lambdaRest), Photometry.MagToMicroJy(offset));
        if (slot < _bands.Length)
        {
            _bands[slot] = constant;
        }

        return constant;
    }

    private sealed record BandConstant(double RestWavelength, double Decline, double UvFactor, double Scale);
}
