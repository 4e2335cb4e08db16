using AlertBroker.Worker.Output;

namespace AlertBroker.Worker.Pipeline;

/// <summary>One input message: its bytes and where it came from.</summary>
/// <param name="Value">The message value (a ZTF container file, a Confluent-wire or single-object Avro datum).</param>
/// <param name="Topic">Source topic ("" when not from Kafka).</param>
/// <param name="Partition">Source partition (-1 when not from Kafka).</param>
/// <param name="Offset">Source offset (-1 when not from Kafka).</param>
/// <param name="TimestampUnixMs">The message's Kafka timestamp, when it has one.</param>
public readonly record struct InputMessage(ReadOnlyMemory<byte> Value, string Topic = "", int Partition = -1, long Offset = -1, long? TimestampUnixMs = null);

/// <summary>A message for the output topic, keyed by object id.</summary>
public sealed record OutputMessage(string Key, byte[] Value, Classification Classification)
{
    /// <summary>The input message the classified alert came in (each input message gets its own classifications).</summary>
    public InputMessage Source { get; init; }
}

/// <summary>A message that could not be decoded or normalised: it goes to the dead-letter topic with the error.</summary>
/// <param name="Message">The original message.</param>
/// <param name="Kind">Error kind (an <c>AlertErrorKind</c> name, or <c>Internal</c>).</param>
/// <param name="Error">The error text.</param>
public sealed record DeadLetter(InputMessage Message, string Kind, string Error);

/// <summary>Time spent in each stage of one batch.</summary>
public sealed record StageTimings(TimeSpan Decode, TimeSpan StateRead, TimeSpan Score, TimeSpan StateWrite, TimeSpan Encode, TimeSpan Total);

/// <summary>What one batch produced.</summary>
public sealed record BatchResult(
    int Messages,
    int Alerts,
    IReadOnlyList<OutputMessage> Outputs,
    IReadOnlyList<DeadLetter> DeadLetters,
    int ObjectsWritten,
    int ObservationsAdded,
    int CasRetries,
    StageTimings Timings)
{
    /// <summary>The shadow models' classifications (for the shadow topic), one per alert of a shadowed survey.</summary>
    public IReadOnlyList<OutputMessage> ShadowOutputs { get; init; } = [];

    /// <summary>Observations left out of stored light curves by the per-object limit (the oldest points of those objects).</summary>
    public int ObservationsDropped { get; init; }

    /// <summary>
    /// Objects whose stored record could not be read (<see cref="AlertBroker.State.ObjectState.Unreadable"/>): their light
    /// curves start again from this batch's alerts.
    /// </summary>
    public IReadOnlyList<AlertBroker.State.ObjectKey> UnreadableStates { get; init; } = [];

    /// <summary>
    /// Metadata sources that answered but could not serve this batch (a Redis hash key of another type, one the worker's user
    /// may not read), one line each naming the source and the key: their values were unknown, and the alerts of a model
    /// that requires one were classified with scoring NONE and the reason.
    /// </summary>
    public IReadOnlyList<string> MetadataProblems { get; init; } = [];
}
