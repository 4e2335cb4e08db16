using AlertBroker.Alerts;

namespace AlertBroker.State;

/// <summary>
/// Everything the worker keeps about one object: its light curve (observations deduplicated by source id and kind,
/// ordered by time, source id, kind), the GRU hidden state after the last scored step together with the model it belongs
/// to, and the latest class probabilities. <see cref="Version"/> increases by one on every write; a store accepts a write
/// only when the stored version is the one the writer read (check-and-set), so concurrent writers cannot lose points.
/// </summary>
public sealed record ObjectState
{
    /// <summary>Stored version; 0 for an object that has never been written.</summary>
    public long Version { get; init; }

    /// <summary>When the record was last written (Unix milliseconds).</summary>
    public long UpdatedUnixMs { get; init; }

    /// <summary>The light curve, ordered by (MJD, source id, kind) and unique by (source id, kind).</summary>
    public Observation[] Observations { get; init; } = [];

    /// <summary>Identity of the model the hidden state belongs to (<c>name/version/sha256-prefix</c>); empty when never scored.</summary>
    public string ModelId { get; init; } = string.Empty;

    /// <summary>Number of feature steps the hidden state has consumed.</summary>
    public int ScoredSteps { get; init; }

    /// <summary>Time and source id of the last scored step, to detect an insertion before it (out-of-order data).</summary>
    public double LastStepMjd { get; init; } = double.NaN;

    /// <summary>Source id of the last scored step.</summary>
    public long LastStepSourceId { get; init; }

    /// <summary>t₀ of the feature encoding when the hidden state was computed.</summary>
    public double ReferenceMjd { get; init; } = double.NaN;

    /// <summary>GRU hidden state after the last scored step, [layers × hidden]; empty when never scored.</summary>
    public float[] HiddenState { get; init; } = [];

    /// <summary>Class probabilities after the last scored step, in the model's class order; empty when never scored.</summary>
    public float[] Probabilities { get; init; } = [];

    /// <summary>
    /// The shadow model's own incremental scoring state for this object (a candidate scored beside the active model), or
    /// null. Kept apart from the fields above so shadowing never disturbs the active model's state.
    /// </summary>
    public ScoreState? Shadow { get; init; }

    /// <summary>
    /// Time (MJD) of the object's newest alert as the worker saw it, or NaN when no alert recorded it (a state written
    /// before this field existed).
    /// </summary>
    public double NewestAlertMjd { get; init; } = double.NaN;

    /// <summary>
    /// Why the classification of the object's newest alert went out without probabilities (it was not a transient
    /// candidate: the rejection's message), or empty when it was published with them.
    /// </summary>
    public string NewestAlertWithheld { get; init; } = string.Empty;

    /// <summary>
    /// Set by a store when the stored record could not be decoded (damaged, or written by another program), never stored:
    /// this state is then empty at the record's version, and the next write replaces the record with what arrives.
    /// </summary>
    public bool Unreadable { get; init; }

    /// <summary>A state for an object the store does not know.</summary>
    public static ObjectState Empty { get; } = new();
}

/// <summary>
/// One model's incremental scoring state for an object: the model identity, how many steps it consumed, the last scored
/// step (to detect insertions before it), t₀, the GRU hidden state and the latest probabilities. Used for the shadow model
/// (<see cref="ObjectState.Shadow"/>); the active model's state is kept in <see cref="ObjectState"/>'s own fields.
/// </summary>
public sealed record ScoreState
{
    public string ModelId { get; init; } = string.Empty;

    public int ScoredSteps { get; init; }

    public double LastStepMjd { get; init; } = double.NaN;

    public long LastStepSourceId { get; init; }

    public double ReferenceMjd { get; init; } = double.NaN;

    public float[] HiddenState { get; init; } = [];

    public float[] Probabilities { get; init; } = [];
}
