using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker bench …</c>: end-to-end throughput figures for docs/performance.md.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure throughput end to end.");
        bench.Subcommands.Add(CreateDecode());
        bench.Subcommands.Add(CreatePipeline());
        return bench;
    }

    private static Command CreatePipeline()
    {
        var paths = CliHelpers.ExistingPaths(new Argument<string[]>("paths") { Description = "Real alert files or directories (default: ../shared/alert-samples/ztf-real-50 and lsst-real-v7_4).", Arity = ArgumentArity.ZeroOrMore });
        var mode = new Option<string>("--mode") { Description = "embedded (a: in-memory state), redis (b: Redis state), kafka (c: the mock Kafka cluster), or all.", DefaultValueFactory = _ => "all" };
        mode.AcceptOnlyFromAmong("embedded", "redis", "kafka", "all");
        var seconds = Seconds("How long to measure each in-process case");
        var simNights = new Option<int>("--sim-nights") { Description = "Nights of ZTF alerts from the survey simulator, 0 (none) to 1000.", DefaultValueFactory = _ => 20 }.InRange(0, 1000);
        // 1e6 was accepted but 1e4 never finished (the simulator's first night looks back over every object): bounded to
        // what runs in about a minute; the set is capped at SimulatedNights.MaxMessages alerts anyway.
        var simPerNight = new Option<double>("--sim-objects-per-night") { Description = string.Create(CultureInfo.InvariantCulture, $"Simulator: transients peaking per night ({AlertBroker.Simulation.AlertStreamSimulator.MinObjectsPerNight} to {Worker.SimulatedNights.MaxObjectsPerNight}; the set is cut at {Worker.SimulatedNights.MaxMessages} alerts)."), DefaultValueFactory = _ => 100 }.InRange(AlertBroker.Simulation.AlertStreamSimulator.MinObjectsPerNight, Worker.SimulatedNights.MaxObjectsPerNight);
        // The synthetic streams are built in memory before they are measured, as demo's (whose bounds they share): without
        // a bound, --objects 2000000 --alerts-per-object 1000 allocated until the machine ran out of memory.
        var objects = new Option<int>("--objects") { Description = $"Objects in the small synthetic stream (0: none; at most {DemoCommand.MaxSyntheticObjects}).", DefaultValueFactory = _ => 4000 }.InRange(0, DemoCommand.MaxSyntheticObjects);
        var perObject = new Option<int>("--alerts-per-object") { Description = $"Alerts per synthetic object (1 to {DemoCommand.MaxAlertsPerObject}; objects × alerts at most {DemoCommand.MaxSyntheticAlerts}).", DefaultValueFactory = _ => 5 }.InRange(1, DemoCommand.MaxAlertsPerObject);
        var batch = new Option<int>("--batch-size") { Description = "Messages per batch (1 to 100000, as run).", DefaultValueFactory = _ => 500 }.InRange(1, 100_000);
        var redis = new Option<string?>("--redis") { Description = "Redis endpoint (host:port) for (b), with --redis-user, --redis-tls, …; default: start a local redis-server." }.RedisEndpoints();
        var redisSecurity = new RedisCliOptions();
        var model = ModelsCommand.PackageDirectory(new Option<string[]>("--model") { Description = "Model package; repeat for several, each serving the surveys it declares (default: per survey the newest under models/, else random weights of the default shape)." });
        var shadow = ModelsCommand.PackageDirectory(new Option<string[]>("--shadow") { Description = "Also score every alert with a shadow model (its own state, shadow classifications, agreement statistics): the given package(s), or with no value a second load of each active model.", Arity = ArgumentArity.ZeroOrMore });
        var observe = new Option<string>("--observe") { Description = "(a) and (b): attach nothing (none), the worker's metrics (metrics), or the metrics plus the web view's statistics and recent-classification lists (web).", DefaultValueFactory = _ => "none" };
        var device = ModelCli.DeviceOption();
        var kafkaMessages = new Option<int>("--kafka-messages") { Description = $"Simulated messages pushed through the mock cluster in (c) (1 to {DemoCommand.MaxSyntheticAlerts}).", DefaultValueFactory = _ => 3000 }.InRange(1, (int)DemoCommand.MaxSyntheticAlerts);
        var registry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption().MustExist(PathKind.Directory);
        var command = new Command("pipeline", "End to end: decode → state → incremental GRU scoring → encode, from Kafka message bytes; reports alerts/s and batch latency percentiles.")
        {
            paths, mode, seconds, simNights, simPerNight, objects, perObject, batch, redis, model, shadow, kafkaMessages, observe, device, registry, schemaDir,
        };
        redisSecurity.AddTo(command);
        CliHelpers.OneSchemaSource(command, registry, schemaDir);
        command.Validators.Add(result =>
        {
            // Each was ignored without a word in the modes that do not use it.
            if (CliHelpers.TryGetValue(result, mode, out var chosen) && chosen is "embedded" or "kafka" && result.GetResult(redis) is { Implicit: false })
            {
                result.AddError($"--redis is for --mode redis or all (Redis state); --mode {chosen} uses none");
            }

            // The Redis connection options apply to --redis only: with a local redis-server or no Redis at all they were
            // ignored without a word (until 2026-12-07).
            foreach (var o in new Option[] { redisSecurity.User, redisSecurity.Password, redisSecurity.Tls, redisSecurity.Ca, redisSecurity.Certificate, redisSecurity.Key })
            {
                if (result.GetResult(o) is { Implicit: false })
                {
                    if (CliHelpers.TryGetValue(result, mode, out chosen) && chosen is "embedded" or "kafka")
                    {
                        result.AddError($"{o.Name} is for --mode redis or all with --redis; --mode {chosen} uses no Redis");
                    }
                    else if (result.GetResult(redis) is not { Implicit: false })
                    {
                        result.AddError($"{o.Name} is for a Redis given with --redis; without it (b) starts a local redis-server, which takes none");
                    }
                }
            }

            if (CliHelpers.TryGetValue(result, mode, out chosen) && chosen == "kafka" && result.GetResult(observe) is { Implicit: false })
            {
                result.AddError("--observe is for --mode embedded, redis or all; --mode kafka attaches nothing");
            }

            if (CliHelpers.TryGetValue(result, objects, out var n) && n > 0 && CliHelpers.TryGetValue(result, perObject, out var each) && (long)n * each > DemoCommand.MaxSyntheticAlerts)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--objects × --alerts-per-object must be at most {DemoCommand.MaxSyntheticAlerts} synthetic alerts, not {(long)n * each}."));
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            var given = parse.GetValue(paths) ?? [];
            var chosenMode = parse.GetValue(mode) ?? "all";
            if (given.Length == 0 && chosenMode != "kafka")
            {
                if (CliHelpers.FindSharedDirectory() is { } shared)
                {
                    given = [Path.Combine(shared, "alert-samples", "ztf-real-50"), Path.Combine(shared, "alert-samples", "lsst-real-v7_4")];
                }
                else
                {
                    // They were left out without a word.
                    CliHelpers.Stderr.MarkupLine("[yellow]bench pipeline: no real samples: ../shared/alert-samples not found (pass alert files or directories to measure real alerts)[/]");
                }
            }

            var security = redisSecurity.Read(parse);
            if (security is null)
            {
                return 2;
            }

            if (!Enum.TryParse<Worker.PipelineObservation>(parse.GetValue(observe), ignoreCase: true, out var observation))
            {
                CliHelpers.Stderr.MarkupLine("[red]alertbroker bench pipeline:[/] " + Markup.Escape($"--observe must be none, metrics or web, not '{parse.GetValue(observe)}'"));
                CliHelpers.Stderr.MarkupLine(Markup.Escape("(the options: alertbroker bench pipeline --help)"));
                return 2;
            }

            return await Worker.PipelineBenchCommand.RunAsync(given, chosenMode, TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(simNights), parse.GetValue(simPerNight), parse.GetValue(objects), parse.GetValue(perObject), parse.GetValue(batch), parse.GetValue(redis), security, parse.GetValue(model) ?? [], parse.GetResult(shadow) is null ? null : parse.GetValue(shadow) ?? [], parse.GetValue(kafkaMessages), ct, observation, ModelCli.SessionOptions(parse.GetValue(device), intraOpThreads: 1), CliHelpers.CreateSchemaLookup(parse.GetValue(registry), parse.GetValue(schemaDir))).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateDecode()
    {
        var paths = CliHelpers.ExistingPaths(new Argument<string[]>("paths") { Description = "Alert files or directories (default: ../shared/alert-samples/ztf-real-50).", Arity = ArgumentArity.ZeroOrMore });
        var seconds = Seconds("How long to measure");
        var registry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption().MustExist(PathKind.Directory);
        var command = new Command("decode", "Decode alert messages one by one, as they arrive from Kafka, into Alerts on one thread; report alerts/s, MB/s and bytes allocated per alert.")
        {
            paths, seconds, registry, schemaDir,
        };
        CliHelpers.OneSchemaSource(command, registry, schemaDir);

        // With the command's token (Ctrl-C, SIGTERM): until 2026-12-07 the action took none and never stopped before the
        // process was ended 5 s after the request.
        command.SetAction((parse, ct) => Task.FromResult(Decode(parse.GetValue(paths) ?? [], TimeSpan.FromSeconds(parse.GetValue(seconds)), CliHelpers.CreateSchemaLookup(parse.GetValue(registry), parse.GetValue(schemaDir)), ct)));
        return command;
    }

    private static int Decode(string[] given, TimeSpan duration, AlertBroker.Avro.ISchemaLookup? schemas, CancellationToken ct)
    {
        if (given.Length == 0)
        {
            var shared = CliHelpers.FindSharedDirectory();
            if (shared is null)
            {
                CliHelpers.Stderr.MarkupLine("[red]no inputs[/]: pass alert files or directories");
                return 1;
            }

            given = [Path.Combine(shared, "alert-samples", "ztf-real-50")];
        }

        // A path given twice is read once ("messages: N distinct" counted it twice).
        given = [.. given.DistinctBy(Path.GetFullPath)];
        try
        {
            // Only messages that decode are timed; the others are counted and the first few named with why, never thrown.
            var messages = new List<byte[]>();
            var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = schemas });
            var probe = new List<Alert>(4);
            var skipped = 0;
            var why = new List<string>();
            foreach (var input in AlertArchiveReader.Read(given, ct))
            {
                try
                {
                    if (input.Error is not null)
                    {
                        throw input.Error;
                    }

                    probe.Clear();
                    decoder.Decode(input.Payload, probe);
                    messages.Add(input.Payload.ToArray());
                }
                catch (AlertFormatException e)
                {
                    skipped++;
                    if (why.Count < 3)
                    {
                        why.Add(input.Source + ": " + e.Message);
                    }
                }
            }

            if (skipped > 0)
            {
                CliHelpers.Stderr.MarkupLine($"[yellow]{skipped} message(s) that do not decode left out; the first {(why.Count == 1 ? "one" : why.Count.ToString(CultureInfo.InvariantCulture))}:[/]");
                foreach (var w in why)
                {
                    CliHelpers.Stderr.MarkupLine("[yellow]  " + Markup.Escape(w) + "[/]");
                }
            }

            if (messages.Count == 0)
            {
                CliHelpers.Stderr.MarkupLine("[red]no messages read[/]");
                return 1;
            }

            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"bench decode: measuring {CliHelpers.Counted(messages.Count, "message")} for {duration.TotalSeconds:G} s")));
            var result = MeasureDecode(messages, duration, schemas, ct);
            var inv = CultureInfo.InvariantCulture;
            AnsiConsole.WriteLine(string.Create(inv, $"messages: {messages.Count} distinct, mean {result.Bytes / (double)result.Messages / 1024:F1} KiB"));
            AnsiConsole.WriteLine(string.Create(inv, $"decoded:  {result.Alerts:N0} alerts in {result.Elapsed.TotalSeconds:F2} s on one thread"));
            AnsiConsole.WriteLine(string.Create(inv, $"rate:     {result.Alerts / result.Elapsed.TotalSeconds:N0} alerts/s, {result.Bytes / 1e6 / result.Elapsed.TotalSeconds:N0} MB/s"));
            AnsiConsole.WriteLine(string.Create(inv, $"alloc:    {result.AllocatedBytes / (double)result.Alerts:N0} bytes per alert"));
            return 0;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // A cut run is not a measurement; the non-zero code becomes 130 or 143.
            CliHelpers.Stderr.MarkupLine("bench decode: stopped; nothing measured");
            return 1;
        }
    }

    // Above 0 and at most a day: 1e300 s overflowed a TimeSpan ("unexpected error").
    private static Option<double> Seconds(string what) =>
        new Option<double>("--seconds") { Description = what + ", in seconds: above 0, at most 86400.", DefaultValueFactory = _ => 10 }.AboveAndAtMost(0, 86_400);

    internal readonly record struct DecodeResult(long Messages, long Alerts, long Bytes, long AllocatedBytes, TimeSpan Elapsed);

    /// <summary>Warm up, then decode the messages round-robin for the given time.</summary>
    internal static DecodeResult MeasureDecode(IReadOnlyList<byte[]> messages, TimeSpan duration, AlertBroker.Avro.ISchemaLookup? schemas = null, CancellationToken cancellationToken = default)
    {
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = schemas });
        var output = new List<Alert>(4);
        for (var i = 0; i < 2000; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            output.Clear();
            decoder.Decode(messages[i % messages.Count], output);
        }

        long alerts = 0, bytes = 0, count = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        do
        {
            // At least one pass: --seconds 1e-6 measured none and printed "mean NaN KiB" and "Infinity bytes per alert".
            for (var i = 0; i < messages.Count; i++)
            {
                output.Clear();
                alerts += decoder.Decode(messages[i], output);
                bytes += messages[i].Length;
            }

            count += messages.Count;
            cancellationToken.ThrowIfCancellationRequested();
        }
        while (clock.Elapsed < duration);

        clock.Stop();
        return new DecodeResult(count, alerts, bytes, GC.GetAllocatedBytesForCurrentThread() - allocated, clock.Elapsed);
    }
}
