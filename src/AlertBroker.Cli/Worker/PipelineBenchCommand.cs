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
    public static async Task<int> RunAsync(string[] paths, string mode, TimeSpan duration, int simNights, double simPerNight, int objects, int perObject, int batchSize, string? redis, RedisOptions redisSecurity, IReadOnlyList<string> modelDirs, IReadOnlyList<string>? shadowDirs, int kafkaMessages, CancellationToken ct, PipelineObservation observe = PipelineObservation.None, OnnxSessionOptions? sessionOptions = null)
    {
        var all = mode == "all";
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

            return await RunAsync(paths, mode, all, duration, simNights, simPerNight, objects, perObject, batchSize, redis, redisSecurity, model, modelDescription, kafkaMessages, observe, ct).ConfigureAwait(false);
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

    private static async Task<int> RunAsync(string[] paths, string mode, bool all, TimeSpan duration, int simNights, double simPerNight, int objects, int perObject, int batchSize, string? redis, RedisOptions redisSecurity, ModelSet model, string modelDescription, int kafkaMessages, PipelineObservation observe, CancellationToken ct)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var m in model.Distinct)
        {
            var roles = string.Join(", ", model.Active.Where(kv => ReferenceEquals(kv.Value, m)).Select(kv => kv.Key).Concat(model.Shadows.Where(kv => ReferenceEquals(kv.Value, m)).Select(kv => kv.Key + " shadow")));
            AnsiConsole.WriteLine($"model: {m.Name} {m.Version} ({m.Classes.Length} classes, {m.Scorer.Dimensions.Layers}×{m.Scorer.Dimensions.HiddenSize} GRU) for {roles}, on {m.Package.Session.Device}");
        }

        AnsiConsole.WriteLine("models from " + modelDescription);
        AnsiConsole.WriteLine(string.Create(inv, $"machine: {Environment.ProcessorCount} cores, batches of {batchSize} messages; every pass starts from empty state"));

        var wire = new SurveyWireFormat();
        var datasets = new List<(string Name, List<byte[]> Messages)>();
        if (paths.Length > 0)
        {
            // Files of which no message decodes would be measured as 0 alerts/s of dead letters, and reported as a result.
            var real = KafkaPipelineRun.ReadArchives(paths, wire, out var unreadable, out var undecodable).ConvertAll(m => m.Value);
            var unread = unreadable > 0 ? string.Create(inv, $"; {CliHelpers.Counted(unreadable, "file or entry", "files or entries")} could not be read") : string.Empty;
            if (real.Count == undecodable)
            {
                CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"bench pipeline: no alert decodes in {string.Join(", ", paths)} ({CliHelpers.Counted(real.Count, "message")} read{unread}): nothing to measure")));
                return 1;
            }

            if (undecodable > 0 || unreadable > 0)
            {
                CliHelpers.Stderr.MarkupLine("[yellow]" + Markup.Escape(string.Create(inv, $"{undecodable} of {real.Count} messages do not decode (measured as the dead letters they are to the worker){unread}")) + "[/]");
            }

            datasets.Add(($"real samples ({real.Count} messages, mean {real.Sum(m => (long)m.Length) / real.Count / 1024.0:F0} KiB)", real));
        }

        if (simNights > 0)
        {
            try
            {
                var sim = SimulatedNights.Ztf(simNights, simPerNight, seed: 11, maxMessages: 20_000).ConvertAll(m => m.Value);
                datasets.Add(($"survey simulator ZTF ({simNights} nights, {simPerNight:G} transients/night: {sim.Count} alerts, mean {sim.Sum(m => (long)m.Length) / Math.Max(1, sim.Count) / 1024.0:F1} KiB, no cutouts)", sim));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                AnsiConsole.WriteLine("survey simulator unavailable: " + e.Message);
            }
        }

        if (objects > 0)
        {
            var synthetic = KafkaPipelineRun.Synthetic(objects, perObject, seed: 7).ConvertAll(m => m.Value);
            datasets.Add(($"synthetic ZTF-format ({objects} objects × {perObject} alerts, mean {synthetic.Sum(m => (long)m.Length) / synthetic.Count / 1024.0:F1} KiB)", synthetic));
        }

        if (all || mode == "embedded")
        {
            foreach (var (name, messages) in datasets)
            {
                var r = await PipelineBench.RunAsync(messages, model, _ => new InMemoryObjectStateStore(), wire, batchSize, duration, ct, observe).ConfigureAwait(false);
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
                AnsiConsole.WriteLine("(b) skipped: no --redis given and redis-server not found (run eng/setup.sh)");
            }
            else
            {
                try
                {
                    var prefix = "bench" + Environment.ProcessId.ToString(inv);
                    var redisOptions = new RedisStateOptions { Configuration = redis, Security = redisSecurity, KeyPrefix = prefix };
                    using var connection = await RedisConnectionFactory.ConnectAsync(RedisObjectStateStore.CreateConfiguration(redisOptions), waitForServer: false).ConfigureAwait(false);
                    var set = 0;
                    foreach (var (name, messages) in datasets)
                    {
                        set++;
                        var r = await PipelineBench.RunAsync(
                            messages,
                            model,
                            pass => new RedisObjectStateStore(connection, redisOptions with { KeyPrefix = prefix + "s" + set.ToString(inv) + "p" + pass.ToString(inv) }),
                            wire,
                            batchSize,
                            duration,
                            ct,
                            observe).ConfigureAwait(false);
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

            var perObj = Math.Max(1, perObject);
            var messages = KafkaPipelineRun.Synthetic(Math.Max(1, kafkaMessages / perObj), perObj, seed: 8);
            var run = new KafkaPipelineRun { Models = model, Store = new InMemoryObjectStateStore(), Messages = messages, BatchSize = batchSize, VerifyOutputTopic = false };
            var r = await run.RunAsync(ct).ConfigureAwait(false);
            AnsiConsole.WriteLine(string.Create(inv, $"(c) full Kafka path through librdkafka's MOCK cluster (in-process; a functional double, so this measures the mock broker more than the worker), in-memory state, {messages.Count} synthetic ZTF-format messages:"));
            AnsiConsole.WriteLine(string.Create(inv, $"    {r.Alerts:N0} alerts in {r.Elapsed.TotalSeconds:F1} s = {r.AlertsPerSecond:N0} alerts/s (produce and consume concurrently); Kafka timestamp → classified p50 {Percentiles.Of(r.EndToEndMs, 50):F0} ms, p99 {Percentiles.Of(r.EndToEndMs, 99):F0} ms; batch p50 {Percentiles.Of(r.BatchMs, 50):F1} ms, p99 {Percentiles.Of(r.BatchMs, 99):F1} ms"));
        }

        return 0;
    }

    private static void Report(string what, string dataset, PipelineBenchResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var paths = string.Join(", ", r.Paths.OrderByDescending(p => p.Value).Select(p => string.Create(inv, $"{p.Key.ToString().ToLowerInvariant()} {p.Value * 100.0 / Math.Max(1, r.Alerts):F0}%")));
        AnsiConsole.WriteLine(string.Create(inv, $"{what}, {dataset}:"));
        var shadows = r.ShadowClassifications > 0 ? string.Create(inv, $"; {r.ShadowClassifications:N0} shadow classifications") : string.Empty;
        AnsiConsole.WriteLine(string.Create(inv, $"    {r.AlertsPerSecond:N0} alerts/s ({r.Alerts:N0} alerts, {r.Passes} passes, {r.Elapsed.TotalSeconds:F1} s); batch latency p50 {Percentiles.Of(r.BatchMs, 50):F1} ms, p90 {Percentiles.Of(r.BatchMs, 90):F1} ms, p99 {Percentiles.Of(r.BatchMs, 99):F1} ms; {CliHelpers.Counted(r.DeadLetters, "dead letter")}; scoring: {paths}{shadows}"));

        // ZTF alerts benchmarked with an LSST-only model printed tens of thousands of alerts/s with nothing scored.
        if (r.Alerts > 0 && r.Paths.GetValueOrDefault(ScoringPath.None) == r.Alerts)
        {
            CliHelpers.Stderr.MarkupLine("[yellow]    no alert was scored: this figure measures decoding and storing only (does the model serve these alerts' survey? models inspect shows its surveys)[/]");
        }
    }
}
