using System.Runtime.CompilerServices;
using AlertBroker.Alerts.Decoding;
using AlertBroker.Avro;

namespace AlertBroker.Alerts;

/// <summary>How an alert message is framed.</summary>
public enum MessageFraming
{
    /// <summary>Not recognised.</summary>
    Unknown,

    /// <summary>An Avro object container file (ZTF's Kafka messages, archive files).</summary>
    Container,

    /// <summary>Confluent wire format: magic byte 0, a 4-byte big-endian schema id, one datum (Rubin's stream).</summary>
    ConfluentWire,

    /// <summary>Avro single-object encoding: C3 01, an 8-byte schema fingerprint, one datum.</summary>
    SingleObject,
}

/// <summary>Options for <see cref="AlertDecoder"/>.</summary>
public sealed record AlertDecoderOptions
{
    /// <summary>Limits applied to every length and count before anything is allocated.</summary>
    public AvroLimits Limits { get; init; } = AvroLimits.Default;

    /// <summary>Cache of parsed schemas, keyed by schema bytes and fingerprint.</summary>
    public AvroSchemaCache SchemaCache { get; init; } = AvroSchemaCache.Shared;

    /// <summary>Where Confluent-wire schema ids are resolved (a registry or a directory); null refuses wire messages.</summary>
    public ISchemaLookup? SchemaLookup { get; init; }

    /// <summary>Value checks and the per-alert observation limit (<see cref="AlertValidation.Default"/>; <see cref="AlertValidation.None"/> turns them off).</summary>
    public AlertValidation Validation { get; init; } = AlertValidation.Default;
}

/// <summary>
/// Decodes raw alert messages (container files, Confluent wire, single-object) into <see cref="Alert"/>s.
/// Thread-safe. Each distinct writer schema is parsed and compiled once; after that a message costs one
/// pass over its bytes, with cutouts skipped rather than copied.
/// </summary>
public sealed class AlertDecoder
{
    [ThreadStatic]
    private static AlertBuilder? s_threadBuilder;

    private readonly AlertDecoderOptions _options;
    private readonly ConditionalWeakTable<AvroSchema, AlertPlan> _plans = [];

    public AlertDecoder(AlertDecoderOptions? options = null)
    {
        _options = options ?? new AlertDecoderOptions();
    }

    /// <summary>The options in force.</summary>
    public AlertDecoderOptions Options => _options;

    /// <summary>Recognises the framing of a message from its first bytes.</summary>
    public static MessageFraming DetectFraming(ReadOnlySpan<byte> message)
    {
        if (AvroContainerReader.IsContainer(message))
        {
            return MessageFraming.Container;
        }

        if (message.Length >= SingleObjectEncoding.HeaderLength && message[0] == 0xC3 && message[1] == 0x01)
        {
            return MessageFraming.SingleObject;
        }

        return message.Length > ConfluentWireFormat.HeaderLength && message[0] == 0 ? MessageFraming.ConfluentWire : MessageFraming.Unknown;
    }

    /// <summary>
    /// Decodes every alert in <paramref name="message"/> into <paramref name="output"/> and returns how many
    /// were added. Alerts decoded before a failure stay in <paramref name="output"/>.
    /// </summary>
    /// <exception cref="AlertFormatException">the message is not a decodable alert.</exception>
    public int Decode(ReadOnlyMemory<byte> message, ICollection<Alert> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var framing = DetectFraming(message.Span);
        if (framing == MessageFraming.ConfluentWire)
        {
            var task = DecodeAsync(message, output, CancellationToken.None);
            return task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
        }

        return DecodeSync(message, framing, output);
    }

    /// <summary>Decodes a message that must hold exactly one alert (a Kafka message).</summary>
    public Alert DecodeSingle(ReadOnlyMemory<byte> message)
    {
        var list = new List<Alert>(1);
        Decode(message, list);
        return list.Count == 1
            ? list[0]
            : throw new AlertFormatException(AlertErrorKind.InvalidValue, $"expected one alert in the message, found {list.Count}");
    }

    /// <summary>As <see cref="Decode"/>, resolving Confluent schema ids through the configured lookup.</summary>
    public async ValueTask<int> DecodeAsync(ReadOnlyMemory<byte> message, ICollection<Alert> output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var framing = DetectFraming(message.Span);
        if (framing != MessageFraming.ConfluentWire)
        {
            return DecodeSync(message, framing, output);
        }

        ConfluentWireFormat.TryReadHeader(message.Span, out var schemaId);
        var lookup = _options.SchemaLookup ?? throw new AlertFormatException(
            AlertErrorKind.SchemaNotFound,
            $"Confluent wire message with schema id {schemaId}, but no schema registry or schema directory is configured");
        AvroSchema schema;
        try
        {
            schema = await lookup.GetSchemaAsync(schemaId, cancellationToken).ConfigureAwait(false);
        }
        catch (AvroException e)
        {
            throw new AlertFormatException(AlertErrorKind.SchemaNotFound, $"schema id {schemaId}: {e.Message}", -1, e);
        }

        output.Add(DecodeDatum(message, ConfluentWireFormat.HeaderLength, schema));
        return 1;
    }

