using AlertBroker.Alerts;

namespace AlertBroker.Simulation.Surveys;

/// <summary>
/// The Rubin Observatory Legacy Survey of Space and Time, wide-fast-deep: six bands, visits in pairs
/// within a night, a given band revisited every one to several weeks, single-visit 5σ depths about
/// u 23.8, g 24.5, r 24.0, i 23.4, z 22.8, y 22.0; Cerro Pachón weather.
/// </summary>
public static class LsstSurvey
{
    public static SurveyModel Model { get; } = new()
    {
        Name = "lsst",
        Survey = Survey.Lsst,
        Bands =
        [
            new BandModel(Passband.LsstU, MedianLimitingMag: 23.8, LimitingMagSigma: 0.30, VisitProbability: 0.025, PairProbability: 0.3, MoonBrightening: 0.8),
            new BandModel(Passband.LsstG, MedianLimitingMag: 24.5, LimitingMagSigma: 0.30, VisitProbability: 0.045, PairProbability: 0.6, MoonBrightening: 0.6),
            new BandModel(Passband.LsstR, MedianLimitingMag: 24.0, LimitingMagSigma: 0.25, VisitProbability: 0.09, PairProbability: 0.7, MoonBrightening: 0.35),
            new BandModel(Passband.LsstI, MedianLimitingMag: 23.4, LimitingMagSigma: 0.25, VisitProbability: 0.09, PairProbability: 0.7, MoonBrightening: 0.25),
            new BandModel(Passband.LsstZ, MedianLimitingMag: 22.8, LimitingMagSigma: 0.25, VisitProbability: 0.08, PairProbability: 0.5, MoonBrightening: 0.15),
            new BandModel(Passband.LsstY, MedianLimitingMag: 22.0, LimitingMagSigma: 0.25, VisitProbability: 0.08, PairProbability: 0.4, MoonBrightening: 0.1),
        ],
        ClearNightFraction = 0.75,
        SeasonLengthDays = 210,
        NightStartFraction = 0.0,
        NightLengthDays = 0.35,
        PairSeparationDays = (0.015, 0.05),
        BadConditions = (0.12, 0.6),
        AlertHistoryDays = 365,
        DefaultStartMjd = 61_000,
        HostPhotoZ = (0.04, 0.05),
        DeclinationRangeDeg = (-90, 30),
    };
}
