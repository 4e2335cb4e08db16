using AlertBroker.Model.Packaging;
using StackExchange.Redis;

namespace AlertBroker.Registry;

/// <summary>
/// The registry in Redis: package bytes, descriptions, each survey's active pointer, rollback history and shadow pointer,
/// shadow statistics, metadata source declarations, the audit trail and worker heartbeats under one key prefix. Pointer
/// moves are Lua scripts (compare-and-set, history, audit and the pub/sub notification in one atomic step), so two
/// operators promoting at once cannot lose each other's change.
/// </summary>
/// <remarks>
/// Keys (T = the prefix in braces, <c>{prefix}</c>: a Redis Cluster hash tag, so the whole registry lives in one hash slot
/// and every script and multi-key read may touch any of its keys, on a single server and in a cluster alike):
/// <c>T:models:index</c> (set of versions), <c>T:model:NAME@VERSION:info|manifest|onnx</c>, <c>T:models:surveys</c> (set
/// of surveys with a pointer), <c>T:models:active:SURVEY</c>, <c>T:models:history:SURVEY</c> (list, newest first),
/// <c>T:models:shadow:SURVEY</c>, <c>T:models:shadowstats:SURVEY:CANDIDATE:ACTIVE</c> (hash of additive fields),
/// <c>T:models:metadata</c> (hash "SURVEY/SOURCE" → declaration), <c>T:models:audit</c>, <c>T:models:workers</c>; channel
/// <c>T:models:events</c>. The single-pointer keys of older registries (<c>T:models:active</c>, <c>T:models:history</c>)
/// are migrated to per-survey pointers on first use. Notifications are a plain <c>PUBLISH</c> from the scripts, which a
/// cluster forwards to every node. Registries written before the hash tag (keys without braces) are found by
/// <see cref="FindLegacyLayoutAsync"/> and copied by <see cref="MigrateLegacyLayoutAsync"/> (into the single-pointer
/// keys, which the first use then migrates to per-survey pointers).
/// </remarks>
public sealed partial class RedisModelRegistry : IModelRegistry, IModelRegistryNotifications
{
    // Identity of a stored pointer, as PackageDescriptions.Identity builds it in C#. Field names are matched as the C# reader
    // matches them (RegistryJson: case-insensitively), the registry's own lower-case spelling first: a pointer written with
    // "Name"/"Sha256" (.NET's default naming) read in C#, but the scripts read m.sha256 and failed with a raw Lua error that
    // named no key. Every script's caller has just read the same record in C#, which refuses a damaged one naming its key;
    // what C# read and Lua still cannot (changed in between, or a field spelt twice in different cases) gets an identity no
    // pointer has, so the compare-and-set fails ("check again") and nothing is written.
    private const string IdentityLua = """
        local function field(m, name)
          local v = m[name]
          if v == nil then
            for k, x in pairs(m) do
              if type(k) == 'string' and string.lower(k) == name then v = x break end
            end
          end
          if type(v) == 'string' then return v end
          return nil
        end
        local function ident(json)
          if not json then return '' end
          local ok, m = pcall(cjson.decode, json)
          if not ok or type(m) ~= 'table' then return '?' end
          local name, version, sha = field(m, 'name'), field(m, 'version'), field(m, 'sha256')
          if not (name and version and sha) then return '?' end
          return name .. '@' .. version .. '#' .. sha
        end
        local function ref(json)
          if not json then return '' end
          local ok, m = pcall(cjson.decode, json)
          if not ok or type(m) ~= 'table' then return '?' end
          local name, version = field(m, 'name'), field(m, 'version')
          if not (name and version) then return '?' end
          return name .. '@' .. version
        end
        local function undeclared(metadata, fields)
          for f in string.gmatch(fields, '[^\n]+') do
            if redis.call('HEXISTS', metadata, f) == 0 then return f end
          end
          return nil
        end
        """ + "\n";

    // Checks each KEYS[i] against the type the registry keeps there ('' skips) before a script writes anything: Redis does
    // not undo a script's earlier writes when a later command fails, so a key of another type (another program's, under
    // the same prefix) met half-way left a package without its index entry, or a pointer moved without its audit record.
    // Redis's own WRONGTYPE names no key; this one does.
    private const string TypeCheckLua = "local function mistyped(types) for i, t in ipairs(types) do if t ~= '' then local actual = redis.call('TYPE', KEYS[i]).ok if actual ~= 'none' and actual ~= t then return 'WRONGTYPE ' .. KEYS[i] .. ' is a ' .. actual .. ' where the registry keeps a ' .. t end end end return nil end ";

