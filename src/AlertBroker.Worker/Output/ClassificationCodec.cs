using System.Buffers;
using System.Reflection;
using AlertBroker.Alerts;
using AlertBroker.Avro;

namespace AlertBroker.Worker.Output;

/// <summary>How classification messages are framed.</summary>
public enum OutputFraming
{
    /// <summary>Avro single-object encoding: decodable with the published schema alone, no registry needed.</summary>
    SingleObject,

    /// <summary>Confluent wire format with the schema id the registry assigned.</summary>
    ConfluentWire,
}

/// <summary>
/// Writes <see cref="Classification"/>s as Avro (schema <c>alertbroker.v1.Classification</c>, embedded from
/// schemas/classification/alertbroker-classification.avsc) and reads them back. Encoding writes the binary directly, no
/// generic records on the hot path.
/// </summary>
public sealed class ClassificationCodec
{
    private static readonly Lazy<string> s_schemaJson = new(LoadSchemaJson);
    private static readonly Lazy<AvroSchema> s_schema = new(() => AvroSchema.Parse(s_schemaJson.Value));
    private static readonly Lazy<GenericDatumReader> s_reader = new(() => new GenericDatumReader(s_schema.Value));
    private readonly OutputFraming _framing;
    private readonly int _schemaId;

    public ClassificationCodec(OutputFraming framing = OutputFraming.SingleObject, int schemaId = 0)
    {
        _framing = framing;
        _schemaId = schemaId;
    }

    /// <summary>The schema's JSON text.</summary>
    public static string SchemaJson => s_schemaJson.Value;

    public static AvroSchema Schema => s_schema.Value;

    public OutputFraming Framing => _framing;

    public byte[] Encode(Classification c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var buffer = new ArrayBufferWriter<byte>(256 + (c.Classes.Length * 24));
        Encode(c, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    public void Encode(Classification c, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (_framing == OutputFraming.ConfluentWire)
        {
            ConfluentWireFormat.WriteHeader(output, _schemaId);
        }
        else
        {
            SingleObjectEncoding.WriteHeader(output, Schema.Fingerprint);
        }

        var w = new AvroWriter(output);
        w.WriteString(c.ObjectId);
        w.WriteLong(c.SourceId);
        w.WriteLong(c.AlertId);
        w.WriteEnum(c.Survey switch { Survey.Ztf => 1, Survey.Lsst => 2, _ => 0 });
        w.WriteDouble(c.Mjd);
        w.WriteString(c.ModelName);
        w.WriteString(c.ModelVersion);
        WriteStrings(w, c.Classes);
        if (c.Probabilities.Length > 0)
        {
            w.WriteArrayStart(c.Probabilities.Length);
            foreach (var p in c.Probabilities)
            {
                w.WriteFloat(p);
            }
        }

        w.WriteBlockEnd();
        var top = c.TopClass;
        if (top is null)
        {
            w.WriteUnionIndex(0);
        }
        else
        {
            w.WriteUnionIndex(1);
            w.WriteString(top);
        }

        w.WriteFloat(c.TopProbability);
        w.WriteInt(c.ObservationCount);
        w.WriteInt(c.StepCount);
        w.WriteEnum((int)c.Scoring);
        if (c.AlertTimestampMs is { } ts)
        {
            w.WriteUnionIndex(1);
            w.WriteLong(ts);
        }
        else
        {
            w.WriteUnionIndex(0);
        }

        w.WriteLong(c.ReceivedTimestampMs);
        w.WriteLong(c.ClassifiedTimestampMs);
        if (c.Reason is { } reason)
        {
            w.WriteUnionIndex(1);
            w.WriteString(reason);
        }
        else
        {
            w.WriteUnionIndex(0);
        }
    }

    /// <summary>Reads a message this codec (or any writer of the schema) produced, in either framing.</summary>
    public static Classification Decode(ReadOnlyMemory<byte> message)
    {
        int position;
        if (SingleObjectEncoding.TryReadHeader(message.Span, out var fingerprint))
        {
            if (fingerprint != Schema.Fingerprint)
            {
                throw new AvroFormatException($"unknown classification schema fingerprint {fingerprint:x16}", 2);
            }

            position = SingleObjectEncoding.HeaderLength;
        }
        else if (ConfluentWireFormat.TryReadHeader(message.Span, out _))
        {
            position = ConfluentWireFormat.HeaderLength;
        }
        else
        {
            throw new AvroFormatException("not a classification message", 0);
        }

        var record = (GenericRecord)s_reader.Value.Read(message, ref position)!;
        var classes = ToArray<string>(record["classes"]);
        var probabilities = ToArray<float>(record["probabilities"]);
        return new Classification(
            (string)record["objectId"]!,
            (long)record["sourceId"]!,
            (long)record["alertId"]!,
            ((GenericEnum)record["survey"]!).Index switch { 1 => Survey.Ztf, 2 => Survey.Lsst, _ => Survey.Unknown },
            (double)record["mjd"]!,
            (string)record["modelName"]!,
            (string)record["modelVersion"]!,
            classes,
            probabilities,
            (int)record["observationCount"]!,
            (int)record["stepCount"]!,
            (ScoringPath)((GenericEnum)record["scoring"]!).Index,
            ToMillis(record["alertTimestamp"]),
            ToMillis(record["receivedTimestamp"]) ?? 0,
            ToMillis(record["classifiedTimestamp"]) ?? 0)
        {
            Reason = (string?)record["reason"],
        };
    }

    private static long? ToMillis(object? value) => value switch
    {
        null => null,
        long l => l,
        DateTimeOffset d => d.ToUnixTimeMilliseconds(),
        DateTime d => new DateTimeOffset(d, TimeSpan.Zero).ToUnixTimeMilliseconds(),
        _ => throw new AvroFormatException("unexpected timestamp value " + value.GetType().Name, 0),
    };

    private static T[] ToArray<T>(object? value)
    {
        if (value is T[] array)
        {
            return array;
        }

        var list = (System.Collections.IList)value!;
        var result = new T[list.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (T)list[i]!;
        }

        return result;
    }

    private static void WriteStrings(AvroWriter w, string[] values)
    {
        if (values.Length > 0)
        {
            w.WriteArrayStart(values.Length);
            foreach (var v in values)
            {
                w.WriteString(v);
            }
        }

        w.WriteBlockEnd();
    }

    private static string LoadSchemaJson()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("AlertBroker.Worker.classification.avsc")
            ?? throw new InvalidOperationException("embedded classification schema is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
