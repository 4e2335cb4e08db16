using System.Diagnostics;
using System.Globalization;
using AlertBroker.Worker.Hosting;
using Confluent.Kafka;
using Spectre.Console;

namespace AlertBroker.Cli.Consume;

/// <summary>What <see cref="TopicReader"/> reads and when it stops.</summary>
internal sealed record TopicReaderSettings
{
    public required string BootstrapServers { get; init; }

    public required IReadOnlyList<string> Topics { get; init; }

    /// <summary>From the oldest kept message (otherwise only messages that arrive after the start); for a group with
    /// committed offsets, from those.</summary>
    public bool FromBeginning { get; init; }

    /// <summary>Stop after this many messages (0: no limit).</summary>
    public long Limit { get; init; }

    /// <summary>Consume as this group and commit (null: a throw-away group, nothing committed).</summary>
    public string? Group { get; init; }

    /// <summary>Stop after this long without a message (zero: never).</summary>
    public TimeSpan IdleTimeout { get; init; }

    /// <summary>
    /// Read only what each partition held when it was assigned (its end offset then) and stop once every assigned partition
    /// is read that far: messages that arrive meanwhile are left for the next run, their offsets not stored. For re-driving
    /// dead letters, whose unfixed ones come back on the topic being read: one run re-drove them round and round for ever
    /// (4 dead letters became 4,068 in a minute) and the idle timeout never came.
    /// </summary>
    public bool StopAtEndAtStart { get; init; }

    /// <summary>Extra librdkafka settings (<c>--kafka-property</c>).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The typed security settings (<c>AlertBroker__Kafka__SecurityProtocol</c>, <c>…SaslPassword</c>, …: <see cref="CliHelpers.TryKafkaSecurity"/>),
    /// applied after <see cref="Properties"/>. Until 2026-12-07 consume took only <c>--kafka-property</c> and read in
    /// plaintext whatever the environment said.
    /// </summary>
    public KafkaOptions Security { get; init; } = new();
}

/// <summary>Reads topics with a plain consumer and hands each decoded message on; used by <c>consume</c> and the fault suite.</summary>
internal static class TopicReader
{
    /// <summary>Most messages whose handling may be in flight at once (their offsets not yet stored).</summary>
    public const int MaxInFlight = 10_000;

