using AlertBroker.Alerts;
using FsCheck.Fluent;

namespace AlertBroker.State.Tests;

/// <summary>The contract every <see cref="IObjectStateStore"/> keeps; run against each implementation.</summary>
public abstract class StoreContractTests
{
    private static int s_counter;

    protected abstract IObjectStateStore CreateStore(TimeSpan ttl = default);

    protected static ObjectKey NewKey(Survey survey = Survey.Ztf) =>
        new(survey, "ZTF" + Interlocked.Increment(ref s_counter).ToString("D8", System.Globalization.CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6]);

    internal static Observation Obs(long id, double mjd, ObservationKind kind = ObservationKind.Detection) =>
        new(id, mjd, Passband.ZtfG, kind, 100f + id, 5f, 20.5f);

    internal static ObjectState StateWith(long version, params Observation[] observations) => new()
    {
        Version = version,
        UpdatedUnixMs = 1_700_000_000_000 + version,
        Observations = observations,
        ModelId = "m/1/abc",
        ScoredSteps = observations.Length,
        LastStepMjd = observations.Length > 0 ? observations[^1].Mjd : double.NaN,
        LastStepSourceId = observations.Length > 0 ? observations[^1].SourceId : 0,
        ReferenceMjd = observations.Length > 0 ? observations[0].Mjd : double.NaN,
        HiddenState = [0.5f, -0.25f, 1e-7f],
        Probabilities = [0.1f, 0.9f],
    };

    [Fact]
    public async Task ReadAsync_UnknownKey_ReturnsNull()
    {
        var store = CreateStore();
        var results = new ObjectState?[1];
        await store.ReadAsync([NewKey()], results);
        Assert.Null(results[0]);
    }

    [Fact]
    public async Task WriteAsync_NewObject_ReadsBackEqual()
    {
        var store = CreateStore();
        var key = NewKey();
        var state = StateWith(1, Obs(1, 59000.1), Obs(2, 59001.2, ObservationKind.Forced));
        var committed = new bool[1];
        await store.WriteAsync([new StateWrite(key, 0, state)], committed);
        Assert.True(committed[0]);

        var results = new ObjectState?[1];
        await store.ReadAsync([key], results);
        AssertSame(state, results[0]);
    }

    [Fact]
    public async Task WriteAsync_StaleVersion_IsRejectedAndChangesNothing()
    {
        var store = CreateStore();
        var key = NewKey();
        var committed = new bool[1];
        await store.WriteAsync([new StateWrite(key, 0, StateWith(1, Obs(1, 59000)))], committed);
        Assert.True(committed[0]);
        await store.WriteAsync([new StateWrite(key, 1, StateWith(2, Obs(1, 59000), Obs(2, 59001)))], committed);
        Assert.True(committed[0]);

        // A writer that read version 1 (or nothing) loses.
        await store.WriteAsync([new StateWrite(key, 1, StateWith(2, Obs(9, 59009)))], committed);
        Assert.False(committed[0]);
        await store.WriteAsync([new StateWrite(key, 0, StateWith(1, Obs(8, 59008)))], committed);
        Assert.False(committed[0]);

        var results = new ObjectState?[1];
        await store.ReadAsync([key], results);
        Assert.Equal(2, results[0]!.Version);
        Assert.Equal([1L, 2L], Ids(results[0]!));
    }

    [Fact]
    public async Task WriteAsync_ManyKeysOneBatch_EachIndependent()
    {
        var store = CreateStore();
        var keys = new ObjectKey[50];
        var writes = new StateWrite[50];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = NewKey(i % 2 == 0 ? Survey.Ztf : Survey.Lsst);
            writes[i] = new StateWrite(keys[i], 0, StateWith(1, Obs(i, 59000 + i)));
        }

        var committed = new bool[50];
        await store.WriteAsync(writes, committed);
        Assert.All(committed, Assert.True);

        // Half conflict (expect version 5), half succeed.
        for (var i = 0; i < keys.Length; i++)
        {
            writes[i] = new StateWrite(keys[i], i % 2 == 0 ? 1 : 5, StateWith(2, Obs(i, 59000 + i), Obs(1000 + i, 59100 + i)));
        }

