namespace AlertBroker.Alerts;

/// <summary>
/// One survey alert in survey-agnostic form: the triggering detection plus the history the alert
/// carries. Observation arrays are in time order.
/// </summary>
public sealed class Alert
{
    /// <summary>The survey.</summary>
    public required Survey Survey { get; init; }

    /// <summary>Schema identity, e.g. "ztf 3.3" or "lsst.v7_4".</summary>
    public required string SchemaVersion { get; init; }

    /// <summary>
    /// The longest object id a decoded alert may carry (ZTF's are 12 characters; Rubin's, decimal 64-bit ids, at most 20).
    /// The same limit as the web API's object ids.
    /// </summary>
    public const int MaxObjectIdLength = 256;

    /// <summary>Survey object id (ZTF <c>objectId</c>; Rubin <c>diaObjectId</c> as decimal text).</summary>
    public required string ObjectId { get; init; }

    /// <summary>
    /// Why a survey's object id cannot be used (it keys the stored light curve, the output message and the web view's
    /// object page): empty, longer than <see cref="MaxObjectIdLength"/>, or holding a control character or white space;
    /// null when it can.
    /// </summary>
    public static string? ObjectIdProblem(string objectId)
    {
        ArgumentNullException.ThrowIfNull(objectId);
        if (objectId.Length == 0)
        {
            return "the objectId is empty";
        }

        if (objectId.Length > MaxObjectIdLength)
        {
            return $"the objectId is {objectId.Length:N0} characters long (at most {MaxObjectIdLength})";
        }

        for (var i = 0; i < objectId.Length; i++)
        {
            var c = objectId[i];
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                return $"the objectId holds {(char.IsControl(c) ? "a control character" : "white space")} (U+{(int)c:X4}) at character {i + 1}";
            }
        }

        return null;
    }

    /// <summary>Id of the triggering source: ZTF <c>candid</c>, Rubin <c>diaSourceId</c>.</summary>
    public required long SourceId { get; init; }

    /// <summary>Rubin <c>alertId</c> when present, otherwise the source id.</summary>
    public long AlertId { get; init; }

    /// <summary>Time of the triggering detection, MJD.</summary>
    public required double Mjd { get; init; }

    /// <summary>Passband of the triggering detection.</summary>
    public required Passband Band { get; init; }

    /// <summary>Right ascension of the triggering detection, degrees.</summary>
    public double Ra { get; init; } = double.NaN;

    /// <summary>Declination of the triggering detection, degrees.</summary>
    public double Dec { get; init; } = double.NaN;

    /// <summary>The triggering detection (also the last element of <see cref="Detections"/> in time order for a live alert).</summary>
    public required Observation Candidate { get; init; }

    /// <summary>All detections in the alert (history and the trigger), deduplicated by source id, time-ordered.</summary>
    public required Observation[] Detections { get; init; }

    /// <summary>Non-detections (limits), time-ordered.</summary>
    public Observation[] UpperLimits { get; init; } = [];

    /// <summary>Forced photometry, time-ordered.</summary>
    public Observation[] ForcedPhotometry { get; init; } = [];

    /// <summary>Context for a classifier.</summary>
    public AlertMetadata Metadata { get; init; } = AlertMetadata.Empty;

    /// <summary>Number of observations of all kinds.</summary>
    public int ObservationCount => Detections.Length + UpperLimits.Length + ForcedPhotometry.Length;
}
