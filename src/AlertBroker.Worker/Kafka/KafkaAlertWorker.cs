using System.Diagnostics;
using System.Text;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlertBroker.Worker.Kafka;

/// <summary>Publishing to the output or dead-letter topic failed; the batch is retried.</summary>
public sealed class PublishException : Exception
{
    public PublishException()
    {
    }

    public PublishException(string message)
        : base(message)
    {
    }

    public PublishException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The Kafka side of the worker: a consumer-group member (cooperative sticky assignment) whose blocking <c>Consume</c> loop
/// runs on a dedicated thread, gathers batches of up to N messages or T ms, hands each to <see cref="AlertBatchProcessor"/>,
/// publishes the classifications and dead letters, waits for their delivery, and only then stores the batch's offsets
/// (committed every <see cref="KafkaOptions.CommitIntervalMs"/>, on partition revocation and on shutdown): at-least-once.
/// </summary>
/// <remarks>
/// A batch is finished before the next <c>Consume</c>, and librdkafka runs rebalance callbacks inside <c>Consume</c>, so a
/// revocation never finds a batch in flight and can commit everything processed. While the state store is unreachable
/// the loop retries the batch in hand with exponential backoff and fetches nothing more; nothing is committed meanwhile.
/// </remarks>
public sealed class KafkaAlertWorker
{
    private readonly KafkaOptions _options;
    private readonly StateOptions _retry;
    private readonly AlertBatchProcessor _processor;
    private readonly WorkerMetrics? _metrics;
    private readonly WorkerHealth? _health;
    private readonly ILogger _logger;
    private const int MaxUnexpectedFailures = 3;
    private readonly CancellationTokenSource _abort = new();
    private long _batches;
    private long _alerts;
    private long _deadLetters;
    private long _classifications;

    public KafkaAlertWorker(KafkaOptions options, StateOptions retry, AlertBatchProcessor processor, WorkerMetrics? metrics = null, WorkerHealth? health = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(retry);
        ArgumentNullException.ThrowIfNull(processor);
        _options = options;
        _retry = retry;
        _processor = processor;
        _metrics = metrics;
        _health = health;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised on the consume thread after each batch is published and its offsets stored.</summary>
    public event Action<BatchResult>? BatchCompleted;

    public long Batches => Interlocked.Read(ref _batches);

    public long Alerts => Interlocked.Read(ref _alerts);

    public long DeadLetters => Interlocked.Read(ref _deadLetters);

    public long Classifications => Interlocked.Read(ref _classifications);

    /// <summary>
    /// Stops at once, as a crash would: the batch in hand is abandoned and nothing more is committed (only offsets of batches
    /// already published can still reach the broker, as the consumer closes). For reliability tests.
    /// </summary>
    public void Abort() => _abort.Cancel();

    /// <summary>Runs until <paramref name="stoppingToken"/> fires (graceful: finish the batch, publish, commit, close) or <see cref="Abort"/>.</summary>
    public Task RunAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The consumer configuration, with pass-through properties applied last.</summary>
    public static ConsumerConfig CreateConsumerConfig(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            EnableAutoCommit = true,
            AutoCommitIntervalMs = options.CommitIntervalMs,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = options.AutoOffsetReset == "latest" ? AutoOffsetReset.Latest : AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            EnablePartitionEof = false,
            FetchMaxBytes = 64 * 1024 * 1024,
        };
        foreach (var (k, v) in options.Properties)
        {
            config.Set(k, v);
        }

        KafkaSecurity.Apply(config, options);
        return config;
    }

    /// <summary>The producer configuration (classifications, dead letters), with pass-through properties and the typed security settings.</summary>
    public static ProducerConfig CreateProducerConfig(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            Acks = Acks.All,
            LingerMs = 5,
            MessageMaxBytes = 16 * 1024 * 1024,
        };
        foreach (var (k, v) in options.Properties)
        {
            config.Set(k, v);
        }

        KafkaSecurity.Apply(config, options);
        return config;
    }

    /// <summary>
    /// The configuration of an admin client (the start-time check, tools): the brokers, the pass-through properties that
    /// apply to every client, and the typed security settings.
    /// </summary>
    public static AdminClientConfig CreateAdminConfig(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AdminClientConfig { BootstrapServers = options.BootstrapServers };
        foreach (var (k, v) in options.Properties)
        {
            // Consumer- and producer-only settings would make librdkafka warn on an admin client.
            if (!k.StartsWith("session.", StringComparison.Ordinal) && !k.StartsWith("heartbeat.", StringComparison.Ordinal) && !k.StartsWith("max.poll.", StringComparison.Ordinal))
            {
                config.Set(k, v);
            }
        }

        KafkaSecurity.Apply(config, options);
        return config;
    }

