using System.Net.Sockets;
using StackExchange.Redis;

namespace AlertBroker.Redis.Tests;

/// <summary>The configuration the factory builds, and what it does with passwords in text (no server needed).</summary>
public sealed class RedisConnectionFactoryTests
{
    [Fact]
    public void CreateConfiguration_TypedSettings_AreApplied()
    {
        var c = RedisConnectionFactory.CreateConfiguration(
            "10.0.0.1:6380",
            new RedisOptions { User = "alertbroker", Password = "s3cret", Tls = true },
            new RedisClientSettings { CommandTimeout = TimeSpan.FromSeconds(2), WaitForServer = true, ClientName = "worker-1" });
        Assert.Equal("alertbroker", c.User);
        Assert.Equal("s3cret", c.Password);
        Assert.True(c.Ssl);
        Assert.Equal(2000, c.SyncTimeout);
        Assert.Equal(2000, c.AsyncTimeout);
        Assert.False(c.AbortOnConnectFail);
        Assert.Equal("worker-1", c.ClientName);
        Assert.Equal("10.0.0.1:6380", RedisConnectionFactory.DescribeEndpoints(c));
    }

    [Fact]
    public void CreateConfiguration_TypedPasswordAndString_TypedWins()
    {
        var c = RedisConnectionFactory.CreateConfiguration("h:1,password=old,user=olduser", new RedisOptions { User = "new", Password = "newer" });
        Assert.Equal("new", c.User);
        Assert.Equal("newer", c.Password);

        var fromString = RedisConnectionFactory.CreateConfiguration("h:1,password=kept");
        Assert.Equal("kept", fromString.Password);
        Assert.False(fromString.Ssl);
    }

    [Fact]
    public void CreateConfiguration_SeveralEndpoints_KeepsThemAllForAClusterOrReplicas()
    {
        var c = RedisConnectionFactory.CreateConfiguration("n1:7000,n2:7001,n3:7002");
        Assert.Equal("n1:7000,n2:7001,n3:7002", RedisConnectionFactory.DescribeEndpoints(c));
    }

