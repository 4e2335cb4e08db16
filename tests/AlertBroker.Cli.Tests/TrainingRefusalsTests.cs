using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AlertBroker.Model.Network;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// What a tester gave train, finetune, evaluate, experiment transfer and simulate that they accepted or refused in the
/// wrong way: each is now refused with a message naming the mistake, before any training. Bases and teachers are
/// exported with random weights (no training); the data are 30 tiny light curves. Run as the built program.
/// </summary>
public sealed class TrainingRefusalsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-train-refusals-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string WriteData(Func<int, int>? classOf = null, int objects = 30, string name = "ztf-toy")
    {
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        var lc = new StringBuilder("object_id,mjd,band,mag,mag_err\n");
        var meta = new StringBuilder("object_id,class,redshift,a_v\n");
        string[] classes = ["SNIa", "SNII", "TDE"];
        for (var i = 0; i < objects; i++)
        {
            var cls = classOf?.Invoke(i) ?? i % 3;
            meta.Append(CultureInfo.InvariantCulture, $"ZTFtoy{i:D3},{classes[cls]},{0.05 + (0.001 * i)},0.1\n");
            for (var t = 0; t < 6; t++)
            {
                lc.Append(CultureInfo.InvariantCulture, $"ZTFtoy{i:D3},{59000 + (2.5 * t)},{(t % 2 == 0 ? "g" : "r")},{18.5 + ((cls - 1) * 0.1 * t):0.000},0.05\n");
            }
        }

        File.WriteAllText(Path.Combine(dir, "ztf_toy_lightcurves.csv"), lc.ToString());
        File.WriteAllText(Path.Combine(dir, "ztf_toy_metadata.csv"), meta.ToString());
        return dir;
    }

    private string Package(string name, string version, params string[] classes) => Package(name, version, ["ztf"], classes);

    private string Package(string name, string version, string[] surveys, params string[] classes)
    {
        var dir = Path.Combine(_root, "models", name, version);
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(classes.Length, metadata: false) with { HiddenSize = 4 }, 3);
        ModelIo.Export(weights, classes, name, version, dir, new JsonObject(), new Dictionary<string, double>(), surveys: surveys);
        return dir;
    }

    private string Ids(params string[] ids)
    {
        var file = Path.Combine(_root, $"ids-{ids.Length}-{Guid.NewGuid():N}.txt");
        File.WriteAllLines(file, ids);
        return file;
    }

    private string Out => Path.Combine(_root, "out", "1.0.0");

    private async Task<string> Refused(int expected, params string[] args)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(args);
        Assert.True(expected == code, $"exit {code}, not {expected}: {output}");
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out));
        return output;
    }

    // A directory where a package file goes (model.json, MODEL_CARD.md) was refused only after the training ran to its end,
    // as an "unexpected error", exit 70. It is refused before any training now, as an output that cannot be written.
    [Theory]
    [InlineData("train", "model.json")]
    [InlineData("finetune", "MODEL_CARD.md")]
    public async Task TrainingCommands_ADirectoryWhereAPackageFileGoes_RefusedBeforeTraining(string command, string file)
    {
        var data = WriteData();
        var target = Path.Combine(_root, "taken", "1.0.0");
        var taken = Directory.CreateDirectory(Path.Combine(target, file)).FullName;
        string[] args = command == "train"
            ? ["train", "--data", data, "--epochs", "1", "--quiet", "--out", target]
            : ["finetune", "--from", Package("base", "1.0.0", "SNIa", "SNII", "TDE"), "--data", data, "--epochs", "1", "--quiet", "--no-meta", "--out", target];

        var (code, output, _) = await AlertBrokerProcess.RunAsync(args);

        Assert.True(code == 1, $"exit {code}: {output}");
        var flat = string.Concat(output.Where(c => !char.IsWhiteSpace(c)));
        Assert.Contains(string.Concat(($"cannot write {target}: {taken} is a directory; this run writes a file there").Where(c => !char.IsWhiteSpace(c))), flat, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch", output, StringComparison.OrdinalIgnoreCase);
        Assert.Equal([taken], Directory.GetFileSystemEntries(target));
    }

    [Fact]
    public async Task Finetune_ClassesNamesOneNeitherBaseNorDataHas_ExitTwoNamingIt()
    {
        var data = WriteData();
        var baseDir = Package("base", "1", "SNIa", "SNII", "TDE");

        var output = await Refused(2, "finetune", "--from", baseDir, "--data", data, "--no-meta", "--classes", "SNIa,SNII,Foo", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("--classes names Foo, a class neither the base model nor the data has", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hidden", "is not a sound model package")] // in the graph's tensors (h0): the package check sees it
    [InlineData("merge", "model.json's network is not the ONNX graph's: merge")] // inside the graph only
    public async Task Finetune_BaseWhoseModelJsonDescribesAnotherNetwork_ModelUnusableExitThreeSayingWhat(string field, string message)
    {
        // model.json says 200 hidden units over a 100-unit graph (its hash left right): models inspect refuses it
        // (TensorMismatch); finetune trained from it and exported, exit 0.
        var data = WriteData();
        var baseDir = Package("base", "1", "SNIa", "SNII", "TDE");
        var manifestPath = Path.Combine(baseDir, "model.json");
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!;
        manifest["network"]![field] = manifest["network"]![field]!.GetValue<int>() * 2;
        await File.WriteAllTextAsync(manifestPath, manifest.ToJsonString());

        var output = await Refused(3, "finetune", "--from", baseDir, "--data", data, "--no-meta", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("model unusable (invalid model package): ", output, StringComparison.Ordinal);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A base, teacher or experiment base that a worker would refuse is "model unusable", exit 3, as for every command
    /// that loads a model (the README's rule); finetune said "cannot start", exit 1, and experiment transfer exit 1.
    /// </summary>
    [Theory]
    [InlineData("finetune --from {broken} --data {data} --no-meta --epochs 1 --quiet --out {out}", "model.json", "{broken} is not a sound model package: MissingFile: model.json is missing")]
    [InlineData("finetune --from {broken} --data {data} --no-meta --epochs 1 --quiet --out {out}", "model.onnx", "{broken} is not a sound model package: MissingFile: model.onnx is missing")]
    [InlineData("finetune --from {broken} --data {data} --no-meta --epochs 1 --quiet --out {out}", "cut", "{broken} is not a sound model package: HashMismatch")]
    [InlineData("finetune --from {good} --distill-from {broken} --data {data} --no-meta --epochs 1 --quiet --out {out}", "model.onnx", "--distill-from: {broken} is not a sound model package: MissingFile: model.onnx is missing")]
    [InlineData("finetune --from {good} --distill-from {broken} --data {data} --no-meta --epochs 1 --quiet --out {out}", "cut", "--distill-from: {broken} is not a sound model package: HashMismatch")]
    [InlineData("train --distill-from {broken} --data {data} --no-meta --epochs 1 --quiet --out {out}", "model.json", "--distill-from: {broken} is not a sound model package: MissingFile: model.json is missing")]
    [InlineData("experiment transfer --base {broken} --ztf-sim {data} --bts {data} --des {data} --targets ztf-bts --quick --out {out}", "cut", "experiment transfer: {broken} is not a sound model package: HashMismatch")]
    public async Task TrainingCommands_ABaseOrTeacherAWorkerWouldRefuse_ModelUnusableExitThree(string command, string damage, string says)
    {
        var data = WriteData();
        var good = Package("base", "1", "SNIa", "SNII", "TDE");
        var broken = Package("broken", "1", "SNIa", "SNII", "TDE");
        if (damage == "cut")
        {
            // model.onnx cut short, model.json left as it was: its SHA-256 no longer matches.
            var onnx = Path.Combine(broken, "model.onnx");
            File.WriteAllBytes(onnx, File.ReadAllBytes(onnx)[..200]);
        }
        else
        {
            File.Delete(Path.Combine(broken, damage));
        }

        string Fill(string text) => text.Replace("{broken}", broken, StringComparison.Ordinal).Replace("{good}", good, StringComparison.Ordinal)
            .Replace("{data}", data, StringComparison.Ordinal).Replace("{out}", Out, StringComparison.Ordinal);
        var output = await Refused(3, Fill(command).Split(' '));

        Assert.Contains("model unusable (invalid model package): " + Fill(says), output, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot start", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not find", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gru5,output", "gru5")]
    [InlineData("meta", "meta")]
    public async Task Finetune_TrainNamesALayerTheBaseLacks_ExitTwoNamingIt(string layers, string named)
    {
        // A two-layer base without a metadata branch: gru5 or meta trained nothing, and the "fine-tuned" package was the base.
        var data = WriteData();
        var baseDir = Package("base", "1", "SNIa", "SNII", "TDE");

        var output = await Refused(2, "finetune", "--from", baseDir, "--data", data, "--no-meta", "--train", layers, "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains($"--train names {named}, which the base model does not have", output, StringComparison.Ordinal);
        Assert.Contains("gru0, gru1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_AugmentLateDaysWithoutLateStart_ExitTwo()
    {
        var output = await Refused(2, "train", "--data", WriteData(), "--augment-late-days", "5", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("--augment-late-days sets the longest late start: it needs --augment-late-start above 0", output, StringComparison.Ordinal);
    }

    // Found by the bug hunts: `--surveys lsst` on ZTF light curves, and a teacher made for LSST distilled into a ZTF
    // student, were accepted without a word. The package then declared LSST (a registry routes every Rubin alert to it
    // once promoted) without having seen a Rubin light curve. Still allowed (a user may mean it), but said on stderr.
    [Fact]
    public async Task TrainAndFinetune_SurveysTheDataDoNotHold_AWarningOnStderr_ExitZero()
    {
        var data = WriteData();

        var lsst = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--surveys", "ztf,lsst", "--out", Out]);
        Assert.True(lsst.Code == 0, lsst.Output);
        Assert.Contains("warning: --surveys ztf,lsst: the training data hold no lsst bands (they hold ztf), so the model is declared for alerts it has never been shown", lsst.Stderr, StringComparison.Ordinal);

        var ztf = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--surveys", "ztf", "--out", Path.Combine(_root, "out", "2.0.0")]);
        Assert.True(ztf.Code == 0, ztf.Output);
        Assert.DoesNotContain("warning", ztf.Stderr, StringComparison.Ordinal);

        var baseDir = Package("base", "1", "SNIa", "SNII", "TDE");
        var teacher = Package("teacher", "1", ["lsst"], "SNIa", "SNII", "TDE");
        var distilled = await AlertBrokerProcess.RunToEndAsync(["finetune", "--from", baseDir, "--data", data, "--no-meta", "--distill-from", teacher, "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", Path.Combine(_root, "out", "3.0.0")]);
        Assert.True(distilled.Code == 0, distilled.Output);
        Assert.Contains("warning: --distill-from teacher 1 was not trained for the ztf survey of the training data (it declares lsst)", distilled.Stderr, StringComparison.Ordinal);
    }

    // Found by the trainer bug hunt: --exclude-ids was not recorded, so `evaluate --split test` of a model split by
    // fractions drew its test part from every object: 9 objects where training had held out 7, one of them trained on
    // and two never seen. The file is recorded beside the split now, and evaluate leaves the same objects out.
    [Fact]
    public async Task Evaluate_SplitByFractionsAfterExcludeIds_IsTheTestPartTrainingHeldOut()
    {
        var data = WriteData();
        string[] excludedIds = ["ZTFtoy000", "ZTFtoy001", "ZTFtoy002", "ZTFtoy003", "ZTFtoy004", "ZTFtoy005"];
        var excluded = Ids(excludedIds);
        var trained = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet",
            "--exclude-ids", excluded, "--val", "0.2", "--test", "0.3", "--seed", "3", "--out", Out]);
        Assert.True(trained.Code == 0, trained.Output);
        var split = JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "model.json")))!["training"]!["data"]!["split"]!;
        Assert.Equal(excluded, (string)split["excludeIds"]!);
        var heldOut = (int)split["test"]!;

        var predictions = Path.Combine(_root, "p.csv");
        var evaluated = await AlertBrokerProcess.RunToEndAsync(["evaluate", "--model", Out, "--data", data, "--split", "test", "--predictions", predictions]);

        Assert.True(evaluated.Code == 0, evaluated.Output);
        Assert.DoesNotContain("warning", evaluated.Stderr, StringComparison.Ordinal);
        var ids = File.ReadLines(predictions).Skip(1).Select(l => l.Split(',')[0]).Distinct().ToList();
        Assert.Equal(heldOut, ids.Count);
        Assert.Empty(ids.Intersect(excludedIds));

        // Other ids left out at evaluation: another split, said.
        var other = await AlertBrokerProcess.RunToEndAsync(["evaluate", "--model", Out, "--data", data, "--split", "test", "--exclude-ids", Ids("ZTFtoy010")]);
        Assert.True(other.Code == 0, other.Output);
        Assert.Contains("(not the file model.json records", other.Stderr, StringComparison.Ordinal);
    }

    // Found by the trainer bug hunt: with --lr 1e30 the weights became NaN, the NaN validation loss was read as "no
    // validation part", and the package was exported (exit 0, "test: macro AUROC 0.556" from NaN probabilities); evaluate
    // and models inspect then refused it (exit 3). Training stops at the epoch, says why, and writes nothing.
    [Theory]
    [InlineData("train")]
    [InlineData("finetune")]
    public async Task TrainAndFinetune_ALearningRateThatDiverges_ExitOneNamingTheEpochAndWritesNothing(string command)
    {
        var data = WriteData();
        string[] from = command == "finetune" ? ["--from", Package("base", "1", "SNIa", "SNII", "TDE"), "--train", "all"] : ["--classes", "SNIa,SNII,TDE"];
        var run = await AlertBrokerProcess.RunToEndAsync([command, .. from, "--data", data, "--no-meta", "--epochs", "3", "--batch", "8", "--threads", "1", "--quiet", "--lr", "1e30", "--out", Out]);

        Assert.True(run.Code == 1, run.Output);
        Assert.Contains("cannot train: training diverged at epoch 1", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("lower the learning rate (--lr, now 1E+30)", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out));

        // One step of it (one batch of 32): the weights grow huge but stay finite, the trainer's loss too, and ONNX
        // Runtime's probabilities are NaN. Exported with exit 0 (models inspect then refused it, exit 3); checked as every
        // load checks before anything is put in place.
        var once = await AlertBrokerProcess.RunToEndAsync([command, .. from, "--data", data, "--no-meta", "--epochs", "1", "--batch", "32", "--threads", "1", "--quiet", "--lr", "1e30", "--out", Out]);
        Assert.True(once.Code == 1, once.Output);
        Assert.Contains("cannot train:", once.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was written", once.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("test: macro AUROC", once.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out));
    }

    // Found by the trainer bug hunt: with --val 0 there is no validation part, and --select and --patience (which judge
    // epochs on it) were ignored without a word.
    [Theory]
    [InlineData("--select", "early-auroc")]
    [InlineData("--patience", "2")]
    public async Task Train_ValZeroWithAnOptionThatJudgesEpochsOnIt_ExitTwo(string option, string value)
    {
        var output = await Refused(2, "train", "--data", WriteData(), "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--val", "0", option, value, "--quiet", "--out", Out);

        Assert.Contains($"{option} judges epochs on the validation part, and --val 0 leaves none", output, StringComparison.Ordinal);

        // --patience 0 (off) says nothing about the validation part, and the scripts give it with --val 0.
        var off = await AlertBrokerProcess.RunToEndAsync(["train", "--data", WriteData(), "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--val", "0", "--patience", "0", "--quiet", "--out", Out]);
        Assert.True(off.Code == 0, off.Output);
    }

    // Found by the trainer bug hunt: 20 SNIa and 2 SNII, so the test part held SNIa only. train printed "test: macro AUROC
    // NaN, macro F1 1.000, accuracy 1.000" and wrote NaN into evaluation.json, exit 0. It is said, and no figures written.
    [Fact]
    public async Task Train_ATestPartOfOneClass_SaysSoAndWritesNoTestFigures()
    {
        var data = WriteData(i => i < 20 ? 0 : 1, objects: 22, name: "lopsided");

        var run = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--no-meta", "--classes", "SNIa,SNII", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--select", "auroc", "--out", Out]);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("are all of class SNIa: no test figures (macro AUROC needs two classes)", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("warning: --select auroc: the validation part's", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("macro F1 1.000", run.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Out, "evaluation.json")));
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "model.json")))!["training"]!["metrics"]!.AsObject();
        Assert.DoesNotContain(metrics, m => m.Key.StartsWith("test", StringComparison.Ordinal));
    }

    // Found by the trainer bug hunt: a base trained on the same data with another seed, fine-tuned: 7 of the 9 "test"
    // objects had been in the base's training part, and the test figures were reported as held out without a word.
    [Fact]
    public async Task Finetune_BaseTrainedOnTheSameDataWithAnotherSplit_AWarning()
    {
        var data = WriteData();
        var baseDir = Path.Combine(_root, "models", "same-data-base", "1.0.0");
        var trained = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--seed", "3", "--out", baseDir]);
        Assert.True(trained.Code == 0, trained.Output);

        string[] finetune = ["finetune", "--from", baseDir, "--data", data, "--no-meta", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet"];
        var other = await AlertBrokerProcess.RunToEndAsync([.. finetune, "--seed", "4", "--out", Path.Combine(_root, "out", "other")]);
        Assert.True(other.Code == 0, other.Output);
        Assert.Contains("warning: the base same-data-base 1.0.0 was trained on this data", other.Stderr, StringComparison.Ordinal);
        Assert.Contains("(seed 3, validation 0.15, test 0.15", other.Stderr, StringComparison.Ordinal);
        Assert.Contains("here seed 4,", other.Stderr, StringComparison.Ordinal);

        var same = await AlertBrokerProcess.RunToEndAsync([.. finetune, "--seed", "3", "--out", Path.Combine(_root, "out", "same")]);
        Assert.True(same.Code == 0, same.Output);
        Assert.DoesNotContain("warning", same.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Finetune_TeacherClassesInAnotherOrder_ExitTwoPlainMessage()
    {
        var data = WriteData();
        var baseDir = Package("base", "1", "SNIa", "SNII", "TDE");
        var teacher = Package("teacher", "1", "TDE", "SNII", "SNIa");

        var output = await Refused(2, "finetune", "--from", baseDir, "--data", data, "--no-meta", "--distill-from", teacher, "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("the teacher's classes are in another order", output, StringComparison.Ordinal);
        Assert.Contains("give --classes TDE,SNII,SNIa", output, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainAndEvaluate_TestIdsNoneInTheData_ExitTwo()
    {
        var data = WriteData();
        var ids = Ids("ZTFnot1", "ZTFnot2");

        var train = await Refused(2, "train", "--data", data, "--no-meta", "--test-ids", ids, "--epochs", "1", "--quiet", "--out", Out);
        var evaluate = await Refused(2, "evaluate", "--model", Package("m", "1", "SNIa", "SNII", "TDE"), "--data", data, "--split", "test", "--test-ids", ids);

        Assert.Contains($"none of the 2 ids in {ids} is in the data", train, StringComparison.Ordinal);
        Assert.Contains($"none of the 2 ids in {ids} is in the data", evaluate, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SNIa,,TDE")]
    [InlineData("SNIa,SNII,")]
    public async Task Train_ClassesWithAnEmptyName_ExitTwo(string classes)
    {
        var data = WriteData();

        var output = await Refused(2, "train", "--data", data, "--no-meta", "--classes", classes, "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("has an empty class name", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_CsvWithHeadersOnly_ExitOneSayingTheDataAreEmpty()
    {
        var data = Path.Combine(_root, "ztf-empty");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "ztf_empty_lightcurves.csv"), "object_id,mjd,band,mag,mag_err\n");
        File.WriteAllText(Path.Combine(data, "ztf_empty_metadata.csv"), "object_id,class\n");

        var output = await Refused(1, "train", "--data", data, "--no-meta", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("no labelled light curve", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"seed\":\"42\",\"validationFraction\":0.2,\"testFraction\":0.2}", "training.data.split.seed")]
    [InlineData("{\"seed\":42,\"validationFraction\":0.2,\"testFraction\":\"a fifth\"}", "training.data.split.testFraction")]
    [InlineData("\"test\"", "training.data.split is")]
    public async Task Evaluate_RecordedSplitOfAnotherType_ExitOneNamingTheField(string split, string named)
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");
        var manifestPath = Path.Combine(model, "model.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["training"]!["data"] = new JsonObject { ["split"] = JsonNode.Parse(split) };
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var output = await Refused(1, "evaluate", "--model", model, "--data", data, "--no-meta", "--split", "test");

        Assert.Contains(named, output, StringComparison.Ordinal);
    }

    // Of the right type but out of range: maxSteps -3 ended in OverflowException (exit 70), 0 in "no objects of the
    // model's classes", a validation fraction of 5 evaluated every object as the "validation part" (exit 0).
    [Theory]
    [InlineData("{\"encoding\":{\"maxSteps\":-3}}", "all", "training.data.encoding.maxSteps is -3, not in [1, 2147483647]")]
    [InlineData("{\"encoding\":{\"maxSteps\":0}}", "all", "training.data.encoding.maxSteps is 0, not in [1, 2147483647]")]
    [InlineData("{\"split\":{\"seed\":1,\"validationFraction\":5,\"testFraction\":0.2}}", "validation", "training.data.split.validationFraction is 5, not in [0, 1)")]
    [InlineData("{\"split\":{\"seed\":1,\"validationFraction\":0.2,\"testFraction\":-0.5}}", "test", "training.data.split.testFraction is -0.5, not in [0, 1)")]
    [InlineData("{\"split\":{\"seed\":1,\"validationFraction\":0.6,\"testFraction\":0.6}}", "train", "the validation and test fractions (0.6 + 0.6, from model.json unless given) leave no training objects")]
    public async Task Evaluate_RecordedValueOutOfRange_ExitOneNamingIt(string recorded, string part, string message)
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");
        var manifestPath = Path.Combine(model, "model.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["training"]!["data"] = JsonNode.Parse(recorded);
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var output = await Refused(1, "evaluate", "--model", model, "--data", data, "--no-meta", "--split", part);

        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    // Objects of one class have no one-against-the-rest AUROC: "macro AUROC NaN", NaN at every day (and in
    // evaluation.json), exit 0. The same through --split test naming objects of one class.
    [Fact]
    public async Task Evaluate_ObjectsOfOneClass_ExitOneSayingSoAndWritesNoReport()
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");
        var report = Path.Combine(_root, "report-one-class");

        var output = await Refused(1, "evaluate", "--model", model, "--data", data, "--no-meta", "--exclude-ids", Ids([.. Enumerable.Range(0, 30).Where(i => i % 3 != 0).Select(i => $"ZTFtoy{i:D3}")]), "--report", report);
        Assert.Contains("every one of the 10 evaluated objects is of class SNIa; the figures (one class against the rest) need objects of at least two classes", output, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(report, "evaluation.json")));

        var split = await Refused(1, "evaluate", "--model", model, "--data", data, "--no-meta", "--split", "test", "--test-ids", Ids("ZTFtoy001", "ZTFtoy004"));
        Assert.Contains("is of class SNII", split, StringComparison.Ordinal);
    }

    // Only "none of the ids" was said: ids missing from the data shrank the test part without a word.
    [Fact]
    public async Task Evaluate_TestIdsSomeNotInTheData_SaysHowManyTheTestPartLacks()
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");
        var ids = Ids("ZTFtoy000", "ZTFtoy001", "ZTFtoy002", "ZTFnope1", "ZTFnope2");

        var run = await AlertBrokerProcess.RunToEndAsync(["evaluate", "--model", model, "--data", data, "--no-meta", "--split", "test", "--test-ids", ids]);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains($"--test-ids: 2 of the 5 ids in {ids} are not among the objects read (not in the data, or left out as said above): the test part has 3", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("3 objects: macro AUROC", run.Stdout, StringComparison.Ordinal);
    }

    // A --predictions file in a folder that takes none (/proc) was found after the evaluation: every figure printed and
    // the report written, then "cannot write", exit 1.
    [Theory]
    [InlineData("/proc/alertbroker-predictions.csv")]
    public async Task Evaluate_PredictionsThatCannotBeWritten_SaidBeforeTheWork(string predictions)
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");
        var report = Path.Combine(_root, "report-before");

        var output = await Refused(1, "evaluate", "--model", model, "--data", data, "--no-meta", "--predictions", predictions, "--report", report);

        Assert.Contains($"cannot write {predictions}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("macro AUROC", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(report));
    }

    // Every reader took the first of two columns of one name: a second 'mag' (or 'class') was ignored without a word.
    [Theory]
    [InlineData("lightcurves", "object_id,mjd,band,mag,mag_err,mag")]
    [InlineData("metadata", "object_id,class,redshift,a_v,class")]
    public async Task Train_HeaderNamesAColumnTwice_ExitOneNamingIt(string file, string header)
    {
        var data = WriteData();
        var path = Path.Combine(data, $"ztf_toy_{file}.csv");
        var lines = File.ReadAllLines(path);
        lines[0] = header;
        for (var i = 1; i < lines.Length; i++)
        {
            lines[i] += file == "metadata" ? ",SNIa" : ",21.0";
        }

        File.WriteAllLines(path, lines);

        var output = await Refused(1, "train", "--data", data, "--no-meta", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains($"the header names the column '{header[(header.LastIndexOf(',') + 1)..]}' twice", output, StringComparison.Ordinal);
    }

    // An output that is also an input: split wrote the test ids over the metadata it had just read (exit 0), evaluate
    // --predictions its CSV over the light curves, replay --out emptied the alert file before reading it.
    [Theory]
    [InlineData("split --data {data} --out {data}/ztf_toy_metadata.csv", "--out {data}/ztf_toy_metadata.csv is also read by this command (--data {data})")]
    [InlineData("split --data {data}/ztf_toy_lightcurves.csv --out {data}/ztf_toy_metadata.csv", "is also read by this command (--data {data}/ztf_toy_lightcurves.csv)")]
    [InlineData("split --data {data} --exclude-ids {ids} --out {ids}", "is also read by this command (--exclude-ids {ids})")]
    [InlineData("evaluate --model {model} --data {data} --predictions {data}/ztf_toy_lightcurves.csv", "--predictions {data}/ztf_toy_lightcurves.csv is also read by this command (--data {data})")]
    [InlineData("finetune --from {model} --data {data} --no-meta --epochs 1 --quiet --out {model}", "--out {model} is also read by this command (--from {model})")]
    [InlineData("finetune --from {model} --distill-from {model}/../../m/1 --data {data} --no-meta --epochs 1 --quiet --out {model}/", "is also read by this command (--from {model})")]
    [InlineData("finetune --from {model} --data {data} --no-meta --epochs 1 --quiet --checkpoints {model} --out {data}/../ft/1", "--checkpoints {model} is also read by this command (--from {model})")]
    [InlineData("train --distill-from {model} --data {data} --no-meta --epochs 1 --quiet --out {model}", "--out {model} is also read by this command (--distill-from {model})")]
    [InlineData("train --distill-from {model} --data {data} --no-meta --epochs 1 --quiet --checkpoints {model} --out {data}/../t/1", "--checkpoints {model} is also read by this command (--distill-from {model})")]
    [InlineData("replay {data}/alert.avro --out {data}/alert.avro", "--out {data}/alert.avro is also read by this command (<paths> {data}/alert.avro)")]
    [InlineData("replay {data} --out {data}/night/alert.avro", "is also read by this command (<paths> {data})")]
    public async Task OutputIsAnInput_UsageErrorAndTheInputKept(string commandLine, string message)
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");
        var ids = Ids("ZTFtoy000");
        Directory.CreateDirectory(Path.Combine(data, "night"));
        File.WriteAllText(Path.Combine(data, "alert.avro"), "not really an alert");
        File.WriteAllText(Path.Combine(data, "night", "alert.avro"), "not really an alert");
        string Fill(string text) => text.Replace("{data}", data, StringComparison.Ordinal).Replace("{model}", model, StringComparison.Ordinal).Replace("{ids}", ids, StringComparison.Ordinal);
        var before = Directory.GetFiles(_root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllText);

        var output = await Refused(2, Fill(commandLine).Split(' '));

        Assert.Contains(Fill(message), output, StringComparison.Ordinal);
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllText(file.Key)));
    }

    // An --encoding other than the base's was exit 1, where every other option contradicting the base is a usage error.
    [Fact]
    public async Task Finetune_EncodingOtherThanTheBases_UsageError()
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");

        var output = await Refused(2, "finetune", "--from", model, "--data", data, "--no-meta", "--encoding", "muthukrishna2025@1", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("fine-tuning keeps the base's encoding", output, StringComparison.Ordinal);
    }

    // Another set's ids (or a CSV whose lines are not ids) left nothing out, and the objects meant to be held out took
    // part in the run without a word (exit 0).
    [Theory]
    [InlineData("split")]
    [InlineData("train")]
    [InlineData("evaluate")]
    public async Task ExcludeIdsNoneInTheData_ExitTwo(string command)
    {
        var data = WriteData();
        var ids = Ids("ZTF18nothere", "ZTF19nothere");
        string[] args = command switch
        {
            "split" => ["split", "--data", data, "--exclude-ids", ids, "--out", Path.Combine(_root, "test-ids.txt")],
            "train" => ["train", "--data", data, "--exclude-ids", ids, "--no-meta", "--epochs", "1", "--quiet", "--out", Out],
            _ => ["evaluate", "--model", Package("m", "1", "SNIa", "SNII", "TDE"), "--data", data, "--exclude-ids", ids, "--no-meta"],
        };

        var output = await Refused(2, args);

        Assert.Contains($"--exclude-ids: none of the 2 ids in {ids} is in the data, so it would leave nothing out", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "test-ids.txt")));
    }

    [Fact]
    public async Task SimulateAlerts_LabelsIsOut_UsageErrorNothingWritten()
    {
        var path = Path.Combine(_root, "night.avro");

        var output = await Refused(2, "simulate", "alerts", "--format", "avro", "--no-cutouts", "--out", path, "--labels", path);

        Assert.Contains($"--labels {path} is also --out", output, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    // The labels' folder was not made (the alerts' was): "Could not find a part of the path", exit 1.
    [Fact]
    public async Task SimulateAlerts_LabelsInAFolderNotYetMade_Written()
    {
        var labels = Path.Combine(_root, "sim", "truth", "labels.csv");

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["simulate", "alerts", "--no-cutouts", "--objects-per-night", "2", "--out", Path.Combine(_root, "sim", "alerts"), "--labels", labels]);

        Assert.True(code == 0, output);
        Assert.StartsWith("object_id,class", File.ReadAllText(labels), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_RedshiftColumnNotNumeric_ExitOneNamingIt()
    {
        var data = WriteData();

        var output = await Refused(1, "train", "--data", data, "--redshift-column", "class", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("the redshift column 'class' is not numeric", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExperimentTransfer_BaseNotAPackage_ExitTwoNamingItsVersions()
    {
        var data = WriteData();
        Package("ztf-sim-base", "2.1.0", "SNIa", "SNII", "TDE");

        var output = await Refused(2, "experiment", "transfer", "--ztf-sim", data, "--bts", data, "--base", Path.Combine(_root, "models", "ztf-sim-base"), "--out", Out);

        Assert.Contains("is not a model package (no model.json); it holds the versions 2.1.0", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tune")]
    [InlineData("compare")]
    public async Task Simulate_ExcludeIdsListsEveryRealObject_ExitTwo(string command)
    {
        var data = WriteData();
        var all = Ids([.. Enumerable.Range(0, 30).Select(i => $"ZTFtoy{i:D3}")]);

        string[] size = command == "tune" ? ["--per-class", "10"] : ["--n", "10"];

        var output = await Refused(2, ["simulate", command, "--real", data, "--exclude-ids", all, .. size, "--out", Out]);

        Assert.Contains("no real object is left", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Out, "tuned-parameters.json")));
    }

    // Found by the training-commands hunt: --predictions was checked against --data and the ids files given, not against
    // the package evaluated or the ids files its model.json records, nor the report's files: each was overwritten, exit 0
    // (the package or the ids file unusable afterwards, the report's JSON a CSV).
    [Theory]
    [InlineData("{model}/model.json", "is inside the package being evaluated (--model {model})")]
    [InlineData("{model}/model.onnx", "is inside the package being evaluated (--model {model})")]
    [InlineData("{model}/notes.csv", "is inside the package being evaluated (--model {model})")]
    [InlineData("{ids}", "is the --test-ids file {model}'s model.json records (training.data.split.testIds)")]
    [InlineData("{excluded}", "is the --exclude-ids file {model}'s model.json records (training.data.split.excludeIds)")]
    [InlineData("{report}/evaluation.json", "is the report's evaluation.json (--report {report})")]
    [InlineData("{report}/evaluation.html", "is the report's evaluation.html (--report {report})")]
    public async Task Evaluate_PredictionsOverThePackageItsRecordedIdsOrTheReport_UsageErrorAndKept(string predictions, string message)
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");
        var ids = Ids("ZTFtoy000", "ZTFtoy001", "ZTFtoy002");
        var excluded = Ids("ZTFtoy003");
        var report = Path.Combine(_root, "report");
        var manifestPath = Path.Combine(model, "model.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        manifest["training"]!["data"] = new JsonObject { ["split"] = new JsonObject { ["seed"] = 1, ["validationFraction"] = 0.2, ["testIds"] = ids, ["excludeIds"] = excluded } };
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        string Fill(string text) => text.Replace("{model}", model, StringComparison.Ordinal).Replace("{ids}", ids, StringComparison.Ordinal)
            .Replace("{excluded}", excluded, StringComparison.Ordinal).Replace("{report}", report, StringComparison.Ordinal);
        var before = Directory.GetFiles(_root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

        var output = await Refused(2, "evaluate", "--model", model, "--data", data, "--no-meta", "--report", report, "--predictions", Fill(predictions));

        Assert.Contains($"--predictions {Fill(predictions)} {Fill(message)}", output, StringComparison.Ordinal);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Order());
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(file.Key)));
    }

    // Found by the training-commands hunt: a directory where a report file goes was "unexpected error
    // (UnauthorizedAccessException)", exit 70, after the evaluation, with evaluation.json written and --predictions not.
    [Theory]
    [InlineData("evaluation.json")]
    [InlineData("evaluation.html")]
    public async Task Evaluate_AReportFileIsADirectory_CannotWriteExitOneBeforeTheEvaluation(string file)
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");
        var report = Path.Combine(_root, "report");
        var taken = Directory.CreateDirectory(Path.Combine(report, file)).FullName;
        var predictions = Path.Combine(_root, "predictions.csv");

        var output = await Refused(1, "evaluate", "--model", model, "--data", data, "--no-meta", "--report", report, "--predictions", predictions);

        Assert.Contains($"cannot write {report}: {taken} is a directory; this run writes a file there", output, StringComparison.Ordinal);
        Assert.DoesNotContain("macro AUROC", output, StringComparison.Ordinal);
        Assert.Equal([taken], Directory.GetFileSystemEntries(report));
        Assert.False(File.Exists(predictions));
    }

    // Found by the training-commands hunt: a split leaving no training object crashed train and finetune ("unexpected
    // error (ArgumentException): The training set is empty", exit 70).
    [Theory]
    [InlineData("train", "--test 0.999 --val 0", "--val 0 and --test 0.999 take all 30 objects (SNIa 10, SNII 10, TDE 10) between them: none is left to train on; give smaller fractions")]
    [InlineData("train", "--test 0 --val 0.999 --patience 0", "--val 0.999 and --test 0 take all 30 objects")]
    [InlineData("finetune", "--test 0.999 --val 0", "--val 0 and --test 0.999 take all 30 objects")]
    [InlineData("train", "--test-ids {all}", "--test-ids {all} lists every one of the 30 objects of the data: none is left to train on")]
    [InlineData("finetune", "--test-ids {all}", "--test-ids {all} lists every one of the 30 objects of the data: none is left to train on")]
    [InlineData("train", "--test-ids {some} --test 0 --val 0.999 --patience 0", "--val 0.999 takes all 27 objects --test-ids {some} does not hold out: none is left to train on; give a smaller --val")]
    public async Task TrainAndFinetune_ASplitLeavingNoTrainingObject_ExitTwoSayingWhy(string command, string split, string message)
    {
        var data = WriteData();
        var all = Ids([.. Enumerable.Range(0, 30).Select(i => $"ZTFtoy{i:D3}")]);
        var some = Ids("ZTFtoy000", "ZTFtoy001", "ZTFtoy002");
        string Fill(string text) => text.Replace("{all}", all, StringComparison.Ordinal).Replace("{some}", some, StringComparison.Ordinal);
        string[] from = command == "finetune" ? ["--from", Package("base", "1", "SNIa", "SNII", "TDE")] : ["--classes", "SNIa,SNII,TDE"];

        var output = await Refused(2, [command, .. from, "--data", data, "--no-meta", .. Fill(split).Split(' '), "--epochs", "1", "--quiet", "--out", Out]);

        Assert.Contains(Fill(message), output, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch 1", output, StringComparison.Ordinal);
    }

    // Found by the training-commands hunt: --exclude-ids listing every object gave "a classifier needs at least two
    // classes; the data hold 0 (; --class-map may have merged them)" (train) and "no objects of the model's classes in the
    // data" (evaluate); an empty part of a split, the latter too, though the data hold such objects.
    [Theory]
    [InlineData("train")]
    [InlineData("finetune")]
    [InlineData("evaluate")]
    public async Task ExcludeIdsListingEveryObject_ExitTwoNamingTheFile(string command)
    {
        var data = WriteData();
        var all = Ids([.. Enumerable.Range(0, 30).Select(i => $"ZTFtoy{i:D3}")]);
        string[] args = command switch
        {
            "train" => ["train", "--data", data, "--exclude-ids", all, "--no-meta", "--epochs", "1", "--quiet", "--out", Out],
            "finetune" => ["finetune", "--from", Package("base", "1", "SNIa", "SNII", "TDE"), "--data", data, "--exclude-ids", all, "--no-meta", "--epochs", "1", "--quiet", "--out", Out],
            _ => ["evaluate", "--model", Package("m", "1", "SNIa", "SNII", "TDE"), "--data", data, "--exclude-ids", all, "--no-meta"],
        };

        var output = await Refused(2, args);

        Assert.Contains($"--exclude-ids {all} lists every one of the 30 objects of --data: nothing is left; exclude only some of them", output, StringComparison.Ordinal);
        Assert.DoesNotContain("(;", output, StringComparison.Ordinal);
        Assert.DoesNotContain("no objects of the model's classes", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_AnEmptyPartOfTheSplitGiven_ExitTwoSayingThePartIsEmpty()
    {
        var data = WriteData();
        var model = Package("m", "1", "SNIa", "SNII", "TDE");

        var output = await Refused(2, "evaluate", "--model", model, "--data", data, "--no-meta", "--split", "train", "--test", "0.999", "--val", "0");

        Assert.Contains("--split train: the train part of the split holds none of the 30 objects of the model's classes in the data (--val and --test take them); give smaller --val or --test", output, StringComparison.Ordinal);
        Assert.DoesNotContain("no objects of the model's classes", output, StringComparison.Ordinal);
    }

    // Found by the training-commands hunt: --modes '' or ',' ran no mode, exit 0, and wrote empty results over the last.
    [Theory]
    [InlineData(",")]
    [InlineData("")]
    public async Task ExperimentTransfer_ModesListingNoMode_UsageError(string modes)
    {
        var data = WriteData();

        var output = await Refused(2, "experiment", "transfer", "--ztf-sim", data, "--bts", data, "--targets", "ztf-bts", "--modes", modes, "--out", Out);

        Assert.Contains($"--modes lists no mode ('{modes}'): give scratch, scratch-long, head, all and/or all-fast", output, StringComparison.Ordinal);
    }

    // Found by the training-commands hunt: target data of one class ran, every run "AUROC NaN", exit 0; a header-only
    // --bts printed "macro AUROC NaN" and then "The training set is empty". Refused as train refuses it, before any run.
    [Theory]
    [InlineData("one class", "objects of one class only (SNIa 30)")]
    [InlineData("header only", "no object of its classes")]
    public async Task ExperimentTransfer_TargetDataOfFewerThanTwoClasses_ExitOneBeforeAnyRun(string kind, string says)
    {
        var data = WriteData();
        var bts = WriteData(_ => 0, objects: kind == "one class" ? 30 : 0, name: "bts");
        var baseDir = Package("base", "1", "SNIa", "SNII", "SNIbc", "SLSN-I", "TDE");

        var output = await Refused(1, "experiment", "transfer", "--base", baseDir, "--ztf-sim", data, "--bts", bts, "--targets", "ztf-bts", "--quick", "--seeds", "1", "--modes", "scratch", "--max-epochs", "1", "--threads", "1", "--out", Out);

        Assert.Contains($"ztf-bts: a classifier needs at least two classes; {bts} holds {says}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", output, StringComparison.Ordinal);
        Assert.DoesNotContain("training set is empty", output, StringComparison.Ordinal);
    }

    // Found by the training-commands hunt: train's test figures averaged fewer classes than the model has without a word
    // (evaluate says it), MODEL_CARD.md wrote NaN for undefined figures, and its limits named SLSN-I and TDE whatever the
    // classes and counts.
    [Fact]
    public async Task Train_AClassWithoutTestObjects_SaidAndTheCardShowsDashesAndItsOwnLimits()
    {
        // SNIa 14, SNII 14 and one TDE, which the stratified split puts in the training part.
        var data = WriteData(i => i < 14 ? 0 : i < 28 ? 1 : 2, objects: 29, name: "one-tde");

        var run = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", Out]);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("no object of class TDE in the test part: the macro figures average the other 2 classes", run.Stderr, StringComparison.Ordinal);
        var card = File.ReadAllText(Path.Combine(Out, "MODEL_CARD.md"));
        Assert.DoesNotContain("NaN", card, StringComparison.Ordinal);
        Assert.Contains("| TDE | 0 | 0.000 | – | – |", card, StringComparison.Ordinal);
        Assert.Contains("(no test object of class TDE: the macro figures average the other 2 classes)", card, StringComparison.Ordinal);
        Assert.Contains("Limits: classes with fewer than 50 training objects (SNIa ", card, StringComparison.Ordinal);
        Assert.Contains("TDE 1) have unstable scores", card, StringComparison.Ordinal);
        Assert.DoesNotContain("SLSN-I", card, StringComparison.Ordinal);
    }

    // Found by the training-commands hunt: evaluate --encoding other than the model's was exit 1 where finetune's is 2;
    // split --folds with --test ignored --test without a word.
    [Fact]
    public async Task EvaluateEncodingMismatchAndSplitFoldsWithTest_UsageErrors()
    {
        var data = WriteData();

        var evaluate = await Refused(2, "evaluate", "--model", Package("m", "1", "SNIa", "SNII", "TDE"), "--data", data, "--no-meta", "--encoding", "muthukrishna2025");
        Assert.Contains("evaluate encodes with the model's own encoding", evaluate, StringComparison.Ordinal);

        var folds = Path.Combine(_root, "folds", "fold{k}.txt");
        var split = await Refused(2, "split", "--data", data, "--folds", "3", "--test", "0.3", "--out", folds);
        Assert.Contains("--folds splits every object into K folds and takes no --test fraction", split, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "folds")));
    }

    // Found by the training-commands hunt: the epoch line printed "val macro AUROC NaN" for a validation part of one class
    // and "val loss NaN" for none.
    [Fact]
    public async Task Train_EpochLine_SaysUndefinedValidationFiguresInWords()
    {
        var data = WriteData(i => i < 20 ? 0 : 1, objects: 22, name: "lopsided");

        var one = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--no-meta", "--classes", "SNIa,SNII", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", Out]);
        Assert.True(one.Code == 0, one.Output);
        Assert.Contains("val macro AUROC n/a (one class)", one.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", one.Output, StringComparison.Ordinal);

        var none = await AlertBrokerProcess.RunToEndAsync(["train", "--data", WriteData(), "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--val", "0", "--patience", "0", "--quiet", "--out", Path.Combine(_root, "out", "2.0.0")]);
        Assert.True(none.Code == 0, none.Output);
        Assert.Contains("epoch 1: train loss ", none.Output, StringComparison.Ordinal);
        Assert.Contains(", no validation part, ", none.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", none.Output, StringComparison.Ordinal);
    }

    // A label no package may hold as a class name: until 2026-12-07 it trained every epoch, then said "the trained network
    // is not a usable model … training diverged; lower the learning rate" (exit 1), which was not the cause.
    [Fact]
    public async Task ClassNameNoPackageMayHold_RefusedBeforeTraining()
    {
        var data = WriteData();
        var metadata = Path.Combine(data, "ztf_toy_metadata.csv");
        var longName = new string('X', 70);
        File.WriteAllText(metadata, File.ReadAllText(metadata).Replace(",TDE,", "," + longName + ",", StringComparison.Ordinal));

        var output = await Refused(1, "train", "--data", data, "--no-meta", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains($"class '{new string('X', 40)}… (70 characters)' of the data cannot be a class name: at most 64 bytes in UTF-8, not 70; rename it with --class-map", output, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch 1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("diverged", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassesOptionWithANameNoPackageMayHold_UsageError()
    {
        var output = await Refused(2, "train", "--data", WriteData(), "--no-meta", "--classes", "SNIa, SNII,TDE=1", "--epochs", "1", "--quiet", "--out", Out);

        Assert.Contains("--classes: 'TDE=1' cannot be a class name: no ',' or '=', control character or space at either end.", output, StringComparison.Ordinal);
    }

    // Found by the training-commands hunt: an empty ids file was exit 1 ("cannot read the test ids"), noticed only after
    // the data were read, where a file none of whose ids is in the data is a usage error.
    [Theory]
    [InlineData("train", "--test-ids")]
    [InlineData("train", "--exclude-ids")]
    [InlineData("evaluate", "--exclude-ids")]
    // Until 2026-12-07 simulate tune's --exclude-ids and experiment transfer's --bts-test-ids took an empty file too:
    // "cannot read …: no object ids", exit 1, after the rest of the command line had been taken.
    [InlineData("simulate tune", "--exclude-ids")]
    [InlineData("experiment transfer", "--bts-test-ids")]
    public async Task IdsFileWithoutIds_UsageError(string command, string option)
    {
        var data = WriteData();
        var empty = Path.Combine(_root, "empty-ids.txt");
        File.WriteAllText(empty, "\uFEFF# held out: none yet\n\n   \n");
        string[] args = command switch
        {
            "train" => ["train", "--data", data, option, empty, "--no-meta", "--epochs", "1", "--quiet", "--out", Out],
            "evaluate" => ["evaluate", "--model", Package("m", "1", "SNIa", "SNII", "TDE"), "--data", data, option, empty, "--no-meta"],
            "simulate tune" => ["simulate", "tune", "--real", data, option, empty, "--per-class", "2", "--rounds", "1", "--out", Path.Combine(_root, "tune")],
            _ => ["experiment", "transfer", "--ztf-sim", data, "--bts", data, option, empty, "--targets", "ztf-bts", "--out", Path.Combine(_root, "transfer")],
        };

        var output = await Refused(2, args);

        Assert.Contains($"{option} {empty} holds no object ids (one id per line, '#' comments)", output, StringComparison.Ordinal);
    }
}
