using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker models priors PACKAGE --priors CLASS=P,… --out DIR</c>: the same network moved to the class mix of the
/// stream it will score (<see cref="ClassPriors"/>): only the output bias changes.
/// </summary>
internal static class PriorsCommand
{
    public const int BadArguments = 2;

    public static Command Create()
    {
        var package = new Argument<string>("package") { Description = "The package directory to adjust." }.MustExist(PathKind.Directory);
        var priors = new Option<string>("--priors") { Description = "The class mix of the stream the model will score, CLASS=VALUE for every class (normalised to sum 1), e.g. SNIa=0.75,SNII=0.18,SNIbc=0.055,SLSN-I=0.011,TDE=0.006.", Required = true };
        var trainingPriors = new Option<string?>("--training-priors") { Description = "The mix the network was effectively trained on, when model.json does not say (default: the recorded class counts weighted by the recorded class weights)." };
        var source = new Option<string?>("--source") { Description = "Where the --priors come from (kept in model.json)." };
        var output = new Option<string>("--out") { Description = "Package directory to write (models/<name>/<version>); must not hold a package yet.", Required = true }.OutputDirectory();
        var name = new Option<string?>("--name") { Description = "Model name (default: the parent folder of --out)." }.PathSegment();
        var version = new Option<string?>("--version") { Description = "Model version (default: the last folder of --out)." }.PathSegment();
        var command = new Command("priors", "Move a model to the class mix of the stream it scores (Bayes' rule on the output bias; the network is otherwise unchanged), e.g. a model trained on an equal mix to a survey's natural mix (exit 2 when the priors cannot be set).")
        {
            package, priors, trainingPriors, source, output, name, version,
        };
        command.SetAction(parse => Run(parse.GetValue(package)!, parse.GetValue(priors)!, parse.GetValue(trainingPriors), parse.GetValue(source), parse.GetValue(output)!, parse.GetValue(name), parse.GetValue(version), Console.Out, Console.Error));
        return command;
    }

    /// <summary>Exit 0 with the package written; 2 (one line) when the package cannot be read or the priors are unusable.</summary>
    internal static int Run(string package, string priors, string? trainingPriors, string? source, string output, string? name, string? version, TextWriter stdout, TextWriter stderr)
    {
        if (DerivedPackages.OutNamesProblem(output, name, version) is { } outProblem)
        {
            stderr.WriteLine($"models priors: {outProblem}");
            return BadArguments;
        }

        if (DerivedPackages.AlreadyHoldsAPackage("models priors", output, stderr))
        {
            return BadArguments;
        }

        TrainedModel model;
        IReadOnlyDictionary<string, double> deployment;
        IReadOnlyDictionary<string, double> training;
        Model.Network.GruClassifierWeights adjusted;
        try
        {
            model = DerivedPackages.Load(package);
            var manifest = model.Manifest!;
            deployment = ClassPriors.Parse(priors, model.Classes);
            string? why = null;
            training = trainingPriors is not null
                ? ClassPriors.Parse(trainingPriors, model.Classes)
                : ClassPriors.TrainingPriors(manifest, out why) ?? throw new ArgumentException($"{why}; give --training-priors");
            adjusted = ClassPriors.Adjust(model.Weights, model.Classes, training, deployment);
        }
        catch (ModelPackageException e)
        {
            return DerivedPackages.ReportUnusable("models priors", e, stderr);
        }
        catch (Exception e) when (DerivedPackages.IsInputProblem(e))
        {
            stderr.WriteLine($"models priors: {ModelCli.OneLine(e)}");
            return BadArguments;
        }

        var first = model.Manifest!;
        var data = first.Training.Data?.DeepClone() as JsonObject ?? [];
        data["priors"] = ClassPriors.Record(training, deployment, model.Classes, source ?? "given with --priors");
        data["adjustedFrom"] = new JsonObject { ["name"] = first.Name, ["version"] = first.Version, ["sha256"] = first.Onnx.Sha256 };
        ModelManifest manifestOut;
        var inv = CultureInfo.InvariantCulture;
        try
        {
            manifestOut = DerivedPackages.Write(
                adjusted,
                first,
                data,
                output,
                name,
                version,
                _ => $"Made by `alertbroker models priors` from {first.Name} {first.Version} (ONNX sha256 {first.Onnx.Sha256[..12]}…): the same network with its output bias moved by Bayes' rule from the class mix it was effectively trained on ({ClassPriors.Describe(training, model.Classes)}) to the mix of the stream it scores ({ClassPriors.Describe(deployment, model.Classes)}; source: {source ?? "given with --priors"}). Each class probability is rescaled by deployment/training and all renormalised: the class named first follows the new mix.",
                package);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A place that cannot be written is exit 1, as for train's --out and every other output (it was 2, a usage
            // error, until 2026-12-07); a name the file system refuses stays a usage error.
            stderr.WriteLine($"models priors: cannot write the output: {ModelCli.OneLine(e)}");
            return e is ArgumentException ? BadArguments : 1;
        }
        catch (ModelPackageException e)
        {
            // A name or version taken from --out that model.json does not accept (e.g. --out /).
            stderr.WriteLine($"models priors: {ModelCli.OneLine(e)}; give --name and --version");
            return BadArguments;
        }

        stdout.WriteLine(string.Create(inv, $"wrote {manifestOut.Name} {manifestOut.Version} in {output} (sha256 {manifestOut.Onnx.Sha256[..12]})"));
        stdout.WriteLine($"  trained on   {ClassPriors.Describe(training, model.Classes)}");
        stdout.WriteLine($"  deployed to  {ClassPriors.Describe(deployment, model.Classes)}");
        // ln d − ln t, as ClassPriors.Adjust moves the bias: the ratio d/t overflows a double for a share as small as 1e-320
        // (printed "Infinity" for a finite shift).
        stdout.WriteLine("  output bias  " + string.Join(", ", model.Classes.Select(c => string.Create(inv, $"{c} {Signed(Math.Log(deployment[c]) - Math.Log(training[c])):+0.000;-0.000}"))));
        return 0;
    }

    // Rounded first: a shift that rounds to zero from below printed "-+0.000" (.NET formats it by the first section after
    // the minus sign); −0 becomes +0.
    internal static double Signed(double shift) => Math.Round(shift, 3) + 0.0;
}
