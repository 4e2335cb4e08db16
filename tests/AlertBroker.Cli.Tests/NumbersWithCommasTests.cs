namespace AlertBroker.Cli.Tests;

/// <summary>A number given with a ',' to any command: refused once, centrally (AlertBrokerCommand.NumbersWithCommas).</summary>
public sealed class NumbersWithCommasTests
{
    // "--seconds 1,5" was 15 seconds: the parser reads thousands separators. Every command's numbers, checked in one place.
    [Theory]
    [InlineData("bench pipeline --seconds 1,5", "--seconds: '1,5' is not a number")]
    [InlineData("bench decode --seconds 0,5", "--seconds: '0,5' is not a number")]
    [InlineData("models promote m@1 --max-drop 0,01", "--max-drop: '0,01' is not a number")]
    [InlineData("simulate lightcurves --n 1,000 --out x", "--n: '1,000' is not a number")]
    public async Task NumberWithAComma_IsAUsageErrorSaidOnce(string command, string message)
    {
        var run = await AlertBrokerProcess.RunToEndAsync(command.Split(' '));

        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Output}");
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Cannot parse", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }
}
