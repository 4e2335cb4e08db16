using System.CommandLine;
using System.Globalization;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;
using AlertBroker.Redis;
using AlertBroker.Registry;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker models push|list|status|promote|rollback</c>: the model registry, in Redis (<c>--redis</c>, with
/// <c>--redis-user</c>, <c>--redis-password</c>/<c>$ALERTBROKER_REDIS_PASSWORD</c>, <c>--redis-tls</c>, <c>--redis-ca</c>, …)
/// or in a local directory (<c>--registry</c>, default <c>models</c>). Exit codes: 0 done, 1 refused or failed,
/// 2 invalid Redis settings, 4 Redis unreachable or refusing the credentials.
/// </summary>
internal static class RegistryCommands
{
    private static readonly TimeSpan s_liveWorker = TimeSpan.FromSeconds(60);

    public static void AddTo(Command models)
    {
        var redis = new Option<string?>("--redis") { Description = "Redis endpoint (host:port); the registry lives there. Default: $ALERTBROKER_REDIS, else a local directory." };
        var security = new RedisCliOptions();
        var prefix = new Option<string>("--prefix") { Description = "Redis key prefix.", DefaultValueFactory = _ => "alertbroker" };
        var directory = new Option<string>("--registry") { Description = "Local registry directory (used without --redis).", DefaultValueFactory = _ => "models" };

        var dir = new Argument<string>("dir") { Description = "Package directory holding model.json and model.onnx." };
        var push = new Command("push", "Register a model package (bytes, model.json, SHA-256, who and when).") { dir, redis, prefix, directory };
        security.AddTo(push);
        push.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => Push(r, p.GetValue(dir)!, ct)));

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
            model, force, maxDrop, reason, holdout, holdoutLabels, detectionsOnly, redis, prefix, directory,
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
                Holdout = holdoutPaths.Length == 0 ? null : DatasetHoldout.Load(holdoutPaths, p.GetValue(holdoutLabels), p.GetValue(detectionsOnly), ct),
            }, ct);
        }));

        var rollback = new Command("rollback", "Make the previously active model active again.") { reason, redis, prefix, directory };
        security.AddTo(rollback);
        rollback.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => Rollback(r, p.GetValue(reason), ct)));

        models.Subcommands.Add(push);
        models.Subcommands.Add(list);
        models.Subcommands.Add(status);
        models.Subcommands.Add(promote);
        models.Subcommands.Add(rollback);
    }

    /// <summary>Pushes a package directory to the registry named by --redis / $ALERTBROKER_REDIS, else the directory registry.</summary>
    internal static async Task<int> PushTo(string? redisConfig, RedisOptions security, string prefix, string registryDirectory, string packageDirectory, CancellationToken cancellationToken)
    {
        redisConfig ??= Environment.GetEnvironmentVariable("ALERTBROKER_REDIS");
        if (string.IsNullOrEmpty(redisConfig))
        {
            return await Push(new DirectoryModelRegistry(registryDirectory), packageDirectory, cancellationToken).ConfigureAwait(false);
        }

        return await WithRedisRegistry(redisConfig, security, prefix, r => Push(r, packageDirectory, cancellationToken)).ConfigureAwait(false);
    }

    internal static async Task<int> Push(IModelRegistry registry, string directory, CancellationToken cancellationToken)
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

        var model = await registry.PushAsync(package, Environment.UserName, cancellationToken).ConfigureAwait(false);
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
        foreach (var finding in result.Findings)
        {
            AnsiConsole.MarkupLine((finding.StartsWith("refused", StringComparison.Ordinal) ? "[red]" : "  [grey]") + Markup.Escape(finding) + "[/]");
        }

        AnsiConsole.MarkupLine(result.Promoted ? $"[green]promoted {Markup.Escape(model.ToString())}[/]" : $"[red]not promoted[/]");
        return result.Promoted ? 0 : 1;
    }

    internal static async Task<int> Rollback(IModelRegistry registry, string? reason, CancellationToken cancellationToken)
    {
        var record = await new ModelPromoter(registry).RollbackAsync(Environment.UserName, reason, cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine($"[green]rolled back[/] {Markup.Escape(record.From ?? "?")} → {Markup.Escape(record.To)}");
        return 0;
    }

    private static async Task<int> Run(ParseResult parse, Option<string?> redis, RedisCliOptions securityOptions, Option<string> prefix, Option<string> directory, Func<IModelRegistry, Task<int>> action)
    {
        var redisConfig = parse.GetValue(redis) ?? Environment.GetEnvironmentVariable("ALERTBROKER_REDIS");
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

    /// <summary>Connects through the one connection factory, runs the action, and turns failures into messages and exit codes.</summary>
    private static async Task<int> WithRedisRegistry(string endpoints, RedisOptions security, string prefix, Func<IModelRegistry, Task<int>> action)
    {
        try
        {
            using var connection = await RedisConnectionFactory.ConnectAsync(endpoints, security).ConfigureAwait(false);
            return await action(new RedisModelRegistry(connection, prefix)).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            CliHelpers.Stderr.MarkupLine("[red]--redis:[/] " + Markup.Escape(e.Message));
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
