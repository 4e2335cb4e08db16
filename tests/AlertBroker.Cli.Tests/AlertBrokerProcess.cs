using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace AlertBroker.Cli.Tests;

/// <summary>The built <c>alertbroker</c> program as a child process, its stdout and stderr lines kept.</summary>
internal sealed partial class AlertBrokerProcess : IDisposable
{
    private readonly Process _process;

    private AlertBrokerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data, Stdout);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, Stderr);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public ConcurrentQueue<string> Stdout { get; } = new();

    public ConcurrentQueue<string> Stderr { get; } = new();

    public ConcurrentQueue<string> Lines { get; } = new();

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => string.Join('\n', Lines);

    /// <summary>Starts <c>alertbroker ARGS</c> from the test's output directory, without the caller's AlertBroker variables.</summary>
    public static AlertBrokerProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "alertbroker.exe" : "alertbroker"))
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

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("AlertBroker__", StringComparison.OrdinalIgnoreCase) || k.Equals("LD_LIBRARY_PATH", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        psi.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        return new AlertBrokerProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start " + psi.FileName));
    }

    /// <summary>Runs <c>alertbroker ARGS</c> to its end (killed after <paramref name="timeout"/>).</summary>
    public static async Task<(int Code, string Output, string Stdout)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        using var p = Start(args, environment);
        await p.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(120));
        return (p.ExitCode, p.Output, string.Join('\n', p.Stdout));
    }

    /// <summary>Waits until a line of output contains <paramref name="text"/> (false on timeout or exit).</summary>
    public async Task<bool> WaitForLineAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }

            if (_process.HasExited)
            {
                await Task.Delay(200);
                return Lines.Any(l => l.Contains(text, StringComparison.Ordinal));
            }

            await Task.Delay(50);
        }

        return false;
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"alertbroker did not end within {timeout.TotalSeconds} s; output:\n{Output}");
        }

        _process.WaitForExit(); // the output's end
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

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void OnLine(string? line, ConcurrentQueue<string> stream)
    {
        if (line is null)
        {
            return;
        }

        stream.Enqueue(line);
        Lines.Enqueue(line);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
