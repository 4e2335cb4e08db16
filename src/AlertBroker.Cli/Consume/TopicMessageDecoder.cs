using System.Globalization;
using System.Text;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using Confluent.Kafka;

namespace AlertBroker.Cli.Consume;

/// <summary>What a message on one of the worker's topics is.</summary>
internal enum TopicMessageType
{
    Classification,
    DeadLetter,
    Alert,
    Unknown,
}

/// <summary>Where a classification's or dead letter's input message was (from its headers).</summary>
internal readonly record struct SourcePosition(string Topic, int Partition, long Offset)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Topic}[{Partition}]@{Offset}");
}

/// <summary>A dead letter's headers: the error, and when the payload was over the limit, the reference to the original.</summary>
internal sealed record DeadLetterInfo(string Kind, string Error, int PayloadBytes, long? OriginalBytes, string? Sha256, long? KeptBytes)
{
    public bool Truncated => OriginalBytes is not null;
}

/// <summary>The essentials of an alert message.</summary>
internal sealed record AlertSummary(Survey Survey, string SchemaVersion, string ObjectId, long SourceId, double Mjd, Passband Band, int Detections, int UpperLimits, int Forced);

/// <summary>One consumed message, decoded.</summary>
internal sealed record TopicMessage(string Topic, int Partition, long Offset, long? TimestampMs, string? Key, TopicMessageType Type)
{
    public Classification? Classification { get; init; }

    public DeadLetterInfo? DeadLetter { get; init; }

    public AlertSummary? Alert { get; init; }

    public SourcePosition? Source { get; init; }

    /// <summary>Why an alert or other message could not be decoded.</summary>
    public string? Error { get; init; }

    /// <summary>The message's value as read (for a dead letter: the input message's payload, or its first bytes when cut).</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    public string Position => string.Create(CultureInfo.InvariantCulture, $"{Topic}[{Partition}]@{Offset}");
}

/// <summary>
/// Decodes messages of the worker's topics: classifications (single-object framing with the published schema's
/// fingerprint, or Confluent wire with the registry's id), dead letters (recognised by their
/// <c>alertbroker.error.kind</c> header; a payload over the limit shows its reference) and alerts (ZTF containers,
/// Confluent wire through the registry or a schema directory, single-object).
/// </summary>
internal sealed class TopicMessageDecoder(AlertDecoder alerts)
{
    private const string ClassificationName = "alertbroker.v1.Classification";

