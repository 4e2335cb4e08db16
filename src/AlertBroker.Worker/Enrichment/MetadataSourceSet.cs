using System.Globalization;
using AlertBroker.Alerts.Csv;
using AlertBroker.Model.Features;
using AlertBroker.State;
using StackExchange.Redis;

namespace AlertBroker.Worker.Enrichment;

/// <summary>A metadata source could not be opened (a CSV file missing or without the column) or was declared wrongly.</summary>
public sealed class MetadataSourceException : Exception
{
    public MetadataSourceException()
    {
    }

    public MetadataSourceException(string message)
        : base(message)
    {
    }

    public MetadataSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The CSV file opened but its header lacks the value column (the fix is the source's <c>Column</c> setting).</summary>
    public bool ColumnMissing { get; init; }
}

/// <summary>One quantity keyed by object id (a host redshift, E(B−V), a class label): values as text, null when unknown.</summary>
public interface IObjectValueSource
{
    /// <summary>"csv FILE (column C)" or "redis-hash KEY".</summary>
    string Description { get; }

    /// <summary>
    /// Looks the objects up: <paramref name="results"/>[i] is the value for <paramref name="objectIds"/>[i], or null. A Redis
    /// source sends its request before this returns, so a caller that starts it before another Redis read on the same
    /// connection shares that read's round trip.
    /// </summary>
    /// <exception cref="StateStoreUnavailableException">a Redis source could not be reached (the batch is retried).</exception>
    /// <exception cref="MetadataSourceException">
    /// a Redis source answered but cannot serve: its key holds another type (another program's key) or the worker's user
    /// may not read it (NOPERM). Retrying does not help: the batch goes on without the source's values.
    /// </exception>
    Task LookupAsync(IReadOnlyList<string> objectIds, string?[] results, CancellationToken cancellationToken = default);
}

/// <summary>
/// A CSV file read once when the source is opened: a header row, the object id in the column named <c>object_id</c>
/// (or <c>objectId</c>, <c>object</c>, <c>id</c>; else the first column), the value in the given column.
/// Comma-separated, RFC 4180 quoting understood (<see cref="CsvLine"/>: a file with every cell quoted, as pandas
/// <c>QUOTE_ALL</c> or a spreadsheet writes it, reads as a plain one; <see cref="CsvRecordReader"/>: a quoted cell may
/// hold a line break, as a catalogue's comment column may), a UTF-8 byte order mark ignored; cells are trimmed and empty
/// cells are unknown. A quote left open at the end of the file is a <see cref="MetadataSourceException"/> naming the line.
/// </summary>
public sealed class CsvObjectValueSource : IObjectValueSource
{
    private static readonly string[] s_idColumns = ["object_id", "objectid", "object", "id", "oid", "diaobjectid"];
    private readonly Dictionary<string, string> _values;

    public CsvObjectValueSource(string path, string column)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(column);
        Description = $"csv {path} (column {column})";
        try
        {
            // StreamReader as File.ReadAllLines read it: UTF-8, or the encoding a byte order mark names (the mark dropped).
            using var text = new StreamReader(path);
            using var records = new CsvRecordReader(text, path);
            var header = records.ReadFields() ?? throw new MetadataSourceException($"{Description}: the file is empty (a header row is needed)");
            var valueIndex = Array.FindIndex(header, h => string.Equals(h, column, StringComparison.OrdinalIgnoreCase));
            if (valueIndex < 0)
            {
                throw new MetadataSourceException($"{Description}: no column '{column}' in the header ({string.Join(", ", header)})") { ColumnMissing = true };
            }

            var idIndex = Math.Max(0, Array.FindIndex(header, h => s_idColumns.Contains(h.ToLowerInvariant())));
            _values = new Dictionary<string, string>(StringComparer.Ordinal);
            string? firstRepeat = null;
            long firstRepeatLine = 0;
            while (records.ReadFields() is { } cells)
            {
                // An id given twice (a catalogue with several host candidates): the first value is used, as the trainer
                // reads its metadata files; the last one was, without a word.
                if (cells.Length > Math.Max(idIndex, valueIndex) && cells[idIndex].Length > 0 && cells[valueIndex].Length > 0
                    && !_values.TryAdd(cells[idIndex], cells[valueIndex]))
                {
                    Repeated++;
                    firstRepeat ??= cells[idIndex];
                    firstRepeatLine = firstRepeatLine == 0 ? records.Line : firstRepeatLine;
                }
            }

            if (Repeated > 0)
            {
                Description = string.Create(CultureInfo.InvariantCulture, $"csv {path} (column {column}; {Repeated} value(s) for an object id given before left out, the first value of each used; the first: {firstRepeat} on line {firstRepeatLine})");
            }
        }
        catch (InvalidDataException e)
        {
            // From CsvRecordReader: malformed quoting, a record over its limit; the message names the line it starts at.
            throw new MetadataSourceException($"{Description}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MetadataSourceException($"{Description}: {e.Message}", e);
        }
    }

