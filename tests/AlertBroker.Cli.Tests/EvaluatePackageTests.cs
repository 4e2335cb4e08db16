using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AlertBroker.Model.Network;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// <c>evaluate</c> on model packages that are not what model.json says (a swapped or missing file: model unusable, exit 3,
/// never figures under the wrong name), and on a shipped model's recorded test part from outside the checkout. Run as the
/// built program.
/// </summary>
public sealed class EvaluatePackageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-evaluate-package-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // evaluate shares its data options with train: its help said --no-meta trains a network and --seed seeds weights.
    [Fact]
    public void Help_DataOptionsSayWhatEvaluateDoesWithThem()
    {
        var evaluate = AlertBrokerCommand.Create().Subcommands.Single(c => c.Name == "evaluate");
        string Description(string name) => evaluate.Options.Single(o => o.Name == name).Description!;

        Assert.DoesNotContain("train", Description("--no-meta"), StringComparison.Ordinal);
        Assert.Contains("unknown", Description("--no-meta"), StringComparison.Ordinal);
        foreach (var name in new[] { "--seed", "--val", "--test" })
        {
            Assert.StartsWith("With --split:", Description(name), StringComparison.Ordinal);
        }

        // train's own help is unchanged.
        var train = AlertBrokerCommand.Create().Subcommands.Single(c => c.Name == "train");
        Assert.Contains("initial weights", train.Options.Single(o => o.Name == "--seed").Description!, StringComparison.Ordinal);
    }

    private string WriteData()
    {
        var dir = Path.Combine(_root, "ztf-toy");
        Directory.CreateDirectory(dir);
        var lc = new StringBuilder("object_id,mjd,band,mag,mag_err\n");
        var meta = new StringBuilder("object_id,class\n");
        for (var i = 0; i < 12; i++)
        {
            meta.Append(CultureInfo.InvariantCulture, $"ZTFtoy{i:D3},{(i % 2 == 0 ? "SNIa" : "SNII")}\n");
            for (var t = 0; t < 5; t++)
            {
                lc.Append(CultureInfo.InvariantCulture, $"ZTFtoy{i:D3},{59000 + (2.5 * t)},{(t % 2 == 0 ? "g" : "r")},{18.5 + (0.05 * t * (i % 2)):0.000},0.05\n");
            }
        }

        File.WriteAllText(Path.Combine(dir, "ztf_toy_lightcurves.csv"), lc.ToString());
        File.WriteAllText(Path.Combine(dir, "ztf_toy_metadata.csv"), meta.ToString());
        return dir;
    }

    private string Package(string version, long seed, JsonObject? trainingData = null)
    {
        var dir = Path.Combine(_root, "models", "toy", version);
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(2, metadata: false) with { HiddenSize = 4 }, seed);
        ModelIo.Export(weights, ["SNIa", "SNII"], "toy", version, dir, trainingData ?? [], new Dictionary<string, double>(), surveys: ["ztf"]);
        return dir;
    }

    // The model's name directory (models/toy) for a package (models/toy/2.10.0): every command that loads a package says
    // which versions it holds and which to give (it said "model.json is missing; model.onnx is missing"), exit 3 as before.
    [SharedDataFact]
    public async Task ModelNameDirectoryForAPackage_EveryCommandNamesTheVersionToGive()
    {
        var data = WriteData();
        Package("2.9.0", 1);
        var newest = Package("2.10.0", 2);
        var name = Path.GetDirectoryName(newest)!;
        var alerts = SharedData.Path("alert-samples", "ztf");
        string[][] commands =
        [
            ["evaluate", "--model", name, "--data", data],
            ["finetune", "--from", name, "--data", data, "--no-meta", "--epochs", "1", "--quiet", "--out", Path.Combine(_root, "out", "toy", "3.0.0")],
            ["score", "--model", name, alerts],
            ["models", "inspect", name],
            ["models", "push", name, "--registry", Path.Combine(_root, "registry")],
        ];

        foreach (var args in commands)
        {
            var (code, output, _) = await AlertBrokerProcess.RunAsync(args);

            Assert.True(code == 3, $"{string.Join(' ', args)}: exit {code}: {output}");
            Assert.Contains($"model.json is missing: {name} holds packages in its subdirectories 2.9.0, 2.10.0 (a package is NAME/VERSION): give {newest}", output, StringComparison.Ordinal);
            Assert.DoesNotContain("model.onnx is missing", output, StringComparison.Ordinal);
        }
    }

    // A directory where model.json or model.onnx should be: every other command says so; evaluate said "is missing".
    [Theory]
    [InlineData("model.json")]
    [InlineData("model.onnx")]
    public async Task Evaluate_PackageFileThatIsADirectory_SaidAsADirectory(string file)
    {
        var data = WriteData();
        var package = Package("1.0.0", 1);
        File.Delete(Path.Combine(package, file));
        Directory.CreateDirectory(Path.Combine(package, file));

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", package, "--data", data]);

        Assert.True(code == 3, $"exit {code}: {output}");
        Assert.Contains(file + " is a directory, not a regular file", output, StringComparison.Ordinal);
        Assert.DoesNotContain("is missing", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_OnnxSwappedForAnotherNetwork_ModelUnusableExitThree()
    {
        // model.json says 1.0.0, model.onnx is 2.0.0's network: it was evaluated, its figures printed as 1.0.0's.
        var data = WriteData();
        var one = Package("1.0.0", 1);
        var two = Package("2.0.0", 2);
        File.Copy(Path.Combine(two, "model.onnx"), Path.Combine(one, "model.onnx"), overwrite: true);

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", one, "--data", data]);

        Assert.True(code == 3, $"exit {code}: {output}");
        Assert.Contains("model unusable (invalid model package)", output, StringComparison.Ordinal);
        Assert.Contains("HashMismatch", output, StringComparison.Ordinal);
        Assert.DoesNotContain("macro AUROC", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_SplitOfAPackageThatRecordsNone_RefusedUntilTheSplitIsGiven()
    {
        // model.json without training.data.split (a package written by hand, or from an outside graph): --split test was
        // the default split's test part (seed 1, 0.15/0.15), objects the model may have been trained on, reported as held out.
        var data = WriteData();
        var package = Package("1.0.0", 1);

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", package, "--data", data, "--split", "test"]);

        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains("records no training split (training.data.split), so which objects it saw is not known", output, StringComparison.Ordinal);
        Assert.DoesNotContain("macro AUROC", output, StringComparison.Ordinal);

        // The split given: evaluated (6 of 12 objects in the test part); --split all needs none.
        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", package, "--data", data, "--split", "test", "--seed", "3", "--test", "0.5", "--val", "0"]);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.Contains("6 objects", output, StringComparison.Ordinal);
        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", package, "--data", data]);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.Contains("12 objects", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_LightCurvesOfASurveyTheModelDoesNotDeclare_SaidOnStderrAndInTheReport()
    {
        // A ZTF model on DES bands was evaluated without a word (score warns of the same for alerts).
        var ztf = WriteData();
        var des = LabelledPairs.CopyAs(ztf, "ztf_toy", Path.Combine(_root, "des-toy"), "des_toy");
        var package = Package("1.0.0", 1);
        var report = Path.Combine(_root, "report");

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", package, "--data", des, "--report", report]);

        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.Contains("warning: toy 1.0.0 was not trained for the des survey (it declares ztf): 12 of 12 objects have des bands", output, StringComparison.Ordinal);
        var conditions = JsonNode.Parse(File.ReadAllText(Path.Combine(report, "evaluation.json")))!["conditions"]!.GetValue<string>();
        Assert.EndsWith("; des bands, the model declares ztf", conditions, StringComparison.Ordinal);

        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", package, "--data", ztf]);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.DoesNotContain("warning", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_SplitSettingOtherThanTheRecordedOne_SaidOnStderrAndInTheReport()
    {
        // model.json records seed 1, 0.2/0.25; --seed 5 evaluated another split's test part, objects the model was
        // trained on among them, reported as "(test part)" without a word. A model fitted on every object (test fraction
        // 0) given --test 0.3 or a --test-ids file had its training objects reported as held out.
        var data = WriteData();
        var split = Package("3.0.0", 1, new JsonObject { ["split"] = new JsonObject { ["seed"] = 1, ["validationFraction"] = 0.2, ["testFraction"] = 0.25 } });
        var all = Package("4.0.0", 1, new JsonObject { ["split"] = new JsonObject { ["seed"] = 1, ["validationFraction"] = 0.2, ["testFraction"] = 0 } });
        var ids = Path.Combine(_root, "ids.txt");
        File.WriteAllLines(ids, ["ZTFtoy000", "ZTFtoy001", "ZTFtoy002", "ZTFtoy003"]);
        var report = Path.Combine(_root, "report");
        const string Said = "not the split model.json records, so this test part is not the one the model was held out from";

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", split, "--data", data, "--split", "test", "--seed", "5", "--report", report]);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.Contains($"warning: --seed 5 (model.json records 1): {Said}", output, StringComparison.Ordinal);
        var line = JsonNode.Parse(File.ReadAllText(Path.Combine(report, "evaluation.json")))!["data"]!.GetValue<string>();
        Assert.EndsWith("(test part of a split other than the one model.json records)", line, StringComparison.Ordinal);

        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", all, "--data", data, "--split", "test", "--test", "0.3"]);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.Contains($"--test 0.3 (model.json records 0): {Said}", output, StringComparison.Ordinal);
        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", all, "--data", data, "--split", "test", "--test-ids", ids]);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.Contains("(model.json records a split by fractions, no test ids)", output, StringComparison.Ordinal);

        // Ids that name exactly the test part of the split model.json records by fractions (what `split` writes with the
        // same rule, as data/splits/ztf-bts-test-ids.txt is for ztf-bts 1.0.0) hold out the same objects: the warning
        // said otherwise.
        var byFractions = Package("5.0.0", 1, new JsonObject { ["split"] = new JsonObject { ["seed"] = 7, ["validationFraction"] = 0, ["testFraction"] = 0.3 } });
        var same = Path.Combine(_root, "same-ids.txt");
        (code, output, _) = await AlertBrokerProcess.RunAsync(["split", "--data", data, "--classes", "SNIa,SNII", "--test", "0.3", "--seed", "7", "--out", same]);
        Assert.True(code == 0, $"exit {code}: {output}");
        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", byFractions, "--data", data, "--split", "test", "--test-ids", same]);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.DoesNotContain("warning", output, StringComparison.Ordinal);
        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", byFractions, "--data", data, "--split", "test", "--test-ids", ids]);
        Assert.Contains("(model.json records a split by fractions, no test ids)", output, StringComparison.Ordinal);

        // The recorded settings given again, or none given: no warning.
        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", split, "--data", data, "--split", "test", "--seed", "1", "--test", "0.25", "--report", report]);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.DoesNotContain("warning", output, StringComparison.Ordinal);
        Assert.EndsWith("(test part)", JsonNode.Parse(File.ReadAllText(Path.Combine(report, "evaluation.json")))!["data"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model.json")]
    [InlineData("model.onnx")]
    public async Task Evaluate_PackageMissingAFile_ModelUnusableExitThreeNamingIt(string missing)
    {
        // Was "cannot start: Could not find file '…/model.json'", exit 1 (the README: a model that cannot be used is 3).
        var data = WriteData();
        var package = Package("1.0.0", 1);
        File.Delete(Path.Combine(package, missing));

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", package, "--data", data]);

        Assert.True(code == 3, $"exit {code}: {output}");
        Assert.Contains($"MissingFile: {missing} is missing", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public void Evaluate_ShippedModelTestSplitFromAnotherDirectory_FindsTheRecordedTestIds()
    {
        // model.json records data/splits/ztf-bts-test-ids.txt, relative to the checkout: run from anywhere else (a
        // published build), --split test ended in "cannot read the test ids: Could not find a part of the path".
        var root = SharedData.RepositoryRoot();
        Assert.NotNull(root);
        var model = Path.Combine(root, "models", "ztf-bts", "2.6.0");

        var run = AlertBrokerProcess.RunToEnd(_root, "evaluate", "--model", model, "--data", SharedData.Path("labelled", "ztf-bts"), "--split", "test");

        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}");
        Assert.Contains("482 objects", run.Output, StringComparison.Ordinal);
    }
}
