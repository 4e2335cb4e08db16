using Confluent.Kafka;

namespace AlertBroker.Worker.Kafka;

/// <summary>
/// librdkafka's mock Kafka cluster, started in-process: a client created with <c>test.mock.num.brokers</c> starts brokers
/// that speak the Kafka protocol on 127.0.0.1 and lives as long as this object. Other clients (in this process or another)
/// connect to <see cref="BootstrapServers"/>. A functional double for tests and the demo — consumer groups and commits
/// work — not a fast broker (roughly a thousand small messages a second).
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private const string Marker = "replaced with ";
    private readonly IProducer<byte[], byte[]> _owner;

    private MockKafkaCluster(IProducer<byte[], byte[]> owner, string bootstrapServers)
    {
        _owner = owner;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>host:port list of the mock brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers and waits for its address.</summary>
    public static MockKafkaCluster Start(int brokers = 1, TimeSpan? timeout = null)
    {
        var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var config = new ProducerConfig { BootstrapServers = "mock", LingerMs = 1 };
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var owner = new ProducerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, m) =>
            {
                var i = m.Message.IndexOf(Marker, StringComparison.Ordinal);
                if (i >= 0 && m.Message.Contains("Mock cluster", StringComparison.OrdinalIgnoreCase))
                {
                    address.TrySetResult(m.Message[(i + Marker.Length)..].Trim());
                }
            })
            .Build();

        // The log line is emitted while the client starts; a metadata request makes sure it has.
        try
        {
            using var admin = new DependentAdminClientBuilder(owner.Handle).Build();
            admin.GetMetadata(TimeSpan.FromSeconds(5));
        }
        catch (KafkaException)
        {
        }

        if (!address.Task.Wait(timeout ?? TimeSpan.FromSeconds(10)))
        {
            owner.Dispose();
            throw new InvalidOperationException("librdkafka did not report the mock cluster's address (is librdkafka ≥ 1.4 installed?)");
        }

        return new MockKafkaCluster(owner, address.Task.Result);
    }

    /// <summary>Creates topics with the given partition count (ignoring ones that exist).</summary>
    public void CreateTopics(int partitions, params string[] topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        foreach (var t in topics)
        {
            if (!Native.MockClusterNative.TryCreateTopic(_owner.Handle, t, partitions, out var error))
            {
                throw new InvalidOperationException($"could not create topic '{t}' in the mock cluster: {error}");
            }
        }
    }

    public void Dispose() => _owner.Dispose();
}
