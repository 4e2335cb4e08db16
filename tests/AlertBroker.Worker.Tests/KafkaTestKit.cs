using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using Confluent.Kafka;

namespace AlertBroker.Worker.Tests;

/// <summary>One mock Kafka cluster per test class.</summary>
public sealed class MockKafkaFixture : IDisposable
{
    public MockKafkaFixture()
    {
        Cluster = MockKafkaCluster.Start();
    }

    public MockKafkaCluster Cluster { get; }

    public void Dispose() => Cluster.Dispose();
}

/// <summary>A worker run in the test process, with topics unique to the test.</summary>
internal sealed class TestTopics
{
    /// <summary>Creates the test's topics, each with <see cref="MockKafkaCluster.PartitionsPerTopic"/> partitions.</summary>
    public TestTopics(MockKafkaCluster cluster)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        Input = "in-" + id;
        Output = "out-" + id;
        DeadLetters = "dlq-" + id;
        Group = "g-" + id;
        Cluster = cluster;
        cluster.CreateTopics(Input, Output, DeadLetters);
    }

    public MockKafkaCluster Cluster { get; }

    public string Input { get; }

    public string Output { get; }

    public string DeadLetters { get; }

    public string Group { get; }

    public KafkaOptions Options(int batchSize = 20) => new()
    {
        BootstrapServers = Cluster.BootstrapServers,
        GroupId = Group,
        Topics = [Input],
        OutputTopic = Output,
        DeadLetterTopic = DeadLetters,
        BatchSize = batchSize,
        BatchTimeoutMs = 50,
        CommitIntervalMs = 200,
        Properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["session.timeout.ms"] = "6000",
            ["heartbeat.interval.ms"] = "500",
        },
    };

    public KafkaAlertWorker Worker(IObjectStateStore store, int batchSize = 20) =>
        new(Options(batchSize), new StateOptions { RetryInitialMs = 50, RetryMaxMs = 500 }, PipelineTestKit.Processor(store));

    /// <summary>A worker around a given processor (e.g. one following a registry), optionally reporting its health.</summary>
    public KafkaAlertWorker Worker(AlertBatchProcessor processor, int batchSize = 20, WorkerHealth? health = null) =>
        new(Options(batchSize), new StateOptions { RetryInitialMs = 50, RetryMaxMs = 500 }, processor, health: health);

    /// <summary>Produces the messages keyed by object (so an object's alerts stay in order on one partition), paced.</summary>
    public async Task ProduceAsync(IReadOnlyList<(string? Key, byte[] Value)> messages, int perSecond = 400, CancellationToken cancellationToken = default)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = Cluster.BootstrapServers, LingerMs = 5 }).Build();
        var start = DateTime.UtcNow;
        for (var i = 0; i < messages.Count; i++)
        {
            var (key, value) = messages[i];
            await producer.ProduceAsync(Input, new Message<byte[]?, byte[]> { Key = key is null ? null : System.Text.Encoding.UTF8.GetBytes(key), Value = value }, cancellationToken);
            var due = start + TimeSpan.FromSeconds((i + 1) / (double)perSecond);
            var wait = due - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
        }

        producer.Flush(TimeSpan.FromSeconds(10));
    }

    /// <summary>Reads a topic from the start until <paramref name="done"/> says enough or the time is up.</summary>
    public List<ConsumeResult<byte[]?, byte[]>> ReadAll(string topic, Func<List<ConsumeResult<byte[]?, byte[]>>, bool> done, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = Cluster.BootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N")[..8],
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var results = new List<ConsumeResult<byte[]?, byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !done(results))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null)
            {
                results.Add(r);
            }
        }

        consumer.Close();
        return results;
    }

    public static HashSet<long> SourceIds(IEnumerable<ConsumeResult<byte[]?, byte[]>> outputs)
    {
        var set = new HashSet<long>();
        foreach (var r in outputs)
        {
            set.Add(ClassificationCodec.Decode(r.Message.Value).SourceId);
        }

        return set;
    }

    /// <summary>Waits until the condition holds or the time is up; returns whether it held.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
