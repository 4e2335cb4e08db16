using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using AlertBroker.Redis;
using AlertBroker.Registry;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker score --model DIR PATH…</c>: decode alerts, group them by object, encode each object's whole light
/// curve with the model's encoding and score it from scratch with the model.
/// </summary>
internal static class ScoreCommand
{
    private const int BatchSize = 256;

    public static Command Create()
    {
        var model = ModelsCommand.PackageDirectory(new Option<string[]>("--model") { Description = "Model package directory (models/<name>/<version>); one scores every object; repeat --model for several, each scoring the surveys it declares (two declaring the same survey are refused). Default: per survey the registry's active model, else the newest package under models/ declaring it." });
        var paths = CliHelpers.PathsArgument("Alert files, directories or nightly archives.");
        var jsonl = new Option<bool>("--jsonl") { Description = "One JSON object per object per line instead of a table." };
        var device = ModelCli.DeviceOption();
        var registry = new Option<string>("--registry") { Description = "Directory registry whose active models are used without --model (when it has a .registry), and where packages are looked for.", DefaultValueFactory = _ => "models" }.MustExist(PathKind.Directory);
        var redis = new Option<string?>("--redis") { Description = "Use the active models of the registry in this Redis (default: $ALERTBROKER_REDIS) without --model; with --redis-user, --redis-tls, …" }.RedisEndpoints();
        var prefix = new Option<string>("--prefix") { Description = "Redis key prefix of the registry.", DefaultValueFactory = _ => "alertbroker" }.NotBlank();
        var security = new RedisCliOptions();
        var detectionsOnly = new Option<bool>("--detections-only") { Description = "Score each object's detections only, whatever the model was trained on (a diagnostic; by default every model is fed what the worker feeds it: detections only when model.json says it was trained on detections only, else detections and forced photometry)." };
        var minDetections = new Option<int>("--min-detections") { Description = "Call an object a transient candidate only once it has at least N detections up to its newest alert, in all its alerts read (as run --min-detections: 1 to 1000; default 1).", DefaultValueFactory = _ => 1 }.InRange(1, 1000);
        var schemaRegistry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption().MustExist(PathKind.Directory);
        var command = new Command("score", "Score the objects in alert files from scratch and print each object's class probabilities, the model that gave them and whether its newest alert is a transient candidate (the worker publishes probabilities only for those; score scores every object) (exit 3 when a model cannot be used).") { model, paths, jsonl, device, registry, redis, prefix, detectionsOnly, minDetections, schemaRegistry, schemaDir };
        security.AddTo(command);
        CliHelpers.OneSchemaSource(command, schemaRegistry, schemaDir);

        // What picks the models without --model: with it, they were ignored without a word (--redis to a server that does
        // not answer, exit 0).
        CliHelpers.OnlyWith(
            command,
            [registry, redis, prefix, security.User, security.Password, security.Tls, security.Ca, security.Certificate, security.Key],
            result => result.GetResult(model) is not { Implicit: false },
            name => $"{name} picks the models from a registry; --model names them: give one or the other");
        command.SetAction(async (parse, ct) =>
        {
            // Confluent-wire files (Rubin alerts saved from Kafka) need their schemas, as for inspect and replay.
            var decoder = CliHelpers.CreateDecoder(parse.GetValue(schemaRegistry), parse.GetValue(schemaDir), inputs: parse.GetValue(paths));
            var models = parse.GetValue(model) ?? [];
            if (models.Length > 0)
            {
                return Run(models, parse.GetValue(paths)!, parse.GetValue(jsonl), Console.Out, ct, parse.GetValue(device), parse.GetValue(detectionsOnly), parse.GetValue(minDetections), decoder);
            }

            // An explicit --registry wins over $ALERTBROKER_REDIS, as in the models commands.
            var redisConfig = parse.GetValue(redis) ?? (parse.GetResult(registry) is { Implicit: false } ? null : Environment.GetEnvironmentVariable("ALERTBROKER_REDIS"));
            var redisOptions = string.IsNullOrEmpty(redisConfig) ? RedisOptions.None : security.Read(parse);
            if (redisOptions is null)
            {
                return 2;
            }

            return await RunDefaultAsync(parse.GetValue(registry)!, redisConfig, redisOptions, parse.GetValue(prefix)!, parse.GetValue(paths)!, parse.GetValue(jsonl), Console.Out, ct, parse.GetValue(device), parse.GetValue(detectionsOnly), parse.GetValue(minDetections), decoder).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>One object's observations gathered from its alerts.</summary>
    internal sealed record ObjectObservations(string ObjectId, Survey Survey, List<Observation> Observations)
    {
        /// <summary>The object's newest alert (by MJD): what the worker's transient-candidate check would judge now.</summary>
        public Alert? Latest { get; set; }

        private readonly HashSet<(long, ObservationKind)> _seen = [];

        /// <summary>
        /// Adds the observations not already held, by (source id, kind) as the worker's stored light curve merges them: an
        /// alert repeats its object's earlier photometry, and one file given twice repeated all of it (the "observations"
        /// column counted each copy).
        /// </summary>
        public void Add(Observation[] observations)
        {
            foreach (var o in observations)
            {
                if (_seen.Add((o.SourceId, o.Kind)))
                {
                    Observations.Add(o);
                }
            }
        }
    }

    /// <summary>One object's score, and the model that gave it.</summary>
    internal sealed record ObjectScore(string ObjectId, Survey Survey, double LastMjd, int Observations, int Steps, float[] Probabilities)
    {
        public string Model { get; init; } = string.Empty;

        /// <summary>Why the object's newest alert is not a transient candidate (the worker would publish it without probabilities); null when it is.</summary>
        public CandidateRejection? NotCandidate { get; init; }

        public IReadOnlyList<string> Classes { get; init; } = [];

        /// <summary>
        /// Why the model's output for the object is not a probability distribution (e.g. "class 0 is NaN"), when it is not:
        /// <see cref="Probabilities"/> is then empty and the object is written without them (the worker publishes it so).
        /// </summary>
        public string? InvalidOutput { get; init; }
    }

    /// <summary>Exit 0 when objects were scored, 1 when none could be, 3 when the model (or ONNX Runtime) cannot be used.</summary>
    public static int Run(string modelDirectory, IReadOnlyList<string> paths, bool jsonl, TextWriter output, CancellationToken cancellationToken, string? device = null, bool detectionsOnly = false, int minDetections = 1) =>
        Run([modelDirectory], paths, jsonl, output, cancellationToken, device, detectionsOnly, minDetections);

    /// <summary>With one package: it scores every object. With several: each scores the surveys it declares.</summary>
    public static int Run(IReadOnlyList<string> modelDirectories, IReadOnlyList<string> paths, bool jsonl, TextWriter output, CancellationToken cancellationToken, string? device = null, bool detectionsOnly = false, int minDetections = 1, AlertDecoder? decoder = null)
    {
        var packages = new List<ModelPackage>();
        try
        {
            foreach (var dir in modelDirectories)
            {
                packages.Add(ModelPackager.Verified(ModelPackage.Load(dir, StepEncodings.Ids, ModelCli.SessionOptions(device, intraOpThreads: 0)), dir));
            }
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e))
        {
            packages.ForEach(p => p.Dispose());
            return ModelCli.ReportModelUnusable(e);
        }

        try
        {
            var bySurvey = new Dictionary<string, ModelPackage>(StringComparer.Ordinal);
            if (packages.Count > 1)
            {
                foreach (var p in packages)
                {
                    foreach (var survey in p.Manifest.EffectiveSurveys)
                    {
                        if (!bySurvey.TryAdd(survey, p))
                        {
                            // The first one silently won; bench and demo refuse this too.
                            CliHelpers.Stderr.MarkupLine($"[red]--model {Markup.Escape(bySurvey[survey].Source)} and --model {Markup.Escape(p.Source)} both declare the survey {Markup.Escape(survey)}:[/] give one model per survey");
                            return 2;
                        }
                    }
                }
            }

            return ScoreAndWrite(packages.Count == 1 ? _ => packages[0] : survey => bySurvey.GetValueOrDefault(survey), paths, jsonl, output, cancellationToken, detectionsOnly, minDetections, decoder);
        }
        finally
        {
            packages.ForEach(p => p.Dispose());
        }
    }

    /// <summary>
    /// Without --model: per survey of the alerts, the registry's active model (Redis, or a directory registry that has
    /// pointers), else the newest package under the models directory that declares the survey.
    /// </summary>
    public static async Task<int> RunDefaultAsync(string registryDirectory, string? redisConfig, RedisOptions redisSecurity, string prefix, IReadOnlyList<string> paths, bool jsonl, TextWriter output, CancellationToken cancellationToken, string? device = null, bool detectionsOnly = false, int minDetections = 1, AlertDecoder? decoder = null)
    {
        var objects = Collect(paths, cancellationToken, out var errors, detectionsOnly, decoder);
        if (objects.Count == 0)
        {
            return NothingToScore(paths, errors);
        }

        var surveys = objects.Values.Select(o => AlertBroker.Worker.Scoring.ModelSet.SurveyName(o.Survey)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var packages = new Dictionary<string, ModelPackage>(StringComparer.Ordinal);
        var loaded = new Dictionary<string, ModelPackage>(StringComparer.Ordinal);
        StackExchange.Redis.IConnectionMultiplexer? connection = null;
        try
        {
            IModelRegistry? registry = null;
            if (!string.IsNullOrEmpty(redisConfig))
            {
                try
                {
                    connection = await RedisConnectionFactory.ConnectAsync(redisConfig, redisSecurity).ConfigureAwait(false);
                }
                catch (ArgumentException e)
                {
                    // A bad endpoint string from $ALERTBROKER_REDIS (--redis is checked when parsed) is a bad setting, as
                    // for models list, not "refused or failed" (exit 1).
                    CliHelpers.Stderr.MarkupLine("[red]--redis ($ALERTBROKER_REDIS):[/] " + Markup.Escape(CliHelpers.PlainMessage(e)));
                    return 2;
                }

                registry = new RedisModelRegistry(connection, prefix);
            }
            else if (Directory.Exists(Path.Combine(registryDirectory, ".registry")))
            {
                registry = new DirectoryModelRegistry(registryDirectory);
            }

            var catalog = AlertBroker.Worker.Scoring.ModelCatalog.Scan(Directory.Exists(registryDirectory) ? registryDirectory : AlertBroker.Worker.Scoring.ModelCatalog.FindModelsDirectory() ?? registryDirectory);
            var choices = AlertBroker.Worker.Scoring.ModelCatalog.PickPerSurvey(catalog, static (_, _) => false).ToDictionary(c => c.Survey, StringComparer.Ordinal);
            foreach (var survey in surveys)
            {
                if (registry is not null && await registry.GetActiveAsync(survey, cancellationToken).ConfigureAwait(false) is { } active)
                {
                    var key = "registry:" + active.Ref;
                    if (!loaded.TryGetValue(key, out var package))
                    {
                        ModelPackageBytes bytes;
                        try
                        {
                            bytes = await registry.GetPackageAsync(active.Ref, cancellationToken).ConfigureAwait(false);
                        }
                        catch (RegistryException e)
                        {
                            // The active model's stored bytes cannot be had (hash mismatch, missing, unreadable): the model cannot be used.
                            return ModelCli.ReportModelUnusable(e, $"{survey}: the registry's active model");
                        }

                        package = ModelPackager.Verified(ModelPackage.Load(bytes.Manifest, bytes.Onnx, StepEncodings.Ids, ModelCli.SessionOptions(device, intraOpThreads: 0), active.Ref.ToString()), active.Ref.ToString());
                        loaded[key] = package;
                    }

                    packages[survey] = package;
                    CliHelpers.Stderr.MarkupLine($"[grey]{Markup.Escape(survey)}: the registry's active model {Markup.Escape(active.Ref.ToString())}[/]");
                    if (package.Manifest.EffectiveRequiresMetadata && package.Manifest.EffectiveMetadata.Count > 0)
                    {
                        // As for --model: it was scored with the values unknown without a word.
                        CliHelpers.Stderr.MarkupLine($"[yellow]warning: {Markup.Escape(package.Manifest.Name)} {Markup.Escape(package.Manifest.Version)} needs {Markup.Escape(MetadataSources(package.Manifest))}, which alerts do not carry; score does not read the registry's metadata sources, so it scores with them unknown (a worker serves it with its sources)[/]");
                    }
                }
                else if (choices.TryGetValue(survey, out var choice))
                {
                    if (!loaded.TryGetValue(choice.Package.Directory, out var package))
                    {
                        package = ModelPackager.Verified(ModelPackage.Load(choice.Package.Directory, StepEncodings.Ids, ModelCli.SessionOptions(device, intraOpThreads: 0)), choice.Package.Directory);
                        loaded[choice.Package.Directory] = package;
                    }

                    packages[survey] = package;
                    CliHelpers.Stderr.MarkupLine($"[grey]{Markup.Escape(survey)}: the newest package declaring it, {Markup.Escape(choice.Package.Directory)}"
                        + (choice.MissingMetadata.Count > 0 ? $" (needs {Markup.Escape(string.Join(", ", choice.MissingMetadata))}: scored as unknown)" : string.Empty) + "[/]");
                }
                else
                {
                    // A package that declares the survey but needs metadata nothing here supplies is not a default (a
                    // worker would not serve it either); say so rather than "no model" (it looked as if none was found).
                    var skipped = catalog.FirstOrDefault(c => c.Manifest.IsForSurvey(survey) && c.Manifest.EffectiveRequiresMetadata);
                    CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape(survey)}: no model serves this survey; its objects are not scored"
                        + (skipped is null ? string.Empty : $" ({Markup.Escape(skipped.Directory)} declares it but needs {Markup.Escape(MetadataSources(skipped.Manifest))}, which alerts do not carry: give it with --model to score it with them unknown)") + "[/]");
                }
            }

            if (packages.Count == 0)
            {
                CliHelpers.Stderr.MarkupLine("[red]no model found for any survey of these alerts:[/] give --model DIR");
                return 1;
            }

            return Write(packages, objects, errors, jsonl, output, minDetections);
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e))
        {
            return ModelCli.ReportModelUnusable(e);
        }
        catch (Exception e) when (e is RegistryException or RedisConnectionFailedException or ArgumentException)
        {
            CliHelpers.Stderr.MarkupLine("[red]" + Markup.Escape(RedisConnectionFactory.Redact(CliHelpers.PlainMessage(e))) + "[/]");
            return e is RedisConnectionFailedException ? 4 : 1;
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            // As models commands say it (exit 1): until 2026-12-07 a registry key of another type (Redis's WRONGTYPE, which
            // names no key), a refusal or a timeout ended score with "fatal: RedisServerException …", exit 70.
            CliHelpers.Stderr.MarkupLine("[red]model registry: " + Markup.Escape(RedisErrors.Brief(e)) + "[/]");
            if (RedisErrors.IsWrongType(e) && connection is not null)
            {
                foreach (var line in await RegistryCommands.FindMistypedKeysQuietlyAsync(new RedisModelRegistry(connection, prefix)).ConfigureAwait(false))
                {
                    CliHelpers.Stderr.MarkupLine("  " + Markup.Escape(line));
                }

                CliHelpers.Stderr.MarkupLine(Markup.Escape($"Another program writes under the registry's prefix '{prefix}': give the registry a prefix of its own (--prefix), or delete the key if it is not needed."));
            }

            return 1;
        }
        finally
        {
            foreach (var p in loaded.Values)
            {
                p.Dispose();
            }

            connection?.Dispose();
        }
    }

