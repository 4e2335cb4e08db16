using System.Collections.Concurrent;
using System.Globalization;

namespace AlertBroker.Avro;

/// <summary>
/// Resolves schema ids from a directory: id N is the file <c>N.avsc</c> or <c>N-anything.avsc</c>; the other
/// <c>.avsc</c> files provide named types those schemas may reference. Schemas found are kept. An id with no file (or
/// an invalid one) is remembered as refused for <see cref="MissTtl"/>, so a stream of messages with an unknown id costs
/// the file system about one look per id per that time rather than one per message, and a file added later is found
/// within it. The shared-types files are read again when a new id is loaded and they have changed (added, removed,
/// rewritten) since they were last read, so a new schema version that brings a new shared type needs no restart; the
/// schemas already loaded keep the types they were parsed with.
/// </summary>
public sealed class DirectorySchemaLookup : ISchemaLookup
{
    private readonly string _directory;
    private readonly ConcurrentDictionary<int, Lazy<AvroSchema>> _cache = new();
    private readonly SchemaRefusals _missed;
    private readonly Lock _sharedTypesLock = new();
    private (AvroSchemaSet Set, string Files)? _sharedTypes;

    public DirectorySchemaLookup(string directory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = directory;
        _missed = new SchemaRefusals(time);
    }

    /// <summary>How long an id without a (valid) schema file is remembered as refused (default 5 s; zero: not at all).</summary>
    public TimeSpan MissTtl { get; init; } = DefaultMissTtl;

    /// <summary>The default <see cref="MissTtl"/>.</summary>
    public static readonly TimeSpan DefaultMissTtl = TimeSpan.FromSeconds(5);

    internal int RememberedMisses => _missed.Count;

    public string Directory => _directory;

    public ValueTask<AvroSchema> GetSchemaAsync(int schemaId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_missed.TryGet(schemaId, out var missed))
        {
            throw missed;
        }

        var lazy = _cache.GetOrAdd(schemaId, static (id, self) => new Lazy<AvroSchema>(() => self.Load(id), LazyThreadSafetyMode.ExecutionAndPublication), this);
        try
        {
            return ValueTask.FromResult(lazy.Value);
        }
        catch (AvroSchemaLookupException e)
        {
            // A failure is not kept as the schema (the file may appear or be mended later), only remembered for MissTtl.
            _cache.TryRemove(new KeyValuePair<int, Lazy<AvroSchema>>(schemaId, lazy));
            _missed.Remember(schemaId, e, MissTtl);
            throw;
        }
        catch
        {
            _cache.TryRemove(new KeyValuePair<int, Lazy<AvroSchema>>(schemaId, lazy));
            throw;
        }
    }

    /// <summary>Synchronous form of <see cref="GetSchemaAsync"/>.</summary>
    public AvroSchema GetSchema(int schemaId) => GetSchemaAsync(schemaId).Result;

    private AvroSchema Load(int id)
    {
        var file = FindFile(id) ?? throw new AvroSchemaLookupException($"no schema file for id {id} in {_directory} (expected {id}.avsc or {id}-*.avsc)");
        try
        {
            return AvroSchema.Parse(File.ReadAllBytes(file), SharedTypes());
        }
        catch (AvroSchemaException ex)
        {
            throw new AvroSchemaLookupException($"schema id {id} ({Path.GetFileName(file)}) is invalid: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new AvroSchemaLookupException($"schema id {id}: cannot read {file}: {ex.Message}", ex);
        }
    }

    private string? FindFile(int id)
    {
        if (!System.IO.Directory.Exists(_directory))
        {
            return null;
        }

        var exact = Path.Combine(_directory, id.ToString(CultureInfo.InvariantCulture) + ".avsc");
        if (File.Exists(exact))
        {
            return exact;
        }

        var matches = System.IO.Directory.GetFiles(_directory, id.ToString(CultureInfo.InvariantCulture) + "-*.avsc");
        Array.Sort(matches, StringComparer.Ordinal);
        return matches.Length > 0 ? matches[0] : null;
    }

    // Read when first needed and again whenever the files have changed since (compared by name, size and time written:
    // one directory listing per schema loaded, which happens once per id). A failure is not kept: a mended file is read at
    // the next lookup that needs it (at most once per id per MissTtl).
    private AvroSchemaSet SharedTypes()
    {
        lock (_sharedTypesLock)
        {
            var files = SharedTypeFiles();
            var state = string.Join('\n', files.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Name}\t{f.Length}\t{f.LastWriteTimeUtc.Ticks}")));
            if (_sharedTypes is { } known && known.Files == state)
            {
                return known.Set;
            }

            try
            {
                var set = AvroSchemaSet.LoadFiles(files.Select(f => f.FullName));
                _sharedTypes = (set, state);
                return set;
            }
            catch (AvroSchemaException ex)
            {
                throw new AvroSchemaLookupException($"the shared schema files in {_directory} do not load: {ex.Message}", ex);
            }
        }
    }

    private FileInfo[] SharedTypeFiles()
    {
        if (!System.IO.Directory.Exists(_directory))
        {
            return [];
        }

        var files = new DirectoryInfo(_directory).GetFiles("*.avsc").Where(f => !IsIdFile(Path.GetFileNameWithoutExtension(f.Name))).ToArray();
        Array.Sort(files, static (a, b) => StringComparer.Ordinal.Compare(a.Name, b.Name));
        return files;
    }

    private static bool IsIdFile(string name)
    {
        var dash = name.IndexOf('-', StringComparison.Ordinal);
        var head = dash < 0 ? name : name[..dash];
        return head.Length > 0 && int.TryParse(head, NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }
}
