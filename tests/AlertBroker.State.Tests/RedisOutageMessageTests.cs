using AlertBroker.Alerts;

namespace AlertBroker.State.Tests;

/// <summary>What a worker logs, on every retry of a batch, while its Redis is down.</summary>
public sealed class RedisOutageMessageTests
{
    // The warning carried StackExchange.Redis's whole diagnostic state (~1.5 KB: queue lengths, thread pool, …) on each
    // retry: "State store unavailable (Redis did not complete the batch: The message timed out in the backlog … IOCP: …)".
    [Fact]
    public async Task ReadAndWrite_RedisGone_FailAsUnavailableInOneShortLineNamingTheServer()
    {
        var redis = new RedisServerFixture();
        await redis.InitializeAsync();
        try
        {
            Assert.True(redis.Available, redis.UnavailableReason);
            using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions
            {
                Configuration = redis.Configuration,
                KeyPrefix = "o" + Guid.NewGuid().ToString("N")[..8],
                CommandTimeout = TimeSpan.FromSeconds(3),
            });
            var key = new ObjectKey(Survey.Ztf, "ZTF26outage");
            var committed = new bool[1];
            await store.WriteAsync([new StateWrite(key, 0, StoreContractTests.StateWith(1, StoreContractTests.Obs(1, 59000)))], committed);
            Assert.True(committed[0]);
            await redis.StopAsync();

            var read = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.ReadAsync([key], new ObjectState?[1]));
            var write = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.WriteAsync([new StateWrite(key, 1, StoreContractTests.StateWith(2, StoreContractTests.Obs(2, 59001)))], committed));
            var probe = await store.ProbeAsync();

            var port = redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var said in new[] { read.Message, write.Message })
            {
                Assert.True(said.Length < 300, said);
                Assert.DoesNotContain("IOCP", said, StringComparison.Ordinal);
                Assert.Contains(port, said, StringComparison.Ordinal);
            }

            // The client's full account stays on the exception (the worker logs it at Debug): a timeout's, with its queue and
            // IOCP figures, or, when the client saw the socket close first (it depends on timing: a CI run under load got
            // "SocketFailure on 127.0.0.1:…"), the connection failure's.
            Assert.True(read.InnerException is StackExchange.Redis.RedisTimeoutException or StackExchange.Redis.RedisConnectionException, read.InnerException?.ToString());
            Assert.True(read.InnerException!.Message.Length > 0);
            Assert.NotNull(probe);
            Assert.True(probe!.Reason.Length < 300, probe.Reason);
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }
}