        await store.WriteAsync(writes, committed);
        var results = new ObjectState?[50];
        await store.ReadAsync(keys, results);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(i % 2 == 0, committed[i]);
            Assert.Equal(i % 2 == 0 ? 2 : 1, results[i]!.Version);
        }
    }

    [Fact]
    public async Task WriteAsync_WithTtl_ObjectExpires()
    {
        // 2 s: long enough that the write and the first read (over TLS, on a loaded CI machine) fit inside it (300 ms did not).
        var store = CreateStore(TimeSpan.FromSeconds(2));
        var key = NewKey();
        var committed = new bool[1];
        await store.WriteAsync([new StateWrite(key, 0, StateWith(1, Obs(1, 59000)))], committed);
        var results = new ObjectState?[1];
        await store.ReadAsync([key], results);
        Assert.NotNull(results[0]);
        await AdvanceAsync(TimeSpan.FromSeconds(3));
        await store.ReadAsync([key], results);
        Assert.Null(results[0]);
    }

    [Fact]
    public async Task ConcurrentWriters_MergingWithRetry_LoseNoObservation()
    {
        var store = CreateStore();
        var key = NewKey();
        const int Writers = 4;
        const int PerWriter = 15;
        var tasks = new Task[Writers];
        for (var w = 0; w < Writers; w++)
        {
            var writer = w;
            tasks[w] = Task.Run(async () =>
            {
                for (var n = 0; n < PerWriter; n++)
                {
                    var id = (writer * 1000) + n;
                    await MergeWithRetryAsync(store, key, Obs(id, 59000 + (n * 0.5) + (writer * 0.01)));
                }
            });
        }

        await Task.WhenAll(tasks);
        var results = new ObjectState?[1];
        await store.ReadAsync([key], results);
        Assert.Equal(Writers * PerWriter, results[0]!.Observations.Length);
        Assert.Equal(Writers * PerWriter, results[0]!.Version);
    }

    [Fact]
    public async Task Merge_SameAlertsTwice_StoresEachObservationOnce()
    {
        var store = CreateStore();
        var gen = Gen.ListOf(Gen.Choose(0, 40)).Select(l => l.ToArray());
        var samples = gen.Sample(20, 15);
        foreach (var ids in samples)
        {
            var key = NewKey();
            foreach (var pass in new[] { 0, 1 })
            {
                foreach (var id in ids)
                {
                    await MergeWithRetryAsync(store, key, Obs(id, 59000 + ((id * 7) % 13)));
                }
            }

            var results = new ObjectState?[1];
            await store.ReadAsync([key], results);
            var distinct = new SortedSet<int>(ids);
            Assert.Equal(distinct.Count, results[0]?.Observations.Length ?? 0);
            for (var i = 1; i < (results[0]?.Observations.Length ?? 0); i++)
            {
                Assert.True(LightCurveMerge.Compare(results[0]!.Observations[i - 1], results[0]!.Observations[i]) < 0);
            }
        }
    }

    protected virtual Task AdvanceAsync(TimeSpan time) => Task.Delay(time);

    internal static async Task MergeWithRetryAsync(IObjectStateStore store, ObjectKey key, Observation observation)
    {
        var alert = new Alert
        {
            Survey = key.Survey,
            SchemaVersion = "test",
            ObjectId = key.ObjectId,
            SourceId = observation.SourceId,
            Mjd = observation.Mjd,
            Band = observation.Band,
            Candidate = observation,
            Detections = [observation],
        };
        var results = new ObjectState?[1];
        var committed = new bool[1];
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            await store.ReadAsync([key], results);
            var current = results[0] ?? ObjectState.Empty;
            var merged = LightCurveMerge.Merge(current.Observations, [alert], out var added);
            if (added == 0)
            {
                return;
            }

            await store.WriteAsync([new StateWrite(key, current.Version, current with { Version = current.Version + 1, Observations = merged })], committed);
            if (committed[0])
            {
                return;
            }
        }

        throw new InvalidOperationException("merge did not converge");
    }

    private static long[] Ids(ObjectState state)
    {
        var ids = new long[state.Observations.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = state.Observations[i].SourceId;
        }

        return ids;
    }

    private static void AssertSame(ObjectState expected, ObjectState? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.UpdatedUnixMs, actual.UpdatedUnixMs);
        Assert.Equal(expected.Observations, actual.Observations);
        Assert.Equal(expected.ModelId, actual.ModelId);
        Assert.Equal(expected.ScoredSteps, actual.ScoredSteps);
        Assert.Equal(expected.LastStepMjd, actual.LastStepMjd);
        Assert.Equal(expected.LastStepSourceId, actual.LastStepSourceId);
        Assert.Equal(expected.ReferenceMjd, actual.ReferenceMjd);
        Assert.Equal(expected.HiddenState, actual.HiddenState);
        Assert.Equal(expected.Probabilities, actual.Probabilities);
    }
}

