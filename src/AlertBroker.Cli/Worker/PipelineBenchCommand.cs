using System.Globalization;
using AlertBroker.Model.Onnx;
using AlertBroker.Redis;
using AlertBroker.State;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Scoring;
using Spectre.Console;

namespace AlertBroker.Cli.Worker;

/// <summary>The body of <c>bench pipeline</c>.</summary>
internal static class PipelineBenchCommand
{
    /// <summary>The benchmark; shadowDirs null: no shadow; empty: each active model is shadowed by a second load of itself (a separate session and state); else these packages shadow the surveys they declare.</summary>
    public static async Task<int> RunAsync(string[] paths, string mode, TimeSpan duration, int simNights, double simPerNight, int objects, int perObject, int batchSize, string? redis, RedisOptions redisSecurity, IReadOnlyList<string> modelDirs, IReadOnlyList<string>? shadowDirs, int kafkaMessages, CancellationToken ct, PipelineObservation observe = PipelineObservation.None, OnnxSessionOptions? sessionOptions = null, AlertBroker.Avro.ISchemaLookup? schemas = null)
    {
        var all = mode == "all";
        if (ct.IsCancellationRequested)
        {
            return Stopped();
        }

        var active = LoadModels(modelDirs, out var modelDescription, out var exit, sessionOptions: sessionOptions);
        if (active is null)
        {
            return exit;
        }

        ModelSet? shadowSet = null;
        try
        {
            var model = active;
            if (shadowDirs is not null)
            {
                shadowSet = shadowDirs.Count > 0
                    ? LoadModels(shadowDirs, out _, out exit, "--shadow", sessionOptions)
                    : ModelSet.Create(active.Active.ToDictionary(kv => kv.Key, kv => ActiveModel.Load(kv.Value.Package.Source, sessionOptions)));
                if (shadowSet is null)
                {
                    return exit;
                }

                model = active.WithShadows(shadowSet.Active);
            }

            return await RunAsync(paths, mode, all, duration, simNights, simPerNight, objects, perObject, batchSize, redis, redisSecurity, model, modelDescription, kafkaMessages, observe, ct, schemas).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Stopped();
        }
        finally
        {
            DemoModel.Dispose(active);
            if (shadowSet is not null)
            {
                DemoModel.Dispose(shadowSet);
            }
        }
    }

    /// <summary>
    /// Said on a stop request (Ctrl-C, SIGTERM): the case in progress is not reported, since a cut run is not a
    /// measurement. The non-zero code becomes 130 or 143. Until 2026-12-07 a stop during (c) printed what the mock cluster
    /// had done so far ("0 alerts in 0.0 s = 0 alerts/s …; p50 NaN ms") as the figure, exit 0, and a stop during the
    /// set-up (models, the simulated nights) was not seen at all: the process was ended 5 s later.
    /// </summary>
    private static int Stopped()
    {
        CliHelpers.Stderr.MarkupLine("bench pipeline: stopped; the case in progress is not reported (the figures above are whole runs)");
        return 1;
    }

