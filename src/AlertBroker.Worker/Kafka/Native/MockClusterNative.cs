using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace AlertBroker.Worker.Kafka.Native;

/// <summary>
/// The two librdkafka mock-cluster functions Confluent.Kafka does not expose: find a client's mock cluster and create a
/// topic with a chosen partition count in it (the mock cluster has no CreateTopics admin support in librdkafka 2.0).
/// </summary>
internal static partial class MockClusterNative
{
    private const string Library = "librdkafka.so.1";

    /// <summary>Creates a topic in the mock cluster of <paramref name="client"/>; false when the native call is not available.</summary>
    public static bool TryCreateTopic(Handle client, string topic, int partitions, out string? error)
    {
        error = null;
        try
        {
            // Confluent.Kafka keeps the rd_kafka_t pointer in an internal SafeHandle.
            var property = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
            if (property?.GetValue(client) is not SafeHandle safe)
            {
                error = "Confluent.Kafka does not expose the native handle";
                return false;
            }

            var added = false;
            safe.DangerousAddRef(ref added);
            try
            {
                var cluster = rd_kafka_handle_mock_cluster(safe.DangerousGetHandle());
                if (cluster == IntPtr.Zero)
                {
                    error = "the client has no mock cluster";
                    return false;
                }

                var code = rd_kafka_mock_topic_create(cluster, topic, partitions, 1);
                if (code != 0 && code != (int)ErrorCode.TopicAlreadyExists)
                {
                    error = "rd_kafka_mock_topic_create returned " + ((ErrorCode)code).ToString();
                    return false;
                }

                return true;
            }
            finally
            {
                if (added)
                {
                    safe.DangerousRelease();
                }
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TargetInvocationException)
        {
            error = e.Message;
            return false;
        }
    }

    [LibraryImport(Library)]
    private static partial IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);
}
