using System.Diagnostics;
using System.Text;
using AlertBroker.Alerts;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Simulation;
using Confluent.Kafka;
using StackExchange.Redis;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// What the end-to-end tests of <c>alertbroker run</c> processes do around them: produce synthetic alerts to the mock
/// cluster, read classifications and dead letters back, and check the light curves the workers stored.
/// </summary>
internal static class WorkerStreamKit
{
    /// <summary>
    /// Produces the alerts keyed by object id (an object's alerts stay in order on one partition), at most
    /// <paramref name="perSecond"/> a second (0: as fast as the producer goes), recording each alert's partition.
    /// </summary>
    public static async Task ProduceAsync(string bootstrapServers, string topic, IEnumerable<SyntheticZtfAlerts.SyntheticAlert> alerts, Dictionary<long, int>? partitionOf = null, int perSecond = 0)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 5 }).Build();
        var clock = Stopwatch.StartNew();
        var sent = 0;
        foreach (var a in alerts)
        {
            var report = await producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(a.ObjectId), Value = a.Message });
            if (partitionOf is not null)
            {
                partitionOf[a.Candid] = report.Partition.Value;
            }

            sent++;
            if (perSecond > 0 && TimeSpan.FromSeconds(sent / (double)perSecond) - clock.Elapsed is { } wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }

        producer.Flush(TimeSpan.FromSeconds(10));
    }

    /// <summary>Reads a topic from the start until <paramref name="done"/> says enough or the time is up.</summary>
    public static List<byte[]> ReadUntil(string bootstrapServers, string topic, Func<List<byte[]>, bool> done, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N")[..8],
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        var results = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !done(results))
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
            {
                results.Add(r.Message.Value);
            }
        }

        consumer.Close();
        return results;
    }

    /// <summary>Reads the classifications topic from the start until every one of <paramref name="expected"/> alerts has one (or the time is up).</summary>
    public static List<Classification> ReadClassifications(string bootstrapServers, string topic, int expected, TimeSpan timeout)
    {
        var results = new List<Classification>();
        ReadUntil(bootstrapServers, topic, raw =>
        {
            results.AddRange(raw.Skip(results.Count).Select(b => ClassificationCodec.Decode(b)));
            return SourceIds(results).Count >= expected;
        }, timeout);
        return results;
    }

    public static HashSet<long> SourceIds(IEnumerable<Classification> outputs) => outputs.Select(o => o.SourceId).ToHashSet();

    /// <summary>
    /// Asserts that every object's stored light curve holds exactly the observations its alerts carried (each once), read
    /// back with a fresh client of the store; returns the keys, so that callers can ask where they live.
    /// </summary>
    public static async Task<List<ObjectKey>> AssertStoredExactlyAsync(IConnectionMultiplexer redis, string configuration, string statePrefix, IEnumerable<SyntheticZtfAlerts.SyntheticAlert> sentAlerts)
    {
        var decoder = new AlertDecoder();
        var sent = sentAlerts.GroupBy(a => a.ObjectId).ToDictionary(
            g => g.Key,
            g => g.SelectMany(a => Observations(decoder.DecodeSingle(a.Message))).ToHashSet());
        using var store = new RedisObjectStateStore(redis, new RedisStateOptions { Configuration = configuration, KeyPrefix = statePrefix });
        var keys = sent.Keys.Select(o => new ObjectKey(Survey.Ztf, o)).ToList();
        var states = new ObjectState?[keys.Count];
        await store.ReadAsync(keys, states);
        for (var i = 0; i < keys.Count; i++)
        {
            Assert.NotNull(states[i]);
            var stored = states[i]!.Observations.Select(o => (o.SourceId, o.Kind)).ToHashSet();
            Assert.True(stored.SetEquals(sent[keys[i].ObjectId]), $"{keys[i]}: stored {stored.Count}, sent {sent[keys[i].ObjectId].Count}");
            Assert.Equal(states[i]!.Observations.Length, stored.Count);
        }

        return keys;
    }

    private static IEnumerable<(long SourceId, ObservationKind Kind)> Observations(Alert alert) =>
        alert.Detections.Concat(alert.UpperLimits).Concat(alert.ForcedPhotometry).Select(o => (o.SourceId, o.Kind));
}
