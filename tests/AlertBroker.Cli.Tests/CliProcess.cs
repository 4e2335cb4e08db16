using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// The real <c>alertbroker</c> program as a child process, as a container or a Kubernetes Job runs it: copied into the test's
/// output by the project reference, started with the checkout as working directory (where the ONNX Runtime of
/// eng/setup.sh is found), none of the test process's <c>AlertBroker__*</c> variables, only the ones given, and every line
/// of its stdout and stderr kept.
/// </summary>
internal sealed partial class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private int? _exitCode;
    private bool _disposed;

    private CliProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _exitCode is not null || _process.HasExited;

    /// <summary>The exit code (also after <see cref="Dispose"/>).</summary>
    public int ExitCode => _exitCode ?? _process.ExitCode;

    /// <summary>Everything written so far, stdout and stderr interleaved as they arrived.</summary>
    public string Output => string.Join('\n', _lines);

    public static string ProgramPath => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "alertbroker.exe" : "alertbroker");

    public static CliProcess Start(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(ProgramPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = SharedData.RepositoryRoot() ?? AppContext.BaseDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("AlertBroker__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("ALERTBROKER_REDIS", StringComparison.Ordinal) || k.Equals("LD_LIBRARY_PATH", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        psi.Environment["Logging__Console__FormatterName"] = "simple";
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[key] = value;
        }

        return new CliProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start " + psi.FileName));
    }

    /// <summary>Runs the program to its end (killed after <paramref name="timeout"/>): its exit code and output.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout, params string[] args)
    {
        using var process = Start(environment, args);
        await process.WaitForExitAsync(timeout);
        return (process.ExitCode, process.Output);
    }

    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    public int Count(string text) => _lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>Waits until a line contains <paramref name="text"/> (false when the time is up or the process ended first).</summary>
    public async Task<bool> WaitForAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Contains(text))
            {
                return true;
            }

            if (_process.HasExited)
            {
                await Task.Delay(200);
                return Contains(text);
            }

            await Task.Delay(50);
        }

        return Contains(text);
    }

    /// <summary>Waits for the process to end (killing it after <paramref name="timeout"/>), then for its output to be read.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _lines.Enqueue($"[test] killed after {timeout.TotalSeconds:F0} s");
        }

        // The parameterless wait also waits for the redirected streams to reach their end.
        _process.WaitForExit();
        _exitCode = _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as Kubernetes does to stop a pod.</summary>
    public void Terminate()
    {
        if (!HasExited && Kill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException("kill(SIGTERM) failed: " + Marshal.GetLastPInvokeError());
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit();
            _exitCode = _process.ExitCode;
            _process.Dispose();
            _disposed = true;
        }
    }


    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }
}
