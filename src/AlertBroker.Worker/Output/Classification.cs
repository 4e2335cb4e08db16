using AlertBroker.Alerts;

namespace AlertBroker.Worker.Output;

/// <summary>How a classification's probabilities were obtained.</summary>
public enum ScoringPath
{
    /// <summary>No usable light-curve step yet: no probabilities.</summary>
    None = 0,

    /// <summary>Nothing new: the stored probabilities.</summary>
    Cached = 1,

    /// <summary>Only the new steps were run, from the stored hidden state.</summary>
    Incremental = 2,

    /// <summary>The whole light curve was re-run (new object, out-of-order data, another model, missing state).</summary>
    Full = 3,

    /// <summary>A re-delivered earlier alert: the light curve was re-run up to that alert's time.</summary>
    Prefix = 4,
}

/// <summary>One alert's classification, as published (schemas/classification/alertbroker-classification.avsc).</summary>
public sealed record Classification(
    string ObjectId,
    long SourceId,
    long AlertId,
    Survey Survey,
    double Mjd,
    string ModelName,
    string ModelVersion,
    string[] Classes,
    float[] Probabilities,
    int ObservationCount,
    int StepCount,
    ScoringPath Scoring,
    long? AlertTimestampMs,
    long ReceivedTimestampMs,
    long ClassifiedTimestampMs)
{
    /// <summary>Why there are no probabilities when that is not simply "no usable observation yet" (e.g. no model serves the survey); null otherwise.</summary>
    public string? Reason { get; init; }

    /// <summary>Why the alert is not a transient candidate, when that is why there are no probabilities (in process only: the published record carries <see cref="Reason"/>).</summary>
    public CandidateRejectionKind? Rejection { get; init; }

    /// <summary>Index of the most probable class, -1 when there are no probabilities.</summary>
    public int TopIndex
    {
        get
        {
            var best = -1;
            for (var i = 0; i < Probabilities.Length; i++)
            {
                if (best < 0 || Probabilities[i] > Probabilities[best])
                {
                    best = i;
                }
            }

            return best;
        }
    }

    public string? TopClass => TopIndex >= 0 && TopIndex < Classes.Length ? Classes[TopIndex] : null;

    public float TopProbability => TopIndex >= 0 ? Probabilities[TopIndex] : 0f;
}
