using AlertBroker.Alerts;

namespace AlertBroker.State;

/// <summary>Identifies one astronomical object: the survey and its object id.</summary>
public readonly record struct ObjectKey(Survey Survey, string ObjectId)
{
    /// <summary>The key's survey part as it appears in a Redis key: "ztf", "lsst".</summary>
    public string SurveyName => Survey switch
    {
        Survey.Ztf => "ztf",
        Survey.Lsst => "lsst",
        _ => "unknown",
    };

    /// <summary><c>{prefix}:{survey}:{objectId}</c>.</summary>
    public string ToStorageKey(string prefix) => string.Concat(prefix, ":", SurveyName, ":", ObjectId);

    public override string ToString() => string.Concat(SurveyName, ":", ObjectId);
}
