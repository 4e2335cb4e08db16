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

    [Theory]
    [InlineData("--targets", "lsst-sims")]
    [InlineData("--conditions", "stream,host")]
    [InlineData("--sizes", "bogus")]
    [InlineData("--sizes", "100,1.5")]
    [InlineData("--sizes", "-0.3")]
    [InlineData("--seeds", "0")]
    [InlineData("--min-seeds", "-1")]
    [InlineData("--max-epochs", "0")]
    [InlineData("--base-epochs", "0")]
    [InlineData("--base-objects", "-5")]
    [InlineData("--max-pool", "-1")]
    [InlineData("--threads", "0")]
    [InlineData("--step-loss", "bogus")]
    public void Transfer_BadSetting_ExitsOneBeforeTraining(string option, string value)
    {
        var output = Path.Combine(_root, "out");
        var code = AlertBrokerCommand.Create().Parse(["experiment", "transfer", "--bts", _root, "--ztf-sim", _root, option, value, "--out", output]).Invoke();
        Assert.Equal(1, code);
        Assert.False(Directory.Exists(output));
    }
}
