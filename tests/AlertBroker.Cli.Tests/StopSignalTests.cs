namespace AlertBroker.Cli.Tests;

/// <summary>
/// SIGTERM (and Ctrl-C's SIGINT) to a command other than <c>run</c>: a stop request its token carries. Before, no handler
/// was registered at all (System.CommandLine's is off by default), so the signal ended the process in the middle of
/// writing: <c>simulate lightcurves</c> left a half-written pair that read as a smaller labelled set.
/// </summary>
public sealed class StopSignalTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-stop-signal-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task SimulateLightCurves_Sigterm_StopsWith143AndLeavesNoFiles()
    {
        var output = Path.Combine(_root, "sims");
        using var p = await StartWritingLightCurvesAsync(output);
        p.Signal(15);
        await p.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}:\n{p.Output}");
        Assert.Contains("simulate lightcurves: stopped; nothing written", p.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output)); // nor the --out folder it made
        Assert.DoesNotContain("unexpected error", p.Output, StringComparison.Ordinal);
    }

    // simulate alerts saw a stop only between nights, so a long night ran into the grace period and was cut mid-archive
    // (a truncated .tar.gz), without a word. Now it stops between alerts, closes the night's archive and says how far it got.
    [Fact]
    public async Task SimulateAlerts_Sigterm_LeavesWholeArchivesHoldingTheAlertsItReports()
    {
        var output = Path.Combine(_root, "stream");
        var labels = Path.Combine(_root, "labels.csv");
        using var p = AlertBrokerProcess.Start(["simulate", "alerts", "--survey", "ztf", "--nights", "400", "--objects-per-night", "100", "--no-cutouts", "--format", "tar", "--out", output, "--labels", labels]);
        Assert.True(await p.WaitForLineAsync("night ", TimeSpan.FromMinutes(2)), p.Output);

        p.Signal(15);
        await p.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}:\n{p.Output}");
        var stopped = System.Text.RegularExpressions.Regex.Match(p.Output, @"simulate alerts: stopped after (\d+) alert\(s\) from (\d+) object\(s\) in (\d+) night\(s\)");
        Assert.True(stopped.Success, p.Output);
        Assert.DoesNotContain("still running", p.Output, StringComparison.Ordinal);
        var archives = Directory.GetFiles(output, "*.tar.gz");
        Assert.Equal(int.Parse(stopped.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture), archives.Length);
        Assert.InRange(archives.Length, 1, 399);
        var entries = 0;
        foreach (var archive in archives)
        {
            // Read to the end: a cut archive throws here (gzip or tar), a whole one ends cleanly.
            using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(archive), System.IO.Compression.CompressionMode.Decompress);
            using var tar = new System.Formats.Tar.TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                Assert.True(entry.Length > 0, archive);
                entries++;
            }
        }

        Assert.Equal(int.Parse(stopped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), entries);
        Assert.Equal(int.Parse(stopped.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) + 1, File.ReadAllLines(labels).Length);
    }

    // `timeout` signals the command and then its whole process group: the same SIGINT twice within microseconds. The second
    // was taken as "end now" and the process died mid-write, its partial files left and nothing said (1 run in 7).
    [Fact]
    public async Task SimulateLightCurves_TheSameSignalTwiceAtOnce_StillStopsCleanly()
    {
        var output = Path.Combine(_root, "twice");
        using var p = await StartWritingLightCurvesAsync(output);
        p.Signal(2);
        p.Signal(2);
        await p.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}:\n{p.Output}");
        Assert.Contains("simulate lightcurves: stopped; nothing written", p.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output)); // nor the --out folder it made
    }

    // A paced replay stopped by a signal ended without a word: now the summary up to there, and --out holds whole lines.
    [SharedDataFact]
    public async Task PacedReplay_Sigterm_PrintsTheSummarySoFarAndStopsWith143()
    {
        var output = Path.Combine(_root, "replayed.jsonl");
        using var p = AlertBrokerProcess.Start(["replay", SharedData.Sample("ztf-real-50"), "--rate", "2", "--out", output]);
        Assert.True(await p.WaitForLineAsync("[replay]", TimeSpan.FromMinutes(1)), p.Output);

        p.Signal(15);
        await p.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}:\n{p.Output}");
        var stopped = System.Text.RegularExpressions.Regex.Match(p.Output, @"replay: stopped after (\d+) alert\(s\); the summary is up to there");
        Assert.True(stopped.Success, p.Output);
        var lines = File.ReadAllLines(output);
        Assert.Equal(int.Parse(stopped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), lines.Length);
        Assert.InRange(lines.Length, 1, 49);
        Assert.All(lines, l => System.Text.Json.JsonDocument.Parse(l).Dispose());
        Assert.DoesNotContain("unexpected error", p.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("still running", p.Output, StringComparison.Ordinal);
    }

    // Cancelling the command's token runs the rest of a command that was about to end on the signal's thread, and with it
    // InvokeStoppableAsync's disposal of both sources: reading the grace timer's token after Cancel threw
    // ObjectDisposedException, an unhandled exception with a stack trace (Ctrl-C near the end of a short bench, 2 runs in 5).
    [Fact]
    public void RequestStop_TheCommandEndsWhileItsTokenIsCancelled_NeitherThrowsNorEndsTheProcess()
    {
        var stop = new CancellationTokenSource();
        var finished = new CancellationTokenSource();
        using var _ = stop.Token.Register(() =>
        {
            finished.Cancel();
            finished.Dispose();
        });
        var exits = new List<int>();

        AlertBrokerCommand.RequestStop(stop, finished, 130, exits.Add);

        Assert.True(stop.IsCancellationRequested);
        Assert.Empty(exits);
        stop.Dispose();

        // A signal handled after the command returned and disposed both: nothing to stop, nothing thrown.
        AlertBrokerCommand.RequestStop(stop, finished, 143, exits.Add);
        Assert.Empty(exits);
    }

    // simulate lightcurves started on 2,000,000 light curves, returned once it is writing (the partial files exist).
    private static async Task<AlertBrokerProcess> StartWritingLightCurvesAsync(string output)
    {
        var p = AlertBrokerProcess.Start(["simulate", "lightcurves", "--survey", "ztf", "--n", "2000000", "--out", output, "--seed", "1"]);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!p.HasExited && !(Directory.Exists(output) && Directory.GetFiles(output).Length > 0) && waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(100);
        }

        Assert.False(p.HasExited, p.Output);
        return p;
    }
}
