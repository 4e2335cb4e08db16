using AlertBroker.Model.Packaging;
using StackExchange.Redis;

namespace AlertBroker.Registry.Tests;

/// <summary>One behaviour, two stores: every test runs against Redis and against a directory.</summary>
public abstract class RegistryContractTests
{
    protected abstract IModelRegistry CreateRegistry();

    /// <summary>Overwrites the stored ONNX bytes behind the registry's back.</summary>
    protected abstract Task TamperAsync(IModelRegistry registry, ModelRef model, byte[] onnx);

    [Fact]
    public async Task Push_ThenGet_ReturnsDescriptionAndVerifiedBytes()
    {
        var registry = CreateRegistry();
        var package = TestPackages.Valid("ztf-gru", "1");

        var pushed = await registry.PushAsync(package, "alice");

        Assert.Equal("ztf-gru", pushed.Name);
        Assert.Equal("1", pushed.Version);
        Assert.Equal(ModelPackage.ComputeSha256(package.Onnx), pushed.Sha256);
        Assert.Equal("alertbroker-lc v1", pushed.Encoding);
        Assert.Equal("alice", pushed.PushedBy);
        Assert.Equal(5, pushed.Classes.Count);
        var bytes = await registry.GetPackageAsync(new ModelRef("ztf-gru", "1"));
        Assert.Equal(package.Onnx, bytes.Onnx);
        Assert.Equal(package.Manifest, bytes.Manifest);
        Assert.Equal(["ztf-gru@1"], (await registry.ListAsync()).Select(m => m.Ref.ToString()));
    }

    [Fact]
    public async Task Push_SameVersionAgain_IsIdempotent_ButOtherBytesAreRefused()
    {
        var registry = CreateRegistry();
        await registry.PushAsync(TestPackages.Valid("m", "1", seed: 1), "a");
        await registry.PushAsync(TestPackages.Valid("m", "1", seed: 1), "a");

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(TestPackages.Valid("m", "1", seed: 2), "a"));
        Assert.Contains("already registered", e.Message, StringComparison.Ordinal);
        Assert.Single(await registry.ListAsync());
    }

    [Fact]
    public async Task Push_TamperedPackage_IsRefused()
    {
        var registry = CreateRegistry();
        var valid = TestPackages.Valid("m", "1");
        var tampered = new ModelPackageBytes(valid.Manifest, [.. valid.Onnx[..^1], (byte)(valid.Onnx[^1] ^ 1)]);

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(tampered, "a"));
        Assert.Contains("SHA-256", e.Message, StringComparison.Ordinal);
        Assert.Empty(await registry.ListAsync());
    }

    [Fact]
    public async Task GetPackage_BytesChangedAfterPush_IsRefused()
    {
        var registry = CreateRegistry();
        var model = (await registry.PushAsync(TestPackages.Valid("m", "1"), "a")).Ref;
        await TamperAsync(registry, model, [1, 2, 3]);

        await Assert.ThrowsAsync<RegistryException>(() => registry.GetPackageAsync(model));
    }

    [Fact]
    public async Task SetActive_IsCompareAndSet_AndKeepsHistoryAndAudit()
    {
        var registry = CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a"));

        await registry.SetActiveAsync(null, v1, Record("promote", null, v1));
        await registry.SetActiveAsync(v1, v2, Record("promote", v1, v2));

        // A promotion checked against a stale pointer must not land.
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync(v1, v1, Record("promote", v1, v1)));
        Assert.Equal(v2.Ref, (await registry.GetActiveAsync())!.Ref);
        Assert.Equal(v1.Ref, (await registry.GetPreviousAsync())!.Ref);

        var restored = await registry.RollbackAsync(v2, Record("rollback", v2, v1));
        Assert.Equal(v1.Ref, restored.Ref);
        Assert.Equal(v1.Ref, (await registry.GetActiveAsync())!.Ref);
        Assert.Null(await registry.GetPreviousAsync());
        await Assert.ThrowsAsync<RegistryException>(() => registry.RollbackAsync(v1, Record("rollback", v1, v1)));

        var audit = await registry.GetAuditAsync();
        Assert.Equal(["promote", "promote", "rollback"], audit.Select(r => r.Action));
        Assert.Equal(["m@1", "m@2", "m@1"], audit.Select(r => r.To));
    }

    [Fact]
    public async Task Heartbeats_OnlyRecentOnesAreReported()
    {
        var registry = CreateRegistry();
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w1", Model = "m@1", Utc = DateTimeOffset.UtcNow });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w2", Model = "m@1", Utc = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10) });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w1", Model = "m@2", Utc = DateTimeOffset.UtcNow });

        var workers = await registry.GetWorkersAsync(TimeSpan.FromMinutes(1));

        var w = Assert.Single(workers);
        Assert.Equal("w1", w.WorkerId);
        Assert.Equal("m@2", w.Model);
    }

    internal static ActivePointer Active(RegisteredModel m) => new() { Name = m.Name, Version = m.Version, Sha256 = m.Sha256, SinceUtc = DateTimeOffset.UtcNow };

    internal static PromotionRecord Record(string action, ActivePointer? from, ActivePointer to) =>
        new() { Action = action, Utc = DateTimeOffset.UtcNow, From = from?.Ref.ToString(), To = to.Ref.ToString(), By = "test" };
}

