using System.Diagnostics;
using System.Globalization;
using AlertBroker.Avro;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using Confluent.Kafka;
using Spectre.Console;

namespace AlertBroker.Cli.Worker;

/// <summary>
/// <c>replay --to-kafka</c>: publishes archived alerts to a topic in their survey's wire format (ZTF: the container file;
/// Rubin: Confluent wire), keyed by object id, optionally paced, for testing a deployment.
/// </summary>
internal static class KafkaReplay
{
    public static int Run(IReadOnlyList<string> paths, string bootstrapServers, string topic, double rate, int repeat, long limit, string? writeSchemas, IReadOnlyDictionary<string, string> properties, bool quiet, ISchemaLookup? inputSchemas, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        var wire = new SurveyWireFormat { Fallback = inputSchemas };
        var schemaDirectory = writeSchemas ?? Path.Combine(Environment.CurrentDirectory, "replay-schemas");
        var schemasWritten = 0;

        // Read as sent, not all at first: a ZTF night's archive is tens of GB. Only with --repeat are the messages kept
        // for the later passes (as the summary replay does).
        List<(string? Key, byte[] Value)>? kept = repeat > 1 ? [] : null;
        var counts = new KafkaPipelineRun.ArchiveCounts();
        IEnumerable<(string? Key, byte[] Value)> FirstPass()
        {
            foreach (var message in KafkaPipelineRun.EnumerateArchives(paths, wire, counts))
            {
                // A Rubin schema's file is there before the first message that needs it is sent.
                if (wire.Schemas.Count > schemasWritten)
                {
                    try
                    {
                        wire.WriteSchemaDirectory(schemaDirectory);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                    {
                        // It ended in "unexpected error (UnauthorizedAccessException)", exit 70; the message that needs the
                        // schema is not sent without it.
                        throw new SchemaFolderException(e.Message, e);
                    }

                    if (schemasWritten == 0)
                    {
                        Console.Error.WriteLine(string.Create(inv, $"[replay] Rubin alerts are sent in Confluent wire format; their schemas are written to {schemaDirectory} as <id>.avsc (give the worker --schema-dir {schemaDirectory}, or register them under those ids)"));
                    }

                    schemasWritten = wire.Schemas.Count;
                }

                kept?.Add(message);
                yield return message;
            }
        }

        // The first message is read before anything is connected: inputs of which nothing reads are exit 1 whatever Kafka does.
        using var first = FirstPass().GetEnumerator();
        try
        {
            if (!first.MoveNext())
            {
                CliHelpers.Stderr.MarkupLine("[red]no alert could be read[/]");
                return 1;
            }
        }
        catch (SchemaFolderException e)
        {
            // Before anything is connected or sent.
            CliHelpers.CannotWrite(schemaDirectory, e.Message + " (the Rubin schemas go there: --write-schemas DIR); nothing was published");
            return 1;
        }

        IEnumerable<(string? Key, byte[] Value)> FromFirst()
        {
            do
            {
                yield return first.Current;
            }
            while (first.MoveNext());
        }

        // At most 64 MB queued ahead of the brokers (librdkafka's default is 1 GB): the memory a replay takes stays small
        // whatever the archive's size; a full queue waits for deliveries.
        var config = new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 5, MessageMaxBytes = 16 * 1024 * 1024, QueueBufferingMaxKbytes = 64 * 1024, Acks = Acks.All };
        foreach (var (k, v) in properties)
        {
            config.Set(k, v);
        }

        // The worker's typed security settings from the environment (AlertBroker__Kafka__SecurityProtocol, …SaslPassword, …).
        if (CliHelpers.TryKafkaSecurity(bootstrapServers, properties) is not { } security)
        {
            return 2;
        }

        KafkaSecurity.Apply(config, security);

        long sent = 0, failed = 0;
        string? firstError = null, lastError = null;
        SchemaFolderException? cannotWriteSchemas = null;
        if (CliHelpers.TryBuildKafkaClient(() => new ProducerBuilder<byte[]?, byte[]>(config)
            .SetErrorHandler((_, e) => lastError = CliHelpers.MoreSpecific(lastError, e))
            .SetLogHandler((_, _) => { })
            .Build(), security) is not { } built)
        {
            return 2;
        }

        using var producer = built;

        // Brokers that do not answer: exit 4 after 15 s, not a queue that fills and a minute's flush reporting "0 of N".
        if (!CliHelpers.KafkaAnswers(producer.Handle, bootstrapServers, () => lastError))
        {
            return 4;
        }
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        // The limit ends the passes too: with --repeat 2147483647 --limit N it ran that many empty passes after the Nth message.
        for (var pass = 0; pass < Math.Max(1, repeat) && !cancellationToken.IsCancellationRequested && !(limit > 0 && sent >= limit) && cannotWriteSchemas is null; pass++)
        {
            using var messages = (pass == 0 ? FromFirst() : kept!).GetEnumerator();
            while (true)
            {
                try
                {
                    if (!messages.MoveNext())
                    {
                        break;
                    }
                }
                catch (SchemaFolderException e)
                {
                    // The first Rubin alert after others were sent: it and the rest stay unsent.
                    cannotWriteSchemas = e;
                    break;
                }

                var (key, value) = messages.Current;
                if (cancellationToken.IsCancellationRequested || (limit > 0 && sent >= limit))
                {
                    break;
                }

                if (rate > 0)
                {
                    var due = TimeSpan.FromSeconds(sent / rate);
                    // In steps of at most a minute that Ctrl-C ends (a slow --rate waits days; Thread.Sleep takes at most ~24 days).
                    for (var wait = due - clock.Elapsed; wait > TimeSpan.Zero && !cancellationToken.IsCancellationRequested; wait = due - clock.Elapsed)
                    {
                        cancellationToken.WaitHandle.WaitOne(wait < TimeSpan.FromMinutes(1) ? wait : TimeSpan.FromMinutes(1));
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                }

                while (true)
                {
                    try
                    {
                        producer.Produce(topic, new Message<byte[]?, byte[]> { Key = key is null ? null : System.Text.Encoding.UTF8.GetBytes(key), Value = value }, r =>
                        {
                            if (r.Error.IsError && Interlocked.Increment(ref failed) == 1)
                            {
                                firstError = r.Error.Reason;
                            }
                        });
                        break;
                    }
                    catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(20));
                    }
                    catch (ProduceException<byte[]?, byte[]> e)
                    {
                        // Refused before it was queued (a message over message.max.bytes, …): counted as failed like a
                        // refused delivery; the rest are still sent (it ended the replay as an unexpected error, exit 70).
                        if (Interlocked.Increment(ref failed) == 1)
                        {
                            firstError = e.Error.Code == ErrorCode.MsgSizeTooLarge
                                ? string.Create(inv, $"a message of {value.Length:N0} bytes is over the producer's message.max.bytes ({config.MessageMaxBytes:N0}; raise it with --kafka-property message.max.bytes=N, and the topic's max.message.bytes on the brokers)")
                                : e.Error.Reason;
                        }

                        break;
                    }
                }

                sent++;
                if (!quiet && clock.Elapsed - lastReport >= TimeSpan.FromSeconds(1))
                {
                    lastReport = clock.Elapsed;
                    Console.Error.WriteLine(string.Create(inv, $"[replay] {sent:N0} messages sent ({sent / clock.Elapsed.TotalSeconds:N0}/s)"));
                }
            }
        }

