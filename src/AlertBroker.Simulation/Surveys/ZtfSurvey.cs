using AlertBroker.Alerts;

namespace AlertBroker.Simulation.Surveys;

/// <summary>
/// The Zwicky Transient Facility public survey (2018–): g and r every two to three nights with nightly
/// pairs, i rarely; single-exposure 5σ depth about 20.5 in r; Palomar weather.
/// </summary>
public static class ZtfSurvey
{
    public static SurveyModel Model { get; } = new()
    {
        Name = "ztf",
        Survey = Survey.Ztf,
        Bands =
        [
            new BandModel(Passband.ZtfG, MedianLimitingMag: 20.6, LimitingMagSigma: 0.35, VisitProbability: 0.62, PairProbability: 0.45, MoonBrightening: 0.6),
            new BandModel(Passband.ZtfR, MedianLimitingMag: 20.5, LimitingMagSigma: 0.30, VisitProbability: 0.72, PairProbability: 0.50, MoonBrightening: 0.3),
            new BandModel(Passband.ZtfI, MedianLimitingMag: 19.9, LimitingMagSigma: 0.30, VisitProbability: 0.08, PairProbability: 0.0, MoonBrightening: 0.15),
        ],
        FieldNightProbability = 0.40, // simulate tune (docs/simulation.md) kept the prior
        LimitingMagOffset = -0.05, // simulate tune (docs/simulation.md)
        ClearNightFraction = 0.72,
        LostSpells = (0.12, 5),
        SeasonLengthDays = 240,
        NightStartFraction = 0.13,
        NightLengthDays = 0.32,
        PairSeparationDays = (0.02, 0.09),
        BadConditions = (0.15, 0.8),
        AlertHistoryDays = 30,
        DefaultStartMjd = 58_650,
        HostPhotoZ = (0.02, 0.02),
    };
}