    /// <param name="settings">What to read.</param>
    /// <param name="decoder">Decodes each message.</param>
    /// <param name="onMessage">Called with each message, in order; returns a task that completes when the message is
    /// handled (a completed task: handled now; a pending one, e.g. a publish awaiting its acknowledgement: reading goes on,
    /// up to <see cref="MaxInFlight"/> in flight). A message's offset is stored — and, with a group
    /// (<see cref="TopicReaderSettings.Group"/>), committed — only once it and every message before it were handled. A
    /// failed task, or an exception from the call, stops the reading: what was in flight is waited for, and the first
    /// failure is thrown.</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    /// <returns>0 when done (limit, idle timeout or cancellation), 2 when librdkafka refuses the configuration, 4 when Kafka does not answer within 15 s.</returns>
    public static async Task<int> ReadAsync(TopicReaderSettings settings, TopicMessageDecoder decoder, Func<TopicMessage, Task> onMessage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(onMessage);
        var config = new ConsumerConfig
        {
            BootstrapServers = settings.BootstrapServers,
            GroupId = settings.Group ?? "alertbroker-consume-" + Guid.NewGuid().ToString("N")[..12],
            EnableAutoCommit = settings.Group is not null,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = settings.FromBeginning ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest,
            FetchMaxBytes = 64 * 1024 * 1024,
        };
        foreach (var (k, v) in settings.Properties)
        {
            config.Set(k, v);
        }

        KafkaSecurity.Apply(config, settings.Security);

        // The end-of-partition events tell when the reader has caught up with what the topic holds (set after the extra
        // settings: the idle timeout depends on them).
        config.EnablePartitionEof = true;

        string? lastError = null;

        // The idle timeout counts only once every assigned partition is read to its end: joining the group takes seconds
        // (a broker's initial rebalance delay is 3 s by default) and the first fetch of each partition waits for its start
        // offset to be looked up; neither is idleness. Until caught up it gives up 30 s later than the timeout.
        var idle = Stopwatch.StartNew();
        var assignment = new HashSet<TopicPartition>();
        var everAssigned = false;
        var reading = Stopwatch.StartNew();
        var atEnd = new HashSet<TopicPartition>();

        // StopAtEndAtStart: each partition's end offset when first assigned, and the partitions read that far.
        var endAtStart = new Dictionary<TopicPartition, long>();
        var finished = new HashSet<TopicPartition>();
        void Drop(List<TopicPartitionOffset> partitions)
        {
            foreach (var p in partitions)
            {
                assignment.Remove(p.TopicPartition);
                atEnd.Remove(p.TopicPartition);
                finished.Remove(p.TopicPartition);
            }
        }

        var built = CliHelpers.TryBuildKafkaClient(() => new ConsumerBuilder<byte[]?, byte[]>(config)
            .SetErrorHandler((_, e) => lastError = CliHelpers.MoreSpecific(lastError, e))
            .SetLogHandler((_, _) => { })
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                everAssigned |= partitions.Count > 0;
                assignment.UnionWith(partitions);
                atEnd.ExceptWith(partitions);
                idle.Restart();

                // The group's committed offsets where it has them (a rerun with --group goes on after what it handled),
                // else auto.offset.reset: earliest with --from-beginning, latest without.
                return partitions.ConvertAll(p => new TopicPartitionOffset(p, Offset.Unset));
            })
            .SetPartitionsRevokedHandler((_, partitions) => Drop(partitions))
            .SetPartitionsLostHandler((_, partitions) => Drop(partitions))
            .Build(), settings.Security);
        if (built is null)
        {
            return 2;
        }

        using var consumer = built;

        // Asked by a client of its own: a consumer's errors are served only by Consume, so its handler had heard nothing
        // but the bare "Local: Broker transport failure" when the brokers refused its TLS handshake.
        if (!CliHelpers.KafkaAnswers(config, settings.BootstrapServers))
        {
            return 4;
        }

        consumer.Subscribe(settings.Topics);
        long count = 0;
        idle.Restart();
        var inFlight = new Queue<(ConsumeResult<byte[]?, byte[]> Result, Task Handled)>();
        Exception? failure = null;

        // Stores the offsets of the handled messages at the head of the queue; with wait, waits for the head first.
        // The end offset of each newly assigned partition, asked once; a partition that holds nothing to read (its end
        // at or before where this reader starts) is finished at once. One whose end cannot be asked is read as without
        // StopAtEndAtStart (the idle timeout ends it).
        void RecordEnds()
        {
            foreach (var tp in assignment)
            {
                if (endAtStart.ContainsKey(tp))
                {
                    continue;
                }

                try
                {
                    var marks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5));
                    endAtStart[tp] = marks.High.Value;
                    var committed = settings.Group is null ? Offset.Unset : consumer.Committed([tp], TimeSpan.FromSeconds(5))[0].Offset;
                    var start = committed.Value >= 0 ? committed.Value : settings.FromBeginning ? marks.Low.Value : marks.High.Value;
                    if (start >= marks.High.Value)
                    {
                        finished.Add(tp);
                    }
                }
                catch (KafkaException)
                {
                    endAtStart[tp] = long.MaxValue;
                }
            }
        }

        async Task StoreHandledAsync(bool wait)
        {
            while (inFlight.Count > 0 && failure is null && (wait || inFlight.Peek().Handled.IsCompleted))
            {
                var (result, handled) = inFlight.Peek();
                try
                {
                    await handled.ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failure = e;
                    return;
                }

                inFlight.Dequeue();
                consumer.StoreOffset(result);
            }
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested && (settings.Limit == 0 || count < settings.Limit))
            {
                if (settings.StopAtEndAtStart)
                {
                    RecordEnds();
                    if (assignment.Count > 0 && finished.IsSupersetOf(assignment))
                    {
                        break;
                    }
                }

                ConsumeResult<byte[]?, byte[]>? r;
                try
                {
                    r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                }
                catch (ConsumeException e)
                {
                    CliHelpers.Stderr.MarkupLine("[yellow]consume:[/] " + Markup.Escape(e.Error.Reason));
                    continue;
                }

                // Partitions assigned within this very Consume call, which already returned one of their messages: their ends
                // are asked now, before anything is handled. Until 2026-12-07 they were asked on the next turn, after this
                // message had been re-driven, and a worker quick enough to dead-letter it again had moved the end past it: a CI
                // run re-drove 3 of the 2 dead letters the topic held at the start.
                if (r is not null && settings.StopAtEndAtStart && !endAtStart.ContainsKey(r.TopicPartition))
                {
                    RecordEnds();
                }

                if (r is not null && r.IsPartitionEOF)
                {
                    atEnd.Add(r.TopicPartition);
                    idle.Restart();
                    if (settings.StopAtEndAtStart && endAtStart.TryGetValue(r.TopicPartition, out var eofEnd) && r.Offset.Value >= eofEnd)
                    {
                        finished.Add(r.TopicPartition);
                    }

                    continue;
                }

                if (r is not null && settings.StopAtEndAtStart && endAtStart.TryGetValue(r.TopicPartition, out var end) && r.Offset.Value >= end)
                {
                    // Arrived after the start (a re-driven dead letter dead-lettered again, say): left for the next run.
                    finished.Add(r.TopicPartition);
                    consumer.Pause([r.TopicPartition]);
                    continue;
                }

                if (r is null)
                {
                    var caughtUp = assignment.Count > 0 && atEnd.IsSupersetOf(assignment);
                    if (settings.IdleTimeout > TimeSpan.Zero && idle.Elapsed >= settings.IdleTimeout + (caughtUp ? TimeSpan.Zero : TimeSpan.FromSeconds(30)))
                    {
                        break;
                    }

                    continue;
                }

                idle.Restart();
                atEnd.Remove(r.TopicPartition);
                var message = await decoder.DecodeAsync(r, cancellationToken).ConfigureAwait(false);
                Task handled;
                try
                {
                    handled = onMessage(message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A failure of the call itself (standard output that cannot be written) stops the reading as a failed task
                    // does: the messages handled before it are waited for and their offsets stored. Thrown straight out, it
                    // left the publishes still in flight uncommitted, and a rerun with the group re-drove them again.
                    handled = Task.FromException(e);
                }

                inFlight.Enqueue((r, handled));
                count++;
                if (settings.StopAtEndAtStart && endAtStart.TryGetValue(r.TopicPartition, out var last) && r.Offset.Value + 1 >= last)
                {
                    finished.Add(r.TopicPartition);
                    consumer.Pause([r.TopicPartition]);
                }

                // Committed (with a group) only once handled: the next poll's auto-commit or the close commits it.
                await StoreHandledAsync(wait: inFlight.Count >= MaxInFlight).ConfigureAwait(false);
                if (failure is not null || handled.IsFaulted)
                {
                    break;
                }
            }

            await StoreHandledAsync(wait: true).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        if (!everAssigned && !cancellationToken.IsCancellationRequested)
        {
            // "0 messages" alone read as an empty topic: a rerun with the same --group right after a stopped one waits for
            // the old member's session to end (45 s by default) before the group hands out partitions again, and an
            // operator concluded that no dead letter was left to re-drive.
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(
                CultureInfo.InvariantCulture,
                $"consume: no partition of {string.Join(", ", settings.Topics)} was assigned to this reader in {reading.Elapsed.TotalSeconds:0} s, so nothing was read (which does not mean the topic is empty): {(settings.Group is null ? $"is the topic there?{(lastError is null ? string.Empty : $" (Kafka's last error: {lastError})")}" : $"the group {settings.Group} is still rebalancing (a stopped member's session lasts session.timeout.ms, 45 s by default) or its other members hold every partition; rerun with a longer --timeout")}")));
        }

        return 0;
    }
}
