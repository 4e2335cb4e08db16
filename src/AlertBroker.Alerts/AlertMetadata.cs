namespace AlertBroker.Alerts;

/// <summary>
/// Per-alert context a classifier may use. Every value is NaN (or null) when the alert does not
/// carry it; nothing is filled in.
/// </summary>
public sealed record AlertMetadata
{
    /// <summary>ZTF <c>sgscore1</c>: star/galaxy score of the nearest Pan-STARRS1 source (1 = star).</summary>
    public float StarGalaxyScore { get; init; } = float.NaN;

    /// <summary>ZTF <c>distpsnr1</c>: distance to the nearest Pan-STARRS1 source, arcsec.</summary>
    public float DistanceToNearestPs1Arcsec { get; init; } = float.NaN;

    /// <summary>Real/bogus score: ZTF <c>drb</c> (deep real-bogus; <c>rb</c> in older alerts), Rubin <c>reliability</c>.</summary>
    public float RealBogus { get; init; } = float.NaN;

    /// <summary>ZTF <c>ssdistnr</c>: distance to the nearest known solar-system object, arcsec (-999 in the alert means none).</summary>
    public float SolarSystemDistanceArcsec { get; init; } = float.NaN;

    /// <summary>ZTF <c>distnr</c>: distance to the nearest source in the reference image, pixels.</summary>
    public float DistanceToNearestRefSource { get; init; } = float.NaN;

    /// <summary>ZTF <c>magnr</c>: magnitude of the nearest reference-image source.</summary>
    public float NearestRefMag { get; init; } = float.NaN;

    /// <summary>ZTF <c>ndethist</c>: number of past detections at this position.</summary>
    public int? DetectionsInHistory { get; init; }

    /// <summary>Rubin <c>extendedness</c> of the triggering source.</summary>
    public float Extendedness { get; init; } = float.NaN;

    /// <summary>Rubin <c>ssObjectId</c> when the source was associated with a solar-system object.</summary>
    public long? SolarSystemObjectId { get; init; }

    /// <summary>Rubin <c>diaObject</c>: number of DIA sources associated so far (<c>nDiaSources</c>), when present.</summary>
    public int? DiaSourceCount { get; init; }

    /// <summary>Shared empty instance.</summary>
    public static AlertMetadata Empty { get; } = new();
}