    public async Task<TopicMessage> DecodeAsync(ConsumeResult<byte[]?, byte[]> result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        var m = result.Message;
        var value = m.Value ?? [];
        var header = new TopicMessage(
            result.Topic,
            result.Partition.Value,
            result.Offset.Value,
            m.Timestamp.Type == TimestampType.NotAvailable ? null : m.Timestamp.UnixTimestampMs,
            m.Key is null ? null : Encoding.UTF8.GetString(m.Key),
            TopicMessageType.Unknown)
        {
            Source = Source(m.Headers),
            Payload = value,
        };

        if (Text(m.Headers, "alertbroker.error.kind") is { } kind)
        {
            return header with
            {
                Type = TopicMessageType.DeadLetter,
                DeadLetter = new DeadLetterInfo(
                    kind,
                    Text(m.Headers, "alertbroker.error.message") ?? string.Empty,
                    value.Length,
                    Number(m.Headers, KafkaAlertWorker.PayloadSizeHeader),
                    Text(m.Headers, KafkaAlertWorker.PayloadSha256Header),
                    Number(m.Headers, KafkaAlertWorker.PayloadKeptHeader)),
            };
        }

        if (SingleObjectEncoding.TryReadHeader(value, out var fingerprint) && fingerprint == ClassificationCodec.Schema.Fingerprint)
        {
            return Classified(header, value);
        }

        if (ConfluentWireFormat.TryReadHeader(value, out var id) && value.Length > ConfluentWireFormat.HeaderLength)
        {
            if (alerts.Options.SchemaLookup is { } lookup)
            {
                AvroSchema schema;
                try
                {
                    schema = await lookup.GetSchemaAsync(id, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is AvroException or SchemaLookupUnavailableException)
                {
                    return header with { Error = $"schema id {id}: {e.Message}" };
                }

                if (schema is NamedSchema { FullName: ClassificationName })
                {
                    return Classified(header, value);
                }
            }
            else
            {
                // No registry to ask: a classification if it reads as one.
                var attempt = Classified(header, value);
                if (attempt.Type == TopicMessageType.Classification && attempt.Classification!.Survey != Survey.Unknown)
                {
                    return attempt;
                }
            }
        }

        try
        {
            var list = new List<Alert>(1);
            await alerts.DecodeAsync(value, list, cancellationToken).ConfigureAwait(false);
            if (list.Count == 0)
            {
                return header with { Error = "no alert in the message" };
            }

            var a = list[0];
            return header with
            {
                Type = TopicMessageType.Alert,
                Alert = new AlertSummary(a.Survey, a.SchemaVersion, a.ObjectId, a.SourceId, a.Mjd, a.Band, a.Detections.Length, a.UpperLimits.Length, a.ForcedPhotometry.Length),
            };
        }
        catch (AlertFormatException e)
        {
            return header with { Error = e.Kind + ": " + e.Message };
        }
        catch (SchemaLookupUnavailableException e)
        {
            return header with { Error = e.Message };
        }
    }

    /// <summary>One line for a person.</summary>
    public static string Describe(TopicMessage m)
    {
        var s = new StringBuilder(m.Position);
        if (m.Key is not null)
        {
            s.Append(" key=").Append(m.Key);
        }

        switch (m.Type)
        {
            case TopicMessageType.Classification:
                var c = m.Classification!;
                s.Append(CultureInfo.InvariantCulture, $" classification {c.ObjectId} source {c.SourceId} MJD {c.Mjd:F5} ");
                s.Append(c.TopClass is null ? c.Reason ?? "no probabilities yet" : string.Create(CultureInfo.InvariantCulture, $"{c.TopClass} {c.TopProbability:F3}"));
                s.Append(CultureInfo.InvariantCulture, $" ({c.ObservationCount} observations, {c.StepCount} steps, {c.Scoring.ToString().ToUpperInvariant()}, {c.ModelName}@{c.ModelVersion})");
                break;
            case TopicMessageType.DeadLetter:
                var d = m.DeadLetter!;
                s.Append(" dead letter ").Append(d.Kind).Append(": ").Append(d.Error);
                if (d.Truncated)
                {
                    s.Append(CultureInfo.InvariantCulture, $" [payload {d.OriginalBytes} bytes, SHA-256 {d.Sha256}, first {d.KeptBytes} bytes kept]");
                }
                else
                {
                    s.Append(CultureInfo.InvariantCulture, $" [payload {d.PayloadBytes} bytes]");
                }

                break;
            case TopicMessageType.Alert:
                var a = m.Alert!;
                s.Append(CultureInfo.InvariantCulture, $" alert {a.SchemaVersion} {a.ObjectId} source {a.SourceId} MJD {a.Mjd:F5} {Passbands.Letter(a.Band)}: {a.Detections} detections, {a.UpperLimits} limits, {a.Forced} forced");
                break;
            default:
                s.Append(" undecodable: ").Append(m.Error);
                break;
        }

        if (m.Source is { } source)
        {
            s.Append(" (from ").Append(source).Append(')');
        }

        return s.ToString();
    }

    /// <summary>One JSON object (a line of <c>--jsonl</c>).</summary>
    public static void WriteJson(Utf8JsonWriter json, TopicMessage m)
    {
        json.WriteStartObject();
        json.WriteString("topic", m.Topic);
        json.WriteNumber("partition", m.Partition);
        json.WriteNumber("offset", m.Offset);
        if (m.TimestampMs is { } ts)
        {
            json.WriteNumber("timestampMs", ts);
        }

        json.WriteString("key", m.Key);
        json.WriteString("type", m.Type switch
        {
            TopicMessageType.Classification => "classification",
            TopicMessageType.DeadLetter => "dead_letter",
            TopicMessageType.Alert => "alert",
            _ => "unknown",
        });
        if (m.Source is { } source)
        {
            json.WriteStartObject("source");
            json.WriteString("topic", source.Topic);
            json.WriteNumber("partition", source.Partition);
            json.WriteNumber("offset", source.Offset);
            json.WriteEndObject();
        }

        if (m.Classification is { } c)
        {
            json.WriteString("objectId", c.ObjectId);
            json.WriteNumber("sourceId", c.SourceId);
            json.WriteNumber("alertId", c.AlertId);
            json.WriteString("survey", c.Survey.ToString().ToLowerInvariant());
            json.WriteNumber("mjd", c.Mjd);
            json.WriteString("model", c.ModelName);
            json.WriteString("modelVersion", c.ModelVersion);
            json.WriteString("topClass", c.TopClass);
            if (c.TopClass is null)
            {
                json.WriteNull("topProbability");
            }
            else
            {
                json.WriteNumber("topProbability", c.TopProbability);
            }

            json.WriteStartObject("probabilities");
            for (var i = 0; i < c.Classes.Length && i < c.Probabilities.Length; i++)
            {
                json.WriteNumber(c.Classes[i], c.Probabilities[i]);
            }

            json.WriteEndObject();
            json.WriteNumber("observationCount", c.ObservationCount);
            json.WriteNumber("stepCount", c.StepCount);
            json.WriteString("scoring", c.Scoring.ToString().ToUpperInvariant());
            if (c.Reason is { } reason)
            {
                json.WriteString("reason", reason);
            }
            if (c.AlertTimestampMs is { } alertTs)
            {
                json.WriteNumber("alertTimestampMs", alertTs);
            }

            json.WriteNumber("receivedTimestampMs", c.ReceivedTimestampMs);
            json.WriteNumber("classifiedTimestampMs", c.ClassifiedTimestampMs);
        }

        if (m.DeadLetter is { } d)
        {
            json.WriteString("kind", d.Kind);
            json.WriteString("error", d.Error);
            json.WriteNumber("payloadBytes", d.PayloadBytes);
            json.WriteBoolean("truncated", d.Truncated);
            if (d.Truncated)
            {
                json.WriteNumber("originalBytes", d.OriginalBytes!.Value);
                json.WriteString("sha256", d.Sha256);
                json.WriteNumber("keptBytes", d.KeptBytes ?? d.PayloadBytes);
            }
        }

        if (m.Alert is { } a)
        {
            json.WriteString("survey", a.Survey.ToString().ToLowerInvariant());
            json.WriteString("schema", a.SchemaVersion);
            json.WriteString("objectId", a.ObjectId);
            json.WriteNumber("sourceId", a.SourceId);
            json.WriteNumber("mjd", a.Mjd);
            json.WriteString("band", Passbands.Letter(a.Band));
            json.WriteNumber("detections", a.Detections);
            json.WriteNumber("upperLimits", a.UpperLimits);
            json.WriteNumber("forced", a.Forced);
        }

        if (m.Error is { } error)
        {
            json.WriteString("error", error);
        }

        json.WriteEndObject();
    }

    private static TopicMessage Classified(TopicMessage header, byte[] value)
    {
        try
        {
            return header with { Type = TopicMessageType.Classification, Classification = ClassificationCodec.Decode(value) };
        }
        catch (Exception e) when (e is AvroException or InvalidCastException or NullReferenceException or IndexOutOfRangeException or ArgumentException)
        {
            return header with { Error = "not a readable classification: " + e.Message };
        }
    }

    private static SourcePosition? Source(Headers? headers) =>
        Text(headers, KafkaAlertWorker.SourceTopicHeader) is { } topic
        && Number(headers, KafkaAlertWorker.SourcePartitionHeader) is { } partition
        && Number(headers, KafkaAlertWorker.SourceOffsetHeader) is { } offset
            ? new SourcePosition(topic, (int)partition, offset)
            : null;

    private static string? Text(Headers? headers, string name) =>
        headers is not null && headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private static long? Number(Headers? headers, string name) =>
        Text(headers, name) is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
}
