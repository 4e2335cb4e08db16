using System.CommandLine;
using System.Globalization;
using AlertBroker.Cli.Replay;
using Spectre.Console;
using KafkaTopicName = AlertBroker.Worker.Kafka.KafkaTopicName;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker replay PATH…</c>: decode and normalise archived alerts, print a summary.</summary>
internal static class ReplayCommand
{
    // One alert in 1,000 s at the slowest (a pace below that is a typo, and its waits overflowed a wait handle's timeout);
    // a billion a second is beyond any decoder.
    private const double MinRate = 0.001;
    private const double MaxRate = 1e9;

    public static Command Create()
    {
        var paths = CliHelpers.PathsArgument("Alert files (.avro), directories (searched recursively) and nightly archives (.tar.gz).");
        var rate = new Option<double>("--rate") { Description = "Pace at N alerts per second, 0.001 to 1e9 (default: as fast as possible)." }.InRange(MinRate, MaxRate);
        var output = new Option<string?>("--out") { Description = "Write the normalised alerts to this JSON-lines file." }.OutputFile();
        var repeat = new Option<int>("--repeat") { Description = "Go through the inputs N times (passes after the first replay from memory).", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var limit = new Option<long>("--limit") { Description = "Stop after N alerts." }.AtLeast(1);
        var quiet = new Option<bool>("--quiet") { Description = "No progress display." };
        var registry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption().MustExist(PathKind.Directory);
        var toKafka = new Option<bool>("--to-kafka") { Description = "Publish the alerts to a Kafka topic in their survey's wire format instead of summarising them." };
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Kafka bootstrap servers for --to-kafka (default: AlertBroker__Kafka__BootstrapServers)." };
        var topic = new Option<string?>("--topic") { Description = "Topic for --to-kafka." };
        var writeSchemas = new Option<string?>("--write-schemas") { Description = "With --to-kafka: where to write <id>.avsc for the Rubin schemas used (default ./replay-schemas)." }.OutputDirectory();
        var kafkaProperty = new Option<string[]>("--kafka-property") { Description = "With --to-kafka: a librdkafka setting key=value (SASL/SSL…); repeatable.", AllowMultipleArgumentsPerToken = true };

        var command = new Command("replay", "Decode and normalise everything under the paths and print a summary (alerts, objects, schema versions, errors, alerts/s), or publish them to Kafka with --to-kafka.")
        {
            paths, rate, output, repeat, limit, quiet, registry, schemaDir, toKafka, bootstrap, topic, writeSchemas, kafkaProperty,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(toKafka) && string.IsNullOrWhiteSpace(result.GetValue(topic)))
            {
                result.AddError("--to-kafka needs --topic T");
            }
            else if (result.GetValue(toKafka) && result.GetResult(output) is { Implicit: false })
            {
                // --out was ignored: the alerts went to Kafka and no file was written.
                result.AddError("--out writes the normalised alerts to a file and --to-kafka publishes them: give one");
            }
            else if (result.GetValue(topic) is { } name && !KafkaTopicName.IsValid(name))
            {
                // The mock cluster took any name, a broker refuses it message by message.
                result.AddError($"--topic '{name}' is not a Kafka topic name ({KafkaTopicName.Rule}).");
            }
        });

