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