    /// <summary>
    /// The models of <c>--model</c> (or <c>--shadow</c>) (<see cref="DemoModel.TryLoad"/>), or null with the exit code: 3 when a package cannot
    /// be used; 2 when the packages given do not make a model set (two declare one survey) — a usage error said in one
    /// line, not "unexpected error" (exit 70).
    /// </summary>
    internal static ModelSet? LoadModels(IReadOnlyList<string> directories, out string description, out int exit, string option = "--model", OnnxSessionOptions? sessionOptions = null)
    {
        description = "(none)";
        try
        {
            var set = DemoModel.TryLoad(directories, out description, sessionOptions);
            exit = set is null ? ModelCli.ModelUnusableExitCode : 0;
            return set;
        }
        catch (ArgumentException e)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{option}:[/] " + Markup.Escape(CliHelpers.PlainMessage(e)));
            exit = 2;
            return null;
        }
    }

    private static async Task<int> RunAsync(string[] paths, string mode, bool all, TimeSpan duration, int simNights, double simPerNight, int objects, int perObject, int batchSize, string? redis, RedisOptions redisSecurity, ModelSet model, string modelDescription, int kafkaMessages, PipelineObservation observe, CancellationToken ct, AlertBroker.Avro.ISchemaLookup? schemas)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var m in model.Distinct)
        {
            var roles = string.Join(", ", model.Active.Where(kv => ReferenceEquals(kv.Value, m)).Select(kv => kv.Key).Concat(model.Shadows.Where(kv => ReferenceEquals(kv.Value, m)).Select(kv => kv.Key + " shadow")));
            AnsiConsole.WriteLine($"model: {m.Name} {m.Version} ({m.Classes.Length} classes, {m.Scorer.Dimensions.Layers}×{m.Scorer.Dimensions.HiddenSize} GRU) for {roles}, on {m.Package.Session.Device}");
        }

        AnsiConsole.WriteLine("models from " + modelDescription);
        AnsiConsole.WriteLine(string.Create(inv, $"machine: {Environment.ProcessorCount} cores, batches of {batchSize} messages; every pass starts from empty state"));

        var wire = new SurveyWireFormat { Fallback = schemas };

        // (c) runs its own synthetic stream: the sets of (a) and (b) are built only for a mode that measures them (until
        // 2026-12-07 --mode kafka built them all and used none, 18 s against 5.7 s).
        var datasets = new List<(string Name, List<byte[]> Messages)>();
        if (all || mode is "embedded" or "redis")
        {
            if (BuildDatasets(paths, wire, simNights, simPerNight, objects, perObject, datasets, ct) is { } failed)
            {
                return failed;
            }
        }

        if (all || mode == "embedded")
        {
            foreach (var (name, messages) in datasets)
            {
                var r = await PipelineBench.RunAsync(messages, model, _ => new InMemoryObjectStateStore(), wire, batchSize, duration, ct, observe).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                Report("(a) embedded, in-memory state", name, r);
            }
        }

        if (all || mode == "redis")
        {
            LocalRedis? local = null;
            if (redis is null)
            {
                local = LocalRedis.TryStart();
                redis = local?.Configuration;
                redisSecurity = RedisOptions.None;
            }

            if (redis is null)
            {
                if (!all)
                {
                    // The only case asked for did not run: that is no result (it was exit 0).
                    CliHelpers.Stderr.MarkupLine("[red]bench pipeline:[/] (b) not run: no --redis given and redis-server not found (run eng/setup.sh, or give --redis HOST:PORT)");
                    return 1;
                }

                AnsiConsole.WriteLine("(b) skipped: no --redis given and redis-server not found (run eng/setup.sh)");
            }
            else
            {
                try
                {
                    // Every key is under bench<pid>s<set>p<pass>, given a TTL (a backstop for a run that is killed) and
                    // deleted when each set's case ends, stopped or not: until 2026-12-07 they all stayed in the server (5,450 keys
                    // from a 0.3 s run).
                    var prefix = "bench" + Environment.ProcessId.ToString(inv);
                    var redisOptions = new RedisStateOptions { Configuration = redis, Security = redisSecurity, KeyPrefix = prefix, Ttl = BenchKeyTtl };
                    using var connection = await RedisConnectionFactory.ConnectAsync(RedisObjectStateStore.CreateConfiguration(redisOptions), waitForServer: false).ConfigureAwait(false);
                    var set = 0;
                    foreach (var (name, messages) in datasets)
                    {
                        set++;
                        var setPrefix = prefix + "s" + set.ToString(inv) + "p";
                        PipelineBenchResult r;
                        try
                        {
                            r = await PipelineBench.RunAsync(
                                messages,
                                model,
                                pass => new RedisObjectStateStore(connection, redisOptions with { KeyPrefix = setPrefix + pass.ToString(inv) }),
                                wire,
                                batchSize,
                                duration,
                                ct,
                                observe).ConfigureAwait(false);
                        }
                        finally
                        {
                            await DeleteKeysAsync(connection, setPrefix).ConfigureAwait(false);
                        }

                        ct.ThrowIfCancellationRequested();
                        Report($"(b) Redis state at {RedisConnectionFactory.Redact(redis)}{(local is not null ? " (local redis-server)" : string.Empty)}", name, r);
                    }
                }
                catch (RedisConnectionFailedException e)
                {
                    CliHelpers.Stderr.MarkupLine("[red](b) Redis:[/] " + Markup.Escape(e.Message));
                    return 4;
                }
                finally
                {
                    local?.Dispose();
                }
            }
        }

        if (all || mode == "kafka")
        {
            if (!CliHelpers.TryLoadKafka())
            {
                return 70;
            }

            // Exactly --kafka-messages: whole objects of --alerts-per-object, the last one cut (until 2026-12-07 the count
            // was rounded down to whole objects without a word: 7 sent 5, and at least one object: 3 with
            // --alerts-per-object 1000 sent 1000).
            var perObj = Math.Max(1, perObject);
            var messages = KafkaPipelineRun.Synthetic((kafkaMessages + perObj - 1) / perObj, perObj, seed: 8, ct);
            if (messages.Count > kafkaMessages)
            {
                messages.RemoveRange(kafkaMessages, messages.Count - kafkaMessages);
            }

            var run = new KafkaPipelineRun { Models = model, Store = new InMemoryObjectStateStore(), Messages = messages, BatchSize = batchSize, VerifyOutputTopic = false };
            var r = await run.RunAsync(ct).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            AnsiConsole.WriteLine(string.Create(inv, $"(c) full Kafka path through librdkafka's MOCK cluster (in-process; a functional double, so this measures the mock broker more than the worker), in-memory state, {messages.Count} synthetic ZTF-format messages:"));
            AnsiConsole.WriteLine(string.Create(inv, $"    {r.Alerts:N0} alerts in {r.Elapsed.TotalSeconds:F1} s = {r.AlertsPerSecond:N0} alerts/s (produce and consume concurrently); Kafka timestamp → classified p50 {Percentiles.Of(r.EndToEndMs, 50):F0} ms, p99 {Percentiles.Of(r.EndToEndMs, 99):F0} ms; batch p50 {Percentiles.Of(r.BatchMs, 50):F1} ms, p99 {Percentiles.Of(r.BatchMs, 99):F1} ms"));
            if (r.Alerts == 0)
            {
                CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"bench pipeline: (c) processed no alert of the {messages.Count} sent{(r.Stalled ? " (the mock cluster stalled)" : string.Empty)}: no figure")));
                return 1;
            }
        }

        return 0;
    }

    /// <summary>How long a key written by (b) lives if the run is killed before it deletes it.</summary>
    internal static readonly TimeSpan BenchKeyTtl = TimeSpan.FromHours(1);

    /// <summary>Deletes every key under <paramref name="prefix"/> on each primary (SCAN, then one UNLINK per key: a cluster's keys live in many slots).</summary>
    private static async Task DeleteKeysAsync(StackExchange.Redis.IConnectionMultiplexer connection, string prefix)
    {
        try
        {
            await DeleteKeysCoreAsync(connection, prefix).ConfigureAwait(false);
        }
        catch (StackExchange.Redis.RedisException e)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape($"bench pipeline: could not delete the keys under {prefix} (they expire within {BenchKeyTtl.TotalHours:0} h): {e.Message}"));
        }
    }

    private static async Task DeleteKeysCoreAsync(StackExchange.Redis.IConnectionMultiplexer connection, string prefix)
    {
        var db = connection.GetDatabase();
        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            var pending = new List<Task>();
            await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000).ConfigureAwait(false))
            {
                pending.Add(db.KeyDeleteAsync(key, StackExchange.Redis.CommandFlags.DemandMaster));
                if (pending.Count >= 1000)
                {
                    await Task.WhenAll(pending).ConfigureAwait(false);
                    pending.Clear();
                }
            }

            await Task.WhenAll(pending).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The sets (a) and (b) measure, or the exit code: 1 when no set holds an alert (nothing to measure; until 2026-12-07
    /// an empty set was "measured" as 0 alerts/s, p50 NaN ms, and no set at all printed a header, exit 0 both).
    /// </summary>
    private static int? BuildDatasets(string[] paths, SurveyWireFormat wire, int simNights, double simPerNight, int objects, int perObject, List<(string Name, List<byte[]> Messages)> datasets, CancellationToken ct)
    {
        var inv = CultureInfo.InvariantCulture;
        if (paths.Length > 0)
        {
            // Files of which no message decodes would be measured as 0 alerts/s of dead letters, and reported as a result.
            var counts = new KafkaPipelineRun.ArchiveCounts();
            var real = KafkaPipelineRun.EnumerateArchives(paths, wire, counts, ct).Select(m => m.Value).ToList();
            var unreadable = counts.Unreadable;
            var undecodable = counts.Undecodable;
            var unread = unreadable > 0 ? string.Create(inv, $"; {CliHelpers.Counted(unreadable, "file or entry", "files or entries")} could not be read") : string.Empty;
            if (real.Count == undecodable)
            {
                CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"bench pipeline: no alert decodes in {string.Join(", ", paths)} ({CliHelpers.Counted(real.Count, "message")} read{unread}): nothing to measure")));
                WhyNot(counts);
                return 1;
            }

            if (undecodable > 0 || unreadable > 0)
            {
                CliHelpers.Stderr.MarkupLine("[yellow]" + Markup.Escape(string.Create(inv, $"{undecodable} of {real.Count} messages do not decode (measured as the dead letters they are to the worker){unread}")) + "[/]");
                WhyNot(counts);
            }

            datasets.Add(($"real samples ({real.Count} messages, mean {real.Sum(m => (long)m.Length) / real.Count / 1024.0:F0} KiB)", real));
        }

        if (simNights > 0)
        {
            try
            {
                var stream = SimulatedNights.ZtfStream(simNights, simPerNight, seed: 11, maxMessages: SimulatedNights.MaxMessages, ct);
                var sim = stream.Messages.ConvertAll(m => m.Value);
                var nightsIn = stream.Cut ? stream.WholeNights + (stream.PartOfNext ? 1 : 0) : simNights;
                if (sim.Count == 0)
                {
                    CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"survey simulator: no alert in {CliHelpers.Counted(simNights, "night")} at {simPerNight:G} transients/night; left out")));
                }
                else
                {
                    // The cap cut the stream: say which nights are in (it said "50 nights … 20000 alerts" of 40).
                    var nightsText = nightsIn < simNights
                        ? string.Create(inv, $"the first {nightsIn} of {simNights} nights: the {SimulatedNights.MaxMessages:N0}-alert cap")
                        : string.Create(inv, $"{simNights} nights");
                    datasets.Add(($"survey simulator ZTF ({nightsText}, {simPerNight:G} transients/night: {sim.Count} alerts, mean {sim.Sum(m => (long)m.Length) / sim.Count / 1024.0:F1} KiB, no cutouts)", sim));
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                AnsiConsole.WriteLine("survey simulator unavailable: " + e.Message);
            }
        }

        ct.ThrowIfCancellationRequested();
        if (objects > 0)
        {
            var synthetic = KafkaPipelineRun.Synthetic(objects, perObject, seed: 7, ct).ConvertAll(m => m.Value);
            datasets.Add(($"synthetic ZTF-format ({objects} objects × {perObject} alerts, mean {synthetic.Sum(m => (long)m.Length) / synthetic.Count / 1024.0:F1} KiB)", synthetic));
        }

        ct.ThrowIfCancellationRequested();
        if (datasets.Count == 0)
        {
            CliHelpers.Stderr.MarkupLine("[red]bench pipeline:[/] no alerts to measure (no alert files, no simulated alert, --objects 0): nothing to measure");
            return 1;
        }

        return null;
    }

    // Why the first few messages or files were left out, as inspect says it.
    private static void WhyNot(KafkaPipelineRun.ArchiveCounts counts)
    {
        foreach (var problem in counts.Problems.Take(3).Concat(counts.UndecodableExamples.Take(3)))
        {
            CliHelpers.Stderr.MarkupLine("[yellow]  " + Markup.Escape(problem) + "[/]");
        }
    }

    private static void Report(string what, string dataset, PipelineBenchResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var paths = string.Join(", ", r.Paths.OrderByDescending(p => p.Value).Select(p => string.Create(inv, $"{p.Key.ToString().ToLowerInvariant()} {p.Value * 100.0 / Math.Max(1, r.Alerts):F0}%")));
        AnsiConsole.WriteLine(string.Create(inv, $"{what}, {dataset}:"));
        var shadows = r.ShadowClassifications > 0 ? string.Create(inv, $"; {r.ShadowClassifications:N0} shadow classifications") : string.Empty;
        AnsiConsole.WriteLine(string.Create(inv, $"    {r.AlertsPerSecond:N0} alerts/s ({r.Alerts:N0} alerts, {r.Passes} passes, {r.Elapsed.TotalSeconds:F1} s); batch latency p50 {Percentiles.Of(r.BatchMs, 50):F1} ms, p90 {Percentiles.Of(r.BatchMs, 90):F1} ms, p99 {Percentiles.Of(r.BatchMs, 99):F1} ms; {CliHelpers.Counted(r.DeadLetters, "dead letter")}; scoring: {paths}{shadows}"));

        // ZTF alerts benchmarked with an LSST-only model printed tens of thousands of alerts/s with nothing scored. The
        // reasons are the classifications' own: until 2026-12-07 the warning always asked whether the model serves the
        // survey, also when the candidate filter had withheld every alert (negative subtractions).
        if (r.Alerts > 0 && r.Paths.GetValueOrDefault(ScoringPath.None) == r.Alerts)
        {
            var why = string.Join("; ", r.Unscored.OrderByDescending(kv => kv.Value).Select(kv => string.Create(inv, $"{kv.Key}: {kv.Value * 100.0 / Math.Max(1, r.Alerts):F0}%")));
            var hint = r.Unscored.Keys.Any(k => k.StartsWith("no model serves", StringComparison.Ordinal)) ? " (models inspect shows a model's surveys)" : string.Empty;
            CliHelpers.Stderr.MarkupLine("[yellow]" + Markup.Escape($"    no alert was scored: this figure measures decoding and storing only; why: {why}{hint}") + "[/]");
        }
    }
}
