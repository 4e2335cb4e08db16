namespace AlertBroker.Redis.Tests;

/// <summary>TLS asked of a redis-server that does not speak it: the failure is named a TLS handshake failure, not refused credentials.</summary>
public sealed class TlsToPlainRedisTests : IClassFixture<RedisServerFixture>
{
    private readonly RedisServerFixture _redis;

    public TlsToPlainRedisTests(RedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConnectAsync_TlsToAPlainServer_ThrowsTlsAndSaysTheServerMayNotSpeakTls(bool withPassword)
    {
        var options = new RedisOptions { Tls = true, Password = withPassword ? "secret" : null };

        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => RedisConnectionFactory.ConnectAsync(_redis.Configuration, options));

        Assert.Equal(RedisConnectFailure.Tls, e.Failure);
        Assert.Contains("TLS handshake", e.Message, StringComparison.Ordinal);
        Assert.Contains("may not speak TLS", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("user and password", e.Message, StringComparison.Ordinal);
    }
}
