namespace AlertBroker.Redis;

/// <summary>Why a first connect failed.</summary>
public enum RedisConnectFailure
{
    /// <summary>No endpoint accepted a connection in time.</summary>
    Unreachable,

    /// <summary>The server refused the user name or password (<c>WRONGPASS</c>, <c>NOAUTH</c>).</summary>
    Authentication,

    /// <summary>The TLS handshake failed: untrusted or mismatched server certificate, or a client certificate refused.</summary>
    Tls,
}

/// <summary>
/// A Redis connection could not be opened. The message names the endpoints (never a password) and says what to check.
/// </summary>
public sealed class RedisConnectionFailedException : Exception
{
    public RedisConnectionFailedException()
    {
    }

    public RedisConnectionFailedException(string message)
        : base(message)
    {
    }

    public RedisConnectionFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RedisConnectionFailedException(RedisConnectFailure failure, string endpoints, string message, Exception? innerException)
        : base(message, innerException)
    {
        Failure = failure;
        Endpoints = endpoints;
    }

    public RedisConnectFailure Failure { get; }

    /// <summary>The endpoints tried, as configured with any password removed.</summary>
    public string Endpoints { get; } = string.Empty;
}
