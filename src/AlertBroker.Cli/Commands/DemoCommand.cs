using System.CommandLine;
using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Cli.Worker;
using AlertBroker.Redis;
using AlertBroker.State;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Scoring;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker demo</c>: the main job with nothing installed beyond the setup script. Starts librdkafka's mock Kafka
/// cluster in-process, replays alerts into it (the real ZTF and Rubin samples in <c>../shared/alert-samples</c> or given
/// paths, plus a simulated night of ZTF-format alerts), runs the streaming worker on them with in-memory state (or Redis
/// with <c>--redis</c>), shows progress, and prints a summary.
/// </summary>
internal static class DemoCommand
{
    internal const int MaxSyntheticObjects = 100_000;

    internal const int MaxAlertsPerObject = 1000;

    internal const long MaxSyntheticAlerts = 500_000;

    /// <summary>
    /// Where the archived alerts came from, for the summary's input line. No paths: the samples were looked for and not found
    /// (until 2026-12-07 the line read "0 archived alerts from ;", which said nothing of the samples missing).
    /// </summary>
    internal static string InputsText(IReadOnlyList<string> inputs) =>
        inputs.Count > 0
            ? "from " + string.Join(", ", inputs)
            : "(../shared/alert-samples was not found above the working directory or the program; pass alert files or directories to replay some)";

