using System.CommandLine;
using System.Globalization;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;
using AlertBroker.Redis;
using AlertBroker.Registry;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker models push|list|status|promote|rollback|migrate</c>: the model registry, in Redis (<c>--redis</c>, else
/// <c>$ALERTBROKER_REDIS</c>, else <c>AlertBroker__Model__RegistryRedis</c>; user, password and TLS from <c>--redis-user</c>,
/// <c>--redis-password</c>/<c>$ALERTBROKER_REDIS_PASSWORD</c>, <c>--redis-tls</c>, <c>--redis-ca</c>, … over the worker's
/// <c>AlertBroker__Redis__*</c> variables) or in a local directory (<c>--registry</c>, default <c>models</c>). One endpoint or
/// several (a Redis Cluster's seed nodes). Exit codes: 0 done (including promoting the model that is already active),
/// 1 refused or failed, 2 invalid Redis settings, 4 Redis unreachable or refusing the credentials.
/// </summary>
internal static class RegistryCommands
{
    private static readonly TimeSpan s_liveWorker = TimeSpan.FromSeconds(60);

    public static void AddTo(Command models)
    {
        var redis = new Option<string?>("--redis") { Description = "Redis endpoint(s) (host:port, or a cluster's nodes comma-separated); the registry lives there. Default: $ALERTBROKER_REDIS, else $AlertBroker__Model__RegistryRedis, else a local directory." };
        var security = new RedisCliOptions();
        var prefix = new Option<string>("--prefix") { Description = "Redis key prefix (default: $AlertBroker__Model__RegistryPrefix, else alertbroker).", DefaultValueFactory = _ => DefaultPrefix() };
        var actor = new Option<string?>("--actor") { Description = "Who does this, as recorded in the registry (pushed by / the audit trail). Default: the OS user." };
        var directory = new Option<string>("--registry") { Description = "Local registry directory (used without --redis).", DefaultValueFactory = _ => "models" };

        var dir = new Argument<string>("dir") { Description = "Package directory holding model.json and model.onnx." };
        var push = new Command("push", "Register a model package (bytes, model.json, SHA-256, who and when).") { dir, actor, redis, prefix, directory };
        security.AddTo(push);
        push.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => Push(r, p.GetValue(dir)!, ct, Actor(p, actor))));

        var list = new Command("list", "List registered model versions.") { redis, prefix, directory };
        security.AddTo(list);
        list.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => List(r, ct)));

        var status = new Command("status", "The active model, the one a rollback would restore, live workers and their model versions, recent promotions.") { redis, prefix, directory };
        security.AddTo(status);
        status.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => Status(r, ct)));

        var model = new Argument<string>("model") { Description = "NAME@VERSION" };
        var force = new Option<bool>("--force") { Description = "Promote even if the metric check fails (recorded in the audit trail)." };
        var maxDrop = new Option<double>("--max-drop") { Description = "Largest allowed macro-AUROC drop against the active model on the holdout.", DefaultValueFactory = _ => 0.01 };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded in the audit trail)." };
        var holdout = new Option<string[]>("--holdout") { Description = "Labelled holdout data (CSV pair or alert archives, as for 'evaluate'): compare the candidate's macro AUROC with the active model's.", AllowMultipleArgumentsPerToken = true };
        var holdoutLabels = new Option<string?>("--holdout-labels") { Description = "Labels CSV (object id → class) when the holdout is alert archives." };
        var detectionsOnly = new Option<bool>("--detections-only") { Description = "Use only detections (S/N ≥ 5) of the holdout light curves, as the models were trained." };
        var promote = new Command("promote", "Check a registered model (loads, encoding supported, valid probabilities, holdout metric) and make it active.")
        {
            model, force, maxDrop, reason, actor, holdout, holdoutLabels, detectionsOnly, redis, prefix, directory,
        };
        security.AddTo(promote);
        promote.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r =>
        {
            var holdoutPaths = p.GetValue(holdout) ?? [];
            return Promote(r, ModelRef.Parse(p.GetValue(model)!), new PromotionOptions
            {
                Force = p.GetValue(force),
                MaxAurocDrop = p.GetValue(maxDrop),
                Reason = p.GetValue(reason),
                By = Actor(p, actor),
                Holdout = holdoutPaths.Length == 0 ? null : DatasetHoldout.Load(holdoutPaths, p.GetValue(holdoutLabels), p.GetValue(detectionsOnly), ct),
            }, ct);
        }));

        var rollback = new Command("rollback", "Make the previously active model active again.") { reason, actor, redis, prefix, directory };
        security.AddTo(rollback);
        rollback.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => Rollback(r, p.GetValue(reason), ct, Actor(p, actor))));

        var deleteLegacy = new Option<bool>("--delete-legacy") { Description = "Also delete the old keys (and old heartbeats) once their copies exist: after every worker runs this release." };
        var migrate = new Command("migrate", "Copy a Redis registry written by a release before the Redis Cluster key layout (prefix:models:*) to the current one ({prefix}:models:*).") { deleteLegacy, redis, prefix };
        security.AddTo(migrate);
        migrate.SetAction((p, ct) => RunRedisOnly(p, redis, security, prefix, r => Migrate(r, p.GetValue(deleteLegacy), ct)));

        models.Subcommands.Add(push);
        models.Subcommands.Add(list);
        models.Subcommands.Add(status);
        models.Subcommands.Add(promote);
        models.Subcommands.Add(rollback);
        models.Subcommands.Add(migrate);
    }

    /// <summary>Pushes a package directory to the registry named by --redis / $ALERTBROKER_REDIS, else the directory registry.</summary>
    internal static async Task<int> PushTo(string? redisConfig, RedisOptions security, string prefix, string registryDirectory, string packageDirectory, CancellationToken cancellationToken)
    {
        redisConfig ??= DefaultEndpoints();
        if (string.IsNullOrEmpty(redisConfig))
        {
            return await Push(new DirectoryModelRegistry(registryDirectory), packageDirectory, cancellationToken).ConfigureAwait(false);
        }

        return await WithRedisRegistry(redisConfig, security, prefix, r => Push(r, packageDirectory, cancellationToken)).ConfigureAwait(false);
    }

    internal static async Task<int> Push(IModelRegistry registry, string directory, CancellationToken cancellationToken, string? actor = null)
    {
        var package = new ModelPackageBytes(
            await File.ReadAllBytesAsync(Path.Combine(directory, ModelPackage.ManifestFileName), cancellationToken).ConfigureAwait(false),
            await File.ReadAllBytesAsync(Path.Combine(directory, ModelPackage.OnnxFileName), cancellationToken).ConfigureAwait(false));

        // Refuse what no worker could serve before it is stored: the manifest, the hash, the encoding (implemented, and its
        // feature count, names and constants), and the graph's declared tensors against the scoring contract. Checked from the
        // files alone (no ONNX Runtime), so pushing works on a machine that cannot run the model.
        var problems = ModelPackage.Check(package.Manifest, package.Onnx, StepEncodings.Ids);
        if (problems.Count > 0)
        {
            CliHelpers.Stderr.MarkupLine($"[red]refused: {Markup.Escape(directory)} is not a package a worker can serve ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}):[/]");
            foreach (var problem in problems)
            {
                CliHelpers.Stderr.MarkupLine("  " + Markup.Escape(problem.ToString()));
            }

            return 1;
        }

        var model = await registry.PushAsync(package, actor ?? Environment.UserName, cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine($"pushed [bold]{Markup.Escape(model.Ref.ToString())}[/] sha256 {model.Sha256} ({Markup.Escape(model.Encoding)})");
        return 0;
    }

    internal static async Task<int> List(IModelRegistry registry, CancellationToken cancellationToken)
    {
        var active = await registry.GetActiveAsync(cancellationToken).ConfigureAwait(false);
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in new[] { "model", "active", "encoding", "classes", "metrics", "pushed", "sha256" })
        {
            table.AddColumn(c);
        }

        foreach (var m in await registry.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            table.AddRow(
                Markup.Escape(m.Ref.ToString()),
                active?.Ref == m.Ref ? "[green]active[/]" : string.Empty,
                Markup.Escape(m.Encoding),
                Markup.Escape(string.Join(", ", m.Classes)),
                Markup.Escape(string.Join(", ", m.Metrics.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:G4}")))),
                Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{m.PushedUtc:u} by {m.PushedBy}")),
                m.Sha256[..12]);
        }

        AnsiConsole.Write(table);
        return 0;
    }

    internal static async Task<int> Status(IModelRegistry registry, CancellationToken cancellationToken)
    {
        var active = await registry.GetActiveAsync(cancellationToken).ConfigureAwait(false);
        var previous = await registry.GetPreviousAsync(cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine(active is null
            ? "active model: [yellow](none)[/]"
            : $"active model: [bold]{Markup.Escape(active.Ref.ToString())}[/] since {active.SinceUtc.ToString("u", CultureInfo.InvariantCulture)} (sha256 {active.Sha256[..12]})");
        AnsiConsole.MarkupLine("rollback would restore: " + (previous is null ? "(nothing)" : Markup.Escape(previous.Ref.ToString())));

        var workers = await registry.GetWorkersAsync(s_liveWorker, cancellationToken).ConfigureAwait(false);
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]live workers[/]");
        table.AddColumn("worker");
        table.AddColumn("model");
        table.AddColumn("state");
        table.AddColumn("last heartbeat");
        foreach (var w in workers)
        {
            var behind = active is not null && w.Model != active.Ref.ToString();
            table.AddRow(
                Markup.Escape(w.WorkerId),
                Markup.Escape(w.Model ?? "(none)"),
                w.LastError is not null ? "[red]" + Markup.Escape(w.LastError) + "[/]" : behind ? "[yellow]not on the active model yet[/]" : "[green]ok[/]",
                w.Utc.ToString("u", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        var audit = await registry.GetAuditAsync(cancellationToken).ConfigureAwait(false);
        foreach (var r in audit.Skip(Math.Max(0, audit.Count - 5)))
        {
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Utc:u} {r.Action} {r.From ?? "(none)"} → {r.To} by {r.By}{(r.Forced ? " FORCED" : string.Empty)}: {r.Reason}")));
        }

        return 0;
    }

    internal static async Task<int> Promote(IModelRegistry registry, ModelRef model, PromotionOptions options, CancellationToken cancellationToken)
    {
        var result = await new ModelPromoter(registry).PromoteAsync(model, options, cancellationToken).ConfigureAwait(false);
        if (result.AlreadyActive)
        {
            // A promotion Job that runs again (or a repeated command) finds its work done: that is success, not a refusal.
            AnsiConsole.MarkupLine($"[green]{Markup.Escape(model.ToString())} is already the active model[/]: nothing to do");
            return 0;
        }

        foreach (var finding in result.Findings)
        {
            AnsiConsole.MarkupLine((finding.StartsWith("refused", StringComparison.Ordinal) ? "[red]" : "  [grey]") + Markup.Escape(finding) + "[/]");
        }

        AnsiConsole.MarkupLine(result.Promoted ? $"[green]promoted {Markup.Escape(model.ToString())}[/]" : $"[red]not promoted[/]");
        return result.Promoted ? 0 : 1;
    }

    internal static async Task<int> Rollback(IModelRegistry registry, string? reason, CancellationToken cancellationToken, string? actor = null)
    {
        var record = await new ModelPromoter(registry).RollbackAsync(actor ?? Environment.UserName, reason, cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine($"[green]rolled back[/] {Markup.Escape(record.From ?? "?")} → {Markup.Escape(record.To)}");
        return 0;
    }

    private static async Task<int> Run(ParseResult parse, Option<string?> redis, RedisCliOptions securityOptions, Option<string> prefix, Option<string> directory, Func<IModelRegistry, Task<int>> action)
    {
        var redisConfig = parse.GetValue(redis) ?? DefaultEndpoints();
        if (string.IsNullOrEmpty(redisConfig))
        {
            try
            {
                return await action(new DirectoryModelRegistry(parse.GetValue(directory)!)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RegistryException or IOException or FormatException)
            {
                CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(e.Message) + "[/]");
                return 1;
            }
        }

        var security = securityOptions.Read(parse);
        return security is null ? 2 : await WithRedisRegistry(redisConfig, security, parse.GetValue(prefix)!, action).ConfigureAwait(false);
    }

    internal static async Task<int> Migrate(RedisModelRegistry registry, bool deleteLegacy, CancellationToken cancellationToken)
    {
        var legacy = await registry.FindLegacyLayoutAsync().ConfigureAwait(false);
        if (legacy is null)
        {
            AnsiConsole.MarkupLine($"no registry in the old key layout under '{Markup.Escape(registry.Prefix)}:models:*': nothing to migrate");
            return 0;
        }

        AnsiConsole.MarkupLine($"old key layout found: {legacy.Models} version(s), active {Markup.Escape(legacy.Active ?? "(none)")}");
        var result = await registry.MigrateLegacyLayoutAsync(deleteLegacy, cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine($"copied {result.Copied.Count} key(s) to {{{Markup.Escape(registry.Prefix)}}}:…; left {result.Skipped.Count} that existed already" + (deleteLegacy ? $"; deleted {result.Deleted.Count} old key(s)" : string.Empty));
        if (!deleteLegacy)
        {
            AnsiConsole.MarkupLine("the old keys are still there for workers of the previous release; once every worker runs this one: [bold]models migrate --delete-legacy[/]");
        }

        return 0;
    }

    private static async Task<int> RunRedisOnly(ParseResult parse, Option<string?> redis, RedisCliOptions securityOptions, Option<string> prefix, Func<RedisModelRegistry, Task<int>> action)
    {
        var redisConfig = parse.GetValue(redis) ?? DefaultEndpoints();
        if (string.IsNullOrEmpty(redisConfig))
        {
            CliHelpers.Stderr.MarkupLine("[red]--redis is required[/] (or $ALERTBROKER_REDIS / $AlertBroker__Model__RegistryRedis): this command works on a Redis registry");
            return 2;
        }

        var security = securityOptions.Read(parse);
        return security is null ? 2 : await WithRedisRegistry(redisConfig, security, parse.GetValue(prefix)!, r => action((RedisModelRegistry)r), legacyHint: false).ConfigureAwait(false);
    }

    /// <summary>The registry's endpoints when --redis is not given: <c>$ALERTBROKER_REDIS</c>, else the worker's <c>AlertBroker__Model__RegistryRedis</c>.</summary>
    private static string? DefaultEndpoints() =>
        NullIfEmpty(Environment.GetEnvironmentVariable("ALERTBROKER_REDIS")) ?? NullIfEmpty(Environment.GetEnvironmentVariable("AlertBroker__Model__RegistryRedis"));

    internal static string DefaultPrefix() => NullIfEmpty(Environment.GetEnvironmentVariable("AlertBroker__Model__RegistryPrefix")) ?? "alertbroker";

    private static string Actor(ParseResult parse, Option<string?> actor) => NullIfEmpty(parse.GetValue(actor)) ?? Environment.UserName;

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    /// <summary>Connects through the one connection factory, runs the action, and turns failures into messages and exit codes.</summary>
    private static async Task<int> WithRedisRegistry(string endpoints, RedisOptions security, string prefix, Func<IModelRegistry, Task<int>> action, bool legacyHint = true)
    {
        try
        {
            using var connection = await RedisConnectionFactory.ConnectAsync(endpoints, security).ConfigureAwait(false);
            var registry = new RedisModelRegistry(connection, prefix);
            if (legacyHint && await registry.GetActiveAsync().ConfigureAwait(false) is null && await registry.FindLegacyLayoutAsync().ConfigureAwait(false) is { } legacy)
            {
                CliHelpers.Stderr.MarkupLine($"[yellow]this Redis holds a registry in the old key layout ({legacy.Models} version(s) under '{Markup.Escape(prefix)}:models:*', active {Markup.Escape(legacy.Active ?? "(none)")}), which this release does not read: run 'alertbroker models migrate' first (docs/deployment.md)[/]");
            }

            return await action(registry).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            CliHelpers.Stderr.MarkupLine((e.ParamName == "prefix" ? "[red]--prefix:[/] " : "[red]--redis:[/] ") + Markup.Escape(e.Message));
            return 2;
        }
        catch (RedisConnectionFailedException e)
        {
            CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(e.Message) + "[/]");
            return 4;
        }
        catch (Exception e) when (e is RegistryException or StackExchange.Redis.RedisException or TimeoutException or IOException or FormatException)
        {
            CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(RedisConnectionFactory.Redact(e.Message)) + "[/]");
            return 1;
        }
    }
}
