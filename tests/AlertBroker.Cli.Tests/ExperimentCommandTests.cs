using AlertBroker.Cli.Commands;
using AlertBroker.Training.Experiments;

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
}
