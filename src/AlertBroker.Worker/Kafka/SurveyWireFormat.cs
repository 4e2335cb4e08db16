using System.Buffers.Binary;
using System.Collections.Concurrent;
using AlertBroker.Avro;

namespace AlertBroker.Worker.Kafka;

/// <summary>
/// Turns archived alerts into the messages their survey publishes: ZTF's Kafka messages are Avro container files (passed
/// through as they are); Rubin's are Confluent wire format (0x00, a 4-byte schema id, one datum), so a Rubin container file
/// is split into one wire message per record. The schema id is the registry id Rubin's convention gives the schema version
/// (<c>lsst.v7_4</c> → 704), or a stable id from the schema fingerprint; <see cref="Schemas"/> collects the schemas so a
/// worker can resolve them (write them with <see cref="WriteSchemaDirectory"/> for <c>--schema-dir</c>).
/// </summary>
public sealed class SurveyWireFormat : ISchemaLookup
{
    private readonly ConcurrentDictionary<int, AvroSchema> _schemas = new();

    public IReadOnlyDictionary<int, AvroSchema> Schemas => _schemas;

    public ValueTask<AvroSchema> GetSchemaAsync(int schemaId, CancellationToken cancellationToken = default) =>
        _schemas.TryGetValue(schemaId, out var s)
            ? ValueTask.FromResult(s)
            : ValueTask.FromException<AvroSchema>(new AvroSchemaLookupException($"schema id {schemaId} is unknown"));

    /// <summary>The wire messages for one archived message (usually one).</summary>
    public IEnumerable<byte[]> ToWire(ReadOnlyMemory<byte> archived)
    {
        if (!AvroContainerReader.IsContainer(archived.Span))
        {
            yield return archived.ToArray();
            yield break;
        }

        AvroContainerReader reader;
        try
        {
            reader = AvroContainerReader.Open(archived);
        }
        catch (AvroException)
        {
            reader = null!;
        }

        if (reader is null || !IsRubin(reader.Header.Schema))
        {
            yield return archived.ToArray();
            yield break;
        }

        var schema = reader.Header.Schema;
        var id = SchemaId(schema);
        _schemas.TryAdd(id, schema);
        var datumReader = new GenericDatumReader(schema);
        while (reader.TryReadBlock(out var block))
        {
            var data = block.Data;
            var position = 0;
            for (long i = 0; i < block.Count; i++)
            {
                var start = position;
                datumReader.Read(data, ref position);
                var message = new byte[ConfluentWireFormat.HeaderLength + (position - start)];
                message[0] = 0;
                BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
                data.Span[start..position].CopyTo(message.AsSpan(ConfluentWireFormat.HeaderLength));
                yield return message;
            }
        }
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
