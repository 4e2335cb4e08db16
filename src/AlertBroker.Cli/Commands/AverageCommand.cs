using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker models average PACKAGE… --out DIR</c>: one package whose weights are the element-wise mean of several
/// fine-tunes of one base (a weight average, "model soup"): one network, so it scores at the cost of one.
/// <c>alertbroker models ensemble PACKAGE… --out DIR</c>: one package that is the members side by side (block-diagonal
/// weights, <see cref="ModelIo.Ensemble"/>) and outputs the mean of their logits: for members trained from different
/// bases, whose weights cannot be averaged; it scores at about K times the cost of one member.
/// </summary>
internal static class AverageCommand
{
    public const int BadArguments = 2;

    // The network each member started from: the base model.json records (training.data.base.sha256), or the member itself
    // when it records none (trained from scratch, or packaged: a base averaged with its own fine-tunes is one origin).
    // "PACKAGE: base NAME VERSION, …" when the members' origins differ; null when they are one.
    internal static string? DifferentBases(IReadOnlyList<string> packages, IReadOnlyList<TrainedModel> models)
    {
        string Origin(ModelManifest m) => (m.Training.Data?["base"] as JsonObject)?["sha256"] is JsonValue v && v.TryGetValue<string>(out var sha) && sha.Length > 0 ? sha : m.Onnx.Sha256;
        string Said(ModelManifest m) => m.Training.Data?["base"] is JsonObject b && b["sha256"] is not null
            ? $"base {b["name"]?.ToString() ?? "?"} {b["version"]?.ToString() ?? "?"}"
            : "no base (trained from scratch)";
        var origins = models.Select(m => Origin(m.Manifest!)).ToList();
        return origins.Distinct(StringComparer.OrdinalIgnoreCase).Count() == 1
            ? null
            : string.Join("; ", models.Select((m, i) => $"{packages[i]}: {Said(m.Manifest!)}"));
    }

    /// <summary>
    /// Which objects a member was held out from, as its <c>training.data.split</c> records them: the test-ids file's
    /// SHA-256, "none" (no test part), or the seed and fractions with the data they were drawn from; null when no split is
    /// recorded (a package from an outside graph).
    /// </summary>
    internal static string? TestPart(ModelManifest m) => TestPart(m.Training.Data?["split"] as JsonObject, m.Training.Data?["source"]?.ToJsonString() ?? "null");

    /// <summary>As above, for a split record and the data it was drawn from (as JSON text).</summary>
    internal static string? TestPart(JsonObject? split, string source)
    {
        if (split is null)
        {
            return null;
        }

        string Text(string key) => split[key] is JsonValue v ? v.ToJsonString() : "null";
        var excluded = Text("excludeIdsSha256");
        if (split["testIdsSha256"] is JsonValue ids && ids.TryGetValue<string>(out var sha) && sha.Length > 0)
        {
            return $"test ids sha256 {sha}, excluded ids {excluded}";
        }

        return split["testFraction"] is JsonValue f && f.TryGetValue<double>(out var fraction) && fraction > 0
            ? $"seed {Text("seed")}, validation {Text("validationFraction")}, test {Text("testFraction")}, excluded ids {excluded}, data {source}"
            : "none";
    }

    /// <summary>
    /// What one of the two commands does with its members: <see cref="Key"/> names the record in <c>training.data</c>;
    /// the card nests the first member's card, or every member's when <see cref="EveryMemberCard"/>.
    /// </summary>
    internal sealed record Combination(string Command, string Key, string Verb, string Rule, Func<IReadOnlyList<TrainedModel>, GruClassifierWeights> Combine, string Card, bool EveryMemberCard)
    {
        public static Combination Average { get; } = new(
            "models average",
            "average",
            "averaged",
            "element-wise mean of the members' weights",
            ModelIo.Average,
            "the element-wise mean of their weights, one network scored at the cost of one",
            EveryMemberCard: false);

