using StackExchange.Redis;

namespace AlertBroker.Registry;

/// <summary>
/// The registry in Redis: package bytes, descriptions, the active pointer, the rollback history, the audit trail and
/// worker heartbeats under one key prefix. Pointer moves are Lua scripts (compare-and-set, history, audit and the
/// pub/sub notification in one atomic step), so two operators promoting at once cannot lose each other's change.
/// </summary>
/// <remarks>
/// Every key starts with the prefix in braces, <c>{prefix}:models:active</c>, <c>{prefix}:model:NAME@VERSION:onnx</c>, …:
/// the braces are a Redis Cluster hash tag, so the whole registry lives in one hash slot and every script and multi-key
/// read (<c>MGET</c>) may touch any of its keys, on a single server and in a cluster alike. The registry is small (a few
/// packages of about a megabyte, a pointer, two short lists, one heartbeat per worker) and rarely written, so one slot
/// costs nothing. Notifications are a plain <c>PUBLISH</c> from the scripts, which a cluster forwards to every node, so a
/// subscriber connected to any node receives them. Registries written before this layout (keys without braces) are found
/// by <see cref="FindLegacyLayoutAsync"/> and copied by <see cref="MigrateLegacyLayoutAsync"/>.
/// </remarks>
public sealed partial class RedisModelRegistry : IModelRegistry, IModelRegistryNotifications
{
    // Identity of a stored pointer, as PackageDescriptions.Identity builds it in C#.
    private const string IdentityLua = "local function ident(json) if not json then return '' end local m = cjson.decode(json) return m.name .. '@' .. m.version .. '#' .. m.sha256 end ";

    private const string PushScript = """
        local info = redis.call('GET', KEYS[1])
        if info then
          local old = cjson.decode(info)
          if old.sha256 ~= ARGV[4] then return redis.error_reply('EXISTS ' .. old.sha256) end
          return 0
        end
        redis.call('SET', KEYS[2], ARGV[1])
        redis.call('SET', KEYS[3], ARGV[2])
        redis.call('SET', KEYS[1], ARGV[3])
        redis.call('SADD', KEYS[4], ARGV[5])
        return 1
        """;

    private const string SetActiveScript = IdentityLua + """
        if ident(redis.call('GET', KEYS[1])) ~= ARGV[1] then return redis.error_reply('CONFLICT') end
        local cur = redis.call('GET', KEYS[1])
        if cur then redis.call('LPUSH', KEYS[2], cur) end
        redis.call('SET', KEYS[1], ARGV[2])
        redis.call('RPUSH', KEYS[3], ARGV[3])
        redis.call('PUBLISH', ARGV[4], ARGV[2])
        return 1
        """;

