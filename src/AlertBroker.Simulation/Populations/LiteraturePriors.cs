using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation.Populations;

/// <summary>
/// The starting point of <c>alertbroker simulate tune</c>: every class parameter as a round value from the literature
/// or from the shape of the model, written down before the tuning part of the real BTS set was compared with anything.
/// The parameters the tuner may move carry a prior width (<see cref="TunableParameter"/>); the others keep these values.
/// Sources are in docs/simulation.md ("Tuning").
/// </summary>
public static class LiteraturePriors
{
    /// <summary>SN Ia: M_B ≈ −19.3 (H0 = 70) and 0.15 mag after the width–luminosity relation; rest-frame rise ≈ 18 d.</summary>
    public static TransientClassModel SNIa { get; } = new()
    {
        Name = "SNIa",
        PeakAbsMag = -19.3,
        PeakAbsMagSigma = 0.15,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 3.0,
        DeclineDays = 25,
        TimeScaleScatter = 0.08,
        DeclineWavelengthIndex = 1.0,
        StretchLuminosity = -3.0,
        PeakTemperatureK = 12_000,
        PeakTemperatureSigmaK = 800,
        LateTemperatureK = 6_000,
        CoolingDays = 40,
        EarlyTemperatureK = 12_000,
        UvCutoffMicron = 0.34,
        RatePerMpc3Yr = 3.0e-5,
        RateEvolutionIndex = 1.5,
        MaxRedshift = 1.6,
        HostAvMean = 0.15,
    };

    /// <summary>SN II: M ≈ −16.7 ± 1.0 at maximum; plateau (optically thick phase) ≈ 80 d; hot at first, recombination at ≈ 6000 K.</summary>
    public static TransientClassModel SNII { get; } = new()
    {
        Name = "SNII",
        PeakAbsMag = -16.7,
        PeakAbsMagSigma = 1.0,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 3.0,
        DeclineDays = 100,
        TimeScaleScatter = 0.2,
        DeclineWavelengthIndex = 1.8,
        PeakTemperatureK = 12_000,
        PeakTemperatureSigmaK = 2_500,
        LateTemperatureK = 5_800,
        CoolingDays = 40,
        EarlyTemperatureK = 25_000,
        UvCutoffMicron = 0.32,
        RatePerMpc3Yr = 7.5e-5,
        RateEvolutionIndex = 2.7,
        MaxRedshift = 1.0,
        HostAvMean = 0.2,
        PlateauEndDays = 80,
    };

    /// <summary>Stripped-envelope SNe (Ib, Ic, Ic-BL): M ≈ −17.5 ± 0.8; rise ≈ 15 d; redder than SNe Ia at peak.</summary>
    public static TransientClassModel SNIbc { get; } = new()
    {
        Name = "SNIbc",
        PeakAbsMag = -17.5,
        PeakAbsMagSigma = 0.8,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 3.0,
        DeclineDays = 30,
        TimeScaleScatter = 0.15,
        DeclineWavelengthIndex = 1.2,
        PeakTemperatureK = 9_000,
        PeakTemperatureSigmaK = 1_000,
        LateTemperatureK = 5_000,
        CoolingDays = 30,
        EarlyTemperatureK = 9_000,
        UvCutoffMicron = 0.38,
        RatePerMpc3Yr = 2.0e-5,
        RateEvolutionIndex = 2.7,
        MaxRedshift = 1.0,
        HostAvMean = 0.3,
    };

    /// <summary>SLSN-I: M ≈ −21.3 ± 0.6; rise and decline over months; hot (≈ 15 000 K) and blue, little host extinction.</summary>
    public static TransientClassModel SlsnI { get; } = new()
    {
        Name = "SLSN-I",
        PeakAbsMag = -21.3,
        PeakAbsMagSigma = 0.6,
        ReferenceWavelengthMicron = 0.40,
        RiseDays = 10,
        DeclineDays = 40,
        TimeScaleScatter = 0.15,
        DeclineWavelengthIndex = 0.8,
        PeakTemperatureK = 15_000,
        PeakTemperatureSigmaK = 2_000,
        LateTemperatureK = 8_000,
        CoolingDays = 60,
        EarlyTemperatureK = 15_000,
        UvCutoffMicron = 0.28,
        RatePerMpc3Yr = 3.0e-8,
        RateEvolutionIndex = 3.0,
        MaxRedshift = 3.0,
    };