    /// <summary>librdkafka's own log lines (its <c>debug</c> output among them) to the worker's log at Debug, secrets redacted.</summary>
    internal static void ForwardLog(ILogger logger, KafkaOptions options, LogMessage message)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.Librdkafka(logger, message.Name, message.Facility, KafkaSecurity.Redact(message.Message, options));
        }
    }

    private void Run(CancellationToken stoppingToken)
    {
        var abort = _abort.Token;
        var version = KafkaNativeLibrary.Load();
        Log.KafkaLibrary(_logger, version, KafkaNativeLibrary.LoadedPath ?? "the platform's default location", typeof(Library).Assembly.GetName().Version?.ToString(3) ?? "?");
        using var producer = new ProducerBuilder<byte[]?, byte[]>(CreateProducerConfig(_options))
            .SetErrorHandler((_, e) => Log.KafkaError(_logger, KafkaSecurity.Redact(e.Reason, _options)))
            .SetLogHandler((_, m) => ForwardLog(_logger, _options, m))
            .Build();
        var consumer = new ConsumerBuilder<Ignore, byte[]>(CreateConsumerConfig(_options))
            .SetErrorHandler((_, e) => Log.KafkaError(_logger, KafkaSecurity.Redact(e.Reason, _options)))
            .SetLogHandler((_, m) => ForwardLog(_logger, _options, m))
            .SetPartitionsAssignedHandler((c, partitions) =>
            {
                Log.Assigned(_logger, string.Join(", ", partitions));
                UpdateAssigned(c);
            })
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                if (!abort.IsCancellationRequested)
                {
                    TryCommit(c);
                }

                Log.Revoked(_logger, string.Join(", ", partitions));
                _health?.AssignedPartitions = Math.Max(0, c.Assignment.Count - partitions.Count);
            })
            .SetPartitionsLostHandler((c, partitions) =>
            {
                Log.KafkaError(_logger, "partitions lost: " + string.Join(", ", partitions));
                _health?.AssignedPartitions = 0;
            })
            .Build();
        try
        {
            var topics = new List<string>(_options.Topics);
            if (!string.IsNullOrWhiteSpace(_options.TopicPattern))
            {
                topics.Add(_options.TopicPattern);
            }

            Log.Starting(_logger, _options.GroupId, string.Join(",", topics), _options.OutputTopic, _options.DeadLetterTopic, _options.BatchSize, _options.BatchTimeoutMs);
            consumer.Subscribe(topics);
            _health?.Running = true;
            var batch = new List<ConsumeResult<Ignore, byte[]>>(_options.BatchSize);
            var inputs = new List<InputMessage>(_options.BatchSize);
            while (!stoppingToken.IsCancellationRequested && !abort.IsCancellationRequested)
            {
                batch.Clear();
                Fill(consumer, batch, stoppingToken, abort);
                if (batch.Count == 0 || abort.IsCancellationRequested)
                {
                    continue;
                }

                inputs.Clear();
                foreach (var r in batch)
                {
                    var ts = r.Message.Timestamp.Type == TimestampType.NotAvailable ? (long?)null : r.Message.Timestamp.UnixTimestampMs;
                    inputs.Add(new InputMessage(r.Message.Value ?? [], r.Topic, r.Partition.Value, r.Offset.Value, ts));
                }

                _metrics?.MessagesReceived(inputs.Count);
                if (!ProcessAndPublish(producer, inputs, stoppingToken, abort))
                {
                    break;
                }

                StoreOffsets(consumer, batch);
                UpdateLag(consumer);
            }

            if (!abort.IsCancellationRequested)
            {
                TryCommit(consumer);
                consumer.Close();
            }
        }
        finally
        {
            _health?.Running = false;
            _health?.AssignedPartitions = 0;
            consumer.Dispose();
            Log.Stopped(_logger, Batches, Alerts, DeadLetters);
        }
    }

    private void Fill(IConsumer<Ignore, byte[]> consumer, List<ConsumeResult<Ignore, byte[]>> batch, CancellationToken stoppingToken, CancellationToken abort)
    {
        var clock = Stopwatch.StartNew();
        var timeout = TimeSpan.FromMilliseconds(_options.BatchTimeoutMs);
        while (batch.Count < _options.BatchSize && !stoppingToken.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            var remaining = batch.Count == 0 ? TimeSpan.FromMilliseconds(100) : timeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            ConsumeResult<Ignore, byte[]>? r;
            try
            {
                r = consumer.Consume(remaining);
            }
            catch (ConsumeException e)
            {
                // A broken message (e.g. failed CRC) must not stop the partition: dead-letter what can be had and move on.
                Log.KafkaError(_logger, e.Error.Reason);
                _metrics?.Error("kafka_consume");
                if (e.ConsumerRecord is { } record)
                {
                    batch.Add(new ConsumeResult<Ignore, byte[]>
                    {
                        TopicPartitionOffset = record.TopicPartitionOffset,
                        Message = new Message<Ignore, byte[]> { Value = [], Timestamp = Timestamp.Default },
                    });
                }

                continue;
            }

            if (r is null)
            {
                if (batch.Count > 0)
                {
                    break;
                }

                clock.Restart();
                continue;
            }

            if (batch.Count == 0)
            {
                clock.Restart();
            }

            batch.Add(r);
        }
    }

    // Returns false when aborted or stopped while the batch could not be completed (its offsets are then not stored).
    private bool ProcessAndPublish(IProducer<byte[]?, byte[]> producer, List<InputMessage> inputs, CancellationToken stoppingToken, CancellationToken abort)
    {
        var delay = _retry.RetryInitialMs;
        var unexpected = 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // A batch that keeps failing for a reason that is not the state store's or Kafka's is taken apart: each
                // message alone, and the ones that still fail go to the dead-letter topic, so one cannot block a partition.
                var result = unexpected >= MaxUnexpectedFailures
                    ? ProcessOneByOneAsync(inputs, allMayFail: unexpected >= 3 * MaxUnexpectedFailures, abort).GetAwaiter().GetResult()
                    : _processor.ProcessAsync(inputs, abort).GetAwaiter().GetResult();
                if (attempt > 1)
                {
                    Log.StateRecovered(_logger, attempt);
                }

                _health?.StateReachable = true;
                var clock = Stopwatch.StartNew();
                Publish(producer, result, abort);
                _metrics?.Stage("publish", clock.Elapsed);
                _metrics?.Published(result, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _alerts, result.Alerts);
                Interlocked.Add(ref _deadLetters, result.DeadLetters.Count);
                Interlocked.Add(ref _classifications, result.Outputs.Count);
                Log.Batch(_logger, result.Messages, result.Alerts, result.DeadLetters.Count, result.Timings.Total.TotalMilliseconds);
                BatchCompleted?.Invoke(result);
                return true;
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e) when (e is StateStoreUnavailableException or StateConflictException)
            {
                _health?.StateReachable = false;
                _metrics?.Error(e is StateConflictException ? "state_conflict" : "state_unavailable");
                Log.StateUnavailable(_logger, e.Message, delay, attempt);
            }
            catch (Exception e) when (e is PublishException or KafkaException)
            {
                _metrics?.Error("publish");
                Log.PublishFailed(_logger, e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                unexpected++;
                _metrics?.Error("internal");
                Log.BatchFailed(_logger, e, e.Message);
            }

            // A shutdown while the batch cannot be completed leaves it uncommitted: it is re-delivered after a restart.
            if (WaitHandle.WaitAny([abort.WaitHandle, stoppingToken.WaitHandle], delay) != WaitHandle.WaitTimeout)
            {
                return false;
            }

            delay = Math.Min(_retry.RetryMaxMs, delay * 2);
        }
    }

    // When every message of a batch fails alone, the cause is more likely the environment than the messages: that is
    // retried (as an unexpected failure) a few more times before the messages are dead-lettered after all.
    private async Task<BatchResult> ProcessOneByOneAsync(List<InputMessage> inputs, bool allMayFail, CancellationToken abort)
    {
        Exception? last = null;
        var failed = 0;
        var outputs = new List<OutputMessage>();
        var dead = new List<DeadLetter>();
        int alerts = 0, written = 0, added = 0, retries = 0;
        var clock = Stopwatch.StartNew();

        // One model for the whole batch, even though its messages are retried one call at a time.
        var model = _processor.CurrentModel();
        foreach (var message in inputs)
        {
            try
            {
                var r = await _processor.ProcessAsync([message], model, abort).ConfigureAwait(false);
                outputs.AddRange(r.Outputs);
                dead.AddRange(r.DeadLetters);
                alerts += r.Alerts;
                written += r.ObjectsWritten;
                added += r.ObservationsAdded;
                retries += r.CasRetries;
            }
            catch (Exception e) when (e is not (OperationCanceledException or StateStoreUnavailableException or StateConflictException))
            {
                dead.Add(new DeadLetter(message, "Internal", e.GetType().Name + ": " + e.Message));
                last = e;
                failed++;
            }
        }

        if (last is not null && failed == inputs.Count && inputs.Count > 1 && !allMayFail)
        {
            throw new InvalidOperationException("every message of the batch failed on its own: " + last.Message, last);
        }

        for (var i = 0; i < failed; i++)
        {
            _metrics?.DeadLetter("Internal");
        }

        var t = clock.Elapsed;
        return new BatchResult(inputs.Count, alerts, outputs, dead, written, added, retries, new StageTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, t));
    }

    private void Publish(IProducer<byte[]?, byte[]> producer, BatchResult result, CancellationToken abort)
    {
        var failures = 0;
        string? firstError = null;
        void OnDelivery(DeliveryReport<byte[]?, byte[]> report)
        {
            if (report.Error.IsError)
            {
                if (Interlocked.Increment(ref failures) == 1)
                {
                    firstError = report.Error.Reason;
                }
            }
        }

        foreach (var o in result.Outputs)
        {
            ProduceWithBackpressure(producer, _options.OutputTopic, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(o.Key), Value = o.Value }, OnDelivery, abort);
        }

        foreach (var d in result.DeadLetters)
        {
            Log.DeadLetter(_logger, d.Message.Topic, d.Message.Partition, d.Message.Offset, d.Kind, d.Error);
            var headers = new Headers
            {
                { "alertbroker.error.kind", Encoding.UTF8.GetBytes(d.Kind) },
                { "alertbroker.error.message", Encoding.UTF8.GetBytes(d.Error.Length > 2000 ? d.Error[..2000] : d.Error) },
                { "alertbroker.source.topic", Encoding.UTF8.GetBytes(d.Message.Topic) },
                { "alertbroker.source.partition", Encoding.UTF8.GetBytes(d.Message.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                { "alertbroker.source.offset", Encoding.UTF8.GetBytes(d.Message.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
            };
            ProduceWithBackpressure(producer, _options.DeadLetterTopic, new Message<byte[]?, byte[]> { Key = null, Value = d.Message.Value.ToArray(), Headers = headers }, OnDelivery, abort);
        }

        while (producer.Flush(TimeSpan.FromMilliseconds(200)) > 0)
        {
            abort.ThrowIfCancellationRequested();
        }

        if (failures > 0)
        {
            throw new PublishException($"{failures} messages were not delivered: {firstError}");
        }
    }

    private static void ProduceWithBackpressure(IProducer<byte[]?, byte[]> producer, string topic, Message<byte[]?, byte[]> message, Action<DeliveryReport<byte[]?, byte[]>> onDelivery, CancellationToken abort)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, onDelivery);
                return;
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                abort.ThrowIfCancellationRequested();
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    private void StoreOffsets(IConsumer<Ignore, byte[]> consumer, List<ConsumeResult<Ignore, byte[]>> batch)
    {
        var next = new Dictionary<TopicPartition, long>();
        foreach (var r in batch)
        {
            if (!next.TryGetValue(r.TopicPartition, out var o) || r.Offset.Value + 1 > o)
            {
                next[r.TopicPartition] = r.Offset.Value + 1;
            }
        }

        foreach (var (tp, offset) in next)
        {
            try
            {
                consumer.StoreOffset(new TopicPartitionOffset(tp, new Offset(offset)));
            }
            catch (KafkaException e)
            {
                // The partition went away (e.g. lost after a long state outage): its new owner re-processes; merges are idempotent.
                Log.CommitFailed(_logger, e.Error.Reason);
            }
        }
    }

    private void TryCommit(IConsumer<Ignore, byte[]> consumer)
    {
        try
        {
            consumer.Commit();
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_NoOffset)
        {
        }
        catch (KafkaException e)
        {
            _metrics?.Error("commit");
            Log.CommitFailed(_logger, e.Error.Reason);
        }
    }

    private void UpdateAssigned(IConsumer<Ignore, byte[]> consumer)
    {
        // Called inside the assignment callback, before the incremental assignment is applied: count after a moment.
        _health?.AssignedPartitions = Math.Max(1, consumer.Assignment.Count);
    }

    private void UpdateLag(IConsumer<Ignore, byte[]> consumer)
    {
        if (_metrics is null && _health is null)
        {
            return;
        }

        var assignment = consumer.Assignment;
        _health?.AssignedPartitions = assignment.Count;
        if (_metrics is null)
        {
            return;
        }

        foreach (var tp in assignment)
        {
            var w = consumer.GetWatermarkOffsets(tp);
            var position = consumer.Position(tp);
            if (w.High.Value >= 0 && position.Value >= 0)
            {
                _metrics.SetLag(tp.Topic, tp.Partition.Value, Math.Max(0, w.High.Value - position.Value));
            }
        }
    }
}