public sealed class InMemoryStoreContractTests : StoreContractTests
{
    private readonly ManualTime _time = new();

    protected override IObjectStateStore CreateStore(TimeSpan ttl = default) => new InMemoryObjectStateStore(ttl, _time);

    protected override Task AdvanceAsync(TimeSpan time)
    {
        _time.Advance(time);
        return Task.CompletedTask;
    }

    // Found by the state bug hunt: an expired object was removed only when its own key was read or written again, so
    // `run --in-memory` with State:TtlHours kept every object of a long stream (memory without bound). Writes sweep.
    [Fact]
    public async Task Ttl_ObjectsNeverTouchedAgain_AreSweptAsWritesGoOn()
    {
        var store = new InMemoryObjectStateStore(TimeSpan.FromHours(1), _time);
        var committed = new bool[1];
        for (var i = 0; i < 1000; i++)
        {
            await store.WriteAsync([new StateWrite(new ObjectKey(AlertBroker.Alerts.Survey.Ztf, "old" + i), 0, StateWith(1, Obs(i, 59000)))], committed);
        }

        _time.Advance(TimeSpan.FromHours(2));
        for (var i = 0; i < InMemoryObjectStateStore.SweepEvery; i++)
        {
            await store.WriteAsync([new StateWrite(new ObjectKey(AlertBroker.Alerts.Survey.Ztf, "new" + i), 0, StateWith(1, Obs(i, 59001)))], committed);
        }

        Assert.Equal(InMemoryObjectStateStore.SweepEvery, store.Count);

        // Without a TTL nothing is ever swept.
        var forever = new InMemoryObjectStateStore(timeProvider: _time);
        for (var i = 0; i < InMemoryObjectStateStore.SweepEvery + 10; i++)
        {
            await forever.WriteAsync([new StateWrite(new ObjectKey(AlertBroker.Alerts.Survey.Ztf, "o" + i), 0, StateWith(1, Obs(i, 59000)))], committed);
        }

        _time.Advance(TimeSpan.FromDays(3650));
        await forever.WriteAsync([new StateWrite(new ObjectKey(AlertBroker.Alerts.Survey.Ztf, "last"), 0, StateWith(1, Obs(1, 59000)))], committed);
        Assert.Equal(InMemoryObjectStateStore.SweepEvery + 11, forever.Count);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = DateTimeOffset.UnixEpoch.AddYears(50).UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}

/// <summary>The contract on a plain redis-server.</summary>
public sealed class RedisStoreContractTests(RedisServerFixture redis) : RedisStoreContractTestsBase(redis), IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task Probe_AclThatRefusesTheProbesKey_IsNotAnOutage()
    {
        // A user allowed only its objects' keys: the probe's write is refused (NOPERM), which must not keep the worker
        // unready while every batch goes through.
        var prefix = "acl" + Guid.NewGuid().ToString("N")[..8];
        var user = "u" + prefix;
        Assert.StartsWith("+OK", await _redis.ExecuteAsync("ACL", "SETUSER", user, "on", ">pw-" + prefix, $"~{prefix}:ztf:*", "+@all"), StringComparison.Ordinal);
        try
        {
            using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions
            {
                Configuration = _redis.Configuration,
                Security = new AlertBroker.Redis.RedisOptions { User = user, Password = "pw-" + prefix },
                KeyPrefix = prefix,
            });
            var committed = new bool[1];
            await store.WriteAsync([new StateWrite(new ObjectKey(Survey.Ztf, "ZTF26acl"), 0, StateWith(1, Obs(1, 59000)))], committed);
            Assert.True(committed[0]);

