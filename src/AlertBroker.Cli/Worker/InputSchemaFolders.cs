using AlertBroker.Avro;

namespace AlertBroker.Cli.Worker;

/// <summary>
/// The <c>schemas/</c> folders that <c>simulate alerts --framing confluent</c> writes beside its stream
/// (<c>OUT/schemas/&lt;id&gt;.avsc</c>), found from the inputs that <c>demo</c> replays: an input folder's own
/// <c>schemas/</c>, or its parent's (an input that is a night folder, <c>OUT/yyyymmdd</c>), and for a file those of
/// the folder it is in.
/// </summary>
internal static class InputSchemaFolders
{
    public static IReadOnlyList<string> Find(IEnumerable<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var found = new List<string>();
        foreach (var input in inputs)
        {
            try
            {
                var folder = Directory.Exists(input) ? Path.GetFullPath(input) : Path.GetDirectoryName(Path.GetFullPath(input));
                foreach (var place in new[] { folder, folder is null ? null : Path.GetDirectoryName(folder) })
                {
                    if (place is null)
                    {
                        continue;
                    }

                    var schemas = Path.Combine(place, "schemas");
                    if (!found.Contains(schemas, StringComparer.Ordinal) && Directory.Exists(schemas) && Directory.EnumerateFiles(schemas, "*.avsc").Any())
                    {
                        found.Add(schemas);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                // A folder that cannot be looked into has no schemas to offer; its alerts say what they lack.
            }
        }

        return found;
    }

    /// <summary>A lookup asking each folder in turn (null for none).</summary>
    public static ISchemaLookup? Lookup(IReadOnlyList<string> folders)
    {
        ArgumentNullException.ThrowIfNull(folders);
        return folders.Count switch
        {
            0 => null,
            1 => new DirectorySchemaLookup(folders[0]),
            _ => new Chain([.. folders.Select(f => new DirectorySchemaLookup(f))]),
        };
    }

    private sealed class Chain(DirectorySchemaLookup[] lookups) : ISchemaLookup
    {
        public async ValueTask<AvroSchema> GetSchemaAsync(int schemaId, CancellationToken cancellationToken = default)
        {
            var misses = new List<string>();
            foreach (var lookup in lookups)
            {
                try
                {
                    return await lookup.GetSchemaAsync(schemaId, cancellationToken).ConfigureAwait(false);
                }
                catch (AvroSchemaLookupException e)
                {
                    misses.Add(e.Message);
                }
            }

            throw new AvroSchemaLookupException(string.Join("; ", misses));
        }
    }
}
