using AlertBroker.Alerts;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// A stored record the store could not read (damaged, or written by another program) was reset without a word: the
/// object's light curve started again and nothing said so. Now the batch names the object and the worker counts it.
/// </summary>
public sealed class UnreadableStateTests
{
    [Fact]
    public async Task UnreadableRecord_NamedInTheBatchAndCounted_TheObjectStartsAgain()
    {
        var alerts = SyntheticZtfAlerts.Generate(objects: 3, alertsPerObject: 1, seed: 4);
        var damaged = alerts[1].ObjectId;
        var store = new DamagingStore(new InMemoryObjectStateStore(), damaged);
        using var metrics = new WorkerMetrics();
        var counted = RoutingTests.CountMeasurements("alertbroker.state.unreadable", out var listener, metrics);
        BatchResult result;
        using (listener)
        {
            result = await new AlertBatchProcessor(new AlertDecoder(), store, () => TestModels.A, new ClassificationCodec(), metrics).ProcessAsync(PipelineTestKit.Inputs(alerts));
        }

        Assert.Equal([new ObjectKey(Survey.Ztf, damaged)], result.UnreadableStates);
        Assert.Equal(1, counted.GetValueOrDefault("ztf"));
        Assert.Equal(alerts.Count, result.Outputs.Count);

        // Written again from the alert: readable from now on, and nothing more is counted.
        var states = new ObjectState?[1];
        await store.ReadAsync([new ObjectKey(Survey.Ztf, damaged)], states);
        Assert.False(states[0]!.Unreadable);
        Assert.NotEmpty(states[0]!.Observations);
    }

    /// <summary>Reads one object's record as unreadable until it is written, as the Redis store reads a damaged record.</summary>
    private sealed class DamagingStore(IObjectStateStore inner, string objectId) : IObjectStateStore
    {
        private bool _written;

        public async Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default)
        {
            await inner.ReadAsync(keys, results, cancellationToken);
            for (var i = 0; i < keys.Count; i++)
            {
                if (keys[i].ObjectId == objectId && !_written)
                {
                    results[i] = new ObjectState { Unreadable = true };
                }
            }
        }

        public Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default)
        {
            _written |= writes.Any(w => w.Key.ObjectId == objectId);
            return inner.WriteAsync(writes, committed, cancellationToken);
        }

        public Task<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);
    }
}

/// <summary>The same through a real Redis, where another program's hash sits at an object's key.</summary>
public sealed class UnreadableRedisStateTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    // Every read of that key failed with WRONGTYPE, which the worker takes for an outage: the batch holding the object was
    // retried for ever and its partition stopped ("State store unavailable (… WRONGTYPE …)" at every retry).
    [Fact]
    public async Task KeyOfAnotherType_NamedAsUnreadable_TheBatchGoesThrough_TheKeyIsReplaced()
    {
        Assert.True(redis.Available, redis.UnavailableReason);
        var prefix = "wt" + Guid.NewGuid().ToString("N")[..8];
        using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions { Configuration = redis.Configuration, KeyPrefix = prefix });
        var alerts = SyntheticZtfAlerts.Generate(objects: 3, alertsPerObject: 2, seed: 4);
        var foreign = new ObjectKey(Survey.Ztf, alerts[1].ObjectId);
        await store.Connection.GetDatabase().HashSetAsync(foreign.ToStorageKey(prefix), "owner", "another program");
        using var metrics = new WorkerMetrics();

        var result = await new AlertBatchProcessor(new AlertDecoder(), store, () => TestModels.A, new ClassificationCodec(), metrics).ProcessAsync(PipelineTestKit.Inputs(alerts));

        Assert.Equal([foreign], result.UnreadableStates);
        Assert.Equal(alerts.Count, result.Outputs.Count);
        Assert.Empty(result.DeadLetters);
        var states = new ObjectState?[1];
        await store.ReadAsync([foreign], states);
        Assert.False(states[0]!.Unreadable);
        Assert.NotEmpty(states[0]!.Observations);
    }
}
