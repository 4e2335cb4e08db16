namespace AlertBroker.Cli.Tests;

/// <summary>A registry Redis that answers but refuses writes (at maxmemory under noeviction): said as such, exit 1.</summary>
public sealed class FullRedisTests : IClassFixture<RedisServerFixture>, IDisposable
{
    private readonly RedisServerFixture _redis;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-full-redis-").FullName;

    public FullRedisTests(RedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task ModelsPush_RedisFull_SaysItRefusesWritesAndWhatToDo()
    {
        // Was Redis's raw "OOM command not allowed when used memory > 'maxmemory'. script: 6872…, on @user_script:7.".
        var package = TestModelPackages.Export(Path.Combine(_root, "v1"), "full", "1", 3, classes: ["a", "b"]);
        Assert.StartsWith("+OK", await _redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "1"), StringComparison.Ordinal);
        AlertBrokerProcess.Finished run;
        try
        {
            run = await AlertBrokerProcess.RunToEndAsync(["models", "push", package, "--redis", _redis.Configuration]);
        }
        finally
        {
            await _redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "0");
        }

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("Redis refuses writes: it is full (used memory over maxmemory, with a policy that evicts nothing): raise maxmemory or add shards (OOM command not allowed when used memory > 'maxmemory'.)", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("script:", run.Stderr, StringComparison.Ordinal);

        // Room again: the same push goes through.
        var again = await AlertBrokerProcess.RunToEndAsync(["models", "push", package, "--redis", _redis.Configuration]);
        Assert.True(again.Code == 0, again.Output);
    }
}