    public static Command Create()
    {
        var paths = CliHelpers.ExistingPaths(new Argument<string[]>("paths") { Description = "Alert files, directories or .tar.gz archives to replay (default: ../shared/alert-samples).", Arity = ArgumentArity.ZeroOrMore });
        var nights = new Option<int>("--nights") { Description = "Nights of ZTF alerts from the survey simulator, 0 (none) to 1000.", DefaultValueFactory = _ => 5 }.InRange(0, 1000);
        // A rate as small as 1e-20 placed the simulated objects' peaks beyond MJD 2^53: the demo hung for ever.
        var perNight = SimulateCommand.ObjectsPerNightOption("Simulator: transients peaking per night (sets the alert rate; 0.001 to 1e6).", 40);
        var objects = new Option<int>("--objects") { Description = $"Also a small synthetic stream of N objects (deterministic, used by the tests; 0: none; at most {MaxSyntheticObjects}).", DefaultValueFactory = _ => 0 }.InRange(0, MaxSyntheticObjects);
        var perObject = new Option<int>("--alerts-per-object") { Description = $"Alerts per synthetic object (1 to {MaxAlertsPerObject}; objects × alerts at most {MaxSyntheticAlerts}).", DefaultValueFactory = _ => 5 }.InRange(1, MaxAlertsPerObject);
        var redis = new Option<string?>("--redis") { Description = "Keep state in Redis: its endpoint (host:port; see --redis-user, --redis-tls, …), or no value to start a local redis-server.", Arity = ArgumentArity.ZeroOrOne }.RedisEndpoints();
        var redisSecurity = new RedisCliOptions();
        var model = ModelsCommand.PackageDirectory(new Option<string[]>("--model") { Description = "Model package directory; repeat for several, each serving the surveys its model.json declares (default: per survey the newest under models/, else random weights)." });
        var batch = new Option<int>("--batch-size") { Description = "Messages per batch (1 to 100000, as run).", DefaultValueFactory = _ => 200 }.InRange(1, 100_000);
        var serve = new Option<bool>("--serve") { Description = "Serve the web view (overview, models, objects) while the demo runs and after it ends, until Ctrl-C; prints its address." };
        var httpPort = new Option<int>("--http-port") { Description = "Port of the web view with --serve.", DefaultValueFactory = _ => 9464 };
        var httpAddress = new Option<string>("--http-address") { Description = "Address of the web view with --serve (loopback by default).", DefaultValueFactory = _ => "127.0.0.1" };
        var allAlerts = new Option<bool>("--all-alerts") { Description = "Publish probabilities for every alert, not only for transient candidates (as run --all-alerts)." };
        // Confluent-wire inputs (simulate alerts --framing confluent) were all SchemaNotFound dead letters: demo had no way
        // to be given their schemas.
        var registry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption().MustExist(PathKind.Directory);
        var minDetections = new Option<int>("--min-detections") { Description = "Publish probabilities only once the object has at least N detections up to the alert, in the packet or its stored light curve (as run --min-detections: 1 to 1000).", DefaultValueFactory = _ => 1 }.InRange(1, 1000);
        var command = new Command("demo", "Run the whole pipeline (mock Kafka in-process → decode → state → incremental GRU scoring → classifications out) and print a summary.")
        {
            paths, nights, perNight, objects, perObject, redis, model, batch, serve, httpPort, httpAddress, allAlerts, minDetections, registry, schemaDir,
        };
        redisSecurity.AddTo(command);
        CliHelpers.OneSchemaSource(command, registry, schemaDir);

        // Without --serve no web view is started: the port or address given was ignored without a word.
        CliHelpers.OnlyWith(command, [httpPort, httpAddress], r => r.GetValue(serve), name => $"{name} is for --serve (the web view); without it the demo serves nothing");
        command.Validators.Add(result =>
        {
            // The synthetic stream is held in memory (and again in the mock broker) before it is replayed.
            if (CliHelpers.TryGetValue(result, objects, out var n) && n > 0 && CliHelpers.TryGetValue(result, perObject, out var each) && (long)n * each > MaxSyntheticAlerts)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--objects × --alerts-per-object must be at most {MaxSyntheticAlerts} synthetic alerts, not {(long)n * each}."));
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            var given = parse.GetValue(paths) ?? [];
            IReadOnlyList<string> inputs = given;
            if (given.Length == 0)
            {
                var shared = CliHelpers.FindSharedDirectory();
                if (shared is null && parse.GetValue(objects) <= 0 && parse.GetValue(nights) <= 0)
                {
                    CliHelpers.Stderr.MarkupLine("[red]no inputs:[/] ../shared/alert-samples was not found beside the checkout; pass alert files or directories, or --objects N.");
                    return 1;
                }

                inputs = shared is null ? [] : [Path.Combine(shared, "alert-samples")];
            }

            var useRedis = parse.GetResult(redis) is not null;
            var security = redisSecurity.Read(parse);
            if (security is null)
            {
                return 2;
            }

            var web = parse.GetValue(serve) ? new WebViewRequest(parse.GetValue(httpAddress)!, parse.GetValue(httpPort)) : null;
            if (web is not null && (!System.Net.IPAddress.TryParse(web.Address, out _) || web.Port is < 1 or > 65535))
            {
                CliHelpers.Stderr.MarkupLine("[red]--http-address/--http-port:[/] an IP address and a port from 1 to 65535");
                return 2;
            }

            // SIGTERM stops the demo as Ctrl-C does (exit code 0), which matters with --serve: it runs until stopped.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.Cancel();
            });
            // The schemas of Confluent-wire inputs: --schema-registry or --schema-dir, else the schemas/ folders that
            // simulate alerts writes beside its streams.
            var (schemas, schemaSource) = parse.GetValue(registry) is null && parse.GetValue(schemaDir) is null
                ? InputSchemas(inputs)
                : (CliHelpers.CreateSchemaLookup(parse.GetValue(registry), parse.GetValue(schemaDir)), parse.GetValue(registry) is { } url ? "--schema-registry " + url : "--schema-dir " + parse.GetValue(schemaDir));
            return await RunAsync(new DemoInputs(inputs, schemas, schemaSource), parse.GetValue(nights), parse.GetValue(perNight), parse.GetValue(objects), parse.GetValue(perObject), useRedis, parse.GetValue(redis), security, parse.GetValue(model) ?? [], parse.GetValue(batch), parse.GetValue(allAlerts) ? CandidateFilter.None : CandidateFilter.Default with { MinDetections = parse.GetValue(minDetections) }, web, stop.Token).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The most simulated alerts the demo replays: the rest of the nights asked for are left out, and the input line says so.</summary>
    internal const int MaxSimulatedAlerts = 5000;

    private static (AlertBroker.Avro.ISchemaLookup? Lookup, string? Source) InputSchemas(IReadOnlyList<string> inputs)
    {
        var folders = InputSchemaFolders.Find(inputs);
        return (InputSchemaFolders.Lookup(folders), folders.Count == 0 ? null : string.Join(", ", folders.Select(Shown)) + " (beside the inputs)");
    }

    // A folder under the working directory relative to it, any other one whole.
    private static string Shown(string folder) =>
        Path.GetRelativePath(Environment.CurrentDirectory, folder) is var relative && !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative) ? relative : folder;