    public string Description { get; }

    /// <summary>Objects with a value.</summary>
    public int Count => _values.Count;

    /// <summary>Rows whose object id an earlier row gave a value (left out: the first value is used).</summary>
    public int Repeated { get; }

    public Task LookupAsync(IReadOnlyList<string> objectIds, string?[] results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objectIds);
        ArgumentNullException.ThrowIfNull(results);
        for (var i = 0; i < objectIds.Count; i++)
        {
            results[i] = _values.GetValueOrDefault(objectIds[i]);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// A Redis hash whose fields are object ids (<c>HSET KEY ZTF21abc 0.034</c>): one HMGET per batch for the batch's objects.
/// </summary>
public sealed class RedisHashObjectValueSource(IConnectionMultiplexer redis, string key) : IObjectValueSource
{
    public string Description => "redis-hash " + key;

    public async Task LookupAsync(IReadOnlyList<string> objectIds, string?[] results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objectIds);
        ArgumentNullException.ThrowIfNull(results);
        if (objectIds.Count == 0)
        {
            return;
        }

        var fields = new RedisValue[objectIds.Count];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = objectIds[i];
        }

        RedisValue[] values;
        try
        {
            values = await redis.GetDatabase().HashGetAsync(key, fields).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (AlertBroker.Redis.RedisErrors.IsWrongType(e))
        {
            // Another program's key under that name. Retrying the batch cannot help (it was retried for ever, the partition
            // stopped, "State store unavailable"); the error names no key and no type: say both.
            throw new MetadataSourceException($"{Description}: the key {await DescribeTypeAsync().ConfigureAwait(false)}, not a hash (another program's key?): {AlertBroker.Redis.RedisErrors.Brief(e)}", e);
        }
        catch (RedisServerException e) when (AlertBroker.Redis.RedisErrors.IsNoPermission(e))
        {
            throw new MetadataSourceException($"{Description}: the worker's Redis user may not read the key (its ACL): {AlertBroker.Redis.RedisErrors.Brief(e)}", e);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new StateStoreUnavailableException($"metadata {Description}: {AlertBroker.Redis.RedisErrors.Brief(e)}", e);
        }

        for (var i = 0; i < values.Length; i++)
        {
            results[i] = values[i].IsNull ? null : (string?)values[i];
        }
    }

    // "is a string" (TYPE's answer), or "is not a hash" when TYPE itself fails.
    private async Task<string> DescribeTypeAsync()
    {
        try
        {
            var type = await redis.GetDatabase().KeyTypeAsync(key).ConfigureAwait(false);
            return "is a " + type.ToString().ToLowerInvariant();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return "is of another type";
        }
    }
}

/// <summary>
/// The metadata sources a worker has, by survey and source name (<c>host-redshift</c>, <c>mw-ebv</c>, …, and <c>label</c>
/// for the class labels shadow statistics use).
/// </summary>
public sealed class MetadataSourceSet
{
    private readonly Dictionary<(string Survey, string Source), IObjectValueSource> _sources;

    public MetadataSourceSet(IReadOnlyDictionary<(string Survey, string Source), IObjectValueSource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        _sources = new Dictionary<(string, string), IObjectValueSource>(sources);
    }

    /// <summary>No sources: every metadata value is unknown.</summary>
    public static MetadataSourceSet Empty { get; } = new(new Dictionary<(string, string), IObjectValueSource>());

    public IReadOnlyDictionary<(string Survey, string Source), IObjectValueSource> All => _sources;

