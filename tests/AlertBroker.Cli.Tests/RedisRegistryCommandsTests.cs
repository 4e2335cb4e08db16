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

/// <summary>
/// The <c>models</c> commands configured the way the chart's promote Job and the worker are: environment variables only
/// (<c>AlertBroker__Model__RegistryRedis</c>, <c>AlertBroker__Model__RegistryPrefix</c>, <c>AlertBroker__Redis__*</c>), no options.
/// </summary>
public sealed class RegistryCommandsEnvironmentTests : IClassFixture<SecureRedisServerFixture>, IDisposable
{
    private readonly SecureRedisServerFixture _redis;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-redis-env-").FullName;

    public RegistryCommandsEnvironmentTests(SecureRedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>
    /// A password with a comma and an equals sign (which broke the connection string the chart used to assemble) and a
    /// private CA (which that string could not name): both reach the connection through the typed keys.
    /// </summary>
    [Fact]
    public async Task PushPromoteStatus_EnvironmentOnly_AclUserWithACommaInItsPasswordAndAPrivateCa_Work()
    {
        var user = "job" + Guid.NewGuid().ToString("N")[..6];
        var password = "p,w=" + Guid.NewGuid().ToString("N")[..10] + ",ssl=false";
        Assert.Equal("OK", (await _redis.ExecuteAsync("ACL", "SETUSER", user, "on", ">" + password, "~*", "&*", "+@all"))[1..]);
        var prefix = "env" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string?>
        {
            ["AlertBroker__Model__RegistryRedis"] = _redis.Configuration,
            ["AlertBroker__Model__RegistryPrefix"] = prefix,
            ["AlertBroker__Redis__User"] = user,
            ["AlertBroker__Redis__Password"] = password,
            ["AlertBroker__Redis__Tls"] = "true",
            ["AlertBroker__Redis__TlsCaFile"] = _redis.CaFile,
        };
        var package = TestModelPackages.Export(Path.Combine(_root, "v1"), "env-gru", "1", 3, classes: ["a", "b"]);

        foreach (var args in new[] { new[] { "models", "push", package }, ["models", "promote", "env-gru@1", "--actor", "promote-job"], ["models", "status"] })
        {
            var (exit, output, _) = await AlertBrokerProcess.RunAsync(args, environment, TimeSpan.FromSeconds(120));
            Assert.True(exit == 0, string.Join(' ', args) + " → " + exit + ":\n" + output);
            Assert.DoesNotContain(password, output, StringComparison.Ordinal);
        }

        using var connection = await _redis.ConnectAsync();
        var registry = new RedisModelRegistry(connection, prefix);
        Assert.Equal("env-gru@1", (await registry.GetActiveAsync("ztf"))!.Ref.ToString());
        Assert.Equal("promote-job", Assert.Single(await registry.GetAuditAsync()).By);

        // The same variables with a wrong password: refused credentials, exit code 4, the password not echoed.
        environment["AlertBroker__Redis__Password"] = "wrong," + password;
        var (refused, refusal, _) = await AlertBrokerProcess.RunAsync(["models", "status"], environment, TimeSpan.FromSeconds(120));
        Assert.True(refused == 4, refusal);
        Assert.DoesNotContain(password, refusal, StringComparison.Ordinal);

        // An explicit --registry DIR beats the variables: the package goes to the directory, Redis is not touched (with
        // the variables set it went to Redis).
        environment["AlertBroker__Redis__Password"] = password;
        var directoryRegistry = Path.Combine(_root, "dir-registry");
        var (pushed, pushOutput, _) = await AlertBrokerProcess.RunAsync(["models", "push", package, "--registry", directoryRegistry], environment, TimeSpan.FromSeconds(120));
        Assert.True(pushed == 0, pushOutput);
        Assert.NotEmpty(Directory.GetFileSystemEntries(directoryRegistry));
        Assert.Single(await registry.GetAuditAsync());
        var (listed, list, _) = await AlertBrokerProcess.RunAsync(["models", "list", "--registry", directoryRegistry], environment, TimeSpan.FromSeconds(120));
        Assert.True(listed == 0, list);
        Assert.Contains("env-gru", list, StringComparison.Ordinal);

        // A variable naming a CA file that does not exist is reported by its name (exit code 2).
        environment["AlertBroker__Redis__Password"] = password;
        environment["AlertBroker__Redis__TlsCaFile"] = "/nonexistent/ca.pem";
        var (invalid, message, _) = await AlertBrokerProcess.RunAsync(["models", "status"], environment, TimeSpan.FromSeconds(120));
        Assert.True(invalid == 2, message);
        Assert.Contains("AlertBroker__Redis__TlsCaFile", message, StringComparison.Ordinal);
    }
}
