using StackExchange.Redis;

namespace AlertBroker.Redis.Tests;

public sealed class RedisErrorsTests
{
    // Messages as StackExchange.Redis 3.4 wrote them (the first logged by a worker whose Redis was shut down).
    [Theory]
    [InlineData(
        "The message timed out in the backlog attempting to send because no connection became available (5000ms) - Last Connection Exception: SocketClosed on 127.0.0.1:43613/Interactive, Idle/RanToCompletion, last: SETEX, origin: ReadAllAsync, outstanding: 0, last-read: 0s ago, last-write: 3s ago, keep-alive: 60s, state: ConnectedEstablished, in: 0, in-pipe: 0, last-heartbeat: 0s ago, last-mbeat: 0s ago, global: 0s ago, v: 3.4.35.20751, command=GET, timeout: 5000, inst: 0, qu: 371, qs: 0, aw: False, bw: CheckingForTimeout, last-in: 0, cur-in: 0, sync-ops: 0, async-ops: 31, serverEndpoint: 127.0.0.1:43613, conn-sec: n/a, aoc: 1, mc: 1/1/0, clientName: vm(SE.Redis-v3.4.35.20751), IOCP: (Busy=0,Free=1000,Min=1,Max=1000), WORKER: (Busy=0,Free=32767,Min=2,Max=32767), POOL: (Threads=3,QueuedItems=0,CompletedItems=6142,Timers=5), v: 3.4.35.20751 (see https://seredis.dev/Timeouts for some common client-side issues that can cause timeouts)",
        "The message timed out in the backlog attempting to send because no connection became available (5000ms) - Last Connection Exception: SocketClosed on 127.0.0.1:43613/Interactive")]
    [InlineData(
        "Timeout performing GET (5000ms), next: GET ab:ztf:ZTF26a, inst: 0, qu: 0, qs: 1, aw: False, bw: SpinningDown, rs: ReadAsync, ws: Idle, in: 0, serverEndpoint: 127.0.0.1:6379, mc: 1/1/0, mgr: 10 of 10 available, clientName: vm, IOCP: (Busy=0,Free=1000,Min=1,Max=1000), v: 3.4.35 (see https://seredis.dev/Timeouts for some common client-side issues that can cause timeouts)",
        "Timeout performing GET (5000ms) (server 127.0.0.1:6379)")]
    [InlineData(
        "No connection is active/available to service this operation: GET ab:ztf:ZTF26a; UnableToConnect on 127.0.0.1:6379/Interactive, Initializing/NotStarted, last: NONE, origin: BeginConnectAsync, outstanding: 0, last-read: 0s ago, last-write: 0s ago, keep-alive: 60s, state: Connecting, mgr: 10 of 10 available, last-heartbeat: never, global: 0s ago, v: 3.4.35",
        "No connection is active/available to service this operation: GET ab:ztf:ZTF26a; UnableToConnect on 127.0.0.1:6379/Interactive")]
    [InlineData(
        "Timeout awaiting response (outbound=0KiB, inbound=0KiB, 5000ms elapsed, timeout is 5000ms), command=GET, next: GET x, inst: 0, serverEndpoint: redis-0.redis:6379, mc: 1/1/0",
        "Timeout awaiting response (outbound=0KiB, inbound=0KiB, 5000ms elapsed, timeout is 5000ms) (server redis-0.redis:6379)")]
    [InlineData("It was not possible to connect to the redis server(s). ConnectTimeout", "It was not possible to connect to the redis server(s). ConnectTimeout")]
    public void Brief_ClientFailures_KeepWhatFailedAndWhereWithoutTheDiagnostics(string message, string expected)
    {
        Assert.Equal(expected, RedisErrors.Brief(message));
        Assert.Equal(expected, RedisErrors.Brief(new RedisConnectionException(ConnectionFailureType.SocketClosed, CommandFlags.None, message)));
        Assert.Equal(expected, RedisErrors.Brief(new RedisTimeoutException(CommandFlags.None, message, CommandStatus.WaitingToBeSent)));
    }

    [Fact]
    public void Brief_ServerRepliesAndOtherExceptions_AreKeptWhole_PasswordsRedacted()
    {
        // Redis's own words are what an operator looks up, even with a comma and a colon in them.
        const string said = "ERR Error running script, error: something: went wrong";
        Assert.Equal(said, RedisErrors.Brief(new RedisServerException(RedisErrorKind.UnknownError, CommandFlags.None, said)));
        Assert.Equal("a, b: c", RedisErrors.Brief(new TimeoutException("a, b: c")));
        Assert.DoesNotContain("s3cret", RedisErrors.Brief(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "UnableToConnect on localhost:6379,password=s3cret")), StringComparison.Ordinal);
    }
}

/// <summary>The failures of a client whose Redis went away, as the client really reports them.</summary>
public sealed class RedisErrorsOutageTests
{
    [Fact]
    public async Task Brief_CommandsAfterTheServerWentAway_AreOneShortLineNamingTheServer()
    {
        var redis = new RedisServerFixture();
        await redis.InitializeAsync();
        try
        {
            Assert.True(redis.Available, redis.UnavailableReason);
            using var connection = await RedisConnectionFactory.ConnectAsync(redis.Configuration, client: new RedisClientSettings { CommandTimeout = TimeSpan.FromSeconds(3), WaitForServer = true });
            var db = connection.GetDatabase();
            await db.StringSetAsync("k", "v");
            await redis.StopAsync();

            var failures = new List<Exception>();
            for (var i = 0; i < 2; i++)
            {
                try
                {
                    await db.StringGetAsync("k");
                }
                catch (Exception e) when (e is RedisException or RedisTimeoutException)
                {
                    failures.Add(e);
                }
            }

            Assert.NotEmpty(failures);
            foreach (var e in failures)
            {
                var brief = RedisErrors.Brief(e);
                Assert.True(e.Message.Length > 500, "the client's own message is long: " + e.Message);
                Assert.True(brief.Length < 300, brief);
                Assert.DoesNotContain("IOCP", brief, StringComparison.Ordinal);
                Assert.Contains(redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), brief, StringComparison.Ordinal);
            }
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }
}