    /// <summary>TDE: M_g ≈ −19.5 ± 0.7; blackbody at 2 × 10⁴ K that barely cools; rise ≈ weeks, decline over months.</summary>
    public static TransientClassModel Tde { get; } = new()
    {
        Name = "TDE",
        PeakAbsMag = -19.5,
        PeakAbsMagSigma = 0.7,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 5,
        DeclineDays = 40,
        TimeScaleScatter = 0.2,
        DeclineWavelengthIndex = 0.0,
        PeakTemperatureK = 20_000,
        PeakTemperatureSigmaK = 5_000,
        LateTemperatureK = 18_000,
        CoolingDays = 100,
        EarlyTemperatureK = 20_000,
        RatePerMpc3Yr = 1.0e-7,
        RateEvolutionIndex = 0.0,
        MaxRedshift = 1.0,
    };

    /// <summary>The five classes of the real set, in <see cref="TransientClasses.RealSetClasses"/> order.</summary>
    public static IReadOnlyList<TransientClassModel> Classes { get; } = [SNIa, SNII, SNIbc, SlsnI, Tde];

    /// <summary>
    /// The ZTF survey as the tuning starts: <see cref="ZtfSurvey.Model"/> with a field visited on 40% of clear nights
    /// (the public survey's two- to three-night cadence).
    /// </summary>
    public static SurveyModel Ztf { get; } = ZtfSurvey.Model with { FieldNightProbability = 0.40, LimitingMagOffset = 0 };

    /// <summary>
    /// What the tuner may move, with prior widths: per class the peak magnitude (±σ mag), the rise and decline time
    /// scales and the peak and early temperatures (log-normal, σ in dex), the SN II plateau; the survey's field-night
    /// probability and a depth offset of every band.
    /// </summary>
    public static IReadOnlyList<TunableParameter> Tunable { get; } =
    [
        new("survey", nameof(SurveyModel.FieldNightProbability), 0.40, 0.10, Logarithmic: false, Step: 0.04, Min: 0.2, Max: 0.8),
        new("survey", nameof(SurveyModel.LimitingMagOffset), 0, 0.3, Logarithmic: false, Step: 0.1, Min: -1.0, Max: 0.5),
        .. ClassParameters(SNIa, magSigma: 0.15),
        .. ClassParameters(SNII, magSigma: 0.3),
        new("SNII", nameof(TransientClassModel.PlateauEndDays), 80, 0.1, Logarithmic: true, Step: 0.05, Min: 40, Max: 140),
        .. ClassParameters(SNIbc, magSigma: 0.3),
        .. ClassParameters(SlsnI, magSigma: 0.3),
        .. ClassParameters(Tde, magSigma: 0.3),
    ];

    /// <summary>
    /// The rise shape ν of every real-set class (<see cref="TransientClassModel.RiseShape"/>; prior 1, Bazin's curve,
    /// σ 0.3 dex), for <c>simulate tune --rise-shape</c>: not in <see cref="Tunable"/>, so the recorded tuning reruns as it was.
    /// </summary>
    public static IReadOnlyList<TunableParameter> RiseShapes { get; } =
        [.. new[] { SNIa, SNII, SNIbc, SlsnI, Tde }.Select(c => new TunableParameter(c.Name, nameof(TransientClassModel.RiseShape), 1.0, 0.3, Logarithmic: true, Step: 0.1, Min: 0.05, Max: 2.0))];

    private static IEnumerable<TunableParameter> ClassParameters(TransientClassModel c, double magSigma) =>
    [
        new(c.Name, nameof(TransientClassModel.PeakAbsMag), c.PeakAbsMag, magSigma, Logarithmic: false, Step: 0.1, Min: c.PeakAbsMag - 1.0, Max: c.PeakAbsMag + 1.0),
        new(c.Name, nameof(TransientClassModel.RiseDays), c.RiseDays, 0.2, Logarithmic: true, Step: 0.06, Min: c.RiseDays / 4, Max: c.RiseDays * 4),
        new(c.Name, nameof(TransientClassModel.DeclineDays), c.DeclineDays, 0.2, Logarithmic: true, Step: 0.06, Min: c.DeclineDays / 4, Max: c.DeclineDays * 4),
        new(c.Name, nameof(TransientClassModel.PeakTemperatureK), c.PeakTemperatureK, 0.1, Logarithmic: true, Step: 0.03, Min: 4_000, Max: 50_000),
        new(c.Name, nameof(TransientClassModel.EarlyTemperatureK), c.EarlyTemperatureK, 0.15, Logarithmic: true, Step: 0.05, Min: 4_000, Max: 60_000),
    ];
}