        // Without --to-kafka these were ignored without a word (a replay meant for a topic only summarised).
        CliHelpers.OnlyWith(command, [topic, bootstrap, writeSchemas, kafkaProperty], r => r.GetValue(toKafka), name => $"{name} is for --to-kafka (publishing the alerts); without it replay only reads them");
        command.RefuseOutputThatIsAnInput(output, PathKind.File, paths);
        CliHelpers.OneSchemaSource(command, registry, schemaDir);
        command.SetAction((parse, ct) => parse.GetValue(toKafka)
            ? Task.FromResult(RunToKafka(parse.GetValue(paths)!, parse.GetValue(bootstrap), parse.GetValue(topic)!, parse.GetValue(rate), Math.Max(1, parse.GetValue(repeat)), parse.GetValue(limit), parse.GetValue(writeSchemas), parse.GetValue(kafkaProperty) ?? [], parse.GetValue(quiet), parse.GetValue(registry), parse.GetValue(schemaDir), ct))
            : Task.FromResult(Run(
            parse.GetValue(paths)!,
            new ReplayOptions
            {
                Rate = parse.GetValue(rate),
                OutPath = parse.GetValue(output),
                Repeat = Math.Max(1, parse.GetValue(repeat)),
                Limit = parse.GetValue(limit),
            },
            parse.GetValue(quiet),
            parse.GetValue(registry),
            parse.GetValue(schemaDir),
            ct)));
        return command;
    }

    /// <summary>Runs a replay and prints its report; exit code 1 when nothing could be read.</summary>
    public static int Run(IReadOnlyList<string> paths, ReplayOptions options, bool quiet, string? registry, string? schemaDir, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!CliHelpers.CanWriteFileIn(options.OutPath))
        {
            return 1;
        }

        // The JSON lines go to a hidden file beside --out, moved into place when the run read an alert: a run that read
        // none (every file corrupt) emptied an existing --out file.
        var outPath = options.OutPath;
        using var outFile = outPath is null ? null : Simulation.Output.PartialFile.Begin(outPath);
        var replayer = new AlertReplayer(CliHelpers.CreateDecoder(registry, schemaDir, inputs: paths), outFile is null ? options : options with { OutPath = outFile.WritePath })
        {
            Progress = quiet ? null : ProgressPrinter(),
        };
        ReplayStatistics stats;
        try
        {
            stats = replayer.Run(paths, cancellationToken);
            if (stats.Alerts > 0)
            {
                outFile?.Commit();
            }
        }
        catch (Exception e) when (outPath is not null && e is IOException or UnauthorizedAccessException)
        {
            CliHelpers.CannotWrite(outPath, outFile!.InWordsOfThePath(e.Message));
            return 1;
        }

        ReplayReport.Write(AnsiConsole.Console, stats);
        if (stats.Stopped)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]replay: stopped after {stats.Alerts:N0} alert(s); the summary is up to there[/]");
            return 130;
        }

        if (stats.Alerts == 0)
        {
            CliHelpers.Stderr.MarkupLine(outPath is null ? "[red]no alert could be read[/]" : $"[red]no alert could be read[/]; {Markup.Escape(outPath)} was not written");
            return 1;
        }

        return 0;
    }

    private static int RunToKafka(string[] paths, string? bootstrap, string topic, double rate, int repeat, long limit, string? writeSchemas, string[] properties, bool quiet, string? registry, string? schemaDir, CancellationToken ct)
    {
        bootstrap ??= Environment.GetEnvironmentVariable("AlertBroker__Kafka__BootstrapServers");
        if (string.IsNullOrWhiteSpace(bootstrap))
        {
            CliHelpers.Stderr.MarkupLine("[red]--to-kafka needs --bootstrap-servers[/] (or AlertBroker__Kafka__BootstrapServers)");
            return 2;
        }

        if (AlertBroker.Worker.Kafka.KafkaBootstrapServers.Problem(bootstrap) is { } badServers)
        {
            CliHelpers.Stderr.MarkupLine($"[red]--bootstrap-servers is not a list of host:port:[/] {Markup.Escape(badServers)}");
            return 2;
        }

        if (CliHelpers.TryKafkaProperties(properties, bootstrap, group: null) is not { } settings)
        {
            return 2;
        }

        // A --write-schemas folder that cannot be made is said before anything is read or sent (exit 1, as for any output
        // place); one that cannot be written, or the default ./replay-schemas, when the first Rubin alert needs it.
        if (!CliHelpers.CanWriteDirectory(writeSchemas))
        {
            return 1;
        }

        if (!CliHelpers.TryLoadKafka())
        {
            return 70;
        }

        // The schemas of inputs already in Confluent wire: without them such a message could not be decoded, so it went
        // out without its object id as key (until 2026-12-07 --schema-dir and --schema-registry were ignored here).
        return Worker.KafkaReplay.Run(paths, bootstrap, topic, rate, repeat, limit, writeSchemas, settings, quiet, CliHelpers.CreateSchemaLookup(registry, schemaDir, paths), ct);
    }

    private static Action<ReplayStatistics> ProgressPrinter()
    {
        var last = DateTime.MinValue;
        return s =>
        {
            // A long run reports once a second on stderr; short runs finish before the first report.
            if (DateTime.UtcNow - last < TimeSpan.FromSeconds(1) || s.Elapsed < TimeSpan.FromSeconds(1))
            {
                return;
            }

            last = DateTime.UtcNow;
            Console.Error.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"[replay] {s.Elapsed.TotalSeconds:F0} s: {s.Alerts:N0} alerts ({s.AlertsPerSecond:N0}/s), {s.Objects:N0} objects, {s.ErrorCount:N0} errors"));
        };
    }
}
