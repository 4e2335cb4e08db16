using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace AlertBroker.Cli.Tests;

/// <summary><c>alertbroker demo --serve</c> as a child process: it prints the pages' address and serves them during and after the demo, until SIGTERM.</summary>
public sealed partial class DemoServeTests
{
    [Fact]
    public async Task Demo_Serve_PrintsTheAddressServesThePagesAfterTheStreamAndStopsOnSigterm()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var port = TestPorts.Free();
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "alertbroker"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = SharedData.RepositoryRoot() ?? AppContext.BaseDirectory,
        };
        // Only the synthetic stream (an empty input directory, no simulated nights): the test does not depend on ../shared.
        var empty = Directory.CreateTempSubdirectory("ab-demo-serve-").FullName;
        foreach (var a in new[] { "demo", empty, "--serve", "--http-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--nights", "0", "--objects", "6", "--alerts-per-object", "3", "--batch-size", "10" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["COLUMNS"] = "200";
        using var demo = Process.Start(psi)!;
        var output = new ConcurrentQueue<string>();
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            output.Enqueue(line);
            if (line.Contains("The demo has ended", StringComparison.Ordinal))
            {
                ended.TrySetResult();
            }
        }

        demo.OutputDataReceived += (_, e) => OnLine(e.Data);
        demo.ErrorDataReceived += (_, e) => OnLine(e.Data);
        demo.BeginOutputReadLine();
        demo.BeginErrorReadLine();
        try
        {
            await ended.Task.WaitAsync(TimeSpan.FromSeconds(120));
            var address = "http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/ui/";
            Assert.Contains(output, l => l.Contains("web:", StringComparison.Ordinal) && l.Contains(address, StringComparison.Ordinal));

            // After the stream the pages are still served, with what it produced.
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            Assert.Contains("<main>", await http.GetStringAsync(new Uri(address)), StringComparison.Ordinal);
            var overview = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/overview", UriKind.Relative));
            Assert.Equal(18, overview.GetProperty("alerts").GetInt64());
            var recent = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/objects/recent", UriKind.Relative));
            Assert.Equal(18, recent.GetProperty("items").GetArrayLength());
            var first = recent.GetProperty("items")[0].GetProperty("objectId").GetString()!;
            var history = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/objects/ztf/" + first + "/history", UriKind.Relative));
            Assert.True(history.GetProperty("available").GetBoolean(), history.ToString());

            Assert.Equal(0, Kill(demo.Id, 15));
            await demo.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            if (!demo.HasExited)
            {
                demo.Kill(entireProcessTree: true);
            }
        }

        demo.WaitForExit();
        Directory.Delete(empty);
        Assert.True(demo.ExitCode == 0, $"exit code {demo.ExitCode}:\n{string.Join('\n', output)}");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
