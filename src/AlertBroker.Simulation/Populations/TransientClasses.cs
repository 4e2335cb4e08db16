namespace AlertBroker.Simulation.Populations;

/// <summary>
/// The simulated classes. Numbers are round values from the literature (peak magnitudes and their
/// spread, rise and decline times, rates at z = 0) and were then adjusted against the real ZTF Bright
/// Transient Survey light curves with <c>alertbroker simulate compare</c> (docs/simulation.md).
/// </summary>
public static class TransientClasses
{
    /// <summary>Type Ia supernovae: M_B ≈ −19.3 ± 0.15 after the width–luminosity relation; ~18 d rise.</summary>
    public static TransientClassModel SNIa { get; } = new()
    {
        Name = "SNIa",
        PeakAbsMag = -19.3,
        PeakAbsMagSigma = 0.15,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 2.8,
        DeclineDays = 28,
        TimeScaleScatter = 0.08,
        DeclineWavelengthIndex = 1.0,
        StretchLuminosity = -3.0,
        PeakTemperatureK = 16_500,
        PeakTemperatureSigmaK = 800,
        LateTemperatureK = 6_000,
        CoolingDays = 40,
        UvCutoffMicron = 0.34,
        RatePerMpc3Yr = 2.5e-5,
        RateEvolutionIndex = 1.5,
        MaxRedshift = 1.6,
        HostAvMean = 0.15,
    };

    /// <summary>Type II (plateau and linear) supernovae: faint and diverse, hot at first, cooling in weeks.</summary>
    public static TransientClassModel SNII { get; } = new()
    {
        Name = "SNII",
        PeakAbsMag = -16.5,
        PeakAbsMagSigma = 1.0,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 3.0,
        DeclineDays = 120,
        TimeScaleScatter = 0.2,
        DeclineWavelengthIndex = 1.8,
        PeakTemperatureK = 11_500,
        PeakTemperatureSigmaK = 2_500,
        LateTemperatureK = 5_800,
        CoolingDays = 40,
        UvCutoffMicron = 0.32,
        RatePerMpc3Yr = 7.5e-5,
        RateEvolutionIndex = 2.7,
        MaxRedshift = 1.0,
        HostAvMean = 0.2,
        PlateauEndDays = 75,
    };

    /// <summary>Stripped-envelope (Ib, Ic, Ic-BL) supernovae: fainter and redder than SNe Ia, faster.</summary>
    public static TransientClassModel SNIbc { get; } = new()
    {
        Name = "SNIbc",
        PeakAbsMag = -17.0,
        PeakAbsMagSigma = 0.8,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 2.8,
        DeclineDays = 40,
        TimeScaleScatter = 0.15,
        DeclineWavelengthIndex = 1.2,
        PeakTemperatureK = 10_000,
        PeakTemperatureSigmaK = 1_000,
        LateTemperatureK = 5_000,
        CoolingDays = 30,
        UvCutoffMicron = 0.38,
        RatePerMpc3Yr = 2.0e-5,
        RateEvolutionIndex = 2.7,
        MaxRedshift = 1.0,
        HostAvMean = 0.3,
    };

    /// <summary>Hydrogen-poor superluminous supernovae: M ≈ −21.5, slow (months), hot and blue.</summary>
    public static TransientClassModel SlsnI { get; } = new()
    {
        Name = "SLSN-I",
        PeakAbsMag = -21.0,
        PeakAbsMagSigma = 0.6,
        ReferenceWavelengthMicron = 0.40,
        RiseDays = 8,
        DeclineDays = 32,
        TimeScaleScatter = 0.15,
        DeclineWavelengthIndex = 0.8,
        PeakTemperatureK = 17_000,
        PeakTemperatureSigmaK = 2_000,
        LateTemperatureK = 8_000,
        CoolingDays = 60,
        UvCutoffMicron = 0.28,
        RatePerMpc3Yr = 3.0e-8,
        RateEvolutionIndex = 3.0,
        MaxRedshift = 3.0,
    };

    /// <summary>Tidal disruption events: M ≈ −19.5 ± 0.7, hot (2–4 × 10⁴ K) with little cooling, slow decline.</summary>
    public static TransientClassModel Tde { get; } = new()
    {
        Name = "TDE",
        PeakAbsMag = -18.8,
        PeakAbsMagSigma = 0.7,
        ReferenceWavelengthMicron = 0.44,
        RiseDays = 4,
        DeclineDays = 40,
        TimeScaleScatter = 0.2,
        DeclineWavelengthIndex = 0.0,
        PeakTemperatureK = 16_000,
        PeakTemperatureSigmaK = 5_000,
        LateTemperatureK = 14_000,
        CoolingDays = 100,
        RatePerMpc3Yr = 1.0e-7,
        RateEvolutionIndex = 0.0,
        MaxRedshift = 1.0,
    };

    /// <summary>Interacting type IIn supernovae (optional class): bright, slow, blue.</summary>
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
