using System.Collections.Concurrent;
using System.Text;

namespace AlertBroker.Avro;

/// <summary>
/// Named types known across several schema files, so one file can reference types defined in another
/// (e.g. ZTF's <c>ztf.alert.candidate</c>). Reads are thread-safe; adds are serialized.
/// </summary>
public sealed class AvroSchemaSet
{
    private readonly ConcurrentDictionary<string, NamedSchema> _byName = new(StringComparer.Ordinal);
    private readonly List<NamedSchema> _order = [];
    private readonly Lock _gate = new();

    /// <summary>Every named type in the set, in the order they were defined.</summary>
    public IEnumerable<NamedSchema> Schemas
    {
        get
        {
            lock (_gate)
            {
                return [.. _order];
            }
        }
    }

    /// <summary>Number of named types.</summary>
    public int Count => _byName.Count;

    /// <summary>The named type with that full name.</summary>
    public NamedSchema this[string fullName] =>
        _byName.TryGetValue(fullName, out var s) ? s : throw new KeyNotFoundException($"no named type '{fullName}' in the set");

    /// <summary>Finds a named type by full name.</summary>
    public bool TryGet(string fullName, out NamedSchema schema) => _byName.TryGetValue(fullName, out schema!);

    /// <summary>Parses a schema that may reference types already in the set, and adds the named types it defines.</summary>
    public AvroSchema Add(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Add(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Parses UTF-8 schema JSON that may reference types already in the set, and adds the named types it defines.</summary>
    public AvroSchema Add(ReadOnlySpan<byte> utf8Json)
    {
        lock (_gate)
        {
            var schema = SchemaParser.Parse(utf8Json, this, out var defined);
            foreach (var named in defined)
            {
                _byName[named.FullName] = named;
                _order.Add(named);
            }

            return schema;
        }
    }

    /// <summary>
    /// Loads every <c>*.avsc</c> file of a directory, in any order: files referencing types from files not yet
    /// loaded are retried until everything resolves.
    /// </summary>
    public static AvroSchemaSet LoadDirectory(string directory) => LoadFiles(Directory.GetFiles(directory, "*.avsc"));

    internal static AvroSchemaSet LoadFiles(IEnumerable<string> files)
    {
        var set = new AvroSchemaSet();
        var pending = new List<(string Path, byte[] Json)>();
        foreach (var path in files.Order(StringComparer.Ordinal))
        {
            pending.Add((path, File.ReadAllBytes(path)));
        }

        while (pending.Count > 0)
        {
            var failures = new List<(string Path, byte[] Json, AvroSchemaException Error)>();
            foreach (var (path, json) in pending)
            {
                try
                {
                    set.Add(json);
                }
                catch (AvroSchemaException ex) when (ex.Message.Contains("unknown type name", StringComparison.Ordinal))
                {
                    failures.Add((path, json, ex));
                }
                catch (AvroSchemaException ex)
                {
                    throw new AvroSchemaException($"{Path.GetFileName(path)}: {ex.Message}", ex);
                }
            }

            if (failures.Count == pending.Count)
            {
                var first = failures[0];
                throw new AvroSchemaException($"{Path.GetFileName(first.Path)}: {first.Error.Message}", first.Error);
            }

            pending = failures.ConvertAll(f => (f.Path, f.Json));
        }

        return set;
    }
}
