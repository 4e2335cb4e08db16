using AlertBroker.Redis;
using AlertBroker.Registry;

namespace AlertBroker.Cli.Tests;

/// <summary><c>alertbroker models …</c> against a registry in a three-master Redis Cluster.</summary>
public sealed class ClusterRegistryCommandsTests : IClassFixture<RedisClusterFixture>, IDisposable
{
    private readonly RedisClusterFixture _redis;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-cluster-cli-").FullName;
    private readonly string _prefix = "cli" + Guid.NewGuid().ToString("N")[..8];

    public ClusterRegistryCommandsTests(RedisClusterFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // In a Cluster the key is found on the node that holds the registry's hash tag.
    [Fact]
    public async Task ModelsList_RegistryKeyOfTheWrongTypeInACluster_NamesTheKey()
    {
        var v1 = TestModelPackages.Export(Path.Combine(_root, "wt"), "wt-gru", "1", 3, classes: ["a", "b"]);
        string[] connection = ["--redis", _redis.Configuration, "--prefix", _prefix];
        Assert.Equal(0, await RunAsync(["models", "push", v1, .. connection]));
        var key = "{" + _prefix + "}:models:index";
        using var redis = await RedisConnectionFactory.ConnectAsync(_redis.Configuration);
        var db = redis.GetDatabase();
        await db.KeyDeleteAsync(key);
        await db.ListRightPushAsync(key, "not a set");

        var run = await AlertBrokerProcess.RunToEndAsync(["models", "list", .. connection]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains(key + " is a list where the registry keeps a set", run.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Before the hash tag, <c>models push</c> died here with <c>Multi-key operations must involve a single slot</c>.</summary>
    [Fact]
    public async Task PushPromoteStatus_RegistryInARedisCluster_WorkAndRecordTheActor()
    {
        var v1 = TestModelPackages.Export(Path.Combine(_root, "v1"), "cluster-gru", "1", 3, classes: ["a", "b"]);
        var v2 = TestModelPackages.Export(Path.Combine(_root, "v2"), "cluster-gru", "2", 4, classes: ["a", "b"]);
        string[] connection = ["--redis", _redis.Configuration, "--prefix", _prefix];

        Assert.Equal(0, await RunAsync(["models", "push", v1, .. connection, "--actor", "ci-bot"]));
        Assert.Equal(0, await RunAsync(["models", "push", v2, .. connection]));
        Assert.Equal(0, await RunAsync(["models", "promote", "cluster-gru@1", .. connection, "--actor", "alice", "--reason", "first"]));
        Assert.Equal(0, await RunAsync(["models", "promote", "cluster-gru@2", .. connection, "--actor", "bob"]));
        Assert.Equal(0, await RunAsync(["models", "status", .. connection]));
        Assert.Equal(0, await RunAsync(["models", "list", .. connection]));
        Assert.Equal(0, await RunAsync(["models", "rollback", .. connection, "--actor", "carol", "--reason", "regression"]));

        using var redis = await RedisConnectionFactory.ConnectAsync(_redis.Configuration);
        var registry = new RedisModelRegistry(redis, _prefix);
        Assert.Equal("cluster-gru@1", (await registry.GetActiveAsync("ztf"))!.Ref.ToString());
        Assert.Equal("ci-bot", (await registry.GetAsync(new ModelRef("cluster-gru", "1")))!.PushedBy);
        Assert.Equal(Environment.UserName, (await registry.GetAsync(new ModelRef("cluster-gru", "2")))!.PushedBy);
        var audit = await registry.GetAuditAsync();
        Assert.Equal(["alice", "bob", "carol"], audit.Select(r => r.By));
        Assert.Equal(["promote", "promote", "rollback"], audit.Select(r => r.Action));
    }

    /// <summary>A promotion Job that runs twice (or a repeated command) succeeds and changes nothing.</summary>
    [Fact]
    public async Task Promote_ModelThatIsAlreadyActive_ExitsZeroAndRecordsNothing()
    {
        var v1 = TestModelPackages.Export(Path.Combine(_root, "again"), "again-gru", "1", 5, classes: ["a", "b"]);
        string[] connection = ["--redis", _redis.Configuration, "--prefix", _prefix + "a"];
        Assert.Equal(0, await RunAsync(["models", "push", v1, .. connection]));
        Assert.Equal(0, await RunAsync(["models", "promote", "again-gru@1", .. connection]));

        var (exit, output, _) = await AlertBrokerProcess.RunAsync(["models", "promote", "again-gru@1", .. connection], timeout: TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, output);
        Assert.Contains("again-gru@1 is already the active model", output, StringComparison.Ordinal);
        using var redis = await RedisConnectionFactory.ConnectAsync(_redis.Configuration);
        Assert.Single(await new RedisModelRegistry(redis, _prefix + "a").GetAuditAsync());
    }

    [Fact]
    public async Task Migrate_NoOldLayout_SaysSoAndExitsZero()
    {
        var (exit, output, _) = await AlertBrokerProcess.RunAsync(["models", "migrate", "--redis", _redis.Configuration, "--prefix", _prefix + "m"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, output);
        Assert.Contains("nothing to migrate", System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "), StringComparison.Ordinal);
    }

    private static Task<int> RunAsync(string[] args) => AlertBrokerCommand.Create().Parse(args).InvokeAsync();
}
