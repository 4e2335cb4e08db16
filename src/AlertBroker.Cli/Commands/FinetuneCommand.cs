using System.CommandLine;
using System.Text.Json.Nodes;
using AlertBroker.Cli.Training;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Data;
using AlertBroker.Training.Training;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker finetune --from MODEL</c>: transfer learning from a trained package to new data.</summary>
internal static class FinetuneCommand
{
    public static Command Create()
    {
        var cli = new TrainingCli();
        var from = new Option<string>("--from") { Description = "Base model package directory (models/<name>/<version>).", Required = true }.MustExist(PathKind.Directory);
        var trainLayers = new Option<string>("--train") { Description = "Layers that train: e.g. latent,output | gru,output | all (groups: gru, gruN, dense, meta, merge, latent, output).", DefaultValueFactory = _ => "latent,output" };
        trainLayers.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? text) && text is not null)
            {
                try
                {
                    _ = TrainableLayers.Parse(text);
                }
                catch (FormatException e)
                {
                    result.AddError($"--train: {e.Message}");
                }
            }
        });
        var newHead = new Option<bool>("--new-head") { Description = "Replace the output layer with a freshly initialised one even for classes the base model knows." };
        var push = new Option<bool>("--push") { Description = "Register the exported package in the model registry (--redis / $ALERTBROKER_REDIS, else --registry)." };
        var redis = new Option<string?>("--redis") { Description = "Redis connection of the model registry." }.NotBlank();
        var registry = new Option<string>("--registry") { Description = "Local registry directory (without --redis).", DefaultValueFactory = _ => "models" }.NotBlank();
        var command = new Command("finetune", "Fine-tune a trained model on new data (simulations → real data, one survey → another) and export it.");
        cli.AddTo(command);
        command.Options.Add(from);
        command.Options.Add(trainLayers);
        command.Options.Add(newHead);
        command.Options.Add(push);
        command.Options.Add(redis);
        var redisSecurity = new RedisCliOptions();
        redisSecurity.AddTo(command);
        command.Options.Add(registry);
        command.RefuseOutputThatIsAnInput(cli.Out, PathKind.Directory, from, cli.DistillFrom);

        // --checkpoints into the base package wrote best.weights and last.weights into the model it reads (exit 0).
        command.RefuseOutputThatIsAnInput(cli.Checkpoints, PathKind.Directory, from, cli.DistillFrom);
        command.SetAction(async (parse, ct) =>
        {
            var exit = Run(cli, parse, parse.GetValue(from)!, parse.GetValue(trainLayers)!, parse.GetValue(newHead), ct);
            var outDir = parse.GetValue(cli.Out);
            if (exit != 0 || !parse.GetValue(push))
            {
                return exit;
            }

            if (outDir is null)
            {
                CliHelpers.Stderr.MarkupLine("[red]--push needs --out[/]");
                return 1;
            }

            var security = redisSecurity.Read(parse);
            return security is null ? 2 : await RegistryCommands.PushTo(parse.GetValue(redis), security, RegistryCommands.DefaultPrefix(), parse.GetValue(registry)!, outDir, ct).ConfigureAwait(false);
        });
        return command;
    }

    private static int Run(TrainingCli cli, ParseResult parse, string from, string layers, bool newHead, CancellationToken ct)
    {
        if (cli.SettingsProblem(parse) is { } problem)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(problem)}[/]");
            return 2;
        }

        if (!cli.CanWriteOutputs(parse))
        {
            return 1;
        }

        TrainedModel baseModel;
        TrainableLayers trainable;
        LabelledDataset data;
        IStepEncoding encoding;
        try
        {
            baseModel = ModelIo.LoadPackage(from);
            encoding = ModelIo.EncodingOf(baseModel.Manifest);
            trainable = TrainableLayers.Parse(layers);
            data = cli.LoadData(parse, ct);
        }
        catch (TrainingCli.IdsNotInDataException e)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 2;
        }
        catch (ModelPackageException e)
        {
            // A base a worker would refuse (a file missing, hash, manifest or graph wrong, weights not finite): "model
            // unusable", exit 3, as for every command that loads a model (it was "cannot start", exit 1).
            return ModelCli.ReportModelUnusable(e);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException or KeyNotFoundException)
        {
            CliHelpers.Stderr.MarkupLine($"[red]cannot start:[/] {Markup.Escape(e.Message)}");
            return 1;
        }

        if (parse.GetValue(cli.EncodingName) is { } named && !(StepEncodings.All.FirstOrDefault(e => $"{e.Id.Name}@{e.Id.Version}" == named || e.Id.Name == named) is { } asked && asked.Id == encoding.Id))
        {
            // A usage error, as every other option that contradicts the base (--train meta, --classes) is (it was exit 1).
            CliHelpers.Stderr.MarkupLine($"[red]--encoding {Markup.Escape(named)}: the base model was trained with {Markup.Escape(encoding.Id.ToString())}; fine-tuning keeps the base's encoding[/]");
            return 2;
        }

        // An encoding without metadata features (muthukrishna2025) never has a metadata branch.
        var noMeta = parse.GetValue(cli.NoMeta) || encoding.MetaFeatureCount == 0;
        var baseHasMeta = baseModel.Weights.Config.MetaFeatures > 0;
        if (!noMeta && !baseHasMeta)
        {
            // A usage error (the option it needs is named), as the other option checks of finetune: it was exit 1.
            CliHelpers.Stderr.MarkupLine("[red]the base model has no metadata branch: fine-tune it with --no-meta[/]");
            return 2;
        }

        if (noMeta && baseHasMeta)
        {
            // Start from the base's function for unknown metadata, without the branch (ModelIo.WithoutMetadata).
            CliHelpers.Stderr.MarkupLine("[grey]--no-meta: dropping the base's metadata branch (its output for unknown metadata moves into the merge bias)[/]");
            baseModel = baseModel with { Weights = ModelIo.WithoutMetadata(baseModel.Weights) };
        }

        if (TrainableLayers.AbsentFrom(layers, baseModel.Weights.Config) is { Count: > 0 } absent)
        {
            // gru5 on a two-layer base, or meta on a base without (or stripped of) its metadata branch, trained nothing.
            var config = baseModel.Weights.Config;
            var has = string.Join(", ", Enumerable.Range(0, config.Layers).Select(l => $"gru{l}").Concat(config.MetaFeatures > 0 ? ["meta"] : []));
            CliHelpers.Stderr.MarkupLine($"[red]--train names {Markup.Escape(string.Join(", ", absent))}, which the base model does not have[/] (its GRU layers and branches: {Markup.Escape(has)}; also dense, merge, latent, output, gru, all)");
            return 2;
        }

        var classList = parse.GetValue(cli.Classes);
        IReadOnlyList<string> classes = classList is not null
            ? classList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : KeepsBaseClasses(baseModel.Classes, data) ? baseModel.Classes : EncodedDataset.DefaultClasses(data);
        var inData = data.ClassCounts();
        if (classes.FirstOrDefault(c => !baseModel.Classes.Contains(c) && !inData.ContainsKey(c)) is { } unknown)
        {
            // It was added as a class "kept as the base model knew it", which the base never had: a typo became an untrained output.
            CliHelpers.Stderr.MarkupLine($"[red]--classes names {Markup.Escape(unknown)}, a class neither the base model nor the data has[/] (the base's: {Markup.Escape(string.Join(", ", baseModel.Classes))}; the data's: {Markup.Escape(string.Join(", ", inData.OrderByDescending(kv => kv.Value).Select(kv => kv.Key)))}; names are case-sensitive)");
            return 2;
        }

        var seed = parse.GetValue(cli.Seed);
        if (BaseSawOtherObjects(baseModel.Manifest, data.Name, cli, parse, seed) is { } overlap)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape(overlap)}[/]");
        }

        var provenance = new JsonObject
        {
            ["source"] = data.Name,
            ["mode"] = "finetune",
            ["base"] = new JsonObject { ["name"] = baseModel.Manifest?.Name, ["version"] = baseModel.Manifest?.Version, ["sha256"] = baseModel.Manifest?.Onnx.Sha256 },
            ["newHead"] = newHead,
            ["baseMetadataDropped"] = noMeta && baseHasMeta,
        };
        return cli.Run(parse, data, classes, c => ModelIo.AdaptHead(baseModel, c, newHead, seed), trainable, 1e-4f, provenance, encoding, ct);
    }

    /// <summary>
    /// A warning when the base was trained on the same data (its recorded source names the same file) but held out from
    /// other objects than this run's test part (another seed or fractions, another test-ids file, or none): the base
    /// has then seen some of this run's test objects, and the test figures are not held out. It went without a word
    /// (7 of 9 test objects had been in the base's training part). Null otherwise.
    /// </summary>
    internal static string? BaseSawOtherObjects(ModelManifest? baseManifest, string dataName, TrainingCli cli, ParseResult parse, ulong seed)
    {
        if (baseManifest?.Training.Data is not { } recorded || recorded["source"] is not JsonValue source || !source.TryGetValue<string>(out var baseSource)
            || recorded["split"] is not JsonObject baseSplit || !SameFile(baseSource, dataName))
        {
            return null;
        }

        JsonObject split;
        if (parse.GetValue(cli.TestIds) is { } ids)
        {
            string sha;
            try
            {
                sha = HoldoutIds.Read(ids).Sha256;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                return null; // said by the split itself
            }

            split = new JsonObject { ["testIdsSha256"] = sha, ["excludeIdsSha256"] = cli.ExcludedIds?.Sha256 };
        }
        else
        {
            split = new JsonObject { ["seed"] = seed, ["validationFraction"] = parse.GetValue(cli.Validation), ["testFraction"] = parse.GetValue(cli.Test), ["excludeIdsSha256"] = cli.ExcludedIds?.Sha256 };
        }

        var basePart = AverageCommand.TestPart(baseSplit, source.ToJsonString());
        var here = AverageCommand.TestPart(split, source.ToJsonString());
        return basePart is null || here == "none" || basePart == here
            ? null
            : $"warning: the base {baseManifest.Name} {baseManifest.Version} was trained on this data ({baseSource}) held out from other objects ({basePart}; here {here}): it has seen some of this run's test objects, so the test figures are not held out. Fine-tune with the base's split (its --test-ids, or its --seed, --val and --test).";

        // The file a source names, whatever the suffix the reader adds (" without the N ids in FILE") or the relative path.
        static bool SameFile(string a, string b)
        {
            static string Normal(string s)
            {
                var cut = s.IndexOf(" without the ", StringComparison.Ordinal);
                var path = cut >= 0 ? s[..cut] : s;
                try
                {
                    return Path.GetFullPath(path);
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
                {
                    return path;
                }
            }

            return string.Equals(Normal(a), Normal(b), StringComparison.Ordinal);
        }
    }

    // The base head is kept when every class in the new data is one the base model knows.
    private static bool KeepsBaseClasses(IReadOnlyList<string> baseClasses, LabelledDataset data)
    {
        foreach (var cls in data.ClassCounts().Keys)
        {
            if (!baseClasses.Contains(cls))
            {
                return false;
            }
        }

        return true;
    }
}