    private const string PushScript = TypeCheckLua + """
        local bad = mistyped({'string', 'string', 'string', 'set'})
        if bad then return redis.error_reply(bad) end
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

    // Moves one or more surveys' active pointers, all or none: every survey's compare-and-set, the metadata sources its
    // model needs (declared for the survey, checked here and not before the script: a source removed meanwhile left an
    // active model no worker serves) and every key's type are checked before anything is written. A survey whose shadow is
    // the model promoted stops shadowing it in the same step. KEYS: audit, surveys, metadata, then active:S, history:S and
    // shadow:S for each survey. ARGV: channel, then for each survey: expected identity, pointer, record, survey, event,
    // required "SURVEY/SOURCE" fields (newline-separated), the model's NAME@VERSION, shadow-clear record, shadow-clear event.
    private const string SetActiveScript = IdentityLua + TypeCheckLua + """
        local types = {'list', 'set', 'hash'}
        for i = 4, #KEYS, 3 do types[i] = 'string' types[i + 1] = 'list' types[i + 2] = 'string' end
        local bad = mistyped(types)
        if bad then return redis.error_reply(bad) end
        local n = (#KEYS - 3) / 3
        local current = {}
        for j = 1, n do
          local cur = redis.call('GET', KEYS[1 + 3 * j])
          local a = 2 + 9 * (j - 1)
          if ident(cur) ~= ARGV[a] then return redis.error_reply('CONFLICT ' .. ARGV[a + 3]) end
          local missing = undeclared(KEYS[3], ARGV[a + 5])
          if missing then return redis.error_reply('NOSOURCE ' .. missing) end
          current[j] = cur
        end
        for j = 1, n do
          local a = 2 + 9 * (j - 1)
          if current[j] then redis.call('LPUSH', KEYS[2 + 3 * j], current[j]) end
          redis.call('SET', KEYS[1 + 3 * j], ARGV[a + 1])
          redis.call('RPUSH', KEYS[1], ARGV[a + 2])
          redis.call('SADD', KEYS[2], ARGV[a + 3])
          redis.call('PUBLISH', ARGV[1], ARGV[a + 4])
          if ref(redis.call('GET', KEYS[3 + 3 * j])) == ARGV[a + 6] then
            redis.call('DEL', KEYS[3 + 3 * j])
            redis.call('RPUSH', KEYS[1], ARGV[a + 7])
            redis.call('PUBLISH', ARGV[1], ARGV[a + 8])
          end
        end
        return n
        """;

    // KEYS: active:S, history:S, audit, metadata, shadow:S. ARGV: expected identity, previous identity, record, channel,
    // event, restored pointer, required "SURVEY/SOURCE" fields (newline-separated), the restored model's NAME@VERSION,
    // shadow-clear record, shadow-clear event. The sources and the shadow are checked in the step, as for promotions.
    private const string RollbackScript = IdentityLua + TypeCheckLua + """
        local bad = mistyped({'string', 'list', 'list', 'hash', 'string'})
        if bad then return redis.error_reply(bad) end
        if ident(redis.call('GET', KEYS[1])) ~= ARGV[1] then return redis.error_reply('CONFLICT') end
        local prev = redis.call('LINDEX', KEYS[2], 0)
        if not prev then return redis.error_reply('NOPREVIOUS') end
        if ident(prev) ~= ARGV[2] then return redis.error_reply('CONFLICT') end
        local missing = undeclared(KEYS[4], ARGV[7])
        if missing then return redis.error_reply('NOSOURCE ' .. missing) end
        redis.call('LPOP', KEYS[2])
        redis.call('SET', KEYS[1], ARGV[6])
        redis.call('RPUSH', KEYS[3], ARGV[3])
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        if ref(redis.call('GET', KEYS[5])) == ARGV[8] then
          redis.call('DEL', KEYS[5])
          redis.call('RPUSH', KEYS[3], ARGV[9])
          redis.call('PUBLISH', ARGV[4], ARGV[10])
        end
        return ARGV[6]
        """;

    // Sets (or, where the pointer is '', clears) one or more surveys' shadow pointers, all or none, each only while the
    // survey's shadow is still the one the command checked ('*': any), never to the survey's active model, and never to a
    // model needing a source the survey does not declare. KEYS: audit, surveys, metadata, then shadow:S and active:S for
    // each survey. ARGV: channel, then for each survey: pointer, record, survey, event, expected identity, the model's
    // NAME@VERSION, required "SURVEY/SOURCE" fields (newline-separated).
    private const string SetShadowScript = IdentityLua + TypeCheckLua + """
        local types = {'list', 'set', 'hash'}
        for i = 4, #KEYS, 2 do types[i] = 'string' types[i + 1] = 'string' end
        local bad = mistyped(types)
        if bad then return redis.error_reply(bad) end
        local n = (#KEYS - 3) / 2
        for j = 1, n do
          local a = 2 + 7 * (j - 1)
          if ARGV[a + 4] ~= '*' and ident(redis.call('GET', KEYS[2 + 2 * j])) ~= ARGV[a + 4] then return redis.error_reply('CONFLICT ' .. ARGV[a + 2]) end
          if ARGV[a] ~= '' then
            if ref(redis.call('GET', KEYS[3 + 2 * j])) == ARGV[a + 5] then return redis.error_reply('ISACTIVE ' .. ARGV[a + 2]) end
            local missing = undeclared(KEYS[3], ARGV[a + 6])
            if missing then return redis.error_reply('NOSOURCE ' .. missing) end
          end
        end
        for j = 1, n do
          local a = 2 + 7 * (j - 1)
          if ARGV[a] == '' then redis.call('DEL', KEYS[2 + 2 * j]) else redis.call('SET', KEYS[2 + 2 * j], ARGV[a]) end
          redis.call('RPUSH', KEYS[1], ARGV[a + 1])
          redis.call('SADD', KEYS[2], ARGV[a + 2])
          redis.call('PUBLISH', ARGV[1], ARGV[a + 3])
        end
        return n
        """;

    // KEYS: metadata, audit. ARGV: field, declaration ('' removes), record, channel, event.
    private const string SetMetadataScript = TypeCheckLua + """
        local bad = mistyped({'hash', 'list'})
        if bad then return redis.error_reply(bad) end
        local changed
        if ARGV[2] == '' then changed = redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) changed = 1 end
        if changed == 0 then return 0 end
        redis.call('RPUSH', KEYS[2], ARGV[3])
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        return 1
        """;

    // KEYS: stats hash. ARGV: field, increment, field, increment, …
    // Every field is checked before any is added: a hash of another type, or a field that is not a number (a hand edit),
    // is a damaged record (DAMAGED …), and nothing is added. Until 2026-12-07 HINCRBYFLOAT failed part-way, after the
    // fields before it had been added, and the worker's whole flush failed with it, every 5 s.
    private const string AddStatisticsScript = TypeCheckLua + """
        local bad = mistyped({'hash'})
        if bad then return redis.error_reply('DAMAGED ' .. bad) end
        for i = 1, #ARGV, 2 do
          local v = redis.call('HGET', KEYS[1], ARGV[i])
          if v and not tonumber(v) then return redis.error_reply('DAMAGED field "' .. ARGV[i] .. '" is not a number') end
        end
        for i = 1, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
        return 1
        """;

    // KEYS: legacy active, legacy history, surveys, audit, then active:S and history:S per survey.
    // ARGV: expected legacy identity, n, the n surveys, the audit record.
    // Every key's type is checked first (TypeCheckLua): until 2026-12-07 a set of surveys of another type failed the SADD
    // after the survey's pointer and history were written, and a per-survey pointer of another type (EXISTS) was skipped
    // while the single pointer it should have taken was deleted.
    private const string MigrateScript = IdentityLua + TypeCheckLua + """
        local types = {'string', 'list', 'set', 'list'}
        for i = 5, #KEYS, 2 do types[i] = 'string' types[i + 1] = 'list' end
        local bad = mistyped(types)
        if bad then return redis.error_reply(bad) end
        local legacy = redis.call('GET', KEYS[1])
        if not legacy then return 0 end
        if ident(legacy) ~= ARGV[1] then return redis.error_reply('CONFLICT') end
        local history = redis.call('LRANGE', KEYS[2], 0, -1)
        local n = tonumber(ARGV[2])
        for i = 1, n do
          local active, hist = KEYS[3 + (2 * i)], KEYS[4 + (2 * i)]
          if redis.call('EXISTS', active) == 0 then
            redis.call('SET', active, legacy)
            redis.call('DEL', hist)
            for _, h in ipairs(history) do redis.call('RPUSH', hist, h) end
            redis.call('SADD', KEYS[3], ARGV[2 + i])
          end
        end
        redis.call('DEL', KEYS[1], KEYS[2])
        redis.call('RPUSH', KEYS[4], ARGV[3 + n])
        return 1
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _db;
    private readonly string _prefix;
    private readonly string _tag;
    private volatile bool _migrated;

    /// <exception cref="ArgumentException"><paramref name="prefix"/> is empty or contains a brace (it becomes the hash tag).</exception>
    public RedisModelRegistry(IConnectionMultiplexer redis, string prefix = "alertbroker")
    {
        ArgumentNullException.ThrowIfNull(redis);
        _tag = KeyTag(prefix);
        _redis = redis;
        _db = redis.GetDatabase();
        _prefix = prefix;
    }

    /// <summary>The pub/sub channel that carries a <see cref="RegistryEvent"/> (JSON) on every pointer or metadata change.</summary>
    public string EventsChannel => _tag + ":models:events";

    /// <summary>The key prefix as configured (without the braces).</summary>
    public string Prefix => _prefix;

    private RedisKey Index => _tag + ":models:index";

    private RedisKey SurveysSet => _tag + ":models:surveys";

    private RedisKey Metadata => _tag + ":models:metadata";

    private RedisKey Audit => _tag + ":models:audit";

    private RedisKey Workers => _tag + ":models:workers";

    /// <summary>The key of the workers' heartbeats, for messages.</summary>
    internal string WorkersKeyName => Workers.ToString();

    /// <summary>The keys of the shadow statistics, as a pattern, for messages.</summary>
    internal string StatisticsKeysName => _tag + ":models:shadowstats:*";

    // The single-pointer keys of registries written before per-survey pointers (migrated to per-survey pointers on first
    // use; MigrateLegacyLayoutAsync copies a registry from before the hash tag into these).
    private RedisKey Active => _tag + ":models:active";

    private RedisKey History => _tag + ":models:history";

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
        if (await GetAsync(model.Ref, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            // Pushed before: the same model (else refused), its stored bytes restored if they were damaged or deleted since.
            if (PackageDescriptions.RepushProblem(existing, model) is { } problem)
            {
                throw new RegistryException(problem);
            }

            var stored = await StringGetCheckedAsync([Key(key, "manifest"), Key(key, "onnx")]).ConfigureAwait(false);
            if (PackageDescriptions.Repair(existing, model, stored[0].HasValue && stored[1].HasValue ? new ModelPackageBytes(stored[0]!, stored[1]!) : null) is not { } repaired)
            {
                // Whole, but perhaps no longer indexed (the index deleted or evicted): a push again puts it back in the list.
                await _db.SetAddAsync(Index, key).ConfigureAwait(false);
                return existing;
            }

            var batch = _db.CreateTransaction();
            Task[] writes =
            [
                batch.StringSetAsync(Key(key, "manifest"), package.Manifest),
                batch.StringSetAsync(Key(key, "onnx"), package.Onnx),
                batch.StringSetAsync(Key(key, "info"), RegistryJson.Serialize(repaired)),
                batch.SetAddAsync(Index, key),
            ];
            await batch.ExecuteAsync().ConfigureAwait(false);

            // A command of the transaction that Redis refused (the index of another type: WRONGTYPE) fails its own task
            // only: until 2026-12-07 those were discarded, and the push said it had restored a package it had not indexed.
            await Task.WhenAll(writes).ConfigureAwait(false);
            return repaired;
        }

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

        var values = await StringGetCheckedAsync(keys).ConfigureAwait(false);
        var models = new List<RegisteredModel>(values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            // An index entry without its record (the record deleted by hand, or evicted by a Redis whose maxmemory-policy
            // is not noeviction) was left out of the list without a word, so the model seemed never to have been pushed.
            models.Add(values[i].HasValue
                ? ModelRecord(values[i], keys[i], (string)members[i]!)
                : throw new RegistryException($"registry index Redis key {Index} names {members[i]}, but its record Redis key {keys[i]} is missing (deleted, or evicted: give the registry's Redis maxmemory-policy noeviction): push that package again to restore it, or remove {members[i]} from the index to forget it") { DamagedRecord = true });
        }

        models.Sort(static (a, b) => a.PushedUtc.CompareTo(b.PushedUtc));
        return models;
    }

    public async Task<RegisteredModel?> GetAsync(ModelRef model, CancellationToken cancellationToken = default)
    {
        var key = Key(model.ToString(), "info");
        var v = await _db.StringGetAsync(key).ConfigureAwait(false);
        return v.HasValue ? ModelRecord(v, key, model.ToString()) : null;
    }

    /// <summary>
    /// The model record read from <paramref name="key"/>, the key of <paramref name="filedAs"/>. A record naming another
    /// version (its keys copied to a new one) was read as what it names: <c>models promote m@9</c> said "promoted m@9" and
    /// audited it while the pointer named m@1, and <c>models list</c> showed m@1 twice. The directory registry's list says so too.
    /// </summary>
    private static RegisteredModel ModelRecord(RedisValue value, RedisKey key, string filedAs)
    {
        var model = RegistryJson.Deserialize<RegisteredModel>(value!, $"Redis key {key}");
        var named = model.Ref.ToString();
        return named == filedAs
            ? model
            : throw new RegistryException($"registry record Redis key {key} names {named}, not {filedAs} (copied or renamed?): repair it, or remove it to forget what it held") { DamagedRecord = true };
    }

    public async Task<ModelPackageBytes> GetPackageAsync(ModelRef model, CancellationToken cancellationToken = default)
    {
        var info = await GetAsync(model, cancellationToken).ConfigureAwait(false) ?? throw new RegistryException($"{model} is not registered");
        var key = model.ToString();
        var values = await StringGetCheckedAsync([Key(key, "manifest"), Key(key, "onnx")]).ConfigureAwait(false);
        if (!values[0].HasValue || !values[1].HasValue)
        {
            throw new RegistryException($"{model}: package bytes are missing from the registry");
        }

        return PackageDescriptions.Verify(info, new ModelPackageBytes(values[0]!, values[1]!));
    }

    public async Task<ModelManifest?> GetManifestAsync(ModelRef model, CancellationToken cancellationToken = default)
    {
        var v = await _db.StringGetAsync(Key(model.ToString(), "manifest")).ConfigureAwait(false);
        if (!v.HasValue)
        {
            return null;
        }

        // Checked against the record, as the package bytes are (a model.json changed after the push was promoted).
        return await GetAsync(model, cancellationToken).ConfigureAwait(false) is { } info
            ? PackageDescriptions.VerifyManifest(info, v!)
            : PackageDescriptions.ParseManifest(model, v!);
    }

    public async Task<IReadOnlyList<string>> GetSurveysAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var members = await _db.SetMembersAsync(SurveysSet).ConfigureAwait(false);
        // A member no writer makes ('BAD SURVEY', added by hand) is left out: reading its pointers threw, and every
        // survey's status (models status, serve's /api/models) failed on it. Workers route only named surveys.
        var surveys = members.Select(m => (string)m!).Where(RegistryNames.IsSurvey).ToList();
        surveys.Sort(StringComparer.Ordinal);
        return surveys;
    }

