using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AlertBroker.Cli.Consume;
using Spectre.Console;
using KafkaTopicName = AlertBroker.Worker.Kafka.KafkaTopicName;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker consume --topic T [--from-beginning] [--limit N] [--jsonl]</c>: reads the worker's topics back for an
/// operator — classifications, dead letters (their error headers and, for an oversized payload, the reference) and
/// alerts — one line (or JSON object) per message. Without <c>--group</c> it commits nothing and leaves no group behind.
/// With <c>--kind</c> it takes only dead letters of those kinds and can save their payloads or re-drive them to an alert
/// topic (<see cref="DeadLetterRedrive"/>). Exit codes: 0 done (limit reached, idle timeout, Ctrl-C), 1 a payload could
/// not be saved or re-driven, 2 bad arguments, 4 Kafka unreachable, 70 librdkafka missing.
/// </summary>
internal static class ConsumeCommand
{
    public static Command Create()
    {
        var topics = new Option<string[]>("--topic") { Description = "Topic to read (repeatable): the output, dead-letter or an alert topic.", Required = true, AllowMultipleArgumentsPerToken = true };
        topics.Validators.Add(result =>
        {
            // An empty topic name went to librdkafka, which read nothing and said nothing.
            if (CliHelpers.TryGetValue(result, out string[]? names) && names is not null && names.Any(string.IsNullOrWhiteSpace))
            {
                result.AddError("--topic needs a topic name, not an empty string.");
            }
            else if (names?.FirstOrDefault(n => !KafkaTopicName.IsValid(n)) is { } bad)
            {
                // A broker knows no such topic; the consumer then read nothing and said "0 messages".
                result.AddError($"--topic '{bad}' is not a Kafka topic name ({KafkaTopicName.Rule}).");
            }
        });
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the oldest message kept (default: only new messages); with --group, only where the group has committed nothing (a rerun goes on where it stopped)." };
        var limit = new Option<long>("--limit") { Description = "Stop after N messages (0: no limit)." };
        var jsonl = new Option<bool>("--jsonl") { Description = "One JSON object per message on stdout instead of a line of text." };
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Kafka bootstrap servers (default: AlertBroker__Kafka__BootstrapServers)." };
        var group = new Option<string?>("--group") { Description = "Consume as this group and commit its offsets (default: a throw-away group that commits nothing)." };
        var idle = new Option<double>("--timeout") { Description = "Stop after this many seconds without a message, up to 86400 (0: wait until Ctrl-C)." }.InRange(0.0, 86_400.0);
        var kafkaProperty = new Option<string[]>("--kafka-property") { Description = "A librdkafka setting key=value; repeatable. SASL/TLS come from AlertBroker__Kafka__SecurityProtocol, SaslMechanism, SaslUsername, SaslPassword, SslCaLocation, … in the environment, as for run.", AllowMultipleArgumentsPerToken = true };
        var registry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption().MustExist(PathKind.Directory);
        var kinds = new Option<string[]>("--kind") { Description = $"Only dead letters of these kinds (repeatable or comma-separated: {string.Join(", ", DeadLetterRedrive.Kinds)}); other messages are passed over.", AllowMultipleArgumentsPerToken = true };
        var savePayloads = new Option<string?>("--save-payloads") { Description = "With --kind: write each dead letter's whole payload to DIR/<source topic>-<partition>-<offset>.avro (readable by inspect and replay)." }.OutputDirectory();
        var redrive = new Option<string?>("--redrive") { Description = "With --kind: publish each dead letter's whole payload unchanged to this alert topic (keyed by object id), once its cause is fixed; with --group a rerun goes on where the last stopped." }.NotBlank();
        var command = new Command("consume", "Read the worker's output, dead-letter or alert topics and decode each message (classification, dead letter with its error and reference, alert); with --kind, save or re-drive dead letters.")
        {
            topics, fromBeginning, limit, jsonl, bootstrap, group, idle, kafkaProperty, registry, schemaDir, kinds, savePayloads, redrive,
        };
        CliHelpers.OneSchemaSource(command, registry, schemaDir);
        command.Validators.Add(result =>
        {
            // A name Kafka refuses was "re-driven" (exit 0) to a topic no broker keeps and no consume can read; the topic
            // being read had the payloads written back into it and read again as messages of the same run.
            if (CliHelpers.TryGetValue(result, redrive, out var target) && target is { Length: > 0 })
            {
                if (!KafkaTopicName.IsValid(target))
                {
                    result.AddError($"--redrive '{target}' is not a Kafka topic name ({KafkaTopicName.Rule}).");
                }
                else if (CliHelpers.TryGetValue(result, topics, out var read) && (read ?? []).Contains(target, StringComparer.Ordinal))
                {
                    result.AddError($"--redrive {target} is also a --topic read here: re-drive to the alert topic the worker reads, not back into the topic being read.");
                }
            }

            // Below a millisecond the wait rounded to nothing, which means "until Ctrl-C": 1e-8 never stopped.
            if (CliHelpers.TryGetValue(result, idle, out var wait) && wait is > 0 and < 0.001)
            {
                result.AddError("--timeout must be 0 (wait until Ctrl-C) or at least 0.001 seconds.");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            var servers = parse.GetValue(bootstrap) ?? Environment.GetEnvironmentVariable("AlertBroker__Kafka__BootstrapServers");
            if (string.IsNullOrWhiteSpace(servers))
            {
                CliHelpers.Stderr.MarkupLine("[red]consume needs --bootstrap-servers[/] (or AlertBroker__Kafka__BootstrapServers)");
                return 2;
            }

            if (AlertBroker.Worker.Kafka.KafkaBootstrapServers.Problem(servers) is { } badServers)
            {
                CliHelpers.Stderr.MarkupLine($"[red]--bootstrap-servers is not a list of host:port:[/] {Markup.Escape(badServers)}");
                return 2;
            }

            if (CliHelpers.TryKafkaProperties(parse.GetValue(kafkaProperty) ?? [], servers, parse.GetValue(group) ?? string.Empty) is not { } properties)
            {
                return 2;
            }

            // The worker's typed security settings from the environment (AlertBroker__Kafka__SecurityProtocol, …SaslPassword,
            // …), as run and replay --to-kafka read them, for the reader and the --redrive producer alike.
            if (CliHelpers.TryKafkaSecurity(servers, properties) is not { } security)
            {
                return 2;
            }

            if (parse.GetValue(limit) < 0 || parse.GetValue(idle) < 0)
            {
                CliHelpers.Stderr.MarkupLine("[red]--limit and --timeout must not be negative[/]");
                return 2;
            }

            var kindNames = parse.GetValue(kinds) ?? [];
            var chosen = DeadLetterRedrive.ParseKinds(kindNames, out var kindProblem);
            if (chosen is null || (chosen.Count == 0 && (parse.GetValue(savePayloads) is not null || parse.GetValue(redrive) is not null)))
            {
                // Re-driving every kind would send corrupt messages round again: the operator names the kinds whose cause is fixed.
                CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(kindProblem ?? "--save-payloads and --redrive need --kind K: the dead-letter kinds to take (" + string.Join(", ", DeadLetterRedrive.Kinds) + ")") + "[/]");
                return 2;
            }

            if (!CliHelpers.TryLoadKafka())
            {
                return 70;
            }

            var settings = new TopicReaderSettings
            {
                BootstrapServers = servers,
                Topics = parse.GetValue(topics) ?? [],
                FromBeginning = parse.GetValue(fromBeginning),
                Limit = parse.GetValue(limit),
                Group = parse.GetValue(group),
                IdleTimeout = TimeSpan.FromSeconds(parse.GetValue(idle)),
                Properties = properties,
                Security = security,

                // A re-driven dead letter whose cause is not fixed comes back on the topic being read: re-drive what it held
                // at the start, then stop.
                StopAtEndAtStart = parse.GetValue(redrive) is not null,
            };
            // Kafka messages, as the worker reads them: a dead-lettered compression bomb is refused after as little work.
            var alertDecoder = CliHelpers.CreateDecoder(parse.GetValue(registry), parse.GetValue(schemaDir), new AlertBroker.Worker.Hosting.AlertOptions().ToDecoderLimits());
            var decoder = new TopicMessageDecoder(alertDecoder);
            DeadLetterRedrive? handler = null;
            if (chosen.Count > 0)
            {
                try
                {
                    handler = DeadLetterRedrive.Create(chosen, parse.GetValue(savePayloads), parse.GetValue(redrive), servers, properties, security, alertDecoder,
                        note => CliHelpers.Stderr.MarkupLine("[yellow]" + Markup.Escape(note) + "[/]"));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    CliHelpers.Stderr.MarkupLine("[red]cannot start:[/] " + Markup.Escape(e.Message));
                    return 1;
                }
                catch (Exception e) when (CliHelpers.IsKafkaConfigurationError(e))
                {
                    CliHelpers.ReportKafkaConfigurationError(e, security);
                    return 2;
                }
            }

            using var redriving = handler;
            string? failure = null;
            StandardOutputException? unprintable = null;
            var asJson = parse.GetValue(jsonl);
            var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
            using var stdout = Console.OpenStandardOutput();
            await using var json = new Utf8JsonWriter(stdout);
            var exit = 0;
            try
            {
                exit = await TopicReader.ReadAsync(settings, decoder, Show, ct).ConfigureAwait(false);
            }
            catch (DeadLetterRedriveException e)
            {
                // The reading stopped there, that message's offset not stored: a rerun with the same --group starts with it.
                failure = e.Message;
            }
            catch (StandardOutputException e)
            {
                // Likewise; what was handled before it is counted below (the summaries go to stderr) and committed.
                unprintable = e;
            }

            Task Show(TopicMessage message)
            {
                if (handler is not null && !handler.Selects(message))
                {
                    return Task.CompletedTask;
                }

                // Printed first, then saved or re-driven: a message that cannot be printed (stdout on a full disk) is neither,
                // nor committed, and a rerun with the same --group takes it up once. Until 2026-12-08 it was re-driven before
                // the print failed, not counted or committed, and the rerun re-drove it a second time.
                var key = message.Type switch
                {
                    TopicMessageType.DeadLetter => "dead letters " + message.DeadLetter!.Kind,
                    TopicMessageType.Classification => "classifications",
                    TopicMessageType.Alert => "alerts",
                    _ => "undecodable",
                };
                if (asJson)
                {
                    try
                    {
                        TopicMessageDecoder.WriteJson(json, message);
                        json.Flush();
                        json.Reset();
                        stdout.WriteByte((byte)'\n');
                        stdout.Flush();
                    }
                    catch (IOException e)
                    {
                        // The message is not counted as handled: with --group, its offset is not stored.
                        throw new StandardOutputException(e);
                    }
                }
                else
                {
                    Console.Out.WriteLine(CliHelpers.Printable(TopicMessageDecoder.Describe(message)));
                }

                counts[key] = counts.GetValueOrDefault(key) + 1;
                return handler is null ? Task.CompletedTask : handler.Handle(message);
            }

            if (unprintable is null)
            {
                Console.Out.Flush();
            }

            var total = counts.Values.Sum();

            // Kafka that never answered read nothing: the error line says all (until 2026-12-07 "[consume] 0 messages" followed it).
            if (exit != 4 || total != 0)
            {
                Console.Error.WriteLine("[consume] " + CliHelpers.Counted(total, "message") + (total == 0 ? string.Empty : ": " + string.Join(", ", counts.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Value:N0} {kv.Key}")))));
            }

            if (handler is not null)
            {
                handler.Flush();
                Console.Error.WriteLine(handler.Summary(parse.GetValue(redrive), parse.GetValue(savePayloads)));
            }

            if (failure is not null)
            {
                CliHelpers.Stderr.MarkupLine("[red]stopped:[/] " + Markup.Escape(failure));
                return 1;
            }

            if (unprintable is not null)
            {
                Console.Error.WriteLine($"alertbroker: {unprintable.Message}");
                return 1;
            }

            return exit;
        });
        return command;
    }
}
