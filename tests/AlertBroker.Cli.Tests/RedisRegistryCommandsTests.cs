using AlertBroker.Registry;

namespace AlertBroker.Cli.Tests;

/// <summary><c>alertbroker models … --redis</c> against a redis-server that wants an ACL user, a password and TLS.</summary>
public sealed class RedisRegistryCommandsTests : IClassFixture<SecureRedisServerFixture>, IDisposable
{
    private readonly SecureRedisServerFixture _redis;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-redis-cli-").FullName;
    private readonly string _prefix = "cli" + Guid.NewGuid().ToString("N")[..8];

    public RedisRegistryCommandsTests(SecureRedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task PushPromoteStatus_AclUserOverTls_WorkAndReachTheRegistry()
    {
        var package = TestModelPackages.Export(Path.Combine(_root, "v1"), "cli-secure", "1", 3, classes: ["a", "b"]);
        Assert.Equal(0, await RunAsync(["models", "push", package, .. Connection(), "--redis-password", _redis.Password!]));

        // The password may come from $ALERTBROKER_REDIS_PASSWORD instead of the command line.
        Environment.SetEnvironmentVariable("ALERTBROKER_REDIS_PASSWORD", _redis.Password);
        try
        {
            Assert.Equal(0, await RunAsync(["models", "promote", "cli-secure@1", .. Connection()]));
            Assert.Equal(0, await RunAsync(["models", "status", .. Connection()]));
            Assert.Equal(0, await RunAsync(["models", "list", .. Connection()]));
        }
        finally
        {
            Environment.SetEnvironmentVariable("ALERTBROKER_REDIS_PASSWORD", null);
        }

        using var connection = await _redis.ConnectAsync();
        var registry = new RedisModelRegistry(connection, _prefix);
        Assert.Equal("cli-secure@1", (await registry.GetActiveAsync("ztf"))!.Ref.ToString());
    }

    [Fact]
    public async Task List_WrongPassword_ExitsWith4()
    {
        Assert.Equal(4, await RunAsync(["models", "list", .. Connection(), "--redis-password", "not-it"]));
    }

    [Fact]
    public async Task List_NoTlsAgainstTheTlsPort_ExitsWith4()
    {
        Assert.Equal(4, await RunAsync(["models", "list", "--redis", _redis.Configuration, "--prefix", _prefix, "--redis-user", _redis.User!, "--redis-password", _redis.Password!]));
    }

    [Fact]
    public async Task List_KeyWithoutCertificate_ExitsWith2BeforeConnecting()
    {
        Assert.Equal(2, await RunAsync(["models", "list", .. Connection(), "--redis-password", _redis.Password!, "--redis-key", _redis.ClientKeyFile!]));
    }

    [Fact]
    public async Task Run_WrongRedisPassword_ExitsWith4BeforeConsuming()
    {
        var exit = await RunAsync(["run", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--http-port", "0", "--redis", _redis.Configuration, "--redis-user", _redis.User!, "--redis-ca", _redis.CaFile!, "--redis-password", "not-it"]);
        Assert.Equal(4, exit);
    }

    [Fact]
    public async Task Run_SeveralInvalidSections_ExitsWith2()
    {
        // Kafka (no bootstrap servers) and Redis (a key without its certificate) both fail validation: one start reports both.
        Assert.Equal(2, await RunAsync(["run", "--topic", "t", "--http-port", "0", "--redis-key", _redis.ClientKeyFile!]));
    }

    private string[] Connection() =>
        ["--redis", _redis.Configuration, "--prefix", _prefix, "--redis-user", _redis.User!, "--redis-ca", _redis.CaFile!];

    private static Task<int> RunAsync(string[] args) => AlertBrokerCommand.Create().Parse(args).InvokeAsync();
}
