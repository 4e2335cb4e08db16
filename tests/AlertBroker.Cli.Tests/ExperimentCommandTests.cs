using System.Text.Json.Nodes;
using AlertBroker.Cli.Commands;
using AlertBroker.Training.Experiments;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Tests;

/// <summary>experiment transfer's argument checks (the experiment itself is covered in AlertBroker.Training.Tests).</summary>
public sealed class ExperimentCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-expcli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ParseConditions_DefaultStream_BothInOrder_BadOrContradictoryRejected()
    {
        Assert.Equal([TransferExperiment.Stream], ExperimentCommand.ParseConditions(null, noMeta: false));
        Assert.Equal([TransferExperiment.Stream], ExperimentCommand.ParseConditions(null, noMeta: true));
        Assert.Equal([TransferExperiment.Stream, TransferExperiment.Redshift], ExperimentCommand.ParseConditions("stream, redshift,stream", noMeta: false));
        Assert.Throws<ArgumentException>(() => ExperimentCommand.ParseConditions("metadata", noMeta: false));
        Assert.Throws<ArgumentException>(() => ExperimentCommand.ParseConditions(",", noMeta: false));
        Assert.Throws<ArgumentException>(() => ExperimentCommand.ParseConditions("redshift", noMeta: true));
    }

    // In process, a parse error is exit 1 (Program.cs makes it 2 for the built program); a target whose data is not given
    // (lsst-sims without --lsst-sim) is the command's own usage error, 2.
    [Theory]
    [InlineData("--targets", "lsst-sims", 2)]
    [InlineData("--conditions", "stream,host", 1)]
    [InlineData("--sizes", "bogus", 1)]
    [InlineData("--sizes", "100,1.5", 1)]
    [InlineData("--sizes", "-0.3", 1)]
    [InlineData("--sizes", "10", 1)]
    [InlineData("--seeds", "0", 1)]
    [InlineData("--min-seeds", "-1", 1)]
    [InlineData("--max-epochs", "0", 1)]
    [InlineData("--base-epochs", "0", 1)]
    [InlineData("--base-objects", "-5", 1)]
    [InlineData("--max-pool", "-1", 1)]
    [InlineData("--threads", "0", 1)]
    [InlineData("--step-loss", "bogus", 1)]
    public void Transfer_BadSetting_RefusedBeforeTraining(string option, string value, int expected)
    {
        var output = Path.Combine(_root, "out");
        var code = AlertBrokerCommand.Create().Parse(["experiment", "transfer", "--bts", _root, "--ztf-sim", _root, option, value, "--out", output]).Invoke();
        Assert.Equal(expected, code);
        Assert.False(Directory.Exists(output));
    }

    // --des given as a file of its pair (the path check takes files) dropped the des-sims target without a word.
    [Fact]
    public void Transfer_DesGivenAsAFileOfItsPair_IsATarget()
    {
        var ztf = WritePair("ztf-toy", "ztf_toy", "ZTF", magnitudes: true);
        var des = WritePair("des-toy", "des_toy", "DES", magnitudes: false);
        var output = Path.Combine(_root, "out");

        var code = AlertBrokerCommand.Create().Parse(["experiment", "transfer", "--ztf-sim", ztf, "--bts", ztf, "--des", Path.Combine(des, "des_toy_lightcurves.csv"),
            "--base-epochs", "1", "--base-objects", "40", "--seeds", "1", "--max-epochs", "1", "--modes", "scratch", "--min-seeds", "1", "--threads", "1", "--out", output]).Invoke();

        Assert.Equal(0, code);
        Assert.Contains("\"des-sims\"", File.ReadAllText(Path.Combine(output, "transfer-results.json")), StringComparison.Ordinal);
    }

    // A --base with another feature encoding than the default (muthukrishna2025, 4 features per step): the targets were
    // encoded with alertbroker-lc (6) whatever the base's, and the runs read the first 4 of every 6 features (exit 0,
    // AUROCs of misaligned features). Now every run of the condition, scratch included, uses the base's encoding.
    [Fact]
    public void Transfer_BaseWithAnotherEncoding_EveryRunUsesTheBasesEncoding()
    {
        var ztf = WritePair("ztf-toy", "ztf_toy", "ZTF", magnitudes: true);
        var baseDir = Path.Combine(_root, "models", "mbase", "1.0.0");
        Assert.Equal(0, Run("train", "--data", ztf, "--detections-only", "--no-meta", "--encoding", "muthukrishna2025", "--classes", "SNIa,SNII", "--epochs", "1", "--threads", "1", "--quiet", "--out", baseDir));
        var output = Path.Combine(_root, "out");
        var models = Path.Combine(_root, "exported");

        var code = Run("experiment", "transfer", "--ztf-sim", ztf, "--bts", ztf, "--base", baseDir, "--targets", "ztf-bts", "--sizes", "1", "--seeds", "1",
            "--modes", "scratch,all", "--max-epochs", "1", "--min-seeds", "1", "--threads", "1", "--out", output, "--models", models);

        Assert.Equal(0, code);
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "transfer-results.json")))!;
        Assert.Equal("muthukrishna2025 v1", (string?)results["base"]!["stream"]!["encoding"]);
        var exported = ModelIo.LoadPackage(Path.Combine(models, "ztf-bts", "1.0.0"));
        Assert.Equal("muthukrishna2025", exported.Manifest!.Encoding.Name);
        Assert.Equal(4, exported.Weights.Config.InputFeatures);
        Assert.Equal("muthukrishna2025", (string?)exported.Manifest.Training.Data!["encoding"]!["name"]);
    }

    // --models wrote "base": "ztf-sim-base 1.0.0" whatever --base named (and as a string, not the {name, version, sha256}
    // that finetune writes and models average ties members by), "validationFraction": 0 although a fifth of the pool was
    // drawn for validation, no class weights, and no MODEL_CARD.md.
    [Fact]
    public void Transfer_GivenBase_ExportedPackageNamesItAndRecordsSplitClassWeightsAndCard()
    {
        var ztf = WritePair("ztf-toy", "ztf_toy", "ZTF", magnitudes: true);
        var baseDir = Path.Combine(_root, "models", "lcbase", "1.0.0");
        Assert.Equal(0, Run("train", "--data", ztf, "--detections-only", "--no-meta", "--classes", "SNIa,SNII", "--epochs", "1", "--threads", "1", "--quiet", "--out", baseDir));
        var models = Path.Combine(_root, "exported");

        Assert.Equal(0, Run("experiment", "transfer", "--ztf-sim", ztf, "--bts", ztf, "--base", baseDir, "--targets", "ztf-bts", "--sizes", "1", "--seeds", "1",
            "--modes", "all", "--max-epochs", "1", "--min-seeds", "1", "--threads", "1", "--out", Path.Combine(_root, "out"), "--models", models));

        var package = Path.Combine(models, "ztf-bts", "1.0.0");
        var data = ModelIo.LoadPackage(package).Manifest!.Training.Data!;
        var sha = ModelIo.LoadPackage(baseDir).Manifest!.Onnx.Sha256;
        Assert.Equal(("lcbase", "1.0.0", sha), ((string?)data["base"]!["name"], (string?)data["base"]!["version"], (string?)data["base"]!["sha256"]));
        Assert.Equal(0.2, (double)data["split"]!["validationFraction"]!);
        Assert.Equal(2000, (int)data["split"]!["validationSeed"]!);
        Assert.True((int)data["split"]!["validation"]! > 0);
        Assert.Equal((int)data["validation"]!, (int)data["split"]!["validation"]!);
        Assert.Equal("N/N_c", (string?)data["classWeights"]);
        var card = File.ReadAllText(Path.Combine(package, DerivedPackages.FileName));
        Assert.Contains($"fine-tuned from `lcbase` 1.0.0 (ONNX sha256 {sha[..12]}", card, StringComparison.Ordinal);
        Assert.Contains("class weights N/N_c", card, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(Path.Combine(models, "ztf-bts"), ".*"));
    }

    // Without --base the experiment trains and exports its own: the fine-tuned package names that one, by its hash.
    [Fact]
    public void Transfer_OwnBase_ExportedPackageNamesTheBaseItTrained()
    {
        var ztf = WritePair("ztf-toy", "ztf_toy", "ZTF", magnitudes: true);
        var models = Path.Combine(_root, "exported");

        Assert.Equal(0, Run("experiment", "transfer", "--ztf-sim", ztf, "--bts", ztf, "--base-epochs", "1", "--base-objects", "40", "--targets", "ztf-bts", "--sizes", "1",
            "--seeds", "1", "--modes", "all", "--max-epochs", "1", "--min-seeds", "1", "--threads", "1", "--out", Path.Combine(_root, "out"), "--models", models));

        var baseManifest = ModelIo.LoadPackage(Path.Combine(models, TransferExperiment.BaseName, "1.0.0")).Manifest!;
        var data = ModelIo.LoadPackage(Path.Combine(models, "ztf-bts", "1.0.0")).Manifest!.Training.Data!;
        Assert.Equal((TransferExperiment.BaseName, "1.0.0", baseManifest.Onnx.Sha256), ((string?)data["base"]!["name"], (string?)data["base"]!["version"], (string?)data["base"]!["sha256"]));
        Assert.Equal(0.1, (double)baseManifest.Training.Data!["split"]!["validationFraction"]!);
        Assert.True(File.Exists(Path.Combine(models, TransferExperiment.BaseName, "1.0.0", DerivedPackages.FileName)));
        Assert.True(File.Exists(Path.Combine(models, "ztf-bts", "1.0.0", DerivedPackages.FileName)));
    }

    // The packages were written in place, so a failure midway left one half-written; they now go through the writer the
    // CLI gives (StagedPackage), and a writer that fails leaves nothing at the target.
    [Fact]
    public void Run_ModelsDirectory_EveryPackageGoesThroughTheWriter()
    {
        var ztf = WritePair("ztf-toy", "ztf_toy", "ZTF", magnitudes: true);
        var models = Path.Combine(_root, "exported");
        var targets = new List<string>();
        var options = new TransferExperimentOptions
        {
            BaseData = ztf,
            BaseObjects = 40,
            BaseMaxEpochs = 1,
            Targets = [new("ztf-bts", "toy", ztf, "ztf", ["SNIa", "SNII"])],
            Seeds = 1,
            Sizes = [1.0],
            MaxEpochs = 1,
            Modes = [TransferExperiment.All],
            Threads = 1,
            OutputDirectory = Path.Combine(_root, "out"),
            ModelsDirectory = models,
            WritePackage = (target, write) =>
            {
                targets.Add(target);
                var staging = Path.Combine(_root, "staging-" + targets.Count);
                Directory.CreateDirectory(staging);
                var manifest = write(staging);
                Assert.True(File.Exists(Path.Combine(staging, DerivedPackages.FileName)));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                Directory.Move(staging, target);
                return manifest;
            },
        };

        TransferExperiment.Run(options, _ => { });

        Assert.Equal([Path.Combine(models, TransferExperiment.BaseName, "1.0.0"), Path.Combine(models, "ztf-bts", "1.0.0")], targets);

        var failing = Path.Combine(_root, "failing");
        Assert.Throws<IOException>(() => TransferExperiment.Run(options with { ModelsDirectory = failing, WritePackage = (_, write) => throw new IOException("disk full") }, _ => { }));
        Assert.False(Directory.Exists(Path.Combine(failing, TransferExperiment.BaseName)));
    }

    private static int Run(params string[] args) => AlertBrokerCommand.Create().Parse(args).Invoke();

    // 40 objects, SNIa rising and SNII falling, 8 points each in g and r.
    private string WritePair(string folder, string stem, string prefix, bool magnitudes)
    {
        var dir = Path.Combine(_root, folder);
        Directory.CreateDirectory(dir);
        var lc = new System.Text.StringBuilder(magnitudes ? "object_id,mjd,band,mag,mag_err\n" : "object_id,mjd,band,flux,flux_err\n");
        var meta = new System.Text.StringBuilder("object_id,class\n");
        for (var i = 0; i < 40; i++)
        {
            var ia = i % 2 == 0;
            meta.Append(System.Globalization.CultureInfo.InvariantCulture, $"{prefix}{i},{(ia ? "SNIa" : "SNII")}\n");
            for (var t = 0; t < 8; t++)
            {
                var mag = 19 + ((ia ? -0.1 : 0.1) * t);
                var value = magnitudes ? mag : Math.Pow(10, (27.5 - mag) / 2.5);
                var error = magnitudes ? 0.05 : value * 0.05;
                lc.Append(System.Globalization.CultureInfo.InvariantCulture, $"{prefix}{i},{58000 + (3.0 * t) + (0.1 * i)},{(t % 2 == 0 ? "g" : "r")},{value:0.####},{error:0.####}\n");
            }
        }

        File.WriteAllText(Path.Combine(dir, stem + "_lightcurves.csv"), lc.ToString());
        File.WriteAllText(Path.Combine(dir, stem + "_metadata.csv"), meta.ToString());
        return dir;
    }
}
