using AlertBroker.Worker.Hosting;
using Confluent.Kafka;

namespace AlertBroker.Worker.Kafka;

/// <summary>
/// Checks the worker's Kafka settings the way librdkafka will read them: the consumer and producer configurations
/// (<see cref="KafkaAlertWorker.CreateConsumerConfig"/>, <see cref="KafkaAlertWorker.CreateProducerConfig"/>) are given to
/// librdkafka by building each client, which applies every property; nothing connects (the clients are disposed before
/// their first broker connection matters).
/// </summary>
internal static class KafkaClientConfigCheck
{
    /// <returns>null when librdkafka accepts both configurations; otherwise its reason, with secret values masked.</returns>
    public static string? Check(KafkaOptions options)
    {
        try
        {
            KafkaNativeLibrary.Load();
        }
        catch (KafkaNativeLibraryException)
        {
            // No librdkafka to ask: the CLI reports that itself (exit code 70) before options are validated.
            return null;
        }

        try
        {
            using (new ProducerBuilder<Null, Null>(KafkaAlertWorker.CreateProducerConfig(options)).SetLogHandler(static (_, _) => { }).SetErrorHandler(static (_, _) => { }).Build())
            {
            }

            using (new ConsumerBuilder<Ignore, Ignore>(KafkaAlertWorker.CreateConsumerConfig(options)).SetLogHandler(static (_, _) => { }).SetErrorHandler(static (_, _) => { }).Build())
            {
            }

            return null;
        }
        catch (Exception e) when (e is KafkaException or ArgumentException or InvalidOperationException)
        {
            return KafkaSecurity.Redact(e is KafkaException k ? k.Error.Reason : e.Message, options);
        }
    }
}
