using System.CommandLine;
using System.Globalization;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker models …</c>: model packages.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var models = new Command("models", "Model packages: inspect, package (an ONNX graph trained elsewhere), verify (against reference outputs), average (the weights of several fine-tunes), ensemble (several models as one), priors (move a model to a stream's class mix), and with the registry push/list/status/promote/rollback.");
        var dir = PackageDirectory(new Argument<string>("dir") { Description = "A package directory (models/<name>/<version>) holding model.json and model.onnx." });
        var device = ModelCli.DeviceOption();
        var inspect = new Command("inspect", "Validate a model package and print its model card (exit 3 when it cannot be used).") { dir, device };
        inspect.SetAction(parse => Inspect(parse.GetValue(dir)!, AnsiConsole.Console, parse.GetValue(device)));
        models.Subcommands.Add(inspect);
        ModelPackagingCommands.AddTo(models);
        models.Subcommands.Add(AverageCommand.Create());
        models.Subcommands.Add(AverageCommand.CreateEnsemble());
        models.Subcommands.Add(PriorsCommand.Create());
        RegistryCommands.AddTo(models);
        return models;
    }

    /// <summary>
    /// A model package path is checked when the command line is parsed: empty, a file (model.onnx, model.json), or a path
    /// that does not exist is a usage error (exit 2), as every other input path of the command line (a file saying that a
    /// package is a directory holding model.json and model.onnx). A path that does not exist went to the package loader
    /// before, "model unusable … MissingFile" (exit 3) from score, bench and demo where evaluate, finetune and run said
    /// "no such directory" (exit 2). A directory that is there but not a usable package is the loader's (exit 3).
    /// </summary>
    internal static Argument<T> PackageDirectory<T>(Argument<T> argument)
    {
        argument.Validators.Add(result => CheckPackagePaths(result.GetValueOrDefault<T>(), $"<{argument.Name}>", result.AddError));
        return argument;
    }

    /// <inheritdoc cref="PackageDirectory{T}(Argument{T})"/>
    internal static Option<T> PackageDirectory<T>(Option<T> option)
    {
        option.Validators.Add(result =>
        {
            if (!result.Implicit)
            {
                CheckPackagePaths(result.GetValueOrDefault<T>(), option.Name, result.AddError);
            }
        });
        return option;
    }

    private static void CheckPackagePaths(object? value, string name, Action<string> error)
    {
        IEnumerable<string> paths = value switch
        {
            string one => [one],
            IEnumerable<string> several => several,
            _ => [],
        };
        foreach (var path in paths)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                error($"{name} needs a model package directory, not an empty string");
            }
            else if (CliHelpers.BrokenLinkTarget(path) is { } nowhere)
            {
                // .NET says such a link exists as a file: it was "dangling.avro is a file (--model)".
                error($"{path} is a symbolic link to {nowhere}, which does not exist ({name})");
            }
            else if (File.Exists(path))
            {
                error($"{path} is a file ({name}): a model package is a directory holding {ModelPackage.ManifestFileName} and {ModelPackage.OnnxFileName}");
            }
            else if (!Directory.Exists(path))
            {
                error(path.StartsWith('-') && name.StartsWith('-')
                    ? $"{path}: not an option of this command (read as a {name} value; see --help)"
                    : $"no such directory: {path} ({name})");
            }
        }
    }

    /// <summary>Exit 0 with the model card, or 3 (model unusable) with the problems found.</summary>
    public static int Inspect(string directory, IAnsiConsole console, string? device = null)
    {
        ModelPackage package;
        try
        {
            package = ModelPackager.Verified(ModelPackage.Load(directory, StepEncodings.Ids, ModelCli.SessionOptions(device, intraOpThreads: 1)), directory);
        }
        catch (ModelPackageException e)
        {
            // Redirected, the problems are plain lines (never wrapped at a console width): one problem, one line.
            var plain = ReferenceEquals(console, AnsiConsole.Console) && Console.IsOutputRedirected;
            WriteLine(console, plain, $"[red]invalid model package[/] {Markup.Escape(directory)}:", $"invalid model package {directory}:");
            foreach (var problem in e.Problems)
            {
                WriteLine(console, plain, $"  [red]{problem.Kind}[/]: {Markup.Escape(OnnxOneLine(problem.Message))}", $"  {problem.Kind}: {OnnxOneLine(problem.Message)}");
            }

            return ModelCli.ModelUnusableExitCode;
        }
        catch (OnnxRuntimeException e)
        {
            if (ReferenceEquals(console, AnsiConsole.Console))
            {
                return ModelCli.ReportModelUnusable(e);
            }

            console.MarkupLine($"[red]model unusable ({ModelCli.Kind(e)}):[/] {Markup.Escape(ModelCli.OneLine(e))}");
            return ModelCli.ModelUnusableExitCode;
        }

        using (package)
        {
            WriteCard(console, package);
        }

        return 0;
    }

    private static void WriteLine(IAnsiConsole console, bool plain, string markup, string text)
    {
        if (plain)
        {
            Console.Out.WriteLine(text);
        }
        else
        {
            console.MarkupLine(markup);
        }
    }

    private static string OnnxOneLine(string message) =>
        string.Join(' ', message.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static void WriteCard(IAnsiConsole console, ModelPackage package)
    {
        var m = package.Manifest;
        var inv = CultureInfo.InvariantCulture;
        // At most 140 columns, also when redirected (where the console is 4,096 wide): the training record wraps.
        var card = new Table().Border(TableBorder.Rounded).Title($"[bold]model card: {Markup.Escape(m.Name)} {Markup.Escape(m.Version)}[/]");
        card.Width = Math.Min(console.Profile.Width, 140);
        card.AddColumn("field");
        card.AddColumn("value");
        card.AddRow("created", m.CreatedUtc.ToString("u", inv));
        card.AddRow("classes", Markup.Escape(string.Join(", ", m.Classes)));
        card.AddRow("surveys", Markup.Escape(string.Join(", ", m.EffectiveSurveys) + (m.Surveys is null ? " (default: the package does not say)" : string.Empty)));
        card.AddRow("needs metadata", Markup.Escape(m.EffectiveMetadata.Count == 0
            ? "no: only what alerts carry"
            : (m.EffectiveRequiresMetadata ? string.Empty : "optional (unknown where no source supplies it): ")
                + string.Join("; ", m.EffectiveMetadata.Select(e => $"{e.Name} from {e.Source}")) + (m.Metadata is null ? " (inferred from the metadata features)" : string.Empty)));
        card.AddRow("encoding", Markup.Escape($"{m.Encoding.Name} v{m.Encoding.Version}"));
        card.AddRow("step features", Markup.Escape(string.Join(", ", m.Encoding.StepFeatures)));
        card.AddRow("points fed", m.EffectiveDetectionsOnly ? "detections only (trained on detections; forced photometry is left out)" : "detections and forced photometry");
        card.AddRow("metadata features", Markup.Escape(m.Encoding.MetaFeatures.Count == 0 ? "(none)" : string.Join(", ", m.Encoding.MetaFeatures)));
        card.AddRow("bands (µm)", Markup.Escape(string.Join(", ", m.Encoding.BandWavelengthsMicron.OrderBy(kv => kv.Value).Select(kv => string.Create(inv, $"{kv.Key} {kv.Value:F4}")))));
        card.AddRow("network", Markup.Escape(m.Network.Dense == 0 && m.Network.Merge == 0 && m.Network.Latent == 0
            ? string.Create(inv, $"{m.Network.Type}: {m.Network.Layers} × {m.Network.Hidden} → {m.Network.Classes} classes (head not described: packaged from an external graph)")
            : string.Create(inv, $"{m.Network.Type}: {m.Network.Layers} × {m.Network.Hidden} → dense {m.Network.Dense} → merge {m.Network.Merge} → latent {m.Network.Latent} → {m.Network.Classes} classes; meta {m.Network.MetaFeatures} → {m.Network.MetaDense}")
                + (m.Training.Data?["ensemble"] is System.Text.Json.Nodes.JsonObject ensemble && ensemble["members"] is System.Text.Json.Nodes.JsonArray members
                    ? string.Create(inv, $"; an ensemble: {members.Count} members side by side, mean of their logits (models ensemble)")
                    : string.Empty)));
        var roles = m.EffectiveRoles;
        card.AddRow("tensor roles", Markup.Escape(roles + (m.Tensors.Roles is null ? " (standard names)" : string.Empty)));
        card.AddRow("scoring", Markup.Escape((roles.HasState ? "incremental (new steps from the stored state)" : "full re-run on every update (no recurrent state)")
            + (roles.Lengths is null ? "; rows of equal length batched, never padded" : "; padded batches with lengths")));
        card.AddRow("inputs", Markup.Escape(string.Join("; ", m.Tensors.Inputs.Select(Describe))));
        card.AddRow("outputs", Markup.Escape(string.Join("; ", m.Tensors.Outputs.Select(Describe))));
        card.AddRow("onnx", Markup.Escape($"{m.Onnx.File}, opset {m.Onnx.Opset}, {m.Onnx.Producer}"));
        card.AddRow("sha256", m.Onnx.Sha256);
        card.AddRow("loaded by", Markup.Escape($"ONNX Runtime {OnnxRuntime.Version} ({OnnxRuntime.PackageName}, {package.Session.ExecutionProvider}) from {OnnxRuntime.LibraryLocation ?? "(unknown)"}"));
        card.AddRow("runtime telemetry", Markup.Escape(OnnxTelemetry.State ?? "(not decided)"));
        card.AddRow("training data", Markup.Escape(m.Training.Data?.ToJsonString() ?? "(none)"));
        card.AddRow("metrics", Markup.Escape(m.Training.Metrics.Count == 0 ? "(none)" : string.Join(", ", m.Training.Metrics.Select(kv => double.IsFinite(kv.Value) ? string.Create(inv, $"{kv.Key} {kv.Value:G4}") : kv.Key + " – (undefined)"))));
        if (EvaluationBeside(package.Source) is { } evaluation)
        {
            card.AddRow("evaluation.json", Markup.Escape(evaluation));
        }

        console.Write(card);
    }

    /// <summary>
    /// The headline of an <c>evaluation.json</c> that <c>evaluate --report</c> wrote into the package directory (packages
    /// made by <c>models average|ensemble|priors</c> carry no metrics in <c>model.json</c>): null when there is none.
    /// </summary>
    internal static string? EvaluationBeside(string directory)
    {
        var path = Path.Combine(directory, "evaluation.json");
        if (!File.Exists(path))
        {
            return null;
        }

        var inv = CultureInfo.InvariantCulture;
        try
        {
            // An undefined figure is null (written since 2026-12-07) or "NaN" (written before): both read as undefined, "–";
            // until 2026-12-07 a "NaN" macro AUROC made the whole line "present but not readable".
            var e = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path));
            if (e is not System.Text.Json.Nodes.JsonObject o || !o.TryGetPropertyValue("macroAuroc", out var wholeNode))
            {
                return "present but without a macroAuroc";
            }

            var whole = Figure(wholeNode);
            var early = e["early"] is System.Text.Json.Nodes.JsonArray points
                ? string.Join(", ", points.Select(p => (Days: Figure(p?["days"]), Auroc: Figure(p?["macroAuroc"])))
                    .Where(p => double.IsFinite(p.Days) && double.IsFinite(p.Auroc))
                    .Select(p => string.Create(inv, $"{p.Days:0} d {p.Auroc:F3}")))
                : string.Empty;
            return string.Create(inv, $"macro AUROC {AlertBroker.Training.Evaluation.ReportWriter.N(whole)} on whole light curves{(early.Length == 0 ? string.Empty : "; " + early)}; {e["objects"]?.GetValue<int>()} objects of {e["data"]?.GetValue<string>() ?? "?"}, evaluated as {e["model"]?.GetValue<string>() ?? "?"}");
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or FormatException or IOException or UnauthorizedAccessException)
        {
            return "present but not readable: " + ex.Message;
        }
    }

    /// <summary>
    /// A figure of <c>evaluation.json</c>: its number; NaN (undefined) for null or a named literal ("NaN", as files written
    /// until 2026-12-07 hold it); a <see cref="FormatException"/> for anything else.
    /// </summary>
    private static double Figure(System.Text.Json.Nodes.JsonNode? node) => node switch
    {
        null => double.NaN,
        System.Text.Json.Nodes.JsonValue v when v.TryGetValue<double>(out var d) => d,
        System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var s) && s is "NaN" or "Infinity" or "-Infinity" => double.NaN,
        _ => throw new FormatException($"{node.ToJsonString()} is not a number"),
    };

    private static string Describe(TensorSpec t) => $"{t.Name} {t.ElementType}[{string.Join(", ", t.Shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)))}]";
}
