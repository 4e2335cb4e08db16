using System.Buffers.Binary;
using System.Collections.Concurrent;
using AlertBroker.Avro;

namespace AlertBroker.Worker.Kafka;

/// <summary>
/// Turns archived alerts into the messages their survey publishes: ZTF's Kafka messages are Avro container files of one
/// alert each (passed through as they are; a container of several alerts is split into one per alert); Rubin's are Confluent wire format (0x00, a 4-byte schema id, one datum), so a Rubin container file
/// is split into one wire message per record. The schema id is the registry id Rubin's convention gives the schema version
/// (<c>lsst.v7_4</c> → 704), or a stable id from the schema fingerprint; <see cref="Schemas"/> collects the schemas so a
/// worker can resolve them (write them with <see cref="WriteSchemaDirectory"/> for <c>--schema-dir</c>).
/// </summary>
public sealed class SurveyWireFormat : ISchemaLookup
{
    private readonly ConcurrentDictionary<int, AvroSchema> _schemas = new();

    public IReadOnlyDictionary<int, AvroSchema> Schemas => _schemas;

    /// <summary>
    /// Where the schemas of inputs that are already Confluent-wire messages (archived from a topic) are found: the ids
    /// this instance gave are its own, every other id is asked of this (<c>--schema-dir</c>, <c>--schema-registry</c>).
    /// </summary>
    public ISchemaLookup? Fallback { get; init; }

    public ValueTask<AvroSchema> GetSchemaAsync(int schemaId, CancellationToken cancellationToken = default) =>
        _schemas.TryGetValue(schemaId, out var s)
            ? ValueTask.FromResult(s)
            : Fallback is { } fallback
                ? fallback.GetSchemaAsync(schemaId, cancellationToken)
                : ValueTask.FromException<AvroSchema>(new AvroSchemaLookupException($"schema id {schemaId} is unknown"));

    /// <summary>
    /// The wire messages for one archived message (usually one). A container that cannot be split (corrupt) is returned
    /// whole, as it was archived: what the worker makes of it (a dead letter) is part of what a replay exercises.
    /// </summary>
    public IEnumerable<byte[]> ToWire(ReadOnlyMemory<byte> archived)
    {
        if (!AvroContainerReader.IsContainer(archived.Span))
        {
            return [archived.ToArray()];
        }

        try
        {
            var reader = AvroContainerReader.Open(archived);
            return IsRubin(reader.Header.Schema) ? ToConfluentWire(reader) : ToSingleAlertContainers(reader, archived);
        }
        catch (AvroException)
        {
            return [archived.ToArray()];
        }
    }

    // Rubin: one Confluent-wire message per record. The records are found (and so checked) first; the messages are
    // made one at a time as they are taken, so a large archive is not held twice.
    private IEnumerable<byte[]> ToConfluentWire(AvroContainerReader reader)
    {
        var schema = reader.Header.Schema;
        var id = SchemaId(schema);
        var records = Records(Blocks(reader, out _), schema);
        _schemas.TryAdd(id, schema);
        return Messages(records, id);

        static IEnumerable<byte[]> Messages(List<ReadOnlyMemory<byte>> records, int id)
        {
            foreach (var record in records)
            {
                var message = new byte[ConfluentWireFormat.HeaderLength + record.Length];
                message[0] = 0;
                BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
                record.Span.CopyTo(message.AsSpan(ConfluentWireFormat.HeaderLength));
                yield return message;
            }
        }
    }

    // ZTF publishes one container file per alert: a container of one record passes through byte for byte; one of several
    // (simulate alerts --format avro, a night concatenated into one file) becomes one container per record, with the same
    // schema and metadata (uncompressed). Sent whole it was one message of every alert, over a broker's message.max.bytes.
    // As for Rubin, the records are found first and each container written as it is taken.
    private static IEnumerable<byte[]> ToSingleAlertContainers(AvroContainerReader reader, ReadOnlyMemory<byte> archived)
    {
        var blocks = Blocks(reader, out var count);

        // The usual case, one alert: passed through without decoding its record.
        if (count <= 1)
        {
            return [archived.ToArray()];
        }

        var records = Records(blocks, reader.Header.Schema);

        var metadata = reader.Header.Metadata
            .Where(m => m.Key is not ("avro.schema" or "avro.codec"))
            .ToDictionary(m => m.Key, m => m.Value.ToArray(), StringComparer.Ordinal);
        return Containers(records, reader.Header.Schema, metadata);

        static IEnumerable<byte[]> Containers(List<ReadOnlyMemory<byte>> records, AvroSchema schema, Dictionary<string, byte[]> metadata)
        {
            using var buffer = new MemoryStream();
            foreach (var record in records)
            {
                buffer.SetLength(0);
                using (var writer = new AvroContainerWriter(buffer, schema, metadata: metadata, leaveOpen: true))
                {
                    writer.WriteEncoded(record.Span);
                }

                yield return buffer.ToArray();
            }
        }
    }

    // Every block of the container (checked against its sync marker) and how many records they hold.
    private static List<AvroBlock> Blocks(AvroContainerReader reader, out long records)
    {
        var blocks = new List<AvroBlock>();
        records = 0;
        while (reader.TryReadBlock(out var block))
        {
            blocks.Add(block);
            records += block.Count;
        }

        return blocks;
    }

    // Each record's encoded bytes, its end found by decoding it (Avro records carry no length).
    private static List<ReadOnlyMemory<byte>> Records(List<AvroBlock> blocks, AvroSchema schema)
    {
        var records = new List<ReadOnlyMemory<byte>>();
        var datumReader = new GenericDatumReader(schema);
        foreach (var block in blocks)
        {
            var data = block.Data;
            var position = 0;
            for (long i = 0; i < block.Count; i++)
            {
                var start = position;
                datumReader.Read(data, ref position);
                records.Add(data[start..position]);
            }
        }

        return records;
    }

    /// <summary>Writes <c>&lt;id&gt;.avsc</c> for every schema seen.</summary>
    public void WriteSchemaDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var (id, schema) in _schemas)
        {
            File.WriteAllText(Path.Combine(directory, id.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".avsc"), schema.ToJson());
        }
    }

    // By namespace (lsst.v7_4), or by structure for re-written schemas (Spark's "topLevelRecord"): a root with diaSource.
    private static bool IsRubin(AvroSchema schema) =>
        schema is RecordSchema record
        && ((record.Namespace?.StartsWith("lsst", StringComparison.Ordinal) ?? false) || record.GetField("diaSource") is not null);

    private static int SchemaId(AvroSchema schema)
    {
        // lsst.v7_4 → 704, as Rubin's registry numbers its alert schemas.
        if (schema is NamedSchema { Namespace: { } ns } && ns.StartsWith("lsst.v", StringComparison.Ordinal))
        {
            var parts = ns["lsst.v".Length..].Split('_');
            if (parts.Length == 2 && int.TryParse(parts[0], out var major) && int.TryParse(parts[1], out var minor))
            {
                return (major * 100) + minor;
            }
        }

        return (int)(schema.Fingerprint & 0x3fffffff) | 0x10000;
    }
}
