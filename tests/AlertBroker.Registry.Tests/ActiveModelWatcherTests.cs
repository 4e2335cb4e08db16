using AlertBroker.Model.Scoring;
using StackExchange.Redis;

namespace AlertBroker.Registry.Tests;

public sealed class ActiveModelWatcherTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-watch-").FullName;
    private readonly DirectoryModelRegistry _registry;
    private readonly ModelPromoter _promoter;

    public ActiveModelWatcherTests()
    {
        _registry = new DirectoryModelRegistry(_root);
        _promoter = new ModelPromoter(_registry);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Check_AfterEachPromotion_SwitchesOnce_AndOldLeasesKeepWorking()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await using var watcher = new ActiveModelWatcher(_registry, new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromHours(1) });
        await watcher.StartAsync();
        Assert.Null(watcher.Current);

        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        await watcher.CheckNowAsync();
        await watcher.CheckNowAsync();
        Assert.Equal(new ModelRef("m", "1"), watcher.Current!.Ref);
        Assert.Equal(1, watcher.Switches);

        // A batch in flight keeps its model across the switch, and can still score with it.
        using (var lease = watcher.Acquire()!.Value)
        {
            await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions());
            await watcher.CheckNowAsync();
            Assert.Equal(new ModelRef("m", "2"), watcher.Current!.Ref);
            Assert.Equal(new ModelRef("m", "1"), lease.Model.Ref);
            var d = lease.Model.Scorer.Dimensions;
            var result = lease.Model.Scorer.Score([new ScoringRequest(new float[d.InputFeatures], new float[d.MetaFeatures], ReadOnlyMemory<float>.Empty)]);
            Assert.Single(result);
        }

        Assert.Equal(2, watcher.Switches);
        await _promoter.RollbackAsync("t", null);
        await watcher.CheckNowAsync();
        Assert.Equal(new ModelRef("m", "1"), watcher.Current!.Ref);
        Assert.Equal(3, watcher.Switches);
    }

    [Fact]
    public async Task Check_BrokenModelMadeActive_IsRefused_CurrentStays_ErrorIsReported()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        await _registry.PushAsync(TestPackages.CorruptOnnx("m", "2"), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "3", 3), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        await using var watcher = new ActiveModelWatcher(_registry, new ActiveModelWatcherOptions { WorkerId = "w1", PollInterval = TimeSpan.FromHours(1) });
        var refusals = new List<string>();
        watcher.Refused += refusals.Add;
        await watcher.StartAsync();

        // Bypass the promotion gate, as a hand-edited pointer would.
        var v1 = (await _registry.GetActiveAsync())!;
        var v2 = RegistryContractTests.Active((await _registry.GetAsync(new ModelRef("m", "2")))!);
        await _registry.SetActiveAsync(v1, v2, RegistryContractTests.Record("promote", v1, v2));
        await watcher.CheckNowAsync();

        Assert.Equal(new ModelRef("m", "1"), watcher.Current!.Ref);
        Assert.Contains("m@2", watcher.LastError, StringComparison.Ordinal);
        Assert.Contains("m@2", Assert.Single(refusals), StringComparison.Ordinal);

        // A refused pointer is not retried on every check: only a new pointer is loaded again.
        await watcher.CheckNowAsync();
        Assert.Single(refusals);
        await watcher.ReportHeartbeatAsync();
        var heartbeat = Assert.Single(await _registry.GetWorkersAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal("m@1", heartbeat.Model);
        Assert.Contains("m@2", heartbeat.LastError, StringComparison.Ordinal);

        // The next good promotion goes through and clears the error.
        await _promoter.PromoteAsync(new ModelRef("m", "3"), new PromotionOptions());
        await watcher.CheckNowAsync();
        Assert.Equal(new ModelRef("m", "3"), watcher.Current!.Ref);
        Assert.Null(watcher.LastError);
    }

    [Fact]
    public async Task Check_BytesTamperedAfterPromotion_AreRefused()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions());
        File.WriteAllBytes(Path.Combine(_root, "m", "2", "model.onnx"), [1, 2, 3, 4]);
        await using var watcher = new ActiveModelWatcher(_registry, new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromHours(1) });

        await watcher.StartAsync();

        Assert.Null(watcher.Current);
        Assert.Contains("SHA-256", watcher.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Poll_WithoutNotifications_CatchesUp()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        await using var watcher = new ActiveModelWatcher(_registry, new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromMilliseconds(100), HeartbeatInterval = TimeSpan.FromMilliseconds(100) });
        var switched = new TaskCompletionSource<LoadedModel>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Switched += m => switched.TrySetResult(m);
        await watcher.StartAsync();

        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());

        Assert.Equal(new ModelRef("m", "1"), (await switched.Task.WaitAsync(TimeSpan.FromSeconds(30))).Ref);
    }
}

public sealed class RedisWatcherTests(RedisServerFixture redis) : RedisWatcherTestsBase(redis), IClassFixture<RedisServerFixture>;

/// <summary>Pub/sub notifications through an ACL user over TLS.</summary>
public sealed class SecureRedisWatcherTests(SecureRedisServerFixture redis) : RedisWatcherTestsBase(redis), IClassFixture<SecureRedisServerFixture>;

public abstract class RedisWatcherTestsBase : IDisposable
{
    private readonly ConnectionMultiplexer _connection;

    protected RedisWatcherTestsBase(RedisServerFixture redis)
    {
        Assert.True(redis.Available, redis.UnavailableReason);
        _connection = redis.Connect();
    }

    public void Dispose()
    {
        _connection.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Notification_SwitchesWithoutWaitingForThePoll()
    {
        var registry = new RedisModelRegistry(_connection, "watch-" + Guid.NewGuid().ToString("N"));
        await registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        await using var watcher = new ActiveModelWatcher(registry, new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromHours(1), HeartbeatInterval = TimeSpan.FromHours(1) });
        var switched = new TaskCompletionSource<LoadedModel>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Switched += m => switched.TrySetResult(m);
        await watcher.StartAsync();

        await new ModelPromoter(registry).PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());

        Assert.Equal(new ModelRef("m", "1"), (await switched.Task.WaitAsync(TimeSpan.FromSeconds(30))).Ref);
    }
}

/// <summary>Promotions reaching a watcher through a three-master Redis Cluster.</summary>
public sealed class ClusterRedisWatcherTests(RedisClusterFixture redis) : RedisWatcherTestsBase(redis), IClassFixture<RedisClusterFixture>;