/// <summary>
/// One parameter <c>simulate tune</c> may move. <see cref="Target"/> is a class name or "survey". The prior is normal in
/// the value (<see cref="Logarithmic"/> false, σ in the value's unit) or in log10 of it (σ in dex); steps are in the
/// same unit (dex when logarithmic). The value stays within [<see cref="Min"/>, <see cref="Max"/>].
/// </summary>
public sealed record TunableParameter(string Target, string Name, double Prior, double PriorSigma, bool Logarithmic, double Step, double Min, double Max)
{
    public string Key => Target + "." + Name;

    /// <summary>((x − prior) / σ)², in log10 for logarithmic parameters.</summary>
    public double Penalty(double value)
    {
        var d = Logarithmic ? (Math.Log10(value) - Math.Log10(Prior)) / PriorSigma : (value - Prior) / PriorSigma;
        return d * d;
    }

    /// <summary>The value moved by <paramref name="steps"/> × <paramref name="step"/> (in dex when logarithmic), clamped to the bounds.</summary>
    public double Move(double value, double step, int steps)
    {
        var moved = Logarithmic ? value * Math.Pow(10, step * steps) : value + (step * steps);
        return Math.Clamp(moved, Min, Max);
    }

    public double Get(TransientClassModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Name switch
        {
            nameof(TransientClassModel.PeakAbsMag) => model.PeakAbsMag,
            nameof(TransientClassModel.RiseDays) => model.RiseDays,
            nameof(TransientClassModel.DeclineDays) => model.DeclineDays,
            nameof(TransientClassModel.PeakTemperatureK) => model.PeakTemperatureK,
            nameof(TransientClassModel.PlateauEndDays) => model.PlateauEndDays,
            nameof(TransientClassModel.EarlyTemperatureK) => model.EarlyTemperatureK,
            nameof(TransientClassModel.RiseShape) => model.RiseShape,
            _ => throw new InvalidOperationException($"{Key} is not a class parameter the tuner knows"),
        };
    }

    public TransientClassModel Set(TransientClassModel model, double value)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Name switch
        {
            nameof(TransientClassModel.PeakAbsMag) => model with { PeakAbsMag = value },
            nameof(TransientClassModel.RiseDays) => model with { RiseDays = value },
            nameof(TransientClassModel.DeclineDays) => model with { DeclineDays = value },
            nameof(TransientClassModel.PeakTemperatureK) => model with { PeakTemperatureK = value },
            nameof(TransientClassModel.PlateauEndDays) => model with { PlateauEndDays = value },
            nameof(TransientClassModel.EarlyTemperatureK) => model with { EarlyTemperatureK = value },
            nameof(TransientClassModel.RiseShape) => model with { RiseShape = value },
            _ => throw new InvalidOperationException($"{Key} is not a class parameter the tuner knows"),
        };
    }

    public double Get(SurveyModel survey)
    {
        ArgumentNullException.ThrowIfNull(survey);
        return Name switch
        {
            nameof(SurveyModel.FieldNightProbability) => survey.FieldNightProbability,
            nameof(SurveyModel.LimitingMagOffset) => survey.LimitingMagOffset,
            _ => throw new InvalidOperationException($"{Key} is not a survey parameter the tuner knows"),
        };
    }

    public SurveyModel Set(SurveyModel survey, double value)
    {
        ArgumentNullException.ThrowIfNull(survey);
        return Name switch
        {
            nameof(SurveyModel.FieldNightProbability) => survey with { FieldNightProbability = value },
            nameof(SurveyModel.LimitingMagOffset) => survey with { LimitingMagOffset = value },
            _ => throw new InvalidOperationException($"{Key} is not a survey parameter the tuner knows"),
        };
    }
}
