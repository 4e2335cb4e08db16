using StackExchange.Redis;

namespace AlertBroker.Redis.Tests;

public sealed class RedisWriteRefusalTests
{
    [Theory]
    [InlineData(RedisErrorKind.OutOfMemory, "OOM command not allowed when used memory > 'maxmemory'. script: a5fd67d4, on @user_script:6.", "Redis refuses writes: it is full (used memory over maxmemory, with a policy that evicts nothing): raise maxmemory, let them expire or add shards (OOM command not allowed when used memory > 'maxmemory'.)")]
    [InlineData(RedisErrorKind.ReadOnly, "READONLY You can't write against a read only replica.", "Redis refuses writes: it is a read-only replica: give the primary's address (behind a Sentinel or a Redis Cluster, this passes once a failover has promoted the replica) (READONLY You can't write against a read only replica.)")]
    [InlineData(RedisErrorKind.Misconfigured, "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", "Redis refuses writes: it cannot write its snapshot and stops writes until it can: see the Redis server's log (MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.)")]
    public void Describe_TheRefusals_SayWhatToDoInRedissOwnWords(RedisErrorKind kind, string said, string expected)
    {
        Assert.Equal(expected, RedisWriteRefusal.Describe(Server(kind, said), "let them expire"));
        Assert.Equal(expected, RedisWriteRefusal.Describe(new InvalidOperationException("wrapped", Server(kind, said)), "let them expire"));
    }

    [Fact]
    public void Describe_OtherFailures_AreNotRefusals()
    {
        Assert.Null(RedisWriteRefusal.Describe(Server(RedisErrorKind.WrongType, "WRONGTYPE Operation against a key holding the wrong kind of value")));
        Assert.Null(RedisWriteRefusal.Describe(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "no")));
        Assert.Null(RedisWriteRefusal.Describe(new TimeoutException("OOM")));
        Assert.Equal("Redis refuses writes: it is full (used memory over maxmemory, with a policy that evicts nothing): raise maxmemory or add shards (OOM x)", RedisWriteRefusal.Describe(Server(RedisErrorKind.OutOfMemory, "OOM x")));
    }

    private static RedisServerException Server(RedisErrorKind kind, string message) => new(kind, CommandFlags.None, message);
}
