namespace AlertBroker.Alerts.Archives;

/// <summary>
/// One raw message read from a file, directory or archive, or the error that stopped a source from being
/// read. <see cref="Payload"/> is only valid until the enumeration moves on: copy it to keep it.
/// </summary>
/// <param name="Source">Where it came from: a path, or "archive.tar.gz!entry.avro".</param>
/// <param name="Payload">The message bytes (an Avro container file, or a Confluent/single-object message).</param>
/// <param name="Error">Set when the source could not be read; the payload is then empty. Its message does not repeat <paramref name="Source"/>: whoever reports it names the source.</param>
public readonly record struct AlertInput(string Source, ReadOnlyMemory<byte> Payload, AlertFormatException? Error = null);
