namespace AlertBroker.Cli.Tests;

/// <summary>
/// What a newcomer's typo does: an input path that does not exist is a usage error naming it (exit 2) for every command
/// that reads alert files — never a run over nothing, or over the defaults, that ends in exit 0; a directory without
/// alerts says so (exit 1); a registry directory that does not exist is not read as an empty registry; a bad --survey is
/// one line without .NET's parameter suffix. Run as the built program (stderr and exit code as a shell sees them).
/// </summary>
public sealed class InputPathTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-input-paths-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("inspect")]
    [InlineData("replay")]
    [InlineData("score")]
    [InlineData("demo")]
    [InlineData("bench decode")]
    [InlineData("bench pipeline")]
    public async Task MissingInputPath_UsageErrorNamingIt(string command)
    {
        var missing = Path.Combine(_root, "no-such-night");
        var (code, output, _) = await AlertBrokerProcess.RunAsync([.. command.Split(' '), missing]);

        Assert.Equal(2, code);
        Assert.Contains("no such file or directory: " + missing, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingInputPath_BesideAnExistingOne_StillRefused()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var missing = Path.Combine(_root, "typo");
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["replay", empty, missing]);

        Assert.Equal(2, code);
        Assert.Contains("no such file or directory: " + missing, output, StringComparison.Ordinal);
        Assert.DoesNotContain("no such file or directory: " + empty, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("inspect", "no alerts found in")]
    [InlineData("score", "no alert could be read from")]
    [InlineData("replay", "no alert could be read")]
    public async Task DirectoryWithoutAlerts_SaysSoAndExitsOne(string command, string message)
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var (code, output, _) = await AlertBrokerProcess.RunAsync([command, empty]);

        Assert.Equal(1, code);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("status")]
    [InlineData("rollback")]
    public async Task RegistryDirectoryMissing_NotReadAsEmpty(string command)
    {
        var missing = Path.Combine(_root, "registry-typo");
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["models", command, "--registry", missing]);

        Assert.Equal(1, code);
        Assert.Contains("no registry directory " + missing, output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task UnknownSurvey_OneLineUsageError()
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["simulate", "lightcurves", "--survey", "foo", "--n", "5", "--out", Path.Combine(_root, "sims")]);

        Assert.Equal(2, code);
        Assert.Contains("foo", output, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", output, StringComparison.Ordinal);
    }
}