    private static async Task<int> RunAsync(DemoInputs inputs, int nights, double perNight, int objects, int perObject, bool useRedis, string? redisConfiguration, RedisOptions redisSecurity, IReadOnlyList<string> modelDirs, int batchSize, CandidateFilter candidates, WebViewRequest? web, CancellationToken ct)
    {
        if (!CliHelpers.TryLoadKafka())
        {
            return 70;
        }

        AnsiConsole.MarkupLine("[bold]AlertBroker demo[/]: mock Kafka cluster → worker → classifications");
        var model = PipelineBenchCommand.LoadModels(modelDirs, out var modelDescription, out var exit);
        if (model is null)
        {
            return exit;
        }

        try
        {
            foreach (var (survey, m) in model.Active.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                AnsiConsole.MarkupLine($"model:  {Markup.Escape(survey)} → [bold]{Markup.Escape(m.Name)} {Markup.Escape(m.Version)}[/] ({m.Classes.Length} classes)");
            }

            AnsiConsole.MarkupLine($"        from {Markup.Escape(modelDescription)}; alerts of other surveys are stored and classified with scoring NONE");
            return await RunAsync(inputs, nights, perNight, objects, perObject, useRedis, redisConfiguration, redisSecurity, model, batchSize, candidates, web, ct).ConfigureAwait(false);
        }
        finally
        {
            DemoModel.Dispose(model);
        }
    }

    private static async Task<int> RunAsync(DemoInputs demoInputs, int nights, double perNight, int objects, int perObject, bool useRedis, string? redisConfiguration, RedisOptions redisSecurity, ModelSet model, int batchSize, CandidateFilter candidates, WebViewRequest? web, CancellationToken ct)
    {
        var inv = CultureInfo.InvariantCulture;

        var inputs = demoInputs.Paths;
        var wire = new SurveyWireFormat { Fallback = demoInputs.Schemas };
        if (demoInputs.SchemaSource is { } schemaSource)
        {
            AnsiConsole.MarkupLine("schemas: Confluent-wire inputs' schema ids from " + Markup.Escape(schemaSource));
        }

        var messages = KafkaPipelineRun.ReadArchives(inputs, wire, out var unreadable);
        var archived = messages.Count;
        var simulated = 0;
        SimulatedStream? stream = null;
        if (nights > 0)
        {
            try
            {
                stream = SimulatedNights.ZtfStream(nights, perNight, seed: 2026, maxMessages: MaxSimulatedAlerts, ct);
                simulated = stream.Messages.Count;
                messages.AddRange(stream.Messages);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Stopped while the nights were simulated (a high rate takes minutes): a demo ends on a stop with 0.
                CliHelpers.Stderr.MarkupLine("[yellow]demo: stopped while simulating the nights; nothing was replayed[/]");
                return 0;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                CliHelpers.Stderr.MarkupLine("[yellow]survey simulator unavailable[/] (" + Markup.Escape(e.Message) + "); using the synthetic stream instead");
                objects = Math.Max(objects, 300);
            }
        }

        if (objects > 0)
        {
            messages.AddRange(KafkaPipelineRun.Synthetic(objects, Math.Max(1, perObject), seed: 2026));
        }

        AnsiConsole.MarkupLine(string.Create(inv, $"input:  {archived:N0} archived alerts {Markup.Escape(InputsText(inputs))}{(unreadable > 0 ? $" ({unreadable} unreadable files skipped)" : string.Empty)}; {simulated:N0} ZTF alerts from the survey simulator ({nights} nights, {perNight:G} transients peaking per night, no cutouts{SimulatedText(stream)}); {messages.Count - archived - simulated:N0} synthetic alerts"));
        if (messages.Count == 0)
        {
            CliHelpers.Stderr.MarkupLine("[red]nothing to replay[/]");
            return 1;
        }

        LocalRedis? localRedis = null;
        IObjectStateStore store;
        if (useRedis)
        {
            if (redisConfiguration is null)
            {
                localRedis = LocalRedis.TryStart();
                if (localRedis is null)
                {
                    CliHelpers.Stderr.MarkupLine("[red]--redis:[/] redis-server was not found (run eng/setup.sh) and no configuration string was given");
                    return 1;
                }

                redisConfiguration = localRedis.Configuration;
                redisSecurity = RedisOptions.None;
            }

            try
            {
                // A demo is a bounded run: an unreachable Redis is exit 4 at once (as for score and bench), not a worker
                // that waits for it while every batch fails and then reports nothing processed.
                var options = new RedisStateOptions { Configuration = redisConfiguration, Security = redisSecurity, KeyPrefix = "demo" + Environment.ProcessId.ToString(inv) };
                var connection = await RedisConnectionFactory.ConnectAsync(RedisObjectStateStore.CreateConfiguration(options), waitForServer: false).ConfigureAwait(false);
                store = new RedisObjectStateStore(connection, options, ownsConnection: true);
            }
            catch (Exception e) when (e is RedisConnectionFailedException or ArgumentException)
            {
                CliHelpers.Stderr.MarkupLine("[red]--redis:[/] " + Markup.Escape(CliHelpers.PlainMessage(e)));
                localRedis?.Dispose();
                return e is ArgumentException ? 2 : 4;
            }

            AnsiConsole.MarkupLine($"state:  Redis at {Markup.Escape(RedisConnectionFactory.Redact(redisConfiguration))}{(localRedis is not null ? " (started for the demo)" : string.Empty)}");
        }
        else
        {
            store = new InMemoryObjectStateStore();
            AnsiConsole.MarkupLine("state:  in memory (use --redis for Redis)");
        }

        DemoWebView? view = null;
        try
        {
            if (web is not null)
            {
                try
                {
                    view = await DemoWebView.StartAsync(web.Address, web.Port, store, model, ct).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    CliHelpers.Stderr.MarkupLine("[red]--serve:[/] " + Markup.Escape(e.Message) + " (choose another port with --http-port)");
                    return 2;
                }
                catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressNotAvailable)
                {
                    CliHelpers.Stderr.MarkupLine("[red]--http-address:[/] " + Markup.Escape(e.Message) + " (not an address of this host; 127.0.0.1 for loopback, 0.0.0.0 for every interface)");
                    return 2;
                }

                AnsiConsole.MarkupLine("web:    [bold]" + Markup.Escape(view.Address) + "[/] (the pages stay up after the demo, until Ctrl-C)");
            }

            var run = new KafkaPipelineRun
            {
                Models = model,
                Store = store,
                Messages = messages,
                Schemas = wire,
                BatchSize = batchSize,
                Candidates = candidates,
                Metrics = view?.Metrics,
                BatchCompleted = view is null ? null : view.Recent.Add,
                Progress = (produced, processed, alerts, dead) => Console.Error.WriteLine(string.Create(
                    inv,
                    $"[demo] produced {produced:N0}/{messages.Count:N0}, processed {processed:N0} messages: {alerts:N0} alerts classified, {CliHelpers.Counted(dead, "dead letter")}")),
            };
            var result = await run.RunAsync(ct).ConfigureAwait(false);
            Summary(result);
            var code = result.Alerts > 0 ? 0 : 1;
            if (view is not null && !ct.IsCancellationRequested)
            {
                AnsiConsole.MarkupLine("The demo has ended; the web view stays up at [bold]" + Markup.Escape(view.Address) + "[/] until Ctrl-C.");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return code;
        }
        finally
        {
            if (view is not null)
            {
                await view.DisposeAsync().ConfigureAwait(false);
            }

            (store as IDisposable)?.Dispose();
            localRedis?.Dispose();
        }
    }

