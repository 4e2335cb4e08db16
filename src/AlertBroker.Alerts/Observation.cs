namespace AlertBroker.Alerts;

/// <summary>What an observation measured.</summary>
public enum ObservationKind : byte
{
    /// <summary>A detection on the difference image (ZTF candidate, Rubin diaSource).</summary>
    Detection = 0,

    /// <summary>A non-detection: only a limiting magnitude / noise level is known.</summary>
    UpperLimit = 1,

    /// <summary>Forced photometry at the object's position, detected or not.</summary>
    Forced = 2,
}

/// <summary>
/// One photometric point, survey-agnostic. Missing values are NaN, never invented.
/// </summary>
/// <param name="SourceId">Deduplication key: ZTF <c>candid</c> for detections, the image's <c>pid</c> for
/// ZTF limits and forced photometry; Rubin <c>diaSourceId</c>, <c>diaForcedSourceId</c>, or the
/// non-detection's <c>ccdVisitId</c>.</param>
/// <param name="Mjd">Time of the observation (MJD; Rubin's is TAI, ZTF's UTC — 37 s apart).</param>
/// <param name="Band">The passband.</param>
/// <param name="Kind">Detection, upper limit or forced photometry.</param>
/// <param name="FluxMicroJy">Difference flux in µJy (signed; NaN for upper limits and missing values).</param>
/// <param name="FluxErrMicroJy">1σ flux error in µJy; for an upper limit, the noise implied by the 5σ limit.</param>
/// <param name="LimitingMag">The 5σ limiting magnitude of the image, when the survey gives one.</param>
public readonly record struct Observation(
    long SourceId,
    double Mjd,
    Passband Band,
    ObservationKind Kind,
    float FluxMicroJy,
    float FluxErrMicroJy,
    float LimitingMag)
{
    /// <summary>The AB magnitude of the flux, NaN when the flux is missing or not positive.</summary>
    public double Magnitude => Photometry.MicroJyToMag(FluxMicroJy);

    /// <summary>
    /// A detection with a positive difference flux: what every detection in the training data is (the simulator detects
    /// a point at 5σ above zero; BTS light curves are magnitudes), so what a detections-only model is fed and what
    /// <c>--min-detections</c> counts. Rubin reports diaSources of either sign, ZTF negative ones as isdiffpos 'f'.
    /// </summary>
    public bool IsPositiveDetection => Kind == ObservationKind.Detection && FluxMicroJy > 0;
}
