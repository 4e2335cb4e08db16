using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Cli.Commands;
using AlertBroker.Cli.Replay;

namespace AlertBroker.Cli.Tests;

public sealed class ReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ab-replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedDataFact]
    public void Run_AllSamples_CountsAlertsObjectsAndSchemas()
    {
        var stats = new AlertReplayer(new AlertDecoder(), new ReplayOptions()).Run([SharedData.Path("alert-samples")], CancellationToken.None);

        // 5 + 50 ZTF, 2 + 100 Rubin sample files, one alert each. The lsst.v7_4 schema's fake alert dates its detections
        // MJD 1480360995, far outside any Rubin time: refused at decode as an invalid value, counted, and the rest go on.
        Assert.Equal(157, stats.Messages);
        Assert.Equal(156, stats.Alerts);
        Assert.Equal(1, stats.ErrorCount);
        Assert.Equal(1, stats.Errors[AlertErrorKind.InvalidValue]);
        Assert.Equal(55, stats.BySchema.Where(kv => kv.Key.StartsWith("ztf", StringComparison.Ordinal)).Sum(kv => kv.Value));
        Assert.Equal(101, stats.BySchema.Where(kv => kv.Key.StartsWith("lsst", StringComparison.Ordinal)).Sum(kv => kv.Value));
        Assert.InRange(stats.Objects, 2, 156);
    }

    [SharedDataFact]
    public void Run_BadFileAmongGood_IsCountedAndSkipped()
    {
        var good = SharedData.Files("alert-samples/ztf-real-50").Take(3).ToArray();
        foreach (var f in good)
        {
            File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        }

        var truncated = File.ReadAllBytes(good[0]);
        File.WriteAllBytes(Path.Combine(_dir, "truncated.avro"), truncated[..(truncated.Length / 2)]);
        File.WriteAllText(Path.Combine(_dir, "text.avro"), "hello");

        var stats = new AlertReplayer(new AlertDecoder(), new ReplayOptions()).Run([_dir], CancellationToken.None);

        Assert.Equal(3, stats.Alerts);
        Assert.Equal(2, stats.ErrorCount);
        Assert.Equal(1, stats.Errors[AlertErrorKind.CorruptAvro]);
        Assert.Equal(1, stats.Errors[AlertErrorKind.NotAvro]);
    }

    [SharedDataFact]
    public void Run_Out_WritesOneJsonLinePerAlert()
    {
        var outPath = Path.Combine(_dir, "alerts.jsonl");
        var stats = new AlertReplayer(new AlertDecoder(), new ReplayOptions { OutPath = outPath, Repeat = 2 })
            .Run([SharedData.Path("alert-samples", "lsst-real-v7_4")], CancellationToken.None);

        var lines = File.ReadAllLines(outPath);
        Assert.Equal(200, stats.Alerts);
        Assert.Equal(200, lines.Length);
        Assert.All(lines, l => Assert.Equal("lsst", JsonDocument.Parse(l).RootElement.GetProperty("survey").GetString()));
    }

    [SharedDataFact]
    public void Run_Rate_PacesTheReplay()
    {
        // 30 alerts at 100/s cannot finish in less than ~0.29 s; this is a lower bound, not a timing assertion on speed.
        var stats = new AlertReplayer(new AlertDecoder(), new ReplayOptions { Rate = 100, Limit = 30 })
            .Run([SharedData.Path("alert-samples", "ztf-real-50")], CancellationToken.None);

        Assert.Equal(30, stats.Alerts);
        Assert.True(stats.Elapsed >= TimeSpan.FromSeconds(0.28), stats.Elapsed.ToString());
    }

    [Fact]
    public void Run_NothingReadable_ExitCodeOne()
    {
        var path = Path.Combine(_dir, "junk.avro");
        File.WriteAllText(path, "junk");
        Assert.Equal(1, ReplayCommand.Run([path], new ReplayOptions(), quiet: true, null, null, CancellationToken.None));
        Assert.Equal(1, ReplayCommand.Run([Path.Combine(_dir, "missing")], new ReplayOptions(), quiet: true, null, null, CancellationToken.None));
    }

    [Fact]
    public void Run_LimitInsideAContainerOfManyAlerts_StopsAtTheLimit()
    {
        // One night in one container file is one message of many alerts: --limit 3 replayed (and wrote) all of them.
        var night = NightContainer.Write(_dir);
        var outPath = Path.Combine(_dir, "alerts.jsonl");
        Assert.True(new AlertReplayer(new AlertDecoder(), new ReplayOptions()).Run([night], CancellationToken.None).Alerts > 3);

        var stats = new AlertReplayer(new AlertDecoder(), new ReplayOptions { Limit = 3, OutPath = outPath }).Run([night], CancellationToken.None);

        Assert.Equal(3, stats.Alerts);
        Assert.Equal(3, File.ReadAllLines(outPath).Length);
    }

    [SharedDataFact]
    public void Run_LimitWithRepeat_StopsAtTheLimit()
    {
        // The first pass stopped at the limit, then the second pass replayed one alert more (--limit 3 --repeat 2: 4).
        var stats = new AlertReplayer(new AlertDecoder(), new ReplayOptions { Limit = 3, Repeat = 2 })
            .Run([SharedData.Path("alert-samples", "ztf-real-50")], CancellationToken.None);

        Assert.Equal(3, stats.Alerts);
    }
}