    public bool IsEmpty => _sources.Count == 0;

    public IObjectValueSource? Get(string survey, string source) => _sources.GetValueOrDefault((survey, source));

    public bool Supplies(string survey, string source) => _sources.ContainsKey((survey, source));

    /// <summary>The sources <paramref name="needed"/> that this set does not supply for <paramref name="survey"/>.</summary>
    public IReadOnlyList<string> Missing(string survey, IEnumerable<string> needed) => [.. needed.Where(s => !Supplies(survey, s))];

    /// <summary>
    /// A value of <paramref name="source"/> as the network is given it: a number the source can take
    /// (<see cref="MetadataValues.IsUsable"/>: a redshift from 0 to 15, an E(B−V) from 0 to 10, …), or NaN (unknown) when
    /// absent (<paramref name="invalid"/> false) or not such a number (true: a word, NaN, a catalogue's −99 for "missing").
    /// </summary>
    public static double ParseValue(string source, string? text, out bool invalid)
    {
        invalid = false;
        if (text is null)
        {
            return double.NaN;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && MetadataValues.IsUsable(source, v))
        {
            return v;
        }

        invalid = true;
        return double.NaN;
    }
}

/// <summary>
/// Opens the worker's metadata sources: those of its configuration (<c>AlertBroker:Metadata:Sources:SURVEY:SOURCE</c>) and,
/// for a worker following a registry, those the registry declares (<c>models metadata set</c>); the configuration wins for a
/// (survey, source) both name. Sources are opened once and reused (a CSV file again when its modification time changed).
/// </summary>
public sealed class MetadataSourceFactory
{
    private readonly IReadOnlyList<(string Survey, string Source, string? Csv, string? Column, string? RedisHash)> _configured;
    private readonly Func<IConnectionMultiplexer?> _redis;
    private readonly Action<string, string, string>? _onProblem;
    private readonly Dictionary<string, IObjectValueSource> _cache = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <param name="configured">The configured sources: survey, source, and a CSV file (with column) or a Redis hash key.</param>
    /// <param name="redis">The Redis that holds hash sources (the state store's, or <c>AlertBroker:Metadata:Redis</c>); null when there is none.</param>
    /// <param name="onProblem">Told (survey, source, problem) when a source cannot be opened.</param>
    public MetadataSourceFactory(IEnumerable<(string Survey, string Source, string? Csv, string? Column, string? RedisHash)> configured, Func<IConnectionMultiplexer?> redis, Action<string, string, string>? onProblem = null)
    {
        ArgumentNullException.ThrowIfNull(configured);
        ArgumentNullException.ThrowIfNull(redis);
        _configured = [.. configured];
        _redis = redis;
        _onProblem = onProblem;
    }

    /// <summary>The sources for the configuration plus <paramref name="declarations"/>; ones that cannot be opened are left out (and reported).</summary>
    public MetadataSourceSet Build(IReadOnlyList<AlertBroker.Registry.MetadataSourceDeclaration> declarations) => Build(declarations, null, checkKeys: false);

    /// <summary>
    /// As <see cref="Build(IReadOnlyList{AlertBroker.Registry.MetadataSourceDeclaration})"/>, and a Redis hash source whose key
    /// holds another type (another program's key) counts as one that cannot be opened: for the worker's start, where a
    /// model that requires it is then refused (one <c>TYPE</c> per hash source, blocking; not for the batch path).
    /// </summary>
    public MetadataSourceSet BuildChecked(IReadOnlyList<AlertBroker.Registry.MetadataSourceDeclaration> declarations) => Build(declarations, null, checkKeys: true);

    /// <summary>
    /// Why a model needing <paramref name="needed"/> may not serve <paramref name="survey"/> here (a source neither configured
    /// nor declared, or one that cannot be opened), or null when every source is available.
    /// </summary>
    public string? CheckSupplied(string survey, IReadOnlyList<string> needed, IReadOnlyList<AlertBroker.Registry.MetadataSourceDeclaration> declarations)
    {
        ArgumentNullException.ThrowIfNull(needed);
        if (needed.Count == 0)
        {
            return null;
        }

        var problems = new Dictionary<(string, string), string>();
        var sources = Build(declarations, problems, checkKeys: true);
        var missing = sources.Missing(survey, needed);
        if (missing.Count == 0)
        {
            return null;
        }

        return $"it needs metadata {string.Join(", ", missing)} for {survey}, which no source supplies here: "
            + string.Join("; ", missing.Select(m => problems.TryGetValue((survey, m), out var p) ? m + ": " + p : m + ": not declared (alertbroker models metadata set --survey " + survey + " --source " + m + " …) nor configured (AlertBroker:Metadata:Sources:" + survey + ":" + m + ")"));
    }

