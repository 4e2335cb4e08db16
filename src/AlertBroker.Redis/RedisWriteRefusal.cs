using StackExchange.Redis;

namespace AlertBroker.Redis;

/// <summary>
/// Redis answering but refusing writes — full under a no-eviction policy (<c>OOM</c>), a read-only replica
/// (<c>READONLY</c>), a failing snapshot with stop-writes-on-bgsave-error (<c>MISCONF</c>), too few replicas
/// (<c>NOREPLICAS</c>) — told from the other failures by the client's <see cref="RedisServerException.Kind"/> and said with
/// what to do.
/// </summary>
public static class RedisWriteRefusal
{
    /// <summary>
    /// "Redis refuses writes: it is full (…): raise maxmemory, … or add shards (Redis's own words)", or null when
    /// <paramref name="e"/> is not such a refusal.
    /// </summary>
    /// <param name="e">The failure of a write (or an exception wrapping it).</param>
    /// <param name="freeing">A further way to free memory, said among the remedies of a full server (e.g. a TTL setting).</param>
    public static string? Describe(Exception e, string? freeing = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        var server = e as RedisServerException ?? e.InnerException as RedisServerException;
        if (server is null)
        {
            return null;
        }

        // Redis's own words without the script's name and line ("…'maxmemory'. script: a5fd…, on @user_script:6.").
        var said = server.Message;
        var at = said.IndexOf(". script:", StringComparison.Ordinal);
        said = at > 0 ? said[..(at + 1)] : said;
        var advice = server.Kind switch
        {
            RedisErrorKind.OutOfMemory => $"it is full (used memory over maxmemory, with a policy that evicts nothing): raise maxmemory{(freeing is null ? string.Empty : ", " + freeing)} or add shards",
            RedisErrorKind.ReadOnly => "it is a read-only replica: give the primary's address (behind a Sentinel or a Redis Cluster, this passes once a failover has promoted the replica)",
            RedisErrorKind.Misconfigured => "it cannot write its snapshot and stops writes until it can: see the Redis server's log",
            RedisErrorKind.NoReplicas => "fewer replicas answer than its min-replicas-to-write: see the replicas",
            _ => null,
        };
        return advice is null ? null : $"Redis refuses writes: {advice} ({said})";
    }
}
