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
/// </summary>
internal static class AverageCommand
{
    public const int BadArguments = 2;

    public static Command Create()
    {
        var packages = new Argument<string[]>("packages") { Description = "Two or more package directories of one architecture (e.g. one recipe fine-tuned with several seeds).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Package directory to write (models/<name>/<version>); must not hold a package yet.", Required = true };
        var name = new Option<string?>("--name") { Description = "Model name (default: the parent folder of --out)." };
        var version = new Option<string?>("--version") { Description = "Model version (default: the last folder of --out)." };
        var command = new Command("average", "Average the weights of several fine-tunes of one base (e.g. seeds of one recipe) into one package; evaluate it like any other (exit 2 when the packages cannot be averaged).")
        {
            packages, output, name, version,
        };
        command.SetAction(parse => Run(parse.GetValue(packages)!, parse.GetValue(output)!, parse.GetValue(name), parse.GetValue(version), Console.Out, Console.Error));
        return command;
    }

    /// <summary>Exit 0 with the package written; 2 (one line) when the packages cannot be read or averaged.</summary>
    internal static int Run(IReadOnlyList<string> packages, string output, string? name, string? version, TextWriter stdout, TextWriter stderr)
    {
        if (DerivedPackages.AlreadyHoldsAPackage("models average", output, stderr))
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

            weights = ModelIo.Average(models);
        }
        catch (Exception e) when (DerivedPackages.IsInputProblem(e))
        {
            stderr.WriteLine($"models average: {ModelCli.OneLine(e)}");
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
                ["splitSeed"] = m.Training.Data?["split"]?["seed"]?.DeepClone(),
            });
        }

        data["average"] = new JsonObject
        {
            ["rule"] = "element-wise mean of the members' weights",
            ["members"] = members,
            ["note"] = "the other fields describe the first member; each member drew its own validation part (splitSeed), the test part is the same for all",
        };
        ModelManifest manifest;
        try
        {
            manifest = DerivedPackages.Export(weights, first, data, output, name, version);
            DerivedPackages.WriteCard(
                output,
                manifest.Name,
                manifest.Version,
                string.Create(CultureInfo.InvariantCulture, $"Made by `alertbroker models average` from {models.Count} packages: the element-wise mean of their weights, one network scored at the cost of one. Members: {string.Join(", ", models.Select(m => $"{m.Manifest!.Name} {m.Manifest.Version} (ONNX sha256 {m.Manifest.Onnx.Sha256[..12]}…)"))}. {(manifest.EffectiveDetectionsOnly ? "Fed detections only, as its members." : "Fed every point, as its members.")}"),
                packages[0]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"models average: cannot write the output: {ModelCli.OneLine(e)}");
            return BadArguments;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"averaged {models.Count} models into {manifest.Name} {manifest.Version} in {output} (sha256 {manifest.Onnx.Sha256[..12]}; {(manifest.EffectiveDetectionsOnly ? "detections only" : "every point")}); evaluate it with: alertbroker evaluate --model {output} …"));
        return 0;
    }
}
