namespace AlertBroker.Alerts;

/// <summary>
/// Photometric unit conversions. Fluxes are in microjansky (µJy) throughout the project: an AB
/// magnitude m is a flux of 10^((23.9 − m) / 2.5) µJy, since 0 AB mag = 3631 Jy.
/// </summary>
public static class Photometry
{
    /// <summary>The AB magnitude of 1 µJy.</summary>
    public const double AbZeroPointMicroJy = 23.9;

    /// <summary>2.5 / ln 10: converts a magnitude error to a relative flux error.</summary>
    public const double MagErrToRelFluxErr = 0.92103403719761836; // ln(10) / 2.5

    /// <summary>AB magnitude → flux in µJy.</summary>
    public static double MagToMicroJy(double mag) => Math.Pow(10.0, (AbZeroPointMicroJy - mag) / 2.5);

    /// <summary>Flux in µJy → AB magnitude; NaN for non-positive flux.</summary>
    public static double MicroJyToMag(double flux) => flux > 0 ? AbZeroPointMicroJy - (2.5 * Math.Log10(flux)) : double.NaN;

    /// <summary>Magnitude error → flux error in µJy for a source of flux <paramref name="fluxMicroJy"/>.</summary>
    public static double MagErrToFluxErr(double fluxMicroJy, double magErr) => Math.Abs(fluxMicroJy) * magErr * MagErrToRelFluxErr;

    /// <summary>Flux error → magnitude error.</summary>
    public static double FluxErrToMagErr(double fluxMicroJy, double fluxErr) => fluxErr / (Math.Abs(fluxMicroJy) * MagErrToRelFluxErr);

    /// <summary>Rubin fluxes are in nanojansky.</summary>
    public static double NanoJyToMicroJy(double nanoJy) => nanoJy * 1e-3;

    /// <summary>µJy → nJy.</summary>
    public static double MicroJyToNanoJy(double microJy) => microJy * 1e3;

    /// <summary>
    /// A 5σ limiting magnitude as the 1σ flux noise in µJy: the flux at the limit divided by 5.
    /// </summary>
    public static double LimitingMagToSigmaMicroJy(double limitMag, double nSigma = 5.0) => MagToMicroJy(limitMag) / nSigma;

    /// <summary>
    /// Image counts (DN) with photometric zero point <paramref name="zeroPoint"/> (mag of 1 DN) → µJy,
    /// as for ZTF forced photometry (<c>forcediffimflux</c> with <c>magzpsci</c>).
    /// </summary>
    public static double CountsToMicroJy(double counts, double zeroPoint) => counts * Math.Pow(10.0, (AbZeroPointMicroJy - zeroPoint) / 2.5);

    /// <summary>Julian date → modified Julian date.</summary>
    public static double JdToMjd(double jd) => jd - 2400000.5;
}