    /// <summary>
    /// Why the configured source <paramref name="source"/> of <paramref name="survey"/> cannot be opened, naming the setting
    /// to change; null when it is not configured or opens.
    /// </summary>
    public string? ConfiguredProblem(string survey, string source)
    {
        foreach (var (s, name, csv, column, hash) in _configured)
        {
            if (s != survey || name != source)
            {
                continue;
            }

            try
            {
                Open(csv, column ?? source, hash, checkKey: true);
                return null;
            }
            catch (MetadataSourceException e)
            {
                var key = $"AlertBroker:Metadata:Sources:{survey}:{source}";
                return e.ColumnMissing
                    ? $"{e.Message}: the CSV lacks the column; set {key}:Column to the column holding the values (default: the source name '{source}')"
                    : $"{e.Message} (check {key}:{(csv is not null ? "Csv" : "RedisHash")})";
            }
        }

        return null;
    }

    private MetadataSourceSet Build(IReadOnlyList<AlertBroker.Registry.MetadataSourceDeclaration> declarations, Dictionary<(string, string), string>? problems, bool checkKeys)
    {
        ArgumentNullException.ThrowIfNull(declarations);
        var map = new Dictionary<(string, string), IObjectValueSource>();
        void Add(string survey, string source, string? csv, string? column, string? hash)
        {
            try
            {
                map[(survey, source)] = Open(csv, column ?? source, hash, checkKeys);
                problems?.Remove((survey, source));
            }
            catch (MetadataSourceException e)
            {
                problems?.TryAdd((survey, source), e.Message);
                _onProblem?.Invoke(survey, source, e.Message);
            }
        }

        foreach (var d in declarations)
        {
            Add(d.Survey, d.Source, d.Csv, d.Column, d.RedisHash);
        }

        foreach (var (survey, source, csv, column, hash) in _configured)
        {
            Add(survey, source, csv, column, hash);
        }

        return new MetadataSourceSet(map);
    }

    private IObjectValueSource Open(string? csv, string column, string? hash, bool checkKey)
    {
        lock (_lock)
        {
            if (csv is not null)
            {
                var stamp = File.Exists(csv) ? File.GetLastWriteTimeUtc(csv).Ticks : 0;
                var key = "csv|" + csv + "|" + column + "|" + stamp.ToString(CultureInfo.InvariantCulture);
                if (!_cache.TryGetValue(key, out var source))
                {
                    source = new CsvObjectValueSource(csv, column);
                    _cache[key] = source;
                }

                return source;
            }

            var hashKey = "hash|" + hash;
            if (!_cache.TryGetValue(hashKey, out var hashSource))
            {
                var redis = _redis() ?? throw new MetadataSourceException($"redis-hash {hash}: this worker has no Redis for metadata (its state is in memory): set AlertBroker:Metadata:Redis");
                hashSource = new RedisHashObjectValueSource(redis, hash!);
                _cache[hashKey] = hashSource;
            }

            if (checkKey)
            {
                CheckKeyType(_redis()!, hash!);
            }

            return hashSource;
        }
    }

    // A key of another type would fail every lookup (WRONGTYPE): refused where a missing source is. A key not there yet is
    // fine (every value unknown until it is written); a Redis that does not answer now is left to the lookups to find.
    private static void CheckKeyType(IConnectionMultiplexer redis, string key)
    {
        RedisType type;
        try
        {
            type = redis.GetDatabase().KeyType(key);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return;
        }

        if (type is not (RedisType.Hash or RedisType.None or RedisType.Unknown))
        {
            throw new MetadataSourceException($"redis-hash {key}: the key is a {type.ToString().ToLowerInvariant()}, not a hash (another program's key?)");
        }
    }
}
