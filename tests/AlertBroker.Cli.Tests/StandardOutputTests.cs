namespace AlertBroker.Cli.Tests;

/// <summary>
/// Standard output that cannot be written (<c>&gt; /dev/full</c>, a full disk behind a redirection): each command says so
/// on one line and exits 1; before, it ended as "unexpected error (IOException): No space left on device", exit 70.
/// </summary>
public sealed class StandardOutputTests
{
    public static TheoryData<string[]> Commands() => new()
    {
        { ["--help"] },
        { ["models", "list"] },
        { ["inspect", "{samples}"] },
        { ["inspect", "{samples}", "--json"] },
        { ["replay", "{samples}", "--quiet"] },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task FullStandardOutput_IsExitOneWithOneLine(string[] arguments)
    {
        if (!File.Exists("/dev/full"))
        {
            return; // Linux's; CI runs there
        }

        var samples = SharedData.Path("alert-samples", "ztf-real-50");
        if (arguments.Contains("{samples}") && !Directory.Exists(samples))
        {
            return; // needs ../shared
        }

        // bash redirects the program's standard output to /dev/full: every write fails with ENOSPC.
        var args = arguments.Select(a => a.Replace("{samples}", samples, StringComparison.Ordinal));
        var run = await AlertBrokerProcess.RunToEndAsync(
            ["-c", "exec \"$0\" \"$@\" > /dev/full", AlertBrokerProcess.ProgramPath, .. args],
            program: "/bin/bash");

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("alertbroker: cannot write standard output: No space left on device", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public async Task OutputFileOnAFullDevice_SaysItOnceWithoutDotNetsPathSuffix()
    {
        if (!File.Exists("/dev/full"))
        {
            return; // Linux's; CI runs there
        }

        // Was "cannot write /dev/full: No space left on device : '/dev/full'".
        var sample = Directory.GetFiles(SharedData.Path("alert-samples", "ztf"), "*.avro")[0];
        var run = await AlertBrokerProcess.RunToEndAsync(["replay", sample, "--out", "/dev/full"]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Equal("cannot write /dev/full: No space left on device", run.Stderr.Trim());
    }
}