            Assert.Null(await store.ProbeAsync());
        }
        finally
        {
            await _redis.ExecuteAsync("ACL", "DELUSER", user);
        }
    }

    // Another program's hash at the probe's key: SET replaces a key of any type, so readiness is not held at 503 (the
    // probe's one-minute string takes the key's place, as the documented probe key says).
    [Fact]
    public async Task Probe_KeyHeldByAnotherProgramAsAHash_IsNotAnOutage()
    {
        var prefix = "probe" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(":1", await _redis.ExecuteAsync("HSET", prefix + ":probe", "field", "another program's value"));
        using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions { Configuration = _redis.Configuration, Security = _redis.SecurityOptions(), KeyPrefix = prefix });

        Assert.Null(await store.ProbeAsync());
        Assert.Null(await store.ProbeAsync());
    }

    [Fact]
    public async Task Redis_FullUnderNoEviction_WritesAreRefusedSaidSoAndTheProbeSeesIt()
    {
        // A Redis at maxmemory with the default policy (noeviction) answers PING and reads but refuses every write: the
        // worker said "State store unavailable (… OOM command not allowed … script: a5fd…, on @user_script:6.)" and its
        // readiness "Redis answers" while the batch in hand was retried for ever.
        var store = (RedisObjectStateStore)CreateStore();
        var key = NewKey();
        var committed = new bool[1];
        await store.WriteAsync([new StateWrite(key, 0, StateWith(1, Obs(1, 59000)))], committed);
        Assert.Null(await store.ProbeAsync());
        Assert.StartsWith("+OK", await _redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "1"), StringComparison.Ordinal);
        try
        {
            var e = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.WriteAsync([new StateWrite(key, 1, StateWith(2, Obs(2, 59001)))], committed));
            Assert.True(e.WritesRefused);
            Assert.StartsWith("Redis refuses writes: it is full (used memory over maxmemory", e.Message, StringComparison.Ordinal);
            Assert.EndsWith("(OOM command not allowed when used memory > 'maxmemory'.)", e.Message, StringComparison.Ordinal);

            var problem = await store.ProbeAsync();
            Assert.True(problem is { WritesRefused: true }, problem?.ToString());
            Assert.StartsWith("Redis refuses writes: it is full", problem!.Reason, StringComparison.Ordinal);

            // Reads go on: nothing was lost, the stored state is the first write's.
            var results = new ObjectState?[1];
            await store.ReadAsync([key], results);
            Assert.Equal(1, results[0]!.Version);
        }
        finally
        {
            await _redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "0");
        }

        Assert.Null(await store.ProbeAsync());
        await store.WriteAsync([new StateWrite(key, 1, StateWith(2, Obs(2, 59001)))], committed);
        Assert.True(committed[0]);
    }
}

/// <summary>The same contract with an ACL user and password over TLS.</summary>
public sealed class SecureRedisStoreContractTests(SecureRedisServerFixture redis) : RedisStoreContractTestsBase(redis), IClassFixture<SecureRedisServerFixture>
{
    [Fact]
    public async Task ConnectAsync_WrongPassword_FailsAtOnceWithATypedError()
    {
        var security = _redis.SecurityOptions();
        security.Password = "not-the-password";
        var e = await Assert.ThrowsAsync<AlertBroker.Redis.RedisConnectionFailedException>(() => RedisObjectStateStore.ConnectAsync(new RedisStateOptions
        {
            Configuration = _redis.Configuration,
            Security = security,
        }));
        Assert.Equal(AlertBroker.Redis.RedisConnectFailure.Authentication, e.Failure);
        Assert.DoesNotContain("not-the-password", e.ToString(), StringComparison.Ordinal);
    }
}