        public static Combination Ensemble { get; } = new(
            "models ensemble",
            "ensemble",
            "combined",
            "mean of the members' class logits: the members side by side in one network of block-diagonal weights",
            ModelIo.Ensemble,
            "the members side by side in one network (block-diagonal weights) whose output is the mean of their class logits, so its probabilities are softmax(mean log p) of the members at every step; its ONNX graph runs one GRU stack and head per member, about K times the cost of one",
            EveryMemberCard: true);
    }

    public static Command Create() => Create(
        Combination.Average,
        "average",
        "Average the weights of several fine-tunes of one base (e.g. seeds of one recipe) into one package; evaluate it like any other (exit 2 when the packages cannot be averaged).",
        "Two or more package directories of one architecture (e.g. one recipe fine-tuned with several seeds).");

    public static Command CreateEnsemble() => Create(
        Combination.Ensemble,
        "ensemble",
        "Combine several models of one architecture, e.g. fine-tuned from different bases, into one package that outputs the mean of their logits (one wider network); evaluate it like any other (exit 2 when the packages cannot be combined).",
        "Two or more package directories of one architecture, classes, encoding and surveys.");

    private static Command Create(Combination combination, string name, string description, string packagesDescription)
    {
        var packages = new Argument<string[]>("packages") { Description = packagesDescription, Arity = ArgumentArity.OneOrMore }.MustExist(PathKind.Directory);
        var output = new Option<string>("--out") { Description = "Package directory to write (models/<name>/<version>); must not hold a package yet.", Required = true }.OutputDirectory();
        var modelName = new Option<string?>("--name") { Description = "Model name (default: the parent folder of --out)." }.PathSegment();
        var version = new Option<string?>("--version") { Description = "Model version (default: the last folder of --out)." }.PathSegment();
        var command = new Command(name, description)
        {
            packages, output, modelName, version,
        };
        command.SetAction(parse => Run(parse.GetValue(packages)!, parse.GetValue(output)!, parse.GetValue(modelName), parse.GetValue(version), Console.Out, Console.Error, combination));
        return command;
    }