    private const string RollbackScript = IdentityLua + """
        if ident(redis.call('GET', KEYS[1])) ~= ARGV[1] then return redis.error_reply('CONFLICT') end
        local prev = redis.call('LINDEX', KEYS[2], 0)
        if not prev then return redis.error_reply('NOPREVIOUS') end
        if ident(prev) ~= ARGV[2] then return redis.error_reply('CONFLICT') end
        redis.call('LPOP', KEYS[2])
        redis.call('SET', KEYS[1], prev)
        redis.call('RPUSH', KEYS[3], ARGV[3])
        redis.call('PUBLISH', ARGV[4], prev)
        return prev
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly string _prefix;
    private readonly string _tag;

    /// <exception cref="ArgumentException"><paramref name="prefix"/> is empty or contains a brace (it becomes the hash tag).</exception>
    public RedisModelRegistry(IConnectionMultiplexer redis, string prefix = "alertbroker")
    {
        ArgumentNullException.ThrowIfNull(redis);
        _tag = KeyTag(prefix);
        _redis = redis;
        _db = redis.GetDatabase();
        _prefix = prefix;
    }

    /// <summary>The pub/sub channel that carries the new active pointer (JSON) on every promotion and rollback.</summary>
    public string EventsChannel => _tag + ":models:events";

    /// <summary>The key prefix as configured (without the braces).</summary>
    public string Prefix => _prefix;

    private RedisKey Index => _tag + ":models:index";

    private RedisKey Active => _tag + ":models:active";

    private RedisKey History => _tag + ":models:history";

    private RedisKey Audit => _tag + ":models:audit";

    private RedisKey Workers => _tag + ":models:workers";

    /// <summary>
    /// <c>{prefix}</c>: the start of every key of a registry, and its Redis Cluster hash tag (all its keys hash to one slot).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is empty or contains <c>{</c> or <c>}</c>.</exception>
    public static string KeyTag(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            throw new ArgumentException($"the registry prefix '{prefix}' must not contain {{ or }}: the registry puts it in braces itself, as the Redis Cluster hash tag of all its keys", nameof(prefix));
        }

        return "{" + prefix + "}";
    }

    public async Task<RegisteredModel> PushAsync(ModelPackageBytes package, string pushedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        var model = PackageDescriptions.Describe(package, pushedBy, DateTimeOffset.UtcNow);
        var key = model.Ref.ToString();
        try
        {
            await _db.ScriptEvaluateAsync(
                PushScript,
                [Key(key, "info"), Key(key, "manifest"), Key(key, "onnx"), Index],
                [package.Manifest, package.Onnx, RegistryJson.Serialize(model), model.Sha256, key]).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("EXISTS", StringComparison.Ordinal))
        {
            throw new RegistryException($"{key} is already registered with other bytes; push a new version instead", e);
        }

        return await GetAsync(model.Ref, cancellationToken).ConfigureAwait(false) ?? model;
    }

    public async Task<IReadOnlyList<RegisteredModel>> ListAsync(CancellationToken cancellationToken = default)
    {
        var members = await _db.SetMembersAsync(Index).ConfigureAwait(false);
        var keys = new RedisKey[members.Length];
        for (var i = 0; i < members.Length; i++)
        {
            keys[i] = Key(members[i]!, "info");
        }

        var values = keys.Length == 0 ? [] : await _db.StringGetAsync(keys).ConfigureAwait(false);
        var models = new List<RegisteredModel>(values.Length);
        foreach (var v in values)
        {
            if (v.HasValue)
            {
                models.Add(RegistryJson.Deserialize<RegisteredModel>(v!));
            }
        }

        models.Sort(static (a, b) => a.PushedUtc.CompareTo(b.PushedUtc));
        return models;
    }

    public async Task<RegisteredModel?> GetAsync(ModelRef model, CancellationToken cancellationToken = default)
    {
        var v = await _db.StringGetAsync(Key(model.ToString(), "info")).ConfigureAwait(false);
        return v.HasValue ? RegistryJson.Deserialize<RegisteredModel>(v!) : null;
    }

    public async Task<ModelPackageBytes> GetPackageAsync(ModelRef model, CancellationToken cancellationToken = default)
    {
        var info = await GetAsync(model, cancellationToken).ConfigureAwait(false) ?? throw new RegistryException($"{model} is not registered");
        var key = model.ToString();
        var values = await _db.StringGetAsync([Key(key, "manifest"), Key(key, "onnx")]).ConfigureAwait(false);
        if (!values[0].HasValue || !values[1].HasValue)
        {
            throw new RegistryException($"{model}: package bytes are missing from the registry");
        }

        return PackageDescriptions.Verify(info, new ModelPackageBytes(values[0]!, values[1]!));
    }

    public async Task<ActivePointer?> GetActiveAsync(CancellationToken cancellationToken = default)
    {
        var v = await _db.StringGetAsync(Active).ConfigureAwait(false);
        return v.HasValue ? RegistryJson.Deserialize<ActivePointer>(v!) : null;
    }

    public async Task<ActivePointer?> GetPreviousAsync(CancellationToken cancellationToken = default)
    {
        var v = await _db.ListGetByIndexAsync(History, 0).ConfigureAwait(false);
        return v.HasValue ? RegistryJson.Deserialize<ActivePointer>(v!) : null;
    }

    public async Task SetActiveAsync(ActivePointer? expectedCurrent, ActivePointer next, PromotionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await _db.ScriptEvaluateAsync(
                SetActiveScript,
                [Active, History, Audit],
                [PackageDescriptions.Identity(expectedCurrent), RegistryJson.Serialize(next), RegistryJson.Serialize(record), EventsChannel]).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("CONFLICT", StringComparison.Ordinal))
        {
            throw new RegistryException("the active model changed while this promotion was being checked; check again", e);
        }
    }

    public async Task<ActivePointer> RollbackAsync(ActivePointer expectedCurrent, PromotionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expectedCurrent);
        ArgumentNullException.ThrowIfNull(record);
        var previous = await GetPreviousAsync(cancellationToken).ConfigureAwait(false) ?? throw new RegistryException("there is no earlier model to roll back to");
        try
        {
            var result = await _db.ScriptEvaluateAsync(
                RollbackScript,
                [Active, History, Audit],
                [PackageDescriptions.Identity(expectedCurrent), PackageDescriptions.Identity(previous), RegistryJson.Serialize(record), EventsChannel]).ConfigureAwait(false);
            return RegistryJson.Deserialize<ActivePointer>((string)result!);
        }
        catch (RedisServerException e) when (e.Message.Contains("CONFLICT", StringComparison.Ordinal))
        {
            throw new RegistryException("the active model changed while rolling back; check again", e);
        }
        catch (RedisServerException e) when (e.Message.Contains("NOPREVIOUS", StringComparison.Ordinal))
        {
            throw new RegistryException("there is no earlier model to roll back to", e);
        }
    }

    public async Task<IReadOnlyList<PromotionRecord>> GetAuditAsync(CancellationToken cancellationToken = default)
    {
        var values = await _db.ListRangeAsync(Audit).ConfigureAwait(false);
        var records = new List<PromotionRecord>(values.Length);
        foreach (var v in values)
        {
            records.Add(RegistryJson.Deserialize<PromotionRecord>(v!));
        }

        return records;
    }

    public Task ReportHeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        return _db.HashSetAsync(Workers, heartbeat.WorkerId, RegistryJson.Serialize(heartbeat));
    }

    public async Task<IReadOnlyList<WorkerHeartbeat>> GetWorkersAsync(TimeSpan maxAge, CancellationToken cancellationToken = default)
    {
        var entries = await _db.HashGetAllAsync(Workers).ConfigureAwait(false);
        var cutoff = DateTimeOffset.UtcNow - maxAge;
        var workers = new List<WorkerHeartbeat>();
        foreach (var e in entries)
        {
            var heartbeat = RegistryJson.Deserialize<WorkerHeartbeat>(e.Value!);
            if (heartbeat.Utc >= cutoff)
            {
                workers.Add(heartbeat);
            }
        }

        workers.Sort(static (a, b) => string.CompareOrdinal(a.WorkerId, b.WorkerId));
        return workers;
    }

    /// <summary>Subscribes to pointer changes; the callback receives the new active model.</summary>
    public Task SubscribeAsync(Action<ActivePointer> onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        return _redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(EventsChannel), (_, message) => onChange(RegistryJson.Deserialize<ActivePointer>(message!)));
    }

    /// <summary>The key of one part (<c>info</c>, <c>manifest</c>, <c>onnx</c>) of a pushed version.</summary>
    internal RedisKey Key(string modelRef, string part) => _tag + ":model:" + modelRef + ":" + part;
}