    public async Task<SurveyPointers> GetSurveyAsync(string survey, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckSurvey(survey);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var pointers = StringGetCheckedAsync([ActiveKey(survey), ShadowKey(survey)]);
        var previous = _db.ListGetByIndexAsync(HistoryKey(survey), 0);
        var values = await pointers.ConfigureAwait(false);
        return new SurveyPointers
        {
            Survey = survey,
            Active = Pointer(values[0], survey, PointerRoles.Active, ActiveKey(survey)),
            Shadow = Pointer(values[1], survey, PointerRoles.Shadow, ShadowKey(survey)),
            Previous = Pointer(await previous.ConfigureAwait(false), survey, PointerRoles.Active, HistoryKey(survey)),
        };
    }

    public async Task<RegistrySnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default)
    {
        var surveys = await GetSurveysAsync(cancellationToken).ConfigureAwait(false);
        var metadata = GetMetadataSourcesAsync(cancellationToken);
        var keys = new RedisKey[surveys.Count * 2];
        for (var i = 0; i < surveys.Count; i++)
        {
            keys[2 * i] = ActiveKey(surveys[i]);
            keys[(2 * i) + 1] = ShadowKey(surveys[i]);
        }

        var values = await StringGetCheckedAsync(keys).ConfigureAwait(false);
        var map = new Dictionary<string, SurveyPointers>(StringComparer.Ordinal);
        for (var i = 0; i < surveys.Count; i++)
        {
            map[surveys[i]] = new SurveyPointers
            {
                Survey = surveys[i],
                Active = Pointer(values[2 * i], surveys[i], PointerRoles.Active, keys[2 * i]),
                Shadow = Pointer(values[(2 * i) + 1], surveys[i], PointerRoles.Shadow, keys[(2 * i) + 1]),
            };
        }

        return new RegistrySnapshot { Surveys = map, MetadataSources = await metadata.ConfigureAwait(false) };
    }

    public async Task<ActivePointer?> GetActiveAsync(string survey, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckSurvey(survey);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        return Pointer(await _db.StringGetAsync(ActiveKey(survey)).ConfigureAwait(false), survey, PointerRoles.Active, ActiveKey(survey));
    }

    public async Task<ActivePointer?> GetPreviousAsync(string survey, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckSurvey(survey);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        return Pointer(await _db.ListGetByIndexAsync(HistoryKey(survey), 0).ConfigureAwait(false), survey, PointerRoles.Active, HistoryKey(survey));
    }

    public async Task SetActiveAsync(IReadOnlyList<PointerMove> moves, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckMoves(moves);
        if (moves.Count == 0)
        {
            return;
        }

        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        const int PerSurvey = 9;
        var keys = new RedisKey[3 + (3 * moves.Count)];
        var args = new RedisValue[1 + (PerSurvey * moves.Count)];
        keys[0] = Audit;
        keys[1] = SurveysSet;
        keys[2] = Metadata;
        args[0] = EventsChannel;
        for (var j = 0; j < moves.Count; j++)
        {
            var move = moves[j];
            var (survey, expectedCurrent, next, record) = move;
            next = next with { Survey = survey, Role = PointerRoles.Active };
            keys[3 + (3 * j)] = ActiveKey(survey);
            keys[4 + (3 * j)] = HistoryKey(survey);
            keys[5 + (3 * j)] = ShadowKey(survey);
            var a = 1 + (PerSurvey * j);
            args[a] = PackageDescriptions.Identity(expectedCurrent);
            args[a + 1] = RegistryJson.Serialize(next);
            args[a + 2] = RegistryJson.Serialize(record with { Survey = survey });
            args[a + 3] = survey;
            args[a + 4] = Event(PointerRoles.Active, survey, next);
            args[a + 5] = string.Join('\n', move.RequiredSources.Select(source => survey + "/" + source));
            args[a + 6] = next.Ref.ToString();
            args[a + 7] = RegistryJson.Serialize(RegistryNames.ShadowClearedByPromotion(survey, next, record));
            args[a + 8] = Event(PointerRoles.Shadow, survey, null);
        }

        try
        {
            await _db.ScriptEvaluateAsync(SetActiveScript, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("CONFLICT", StringComparison.Ordinal))
        {
            var survey = e.Message.Length > "CONFLICT ".Length ? e.Message["CONFLICT ".Length..] : moves[0].Survey;
            throw new RegistryException(RegistryNames.ConflictMessage(survey, moves.Count), e);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSOURCE ", StringComparison.Ordinal))
        {
            throw MissingSource(e, moves.Select(m => (m.Survey, m.Next.Ref)));
        }
    }

    /// <summary>The refusal a script's NOSOURCE SURVEY/SOURCE stands for.</summary>
    private static RegistryException MissingSource(RedisServerException e, IEnumerable<(string Survey, ModelRef Model)> moves)
    {
        var field = e.Message["NOSOURCE ".Length..];
        var slash = field.IndexOf('/', StringComparison.Ordinal);
        var survey = slash < 0 ? field : field[..slash];
        var model = moves.FirstOrDefault(m => m.Survey == survey).Model;
        return new RegistryException(RegistryNames.MissingSourceMessage(model.ToString(), survey, slash < 0 ? field : field[(slash + 1)..]), e);
    }

    public async Task<ActivePointer> RollbackAsync(string survey, ActivePointer expectedCurrent, PromotionRecord record, IReadOnlyList<string>? requiredSources = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expectedCurrent);
        ArgumentNullException.ThrowIfNull(record);
        var previous = await GetPreviousAsync(survey, cancellationToken).ConfigureAwait(false) ?? throw new RegistryException($"{survey} has no earlier model to roll back to");

        // Active again since the rollback (the history entry keeps the time it was first promoted).
        var restored = previous with { SinceUtc = record.Utc };
        try
        {
            var result = await _db.ScriptEvaluateAsync(
                RollbackScript,
                [ActiveKey(survey), HistoryKey(survey), Audit, Metadata, ShadowKey(survey)],
                [
                    PackageDescriptions.Identity(expectedCurrent), PackageDescriptions.Identity(previous), RegistryJson.Serialize(record with { Survey = survey }), EventsChannel, Event(PointerRoles.Active, survey, previous), RegistryJson.Serialize(restored),
                    string.Join('\n', (requiredSources ?? []).Select(source => survey + "/" + source)), previous.Ref.ToString(), RegistryJson.Serialize(RegistryNames.ShadowClearedByRollback(survey, previous, record)), Event(PointerRoles.Shadow, survey, null),
                ]).ConfigureAwait(false);
            return RegistryJson.Deserialize<ActivePointer>((string)result!, $"Redis list {HistoryKey(survey)} (first entry)") with { Survey = survey, Role = PointerRoles.Active };
        }
        catch (RedisServerException e) when (e.Message.Contains("CONFLICT", StringComparison.Ordinal))
        {
            throw new RegistryException($"the active model of {survey} changed while rolling back; check again", e);
        }
        catch (RedisServerException e) when (e.Message.Contains("NOPREVIOUS", StringComparison.Ordinal))
        {
            throw new RegistryException($"{survey} has no earlier model to roll back to", e);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSOURCE ", StringComparison.Ordinal))
        {
            throw MissingSource(e, [(survey, previous.Ref)]);
        }
    }

    public async Task<ActivePointer?> GetShadowAsync(string survey, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckSurvey(survey);
        return Pointer(await _db.StringGetAsync(ShadowKey(survey)).ConfigureAwait(false), survey, PointerRoles.Shadow, ShadowKey(survey));
    }

    public async Task SetShadowAsync(IReadOnlyList<ShadowMove> moves, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckMoves(moves);
        if (moves.Count == 0)
        {
            return;
        }

        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        const int PerSurvey = 7;
        var keys = new RedisKey[3 + (2 * moves.Count)];
        var args = new RedisValue[1 + (PerSurvey * moves.Count)];
        keys[0] = Audit;
        keys[1] = SurveysSet;
        keys[2] = Metadata;
        args[0] = EventsChannel;
        for (var j = 0; j < moves.Count; j++)
        {
            var move = moves[j];
            var (survey, shadow, record) = move;
            shadow = shadow is null ? null : shadow with { Survey = survey, Role = PointerRoles.Shadow };
            keys[3 + (2 * j)] = ShadowKey(survey);
            keys[4 + (2 * j)] = ActiveKey(survey);
            var a = 1 + (PerSurvey * j);
            args[a] = shadow is null ? string.Empty : RegistryJson.Serialize(shadow);
            args[a + 1] = RegistryJson.Serialize(record with { Survey = survey });
            args[a + 2] = survey;
            args[a + 3] = Event(PointerRoles.Shadow, survey, shadow);
            args[a + 4] = move.CompareAndSet ? PackageDescriptions.Identity(move.ExpectedCurrent) : "*";
            args[a + 5] = shadow?.Ref.ToString() ?? string.Empty;
            args[a + 6] = string.Join('\n', move.RequiredSources.Select(source => survey + "/" + source));
        }

        try
        {
            await _db.ScriptEvaluateAsync(SetShadowScript, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("CONFLICT ", StringComparison.Ordinal))
        {
            throw new RegistryException(RegistryNames.ShadowConflictMessage(e.Message["CONFLICT ".Length..], moves.Count), e);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("ISACTIVE ", StringComparison.Ordinal))
        {
            var survey = e.Message["ISACTIVE ".Length..];
            throw new RegistryException(RegistryNames.ShadowIsActiveMessage(moves.First(m => m.Survey == survey).Shadow!.Ref.ToString(), survey), e);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSOURCE ", StringComparison.Ordinal))
        {
            throw MissingSource(e, moves.Where(m => m.Shadow is not null).Select(m => (m.Survey, m.Shadow!.Ref)));
        }
    }

    public async Task AddShadowStatisticsAsync(ShadowPair pair, IReadOnlyDictionary<string, double> increments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(increments);
        if (increments.Count == 0)
        {
            return;
        }

        var args = new RedisValue[increments.Count * 2];
        var i = 0;
        foreach (var (field, value) in increments)
        {
            args[i++] = field;
            args[i++] = value;
        }

        try
        {
            await _db.ScriptEvaluateAsync(AddStatisticsScript, [StatsKey(pair)], args).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("DAMAGED ", StringComparison.Ordinal))
        {
            throw new RegistryException($"registry record Redis hash {StatsKey(pair)} is not valid shadow statistics: {e.Message["DAMAGED ".Length..]}: repair it, or remove it to start the comparison again; nothing was added to it (the workers keep their counts until then)") { DamagedRecord = true };
        }
    }

    public async Task<ShadowStatistics?> GetShadowStatisticsAsync(ShadowPair pair, CancellationToken cancellationToken = default)
    {
        var entries = await _db.HashGetAllAsync(StatsKey(pair)).ConfigureAwait(false);
        if (entries.Length == 0)
        {
            return null;
        }

        var fields = new Dictionary<string, double>(entries.Length, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            // Written by HINCRBYFLOAT only; anything else (a hand edit) is named, not an InvalidCastException (exit 70).
            fields[e.Name!] = e.Value.TryParse(out double value)
                ? value
                : throw new RegistryException($"registry record Redis hash {StatsKey(pair)} is not valid shadow statistics: field \"{e.Name}\" is not a number: repair it, or remove it to start the comparison again") { DamagedRecord = true };
        }

        // Numbers no worker writes (negative counts, more agreed than compared, NaN) are a damaged record too.
        return ShadowStatistics.Read(pair, fields, $"Redis hash {StatsKey(pair)}");
    }

    public async Task<IReadOnlyList<MetadataSourceDeclaration>> GetMetadataSourcesAsync(CancellationToken cancellationToken = default)
    {
        var entries = await _db.HashGetAllAsync(Metadata).ConfigureAwait(false);
        var list = entries.Select(e => RegistryJson.Deserialize<MetadataSourceDeclaration>(e.Value!, $"Redis hash {Metadata} field {e.Name}")).ToList();
        list.Sort(static (a, b) => string.CompareOrdinal(a.Survey + "/" + a.Source, b.Survey + "/" + b.Source));
        return list;
    }

    public async Task SetMetadataSourceAsync(MetadataSourceDeclaration declaration, PromotionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(declaration);
        ArgumentNullException.ThrowIfNull(record);
        if (declaration.Validate() is { } problem)
        {
            throw new RegistryException(problem);
        }

        await _db.ScriptEvaluateAsync(
            SetMetadataScript,
            [Metadata, Audit],
            [declaration.Survey + "/" + declaration.Source, RegistryJson.Serialize(declaration), RegistryJson.Serialize(record with { Survey = declaration.Survey }), EventsChannel, Event("metadata", declaration.Survey, null)]).ConfigureAwait(false);
    }

    public async Task<bool> RemoveMetadataSourceAsync(string survey, string source, PromotionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        RedisValue[] args = [survey + "/" + source, string.Empty, RegistryJson.Serialize(record with { Survey = survey }), EventsChannel, Event("metadata", survey, null)];
        if (!RegistryNames.IsSurvey(survey))
        {
            return (int)await _db.ScriptEvaluateAsync(SetMetadataScript, [Metadata, Audit], args).ConfigureAwait(false) == 1;
        }

        // The survey's models are checked, and the source removed only while its pointers are still the ones checked
        // (WATCH): checked before, a model promoted meanwhile kept a source no longer declared.
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var pointers = await StringGetCheckedAsync([ActiveKey(survey), ShadowKey(survey)]).ConfigureAwait(false);
            var needing = await ModelPromoter.ModelsNeedingSourceAsync(
                this,
                Pointer(pointers[0], survey, PointerRoles.Active, ActiveKey(survey)),
                Pointer(pointers[1], survey, PointerRoles.Shadow, ShadowKey(survey)),
                source,
                cancellationToken).ConfigureAwait(false);
            if (needing.Count > 0)
            {
                throw new RegistryException(ModelPromoter.NeedingSourceMessage(needing, survey, source));
            }

            var transaction = _db.CreateTransaction();
            transaction.AddCondition(pointers[0].IsNull ? Condition.KeyNotExists(ActiveKey(survey)) : Condition.StringEqual(ActiveKey(survey), pointers[0]));
            transaction.AddCondition(pointers[1].IsNull ? Condition.KeyNotExists(ShadowKey(survey)) : Condition.StringEqual(ShadowKey(survey), pointers[1]));
            var result = transaction.ScriptEvaluateAsync(SetMetadataScript, [Metadata, Audit], args);
            if (await transaction.ExecuteAsync().ConfigureAwait(false))
            {
                return (int)await result.ConfigureAwait(false) == 1;
            }
        }

        throw new RegistryException($"the models of {survey} kept changing while {survey}/{source} was being removed; try again");
    }

    public async Task<IReadOnlyList<PromotionRecord>> GetAuditAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var values = await _db.ListRangeAsync(Audit).ConfigureAwait(false);
        var records = new List<PromotionRecord>(values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            records.Add(RegistryJson.Deserialize<PromotionRecord>(values[i]!, $"Redis list {Audit} (record {i + 1})"));
        }

        return records;
    }

    public async Task<AuditTail> GetRecentAuditAsync(int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);

        // The list is appended to (RPUSH): the newest count + 1 in one LRANGE; the one more says whether older ones exist.
        var values = await _db.ListRangeAsync(Audit, -(long)count - 1, -1).ConfigureAwait(false);
        var older = values.Length > count ? 1 : 0;
        var records = new List<PromotionRecord>(values.Length - older);
        for (var i = older; i < values.Length; i++)
        {
            records.Add(RegistryJson.Deserialize<PromotionRecord>(values[i]!, $"Redis list {Audit} (record {values.Length - i} from the end)"));
        }

        return new AuditTail(records, older == 1);
    }

    public Task ReportHeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        return _db.HashSetAsync(Workers, heartbeat.WorkerId, RegistryJson.Serialize(heartbeat));
    }

    public async Task<IReadOnlyList<WorkerHeartbeat>> GetWorkersAsync(TimeSpan maxAge, CancellationToken cancellationToken = default)
    {
        var entries = await _db.HashGetAllAsync(Workers).ConfigureAwait(false);
        var workers = new List<WorkerHeartbeat>();
        foreach (var e in entries)
        {
            // A damaged heartbeat is one worker's ephemeral note (rewritten every few seconds while it lives): it is left
            // out, not a failure of every status and web-view page of the fleet.
            if (TryHeartbeat(() => RegistryJson.Deserialize<WorkerHeartbeat>(e.Value!, $"Redis hash {Workers} field {e.Name}")) is not { } heartbeat)
            {
                continue;
            }

            if (IsLive(heartbeat, maxAge))
            {
                workers.Add(heartbeat);
            }
        }

        workers.Sort(static (a, b) => string.CompareOrdinal(a.WorkerId, b.WorkerId));
        return workers;
    }

    /// <summary>Written within <paramref name="maxAge"/> of now, on either side (clock skew, not a date years ahead).</summary>
    internal static bool IsLive(WorkerHeartbeat heartbeat, TimeSpan maxAge)
    {
        var now = DateTimeOffset.UtcNow;
        return heartbeat.Utc >= now - maxAge && heartbeat.Utc <= now + maxAge;
    }

    public Task RemoveHeartbeatAsync(string workerId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workerId);
        return _db.HashDeleteAsync(Workers, workerId);
    }

    public async Task<int> PruneHeartbeatsAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var stale = new List<RedisValue>();
        await foreach (var e in _db.HashScanAsync(Workers, pageSize: 1000).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var heartbeat = TryHeartbeat(() => RegistryJson.Deserialize<WorkerHeartbeat>(e.Value!, $"Redis hash {Workers} field {e.Name}"));
            if (heartbeat is null || !IsLive(heartbeat, olderThan))
            {
                stale.Add(e.Name);
            }
        }

        var removed = 0;
        foreach (var chunk in stale.Chunk(1000))
        {
            removed += (int)await _db.HashDeleteAsync(Workers, chunk).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>
    /// A heartbeat record, or null when it cannot be read (damaged, or its file gone since it was listed) or is valid JSON
    /// that no worker writes (a null worker id or dead-letter map: <see cref="RegistryJson.Deserialize"/> refuses it). Such a
    /// record passed, and the fleet's overview (every page and event stream of <c>serve</c>) failed on it with a
    /// NullReferenceException.
    /// </summary>
    internal static WorkerHeartbeat? TryHeartbeat(Func<WorkerHeartbeat> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is RegistryException or FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Subscribes to registry changes (pointer moves, shadows, metadata sources).</summary>
    public Task SubscribeAsync(Action<RegistryEvent> onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        return _redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(EventsChannel), (_, message) => onChange(ParseEvent(message)));
    }

    private static RegistryEvent ParseEvent(RedisValue message)
    {
        try
        {
            return RegistryJson.Deserialize<RegistryEvent>(message!, "a registry event");
        }
        catch (RegistryException)
        {
            // An event from an older writer (a bare pointer) or anything else: still a reason to check.
            return new RegistryEvent { Kind = "unknown" };
        }
    }

    private static string Event(string kind, string survey, ActivePointer? pointer) =>
        RegistryJson.Serialize(new RegistryEvent { Kind = kind, Survey = survey, Pointer = pointer });

    /// <summary>
    /// <paramref name="keys"/>' string values (null where a key is absent), as MGET reads them in one round trip, except that
    /// a key of another type is a <see cref="RegistryException"/> naming it: MGET answers nil for it as for an absent key,
    /// so another program's list at an active pointer read as "no model is active" (exit 0), and a model whose record was a
    /// hash was left out of the list without a word. EXISTS goes out with the MGET (the same round trip; workers poll
    /// <see cref="GetSnapshotAsync"/>); only when it counts more keys than MGET gave values are the nil keys' types asked.
    /// </summary>
    private async Task<RedisValue[]> StringGetCheckedAsync(RedisKey[] keys)
    {
        if (keys.Length == 0)
        {
            return [];
        }

        var get = _db.StringGetAsync(keys);
        var exists = _db.KeyExistsAsync(keys);
        await Task.WhenAll(get, exists).ConfigureAwait(false);
        var values = await get.ConfigureAwait(false);
        var read = 0;
        foreach (var value in values)
        {
            read += value.IsNull ? 0 : 1;
        }

        if (await exists.ConfigureAwait(false) > read)
        {
            // Or a key written between the two commands: its type is then a string, and nothing is said.
            var types = new List<(RedisKey Key, Task<RedisType> Type)>();
            for (var i = 0; i < keys.Length; i++)
            {
                if (values[i].IsNull)
                {
                    types.Add((keys[i], _db.KeyTypeAsync(keys[i])));
                }
            }

            foreach (var (key, type) in types)
            {
                if (await type.ConfigureAwait(false) is var actual and not (RedisType.None or RedisType.String))
                {
                    throw new RegistryException($"registry record Redis key {key} is a {actual.ToString().ToLowerInvariant()} where the registry keeps a string (another program's key under the registry's prefix?): remove it, or give the registry a prefix of its own") { DamagedRecord = true };
                }
            }
        }

        return values;
    }

    private static ActivePointer? Pointer(RedisValue value, string survey, string role, RedisKey key) =>
        value.HasValue ? RegistryJson.Deserialize<ActivePointer>(value!, $"Redis key {key}") with { Survey = survey, Role = role } : null;

    /// <summary>Moves a single-pointer registry's pointer and history to the surveys its model declares (once per instance).</summary>
    private async Task EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        if (_migrated)
        {
            return;
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var legacyJson = await _db.StringGetAsync(Active).ConfigureAwait(false);
            if (!legacyJson.HasValue)
            {
                _migrated = true;
                return;
            }

            var legacy = RegistryJson.Deserialize<ActivePointer>(legacyJson!, $"Redis key {Active}");
            var surveys = await PackageDescriptions.SurveysOfAsync(this, legacy.Ref, cancellationToken).ConfigureAwait(false);
            var keys = new List<RedisKey> { Active, History, SurveysSet, Audit };
            var args = new List<RedisValue> { PackageDescriptions.Identity(legacy), surveys.Count };
            foreach (var s in surveys)
            {
                keys.Add(ActiveKey(s));
                keys.Add(HistoryKey(s));
                args.Add(s);
            }

            args.Add(RegistryJson.Serialize(PackageDescriptions.MigrationRecord(legacy, surveys)));
            try
            {
                await _db.ScriptEvaluateAsync(MigrateScript, [.. keys], [.. args]).ConfigureAwait(false);
                _migrated = true;
                return;
            }
            catch (RedisServerException e) when (e.Message.Contains("CONFLICT", StringComparison.Ordinal))
            {
                // An older writer moved the legacy pointer meanwhile: read it again.
            }
        }

        throw new RegistryException("the registry's single active pointer kept changing while it was being migrated to per-survey pointers; try again");
    }

    private RedisKey ActiveKey(string survey) => _tag + ":models:active:" + survey;

    private RedisKey HistoryKey(string survey) => _tag + ":models:history:" + survey;

    private RedisKey ShadowKey(string survey) => _tag + ":models:shadow:" + survey;

    internal RedisKey StatsKey(ShadowPair pair) => _tag + ":models:shadowstats:" + RegistryNames.CheckSurvey(pair.Survey) + ":" + pair.Candidate + ":" + pair.Active;

    /// <summary>
    /// The registry's keys that hold another kind of value than the registry keeps there, as "KEY is a list where the
    /// registry keeps a string": Redis's WRONGTYPE error names no key. Every key of a registry shares its hash tag, so one
    /// node holds them all (a Cluster included); keys the registry does not know are left out.
    /// </summary>
    public async Task<IReadOnlyList<string>> FindMistypedKeysAsync(CancellationToken cancellationToken = default)
    {
        var endpoint = await _db.IdentifyEndpointAsync(Index).ConfigureAwait(false);
        var server = endpoint is null ? _redis.GetServers()[0] : _redis.GetServer(endpoint);
        var found = new List<string>();
        await foreach (var key in server.KeysAsync(_db.Database, _tag + ":*", pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (ExpectedType((string)key!) is not { } expected)
            {
                continue;
            }

            var actual = await _db.KeyTypeAsync(key).ConfigureAwait(false);
            if (actual != expected && actual != RedisType.None)
            {
                found.Add($"{key} is a {actual.ToString().ToLowerInvariant()} where the registry keeps a {expected.ToString().ToLowerInvariant()}");
            }
        }

        return found;
    }

    private RedisType? ExpectedType(string key)
    {
        var rest = key[_tag.Length..];
        return rest switch
        {
            ":models:index" or ":models:surveys" => RedisType.Set,
            ":models:metadata" or ":models:workers" => RedisType.Hash,
            ":models:audit" or ":models:history" => RedisType.List,
            ":models:active" => RedisType.String,
            _ when rest.StartsWith(":models:active:", StringComparison.Ordinal) || rest.StartsWith(":models:shadow:", StringComparison.Ordinal) => RedisType.String,
            _ when rest.StartsWith(":models:history:", StringComparison.Ordinal) => RedisType.List,
            _ when rest.StartsWith(":models:shadowstats:", StringComparison.Ordinal) => RedisType.Hash,
            _ when rest.StartsWith(":model:", StringComparison.Ordinal) && (rest.EndsWith(":info", StringComparison.Ordinal) || rest.EndsWith(":manifest", StringComparison.Ordinal) || rest.EndsWith(":onnx", StringComparison.Ordinal)) => RedisType.String,
            _ => null,
        };
    }

    /// <summary>The key of one part (<c>info</c>, <c>manifest</c>, <c>onnx</c>) of a pushed version.</summary>
    internal RedisKey Key(string modelRef, string part) => _tag + ":model:" + modelRef + ":" + part;
}
