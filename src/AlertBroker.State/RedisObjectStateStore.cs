using AlertBroker.Redis;
using StackExchange.Redis;

namespace AlertBroker.State;

/// <summary>Settings of <see cref="RedisObjectStateStore"/>.</summary>
public sealed record RedisStateOptions
{
    /// <summary>Endpoints: <c>host:port</c>, or several comma-separated (StackExchange.Redis options after them are accepted).</summary>
    public string Configuration { get; init; } = "127.0.0.1:6379";

    /// <summary>ACL user, password and TLS (section <c>AlertBroker:Redis</c>); they win over the same settings in <see cref="Configuration"/>.</summary>
    public RedisOptions Security { get; init; } = RedisOptions.None;

    /// <summary>Key prefix: objects live at <c>{prefix}:{survey}:{objectId}</c>.</summary>
    public string KeyPrefix { get; init; } = "ab";

    /// <summary>Expire an object this long after its last write; zero keeps objects forever.</summary>
    public TimeSpan Ttl { get; init; }

    /// <summary>Time a command may take before it counts as a failure.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// <see cref="IObjectStateStore"/> on Redis: one key per object holding the <see cref="ObjectStateCodec"/> record. A batch
/// read is one pipelined round trip of GETs; a batch write is one pipelined round trip of a Lua check-and-set script that
/// compares the stored record's first 8 bytes (its version) with the version the writer read and only then SETs (with PX
/// when a TTL is configured). Redis runs each script atomically.
/// </summary>
public sealed class RedisObjectStateStore : IObjectStateStore, IDisposable
{
    // GETRANGE of a missing key is "", which is what a writer that expects version 0 sends. A key of another type (another
    // program's hash or list under the prefix) answers WRONGTYPE: it was read as an unreadable state at version 0
    // (ReadAsync), so it counts as missing here too, and SET replaces it whatever its type. A string shorter than 8 bytes,
    // or whose first 8 bytes are zero, is version 0 to the reader (ObjectStateCodec.ReadVersion) and so here: compared as
    // it was stored, it never equalled "" and every write over it lost (the worker retried its batch for ever).
    private const string CheckAndSetScript = """
        local current = redis.pcall('GETRANGE', KEYS[1], 0, 7)
        if type(current) == 'table' then
          if current.err and string.find(current.err, 'WRONGTYPE', 1, true) then current = '' else return current end
        end
        if string.len(current) < 8 or current == '\0\0\0\0\0\0\0\0' then current = '' end
        if current ~= ARGV[1] then return 0 end
        if ARGV[3] ~= '0' then
          redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        else
          redis.call('SET', KEYS[1], ARGV[2])
        end
        return 1
        """;

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly RedisStateOptions _options;
    private readonly RedisValue _ttlArgument;

    public RedisObjectStateStore(IConnectionMultiplexer connection, RedisStateOptions options, bool ownsConnection = false)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        _connection = connection;
        _options = options;
        _ownsConnection = ownsConnection;
        _ttlArgument = options.Ttl > TimeSpan.Zero ? ((long)options.Ttl.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) : "0";
    }

    /// <summary>The options in force.</summary>
    public RedisStateOptions Options => _options;

    /// <summary>The connection: the worker keeps its recent-classification list in this Redis, and lookups in it (e.g. metadata hashes) are pipelined beside a batch read.</summary>
    public IConnectionMultiplexer Connection => _connection;

    /// <summary>
    /// Connects without failing when Redis is down (the connection keeps retrying in the background, and batches fail
    /// with <see cref="StateStoreUnavailableException"/> until it is back), but fails at once when Redis refuses the
    /// credentials or the TLS handshake.
    /// </summary>
    /// <exception cref="RedisConnectionFailedException">credentials or TLS refused.</exception>
    public static async Task<RedisObjectStateStore> ConnectAsync(RedisStateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var connection = await RedisConnectionFactory.ConnectAsync(CreateConfiguration(options), waitForServer: true).ConfigureAwait(false);
        return new RedisObjectStateStore(connection, options, ownsConnection: true);
    }

    /// <summary>The client configuration (<see cref="RedisConnectionFactory"/>): keep retrying while the server is down, time commands out as configured.</summary>
    public static ConfigurationOptions CreateConfiguration(RedisStateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return RedisConnectionFactory.CreateConfiguration(
            options.Configuration,
            options.Security,
            new RedisClientSettings { CommandTimeout = options.CommandTimeout, WaitForServer = true });
    }

