using AlertBroker.Alerts;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// The web view's recent-classifications list was written fire-and-forget: with another program's hash at its name every
/// write failed with WRONGTYPE, the list stayed empty and nothing said so. Now each failed batch is counted, the failure
/// logged (once per minute while it lasts) and its end logged; the consume loop still never waits for these writes.
/// </summary>
public sealed class RecentClassificationsWriteTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task KeyOfAnotherType_FailureCountedAndLoggedOnce_ThenWritesAgainOnceTheKeyIsGone()
    {
        Assert.True(redis.Available, redis.UnavailableReason);
        var prefix = "rc" + Guid.NewGuid().ToString("N")[..8];
        using var connection = await redis.ConnectAsync();
        var db = connection.GetDatabase();
        var key = RedisRecentClassifications.Key(prefix);
        await db.HashSetAsync(key, "owner", "another program");

        using var metrics = new WorkerMetrics();
        var errors = RoutingTests.CountMeasurements("alertbroker.errors", out var listener, metrics, "kind");
        var log = new LogCapture();
        var recent = new RedisRecentClassifications(connection, prefix, capacity: 10, log, metrics);
        var batch = await Batch();
        using (listener)
        {
            recent.Add(batch);
            recent.Add(batch);
            await WaitAsync(() => recent.Failures == 2);
        }

        Assert.Equal(2, errors.GetValueOrDefault("recent_classifications"));
        var warning = Assert.Single(log.Entries, e => e.Level == LogLevel.Warning);
        Assert.True(warning.Message.Contains(key + " is not a list", StringComparison.Ordinal), warning.Message);
        Assert.Contains("AlertBroker:State:KeyPrefix", warning.Message, StringComparison.Ordinal);
        Assert.Equal(RedisType.Hash, await db.KeyTypeAsync(key));

        await db.KeyDeleteAsync(key);
        recent.Add(batch);
        await WaitAsync(() => log.Entries.Any(e => e.Level == LogLevel.Information));
        Assert.Contains("written to " + key + " again", log.Entries.Single(e => e.Level == LogLevel.Information).Message, StringComparison.Ordinal);
        Assert.Equal(2, recent.Failures);
        var listed = await RedisRecentClassifications.ReadAsync(db, prefix, 100);
        Assert.Equal(batch.Outputs.Count, listed.Count);
    }

    // A survey no model serves: its classification has no model name, and the recent list showed "@" (2026-12-07).
    [Fact]
    public void From_ClassificationWithoutAModel_NamesNone()
    {
        var unserved = new Classification("obj", 1, 2, Survey.Lsst, 60000, string.Empty, string.Empty, [], [], 1, 0, ScoringPath.None, null, 0, 0) { Reason = "no model serves lsst" };
        var served = unserved with { ModelName = "m", ModelVersion = "1.0.0" };

        Assert.Equal("none", RecentClassification.From(unserved).Model);
        Assert.Equal("m@1.0.0", RecentClassification.From(served).Model);
    }

    private static async Task<BatchResult> Batch()
    {
        var alerts = SyntheticZtfAlerts.Generate(objects: 3, alertsPerObject: 1, seed: 9);
        return await new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => ModelSet.Of(TestModels.A), new ClassificationCodec()).ProcessAsync(PipelineTestKit.Inputs(alerts));
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(20);
        }
    }
}
