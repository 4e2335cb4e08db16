namespace AlertBroker.Redis;

/// <summary>How a connection behaves (as opposed to <see cref="RedisOptions"/>, which says how it authenticates).</summary>
public sealed record RedisClientSettings
{
    /// <summary>Time a command may take before it counts as a failure; also bounds each connect attempt (at most 5 s).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Connect attempts per endpoint before the first connect gives up.</summary>
    public int ConnectRetry { get; init; } = 3;

    /// <summary>
    /// When no endpoint answers at the first connect: true returns a connection that keeps retrying in the background
    /// (commands fail until it connects); false throws <see cref="RedisConnectionFailedException"/> with
    /// <see cref="RedisConnectFailure.Unreachable"/>. A refused password or TLS handshake always throws.
    /// </summary>
    public bool WaitForServer { get; init; }

    /// <summary>Client name shown by <c>CLIENT LIST</c>; empty: the library's default.</summary>
    public string? ClientName { get; init; }
}
