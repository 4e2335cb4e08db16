using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// The real <c>alertbroker</c> program as a child process, as a shell, a container or a Kubernetes Job runs it: the build
/// copied into the test's output by the project reference (or another build of it), started in the checkout (where the
/// ONNX Runtime of eng/setup.sh is found) unless told otherwise, with stdin closed, no colours, none of the test process's
/// <c>ALERTBROKER*</c>/<c>AlertBroker__*</c> variables or <c>LD_LIBRARY_PATH</c>, only the variables given, and every
/// line of its stdout and stderr kept (colour codes removed).
/// </summary>
internal sealed partial class AlertBrokerProcess : IDisposable
{
    private readonly Process _process;
    private int? _exitCode;
    private bool _disposed;

    private AlertBrokerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data, Stdout);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, Stderr);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
    }

    /// <summary>The program built beside the tests.</summary>
    public static string ProgramPath => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "alertbroker.exe" : "alertbroker");

    public int Id => _process.Id;

    public ConcurrentQueue<string> Stdout { get; } = new();

    public ConcurrentQueue<string> Stderr { get; } = new();

    /// <summary>Every line so far, stdout and stderr interleaved as they arrived.</summary>
    public ConcurrentQueue<string> Lines { get; } = new();

    public bool HasExited => _exitCode is not null || _process.HasExited;

    /// <summary>The exit code (also after <see cref="Dispose"/>).</summary>
    public int ExitCode => _exitCode ?? _process.ExitCode;

    public string Output => string.Join('\n', Lines);

    /// <summary>
    /// Starts <c>alertbroker ARGS</c> (<paramref name="program"/>: another build of it) in <paramref name="workingDirectory"/>
    /// (default: the checkout, else the test's output directory) with the variables of <paramref name="environment"/>.
    /// </summary>
    public static AlertBrokerProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null, string? program = null)
    {
        program ??= ProgramPath;
        Assert.True(File.Exists(program), $"{program} was not built");
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? SharedData.RepositoryRoot() ?? AppContext.BaseDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ALERTBROKER", StringComparison.OrdinalIgnoreCase) || k.Equals("LD_LIBRARY_PATH", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        psi.Environment["Logging__Console__FormatterName"] = "simple";
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[key] = value;
        }

        return new AlertBrokerProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start " + psi.FileName));
    }

    /// <summary>Runs <c>alertbroker ARGS</c> to its end (killed after <paramref name="timeout"/>, default two minutes).</summary>
    /// <returns>The exit code, stdout and stderr interleaved, and stdout alone.</returns>
    public static async Task<(int Code, string Output, string Stdout)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var finished = await RunToEndAsync(args, environment, timeout);
        return (finished.Code, finished.Output, finished.Stdout);
    }

    /// <summary><see cref="RunAsync"/> with stdout and stderr apart, another working directory or another build.</summary>
    public static async Task<Finished> RunToEndAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null, string? program = null)
    {
        using var p = Start(args, environment, workingDirectory, program);
        await p.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(2));
        return new Finished(p.ExitCode, p.Output, string.Join('\n', p.Stdout), string.Join('\n', p.Stderr));
    }

    /// <summary><see cref="RunToEndAsync"/>, waited for.</summary>
    public static Finished RunToEnd(string workingDirectory, params string[] args) =>
        RunToEndAsync(args, workingDirectory: workingDirectory).GetAwaiter().GetResult();

    public bool Contains(string text) => Lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    public int Count(string text) => Lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>Waits until a line of output contains <paramref name="text"/> (false when the time is up or the process ended first).</summary>
    public async Task<bool> WaitForLineAsync(string text, TimeSpan timeout)
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

    /// <summary>
    /// Waits for the process to end, then for the rest of its output. After <paramref name="timeout"/> it is killed and a
    /// last line says so: the exit code is then SIGKILL's, which no test expects.
    /// </summary>
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
            Lines.Enqueue($"[test] killed: alertbroker did not end within {timeout.TotalSeconds:F0} s");
        }

        // The parameterless wait also waits for the redirected streams to reach their end.
        _process.WaitForExit();
        _exitCode = _process.ExitCode;
    }

    /// <summary>The process's resident set (VmRSS of /proc/PID/status) in MB; NaN where there is no /proc.</summary>
    public double ResidentMegabytes()
    {
        var path = $"/proc/{_process.Id}/status";
        if (!File.Exists(path))
        {
            return double.NaN;
        }

        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>Sends a signal (kill(2)): 9 SIGKILL, 15 SIGTERM.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Sends SIGTERM, as Kubernetes does to stop a pod (nothing when the process has ended).</summary>
    public void Terminate()
    {
        if (!HasExited)
        {
            Signal(15);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
        _exitCode = _process.ExitCode;
        _process.Dispose();
        _disposed = true;
    }

    private void OnLine(string? line, ConcurrentQueue<string> stream)
    {
        if (line is null)
        {
            return;
        }

        line = Ansi().Replace(line, string.Empty);
        stream.Enqueue(line);
        Lines.Enqueue(line);
    }

    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex Ansi();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>How a run ended: the exit code, stdout and stderr interleaved, and each alone.</summary>
    public sealed record Finished(int Code, string Output, string Stdout, string Stderr);
}
