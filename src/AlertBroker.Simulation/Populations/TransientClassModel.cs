namespace AlertBroker.Simulation.Populations;

/// <summary>
/// One transient class as data: luminosity function, time scales, colour (temperature) evolution and
/// volumetric rate. A light curve is a Bazin-shaped flux curve in the rest frame (a per-class template)
/// whose spectrum is a blackbody cooling from <see cref="PeakTemperatureK"/> to <see cref="LateTemperatureK"/>,
/// with an optional ultraviolet cut-off for line blanketing, normalised so that the peak absolute AB
/// magnitude at <see cref="ReferenceWavelengthMicron"/> follows the luminosity function.
/// </summary>
public sealed record TransientClassModel
{
    /// <summary>Label written to the metadata (the real set's names: SNIa, SNII, SNIbc, SLSN-I, TDE).</summary>
    public required string Name { get; init; }

    /// <summary>Mean peak absolute AB magnitude at the reference wavelength.</summary>
    public required double PeakAbsMag { get; init; }

    /// <summary>Gaussian scatter of the peak absolute magnitude.</summary>
    public required double PeakAbsMagSigma { get; init; }

    /// <summary>Rest-frame wavelength at which <see cref="PeakAbsMag"/> is defined, µm (B ≈ 0.44).</summary>
    public required double ReferenceWavelengthMicron { get; init; }

    /// <summary>Bazin rise time scale τ_rise, rest-frame days (mean; log-normal scatter <see cref="TimeScaleScatter"/>).</summary>
    public required double RiseDays { get; init; }

    /// <summary>Bazin decline time scale τ_fall at the reference wavelength, rest-frame days.</summary>
    public required double DeclineDays { get; init; }

    /// <summary>
    /// Shape of the rise, ν of a Richards (generalised logistic) rise: the template is
    /// e^(−x/τ_fall) · (1 + ν e^(−x/τ_rise))^(−1/ν). ν = 1 (default) is Bazin's curve. Long before peak the flux e-folds
    /// in about ν τ_rise, so with the same τ_rise a larger ν makes the rise shallower in magnitudes (SN Ia-like τ's: 0.85
    /// instead of 1.14 mag below peak 10 days before it at ν = 1.5) and a smaller ν steeper (ν → 0 is a Gompertz rise).
    /// Between 0.05 and 2.
    /// </summary>
    public double RiseShape { get; init; } = 1.0;

    /// <summary>Log-normal scatter (dex) of the time scales, drawn as one "stretch" shared by rise and decline plus a small independent part.</summary>
    public double TimeScaleScatter { get; init; } = 0.1;

    /// <summary>Decline slows with wavelength: τ_fall(λ) = τ_fall · (λ / λ_ref)^index.</summary>
    public double DeclineWavelengthIndex { get; init; }

    /// <summary>Peak absolute magnitude change per unit log10 stretch (negative: broader is brighter, as for SNe Ia).</summary>
    public double StretchLuminosity { get; init; }

    /// <summary>Photospheric temperature at peak, K (mean).</summary>
    public required double PeakTemperatureK { get; init; }

    /// <summary>Scatter of the peak temperature, K.</summary>
    public double PeakTemperatureSigmaK { get; init; }

    /// <summary>Temperature the photosphere cools to, K.</summary>
    public required double LateTemperatureK { get; init; }

    /// <summary>E-folding time of the cooling after peak, rest-frame days.</summary>
    public required double CoolingDays { get; init; }

    /// <summary>
    /// Photospheric temperature at the start of the rise, K (0: the peak temperature throughout the rise). Before peak
    /// the temperature moves from this to <see cref="PeakTemperatureK"/> as the flux rises, with the reference band kept
    /// on the template: only the colour changes (e.g. hot, blue young SNe II after shock breakout).
    /// </summary>
    public double EarlyTemperatureK { get; init; }

    /// <summary>Wavelength below which line blanketing suppresses the flux, µm; 0 for none.</summary>
    public double UvCutoffMicron { get; init; }

    /// <summary>Volumetric rate at z = 0, events per Mpc³ per year (H0 = 70).</summary>
    public required double RatePerMpc3Yr { get; init; }

    /// <summary>Rate evolution: R(z) = R0 (1 + z)^index (star-formation-like for core collapse).</summary>
    public double RateEvolutionIndex { get; init; } = 1.5;

    /// <summary>Largest redshift simulated, whatever the survey depth.</summary>
    public double MaxRedshift { get; init; } = 3.0;

    /// <summary>
    /// End of a plateau (SNe II-P): rest-frame days after peak at which the flux falls steeply to
    /// <see cref="PlateauTailFraction"/> of the curve (mean; 25% scatter); 0 for none.
    /// </summary>
    public double PlateauEndDays { get; init; }

    /// <summary>Fraction of the flux left after the plateau drop (the radioactive tail).</summary>
    public double PlateauTailFraction { get; init; } = 0.1;

    /// <summary>Host-galaxy extinction A_V drawn exponentially with this mean (0 for none).</summary>
    public double HostAvMean { get; init; }
}