public abstract class RedisStoreContractTestsBase : StoreContractTests, IDisposable
{
    private protected readonly RedisServerFixture _redis;
    private readonly List<RedisObjectStateStore> _stores = [];

    protected RedisStoreContractTestsBase(RedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    protected override IObjectStateStore CreateStore(TimeSpan ttl = default)
    {
        var store = RedisObjectStateStore.ConnectAsync(new RedisStateOptions
        {
            Configuration = _redis.Configuration,
            Security = _redis.SecurityOptions(),
            KeyPrefix = "t" + Guid.NewGuid().ToString("N")[..8],
            Ttl = ttl,
        }).GetAwaiter().GetResult();
        _stores.Add(store);
        return store;
    }

    // A key of another Redis type at an object's key (another program writing under the same prefix): every read and write
    // of it failed with WRONGTYPE, which the worker takes for an outage, so the batch holding that object was retried for
    // ever and its partition stopped. It reads as an unreadable empty state, and the write replaces it.
    [Theory]
    [InlineData("hash")]
    [InlineData("list")]
    [InlineData("set")]
    public async Task ReadAsync_KeyOfAnotherType_ReadsAsUnreadableEmptyStateThatAWriteReplaces(string type)
    {
        var store = (RedisObjectStateStore)CreateStore();
        var key = NewKey();
        var other = NewKey();
        var storageKey = key.ToStorageKey(store.Options.KeyPrefix);
        var db = store.Connection.GetDatabase();
        Task written = type switch
        {
            "hash" => db.HashSetAsync(storageKey, "a", "b"),
            "list" => db.ListRightPushAsync(storageKey, "a"),
            _ => db.SetAddAsync(storageKey, "a"),
        };
        await written;
        var committed = new bool[2];
        await store.WriteAsync([new StateWrite(other, 0, StateWith(1, Obs(1, 59000)))], committed);

        var results = new ObjectState?[2];
        await store.ReadAsync([key, other], results);
        Assert.True(results[0]!.Unreadable);
        Assert.Equal(0, results[0]!.Version);
        Assert.Empty(results[0]!.Observations);
        Assert.Equal(1, results[1]!.Version);

        await store.WriteAsync([new StateWrite(key, 0, StateWith(1, Obs(2, 59001))), new StateWrite(other, 1, StateWith(2, Obs(3, 59002)))], committed);
        Assert.Equal([true, true], committed);
        await store.ReadAsync([key, other], results);
        Assert.False(results[0]!.Unreadable);
        Assert.Equal(59001, Assert.Single(results[0]!.Observations).Mjd);
        Assert.Equal(2, results[1]!.Version);
    }

    [Fact]
    public async Task ReadAsync_CorruptRecord_ReadsAsEmptyStateThatAWriteReplaces()
    {
        var store = (RedisObjectStateStore)CreateStore();
        var key = NewKey();
        using (var connection = await _redis.ConnectAsync())
        {
            var garbage = new byte[40];
            BitConverter.GetBytes(7L).CopyTo(garbage, 0);
            await connection.GetDatabase().StringSetAsync(key.ToStorageKey(store.Options.KeyPrefix), garbage);
        }

        var results = new ObjectState?[1];
        await store.ReadAsync([key], results);
        Assert.Equal(7, results[0]!.Version);
        Assert.Empty(results[0]!.Observations);
        Assert.True(results[0]!.Unreadable);
        var committed = new bool[1];
        await store.WriteAsync([new StateWrite(key, 7, StateWith(8, Obs(1, 59000)))], committed);
        Assert.True(committed[0]);
        await store.ReadAsync([key], results);
        Assert.Single(results[0]!.Observations);
        Assert.False(results[0]!.Unreadable);
    }

    // Found by the state bug hunt: a string shorter than 8 bytes (`SET ab:ztf:ZTF18aagtxth x`), or one whose first 8
    // bytes are zero, reads as an unreadable state at version 0, but the check-and-set compared the writer's "" with the
    // stored bytes, so every write lost: the worker retried the batch for ever ("kept losing check-and-set writes") and
    // the partition stopped. The script reads the version as the reader does.
    [Theory]
    [InlineData(new byte[] { (byte)'x' })]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9 })]
    public async Task WriteAsync_OverAShortOrZeroVersionRecord_ReplacesIt(byte[] stored)
    {
        var store = (RedisObjectStateStore)CreateStore();
        var key = NewKey();
        await store.Connection.GetDatabase().StringSetAsync(key.ToStorageKey(store.Options.KeyPrefix), stored);

        var results = new ObjectState?[1];
        await store.ReadAsync([key], results);
        Assert.True(results[0]!.Unreadable);
        Assert.Equal(0, results[0]!.Version);

        var committed = new bool[1];
        await store.WriteAsync([new StateWrite(key, results[0]!.Version, StateWith(1, Obs(1, 59000)))], committed);
        Assert.True(committed[0]);
        await store.ReadAsync([key], results);
        Assert.False(results[0]!.Unreadable);
        Assert.Equal(1, results[0]!.Version);

        // Still a check-and-set: a writer that read no record loses against the one now there.
        await store.WriteAsync([new StateWrite(key, 0, StateWith(1, Obs(2, 59001)))], committed);
        Assert.False(committed[0]);
    }

    public void Dispose()
    {
        foreach (var s in _stores)
        {
            s.Dispose();
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// The same contract on a three-master Redis Cluster: one key per object, so a batch's objects lie in many slots on every
/// master; the batch read (GETs) and the batch check-and-set (one single-key script per object) are pipelined per node by
/// the client, and no command names two keys.
/// </summary>
public sealed class RedisClusterStoreContractTests(RedisClusterFixture redis) : RedisStoreContractTestsBase(redis), IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task Batch_ObjectsOnEveryMaster_ReadAndCheckAndSetWorkAcrossSlots()
    {
        var store = (RedisObjectStateStore)CreateStore();
        using var connection = await _redis.ConnectAsync();
        var db = connection.GetDatabase();
        var keys = new ObjectKey[120];
        var writes = new StateWrite[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = NewKey(i % 3 == 0 ? Survey.Lsst : Survey.Ztf);
            writes[i] = new StateWrite(keys[i], 0, StateWith(1, Obs(i, 59000 + i)));
        }

        var storageKeys = keys.Select(k => (StackExchange.Redis.RedisKey)k.ToStorageKey(store.Options.KeyPrefix)).ToArray();
        var masters = storageKeys.Select(k => db.IdentifyEndpoint(k)!.ToString()).Distinct().Count();
        Assert.Equal(RedisClusterFixture.Masters, masters);
        Assert.True(storageKeys.Select(k => connection.HashSlot(k)).Distinct().Count() > 100, "the objects should spread over many slots");

        var committed = new bool[keys.Length];
        await store.WriteAsync(writes, committed);
        Assert.All(committed, Assert.True);

        // One batch mixing winners and losers on every node: each check-and-set is decided on its own object's node.
        for (var i = 0; i < keys.Length; i++)
        {
            writes[i] = new StateWrite(keys[i], i % 2 == 0 ? 1 : 0, StateWith(2, Obs(i, 59000 + i), Obs(1000 + i, 59100 + i)));
        }

        await store.WriteAsync(writes, committed);
        var results = new ObjectState?[keys.Length];
        await store.ReadAsync(keys, results);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(i % 2 == 0, committed[i]);
            Assert.Equal(i % 2 == 0 ? 2 : 1, results[i]!.Version);
        }

        // Every master holds some of the objects.
        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            Assert.NotEmpty(server.Keys(pattern: store.Options.KeyPrefix + ":*", pageSize: 1000));
        }
    }

    [Fact]
    public async Task Probe_EveryMasterIsAsked_OneFullShardIsSeenAndNamed()
    {
        // The probe used to write one key, so a full shard other than that key's said nothing until a batch was refused
        // there; now every primary takes a PING and a write of a key in its own slots.
        var store = (RedisObjectStateStore)CreateStore();
        Assert.Null(await store.ProbeAsync());
        using var admin = await AlertBroker.Redis.RedisConnectionFactory.ConnectAsync(
            StackExchange.Redis.ConfigurationOptions.Parse(_redis.Configuration + ",allowAdmin=true"), waitForServer: true);
        var masters = admin.GetServers().Where(s => !s.IsReplica).ToList();
        Assert.Equal(RedisClusterFixture.Masters, masters.Count);
        foreach (var server in masters)
        {
            Assert.Single(server.Keys(pattern: store.Options.KeyPrefix + ":probe:*"));
        }

        // Each master in turn at maxmemory 1 (noeviction): the probe says writes are refused and names that master.
        foreach (var full in masters)
        {
            await full.ConfigSetAsync("maxmemory", "1");
            try
            {
                var problem = await store.ProbeAsync();
                Assert.True(problem is { WritesRefused: true }, problem?.ToString());
                Assert.StartsWith($"shard {StackExchange.Redis.EndPointCollection.ToString(full.EndPoint)}: Redis refuses writes: it is full", problem!.Reason, StringComparison.Ordinal);
                Assert.DoesNotContain("more of the", problem.Reason, StringComparison.Ordinal);
            }
            finally
            {
                await full.ConfigSetAsync("maxmemory", "0");
            }
        }

        // Two full shards: the first named, the other counted.
        await masters[0].ConfigSetAsync("maxmemory", "1");
        await masters[1].ConfigSetAsync("maxmemory", "1");
        try
        {
            var problem = await store.ProbeAsync();
            Assert.True(problem is { WritesRefused: true }, problem?.ToString());
            Assert.EndsWith($"(and 1 more of the {RedisClusterFixture.Masters} shards)", problem!.Reason, StringComparison.Ordinal);
        }
        finally
        {
            await masters[0].ConfigSetAsync("maxmemory", "0");
            await masters[1].ConfigSetAsync("maxmemory", "0");
        }

        Assert.Null(await store.ProbeAsync());
    }
}

