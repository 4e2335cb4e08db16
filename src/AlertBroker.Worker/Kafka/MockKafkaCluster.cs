using System.Globalization;
using Confluent.Kafka;

namespace AlertBroker.Worker.Kafka;

/// <summary>
/// librdkafka's mock Kafka cluster, started in-process: a client created with <c>test.mock.num.brokers</c> starts brokers
/// that speak the Kafka protocol on 127.0.0.1 and lives as long as this object. Other clients (in this process or another)
/// connect to <see cref="BootstrapServers"/>. A functional double for tests and the demo — consumer groups and commits
/// work — not a fast broker, and it keeps only about 5 MB per partition (older messages are dropped silently), so
/// producers that feed it must stay bounded.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private readonly IProducer<byte[], byte[]> _owner;
    private readonly IAdminClient _admin;

    private MockKafkaCluster(IProducer<byte[], byte[]> owner, IAdminClient admin, string bootstrapServers)
    {
        _owner = owner;
        _admin = admin;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>Partitions of every topic the mock creates (librdkafka's default for its mock topics).</summary>
    public const int PartitionsPerTopic = 4;

    /// <summary>host:port list of the mock brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers and waits for its address.</summary>
    /// <param name="brokers">Number of mock brokers.</param>
    /// <param name="timeout">How long to wait for the brokers (default 10 s).</param>
    /// <param name="settings">librdkafka settings for the client that owns the mock, e.g. <c>test.mock.broker.rtt</c> (ms added
    /// to every broker response) or <c>debug=mock</c> (the brokers log each request).</param>
    /// <param name="log">Receives the owner's log lines (the mock brokers' own with <c>debug=mock</c>).</param>
    /// <exception cref="InvalidOperationException">The mock brokers did not answer in time.</exception>
    public static MockKafkaCluster Start(int brokers = 1, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? settings = null, Action<string>? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        KafkaNativeLibrary.Load();
        var config = new ProducerConfig { BootstrapServers = "mock", LingerMs = 1 };
        config.Set("test.mock.num.brokers", brokers.ToString(CultureInfo.InvariantCulture));
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            config.Set(key, value);
        }

        var owner = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, m) => log?.Invoke(m.Message)).Build();
        var admin = new DependentAdminClientBuilder(owner.Handle).Build();
        try
        {
            // The owner's metadata names the mock brokers: their listeners are the cluster's bootstrap servers.
            var metadata = admin.GetMetadata(timeout ?? TimeSpan.FromSeconds(10));
            if (metadata.Brokers.Count == 0)
            {
                throw new InvalidOperationException("librdkafka's mock cluster reported no brokers");
            }

            var servers = string.Join(",", metadata.Brokers.OrderBy(b => b.BrokerId).Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Host}:{b.Port}")));
            return new MockKafkaCluster(owner, admin, servers);
        }
        catch (KafkaException e)
        {
            admin.Dispose();
            owner.Dispose();
            throw new InvalidOperationException("librdkafka's mock cluster did not start: " + e.Error.Reason, e);
        }
        catch
        {
            admin.Dispose();
            owner.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates the topics (ones that exist are left as they are), each with <see cref="PartitionsPerTopic"/> partitions: the
    /// mock auto-creates a topic when a producer asks for its metadata. librdkafka's mock implements neither the CreateTopics
    /// API (it does not offer it in ApiVersions, and reports a controller id no broker has) nor a setting for the partition
    /// count, so a count of one's own would take the native <c>rd_kafka_mock_topic_create</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A topic was not created.</exception>
    public void CreateTopics(params string[] topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        foreach (var topic in topics)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(topic);
            Metadata metadata;
            try
            {
                metadata = _admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
            }
            catch (KafkaException e)
            {
                throw new InvalidOperationException($"could not create topic '{topic}' in the mock cluster: {e.Error.Reason}", e);
            }

            var created = metadata.Topics.Find(t => t.Topic == topic);
            if (created is null || created.Error.IsError || created.Partitions.Count == 0)
            {
                throw new InvalidOperationException($"could not create topic '{topic}' in the mock cluster: {created?.Error.Reason ?? "not in the metadata"}");
            }
        }
    }

    /// <summary>
    /// Makes the mock brokers answer the next <paramref name="errors"/>.Length requests of Kafka API <paramref name="apiKey"/>
    /// (0 Produce, 1 Fetch, …) with these errors, one each, in order (librdkafka's
    /// <c>rd_kafka_mock_push_request_errors_array</c>): a broker refusing a message as too large, for example.
    /// </summary>
    public unsafe void PushRequestErrors(short apiKey, params ErrorCode[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);

        // Confluent.Kafka does not expose the mock's controls; the client's rd_kafka_t is its handle's internal SafeHandle.
        var property = typeof(Handle).GetProperty("LibrdkafkaHandle", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            ?? throw new NotSupportedException("this Confluent.Kafka has no Handle.LibrdkafkaHandle");
        var handle = (System.Runtime.InteropServices.SafeHandle)property.GetValue(_owner.Handle)!;
        var mockCluster = (delegate* unmanaged<IntPtr, IntPtr>)KafkaNativeLibrary.GetExport("rd_kafka_handle_mock_cluster");
        var push = (delegate* unmanaged<IntPtr, short, nuint, int*, void>)KafkaNativeLibrary.GetExport("rd_kafka_mock_push_request_errors_array");
        var codes = new int[errors.Length];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = (int)errors[i];
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var cluster = mockCluster(handle.DangerousGetHandle());
            if (cluster == IntPtr.Zero)
            {
                throw new InvalidOperationException("the owner client has no mock cluster");
            }

            fixed (int* p = codes)
            {
                push(cluster, apiKey, (nuint)codes.Length, p);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        _admin.Dispose();
        _owner.Dispose();
    }
}
