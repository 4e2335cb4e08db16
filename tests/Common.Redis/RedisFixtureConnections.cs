using AlertBroker.Redis;
using StackExchange.Redis;

namespace AlertBroker.Tests.Common;

/// <summary>How test code connects to a <see cref="RedisServerFixture"/>: through the project's one connection factory, with the fixture's ACL user and TLS files.</summary>
internal static class RedisFixtureConnections
{
    /// <summary>The <c>AlertBroker:Redis</c> settings that open this server (none for a plain one).</summary>
    public static RedisOptions SecurityOptions(this RedisServerFixture redis) => !redis.Tls
        ? redis.Password is null ? RedisOptions.None : new RedisOptions { User = redis.User, Password = redis.Password }
        : new RedisOptions
        {
            User = redis.User,
            Password = redis.Password,
            Tls = true,
            TlsCaFile = redis.CaFile,
            TlsCertificateFile = redis.RequiresClientCertificate ? redis.ClientCertificateFile : null,
            TlsKeyFile = redis.RequiresClientCertificate ? redis.ClientKeyFile : null,
        };

    public static Task<ConnectionMultiplexer> ConnectAsync(this RedisServerFixture redis) =>
        RedisConnectionFactory.ConnectAsync(redis.Configuration, redis.SecurityOptions());

    public static ConnectionMultiplexer Connect(this RedisServerFixture redis) => redis.ConnectAsync().GetAwaiter().GetResult();
}
