using System.Diagnostics;
using System.Globalization;
using System.Text;
using AlertBroker.Avro;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
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

/// <summary>Kafka did not answer at start (unreachable, or refusing the connection or the credentials): exit code 4.</summary>
public sealed class KafkaUnavailableException : Exception
{
    public KafkaUnavailableException()
    {
    }

    public KafkaUnavailableException(string message)
        : base(message)
    {
    }

    public KafkaUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>librdkafka reported a fatal error: the client cannot go on (exit code 70).</summary>
public sealed class KafkaFatalException : Exception
{
    public KafkaFatalException()
    {
    }

    public KafkaFatalException(string message)
        : base(message)
    {
    }

    public KafkaFatalException(string message, Exception innerException)
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
    private readonly Lock _assignmentLock = new();
    private readonly HashSet<TopicPartition> _assignment = [];
    private readonly int _producerMessageMaxBytes;
    private volatile Error? _fatal;

    // The final commit, made by the revoked handler while the consumer closes: set by that handler, read after Close().
    private const int CloseCommitNone = 0;
    private const int CloseCommitRunning = 1;
    private const int CloseCommitDone = 2;
    private const int CloseCommitFailed = 3;
    private const int CloseCommitNothing = 4;
    private volatile bool _closing;
    private volatile bool _stopCommitFailed;
    private int _closeCommit;
    private volatile Error? _lastError;
    private long _stopRequested;
    private long _notInGroupSince;
    private long _notInGroupWarned;
    private readonly int _sessionTimeoutMs;
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
        _producerMessageMaxBytes = CreateProducerConfig(options).MessageMaxBytes ?? 1_000_000;
        _sessionTimeoutMs = CreateConsumerConfig(options).SessionTimeoutMs ?? 45_000;
        health?.StandByAfter = TimeSpan.FromMilliseconds(2.0 * _sessionTimeoutMs);
    }

    /// <summary>
    /// How long the worker may wait for the consumer group to take it in (its first assignment, or a new one after its
    /// partitions were lost) before it says so in the log; then again every <see cref="NotInGroupWarnEvery"/>.
    /// </summary>
    public TimeSpan NotInGroupWarnAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the wait for the group is logged again, after the first line.</summary>
    public TimeSpan NotInGroupWarnEvery { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How many dead letters are logged one by one (the rest are counted and summed up per window).</summary>
    internal DeadLetterLogLimiter DeadLetterLog { get; init; } = new();

    /// <summary>Bounds the lines for dead letters sent as a reference (over the size limit), as <see cref="DeadLetterLog"/> does for dead letters.</summary>
    internal DeadLetterLogLimiter TruncatedLog { get; init; } = new();

    /// <summary>
    /// Bounds librdkafka's lines in the worker's log per client and facility, as <see cref="DeadLetterLog"/> does for dead
    /// letters: while the brokers were down its FAIL line came about 22 times a second per worker at error level, for as
    /// long as the outage lasted (80,000 lines an hour). Used from librdkafka's threads, under <see cref="_librdkafkaLogLock"/>.
    /// </summary>
    internal DeadLetterLogLimiter LibrdkafkaLog { get; init; } = new();

    /// <summary>Bounds the metadata-source problems logged per batch: each once a minute, the rest counted. Consume loop only.</summary>
    internal DeadLetterLogLimiter MetadataLog { get; init; } = new(perKindPerWindow: 1, window: TimeSpan.FromMinutes(1));

    private readonly Lock _librdkafkaLogLock = new();

    /// <summary>
    /// After a stop is requested, how long the batch in hand may still take to be acknowledged by Kafka; past it, the batch
    /// is abandoned uncommitted (re-delivered after a restart) and the worker closes. Keep it below the host's shutdown
    /// timeout (the hosted service sets it so) and the pod's grace period; librdkafka's own <c>message.timeout.ms</c>
    /// (300 s by default) would otherwise decide.
    /// </summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// At the stop, how long the final commit, and then the group leave (the consumer's close), may each take. Both wait
    /// for the group coordinator in librdkafka: where no broker answers, until the session times out (45 s by default) and
    /// at times without end (librdkafka issue 3740). Past this the worker stops without that step — and without leaving
    /// the group, which gives this member's partitions to the others after its session.timeout.ms — rather than outlive
    /// the host's shutdown timeout, whose last 10 s are kept for these two steps.
    /// </summary>
    public TimeSpan FinalStepTimeout { get; init; } = TimeSpan.FromSeconds(5);

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
        return WithSettings(config, options, static _ => true);
    }

