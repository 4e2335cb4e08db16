namespace AlertBroker.Simulation.Populations;

/// <summary>
/// The simulated classes: the literature priors of <see cref="LiteraturePriors"/> with the parameters that
/// <c>alertbroker simulate tune</c> moved against the tuning part of the real BTS set (the held-out test ids left out).
/// The values are those of docs/results/simulation-tuning/tuned-parameters.json, rounded to six significant digits; a
/// test keeps the two equal. How they were made: docs/simulation.md ("Tuning").
/// </summary>
public static class TransientClasses
{
    /// <summary>Type Ia supernovae: M_B ≈ −19.3 ± 0.15 after the width–luminosity relation; ~18 d rise.</summary>
    public static TransientClassModel SNIa { get; } = LiteraturePriors.SNIa with
    {
        PeakAbsMag = -19.2,
        PeakTemperatureK = 16375,
        EarlyTemperatureK = 11328.7,
    };

    /// <summary>Type II (plateau and linear) supernovae: faint and diverse, hot and blue when young, cooling in weeks.</summary>
    public static TransientClassModel SNII { get; } = LiteraturePriors.SNII with
    {
        PeakAbsMag = -16.45,
        DeclineDays = 107.152,
        PeakTemperatureK = 11592.6,
        EarlyTemperatureK = 28050.5,
        PlateauEndDays = 95.0802,
    };

    /// <summary>Stripped-envelope (Ib, Ic, Ic-BL) supernovae: fainter and redder than SNe Ia.</summary>
    public static TransientClassModel SNIbc { get; } = LiteraturePriors.SNIbc with
    {
        PeakAbsMag = -17.3,
        RiseDays = 3.44446,
        DeclineDays = 39.5477,
        PeakTemperatureK = 9316.28,
        EarlyTemperatureK = 11330.3,
    };

    /// <summary>Hydrogen-poor superluminous supernovae: M ≈ −21, slow (months), hot and blue.</summary>
    public static TransientClassModel SlsnI { get; } = LiteraturePriors.SlsnI with
    {
        PeakAbsMag = -21.2,
        RiseDays = 8.70964,
        PeakTemperatureK = 17222.3,
        EarlyTemperatureK = 14160.9,
    };

    /// <summary>Tidal disruption events: M ≈ −19.5 ± 0.7, hot (≈ 2 × 10⁴ K) with little cooling.</summary>
    public static TransientClassModel Tde { get; } = LiteraturePriors.Tde with
    {
        PeakAbsMag = -19.4,
        RiseDays = 4.35482,
        DeclineDays = 30.3431,
        PeakTemperatureK = 18031.4,
        EarlyTemperatureK = 21185.1,
    };

    /// <summary>Interacting type IIn supernovae (optional class, not in the real set, so not tuned): bright, slow, blue.</summary>
    public static TransientClassModel SNIIn { get; } = new()
    {
        Name = "SNIIn",
        PeakAbsMag = -18.6,
        PeakAbsMagSigma = 1.0,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 5,
        DeclineDays = 60,
        TimeScaleScatter = 0.25,
        DeclineWavelengthIndex = 0.6,
        PeakTemperatureK = 13_000,
        PeakTemperatureSigmaK = 2_000,
        LateTemperatureK = 7_500,
        CoolingDays = 50,
        UvCutoffMicron = 0.30,
        RatePerMpc3Yr = 5.0e-6,
        RateEvolutionIndex = 2.7,
        MaxRedshift = 2.0,
    };

    /// <summary>The five classes of the real ZTF set, in a fixed order.</summary>
    public static IReadOnlyList<TransientClassModel> RealSetClasses { get; } = [SNIa, SNII, SNIbc, SlsnI, Tde];

    /// <summary>Every simulated class.</summary>
    public static IReadOnlyList<TransientClassModel> All { get; } = [SNIa, SNII, SNIbc, SlsnI, Tde, SNIIn];

    /// <summary>A class by its label (case-insensitive).</summary>
    public static TransientClassModel ByName(string name)
    {
        foreach (var c in All)
        {
            if (string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return c;
            }
        }

        throw new ArgumentException($"unknown class '{name}'; known: SNIa, SNII, SNIbc, SLSN-I, TDE, SNIIn", nameof(name));
    }
}