    private static void Summary(PipelineRunResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine("[bold]Summary[/] (mock Kafka cluster in-process: a functional double, not a fast broker — see bench pipeline for throughput)");
        AnsiConsole.WriteLine(string.Create(inv, $"messages:        {r.MessagesProcessed:N0} of {r.MessagesProduced:N0} processed in {r.Elapsed.TotalSeconds:F1} s"));
        if (r.ProduceFailures > 0 || r.Stalled)
        {
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(inv, $"warning:         the mock cluster did not acknowledge {r.ProduceFailures} messages and {(r.Stalled ? "stopped delivering some it had acknowledged (a known limit of librdkafka's mock broker, not of the worker)" : "delivered the rest")}")));
        }
        AnsiConsole.WriteLine(string.Create(inv, $"alerts:          {r.Alerts:N0} classified, {r.AlertsPerSecond:N0} alerts/s end to end; {CliHelpers.Counted(r.DeadLetters, "dead letter")}; {r.ObservationsAdded:N0} observations stored"));
        foreach (var (kind, (count, first)) in r.DeadLetterKinds.OrderByDescending(p => p.Value.Count))
        {
            var line = first.Length > 200 ? first[..200] + "…" : first;
            AnsiConsole.WriteLine(string.Create(inv, $"dead letters:    {count:N0} {kind}, the first: {line} (on a deployment: alertbroker consume --kind {kind})"));
        }

        // Nothing classified (every input a dead letter): no latency to give ("p50 NaN ms" before).
        AnsiConsole.WriteLine(r.EndToEndMs.Count == 0
            ? "latency:         – (no alert was classified)"
            : string.Create(inv, $"latency:         Kafka timestamp → classified p50 {Percentiles.Of(r.EndToEndMs, 50):F0} ms, p90 {Percentiles.Of(r.EndToEndMs, 90):F0} ms, p99 {Percentiles.Of(r.EndToEndMs, 99):F0} ms"));
        AnsiConsole.WriteLine(string.Create(inv, $"batch:           processing p50 {Percentiles.Of(r.BatchMs, 50):F1} ms, p99 {Percentiles.Of(r.BatchMs, 99):F1} ms ({r.BatchMs.Count} batches)"));
        if (r.Withheld.Count > 0)
        {
            var reasons = string.Join(", ", r.Withheld.OrderByDescending(p => p.Value).Select(p => string.Create(inv, $"{CandidateFilter.Tag(p.Key)} {p.Value:N0}")));
            var what = r.Withheld.Keys.All(k => k == CandidateRejectionKind.TooFewDetections) ? "carry too few detections"
                : r.Withheld.ContainsKey(CandidateRejectionKind.TooFewDetections) ? "are not transient candidates or carry too few detections"
                : "are not transient candidates";
            AnsiConsole.WriteLine(string.Create(inv, $"withheld:        {r.Withheld.Values.Sum():N0} alerts {what}, published without probabilities ({reasons}; --all-alerts to score them too)"));
        }

        var paths = string.Join(", ", r.ByPath.OrderByDescending(p => p.Value).Select(p => string.Create(inv, $"{p.Key.ToString().ToLowerInvariant()} {p.Value:N0}")));
        AnsiConsole.WriteLine("scoring:         " + paths);
        var byModel = string.Join(", ", r.ByModel.OrderByDescending(p => p.Value).Select(p => string.Create(inv, $"{p.Key} {p.Value:N0}")));
        AnsiConsole.WriteLine("models:          " + byModel);
        if (r.OutputTopicCount >= 0)
        {
            AnsiConsole.WriteLine(string.Create(inv, $"output topic:    {r.OutputTopicCount:N0} classification messages read back and decoded"));
        }

        var byClass = new Table().AddColumn("top class").AddColumn(new TableColumn("classifications").RightAligned());
        foreach (var (name, count) in r.ByTopClass.OrderByDescending(p => p.Value))
        {
            byClass.AddRow(Markup.Escape(name), count.ToString("N0", inv));
        }

        AnsiConsole.Write(byClass);
        var examples = new Table().AddColumn("object").AddColumn(new TableColumn("observations").RightAligned()).AddColumn(new TableColumn("steps").RightAligned()).AddColumn("top class").AddColumn("probabilities");
        foreach (var c in r.LatestByObject.Values.OrderByDescending(c => c.ObservationCount).ThenBy(c => c.ObjectId, StringComparer.Ordinal).Take(6))
        {
            var probabilities = c.Probabilities.Length == 0 ? c.Reason ?? "-" : c.ModelName + " " + c.ModelVersion + ": " + string.Join(" ", c.Probabilities.Select((p, i) => string.Create(inv, $"{c.Classes[i]} {p:F2}")));
            examples.AddRow(Markup.Escape(c.Survey.ToString().ToLowerInvariant() + " " + c.ObjectId), c.ObservationCount.ToString(inv), c.StepCount.ToString(inv), Markup.Escape(c.TopClass ?? "-"), Markup.Escape(probabilities));
        }

        AnsiConsole.Write(examples);
    }

    /// <summary>
    /// When <see cref="MaxSimulatedAlerts"/> cut the simulated stream, how far it got (until 2026-12-07 a cut stream was
    /// said as "5,000 ZTF alerts … (30 nights, …)" while only the first 13 were in); empty when every night is in.
    /// </summary>
    internal static string SimulatedText(SimulatedStream? stream) =>
        stream is not { Cut: true }
            ? string.Empty
            : string.Create(CultureInfo.InvariantCulture, $"; cut at the demo's {MaxSimulatedAlerts:N0} simulated alerts: the first {stream.WholeNights} night(s) whole{(stream.PartOfNext ? $" and part of night {stream.WholeNights + 1}" : string.Empty)}, lower --nights or --objects-per-night to have them all");

    private sealed record DemoInputs(IReadOnlyList<string> Paths, AlertBroker.Avro.ISchemaLookup? Schemas, string? SchemaSource);

    private sealed record WebViewRequest(string Address, int Port);
}