public sealed class DirectoryRegistryTests : RegistryContractTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-registry-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    protected override IModelRegistry CreateRegistry() => new DirectoryModelRegistry(Path.Combine(_root, Guid.NewGuid().ToString("N")));

    protected override Task TamperAsync(IModelRegistry registry, ModelRef model, byte[] onnx)
    {
        File.WriteAllBytes(Path.Combine(((DirectoryModelRegistry)registry).Root, model.Name, model.Version, "model.onnx"), onnx);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Push_NameThatEscapesTheRoot_IsRefused()
    {
        var registry = CreateRegistry();
        await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(TestPackages.Renamed("..", "1"), "a"));
    }
}

/// <summary>The contract on a plain redis-server.</summary>
public sealed class RedisRegistryTests(RedisServerFixture redis) : RedisRegistryTestsBase(redis), IClassFixture<RedisServerFixture>;

/// <summary>The same contract (and pub/sub notifications) with an ACL user and password over TLS.</summary>
public sealed class SecureRedisRegistryTests(SecureRedisServerFixture redis) : RedisRegistryTestsBase(redis), IClassFixture<SecureRedisServerFixture>;

public abstract class RedisRegistryTestsBase : RegistryContractTests, IDisposable
{
    private readonly ConnectionMultiplexer _connection;

    protected RedisRegistryTestsBase(RedisServerFixture redis)
    {
        Assert.True(redis.Available, redis.UnavailableReason);
        _connection = redis.Connect();
    }

    public void Dispose()
    {
        _connection.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override IModelRegistry CreateRegistry() => new RedisModelRegistry(_connection, "test-" + Guid.NewGuid().ToString("N"));

    protected override Task TamperAsync(IModelRegistry registry, ModelRef model, byte[] onnx) =>
        _connection.GetDatabase().StringSetAsync(((RedisModelRegistry)registry).EventsChannel.Replace(":models:events", ":model:" + model + ":onnx", StringComparison.Ordinal), onnx);

    [Fact]
    public async Task SetActive_PublishesTheNewPointer()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var received = new TaskCompletionSource<ActivePointer>(TaskCreationOptions.RunContinuationsAsynchronously);
        await registry.SubscribeAsync(a => received.TrySetResult(a));
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));

        await registry.SetActiveAsync(null, v1, Record("promote", null, v1));

        var notified = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(v1.Ref, notified.Ref);
        Assert.Equal(v1.Sha256, notified.Sha256);
    }
}
