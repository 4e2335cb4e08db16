using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker;

/// <summary>The worker's log messages (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Worker starting: group {GroupId}, topics {Topics}, output {OutputTopic}, dead letters {DeadLetterTopic}, batches of {BatchSize} messages or {BatchTimeoutMs} ms")]
    public static partial void Starting(ILogger logger, string groupId, string topics, string outputTopic, string deadLetterTopic, int batchSize, int batchTimeoutMs);

    [LoggerMessage(2, LogLevel.Information, "Model {Name} {Version} loaded ({Classes} classes, id {ModelId}) on {ExecutionProvider}")]
    public static partial void ModelLoaded(ILogger logger, string name, string version, int classes, string modelId, string executionProvider);

    [LoggerMessage(3, LogLevel.Warning, "Model: no package configured; exported a model with RANDOM weights to {Directory}: its probabilities mean nothing")]
    public static partial void RandomModel(ILogger logger, string directory);

    [LoggerMessage(4, LogLevel.Information, "Partitions assigned: {Partitions}")]
    public static partial void Assigned(ILogger logger, string partitions);

    // The positions are how far the consumer had read, not what was committed: only the alerts processed are.
    [LoggerMessage(5, LogLevel.Information, "Partitions revoked: {Partitions}; {Commit}")]
    public static partial void Revoked(ILogger logger, string partitions, string commit);

    [LoggerMessage(6, LogLevel.Warning, "State store unavailable ({Error}); consumption paused, retrying the batch in {DelayMs} ms (attempt {Attempt})")]
    public static partial void StateUnavailable(ILogger logger, string error, int delayMs, int attempt);

    [LoggerMessage(75, LogLevel.Warning, "State writes kept losing to another writer ({Error}): another worker writing the same objects (one that lost its partitions but still runs, or another deployment with the same State:KeyPrefix); consumption paused, retrying the batch in {DelayMs} ms (attempt {Attempt})")]
    public static partial void StateConflict(ILogger logger, string error, int delayMs, int attempt);

    // The Redis client's full diagnostics (queue lengths, thread pool, connection state), left out of the warning above.
    [LoggerMessage(62, LogLevel.Debug, "State store failure in full")]
    public static partial void StateUnavailableDetail(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "State store reachable again after {Attempts} attempts; resuming")]
    public static partial void StateRecovered(ILogger logger, int attempts);

    [LoggerMessage(8, LogLevel.Warning, "Dead letter from {Topic} [{Partition}] @{Offset}: {Kind}: {Error}")]
    public static partial void DeadLetter(ILogger logger, string topic, int partition, long offset, string kind, string error);

    [LoggerMessage(9, LogLevel.Error, "Publishing a batch failed ({Error}); retrying its publishing")]
    public static partial void PublishFailed(ILogger logger, string error);

    [LoggerMessage(10, LogLevel.Information, "Shutting down: finished the batch in hand, committed offsets, closed the consumer ({Batches} batches, {Alerts} alerts, {DeadLetters} dead letters)")]
    public static partial void Stopped(ILogger logger, long batches, long alerts, long deadLetters);

    [LoggerMessage(63, LogLevel.Warning, "Shutting down: the batch in hand ({Messages} messages) was not finished before the stop (its state writes or messages were not acknowledged), so its offsets are not committed and the next owner reads it again; committed the batches before it, closed the consumer ({Batches} batches, {Alerts} alerts, {DeadLetters} dead letters)")]
    public static partial void StoppedUnfinished(ILogger logger, int messages, long batches, long alerts, long deadLetters);

    [LoggerMessage(68, LogLevel.Warning, "Shutting down: the batch in hand ({Messages} messages) was not finished before the stop (its state writes or messages were not acknowledged), so its offsets are not committed and the next owner reads it again; committed the batches before it, but did not leave the group (Kafka did not answer): the group gives this member's partitions to the others after its session.timeout.ms ({Batches} batches, {Alerts} alerts, {DeadLetters} dead letters)")]
    public static partial void StoppedUnfinishedWithoutLeaving(ILogger logger, int messages, long batches, long alerts, long deadLetters);

    [LoggerMessage(69, LogLevel.Warning, "{Count} more dead letters of kind {Kind} in the last {Seconds:F0} s were not logged one by one (the first {PerWindow} of each kind in a {WindowSeconds:F0}-s window are); every one went to {Topic} and is counted in alertbroker_dead_letters_total")]
    public static partial void DeadLettersNotLogged(ILogger logger, long count, string kind, double seconds, int perWindow, double windowSeconds, string topic);

    [LoggerMessage(70, LogLevel.Warning, "{Count} more dead letters of kind {Kind} over the size limit in the last {Seconds:F0} s were sent as a reference without a line each (the first {PerWindow} of each kind in a {WindowSeconds:F0}-s window are logged with their SHA-256); each reference in {Topic} carries it, and alertbroker_dead_letters_truncated_total counts them")]
    public static partial void TruncatedNotLogged(ILogger logger, long count, string kind, double seconds, int perWindow, double windowSeconds, string topic);

    [LoggerMessage(65, LogLevel.Information, "Stopped before reading anything: nothing to commit")]
    public static partial void StoppedBeforeReading(ILogger logger);

    [LoggerMessage(66, LogLevel.Error, "Kafka did not answer {Step} within {Seconds} s (librdkafka waits for the group coordinator, at times without end where no broker answers): stopping without it and without leaving the group, which gives this member's partitions to the others after its session.timeout.ms")]
    public static partial void FinalStepTimedOut(ILogger logger, string step, double seconds);

    [LoggerMessage(67, LogLevel.Warning, "Shutting down: finished the batch in hand and committed offsets, but did not leave the group (Kafka did not answer): the group gives this member's partitions to the others after its session.timeout.ms ({Batches} batches, {Alerts} alerts, {DeadLetters} dead letters)")]
    public static partial void StoppedWithoutLeaving(ILogger logger, long batches, long alerts, long deadLetters);

    [LoggerMessage(64, LogLevel.Warning, "Stopped without committing: {Why}; what was read and not committed is read again by the next owner ({Batches} batches, {Alerts} alerts, {DeadLetters} dead letters)")]
    public static partial void StoppedWithoutCommit(ILogger logger, string why, long batches, long alerts, long deadLetters);

    [LoggerMessage(71, LogLevel.Warning, "Not yet a member of consumer group {GroupId} after {Seconds} s: no partitions assigned, nothing read. Kafka has not finished the group's rebalance — a member that stopped without leaving the group holds it up to its session.timeout.ms ({SessionTimeoutSeconds} s) — or its coordinator does not answer (see Kafka errors above); /readyz says not ready until it does")]
    public static partial void NotInGroup(ILogger logger, string groupId, long seconds, double sessionTimeoutSeconds);

    [LoggerMessage(11, LogLevel.Warning, "Kafka {Client} error {Code}: {Reason}")]
    public static partial void KafkaError(ILogger logger, string client, string code, string reason);

    [LoggerMessage(12, LogLevel.Debug, "Batch: {Messages} messages, {Alerts} alerts, {DeadLetters} dead letters in {Milliseconds} ms")]
    public static partial void Batch(ILogger logger, int messages, int alerts, int deadLetters, double milliseconds);

    [LoggerMessage(76, LogLevel.Information, "Committing offsets at the stop: {Error} (the group is finishing a rebalance); committing again with its new generation")]
    public static partial void CommitRetried(ILogger logger, string error);

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

    [LoggerMessage(21, LogLevel.Warning, "Kafka at {BootstrapServers} did not answer at start (checked for {Seconds} s); the worker keeps trying until AlertBroker:Kafka:StartTimeoutMs")]
    public static partial void KafkaNotAnswering(ILogger logger, string bootstrapServers, double seconds);

    [LoggerMessage(33, LogLevel.Information, "Survey {Survey}: {Role} model {Name} {Version}")]
    public static partial void ModelServes(ILogger logger, string survey, string role, string name, string version);

    [LoggerMessage(34, LogLevel.Warning, "Model {Model} serves {Survey} but needs metadata ({Sources}) that no configured source supplies; its metadata is optional, so those values are scored as unknown (configure AlertBroker:Metadata:Sources:{Survey}:<source>, or use a model without metadata)")]
    public static partial void MetadataMissing(ILogger logger, string model, string survey, string sources);

    // Event 34 said "optional" of every model, a required one included (which is withheld, AlertBatchProcessor).
    [LoggerMessage(74, LogLevel.Warning, "{Count} more batches in the last {Seconds:F0} s had the same metadata problem (said once a minute; alertbroker_metadata_lookups_total counts the objects): {Problem}")]
    public static partial void MetadataProblemNotLogged(ILogger logger, long count, double seconds, string problem);

    [LoggerMessage(73, LogLevel.Warning, "{Count} more librdkafka lines of {Source} in the last {Seconds:F0} s were not logged (the first {PerWindow} of each client and facility in a {WindowSeconds:F0}-s window are); alertbroker_kafka_log_messages_total counts every one")]
    public static partial void LibrdkafkaNotLogged(ILogger logger, long count, string source, double seconds, int perWindow, double windowSeconds);

    [LoggerMessage(72, LogLevel.Warning, "Model {Model} serves {Survey} but requires metadata ({Sources}) that no source supplies here; its alerts are stored and classified without probabilities (scoring NONE, with the reason) until a source supplies it (models metadata set, or AlertBroker:Metadata:Sources:{Survey}:<source>)")]
    public static partial void RequiredMetadataMissing(ILogger logger, string model, string survey, string sources);

    [LoggerMessage(35, LogLevel.Information, "Metadata source {Survey}/{Source}: {Description}")]
    public static partial void MetadataSource(ILogger logger, string survey, string source, string description);

    [LoggerMessage(36, LogLevel.Warning, "Metadata source {Survey}/{Source} cannot be used: {Problem}")]
    public static partial void MetadataSourceUnusable(ILogger logger, string survey, string source, string problem);

    [LoggerMessage(37, LogLevel.Information, "Survey {Survey}: picked {Model} from {Directory} (the newest package declaring the survey)")]
    public static partial void AutoPicked(ILogger logger, string survey, string model, string directory);

    [LoggerMessage(16, LogLevel.Information, "Output schema registered in {Registry} under subject {Subject} with id {SchemaId}")]
    public static partial void SchemaRegistered(ILogger logger, string registry, string subject, int schemaId);

    [LoggerMessage(EventId = 31, Message = "librdkafka {Client} {Facility}: {Message}")]
    public static partial void Librdkafka(ILogger logger, LogLevel level, string client, string facility, string message);

    [LoggerMessage(32, LogLevel.Critical, "Kafka {Client} reported a fatal error {Code}: {Reason}; the worker stops (exit code 70)")]
    public static partial void KafkaFatal(ILogger logger, string client, string code, string reason);

    [LoggerMessage(22, LogLevel.Warning, "Partitions lost (the group moved on without this member, e.g. after a long pause): {Partitions}; their uncommitted batches are re-delivered to the new owners")]
    public static partial void PartitionsLost(ILogger logger, string partitions);

    [LoggerMessage(23, LogLevel.Information, "Kafka reachable: {Brokers} broker(s) answered ({BootstrapServers})")]
    public static partial void KafkaReachable(ILogger logger, int brokers, string bootstrapServers);

    [LoggerMessage(61, LogLevel.Warning, "Kafka has no topic {Topics} yet: it is made at its first use only where the brokers create topics themselves (auto.create.topics.enable); otherwise create it, or {Consequence}")]
    public static partial void TopicsMissing(ILogger logger, string topics, string consequence);

    [LoggerMessage(24, LogLevel.Warning, "Schema registry unavailable ({Error}); consumption paused, retrying the batch in {DelayMs} ms (attempt {Attempt})")]
    public static partial void RegistryUnavailable(ILogger logger, string error, int delayMs, int attempt);

    // Reason names the bound that cut it: "is over the 4096-byte limit (AlertBroker:Kafka:DeadLetterMaxBytes)", the
    // producer's message.max.bytes, or Kafka's refusal. Until 2026-12-08 it named the limit whatever the size ("2600 bytes
    // is over the 4096-byte limit").
    [LoggerMessage(25, LogLevel.Warning, "Dead letter from {Topic} [{Partition}] @{Offset} ({Size} bytes) {Reason}: sent as a reference (SHA-256 {Sha256}) with the first {Kept} bytes")]
    public static partial void DeadLetterTruncated(ILogger logger, string topic, int partition, long offset, int size, string reason, string sha256, int kept);

    [LoggerMessage(26, LogLevel.Warning, "Shutting down: the batch in hand was not acknowledged by Kafka within {Seconds} s; its offsets are not committed (it is re-delivered after a restart)")]
    public static partial void DrainTimedOut(ILogger logger, double seconds);

    [LoggerMessage(27, LogLevel.Warning, "Redis unreachable {Outage}; consumption paused until it answers")]
    public static partial void StateStillUnavailable(ILogger logger, string outage);

    [LoggerMessage(30, LogLevel.Critical, "{Error}; the worker stops (exit code 4)")]
    public static partial void KafkaUnavailableAtStart(ILogger logger, string error);

    [LoggerMessage(28, LogLevel.Information, "Redis answers again after {Seconds} s")]
    public static partial void StateBack(ILogger logger, double seconds);

    [LoggerMessage(29, LogLevel.Information, "Schema registry answers again after {Seconds} s")]
    public static partial void RegistryBack(ILogger logger, double seconds);

    [LoggerMessage(38, LogLevel.Warning, "The stored record of {Survey} object {ObjectId} could not be read (damaged, or written by another program): its light curve starts again from this alert ({More} more such objects in the batch)")]
    public static partial void StateUnreadable(ILogger logger, string survey, string objectId, int more);

    [LoggerMessage(39, LogLevel.Warning, "{Problem}: its values are unknown in this batch; alerts of a model that requires it are stored and classified without probabilities (scoring NONE) until the key is a hash the worker may read")]
    public static partial void MetadataUnavailable(ILogger logger, string problem);

    [LoggerMessage(60, LogLevel.Warning, "Configuration key {Key} is not a setting and is ignored{Hint}")]
    public static partial void UnknownConfigurationKey(ILogger logger, string key, string hint);
}
