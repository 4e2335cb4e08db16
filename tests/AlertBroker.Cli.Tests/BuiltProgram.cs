using System.Diagnostics;
using System.Text.RegularExpressions;

namespace AlertBroker.Cli.Tests;

/// <summary>Runs the built <c>alertbroker</c> program (or another build of it) to its end, as a user's shell would.</summary>
internal static partial class BuiltProgram
{
    /// <summary>The program built beside the tests.</summary>
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "alertbroker");

    /// <summary>
    /// Runs <paramref name="program"/> (default <see cref="Path"/>) in <paramref name="workingDirectory"/> with stdin
    /// closed, no colours and none of the caller's ALERTBROKER* settings; stdout and stderr come back separately, with
    /// colour codes removed. Exit -1 when it did not finish within two minutes (it is then killed).
    /// </summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string workingDirectory, string[] arguments, string? program = null)
    {
        program ??= Path;
        Assert.True(File.Exists(program), $"{program} was not built");
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ALERTBROKER", StringComparison.OrdinalIgnoreCase) || k == "LD_LIBRARY_PATH").ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, await stdout, $"did not finish within 2 minutes: {await stderr}");
        }

        return (process.ExitCode, Ansi().Replace(await stdout, string.Empty), Ansi().Replace(await stderr, string.Empty));
    }

    /// <summary><see cref="RunAsync"/>, waited for.</summary>
    public static (int Exit, string Stdout, string Stderr) Run(string workingDirectory, params string[] arguments) =>
        RunAsync(workingDirectory, arguments).GetAwaiter().GetResult();

    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex Ansi();
}