    /// <summary>Exit 0 with the package written; 2 (one line) when the packages cannot be read or combined.</summary>
    internal static int Run(IReadOnlyList<string> packages, string output, string? name, string? version, TextWriter stdout, TextWriter stderr, Combination? combination = null)
    {
        combination ??= Combination.Average;
        if (DerivedPackages.OutNamesProblem(output, name, version) is { } outProblem)
        {
            stderr.WriteLine($"{combination.Command}: {outProblem}");
            return BadArguments;
        }

        if (DerivedPackages.AlreadyHoldsAPackage(combination.Command, output, stderr))
        {
            return BadArguments;
        }

        var models = new List<TrainedModel>();
        GruClassifierWeights weights;
        try
        {
            foreach (var p in packages)
            {
                models.Add(DerivedPackages.Load(p));
            }

            // The same network given twice (one path twice, or a copy) would weigh twice: a mistake, never a recipe.
            for (var i = 1; i < models.Count; i++)
            {
                var j = models.FindIndex(0, i, m => m.Manifest!.Onnx.Sha256 == models[i].Manifest!.Onnx.Sha256);
                if (j >= 0)
                {
                    stderr.WriteLine($"{combination.Command}: {packages[j]} and {packages[i]} are the same model (ONNX sha256 {models[i].Manifest!.Onnx.Sha256[..12]}…): each package may be given once");
                    return BadArguments;
                }
            }

            // The mean of the weights of networks that did not start from one base is no network at all (two bases trained
            // from scratch: members at F1 0.34 and 0.31, their average 0.02): refused, naming each member's base.
            if (combination == Combination.Average && DifferentBases(packages, models) is { } bases)
            {
                stderr.WriteLine($"{combination.Command}: the packages were not fine-tuned from one base ({bases}), so their weights cannot be averaged; combine them with models ensemble");
                return BadArguments;
            }

            weights = combination.Combine(models);
        }
        catch (ModelPackageException e)
        {
            // A member a worker would refuse: "model unusable", exit 3, as for every command that loads a model.
            return DerivedPackages.ReportUnusable(combination.Command, e, stderr);
        }
        catch (Exception e) when (DerivedPackages.IsInputProblem(e))
        {
            stderr.WriteLine($"{combination.Command}: {ModelCli.OneLine(e)}");
            return BadArguments;
        }

        var first = models[0].Manifest!;
        var data = first.Training.Data?.DeepClone() as JsonObject ?? [];
        data.Remove("history");
        var members = new JsonArray();
        for (var i = 0; i < models.Count; i++)
        {
            var m = models[i].Manifest!;
            members.Add(new JsonObject
            {
                ["name"] = m.Name,
                ["version"] = m.Version,
                ["sha256"] = m.Onnx.Sha256,
                ["splitSeed"] = (m.Training.Data?["split"] as JsonObject)?["seed"]?.DeepClone(),
                ["base"] = m.Training.Data?["base"]?.DeepClone(),
            });
        }

        // The recorded split is the first member's: `evaluate --split test` reads it back. Members held out from other
        // objects (another seed or fraction of the same data, another test-ids file) have been trained on some of those:
        // until 2026-12-07 the package said "the test part is the same for all" and evaluate reported a test part that
        // 7 of 9 objects of a member's training part were in. The split is left out then (evaluate --split test refuses
        // a package without one), and said.
        var parts = models.Select(m => TestPart(m.Manifest!)).ToList();
        var sameTestPart = parts.Distinct(StringComparer.Ordinal).Count() == 1;
        string note;
        if (sameTestPart)
        {
            note = "the other fields describe the first member; each member drew its own validation part (splitSeed), the test part is the same for all";
        }
        else
        {
            data.Remove("split");
            for (var i = 0; i < models.Count; i++)
            {
                members[i]!["testPart"] = parts[i] ?? "not recorded";
            }

            note = "the other fields describe the first member; the members were held out from different test parts (testPart), so no split is recorded: evaluate the package on objects none of its members was trained on";
            stderr.WriteLine($"warning: {combination.Command}: the members were not held out from the same objects ({string.Join("; ", packages.Select((p, i) => $"{p}: {parts[i] ?? "no split recorded"}"))}); the package records no test part, so `evaluate --split test` refuses it: evaluate it with --split all on objects none of the members was trained on");
        }

        data[combination.Key] = new JsonObject
        {
            ["rule"] = combination.Rule,
            ["members"] = members,
            ["note"] = note,
        };
        ModelManifest manifest;
        try
        {
            manifest = DerivedPackages.Write(
                weights,
                first,
                data,
                output,
                name,
                version,
                written => string.Create(CultureInfo.InvariantCulture, $"Made by `alertbroker {combination.Command}` from {models.Count} packages: {combination.Card}. Members: {string.Join(", ", models.Select(m => $"{m.Manifest!.Name} {m.Manifest.Version} (ONNX sha256 {m.Manifest.Onnx.Sha256[..12]}…)"))}. {(written.EffectiveDetectionsOnly ? "Fed detections only, as its members." : "Fed every point, as its members.")}"),
                combination.EveryMemberCard ? packages : [packages[0]]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A place that cannot be written is exit 1, as for train's --out and every other output (it was 2, a usage
            // error, until 2026-12-07); a name the file system refuses stays a usage error.
            stderr.WriteLine($"{combination.Command}: cannot write the output: {ModelCli.OneLine(e)}");
            return e is ArgumentException ? BadArguments : 1;
        }
        catch (ModelPackageException e)
        {
            // A name or version taken from --out that model.json does not accept (e.g. --out /).
            stderr.WriteLine($"{combination.Command}: {ModelCli.OneLine(e)}; give --name and --version");
            return BadArguments;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{combination.Verb} {models.Count} models into {manifest.Name} {manifest.Version} in {output} (sha256 {manifest.Onnx.Sha256[..12]}; {(manifest.EffectiveDetectionsOnly ? "detections only" : "every point")}); evaluate it with: alertbroker evaluate --model {output} …"));
        return 0;
    }
}
