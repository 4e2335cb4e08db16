namespace AlertBroker.Cli.Tests;

/// <summary>
/// <c>demo</c> on the 100 real Rubin samples: the summary says how many alerts were withheld as not transient candidates
/// and why (facts of those files: 46 negative subtractions, 33 more with a reliability below 0.5); <c>--all-alerts</c>
/// publishes probabilities for all of them.
/// </summary>
public sealed class CandidateCommandTests
{
    [SharedDataFact]
    public async Task Demo_RealRubinSamples_WithholdsNonCandidates_AllAlertsScoresEveryAlert()
    {
        var samples = SharedData.Sample("lsst-real-v7_4");
        var environment = new Dictionary<string, string?> { ["COLUMNS"] = "220" };
        var (exit, output, _) = await AlertBrokerProcess.RunAsync(["demo", samples, "--nights", "0"], environment, TimeSpan.FromSeconds(180));
        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.Contains("withheld:        79 alerts are not transient candidates, published without probabilities (negative-flux 46, reliability 33;", output, StringComparison.Ordinal);
        Assert.Contains("(not a transient candidate)", output, StringComparison.Ordinal);
        Assert.Contains("none 79", output, StringComparison.Ordinal);

        var (allExit, all, _) = await AlertBrokerProcess.RunAsync(["demo", samples, "--nights", "0", "--all-alerts"], environment, TimeSpan.FromSeconds(180));
        Assert.True(allExit == 0, $"exit {allExit}:\n{all}");
        Assert.DoesNotContain("withheld:", all, StringComparison.Ordinal);
        Assert.DoesNotContain("not a transient candidate", all, StringComparison.Ordinal);
    }
}