    /// <summary>The producer configuration (classifications, dead letters), with the pass-through properties that are not consumer-only and the typed security settings.</summary>
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
        return WithSettings(config, options, static k => !IsConsumerOnly(k));
    }

    /// <summary>
    /// The configuration of an admin client (the start-time check, tools): the brokers, the pass-through properties that
    /// apply to every client, and the typed security settings.
    /// </summary>
    public static AdminClientConfig CreateAdminConfig(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AdminClientConfig { BootstrapServers = options.BootstrapServers };
        return WithSettings(config, options, static k => !IsConsumerOnly(k));
    }

    // Group-membership settings (session.timeout.ms, group.instance.id, …) mean nothing to a producer or an admin client,
    // and librdkafka logs a warning for each one such a client is given.
    private static bool IsConsumerOnly(string key) =>
        key.StartsWith("session.", StringComparison.Ordinal) || key.StartsWith("heartbeat.", StringComparison.Ordinal) || key.StartsWith("max.poll.", StringComparison.Ordinal) || key.StartsWith("group.", StringComparison.Ordinal);

    // The pass-through properties (those <paramref name="applies"/> to this kind of client), then the typed security settings.
    private static T WithSettings<T>(T config, KafkaOptions options, Func<string, bool> applies)
        where T : ClientConfig
    {
        foreach (var (k, v) in options.Properties)
        {
            if (applies(k))
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
        using var stopRegistration = stoppingToken.Register(() => Interlocked.CompareExchange(ref _stopRequested, Stopwatch.GetTimestamp(), 0));
        var version = KafkaNativeLibrary.Load();
        Log.KafkaLibrary(_logger, version, KafkaNativeLibrary.LoadedPath ?? "the platform's default location", typeof(Library).Assembly.GetName().Version?.ToString(3) ?? "?");
        using var producer = new ProducerBuilder<byte[]?, byte[]>(CreateProducerConfig(_options))
            .SetErrorHandler((_, e) => OnError("producer", e))
            .SetLogHandler((_, m) => OnLog("producer", m))
            .Build();
        var consumer = new ConsumerBuilder<Ignore, byte[]>(CreateConsumerConfig(_options))
            .SetErrorHandler((_, e) => OnError("consumer", e))
            .SetLogHandler((_, m) => OnLog("consumer", m))
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                // Cooperative-sticky hands out increments: the handler's list is what is added to the current assignment.
                Log.Assigned(_logger, string.Join(", ", partitions));
                ChangeAssignment(partitions, add: true);
            })
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                var committing = !abort.IsCancellationRequested;
                var closing = committing && _closing;
                if (closing)
                {
                    Interlocked.CompareExchange(ref _closeCommit, CloseCommitRunning, CloseCommitNone);
                }

                var commit = committing ? TryCommit(c) : CommitResult.Failed;

                // Nothing left to commit means committed only where the commit at the stop went through: after it failed
                // (the member dropped from the group and taken back, say), librdkafka holds no stored offset any more.
                var committed = commit == CommitResult.Committed || (commit == CommitResult.NothingToCommit && !_stopCommitFailed);
                if (closing)
                {
                    // A failure sticks: the offsets of one revocation were not committed, whatever a later one did.
                    Interlocked.CompareExchange(ref _closeCommit, commit switch { CommitResult.Committed => CloseCommitDone, CommitResult.NothingToCommit => CloseCommitNothing, _ => CloseCommitFailed }, CloseCommitRunning);
                }

                // "@103" beside "committed" read as offset 103 committed while a batch held back by a Redis outage was not.
                // A commit that failed (Kafka unreachable) is not called committed: the next owner starts from the last one that was.
                Log.Revoked(
                    _logger,
                    string.Join(", ", partitions.Select(p => p.Offset.IsSpecial ? p.TopicPartition.ToString() : $"{p.TopicPartition} (read to {p.Offset.Value})")),
                    committed ? "committed the offsets of the alerts processed (what was read and not processed is read again by the next owner)"
                        : committing ? "the commit failed (see above): the next owner reads again from the last committed offsets, so alerts processed since then are processed twice"
                        : "not committed (the worker is aborting)");
                ChangeAssignment(partitions.ConvertAll(p => p.TopicPartition), add: false);
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                if (_closing)
                {
                    // Lost as the consumer closed (its session ended): nothing of them could be committed.
                    Volatile.Write(ref _closeCommit, CloseCommitFailed);
                }

                Log.PartitionsLost(_logger, string.Join(", ", partitions));
                Interlocked.Exchange(ref _notInGroupSince, Stopwatch.GetTimestamp());
                _metrics?.PartitionsLost(partitions.Count);
                ChangeAssignment(partitions.ConvertAll(p => p.TopicPartition), add: false);
                _health?.InGroup = false;
            })
            .Build();
        var unfinished = 0;
        var subscribed = false;
        Task? pending = null;
        var leaveTimedOut = false;
        var ended = false;
        var commitFailed = false;
        try
        {
            var topics = new List<string>(_options.Topics);
            if (!string.IsNullOrWhiteSpace(_options.TopicPattern))
            {
                topics.Add(_options.TopicPattern);
            }

            _health?.Running = true;
            if (!WaitForKafka(producer, stoppingToken, abort))
            {
                return;
            }

            Log.Starting(_logger, _options.GroupId, string.Join(",", topics), _options.OutputTopic, _options.DeadLetterTopic, _options.BatchSize, _options.BatchTimeoutMs);
            Interlocked.Exchange(ref _notInGroupSince, Stopwatch.GetTimestamp());
            consumer.Subscribe(topics);
            subscribed = true;
            var batch = new List<ConsumeResult<Ignore, byte[]>>(_options.BatchSize);
            var inputs = new List<InputMessage>(_options.BatchSize);
            while (!stoppingToken.IsCancellationRequested && !abort.IsCancellationRequested && _fatal is null)
            {
                batch.Clear();
                Fill(consumer, batch, stoppingToken, abort);
                if (batch.Count == 0 || abort.IsCancellationRequested || _fatal is not null)
                {
                    LogDeadLettersNotLogged(force: false);
                    continue;
                }

                inputs.Clear();
                foreach (var r in batch)
                {
                    var ts = r.Message.Timestamp.Type == TimestampType.NotAvailable ? (long?)null : r.Message.Timestamp.UnixTimestampMs;
                    inputs.Add(new InputMessage(r.Message.Value ?? [], r.Topic, r.Partition.Value, r.Offset.Value, ts));
                }

                _metrics?.MessagesReceived(inputs.Count);
                if (!ProcessAndPublish(producer, consumer, inputs, stoppingToken, abort))
                {
                    unfinished = inputs.Count;
                    break;
                }

                StoreOffsets(consumer, batch);
                UpdateLag(consumer);
                LogDeadLettersNotLogged(force: false);
            }

            if (!abort.IsCancellationRequested)
            {
                // Commits what was stored (only batches whose state writes and messages were acknowledged), then closes the
                // consumer, which revokes what is still assigned — the revoked handler commits anything stored since — and
                // leaves the group. A commit sent while this member's JoinGroup is pending (a cooperative rebalance: a member
                // joined or left, and this one rejoined) waits behind it at the coordinator and is then refused, the group
                // having moved to a new generation; it is made again with that generation (CommitAtStop). Until 2026-12-07
                // such a refusal ended the stop with "Stopped without committing: the commit failed", even where the close
                // then committed, and the alerts processed since the last commit were read again by the next owner.
                var commit = Task.Run(() => CommitAtStop(consumer), CancellationToken.None);
                if (!commit.Wait(FinalStepTimeout, CancellationToken.None))
                {
                    // Still committing on another thread: closing or disposing the consumer now would wait for it too.
                    pending = commit;
                    commitFailed = true;
                    _metrics?.Error(WorkerError.Commit);
                    Log.FinalStepTimedOut(_logger, "the final commit", FinalStepTimeout.TotalSeconds);
                }
                else
                {
                    _stopCommitFailed = !commit.Result;
                    ServeCallbacksBeforeClose(consumer);
                    _closing = true;
                    var close = Task.Run(consumer.Close, CancellationToken.None);
                    var closed = false;
                    try
                    {
                        closed = close.Wait(FinalStepTimeout, CancellationToken.None);
                    }
                    catch (AggregateException e) when (_fatal is not null && e.InnerException is KafkaException k)
                    {
                        closed = true;
                        Log.CommitFailed(_logger, k.Error.Reason);
                    }
                    catch (AggregateException e) when (e.InnerException is not null)
                    {
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                    }

                    // The revocation in the close commits what is still stored: where it committed offsets, a failure before
                    // it is mended; where it failed (or has not answered), the stop did not commit; where it found nothing
                    // left, the commit before it decides.
                    var closeCommit = Volatile.Read(ref _closeCommit);
                    commitFailed = closeCommit switch
                    {
                        CloseCommitDone => false,
                        CloseCommitNone or CloseCommitNothing => !commit.Result,
                        _ => true,
                    };
                    if (!closed)
                    {
                        pending = close;
                        if (closeCommit == CloseCommitRunning)
                        {
                            _metrics?.Error(WorkerError.Commit);
                            Log.FinalStepTimedOut(_logger, "the final commit", FinalStepTimeout.TotalSeconds);
                        }
                        else
                        {
                            leaveTimedOut = true;
                            Log.FinalStepTimedOut(_logger, "the group leave", FinalStepTimeout.TotalSeconds);
                        }
                    }
                }
            }

            if (_fatal is { } fatal)
            {
                throw new KafkaFatalException($"librdkafka reported a fatal error {fatal.Code}: {fatal.Reason}");
            }

            ended = true;
        }
        finally
        {
            _health?.Running = false;
            _health?.AssignedPartitions = 0;
            _health?.InGroup = false;
            _metrics?.SetAssignedPartitions(0);
            if (pending is null)
            {
                consumer.Dispose();
            }
            else
            {
                // Released when that step ends, if it ever does; a process exits without waiting for it.
                _ = pending.ContinueWith(_ => consumer.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            LogDeadLettersNotLogged(force: true);

            // What the log says of the ending is what happened: "committed" only where the commit went through.
            var notCommitted = _fatal is { } f ? $"librdkafka reported a fatal error {f.Code}"
                : abort.IsCancellationRequested ? "the worker aborted"
                : !ended ? "the consume loop failed"
                : commitFailed ? "the commit failed"
                : null;
            if (!subscribed && _fatal is null)
            {
                // Stopped while waiting for Kafka at start, or Kafka did not answer (exit code 4, said on its own).
                Log.StoppedBeforeReading(_logger);
            }
            else if (notCommitted is not null)
            {
                Log.StoppedWithoutCommit(_logger, notCommitted, Batches, Alerts, DeadLetters);
            }
            else if (leaveTimedOut)
            {
                if (unfinished > 0)
                {
                    Log.StoppedUnfinishedWithoutLeaving(_logger, unfinished, Batches, Alerts, DeadLetters);
                }
                else
                {
                    Log.StoppedWithoutLeaving(_logger, Batches, Alerts, DeadLetters);
                }
            }
            else if (unfinished > 0)
            {
                Log.StoppedUnfinished(_logger, unfinished, Batches, Alerts, DeadLetters);
            }
            else
            {
                Log.Stopped(_logger, Batches, Alerts, DeadLetters);
            }
        }
    }

    private void LogLibrdkafkaNotLogged(IReadOnlyList<(string Kind, long Count, TimeSpan Over)> notLogged)
    {
        foreach (var (source, count, over) in notLogged)
        {
            Log.LibrdkafkaNotLogged(_logger, count, source, over.TotalSeconds, LibrdkafkaLog.PerKindPerWindow, LibrdkafkaLog.Window.TotalSeconds);
        }
    }

    private void LogDeadLettersNotLogged(bool force)
    {
        IReadOnlyList<(string Kind, long Count, TimeSpan Over)> librdkafka;
        lock (_librdkafkaLogLock)
        {
            librdkafka = LibrdkafkaLog.TakeSuppressed(force);
        }

        LogLibrdkafkaNotLogged(librdkafka);
        foreach (var (problem, count, over) in MetadataLog.TakeSuppressed(force))
        {
            Log.MetadataProblemNotLogged(_logger, count, over.TotalSeconds, problem);
        }

        foreach (var (kind, count, over) in DeadLetterLog.TakeSuppressed(force))
        {
            Log.DeadLettersNotLogged(_logger, count, kind, over.TotalSeconds, DeadLetterLog.PerKindPerWindow, DeadLetterLog.Window.TotalSeconds, _options.DeadLetterTopic);
        }

        foreach (var (kind, count, over) in TruncatedLog.TakeSuppressed(force))
        {
            Log.TruncatedNotLogged(_logger, count, kind, over.TotalSeconds, TruncatedLog.PerKindPerWindow, TruncatedLog.Window.TotalSeconds, _options.DeadLetterTopic);
        }
    }

    /// <summary>
    /// How long a check before <see cref="RunAsync"/> already waited for Kafka without an answer
    /// (<see cref="KafkaConnectionCheck"/>): it counts against <see cref="KafkaOptions.StartTimeoutMs"/>.
    /// </summary>
    public TimeSpan StartWaitSpent { get; set; }

    // At start, Kafka must answer a metadata request within StartTimeoutMs: otherwise the worker stops with exit code 4
    // instead of waiting silently (librdkafka itself would retry forever). A stop request ends the wait cleanly (false).
    private bool WaitForKafka(IProducer<byte[]?, byte[]> producer, CancellationToken stoppingToken, CancellationToken abort)
    {
        if (_options.StartTimeoutMs <= 0)
        {
            return true;
        }

        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        var timeout = TimeSpan.FromMilliseconds(_options.StartTimeoutMs);
        var clock = Stopwatch.StartNew();

        // What a start-time check already waited comes off the limit (at least one request is always made).
        var limit = timeout - StartWaitSpent;
        while (true)
        {
            if (stoppingToken.IsCancellationRequested || abort.IsCancellationRequested)
            {
                return false;
            }

            try
            {
                // Up to 5 s a request: a slow broker (or link) takes several round trips to connect and answer.
                var metadata = admin.GetMetadata(TimeSpan.FromSeconds(Math.Clamp((limit - clock.Elapsed).TotalSeconds, 1, 5)));
                if (metadata.Brokers.Count > 0)
                {
                    Log.KafkaReachable(_logger, metadata.Brokers.Count, _options.BootstrapServers);
                    WarnOfMissingTopics(metadata);
                    return true;
                }
            }
            catch (KafkaException e)
            {
                if (e.Error.Code != ErrorCode.Local_TimedOut || _lastError is null)
                {
                    _lastError = e.Error;
                }
            }

            if (_fatal is { } fatal)
            {
                throw new KafkaUnavailableException($"Kafka at {_options.BootstrapServers}: {fatal.Reason}");
            }

            if (clock.Elapsed >= limit)
            {
                var last = _lastError;
                var refused = last is not null && last.Code is ErrorCode.Local_Authentication or ErrorCode.SaslAuthenticationFailed
                    or ErrorCode.ClusterAuthorizationFailed or ErrorCode.TopicAuthorizationFailed or ErrorCode.Local_Ssl;
                throw new KafkaUnavailableException(refused
                    ? $"Kafka at {_options.BootstrapServers} refused the connection or the credentials: {last!.Reason} (check AlertBroker:Kafka security settings)"
                    : $"Kafka at {_options.BootstrapServers} did not answer within {timeout.TotalSeconds:F0} s{(last is null ? string.Empty : " (last error: " + last.Reason + ")")}: are the bootstrap servers right and reachable? (AlertBroker:Kafka:StartTimeoutMs)");
            }
        }
    }

    // A cluster that does not create topics itself (auto.create.topics.enable=false, usual in production) leaves a worker
    // whose output topic was never made retrying its first batch for ever, and one whose input topic was never made
    // waiting: said once at start, from the metadata the start already fetched (one request for every topic).
    private void WarnOfMissingTopics(Metadata metadata)
    {
        var existing = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal);
        string[] outputs = [_options.OutputTopic, _options.DeadLetterTopic];
        var missingOutputs = outputs.Where(t => !existing.Contains(t)).Distinct(StringComparer.Ordinal).ToList();
        var missingInputs = _options.Topics.Where(t => !existing.Contains(t)).Distinct(StringComparer.Ordinal).ToList();
        if (missingOutputs.Count > 0)
        {
            Log.TopicsMissing(_logger, string.Join(", ", missingOutputs), "every batch is held and retried until it exists (nothing is committed meanwhile)");
        }

        if (missingInputs.Count > 0)
        {
            Log.TopicsMissing(_logger, string.Join(", ", missingInputs), "the worker reads nothing from it until it exists");
        }
    }

    private void OnError(string client, Error error)
    {
        _lastError = error;
        _metrics?.KafkaError(client, error.Code.ToString());
        if (error.IsFatal)
        {
            _fatal ??= error;
            Log.KafkaFatal(_logger, client, error.Code.ToString(), KafkaSecurity.Redact(error.Reason, _options));
        }
        else if (error.Code != ErrorCode.Local_Transport)
        {
            // A failed connection is already in librdkafka's own log (facility FAIL, error level): counted, not logged twice.
            Log.KafkaError(_logger, client, error.Code.ToString(), KafkaSecurity.Redact(error.Reason, _options));
        }
    }

    // librdkafka's log in the worker's log, at the matching level (syslog levels: 0-2 critical, 3 error, 4 warning,
    // 5 notice and 6 info: information, 7 debug). An offset reset after an error (e.g. the committed offset was deleted by
    // retention: data skipped) is logged by librdkafka at warning level with facility OFFSET; it is counted per topic.
    private void OnLog(string client, LogMessage message)
    {
        var level = ToLogLevel(message.Level);
        bool logged;
        IReadOnlyList<(string Kind, long Count, TimeSpan Over)> notLogged;
        lock (_librdkafkaLogLock)
        {
            logged = LibrdkafkaLog.ShouldLog(message.Name + " " + message.Facility);
            notLogged = LibrdkafkaLog.TakeSuppressed();
        }

        LogLibrdkafkaNotLogged(notLogged);
        if (logged)
        {
            Log.Librdkafka(_logger, level, message.Name, message.Facility, KafkaSecurity.Redact(message.Message, _options));
        }
        if (message.Level <= SyslogLevel.Notice)
        {
            _metrics?.LibrdkafkaLog(message.Level.ToString().ToLowerInvariant());
        }

        if (message.Level <= SyslogLevel.Warning && message.Facility == "OFFSET" && message.Message.Contains("offset reset", StringComparison.Ordinal))
        {
            // "[thrd:main]: TOPIC [PARTITION]: offset reset (at offset …) to …: fetch failed due to …"
            var text = message.Message.AsSpan();
            if (text.StartsWith("[thrd:") && text.IndexOf("]: ") is var end and > 0)
            {
                text = text[(end + 3)..];
            }

            var bracket = text.IndexOf(" [");
            _metrics?.OffsetReset(bracket > 0 ? text[..bracket].ToString() : "?");
        }
    }

    /// <summary>librdkafka's syslog level as a <see cref="LogLevel"/>.</summary>
    public static LogLevel ToLogLevel(SyslogLevel level) => level switch
    {
        SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
        SyslogLevel.Error => LogLevel.Error,
        SyslogLevel.Warning => LogLevel.Warning,
        SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
        _ => LogLevel.Debug,
    };

    private void ChangeAssignment(List<TopicPartition> partitions, bool add)
    {
        int count;
        lock (_assignmentLock)
        {
            foreach (var tp in partitions)
            {
                if (add)
                {
                    _assignment.Add(tp);
                }
                else
                {
                    _assignment.Remove(tp);
                    _metrics?.RemoveLag(tp.Topic, tp.Partition.Value);
                }
            }

            count = _assignment.Count;
        }

        _health?.AssignedPartitions = count;
        if (add)
        {
            // An assignment, even an empty one (more members than partitions), means the group has this member.
            _health?.InGroup = true;
            Interlocked.Exchange(ref _notInGroupSince, 0);
            Interlocked.Exchange(ref _notInGroupWarned, 0);
            _metrics?.StartCounting(partitions.Select(p => p.Topic));
        }

        _metrics?.SetAssignedPartitions(count);
    }

    // Joining a group is silent in librdkafka: a member that stopped without leaving holds the group's rebalance up to its
    // session.timeout.ms, and a coordinator that does not answer holds it without end. Said in the log, not only by /readyz.
    private void WarnIfNotInGroup()
    {
        var since = Interlocked.Read(ref _notInGroupSince);
        if (since == 0)
        {
            return;
        }

        var waited = Stopwatch.GetElapsedTime(since);
        var warned = Interlocked.Read(ref _notInGroupWarned);
        if (waited < NotInGroupWarnAfter || (warned != 0 && Stopwatch.GetElapsedTime(warned) < NotInGroupWarnEvery))
        {
            return;
        }

        Interlocked.Exchange(ref _notInGroupWarned, Stopwatch.GetTimestamp());
        Log.NotInGroup(_logger, _options.GroupId, (long)waited.TotalSeconds, _sessionTimeoutMs / 1000.0);
    }

    private bool Draining(out TimeSpan sinceStop)
    {
        var stop = Interlocked.Read(ref _stopRequested);
        sinceStop = stop == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(stop);
        return stop != 0;
    }

    private void Fill(IConsumer<Ignore, byte[]> consumer, List<ConsumeResult<Ignore, byte[]>> batch, CancellationToken stoppingToken, CancellationToken abort)
    {
        var clock = Stopwatch.StartNew();
        var timeout = TimeSpan.FromMilliseconds(_options.BatchTimeoutMs);
        while (batch.Count < _options.BatchSize && !stoppingToken.IsCancellationRequested && !abort.IsCancellationRequested && _fatal is null)
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
                Log.KafkaError(_logger, "consumer", e.Error.Code.ToString(), KafkaSecurity.Redact(e.Error.Reason, _options));
                _metrics?.Error(WorkerError.KafkaConsume);
                _metrics?.KafkaError("consumer", e.Error.Code.ToString());

                // Only an error about one message carries its position; a consumer-level error (e.g. the maximum poll
                // interval exceeded) comes with an empty record, which is not a message to dead-letter.
                if (e.ConsumerRecord is { Topic: not null } record && record.Offset.Value >= 0)
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

                // Nothing to read (every 100 ms while idle): what is due in the log is said now, not with the next message.
                LogDeadLettersNotLogged(force: false);
                WarnIfNotInGroup();
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
    private bool ProcessAndPublish(IProducer<byte[]?, byte[]> producer, IConsumer<Ignore, byte[]> consumer, List<InputMessage> inputs, CancellationToken stoppingToken, CancellationToken abort)
    {
        var delay = _retry.RetryInitialMs;
        var unexpected = 0;

        // A batch processed (its state written, its metrics recorded) whose publishing failed: only the publishing is
        // retried. Until 2026-12-07 the whole batch was processed again, so its alerts, dead letters and filtered alerts
        // were counted once more for each failed try, and its classifications went out as re-deliveries (scoring CACHED,
        // the state already holding them) rather than with the scoring they were given.
        BatchResult? processed = null;
        var publishTries = 0;
        for (var attempt = 1; ; attempt++)
        {
            var brokersFailed = false;
            try
            {
                // A batch that keeps failing for a reason that is not the state store's or Kafka's is taken apart: each
                // message alone, and the ones that still fail go to the dead-letter topic, so one cannot block a partition.
                var result = processed ?? (unexpected >= MaxUnexpectedFailures
                    ? ProcessOneByOneAsync(inputs, allMayFail: unexpected >= 3 * MaxUnexpectedFailures, abort).GetAwaiter().GetResult()
                    : _processor.ProcessAsync(inputs, abort).GetAwaiter().GetResult());
                processed = result;
                if (_health?.StateRecovered() is { } stateOutage)
                {
                    Log.StateBack(_logger, Math.Round((DateTimeOffset.UtcNow - stateOutage.Since).TotalSeconds, 1));
                    Log.StateRecovered(_logger, attempt);
                }

                if (_health?.RegistryRecovered() is { } registryOutage)
                {
                    Log.RegistryBack(_logger, Math.Round((DateTimeOffset.UtcNow - registryOutage.Since).TotalSeconds, 1));
                    _metrics?.SetDependency("schema_registry", true);
                }

                var clock = Stopwatch.StartNew();
                Publish(producer, result, retried: publishTries++ > 0, abort);
                _metrics?.Stage("publish", clock.Elapsed);
                _metrics?.Published(result, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _alerts, result.Alerts);
                Interlocked.Add(ref _deadLetters, result.DeadLetters.Count);
                Interlocked.Add(ref _classifications, result.Outputs.Count);
                Log.Batch(_logger, result.Messages, result.Alerts, result.DeadLetters.Count, result.Timings.Total.TotalMilliseconds);
                if (result.UnreadableStates is [var first, ..] unreadable)
                {
                    Log.StateUnreadable(_logger, ModelSet.SurveyName(first.Survey), first.ObjectId, unreadable.Count - 1);
                }

                // Once per problem a minute, the rest counted: it was a line per batch for as long as the source failed
                // (118 a minute at 500 alerts/s; at 50,000 alerts/s about 100 a second).
                foreach (var problem in result.MetadataProblems.Distinct(StringComparer.Ordinal))
                {
                    if (MetadataLog.ShouldLog(problem))
                    {
                        Log.MetadataUnavailable(_logger, problem);
                    }
                }

                BatchCompleted?.Invoke(result);
                return true;
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                return false;
            }
            catch (DrainTimeoutException)
            {
                Draining(out var since);
                Log.DrainTimedOut(_logger, Math.Round(since.TotalSeconds, 1));
                return false;
            }
            catch (StateStoreUnavailableException e)
            {
                _health?.StateFailed(e.Message, writesRefused: e.WritesRefused, byBatch: true);
                _metrics?.Error(WorkerError.StateUnavailable);
                Log.StateUnavailable(_logger, e.Message, delay, attempt);
                Log.StateUnavailableDetail(_logger, e);
            }
            catch (StateConflictException e)
            {
                // The store answers: another writer keeps changing these objects. Until 2026-12-07 this was taken for an
                // outage: "State store unavailable" in the log, and /readyz and the web view said Redis was down.
                _metrics?.Error(WorkerError.StateConflict);
                Log.StateConflict(_logger, e.Message, delay, attempt);
            }
            catch (SchemaLookupUnavailableException e)
            {
                // A registry that cannot answer now (down, overloaded, refusing the credentials) says nothing about the
                // message: the batch waits and is retried, as for a state-store outage; an unknown id is a dead letter.
                _health?.RegistryFailed(e.Message);
                _metrics?.SetDependency("schema_registry", false);
                _metrics?.Error(WorkerError.SchemaRegistryUnavailable);
                Log.RegistryUnavailable(_logger, e.Message, delay, attempt);
            }
            catch (Exception e) when (e is PublishException or KafkaException)
            {
                brokersFailed = true;
                _metrics?.Error(WorkerError.Publish);
                Log.PublishFailed(_logger, e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                unexpected++;
                _metrics?.Error(WorkerError.Internal);
                Log.BatchFailed(_logger, e, e.Message);
            }

            // The lag goes on growing while the batch waits: it was set after each finished batch only, so it read its last
            // value (0) through a 71-s Redis outage while 22,546 messages piled up. Unless Kafka itself failed, the brokers
            // answer, so their high watermarks are asked for.
            UpdateLag(consumer, askBrokers: !brokersFailed);

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
        var shadows = new List<OutputMessage>();
        var dead = new List<DeadLetter>();
        int alerts = 0, written = 0, added = 0, retries = 0, dropped = 0;
        var unreadable = new List<ObjectKey>();
        var metadataProblems = new List<string>();
        var clock = Stopwatch.StartNew();

        // One set of models for the whole batch, even though its messages are retried one call at a time.
        var model = _processor.CurrentModels();
        foreach (var message in inputs)
        {
            try
            {
                var r = await _processor.ProcessAsync([message], model, abort).ConfigureAwait(false);
                outputs.AddRange(r.Outputs);
                shadows.AddRange(r.ShadowOutputs);
                dead.AddRange(r.DeadLetters);
                alerts += r.Alerts;
                written += r.ObjectsWritten;
                added += r.ObservationsAdded;
                retries += r.CasRetries;
                dropped += r.ObservationsDropped;
                unreadable.AddRange(r.UnreadableStates);
                metadataProblems.AddRange(r.MetadataProblems);
            }
            catch (Exception e) when (e is not (OperationCanceledException or StateStoreUnavailableException or StateConflictException or SchemaLookupUnavailableException))
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
        return new BatchResult(inputs.Count, alerts, outputs, dead, written, added, retries, new StageTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, t)) { ShadowOutputs = shadows, ObservationsDropped = dropped, UnreadableStates = unreadable, MetadataProblems = metadataProblems };
    }

    // retried: the batch's publishing failed before; its dead letters were logged and their truncations counted then.
    private void Publish(IProducer<byte[]?, byte[]> producer, BatchResult result, bool retried, CancellationToken abort)
    {
        var failures = 0;
        string? firstError = null;
        void Failed(Error error)
        {
            if (Interlocked.Increment(ref failures) == 1)
            {
                firstError = error.Reason;
            }
        }

        void OnDelivery(DeliveryReport<byte[]?, byte[]> report)
        {
            if (report.Error.IsError)
            {
                Failed(report.Error);
            }
        }

        // Each classification names the input message it answers (the same alert sent twice gets two, each traceable).
        string? lastTopic = null;
        byte[] topicBytes = [];
        foreach (var o in result.Outputs)
        {
            if (!ReferenceEquals(o.Source.Topic, lastTopic))
            {
                lastTopic = o.Source.Topic;
                topicBytes = Encoding.UTF8.GetBytes(lastTopic ?? string.Empty);
            }

            var headers = new Headers
            {
                { SourceTopicHeader, topicBytes },
                { SourcePartitionHeader, Encoding.UTF8.GetBytes(o.Source.Partition.ToString(CultureInfo.InvariantCulture)) },
                { SourceOffsetHeader, Encoding.UTF8.GetBytes(o.Source.Offset.ToString(CultureInfo.InvariantCulture)) },
            };
            ProduceWithBackpressure(producer, _options.OutputTopic, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(o.Key), Value = o.Value, Headers = headers }, OnDelivery, abort);
        }

        // Shadow classifications: same schema and source headers, on the shadow topic (active outputs are unchanged).
        foreach (var o in result.ShadowOutputs)
        {
            if (!ReferenceEquals(o.Source.Topic, lastTopic))
            {
                lastTopic = o.Source.Topic;
                topicBytes = Encoding.UTF8.GetBytes(lastTopic ?? string.Empty);
            }

            var headers = new Headers
            {
                { SourceTopicHeader, topicBytes },
                { SourcePartitionHeader, Encoding.UTF8.GetBytes(o.Source.Partition.ToString(CultureInfo.InvariantCulture)) },
                { SourceOffsetHeader, Encoding.UTF8.GetBytes(o.Source.Offset.ToString(CultureInfo.InvariantCulture)) },
            };
            ProduceWithBackpressure(producer, _options.ShadowTopic, new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(o.Key), Value = o.Value, Headers = headers }, OnDelivery, abort);
        }

        // Dead letters: whole when they fit; over the limit, a reference plus the start of the payload. One refused as too
        // large anyway (the producer's message.max.bytes, or the broker's or topic's limit in its answer) is sent again
        // with less of the payload, and finally with none: a dead letter can always be written, so it never blocks.
        var deadLetters = result.DeadLetters;
        var kept = new int[deadLetters.Count];
        var cut = new DeadLetterCut[deadLetters.Count];
        var tooLarge = new System.Collections.Concurrent.ConcurrentQueue<int>();
        void ProduceDeadLetter(int index)
        {
            var d = deadLetters[index];
            var message = DeadLetterMessage(d, kept[index]);
            try
            {
                ProduceWithBackpressure(producer, _options.DeadLetterTopic, message, report =>
                {
                    if (report.Error.Code is ErrorCode.MsgSizeTooLarge)
                    {
                        tooLarge.Enqueue(index);
                    }
                    else if (report.Error.IsError)
                    {
                        Failed(report.Error);
                    }
                }, abort);
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code is ErrorCode.MsgSizeTooLarge)
            {
                tooLarge.Enqueue(index);
            }
        }

        for (var i = 0; i < deadLetters.Count; i++)
        {
            var d = deadLetters[i];
            if (!retried && DeadLetterLog.ShouldLog(d.Kind))
            {
                Log.DeadLetter(_logger, d.Message.Topic, d.Message.Partition, d.Message.Offset, d.Kind, d.Error);
            }

            (kept[i], cut[i]) = DeadLetterBudget(d);
            ProduceDeadLetter(i);
        }

        Flush(producer, abort);
        for (var round = 1; !tooLarge.IsEmpty; round++)
        {
            var again = new List<int>();
            while (tooLarge.TryDequeue(out var i))
            {
                again.Add(i);
            }

            foreach (var i in again)
            {
                kept[i] = round >= 3 ? 0 : Math.Min(kept[i], deadLetters[i].Message.Value.Length) / 4;
                cut[i] = DeadLetterCut.Refused;
                ProduceDeadLetter(i);
            }

            Flush(producer, abort);
            if (round >= 3 && !tooLarge.IsEmpty)
            {
                Failed(new Error(ErrorCode.MsgSizeTooLarge, "a dead letter was refused as too large even without its payload"));
                break;
            }
        }

        for (var i = 0; i < deadLetters.Count; i++)
        {
            if (!retried && kept[i] < deadLetters[i].Message.Value.Length)
            {
                var d = deadLetters[i];
                _metrics?.DeadLetterTruncated();
                if (TruncatedLog.ShouldLog(d.Kind))
                {
                    Log.DeadLetterTruncated(_logger, d.Message.Topic, d.Message.Partition, d.Message.Offset, d.Message.Value.Length, CutReason(cut[i]), Sha256(d.Message.Value.Span), kept[i]);
                }
            }
        }

        if (failures > 0)
        {
            throw new PublishException($"{failures} messages were not delivered: {firstError}");
        }
    }

    // Waits for every message to be acknowledged; after a stop request, at most DrainTimeout (counted from the request).
    private void Flush(IProducer<byte[]?, byte[]> producer, CancellationToken abort)
    {
        while (producer.Flush(TimeSpan.FromMilliseconds(200)) > 0)
        {
            abort.ThrowIfCancellationRequested();
            if (Draining(out var since) && since > DrainTimeout)
            {
                throw new DrainTimeoutException();
            }
        }
    }

    /// <summary>Header names of the input message a classification or dead letter comes from.</summary>
    public const string SourceTopicHeader = "alertbroker.source.topic";

    public const string SourcePartitionHeader = "alertbroker.source.partition";

    public const string SourceOffsetHeader = "alertbroker.source.offset";

    /// <summary>A dead letter's original size, SHA-256 (hex) and how many of its first bytes the value holds, when it was cut.</summary>
    public const string PayloadSizeHeader = "alertbroker.payload.size";

    public const string PayloadSha256Header = "alertbroker.payload.sha256";

    public const string PayloadKeptHeader = "alertbroker.payload.kept";

    // Why a dead letter holds only the first bytes of its payload.
    private enum DeadLetterCut
    {
        None,

        // Over AlertBroker:Kafka:DeadLetterMaxBytes.
        Limit,

        // Under it, but over the producer's message.max.bytes with the dead letter's headers.
        Producer,

        // Refused by Kafka as too large (the broker's message.max.bytes, the topic's max.message.bytes).
        Refused,
    }

    // Bytes of payload a dead letter carries: the whole payload when it is within AlertBroker:Kafka:DeadLetterMaxBytes and,
    // with the headers and the record framing, within the producer's message.max.bytes; otherwise the first bytes that fit
    // both. The limit is the payload's: until 2026-12-08 the headers' allowance (1,280 bytes and three times the error's
    // length) came out of it, so a 2,600-byte payload was cut "over the 4096-byte limit", and with the default 1 MB any
    // payload over about 998.5 KB.
    private (int Kept, DeadLetterCut Cut) DeadLetterBudget(DeadLetter d)
    {
        var length = d.Message.Value.Length;
        var overhead = 1024 + Math.Min(d.Error.Length, 2000) * 3 + d.Message.Topic.Length + 256;
        var room = Math.Max(0, _producerMessageMaxBytes - overhead);
        if (length <= _options.DeadLetterMaxBytes && length <= room)
        {
            return (length, DeadLetterCut.None);
        }

        return (Math.Min(_options.DeadLetterMaxBytes, room), length > _options.DeadLetterMaxBytes ? DeadLetterCut.Limit : DeadLetterCut.Producer);
    }

    // The bound a cut dead letter's log line names: the one that cut it.
    private string CutReason(DeadLetterCut cut) => cut switch
    {
        DeadLetterCut.Limit => string.Create(CultureInfo.InvariantCulture, $"is over the {_options.DeadLetterMaxBytes}-byte limit (AlertBroker:Kafka:DeadLetterMaxBytes)"),
        DeadLetterCut.Producer => string.Create(CultureInfo.InvariantCulture, $"is, with the dead letter's headers, over the producer's message.max.bytes ({_producerMessageMaxBytes} bytes)"),
        _ => "was refused as too large by Kafka (the producer's or a broker's message.max.bytes, or the topic's max.message.bytes)",
    };

    private static Message<byte[]?, byte[]> DeadLetterMessage(DeadLetter d, int kept)
    {
        var headers = new Headers
        {
            { "alertbroker.error.kind", Encoding.UTF8.GetBytes(d.Kind) },
            { "alertbroker.error.message", Encoding.UTF8.GetBytes(d.Error.Length > 2000 ? d.Error[..2000] : d.Error) },
            { SourceTopicHeader, Encoding.UTF8.GetBytes(d.Message.Topic ?? string.Empty) },
            { SourcePartitionHeader, Encoding.UTF8.GetBytes(d.Message.Partition.ToString(CultureInfo.InvariantCulture)) },
            { SourceOffsetHeader, Encoding.UTF8.GetBytes(d.Message.Offset.ToString(CultureInfo.InvariantCulture)) },
        };
        var payload = d.Message.Value;
        if (kept < payload.Length)
        {
            headers.Add(PayloadSizeHeader, Encoding.UTF8.GetBytes(payload.Length.ToString(CultureInfo.InvariantCulture)));
            headers.Add(PayloadSha256Header, Encoding.UTF8.GetBytes(Sha256(payload.Span)));
            headers.Add(PayloadKeptHeader, Encoding.UTF8.GetBytes(kept.ToString(CultureInfo.InvariantCulture)));
            payload = payload[..kept];
        }

        return new Message<byte[]?, byte[]> { Key = null, Value = payload.ToArray(), Headers = headers };
    }

    private static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));

    private sealed class DrainTimeoutException : Exception
    {
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

    // A rebalance finished during the stop leaves this member's new assignment waiting to be served. Close() would serve it
    // itself, but librdkafka 2.16 may then have ended the group's part of the close before the revoked handler's unassign,
    // which then waits for ever (seen on the mock cluster: the LeaveGroup answered, Close() never returned). Served here
    // first; a message polled meanwhile is not processed and its offset not stored, so the next owner reads it.
    private static void ServeCallbacksBeforeClose(IConsumer<Ignore, byte[]> consumer)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            try
            {
                if (consumer.Consume(TimeSpan.Zero) is null)
                {
                    return;
                }
            }
            catch (ConsumeException)
            {
                // A broken message: not processed either.
            }
        }
    }

    // The commit at the stop (false when it failed). One refused because the group moved to a new generation while it
    // waited behind this member's JoinGroup, or because a rebalance is not finished yet, is made again: the consumer, still
    // subscribed, takes the new generation on librdkafka's own thread (its SyncGroup needs nothing from this one). The
    // caller bounds the whole by FinalStepTimeout; past it, the tries end here too.
    private bool CommitAtStop(IConsumer<Ignore, byte[]> consumer) => TryCommit(consumer, retryFor: FinalStepTimeout) != CommitResult.Failed;

    private enum CommitResult
    {
        Committed,
        NothingToCommit,
        Failed,
    }

    // A commit refused for a rebalance (a new generation, one in progress) is made again for up to retryFor (none by default).
    private CommitResult TryCommit(IConsumer<Ignore, byte[]> consumer, TimeSpan retryFor = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                consumer.Commit();
                return CommitResult.Committed;
            }
            catch (KafkaException e) when (e.Error.Code is ErrorCode.Local_NoOffset)
            {
                return CommitResult.NothingToCommit;
            }
            catch (KafkaException e) when (e.Error.Code is ErrorCode.IllegalGeneration or ErrorCode.RebalanceInProgress or ErrorCode.Local_State && clock.Elapsed < retryFor)
            {
                Log.CommitRetried(_logger, e.Error.Reason);
                Thread.Sleep(100);
            }
            catch (KafkaException e)
            {
                _metrics?.Error(WorkerError.Commit);
                Log.CommitFailed(_logger, e.Error.Reason);
                return CommitResult.Failed;
            }
        }
    }

    private void UpdateLag(IConsumer<Ignore, byte[]> consumer, bool askBrokers = false)
    {
        if (_metrics is null && _health is null)
        {
            return;
        }

        var assignment = consumer.Assignment;
        _health?.AssignedPartitions = assignment.Count;
        _metrics?.SetAssignedPartitions(assignment.Count);
        if (_metrics is null)
        {
            return;
        }

        foreach (var tp in assignment)
        {
            var w = consumer.GetWatermarkOffsets(tp);
            if (askBrokers)
            {
                try
                {
                    // The cached high watermark stops moving once the client's fetch queue is full.
                    w = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromMilliseconds(500));
                }
                catch (KafkaException)
                {
                    // The brokers do not answer either: the cached value it is.
                }
            }

            var position = consumer.Position(tp);
            if (w.High.Value >= 0 && position.Value >= 0)
            {
                _metrics.SetLag(tp.Topic, tp.Partition.Value, Math.Max(0, w.High.Value - position.Value));
            }
        }
    }
}