/// <summary>A Redis Cluster of its own that loses a master: the probe names the shard while the others answer, and never throws.</summary>
public sealed class RedisClusterShardDownTests(RedisClusterFixture redis) : IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task Probe_OneMasterStops_TheShardIsNamed_ThenTheClusterIsDown_NoException()
    {
        Assert.True(redis.Available, redis.UnavailableReason);
        using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions
        {
            Configuration = redis.Configuration,
            KeyPrefix = "down",
            CommandTimeout = TimeSpan.FromSeconds(2),
        });
        Assert.Null(await store.ProbeAsync());

        var port = redis.NodePorts[^1];
        using (var admin = await AlertBroker.Redis.RedisConnectionFactory.ConnectAsync(
            StackExchange.Redis.ConfigurationOptions.Parse($"127.0.0.1:{port},allowAdmin=true"), waitForServer: true))
        {
            try
            {
                admin.GetServer("127.0.0.1", port).Shutdown(StackExchange.Redis.ShutdownMode.Never);
            }
            catch (StackExchange.Redis.RedisConnectionException)
            {
                // The server closes the connection as it stops.
            }
        }

        var problem = await store.ProbeAsync();
        Assert.True(problem is { WritesRefused: false }, problem?.ToString());
        Assert.StartsWith($"shard 127.0.0.1:{port}: ", problem!.Reason, StringComparison.Ordinal);

        // After the node timeout (5 s) the survivors say CLUSTERDOWN to every keyed command: every shard fails, said, not
        // thrown (the reason names the first in endpoint order, the stopped one or a survivor, and counts the others).
        var every = $"(and 2 more of the {RedisClusterFixture.Masters} shards)";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            problem = await store.ProbeAsync();
            Assert.NotNull(problem);
            if (problem.Reason.EndsWith(every, StringComparison.Ordinal))
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.EndsWith(every, problem!.Reason, StringComparison.Ordinal);
    }
}