        var left = producer.Flush(TimeSpan.FromSeconds(60));

        // Which inputs, and why: the count alone left a cut archive to be found by hand.
        foreach (var problem in counts.Problems)
        {
            CliHelpers.Stderr.MarkupLine("[yellow]not published, unreadable:[/] " + Markup.Escape(problem));
        }

        if (counts.Unreadable > counts.Problems.Count)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"… and {counts.Unreadable - counts.Problems.Count:N0} more")));
        }

        if (counts.Undecodable > 0)
        {
            // Still published (the worker's dead-letter path is part of what a replay exercises), but without a key: an
            // object's alerts may then spread over partitions. It went without a word. The hint about Confluent-wire inputs
            // is for messages that lacked their schema only (until 2026-12-07 it followed any failure, an MJD out of range too).
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"warning: {CliHelpers.Counted(counts.Undecodable, "message")} could not be decoded and went out without a key (their object's alerts may land on several partitions, out of order); the first: {counts.FirstUndecodable}{(inputSchemas is null && counts.WithoutSchema > 0 ? "; inputs already in Confluent wire need their schemas: --schema-dir DIR or --schema-registry URL" : string.Empty)}")));
        }

        Console.WriteLine(string.Create(inv, $"published {sent - failed - left:N0} of {sent:N0} messages to {topic} in {clock.Elapsed.TotalSeconds:F1} s{(counts.Unreadable > 0 ? "; " + CliHelpers.Counted(counts.Unreadable, "unreadable input") + " skipped" : string.Empty)}"));
        if (schemasWritten > 0)
        {
            Console.Error.WriteLine(string.Create(inv, $"[replay] Rubin schema ids used: {string.Join(", ", wire.Schemas.Keys.Order())} (in {schemaDirectory})"));
        }

        if (cannotWriteSchemas is not null)
        {
            CliHelpers.CannotWrite(schemaDirectory, cannotWriteSchemas.Message + string.Create(inv, $" (the Rubin schemas go there: --write-schemas DIR); stopped before the first Rubin alert, after {sent:N0} message(s)"));
        }

        if (failed > 0 || left > 0)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"{failed} messages failed ({firstError}), {left} still queued")));
            return 1;
        }

        return cannotWriteSchemas is null ? 0 : 1;
    }

    /// <summary>The folder of Rubin schemas (<c>--write-schemas</c>, default <c>./replay-schemas</c>) cannot be written.</summary>
    private sealed class SchemaFolderException(string message, Exception inner) : Exception(message, inner);
}
