using AlertBroker.Redis;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// The worker's start-up line "State store: Redis at … (user U, TLS T)" showed the AlertBroker:Redis settings alone: a
/// connection string with <c>user=alice,ssl=true</c> was logged as "user default, TLS False".
/// </summary>
public sealed class RedisStateDescriptionTests
{
    [Fact]
    public void UserAndTlsInTheConnectionString_AreTheOnesDescribed_WithoutThePassword()
    {
        var (endpoints, user, tls) = ServiceCollectionExtensions.DescribeRedisState(new RedisStateOptions { Configuration = "127.0.0.1:6390,user=alice,password=secret,ssl=true" });

        Assert.Equal("127.0.0.1:6390", endpoints);
        Assert.Equal("alice", user);
        Assert.True(tls);
    }

    [Fact]
    public void UserFromTheSettings_AndThePlainDefault()
    {
        Assert.Equal(("127.0.0.1:6391", "bob", false), ServiceCollectionExtensions.DescribeRedisState(new RedisStateOptions { Configuration = "127.0.0.1:6391", Security = new RedisOptions { User = "bob", Password = "p" } }));
        Assert.Equal(("127.0.0.1:6392", "default", false), ServiceCollectionExtensions.DescribeRedisState(new RedisStateOptions { Configuration = "127.0.0.1:6392" }));
    }
}
