using System.CommandLine;
using System.Globalization;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;
using AlertBroker.Redis;
using AlertBroker.Registry;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker models push|list|status|promote|rollback|shadow|metadata|migrate</c>: the model registry, in Redis (<c>--redis</c>, else
/// <c>$ALERTBROKER_REDIS</c>, else <c>AlertBroker__Model__RegistryRedis</c>; user, password and TLS from <c>--redis-user</c>,
/// <c>--redis-password</c>/<c>$ALERTBROKER_REDIS_PASSWORD</c>, <c>--redis-tls</c>, <c>--redis-ca</c>, … over the worker's
/// <c>AlertBroker__Redis__*</c> variables) or in a local directory (<c>--registry</c>, default <c>models</c>). One endpoint or
/// several (a Redis Cluster's seed nodes). Exit codes: 0 done (including promoting the model that is already active),
/// 1 refused or failed (a registry record that is not JSON included), 2 usage errors (bad options, references or surveys,
/// a survey the model does not declare, invalid Redis settings, a --registry that is a file or does not exist), 3 a pushed package no worker
/// can serve, 4 Redis unreachable or refusing the credentials or the TLS handshake.
/// </summary>
internal static class RegistryCommands
{
    private static readonly TimeSpan s_liveWorker = TimeSpan.FromSeconds(60);

    public static void AddTo(Command models)
    {
        var redis = new Option<string?>("--redis") { Description = "Redis endpoint(s) (host:port, or a cluster's nodes comma-separated); the registry lives there. Default: $ALERTBROKER_REDIS, else $AlertBroker__Model__RegistryRedis, else a local directory." }.RedisEndpoints();
        var security = new RedisCliOptions();
        var prefix = new Option<string>("--prefix") { Description = "Redis key prefix (default: $AlertBroker__Model__RegistryPrefix, else alertbroker).", DefaultValueFactory = _ => DefaultPrefix() }.NotBlank();
        var actor = new Option<string?>("--actor") { Description = "Who does this, as recorded in the registry (pushed by / the audit trail). Default: the OS user." }.NotBlank();
        var directory = new Option<string>("--registry") { Description = "Local registry directory (used without --redis).", DefaultValueFactory = _ => "models" }.NotBlank();

        var dir = new Argument<string>("dir") { Description = "Package directory holding model.json and model.onnx." }.MustExist(PathKind.Directory);
        var push = new Command("push", "Register a model package (bytes, model.json, SHA-256, who and when).") { dir, actor, redis, prefix, directory };
        security.AddTo(push);
        push.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => Push(r, p.GetValue(dir)!, ct, Actor(p, actor)), creates: true));

        var list = new Command("list", "List registered model versions (and the surveys each is active or shadow for).") { redis, prefix, directory };
        security.AddTo(list);
        list.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => List(r, ct)));

        var json = new Option<bool>("--json") { Description = "Write the status as JSON (surveys, workers, recent audit records)." };
        var status = new Command("status", "Per survey: the active model, what a rollback would restore, the shadow and its agreement statistics, metadata sources and live workers; then the workers and recent changes.") { json, redis, prefix, directory };
        security.AddTo(status);
        status.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => Status(r, ct, p.GetValue(json))));

        var model = ModelReference(new Argument<string>("model") { Description = "NAME@VERSION" });
        var surveys = SurveyNames(new Option<string[]>("--survey") { Description = "Survey whose pointer moves (repeat for several; default: every survey the model declares in model.json).", AllowMultipleArgumentsPerToken = true });
        var force = new Option<bool>("--force") { Description = "Promote even if the metric check or the shadow requirement fails, or for a survey the model does not declare (recorded in the audit trail)." };
        var maxDrop = new Option<double>("--max-drop") { Description = "Largest allowed macro-AUROC drop against the active model on the holdout (0–1).", DefaultValueFactory = _ => 0.01 }.InRange(0.0, 1.0);
        var reason = new Option<string?>("--reason") { Description = "Why (recorded in the audit trail)." }.NotBlank();
        var holdout = new Option<string[]>("--holdout") { Description = "Labelled holdout data (CSV pair or alert archives, as for 'evaluate'): compare the candidate's macro AUROC with the active model's.", AllowMultipleArgumentsPerToken = true }.MustExist(PathKind.FileOrDirectory);
        var holdoutLabels = new Option<string?>("--holdout-labels") { Description = "Labels CSV (object id → class) when the holdout is alert archives." }.MustExist(PathKind.File);
        var detectionsOnly = new Option<bool>("--detections-only") { Description = "Use only detections (S/N ≥ 5) of the holdout light curves, as the models were trained." };
        var requireShadow = new Option<long>("--require-shadow") { Description = "Refuse unless the candidate was shadowed beside the survey's active model on at least N alerts (models shadow).", DefaultValueFactory = _ => 0 }.AtLeast(0L);
        var minAgreement = new Option<double?>("--min-agreement") { Description = "Refuse unless the shadow statistics show at least this top-class agreement with the active model (0–1)." }.InRange(0.0, 1.0);
        var promote = new Command("promote", "Check a registered model (loads, encoding supported, valid probabilities, metadata sources declared, holdout metric, shadow statistics) and make it the active model of its surveys.")
        {
            model, surveys, force, maxDrop, reason, actor, holdout, holdoutLabels, detectionsOnly, requireShadow, minAgreement, redis, prefix, directory,
        };
        security.AddTo(promote);

        // Without --holdout these were ignored: the promotion went ahead with no metric check at all.
        CliHelpers.OnlyWith(promote, [holdoutLabels, detectionsOnly], r => (r.GetValue(holdout) ?? []).Length > 0, name => $"{name} is for --holdout (the metric check on labelled data); without it no holdout is read");
        promote.SetAction((p, ct) => Run(p, redis, security, prefix, directory, async r =>
        {
            var holdoutPaths = p.GetValue(holdout) ?? [];
            DatasetHoldout? holdoutData = null;
            try
            {
                holdoutData = holdoutPaths.Length == 0 ? null : DatasetHoldout.Load(holdoutPaths, p.GetValue(holdoutLabels), p.GetValue(detectionsOnly), ct);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or FormatException or ArgumentException or UnauthorizedAccessException)
            {
                // A holdout that cannot be read ended in "unexpected error" (exit 70).
                CliHelpers.Stderr.MarkupLine($"[red]cannot read the holdout:[/] {Markup.Escape(ModelCli.OneLine(e))}");
                return 1;
            }

            return await Promote(r, ModelRef.Parse(p.GetValue(model)!), new PromotionOptions
            {
                Force = p.GetValue(force),
                MaxAurocDrop = p.GetValue(maxDrop),
                Reason = p.GetValue(reason),
                Surveys = Surveys(p.GetValue(surveys)),
                RequireShadowAlerts = p.GetValue(requireShadow),
                MinShadowAgreement = p.GetValue(minAgreement),
                By = Actor(p, actor),
                Holdout = holdoutData,
            }, ct).ConfigureAwait(false);
        }));

        var oneSurvey = new Option<string?>("--survey") { Description = "The survey (default: the only survey the registry has a model for)." }.NotBlank();
        oneSurvey.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? value) && value is not null && !string.IsNullOrWhiteSpace(value) && !RegistryNames.IsSurvey(value.ToLowerInvariant()))
            {
                result.AddError($"--survey: '{value}' is not a survey name (lower-case letters, digits and '-', e.g. ztf, lsst)");
            }
        });
        var rollback = new Command("rollback", "Make the survey's previously active model active again.") { oneSurvey, reason, actor, redis, prefix, directory };
        security.AddTo(rollback);
        rollback.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => Rollback(r, p.GetValue(oneSurvey), p.GetValue(reason), ct, Actor(p, actor))));

        var shadowModel = ModelReference(new Argument<string?>("model") { Description = "NAME@VERSION of the candidate (omit with --clear).", Arity = ArgumentArity.ZeroOrOne });
        var clear = new Option<bool>("--clear") { Description = "Stop shadowing in the survey(s) given with --survey." };
        var shadowForce = new Option<bool>("--force") { Description = "Shadow a survey the model does not declare (recorded in the audit trail)." };
        var shadow = new Command("shadow", "Make workers score every alert of the survey(s) with a candidate as well, publish its classifications to the shadow topic and keep agreement statistics (models status); --clear stops it.")
        {
            shadowModel, surveys, clear, shadowForce, reason, actor, redis, prefix, directory,
        };
        security.AddTo(shadow);
        shadow.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => p.GetValue(clear)
            ? ClearShadow(r, Surveys(p.GetValue(surveys)), p.GetValue(reason), ct, Actor(p, actor))
            : Shadow(r, p.GetValue(shadowModel), new ShadowOptions { Surveys = Surveys(p.GetValue(surveys)), Force = p.GetValue(shadowForce), Reason = p.GetValue(reason), By = Actor(p, actor) }, ct)));

        var deleteLegacy = new Option<bool>("--delete-legacy") { Description = "Also delete the old keys (and old heartbeats) once their copies exist: after every worker runs this release." };
        var migrate = new Command("migrate", "Copy a Redis registry written by a release before the Redis Cluster key layout (prefix:models:*) to the current one ({prefix}:models:*).") { deleteLegacy, redis, prefix };
        security.AddTo(migrate);
        migrate.SetAction((p, ct) => RunRedisOnly(p, redis, security, prefix, r => Migrate(r, p.GetValue(deleteLegacy), ct)));

        models.Subcommands.Add(push);
        models.Subcommands.Add(list);
        models.Subcommands.Add(status);
        models.Subcommands.Add(promote);
        models.Subcommands.Add(rollback);
        models.Subcommands.Add(shadow);
        models.Subcommands.Add(CreateMetadata(redis, security, prefix, directory, actor));
        models.Subcommands.Add(migrate);
    }

    private static Command CreateMetadata(Option<string?> redis, RedisCliOptions security, Option<string> prefix, Option<string> directory, Option<string?> actor)
    {
        var survey = new Option<string>("--survey") { Description = "The survey (ztf, lsst, …).", Required = true };
        var source = new Option<string>("--source") { Description = "The metadata source a model.json names (host-redshift, mw-ebv, …; lower-case letters, digits, '-', '_', '.'), or 'label' for the class labels shadow statistics use.", Required = true };
        var csv = new Option<string?>("--csv") { Description = "A CSV file on the workers' machines: a header row, object ids in object_id (or the first column), values in --column." };
        var column = new Option<string?>("--column") { Description = "The CSV column with the values (default: the source name)." };
        var hash = new Option<string?>("--redis-hash") { Description = "A Redis hash whose fields are object ids (in the workers' state Redis, or AlertBroker:Metadata:Redis)." };
        var reason = new Option<string?>("--reason") { Description = "Why (recorded in the audit trail)." }.NotBlank();
        var set = new Command("set", "Declare where the survey's workers find a metadata source (the promotion gate checks these; workers following the registry use them).") { survey, source, csv, column, hash, reason, actor, redis, prefix, directory };
        security.AddTo(set);
        set.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => SetMetadata(r, new MetadataSourceDeclaration
        {
            Survey = p.GetValue(survey)!,
            Source = p.GetValue(source)!,
            Csv = p.GetValue(csv) is { } path ? Path.GetFullPath(path) : null,
            Column = p.GetValue(column),
            RedisHash = p.GetValue(hash),
            By = Actor(p, actor),
            Utc = DateTimeOffset.UtcNow,
        }, p.GetValue(reason), ct)));

        var remove = new Command("remove", "Remove a metadata source declaration.") { survey, source, reason, actor, redis, prefix, directory };
        security.AddTo(remove);
        remove.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => RemoveMetadata(r, p.GetValue(survey)!, p.GetValue(source)!, p.GetValue(reason), ct, Actor(p, actor))));

        var list = new Command("list", "List the declared metadata sources.") { redis, prefix, directory };
        security.AddTo(list);
        list.SetAction((p, ct) => Run(p, redis, security, prefix, directory, r => ListMetadata(r, ct)));

        var metadata = new Command("metadata", "Per-survey metadata sources (host redshift, E(B−V), shadow labels): where workers find them.");
        metadata.Subcommands.Add(set);
        metadata.Subcommands.Add(remove);
        metadata.Subcommands.Add(list);
        return metadata;
    }

    /// <summary>NAME@VERSION is checked when the command line is parsed: a malformed reference is a usage error (exit 2), as a bad option is.</summary>
    private static Argument<T> ModelReference<T>(Argument<T> argument)
    {
        argument.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<T>() is string text && !IsModelRef(text))
            {
                result.AddError($"'{text}' is not NAME@VERSION (e.g. ztf-bts@2.7.0)");
            }
        });
        return argument;
    }

    // A name or version is a path segment of a directory registry: '..', '.', or one holding '/' or '\' ('ztf-bts@../2.7.0')
    // is no reference (it was "cannot be used as a model name or version", exit 1).
    private static bool IsModelRef(string text)
    {
        var at = text.LastIndexOf('@');
        return at > 0 && at < text.Length - 1 && !text.Any(char.IsControl) && IsSegment(text[..at]) && IsSegment(text[(at + 1)..]);

        static bool IsSegment(string s) => !string.IsNullOrWhiteSpace(s) && s is not ("." or "..") && s.IndexOfAny(['/', '\\']) < 0;
    }

    /// <summary>Every --survey value (comma-separated or repeated) must be a survey name: a usage error (exit 2) otherwise.</summary>
    private static Option<string[]> SurveyNames(Option<string[]> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit || !CliHelpers.TryGetValue(result, out string[]? values) || values is null)
            {
                return;
            }

            foreach (var value in values)
            {
                var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (names.Length == 0)
                {
                    result.AddError("--survey needs a survey name, not an empty string");
                }

                foreach (var name in names.Where(n => !RegistryNames.IsSurvey(n.ToLowerInvariant())))
                {
                    result.AddError($"--survey: '{name}' is not a survey name (lower-case letters, digits and '-', e.g. ztf, lsst)");
                }
            }
        });
        return option;
    }

    private static IReadOnlyList<string>? Surveys(string[]? values) =>
        values is { Length: > 0 } ? [.. values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(v => v.ToLowerInvariant())] : null;

    /// <summary>Pushes a package directory to the registry named by --redis / $ALERTBROKER_REDIS, else the directory registry.</summary>
    internal static async Task<int> PushTo(string? redisConfig, RedisOptions security, string prefix, string registryDirectory, string packageDirectory, CancellationToken cancellationToken)
    {
        var origin = EndpointsOrigin(redisConfig);
        redisConfig ??= DefaultEndpoints();
        if (string.IsNullOrEmpty(redisConfig))
        {
            return await Push(new DirectoryModelRegistry(registryDirectory), packageDirectory, cancellationToken).ConfigureAwait(false);
        }

        return await WithRedisRegistry(redisConfig, security, prefix, r => Push(r, packageDirectory, cancellationToken), origin: origin).ConfigureAwait(false);
    }

    private static bool Present(string path) => File.Exists(path) || Directory.Exists(path);

    internal static async Task<int> Push(IModelRegistry registry, string directory, CancellationToken cancellationToken, string? actor = null)
    {
        // A directory without one of the two files was .NET's "Could not find file '…/model.json'", exit 1; it is a package
        // no worker can serve, refused as the others below.
        var missing = new List<ModelPackageProblem>();
        IReadOnlyList<string> versions = [];
        // A directory in a file's place is read below and said as one ("is a directory, not a regular file"), as by
        // models inspect and priors.
        if (!Present(Path.Combine(directory, ModelPackage.ManifestFileName)))
        {
            missing.Add(ModelPackage.ManifestMissing(directory, out versions));
        }

        if (versions.Count == 0 && !Present(Path.Combine(directory, ModelPackage.OnnxFileName)))
        {
            missing.Add(new(ModelPackageProblemKind.MissingFile, $"{ModelPackage.OnnxFileName} is missing"));
        }

        var problems = missing;
        if (missing.Count == 0)
        {
            // Read together: a package swapped in while it is read (train --out over it) is read whole. A file that is not
            // a regular one (a named pipe, /dev/zero, a link to nothing) is a problem like the others (it was exit 70).
            ModelPackageBytes package;
            try
            {
                var (manifestBytes, onnxBytes) = ModelPackage.ReadFiles(directory);
                package = new ModelPackageBytes(manifestBytes, onnxBytes);
            }
            catch (ModelPackageException e)
            {
                return Refused(directory, e.Problems);
            }

            // Refuse what no worker could serve before it is stored: the manifest, the hash, the encoding (implemented, and its
            // feature count, names and constants), and the graph's declared tensors against the scoring contract. Checked from the
            // files alone (no ONNX Runtime), so pushing works on a machine that cannot run the model.
            problems = [.. ModelPackage.Check(package.Manifest, package.Onnx, StepEncodings.Ids)];
            if (problems.Count == 0)
            {
                var model = await registry.PushAsync(package, actor ?? Environment.UserName, cancellationToken).ConfigureAwait(false);
                AnsiConsole.MarkupLine($"pushed [bold]{Markup.Escape(model.Ref.ToString())}[/] sha256 {model.Sha256} ({Markup.Escape(model.Encoding)})");
                return 0;
            }
        }

        return Refused(directory, problems);
    }

    private static int Refused(string directory, IReadOnlyList<ModelPackageProblem> problems)
    {
        CliHelpers.Stderr.MarkupLine($"[red]refused: {Markup.Escape(directory)} is not a package a worker can serve ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}):[/]");
        foreach (var problem in problems)
        {
            CliHelpers.Stderr.MarkupLine("  " + Markup.Escape(problem.ToString()));
        }

        // A package no worker can serve is "a model cannot be used" (exit 3), as for every command that loads one.
        return ModelCli.ModelUnusableExitCode;
    }

    internal static async Task<int> List(IModelRegistry registry, CancellationToken cancellationToken)
    {
        var snapshot = await registry.GetSnapshotAsync(cancellationToken).ConfigureAwait(false);
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in new[] { "model", "surveys", "active for", "shadow for", "encoding", "classes", "metrics", "pushed", "sha256" })
        {
            table.AddColumn(c);
        }

        foreach (var m in await registry.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            var activeFor = snapshot.Surveys.Values.Where(p => p.Active?.Ref == m.Ref).Select(p => p.Survey);
            var shadowFor = snapshot.Surveys.Values.Where(p => p.Shadow?.Ref == m.Ref).Select(p => p.Survey);
            table.AddRow(
                Markup.Escape(m.Ref.ToString()),
                Markup.Escape(m.Surveys is null ? "(see model.json)" : string.Join(", ", m.Surveys)),
                "[green]" + Markup.Escape(string.Join(", ", activeFor)) + "[/]",
                "[blue]" + Markup.Escape(string.Join(", ", shadowFor)) + "[/]",
                Markup.Escape(m.Encoding),
                Markup.Escape(string.Join(", ", m.Classes)),
                Markup.Escape(string.Join(", ", m.Metrics.Select(kv => double.IsFinite(kv.Value) ? string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:G4}") : kv.Key + " –"))),
                Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{m.PushedUtc:u} by {m.PushedBy}")),
                m.Sha256[..12]);
        }

        AnsiConsole.Write(table);
        return 0;
    }

    internal static async Task<int> Status(IModelRegistry registry, CancellationToken cancellationToken, bool json = false)
    {
        var status = await RegistryStatus.ReadAsync(registry, s_liveWorker, auditTail: 10, cancellationToken).ConfigureAwait(false);

        // An active model whose stored package no worker could load (a damaged or deleted key) looked like any other: the
        // package is read and checked as a worker would, and such a model makes the exit code 1.
        var damaged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var active in status.Surveys.Select(s => s.Active).OfType<ActivePointer>().DistinctBy(a => a.Ref.ToString()))
        {
            if (await PackageProblemAsync(registry, active.Ref, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                damaged[active.Ref.ToString()] = problem;
            }
        }

        if (json)
        {
            Console.Out.WriteLine(status.ToJson());
            foreach (var (model, problem) in damaged)
            {
                CliHelpers.Stderr.MarkupLine($"[red]active model {Markup.Escape(model)} cannot be served:[/] {Markup.Escape(problem)}");
            }

            return damaged.Count > 0 ? 1 : 0;
        }

        var inv = CultureInfo.InvariantCulture;
        if (status.Surveys.Count == 0)
        {
            AnsiConsole.MarkupLine("active model: [yellow](none)[/] — push and promote one (alertbroker models push DIR; models promote NAME@VERSION)");
        }

        foreach (var s in status.Surveys)
        {
            AnsiConsole.MarkupLine($"[bold]survey {Markup.Escape(s.Survey)}[/]");
            AnsiConsole.MarkupLine(s.Active is null
                ? "  active model: [yellow](none)[/]"
                : $"  active model: [bold]{Markup.Escape(s.Active.Ref.ToString())}[/] since {s.Active.SinceUtc.ToString("u", inv)} (sha256 {s.Active.Sha256[..12]})"
                    + (damaged.TryGetValue(s.Active.Ref.ToString(), out var problem) ? $" [red]— its stored package cannot be served: {Markup.Escape(problem)}[/]" : string.Empty));
            AnsiConsole.MarkupLine("  rollback would restore: " + (s.Previous is null ? "(nothing)" : Markup.Escape(s.Previous.Ref.ToString())));
            if (s.Shadow is { } shadow)
            {
                AnsiConsole.MarkupLine($"  shadow: [blue]{Markup.Escape(shadow.Ref.ToString())}[/] since {shadow.SinceUtc.ToString("u", inv)}: "
                    + Markup.Escape(s.ShadowStatistics is { } st ? Describe(st) : "no alerts compared yet"));
            }
            else
            {
                AnsiConsole.MarkupLine("  shadow: (none)");
            }

            AnsiConsole.MarkupLine("  metadata sources: " + (s.MetadataSources.Count == 0 ? "(none)" : Markup.Escape(string.Join("; ", s.MetadataSources.Select(m => m.Source + ": " + m.Describe())))));
            AnsiConsole.MarkupLine(string.Create(inv, $"  live workers: {s.Workers}") + (s.Active is null ? string.Empty : string.Create(inv, $", {s.WorkersOnActive} on the active model")));
        }

        var surveyNames = status.Surveys.Select(s => s.Survey).ToList();
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]live workers[/]");
        table.AddColumn("worker");
        foreach (var name in surveyNames)
        {
            table.AddColumn(name);
        }

        table.AddColumn("shadows");
        table.AddColumn("state");
        table.AddColumn("last heartbeat");
        foreach (var w in status.Workers)
        {
            var cells = new List<string> { Markup.Escape(w.WorkerId) };
            var behind = false;
            foreach (var s in status.Surveys)
            {
                var m = RegistryStatus.ModelOf(w, s.Survey);
                behind |= m is not null && s.Active is not null && m != s.Active.Ref.ToString();
                cells.Add(Markup.Escape(m ?? "-"));
            }

            cells.Add(Markup.Escape(w.Shadows is { Count: > 0 } sh ? string.Join(", ", sh.Select(kv => kv.Key + "=" + kv.Value)) : "-"));
            cells.Add(w.LastError is not null ? "[red]" + Markup.Escape(w.LastError) + "[/]" : behind ? "[yellow]not on the active model yet[/]" : "[green]ok[/]");
            cells.Add(w.Utc.ToString("u", inv));
            table.AddRow([.. cells]);
        }

        AnsiConsole.Write(table);
        foreach (var r in status.Audit)
        {
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(
                inv,
                $"{r.Utc:u} {r.Survey ?? "-"} {r.Action} {r.From ?? "(none)"} → {(r.To.Length == 0 ? "(none)" : r.To)} by {r.By}{(r.Forced ? " FORCED" : string.Empty)}: {r.Reason}")));
        }

        return damaged.Count > 0 ? 1 : 0;
    }

    // Why a registered model's stored package could not be served (null: it could), checked from its bytes as push checks a
    // directory: readable and whole (the registry's hash), manifest, encoding, the graph's tensors.
    private static async Task<string?> PackageProblemAsync(IModelRegistry registry, ModelRef model, CancellationToken cancellationToken)
    {
        try
        {
            var package = await registry.GetPackageAsync(model, cancellationToken).ConfigureAwait(false);
            var problems = ModelPackage.Check(package.Manifest, package.Onnx, StepEncodings.Ids);
            return problems.Count == 0 ? null : problems[0] + (problems.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (and {problems.Count - 1} more)") : string.Empty);
        }
        catch (RegistryException e)
        {
            return e.Message;
        }
    }

    internal static async Task<int> Promote(IModelRegistry registry, ModelRef model, PromotionOptions options, CancellationToken cancellationToken)
    {
        var result = await new ModelPromoter(registry).PromoteAsync(model, options, cancellationToken).ConfigureAwait(false);
        if (result.AlreadyActive)
        {
            // A promotion Job that runs again (or a repeated command) finds its work done: that is success, not a refusal.
            AnsiConsole.MarkupLine($"[green]{Markup.Escape(model.ToString())} is already the active model[/] of every survey asked for: nothing to do");
            return 0;
        }

        WriteFindings(result);
        AnsiConsole.MarkupLine(result.Promoted
            ? $"[green]promoted {Markup.Escape(model.ToString())}[/] for {Markup.Escape(string.Join(", ", result.Records.Select(r => r.Survey)))}"
            : "[red]not promoted[/] (no survey's pointer was moved)");
        return result.Promoted ? 0 : result.Refusal == PromotionRefusal.Request ? 2 : 1;
    }

    internal static async Task<int> Rollback(IModelRegistry registry, string? survey, string? reason, CancellationToken cancellationToken, string? actor = null)
    {
        // Which survey to roll back is the caller's to say when several have models: a usage error (exit 2), as shadow
        // --clear without --survey is (it was exit 1, as if the registry had refused).
        if (survey is null && await registry.GetSurveysAsync(cancellationToken).ConfigureAwait(false) is { Count: > 1 } several)
        {
            CliHelpers.Stderr.MarkupLine($"[red]models rollback:[/] several surveys have models ({Markup.Escape(string.Join(", ", several))}): choose one with --survey");
            return 2;
        }

        survey = await OneSurveyAsync(registry, survey, cancellationToken).ConfigureAwait(false);
        var record = await new ModelPromoter(registry).RollbackAsync(survey, actor ?? Environment.UserName, reason, cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine($"[green]rolled back[/] {Markup.Escape(survey)}: {Markup.Escape(record.From ?? "?")} → {Markup.Escape(record.To)}");
        return 0;
    }

    internal static async Task<int> Shadow(IModelRegistry registry, string? model, ShadowOptions options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            CliHelpers.Stderr.MarkupLine("[red]models shadow:[/] give NAME@VERSION, or --clear --survey S");
            return 2;
        }

        var result = await new ModelPromoter(registry).ShadowAsync(ModelRef.Parse(model), options, cancellationToken).ConfigureAwait(false);
        WriteFindings(result);
        AnsiConsole.MarkupLine(result.Promoted ? $"[green]shadowing {Markup.Escape(model)}[/] in {Markup.Escape(string.Join(", ", result.Records.Select(r => r.Survey)))}" : "[red]not shadowed[/]");
        return result.Promoted ? 0 : result.Refusal == PromotionRefusal.Request ? 2 : 1;
    }

    internal static async Task<int> ClearShadow(IModelRegistry registry, IReadOnlyList<string>? surveys, string? reason, CancellationToken cancellationToken, string? actor = null)
    {
        if (surveys is not { Count: > 0 })
        {
            CliHelpers.Stderr.MarkupLine("[red]models shadow --clear:[/] name the survey(s) with --survey");
            return 2;
        }

        var promoter = new ModelPromoter(registry);
        foreach (var survey in surveys)
        {
            var record = await promoter.ClearShadowAsync(RegistryNames.CheckSurvey(survey), actor ?? Environment.UserName, reason, cancellationToken).ConfigureAwait(false);
            AnsiConsole.MarkupLine(record is null ? $"{Markup.Escape(survey)}: no shadow to clear" : $"[green]{Markup.Escape(survey)}: stopped shadowing {Markup.Escape(record.From ?? "?")}[/]");
        }

        return 0;
    }

    internal static async Task<int> SetMetadata(IModelRegistry registry, MetadataSourceDeclaration declaration, string? reason, CancellationToken cancellationToken)
    {
        if (declaration.Validate() is { } problem)
        {
            CliHelpers.Stderr.MarkupLine("[red]models metadata set:[/] " + Markup.Escape(problem));
            return 2;
        }

        if (declaration.Csv is { } csv && !File.Exists(csv))
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]note:[/] {Markup.Escape(csv)} does not exist here; it must exist on every worker's machine");
        }

        // Not refused: a model pushed later (an external one) may declare a source of its own. But a name that neither the
        // project nor any model in the registry uses is most likely a typo, and its declaration would serve nothing.
        if (declaration.Source is not (MetadataSourceDeclaration.LabelSource or MetadataSources.HostRedshift or MetadataSources.MilkyWayEbv)
            && !(await registry.ListAsync(cancellationToken).ConfigureAwait(false)).Any(m => m.MetadataSources?.Contains(declaration.Source, StringComparer.Ordinal) == true))
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]warning:[/] no model in this registry declares the metadata source '{Markup.Escape(declaration.Source)}' (known: host-redshift, mw-ebv, label); declared anyway, for a model still to be pushed");
        }

        // The audit names what a replaced declaration said (it read "(none) →" before).
        var existing = (await registry.GetMetadataSourcesAsync(cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(d => d.Survey == declaration.Survey && d.Source == declaration.Source);
        var record = new PromotionRecord { Action = "metadata-set", Survey = declaration.Survey, Utc = declaration.Utc, From = existing is null ? null : existing.Source + ": " + existing.Describe(), To = declaration.Source + ": " + declaration.Describe(), Reason = reason, By = declaration.By ?? Environment.UserName };
        await registry.SetMetadataSourceAsync(declaration, record, cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine($"[green]{Markup.Escape(declaration.Survey)}/{Markup.Escape(declaration.Source)}[/]: {Markup.Escape(declaration.Describe())}");
        return 0;
    }

    internal static async Task<int> RemoveMetadata(IModelRegistry registry, string survey, string source, string? reason, CancellationToken cancellationToken, string? actor = null)
    {
        // The promotion gate no one can override (a model that needs metadata only where a source supplies it) was undone
        // by removing the source under the model: every worker then refused the active model.
        if (await new ModelPromoter(registry).ModelsNeedingSourceAsync(survey, source, cancellationToken).ConfigureAwait(false) is { Count: > 0 } needing)
        {
            CliHelpers.Stderr.MarkupLine($"[red]refused:[/] {Markup.Escape(string.Join(" and ", needing))} needs {Markup.Escape(survey)}/{Markup.Escape(source)}: promote (or roll back to) a model that does not, or clear the shadow, before removing its source");
            return 1;
        }

        var record = new PromotionRecord { Action = "metadata-remove", Survey = survey, Utc = DateTimeOffset.UtcNow, From = source, To = string.Empty, Reason = reason, By = actor ?? Environment.UserName };
        var removed = await registry.RemoveMetadataSourceAsync(survey, source, record, cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine(removed ? $"removed {Markup.Escape(survey)}/{Markup.Escape(source)}" : $"[yellow]{Markup.Escape(survey)}/{Markup.Escape(source)} was not declared[/]");
        return removed ? 0 : 1;
    }

    internal static async Task<int> ListMetadata(IModelRegistry registry, CancellationToken cancellationToken)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("survey").AddColumn("source").AddColumn("where").AddColumn("declared");
        foreach (var d in await registry.GetMetadataSourcesAsync(cancellationToken).ConfigureAwait(false))
        {
            table.AddRow(Markup.Escape(d.Survey), Markup.Escape(d.Source), Markup.Escape(d.Describe()), Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{d.Utc:u} by {d.By}")));
        }

        AnsiConsole.Write(table);
        return 0;
    }

    private static string Describe(ShadowSummary s)
    {
        var inv = CultureInfo.InvariantCulture;
        if (s.Alerts == 0)
        {
            return "no alerts compared yet";
        }

        var text = string.Create(inv, $"{s.Alerts:N0} alerts compared, top-class agreement {s.Agreement:F3}; mean |Δp| ")
            + string.Join(", ", s.MeanAbsDiff.Select(kv => string.Create(inv, $"{kv.Key} {kv.Value:F3}")));
        return s.Labelled > 0
            ? text + string.Create(inv, $"; {s.Labelled:N0} labelled: macro AUROC candidate {s.CandidateMacroAuroc:F3}, active {s.ActiveMacroAuroc:F3}")
            : text + "; no labelled alerts (declare a 'label' source for AUROC)";
    }

    private static void WriteFindings(PromotionResult result)
    {
        foreach (var finding in result.Findings)
        {
            AnsiConsole.MarkupLine((finding.StartsWith("refused", StringComparison.Ordinal) ? "[red]" : "  [grey]") + Markup.Escape(finding) + "[/]");
        }
    }

    private static async Task<string> OneSurveyAsync(IModelRegistry registry, string? survey, CancellationToken cancellationToken)
    {
        if (survey is not null)
        {
            return RegistryNames.CheckSurvey(survey.ToLowerInvariant());
        }

        var surveys = await registry.GetSurveysAsync(cancellationToken).ConfigureAwait(false);
        return surveys.Count == 1
            ? surveys[0]
            : throw new RegistryException(surveys.Count == 0 ? "no model is active (no survey has an active model)" : $"several surveys have models ({string.Join(", ", surveys)}): choose one with --survey");
    }

    // creates: the command makes the directory registry when it does not exist yet (push); the others refuse a missing one.
    private static async Task<int> Run(ParseResult parse, Option<string?> redis, RedisCliOptions securityOptions, Option<string> prefix, Option<string> directory, Func<IModelRegistry, Task<int>> action, bool creates = false)
    {
        // Both on the command line: the Redis registry was used and --registry ignored without a word (models push put the
        // package in Redis, not in the directory named).
        if (parse.GetValue(redis) is not null && parse.GetResult(directory) is { Implicit: false })
        {
            CliHelpers.Stderr.MarkupLine("[red]--redis and --registry are two registries:[/] give one (--redis for the registry in Redis, --registry for a directory registry)");
            return 2;
        }

        // A --registry on the command line wins over $ALERTBROKER_REDIS / AlertBroker__Model__RegistryRedis, as every option
        // wins over the environment (with the variable set, 'models push X --registry DIR' pushed to Redis).
        var redisConfig = parse.GetValue(redis) ?? (parse.GetResult(directory) is { Implicit: false } ? null : DefaultEndpoints());
        if (string.IsNullOrEmpty(redisConfig))
        {
            var path = parse.GetValue(directory)!;
            if (File.Exists(path))
            {
                // Before: "no registry directory X" (it exists), or .NET's "Could not find a part of the path …/.registry/models".
                CliHelpers.Stderr.MarkupLine($"[red]--registry {Markup.Escape(path)} is a file:[/] no registry directory there (a directory registry is a directory: models push creates one; or give --redis)");
                return 2;
            }

            if (!creates && !Directory.Exists(path))
            {
                // A mistyped --registry would otherwise read as an empty registry (or be created by a write). A usage
                // error (2), as run's --model-registry-dir and score's --registry say of the same mistake (it was 1).
                CliHelpers.Stderr.MarkupLine($"[red]no registry directory {Markup.Escape(path)}[/] (models push creates one; or give --redis)");
                return 2;
            }

            try
            {
                return await action(new DirectoryModelRegistry(path)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RegistryException or IOException or FormatException or UnauthorizedAccessException)
            {
                // UnauthorizedAccessException: a registry folder this user may not write (read-only, /sys): it was exit 70.
                CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(e.Message) + "[/]");
                return 1;
            }
        }

        var security = securityOptions.Read(parse);
        return security is null ? 2 : await WithRedisRegistry(redisConfig, security, parse.GetValue(prefix)!, action, origin: EndpointsOrigin(parse.GetValue(redis))).ConfigureAwait(false);
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
        return security is null ? 2 : await WithRedisRegistry(redisConfig, security, parse.GetValue(prefix)!, r => action((RedisModelRegistry)r), legacyHint: false, origin: EndpointsOrigin(parse.GetValue(redis))).ConfigureAwait(false);
    }

    /// <summary>The registry's endpoints when --redis is not given: <c>$ALERTBROKER_REDIS</c>, else the worker's <c>AlertBroker__Model__RegistryRedis</c>.</summary>
    private static string? DefaultEndpoints() =>
        NullIfEmpty(Environment.GetEnvironmentVariable("ALERTBROKER_REDIS")) ?? NullIfEmpty(Environment.GetEnvironmentVariable("AlertBroker__Model__RegistryRedis"));

    /// <summary>Where the endpoints came from, as an error message names it: the option, else the variable that supplied them.</summary>
    private static string EndpointsOrigin(string? given) =>
        given is not null ? "--redis"
        : NullIfEmpty(Environment.GetEnvironmentVariable("ALERTBROKER_REDIS")) is not null ? "--redis ($ALERTBROKER_REDIS)"
        : "--redis ($AlertBroker__Model__RegistryRedis)";

    internal static string DefaultPrefix() => NullIfEmpty(Environment.GetEnvironmentVariable("AlertBroker__Model__RegistryPrefix")) ?? "alertbroker";

    private static string Actor(ParseResult parse, Option<string?> actor) => NullIfEmpty(parse.GetValue(actor)) ?? Environment.UserName;

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    internal static async Task<IReadOnlyList<string>> FindMistypedKeysQuietlyAsync(RedisModelRegistry registry)
    {
        try
        {
            return await registry.FindMistypedKeysAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            // A user whose ACL forbids KEYS or SCAN: the error is said without the key.
            return [];
        }
    }

    /// <summary>Connects through the one connection factory, runs the action, and turns failures into messages and exit codes.</summary>
    private static async Task<int> WithRedisRegistry(string endpoints, RedisOptions security, string prefix, Func<IModelRegistry, Task<int>> action, bool legacyHint = true, string origin = "--redis")
    {
        StackExchange.Redis.IConnectionMultiplexer? connection = null;
        RedisModelRegistry? registry = null;
        try
        {
            try
            {
                connection = await RedisConnectionFactory.ConnectAsync(endpoints, security).ConfigureAwait(false);
                registry = new RedisModelRegistry(connection, prefix);
            }
            catch (ArgumentException e)
            {
                // Only the endpoints and the prefix are blamed: an ArgumentException from the command's own work (a record
                // that could not be written) was reported as "--redis: …", exit 2.
                CliHelpers.Stderr.MarkupLine((e.ParamName == "prefix" ? "[red]--prefix:[/] " : $"[red]{Markup.Escape(origin)}:[/] ") + Markup.Escape(CliHelpers.PlainMessage(e)));
                return 2;
            }

            if (legacyHint && (await registry.GetSurveysAsync().ConfigureAwait(false)).Count == 0 && await registry.FindLegacyLayoutAsync().ConfigureAwait(false) is { } legacy)
            {
                CliHelpers.Stderr.MarkupLine($"[yellow]this Redis holds a registry in the old key layout ({legacy.Models} version(s) under '{Markup.Escape(prefix)}:models:*', active {Markup.Escape(legacy.Active ?? "(none)")}), which this release does not read: run 'alertbroker models migrate' first (docs/deployment.md)[/]");
            }

            return await action(registry).ConfigureAwait(false);
        }
        catch (RedisConnectionFailedException e)
        {
            CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(e.Message) + "[/]");
            return 4;
        }
        catch (StackExchange.Redis.RedisServerException e) when (registry is not null && RedisErrors.IsWrongType(e))
        {
            // "WRONGTYPE Operation against a key holding the wrong kind of value" names no key: find it.
            var mistyped = await FindMistypedKeysQuietlyAsync(registry).ConfigureAwait(false);
            CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(e.Message) + "[/]");
            foreach (var line in mistyped)
            {
                CliHelpers.Stderr.MarkupLine("  " + Markup.Escape(line));
            }

            CliHelpers.Stderr.MarkupLine(Markup.Escape($"Another program writes under the registry's prefix '{prefix}': give the registry a prefix of its own (--prefix, AlertBroker:Model:RegistryPrefix), or delete the key if it is not needed."));
            return 1;
        }
        catch (StackExchange.Redis.RedisServerException e) when (RedisErrors.IsNoPermission(e))
        {
            // "NOPERM this user has no permissions to access one of the keys used as arguments" says neither which keys nor
            // what to grant. A registry script's keys are checked before it runs, so such a write changed nothing.
            CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(RedisErrors.Brief(e)) + "[/]");
            CliHelpers.Stderr.MarkupLine(Markup.Escape($"The Redis user may not use the registry's keys ({{{prefix}}}:*): a models command that changes the registry needs its ACL to allow reading and writing them (~{{{prefix}}}:*) and publishing on &{{{prefix}}}:models:events; the read-only ones (list, status, metadata list) need reading only."));
            return 1;
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisTimeoutException or StackExchange.Redis.RedisConnectionException)
        {
            // Redis stopped answering (a timeout, a lost connection) after the command had started: a script sent may or
            // may not have run. Until 2026-12-08 this was the client's raw message ("Timeout awaiting response
            // (outbound=4KiB …)"), exit 1, though the pointer may have moved: now it is what it is, an unreachable
            // service (exit 4, as at connect), and the operator is told to look before trying again.
            CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape($"the registry's Redis stopped answering ({(e is StackExchange.Redis.RedisTimeoutException ? "timeout" : "connection lost")}): whether this command's change was made is unknown; check with 'alertbroker models status' before trying again") + "[/]");
            CliHelpers.Stderr.MarkupLine("  " + Markup.Escape(RedisErrors.Brief(e)));
            return 4;
        }
        catch (Exception e) when (e is RegistryException or StackExchange.Redis.RedisException or TimeoutException or IOException or FormatException)
        {
            CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(RedisWriteRefusal.Describe(e) ?? RedisErrors.Brief(e)) + "[/]");
            return 1;
        }
        finally
        {
            connection?.Dispose();
        }
    }
}