    private int DecodeSync(ReadOnlyMemory<byte> message, MessageFraming framing, ICollection<Alert> output)
    {
        switch (framing)
        {
            case MessageFraming.Container:
                return DecodeContainer(message, output);
            case MessageFraming.SingleObject:
                SingleObjectEncoding.TryReadHeader(message.Span, out var fingerprint);
                if (!_options.SchemaCache.TryGetByFingerprint(fingerprint, out var schema))
                {
                    throw new AlertFormatException(AlertErrorKind.SchemaNotFound, $"single-object message with unknown schema fingerprint {fingerprint:x16}");
                }

                output.Add(DecodeDatum(message, SingleObjectEncoding.HeaderLength, schema));
                return 1;
            default:
                throw new AlertFormatException(
                    AlertErrorKind.NotAvro,
                    message.Length == 0 ? "empty message"
                    : message.Span.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x8b]) ? "gzip-compressed data, not an Avro message (read as a nightly archive when its name ends in .tar.gz or .tgz, as one alert when it ends in .avro.gz)"
                    : $"not an Avro container, Confluent wire or single-object message (first byte 0x{message.Span[0]:x2})");
        }
    }

    private int DecodeContainer(ReadOnlyMemory<byte> message, ICollection<Alert> output)
    {
        var added = 0;
        try
        {
            var container = AvroContainerReader.Open(message, _options.SchemaCache, _options.Limits);
            var plan = GetPlan(container.Header.Schema);
            var builder = s_threadBuilder ??= new AlertBuilder();
            while (container.TryReadBlock(out var block))
            {
                var reader = new AvroReader(block.Data.Span, _options.Limits, block.Offset);
                for (long i = 0; i < block.Count; i++)
                {
                    builder.Validation = _options.Validation;
                    PlanReader.ReadAlert(ref reader, plan, builder);
                    output.Add(builder.Build(plan));
                    added++;
                }

                if (!reader.IsAtEnd)
                {
                    throw new AlertFormatException(AlertErrorKind.CorruptAvro, $"{reader.Remaining} unread bytes at the end of a block of {block.Count} records", reader.Offset);
                }
            }
        }
        catch (AvroLimitExceededException e)
        {
            throw new AlertFormatException(AlertErrorKind.TooLarge, e.Message, -1, e);
        }
        catch (AvroFormatException e)
        {
            throw new AlertFormatException(AlertErrorKind.CorruptAvro, e.Message, -1, e);
        }
        catch (AvroException e)
        {
            throw new AlertFormatException(AlertErrorKind.CorruptAvro, "invalid embedded schema: " + e.Message, -1, e);
        }

        return added;
    }

    private Alert DecodeDatum(ReadOnlyMemory<byte> message, int offset, AvroSchema schema)
    {
        try
        {
            var plan = GetPlan(schema);
            var builder = s_threadBuilder ??= new AlertBuilder();
            var reader = new AvroReader(message.Span[offset..], _options.Limits, offset);
            builder.Validation = _options.Validation;
            PlanReader.ReadAlert(ref reader, plan, builder);

            // One datum per message, as in a container's block: bytes left over (two messages run together, a datum written
            // with another schema than its id names) were dropped without a word, the second alert lost.
            if (!reader.IsAtEnd)
            {
                throw new AlertFormatException(AlertErrorKind.CorruptAvro, $"{reader.Remaining} unread bytes after the alert: a message holds one (two run together, or a datum written with another schema than its header names?)", reader.Offset);
            }

            return builder.Build(plan);
        }
        catch (AvroLimitExceededException e)
        {
            // Over a limit is TooLarge here too, as in a container (it was CorruptAvro).
            throw new AlertFormatException(AlertErrorKind.TooLarge, e.Message, -1, e);
        }
        catch (AvroFormatException e)
        {
            throw new AlertFormatException(AlertErrorKind.CorruptAvro, e.Message, -1, e);
        }
    }

    internal AlertPlan GetPlan(AvroSchema writerSchema)
    {
        if (_plans.TryGetValue(writerSchema, out var plan))
        {
            return plan;
        }

        plan = PlanCompiler.Compile(writerSchema);
        return _plans.GetValue(writerSchema, _ => plan);
    }
}