    [Fact]
    public void CreateConfiguration_UnknownOption_ThrowsWithoutThePassword()
    {
        var e = Assert.Throws<ArgumentException>(() => RedisConnectionFactory.CreateConfiguration("h:1,password=topsecret,bogus=1"));
        Assert.DoesNotContain("topsecret", e.Message, StringComparison.Ordinal);
        Assert.Contains("password=*****", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateConfiguration_NoEndpoint_Throws()
    {
        Assert.Throws<ArgumentException>(() => RedisConnectionFactory.CreateConfiguration("password=x"));
        Assert.Throws<ArgumentException>(() => RedisConnectionFactory.CreateConfiguration(" "));
    }

    [Theory]
    [InlineData("a,,b")]
    [InlineData("a:1,")]
    [InlineData(",a:1")]
    [InlineData("a:1, ,b:1,password=topsecret")]
    public void CreateConfiguration_EmptyEntry_ThrowsNamingIt(string endpoints)
    {
        var e = Assert.Throws<ArgumentException>(() => RedisConnectionFactory.CreateConfiguration(endpoints));
        Assert.Contains("empty entry", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("topsecret", e.Message, StringComparison.Ordinal);
    }

    // Port 0 was replaced by 6379 without a word (a Redis there would be used); a URL and an entry without a host were
    // taken as hosts ("Redis at redis://h:1:6379 is unreachable").
    [Theory]
    [InlineData("127.0.0.1:0", "'127.0.0.1:0' has port 0")]
    [InlineData("a:1,b:00", "'b:00' has port 0")]
    [InlineData("[::1]:0", "'[::1]:0' has port 0")]
    [InlineData("redis://127.0.0.1:16391", "'redis://127.0.0.1:16391' is a URL, not host:port")]
    [InlineData(":16391,password=topsecret", "':16391' has no host")]
    public void CreateConfiguration_EntryThatIsNoHostAndPort_ThrowsNamingIt(string endpoints, string said)
    {
        var e = Assert.Throws<ArgumentException>(() => RedisConnectionFactory.CreateConfiguration(endpoints));
        Assert.Contains(said, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("topsecret", e.Message, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1:6379,[::1]:7000,h:6379", RedisConnectionFactory.DescribeEndpoints(RedisConnectionFactory.CreateConfiguration("127.0.0.1,[::1]:7000,h,ssl=false")));
    }

    [Theory]
    [InlineData("a,b", false, "a:6379,b:6379")]
    [InlineData("a,b:7000", true, "a:6380,b:7000")]
    [InlineData("10.0.0.1", false, "10.0.0.1:6379")]
    public void CreateConfiguration_HostWithoutPort_GetsTheDefaultPortNotZero(string endpoints, bool tls, string expected)
    {
        var c = RedisConnectionFactory.CreateConfiguration(endpoints, new RedisOptions { Tls = tls });
        Assert.Equal(expected, RedisConnectionFactory.DescribeEndpoints(c));
    }

    [Theory]
    [InlineData("127.0.0.1:6379,password=abc", "127.0.0.1:6379,password=*****")]
    [InlineData("h:1,Password = abc,ssl=true", "h:1,Password = *****,ssl=true")]
    [InlineData("password=abc,h:1", "password=*****,h:1")]
    [InlineData("connecting to rediss://user:pa55@host:6379 failed", "connecting to rediss://user:*****@host:6379 failed")]
    [InlineData("h:1,user=alertbroker", "h:1,user=alertbroker")]
    [InlineData("h:1,sslpassword=x", "h:1,sslpassword=x")]
    [InlineData("", "")]
    public void Redact_Text_HidesOnlyPasswords(string text, string expected)
    {
        Assert.Equal(expected, RedisConnectionFactory.Redact(text));
    }

    // StackExchange.Redis splits its options at commas only and trims each value, so a password may hold spaces; the
    // redaction stopped at the first one ("password=***** cd") until 2026-12-07.
    [Theory]
    [InlineData("127.0.0.1:6390,password=ab cd", "127.0.0.1:6390,password=*****", "ab cd")]
    [InlineData("h:1,PASSWORD = ab cd ,ssl=false", "h:1,PASSWORD = *****,ssl=false", "ab cd")]
    [InlineData("h:1,user=u,Password=a b\tc=d", "h:1,user=u,Password=*****", "a b\tc=d")]
    public void Redact_PasswordWithSpaces_HidesAllOfIt(string configuration, string expected, string parsedPassword)
    {
        Assert.Equal(parsedPassword, ConfigurationOptions.Parse(configuration).Password);
        Assert.Equal(expected, RedisConnectionFactory.Redact(configuration));
    }

    [Theory]
    [InlineData("127.0.0.1:6390,password=ab cd", false, "127.0.0.1:6390")]
    [InlineData("h:1,User=u,PASSWORD=p q,abortConnect=false", false, "h:1")]
    [InlineData("a,b:7000,password=x", true, "a:6380,b:7000")]
    [InlineData("h:1,nosuchoption=1,password=x y", false, "h:1,nosuchoption=1,password=*****")]
    [InlineData("  ", false, "")]
    public void Describe_ConnectionString_EndpointsOnlyNeverThePassword(string configuration, bool tls, string expected)
    {
        Assert.Equal(expected, RedisConnectionFactory.Describe(configuration, tls));
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_ThrowsUnreachable()
    {
        var port = TestPorts.Free();
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync("127.0.0.1:" + port, new RedisOptions { Password = "hunter2" }, new RedisClientSettings { ConnectRetry = 1 }));
        Assert.Equal(RedisConnectFailure.Unreachable, e.Failure);
        Assert.Equal("127.0.0.1:" + port, e.Endpoints);
        Assert.DoesNotContain("hunter2", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_WaitForServer_ConnectsOnceTheServerStarts()
    {
        Assert.NotNull(RedisServerFixture.FindServer());
        var port = TestPorts.Free();
        using var connection = await RedisConnectionFactory.ConnectAsync("127.0.0.1:" + port, client: new RedisClientSettings { WaitForServer = true, ConnectRetry = 1 });
        Assert.False(connection.IsConnected);

        var server = new RedisServerFixture();
        try
        {
            await server.StartAsync(port);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!connection.IsConnected && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.True(connection.IsConnected);
            Assert.True(await connection.GetDatabase().StringSetAsync("k", "v"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    // A store that waits for its server (the worker's, serve's) went to the client's own first attempt even when nothing
    // listened, and that attempt waits out the whole connect timeout (5 s) for a refused connection: serve listened 5.7 s
    // after its start with the state store's Redis down, 0.6 s since (docs/operations.md). What decides the short way:
    [Fact]
    public async Task EveryEndpointRefuses_NothingListening_True_OneListening_False()
    {
        using var listening = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listening.Start();
        var open = ((System.Net.IPEndPoint)listening.LocalEndpoint).Port;
        var closed = ClosedPort();

        Assert.True(await RedisConnectionFactory.EveryEndpointRefusesAsync(ConfigurationOptions.Parse($"127.0.0.1:{closed}")));
        Assert.False(await RedisConnectionFactory.EveryEndpointRefusesAsync(ConfigurationOptions.Parse($"127.0.0.1:{open}")));
        Assert.False(await RedisConnectionFactory.EveryEndpointRefusesAsync(ConfigurationOptions.Parse($"127.0.0.1:{closed},127.0.0.1:{open}")));
        Assert.False(await RedisConnectionFactory.EveryEndpointRefusesAsync(ConfigurationOptions.Parse("no-such-host.invalid:6379")));
    }

    // A loopback port nothing listens on (one just let go).
    private static int ClosedPort()
    {
        using var gone = new TcpListener(System.Net.IPAddress.Loopback, 0);
        gone.Start();
        var port = ((System.Net.IPEndPoint)gone.LocalEndpoint).Port;
        gone.Stop();
        return port;
    }

    [Fact]
    public async Task ConnectAsync_WaitingForAServerThatRefuses_ReturnsAConnectionThatRetries()
    {
        var closed = ClosedPort();

        var configuration = RedisConnectionFactory.CreateConfiguration($"127.0.0.1:{closed}", null, new RedisClientSettings { WaitForServer = true });
        using var connection = await RedisConnectionFactory.ConnectAsync(configuration, waitForServer: true);

        Assert.False(connection.IsConnected);
    }
}

/// <summary>ACL user and password over TLS against a real redis-server (CA and certificates made by openssl).</summary>
public sealed class SecureRedisConnectionTests : IClassFixture<SecureRedisServerFixture>
{
    private readonly SecureRedisServerFixture _redis;

    public SecureRedisConnectionTests(SecureRedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    [Fact]
    public async Task ConnectAsync_AclUserOverTls_ReadsAndWrites()
    {
        using var connection = await RedisConnectionFactory.ConnectAsync(_redis.Configuration, _redis.SecurityOptions());
        var db = connection.GetDatabase();
        var key = "k" + Guid.NewGuid().ToString("N");
        Assert.True(await db.StringSetAsync(key, "v"));
        Assert.Equal("v", (string?)await db.StringGetAsync(key));
        Assert.Equal(_redis.User, (string?)await db.ExecuteAsync("ACL", "WHOAMI"));
    }

    [Fact]
    public async Task ConnectAsync_WrongPassword_ThrowsAuthenticationWithoutThePassword()
    {
        var options = _redis.SecurityOptions();
        options.Password = "wrong-" + Guid.NewGuid().ToString("N");
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration, options));
        Assert.Equal(RedisConnectFailure.Authentication, e.Failure);
        Assert.Contains("refused the credentials of user 'alertbroker'", e.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(options.Password, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_redis.Password!, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_NoCredentials_ThrowsAuthentication()
    {
        var options = _redis.SecurityOptions();
        options.User = null;
        options.Password = null;
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration, options));
        Assert.Equal(RedisConnectFailure.Authentication, e.Failure);
    }

    [Fact]
    public async Task ConnectAsync_ServerCertificateFromAnotherCa_ThrowsTls()
    {
        var options = _redis.SecurityOptions();
        options.TlsCaFile = _redis.OtherCaFile;
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration, options));
        Assert.Equal(RedisConnectFailure.Tls, e.Failure);
        Assert.Contains("TLS handshake", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_NoCaFile_ThrowsTlsBecauseTheTestCaIsNotTrusted()
    {
        var options = _redis.SecurityOptions();
        options.TlsCaFile = null;
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration, options));
        Assert.Equal(RedisConnectFailure.Tls, e.Failure);
    }

    [Fact]
    public async Task ConnectAsync_HostNameNotInTheCertificate_ThrowsTls()
    {
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration + ",sslHost=redis.example.org", _redis.SecurityOptions()));
        Assert.Equal(RedisConnectFailure.Tls, e.Failure);
    }

    [Fact]
    public async Task ConnectAsync_LocalhostName_MatchesTheCertificate()
    {
        using var connection = await RedisConnectionFactory.ConnectAsync("localhost:" + _redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), _redis.SecurityOptions());
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task ConnectAsync_PlainTextToTheTlsPort_ThrowsUnreachableAndSuggestsTls()
    {
        var options = _redis.SecurityOptions();
        options.Tls = false;
        options.TlsCaFile = null;
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration, options, new RedisClientSettings { ConnectRetry = 1 }));
        Assert.Equal(RedisConnectFailure.Unreachable, e.Failure);
        Assert.Contains("set Tls", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connection_ServerRestarted_ReconnectsWithTheSameCredentials()
    {
        using var connection = await _redis.ConnectAsync();
        var key = "restart" + Guid.NewGuid().ToString("N");
        await connection.GetDatabase().StringSetAsync(key, "kept");
        await _redis.RestartAsync(TimeSpan.FromMilliseconds(300));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        RedisValue value = default;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                value = await connection.GetDatabase().StringGetAsync(key);
                break;
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(200);
            }
        }

        Assert.Equal("kept", (string?)value);
    }
}

/// <summary>A server that requires client certificates.</summary>
public sealed class MutualTlsRedisConnectionTests : IClassFixture<MutualTlsRedisServerFixture>
{
    private readonly MutualTlsRedisServerFixture _redis;

    public MutualTlsRedisConnectionTests(MutualTlsRedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    [Fact]
    public async Task ConnectAsync_WithClientCertificate_Connects()
    {
        using var connection = await RedisConnectionFactory.ConnectAsync(_redis.Configuration, _redis.SecurityOptions());
        Assert.True(await connection.GetDatabase().StringSetAsync("k" + Guid.NewGuid().ToString("N"), "v"));
    }

    [Fact]
    public async Task ConnectAsync_WithoutClientCertificate_Fails()
    {
        var options = _redis.SecurityOptions();
        options.TlsCertificateFile = null;
        options.TlsKeyFile = null;
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration, options, new RedisClientSettings { ConnectRetry = 1 }));
        Assert.NotEqual(RedisConnectFailure.Authentication, e.Failure);
    }
}

/// <summary>A Sentinel that answers but monitors no primary of the name given: the error says to check the name.</summary>
public sealed class SentinelConnectionTests(RedisSentinelFixture sentinel) : IClassFixture<RedisSentinelFixture>
{
    [Fact]
    public async Task ConnectAsync_SentinelWithoutThatServiceName_SaysToCheckTheName()
    {
        Assert.True(sentinel.Available, sentinel.UnavailableReason);
        var endpoints = "127.0.0.1:" + sentinel.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(endpoints + ",serviceName=no-such-primary", client: new RedisClientSettings { ConnectRetry = 1 }));
        Assert.Equal(RedisConnectFailure.Unreachable, e.Failure);
        Assert.Contains("With serviceName=no-such-primary these are Sentinels: does one of them monitor a primary of that name", e.Message, StringComparison.Ordinal);

        using var right = await RedisConnectionFactory.ConnectAsync(sentinel.Configuration);
        Assert.Equal("PONG", (await right.GetDatabase().ExecuteAsync("PING")).ToString());
    }
}

/// <summary>Credentials against a server whose default user needs no password.</summary>
public sealed class DefaultUserRedisConnectionTests : IClassFixture<RedisServerFixture>
{
    private readonly RedisServerFixture _redis;

    public DefaultUserRedisConnectionTests(RedisServerFixture redis)
    {
        _redis = redis;
    }

    // A user whose password the server refused: the client went on as the default user (the registry written, exit 0)
    // though the server answered WRONGPASS.
    [Fact]
    public async Task ConnectAsync_UserWithAWrongPassword_ThrowsAuthenticationNotTheDefaultUser()
    {
        var user = "bob" + Guid.NewGuid().ToString("N")[..8];
        using (var admin = await RedisConnectionFactory.ConnectAsync(_redis.Configuration))
        {
            await admin.GetDatabase().ExecuteAsync("ACL", "SETUSER", user, "on", ">secret", "~*", "&*", "+@all");
        }

        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration, new RedisOptions { User = user, Password = "wrong" }));

        Assert.Equal(RedisConnectFailure.Authentication, e.Failure);
        Assert.Contains($"refused the credentials of user '{user}'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", e.ToString(), StringComparison.Ordinal);
        using var right = await RedisConnectionFactory.ConnectAsync(_redis.Configuration, new RedisOptions { User = user, Password = "secret" });
        Assert.Equal(user, (string?)await right.GetDatabase().ExecuteAsync("ACL", "WHOAMI"));
    }
}
