using System.Diagnostics;
using Confluent.Kafka;
using Spectre.Console;

namespace AlertBroker.Cli.Consume;

/// <summary>What <see cref="TopicReader"/> reads and when it stops.</summary>
internal sealed record TopicReaderSettings
{
    public required string BootstrapServers { get; init; }

    public required IReadOnlyList<string> Topics { get; init; }

    /// <summary>From the oldest kept message (otherwise only messages that arrive after the start).</summary>
    public bool FromBeginning { get; init; }

    /// <summary>Stop after this many messages (0: no limit).</summary>
    public long Limit { get; init; }

    /// <summary>Consume as this group and commit (null: a throw-away group, nothing committed).</summary>
    public string? Group { get; init; }

    /// <summary>Stop after this long without a message (zero: never).</summary>
    public TimeSpan IdleTimeout { get; init; }

    /// <summary>Extra librdkafka settings (security).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

/// <summary>Reads topics with a plain consumer and hands each decoded message on; used by <c>consume</c> and the fault suite.</summary>
internal static class TopicReader
{
    /// <param name="settings">What to read.</param>
    /// <param name="decoder">Decodes each message.</param>
    /// <param name="onMessage">Called with each message; false stops the reading before that message's offset is stored, so a
    /// group (<see cref="TopicReaderSettings.Group"/>) commits only messages that were handled.</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    /// <returns>0 when done (limit, idle timeout, cancellation or <paramref name="onMessage"/> false), 4 when Kafka does not answer within 15 s.</returns>
    public static async Task<int> ReadAsync(TopicReaderSettings settings, TopicMessageDecoder decoder, Func<TopicMessage, bool> onMessage, CancellationToken cancellationToken)
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
            EnablePartitionEof = false,
            FetchMaxBytes = 64 * 1024 * 1024,
        };
        foreach (var (k, v) in settings.Properties)
        {
            config.Set(k, v);
        }

        string? lastError = null;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(config)
            .SetErrorHandler((_, e) => lastError = e.Reason)
            .SetLogHandler((_, _) => { })
            .SetPartitionsAssignedHandler((_, partitions) =>
                settings.FromBeginning ? partitions.ConvertAll(p => new TopicPartitionOffset(p, Offset.Beginning)) : partitions.ConvertAll(p => new TopicPartitionOffset(p, Offset.Unset)))
            .Build();
        using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
        {
            try
            {
                admin.GetMetadata(TimeSpan.FromSeconds(15));
            }
            catch (KafkaException e)
            {
                CliHelpers.Stderr.MarkupLine("[red]Kafka at " + Markup.Escape(settings.BootstrapServers) + " did not answer:[/] " + Markup.Escape(lastError ?? e.Error.Reason));
                return 4;
            }
        }

        consumer.Subscribe(settings.Topics);
        long count = 0;
        var idle = Stopwatch.StartNew();
        try
        {
            while (!cancellationToken.IsCancellationRequested && (settings.Limit == 0 || count < settings.Limit))
            {
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

                if (r is null)
                {
                    if (settings.IdleTimeout > TimeSpan.Zero && idle.Elapsed >= settings.IdleTimeout)
                    {
                        break;
                    }

                    continue;
                }

                idle.Restart();
                if (!onMessage(await decoder.DecodeAsync(r, cancellationToken).ConfigureAwait(false)))
                {
                    break;
                }

                // Committed (with a group) only once handled: the next poll's auto-commit or the close commits it.
                consumer.StoreOffset(r);
                count++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
        }

        return 0;
    }
}