    public async Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(results);
        if (keys.Count == 0)
        {
            return;
        }

        var tasks = new Task<RedisValue>[keys.Count];
        try
        {
            var batch = _connection.GetDatabase().CreateBatch();
            for (var i = 0; i < keys.Count; i++)
            {
                tasks[i] = batch.StringGetAsync(keys[i].ToStorageKey(_options.KeyPrefix));
            }

            batch.Execute();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new StateStoreUnavailableException("Redis refused the batch: " + RedisErrors.Brief(e), e);
        }

        await AwaitAll(tasks, cancellationToken, tolerateWrongType: true).ConfigureAwait(false);
        for (var i = 0; i < tasks.Length; i++)
        {
            if (tasks[i].IsFaulted)
            {
                // A key of another type (AwaitAll lets only WRONGTYPE through): an unreadable state at version 0, which
                // the write that follows replaces (CheckAndSetScript).
                results[i] = new ObjectState { Version = 0, Unreadable = true };
                continue;
            }

            var value = tasks[i].Result;
            results[i] = value.IsNull ? null : DecodeOrReset((byte[])value!);
        }
    }

    public async Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        ArgumentNullException.ThrowIfNull(committed);
        if (writes.Count == 0)
        {
            return;
        }

        var tasks = new Task<RedisResult>[writes.Count];
        try
        {
            var batch = _connection.GetDatabase().CreateBatch();
            for (var i = 0; i < writes.Count; i++)
            {
                var w = writes[i];
                RedisValue expected = w.ExpectedVersion == 0 ? RedisValue.EmptyString : (RedisValue)BitConverter.GetBytes(w.ExpectedVersion);
                tasks[i] = batch.ScriptEvaluateAsync(
                    CheckAndSetScript,
                    [w.Key.ToStorageKey(_options.KeyPrefix)],
                    [expected, ObjectStateCodec.Encode(w.State), _ttlArgument]);
            }

            batch.Execute();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new StateStoreUnavailableException("Redis refused the batch: " + RedisErrors.Brief(e), e);
        }

        await AwaitAll(tasks, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < tasks.Length; i++)
        {
            committed[i] = (int)tasks[i].Result == 1;
        }
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _connection.GetDatabase().PingAsync().WaitAsync(_options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Like <see cref="PingAsync"/>, but also writes (one expiring key under the prefix) and says why: null when Redis
    /// answers a PING and takes the write in time, otherwise the failure in words (no password in it: StackExchange.Redis
    /// names endpoints and the failure type only), marked when Redis answers but refuses writes. On a Redis Cluster every
    /// primary of the slot map is asked (a PING to it and a write of a key in one of its slots, <c>{prefix}:probe:{n}</c>),
    /// so one full, read-only or silent shard is seen while the others answer; the reason names that shard.
    /// </summary>
    public async Task<StateStoreProblem?> ProbeAsync(CancellationToken cancellationToken = default)
    {
        var db = _connection.GetDatabase();
        if (ClusterProbeKeys() is { } shards)
        {
            var answers = await Task.WhenAll(shards.Select(s => ProbeShardAsync(db, s.Server, s.Key, cancellationToken))).ConfigureAwait(false);
            var failed = Enumerable.Range(0, shards.Count).Where(i => answers[i] is not null).ToList();
            if (failed.Count == 0)
            {
                return null;
            }

            // A shard that does not answer is named before one that refuses writes; the count says how many more fail.
            var first = failed.OrderBy(i => answers[i]!.WritesRefused).First();
            var more = failed.Count > 1 ? $" (and {failed.Count - 1} more of the {shards.Count} shards)" : "";
            return answers[first]! with { Reason = $"shard {Format(shards[first].Server.EndPoint)}: {answers[first]!.Reason}{more}" };
        }

        return await ProbeShardAsync(db, server: null, _options.KeyPrefix + ":probe", cancellationToken).ConfigureAwait(false);
    }

    // One PING (to the server, or to any when null) and one write of the key (which lives on that server).
    private async Task<StateStoreProblem?> ProbeShardAsync(IDatabase db, IServer? server, string key, CancellationToken cancellationToken)
    {
        try
        {
            await (server is null ? db.PingAsync() : server.PingAsync()).WaitAsync(_options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new(e is TimeoutException ? $"no answer to PING within {_options.CommandTimeout.TotalSeconds:F0} s" : RedisErrors.Brief(e));
        }

        // A server that answers may still refuse every write (full under noeviction, a replica after a failover, a failing
        // snapshot): one short-lived key under the prefix (where the worker may write) says whether it takes one.
        try
        {
            await db.StringSetAsync(key, 1, TimeSpan.FromMinutes(1)).WaitAsync(_options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (RedisServerException e) when (e.Kind is RedisErrorKind.NoPermission)
        {
            // An ACL that lets the worker write its objects' keys only (~ab:ztf:* ~ab:lsst:*) refuses the probe's key: that
            // says nothing of the state, so the PING's answer stands (a refused batch still says what it must).
            return null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return WriteRefusal(e) is { } refusal
                ? new(refusal, WritesRefused: true)
                : new(e is TimeoutException ? $"no answer to a write within {_options.CommandTimeout.TotalSeconds:F0} s" : RedisErrors.Brief(e));
        }
    }

    // On a Redis Cluster, each primary that serves slots with one probe key in its slots ({prefix}:probe:{n}: the hash tag
    // n alone decides the slot), found from the slot map the client last read (no round trip: a cluster that is down is
    // then said by the PINGs and writes, not by this); null when not a cluster. Read afresh every probe, so slots that
    // moved are followed.
    private List<(IServer Server, string Key)>? ClusterProbeKeys()
    {
        var servers = _connection.GetServers();
        if (!Array.Exists(servers, s => s.ServerType == ServerType.Cluster)
            || servers.Select(s => s.ClusterConfiguration).FirstOrDefault(c => c is not null) is not { } map)
        {
            return null;
        }

        // The primaries that serve slots, as the client's servers (a node the client does not know is left out).
        var primaries = map.Nodes.Where(n => !n.IsReplica && n.Slots.Count > 0)
            .Select(n => Array.Find(servers, s => s.EndPoint.Equals(n.EndPoint)))
            .OfType<IServer>()
            .ToDictionary(s => s.EndPoint);
        var shards = new List<(IServer Server, string Key)>(primaries.Count);

        // 16,384 slots: every primary that owns at least one is met well within this many tags.
        for (var n = 0; n < 65_536 && primaries.Count > 0; n++)
        {
            var key = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_options.KeyPrefix}:probe:{{{n}}}");
            if (map.GetBySlot(key)?.EndPoint is { } endpoint && primaries.Remove(endpoint, out var server))
            {
                shards.Add((server, key));
            }
        }

        shards.Sort((a, b) => string.CompareOrdinal(Format(a.Server.EndPoint), Format(b.Server.EndPoint)));
        return shards.Count == 0 ? null : shards;
    }

    private static string Format(System.Net.EndPoint endpoint) => EndPointCollection.ToString(endpoint);

    // Why Redis refused a write although it answers, with what to do; null for any other failure.
    private static string? WriteRefusal(Exception e) => RedisWriteRefusal.Describe(e, "let old objects expire (AlertBroker:State:Ttl)");

    public void Dispose()
    {
        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }

    // A record this codec cannot read (corrupted, or written by something else) must not block its object forever: it is
    // treated as an empty state at the stored version, so the next write replaces it with a full re-run of what arrives;
    // the state says so (Unreadable), and the worker counts and logs it.
    private static ObjectState DecodeOrReset(byte[] record)
    {
        try
        {
            return ObjectStateCodec.Decode(record);
        }
        catch (InvalidDataException)
        {
            return new ObjectState { Version = ObjectStateCodec.ReadVersion(record), Unreadable = true };
        }
    }

    private async Task AwaitAll<T>(Task<T>[] tasks, CancellationToken cancellationToken, bool tolerateWrongType = false)
    {
        try
        {
            await Task.WhenAll(tasks).WaitAsync(_options.CommandTimeout + _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException) when (tolerateWrongType && Array.TrueForAll(tasks, t => t.IsCompletedSuccessfully || RedisErrors.IsWrongType(t.Exception?.InnerException)))
        {
            // Every failure is a key of another type: the caller reads those keys as unreadable.
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Observe every task so none surfaces later as an unobserved exception.
            foreach (var t in tasks)
            {
                _ = t.Exception;
            }

            var refusal = WriteRefusal(e);
            throw new StateStoreUnavailableException(refusal ?? "Redis did not complete the batch: " + RedisErrors.Brief(e), e) { WritesRefused = refusal is not null };
        }
    }
}
