using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker;

/// <summary>The worker's log messages (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Worker starting: group {GroupId}, topics {Topics}, output {OutputTopic}, dead letters {DeadLetterTopic}, batches of {BatchSize} messages or {BatchTimeoutMs} ms")]
    public static partial void Starting(ILogger logger, string groupId, string topics, string outputTopic, string deadLetterTopic, int batchSize, int batchTimeoutMs);

    [LoggerMessage(2, LogLevel.Information, "Model {Name} {Version} loaded ({Classes} classes, id {ModelId})")]
    public static partial void ModelLoaded(ILogger logger, string name, string version, int classes, string modelId);

    [LoggerMessage(3, LogLevel.Warning, "Model: no package configured; exported a model with RANDOM weights to {Directory}: its probabilities mean nothing")]
    public static partial void RandomModel(ILogger logger, string directory);

    [LoggerMessage(4, LogLevel.Information, "Partitions assigned: {Partitions}")]
    public static partial void Assigned(ILogger logger, string partitions);

    [LoggerMessage(5, LogLevel.Information, "Partitions revoked: {Partitions}; committed stored offsets")]
    public static partial void Revoked(ILogger logger, string partitions);

    [LoggerMessage(6, LogLevel.Warning, "State store unavailable ({Error}); consumption paused, retrying the batch in {DelayMs} ms (attempt {Attempt})")]
    public static partial void StateUnavailable(ILogger logger, string error, int delayMs, int attempt);

    [LoggerMessage(7, LogLevel.Information, "State store reachable again after {Attempts} attempts; resuming")]
    public static partial void StateRecovered(ILogger logger, int attempts);

    [LoggerMessage(8, LogLevel.Warning, "Dead letter from {Topic} [{Partition}] @{Offset}: {Kind}: {Error}")]
    public static partial void DeadLetter(ILogger logger, string topic, int partition, long offset, string kind, string error);

    [LoggerMessage(9, LogLevel.Error, "Publishing a batch failed ({Error}); retrying the batch")]
    public static partial void PublishFailed(ILogger logger, string error);

    [LoggerMessage(10, LogLevel.Information, "Shutting down: finished the batch in hand, committed offsets, closed the consumer ({Batches} batches, {Alerts} alerts, {DeadLetters} dead letters)")]
    public static partial void Stopped(ILogger logger, long batches, long alerts, long deadLetters);

    [LoggerMessage(11, LogLevel.Warning, "Kafka: {Reason}")]
    public static partial void KafkaError(ILogger logger, string reason);

    [LoggerMessage(12, LogLevel.Debug, "Batch: {Messages} messages, {Alerts} alerts, {DeadLetters} dead letters in {Milliseconds} ms")]
    public static partial void Batch(ILogger logger, int messages, int alerts, int deadLetters, double milliseconds);

    [LoggerMessage(13, LogLevel.Error, "Committing offsets failed: {Error}")]
    public static partial void CommitFailed(ILogger logger, string error);

    [LoggerMessage(14, LogLevel.Information, "Health endpoints on http://{Address}:{Port}/ (healthz, readyz, metrics)")]
    public static partial void HttpListening(ILogger logger, string address, int port);

    [LoggerMessage(15, LogLevel.Error, "Batch failed unexpectedly ({Error}); retrying")]
    public static partial void BatchFailed(ILogger logger, Exception exception, string error);

    [LoggerMessage(17, LogLevel.Critical, "The worker stopped on an unexpected error: {Error}")]
    public static partial void WorkerFailed(ILogger logger, Exception exception, string error);

    [LoggerMessage(18, LogLevel.Information, "Kafka client: librdkafka {Version} from {Path} (Confluent.Kafka {ClientVersion})")]
    public static partial void KafkaLibrary(ILogger logger, string version, string path, string clientVersion);
    [LoggerMessage(19, LogLevel.Information, "State store: Redis at {Endpoints} (user {User}, TLS {Tls})")]
    public static partial void RedisState(ILogger logger, string endpoints, string user, bool tls);

    [LoggerMessage(20, LogLevel.Debug, "librdkafka {Client} {Facility}: {Message}")]
    public static partial void Librdkafka(ILogger logger, string client, string facility, string message);

    [LoggerMessage(21, LogLevel.Warning, "Kafka at {BootstrapServers} did not answer at start (checked for {Seconds} s); the consumer keeps trying")]
    public static partial void KafkaNotAnswering(ILogger logger, string bootstrapServers, double seconds);

    [LoggerMessage(16, LogLevel.Information, "Output schema registered in {Registry} under subject {Subject} with id {SchemaId}")]
    public static partial void SchemaRegistered(ILogger logger, string registry, string subject, int schemaId);
}