    // The metadata sources a model declares, for messages: "host-redshift, mw-ebv".
    private static string MetadataSources(ModelManifest manifest) =>
        string.Join(", ", manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal));

    private static int ScoreAndWrite(Func<string, ModelPackage?> modelFor, IReadOnlyList<string> paths, bool jsonl, TextWriter output, CancellationToken cancellationToken, bool detectionsOnly, int minDetections, AlertDecoder? decoder)
    {
        var objects = Collect(paths, cancellationToken, out var errors, detectionsOnly, decoder);
        if (objects.Count == 0)
        {
            return NothingToScore(paths, errors);
        }

        var packages = new Dictionary<string, ModelPackage>(StringComparer.Ordinal);
        foreach (var survey in objects.Values.Select(o => AlertBroker.Worker.Scoring.ModelSet.SurveyName(o.Survey)).Distinct(StringComparer.Ordinal))
        {
            if (modelFor(survey) is { } p)
            {
                packages[survey] = p;
                if (p.Manifest.EffectiveRequiresMetadata && p.Manifest.EffectiveMetadata.Count > 0)
                {
                    // score has no metadata source: such a model was scored with its metadata unknown without a word.
                    CliHelpers.Stderr.MarkupLine($"[yellow]warning: {Markup.Escape(p.Manifest.Name)} {Markup.Escape(p.Manifest.Version)} needs {Markup.Escape(MetadataSources(p.Manifest))}, which alerts do not carry and score has no source of: it scores with them unknown (a worker serves it only where a metadata source supplies them)[/]");
                }

                if (!p.Manifest.IsForSurvey(survey))
                {
                    // One --model scores every object; a model made for other surveys' bands and cadence still gives
                    // numbers, which must not pass for its figures.
                    var count = objects.Values.Count(o => AlertBroker.Worker.Scoring.ModelSet.SurveyName(o.Survey) == survey);
                    CliHelpers.Stderr.MarkupLine($"[yellow]warning: {Markup.Escape(p.Manifest.Name)} {Markup.Escape(p.Manifest.Version)} was not trained for the {Markup.Escape(survey)} survey (it declares {Markup.Escape(string.Join(", ", p.Manifest.EffectiveSurveys))}); its scores of the {count} {Markup.Escape(survey)} object(s) are not what it was evaluated on[/]");
                }
            }
            else
            {
                CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape(survey)}: none of the given models declares this survey; its objects are not scored[/]");
            }
        }

        return Write(packages, objects, errors, jsonl, output, minDetections);
    }

    private static int Write(Dictionary<string, ModelPackage> packages, Dictionary<string, ObjectObservations> objects, int errors, bool jsonl, TextWriter output, int minDetections)
    {
        var candidates = CandidateFilter.Default with { MinDetections = minDetections };
        var scores = new List<ObjectScore>();
        foreach (var group in objects.Values.GroupBy(o => AlertBroker.Worker.Scoring.ModelSet.SurveyName(o.Survey)).GroupBy(g => packages.GetValueOrDefault(g.Key)))
        {
            if (group.Key is not { } package)
            {
                continue;
            }

            try
            {
                var name = package.Manifest.Name + "@" + package.Manifest.Version;
                scores.AddRange(Score(package, group.SelectMany(g => g), candidates).Select(s => s with { Model = name, Classes = package.Manifest.Classes }));
            }
            catch (OnnxRuntimeException e)
            {
                return ModelCli.ReportModelUnusable(e, $"scoring with {package.Source}");
            }
        }

        if (jsonl)
        {
            WriteJsonLines(output, scores);
        }
        else
        {
            WriteTable(scores);
        }

        if (errors > 0)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]{errors} message(s) could not be decoded and were skipped[/]");
        }

        // Objects of a served survey with no step (every error 0, every band unknown to the model) were left out without a
        // word: an empty table and exit 1 with nothing said.
        var served = objects.Values.Count(o => packages.ContainsKey(AlertBroker.Worker.Scoring.ModelSet.SurveyName(o.Survey)));
        if (served > scores.Count)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]{served - scores.Count} object(s) not scored: none of their points is one the model scores (a finite flux with a positive error, in a band the model knows; a detections-only model takes no forced points and no detection of negative flux)[/]");
        }

        // A model that gives NaN (or anything but a distribution) for some light curves is broken: those objects are written
        // without probabilities, and the exit code says the model cannot be used as it is.
        var invalid = scores.Where(x => x.InvalidOutput is not null).ToList();
        if (invalid.Count > 0)
        {
            var first = invalid[0];
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"model unusable (invalid output): {first.Model} gave no probability distribution for {invalid.Count} of {scores.Count} object(s) (first {first.ObjectId}: {first.InvalidOutput}); they are written without probabilities")));
            return ModelCli.ModelUnusableExitCode;
        }

        return scores.Count == 0 ? 1 : 0;
    }

    // No object at all: say so (an empty table, or "no model for any survey", would hide that nothing was read).
    private static int NothingToScore(IReadOnlyList<string> paths, int errors)
    {
        var why = errors > 0 ? $" ({errors} message(s) could not be decoded)" : string.Empty;
        CliHelpers.Stderr.MarkupLine($"[red]no alert could be read from[/] {Markup.Escape(string.Join(", ", paths) + why)}");
        return 1;
    }

    /// <summary>The object's distinct detections at or before <paramref name="mjd"/> among all its alerts read (as the worker counts its stored light curve).</summary>
    internal static int DetectionsUpTo(List<Observation> observations, double mjd)
    {
        var seen = new HashSet<long>();
        foreach (var o in observations)
        {
            // Detections of positive flux, as the worker counts them (the ones a model is fed).
            if (o.IsPositiveDetection && o.Mjd <= mjd)
            {
                seen.Add(o.SourceId);
            }
        }

        return seen.Count;
    }

    /// <summary>Every object's observations, merged across its alerts (each once, by source id and kind).</summary>
    internal static Dictionary<string, ObjectObservations> Collect(IReadOnlyList<string> paths, CancellationToken cancellationToken, out int errors, bool detectionsOnly = false, AlertDecoder? decoder = null)
    {
        decoder ??= new AlertDecoder();
        var objects = new Dictionary<string, ObjectObservations>(StringComparer.Ordinal);
        var alerts = new List<Alert>();
        errors = 0;
        foreach (var input in AlertArchiveReader.Read(paths, cancellationToken))
        {
            alerts.Clear();
            try
            {
                if (input.Error is not null)
                {
                    throw input.Error;
                }

                decoder.Decode(input.Payload, alerts);

                // As the worker refuses it (a dead letter, InvalidValue): score gave it a row under an empty object id.
                if (alerts.Any(a => string.IsNullOrEmpty(a.ObjectId) || a.Survey == Survey.Unknown))
                {
                    throw new AlertFormatException(AlertErrorKind.InvalidValue, "alert without a survey or object id");
                }
            }
            catch (AlertFormatException e)
            {
                errors++;
                CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(input.Source)}:[/] {Markup.Escape(e.Message)}");
                continue;
            }

            foreach (var alert in alerts)
            {
                var key = alert.Survey + ":" + alert.ObjectId;
                if (!objects.TryGetValue(key, out var entry))
                {
                    entry = new ObjectObservations(alert.ObjectId, alert.Survey, []);
                    objects[key] = entry;
                }

                if (entry.Latest is null || alert.Mjd >= entry.Latest.Mjd)
                {
                    entry.Latest = alert;
                }

                entry.Add(alert.Detections);
                if (!detectionsOnly)
                {
                    entry.Add(alert.ForcedPhotometry);
                }
            }
        }

        return objects;
    }

    internal static List<ObjectScore> Score(ModelPackage package, IEnumerable<ObjectObservations> objects, CandidateFilter? candidates = null)
    {
        candidates ??= CandidateFilter.Default;
        using var scorer = new BatchScorer(package);
        // As the worker: a model trained on detections only is fed detections only.
        var encoding = StepEncodings.ForModel(package.Manifest) ?? StepEncodings.Get(package.Manifest.Encoding.Id);
        var d = scorer.Dimensions;
        var scores = new List<ObjectScore>();
        var requests = new List<ScoringRequest>(BatchSize);
        var pending = new List<(string Id, Survey Survey, Observation[] Steps, int Observations, CandidateRejection? NotCandidate)>(BatchSize);
        var meta = new float[d.MetaFeatures];
        if (d.MetaFeatures > 0)
        {
            // Alerts carry neither a host redshift nor E(B−V): both are flagged unknown.
            encoding.EncodeMeta(double.NaN, double.NaN, meta);
        }

        void Flush()
        {
            if (requests.Count == 0)
            {
                return;
            }

            var results = scorer.Score(requests.ToArray());
            for (var i = 0; i < results.Length; i++)
            {
                var (id, survey, steps, n, notCandidate) = pending[i];
                var last = results[i].Probabilities.AsSpan((results[i].Steps - 1) * d.Classes, d.Classes).ToArray();
                var problem = ProbabilityCheck.Problem(last);
                scores.Add(new ObjectScore(id, survey, steps[^1].Mjd, n, steps.Length, problem is null ? last : []) { NotCandidate = notCandidate, InvalidOutput = problem });
            }

            requests.Clear();
            pending.Clear();
        }

        foreach (var o in objects)
        {
            var (id, survey, observations) = o;
            // The model's encoding decides which points are steps (its window around t₀ included) and t₀.
            var steps = encoding.SelectSteps(observations, out var t0);
            if (steps.Length == 0)
            {
                continue;
            }

            var x = new float[steps.Length * d.InputFeatures];
            encoding.EncodeSteps(steps, 0, t0, double.NaN, x);
            requests.Add(new ScoringRequest(x, meta, ReadOnlyMemory<float>.Empty));
            pending.Add((id, survey, steps, observations.Count, o.Latest is { } latest ? candidates.Check(latest, DetectionsUpTo(observations, latest.Mjd)) : null));
            if (requests.Count == BatchSize)
            {
                Flush();
            }
        }

        Flush();
        return scores;
    }

    private static void WriteTable(List<ObjectScore> scores)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("object");
        table.AddColumn(new TableColumn("last MJD").RightAligned());
        table.AddColumn(new TableColumn("observations").RightAligned());
        table.AddColumn(new TableColumn("steps").RightAligned());
        table.AddColumn("top class");
        table.AddColumn(new TableColumn("p").RightAligned());
        table.AddColumn("model");
        table.AddColumn("candidate");
        foreach (var s in scores)
        {
            var top = ArgMax(s.Probabilities);
            var topClass = top < 0 ? "[red]none: invalid output[/]" : Markup.Escape(s.Classes[top]);
            var p = top < 0 ? "-" : s.Probabilities[top].ToString("F3", inv);
            table.AddRow(Markup.Escape(s.ObjectId), s.LastMjd.ToString("F4", inv), s.Observations.ToString(inv), s.Steps.ToString(inv), topClass, p, Markup.Escape(s.Model), s.NotCandidate is { } r ? "[yellow]no: " + CandidateFilter.Tag(r.Kind) + "[/]" : "yes");
        }

        AnsiConsole.Write(table);
    }

    internal static void WriteJsonLines(TextWriter output, List<ObjectScore> scores)
    {
        foreach (var s in scores)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("objectId", s.ObjectId);
                w.WriteString("survey", s.Survey.ToString().ToLowerInvariant());
                w.WriteString("model", s.Model);
                w.WriteBoolean("candidate", s.NotCandidate is null);
                if (s.NotCandidate is { } notCandidate)
                {
                    w.WriteString("candidateReason", notCandidate.Message);
                }

                w.WriteNumber("lastMjd", s.LastMjd);
                w.WriteNumber("observations", s.Observations);
                w.WriteNumber("steps", s.Steps);
                var top = ArgMax(s.Probabilities);
                var classes = s.Classes;
                if (top < 0)
                {
                    // The model's output was not a distribution: no numbers that could pass for probabilities.
                    w.WriteNull("topClass");
                    w.WriteNull("topProbability");
                    w.WriteNull("probabilities");
                    w.WriteString("invalidOutput", s.InvalidOutput);
                }
                else
                {
                    w.WriteString("topClass", classes[top]);
                    w.WriteNumber("topProbability", s.Probabilities[top]);
                    w.WriteStartObject("probabilities");
                    for (var c = 0; c < classes.Count; c++)
                    {
                        w.WriteNumber(classes[c], s.Probabilities[c]);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }

    // -1 for no probabilities.
    private static int ArgMax(float[] values)
    {
        var best = values.Length > 0 ? 0 : -1;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
