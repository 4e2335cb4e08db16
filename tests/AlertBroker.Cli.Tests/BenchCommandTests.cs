namespace AlertBroker.Cli.Tests;

/// <summary>
/// <c>bench decode</c> and <c>bench pipeline</c> as a user runs them: stopped with Ctrl-C or SIGTERM, given sets with
/// nothing in them, options that do not apply. Found by the bench hunt of 2026-12-07.
/// </summary>
public sealed class BenchCommandTests
{
    // bench decode took no token: the stop was never seen and the process was ended 5 s later ("still running").
    [SharedDataFact]
    public async Task BenchDecode_Sigint_StopsWith130AndMeasuresNothing()
    {
        using var p = AlertBrokerProcess.Start(["bench", "decode", "--seconds", "600", SharedData.Sample("ztf-real-50")]);
        Assert.True(await p.WaitForLineAsync("bench decode: measuring", TimeSpan.FromMinutes(1)), p.Output);

        p.Signal(2);
        await p.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}:\n{p.Output}");
        Assert.Contains("bench decode: stopped; nothing measured", p.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("still running", p.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("alerts/s", p.Output, StringComparison.Ordinal);
    }

    // --shadow takes every path after it: `bench pipeline --shadow ALERTS` read the alert folder as a package and said
    // only that model.json and model.onnx were missing (until 2026-12-08).
    [SharedDataFact]
    public async Task BenchPipeline_AlertFolderAfterShadow_SaysItHoldsAlertsNotAPackage()
    {
        var alerts = SharedData.Sample("ztf-real-50");
        var run = await AlertBrokerProcess.RunToEndAsync(["bench", "pipeline", "--mode", "embedded", "--seconds", "0.2", "--shadow", alerts]);

        Assert.True(run.Code == 3, $"exit {run.Code}: {run.Output}");
        Assert.Contains($"{alerts}: MissingFile: model.json is missing", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("it holds alert files, not a model package (an option that takes packages, such as --shadow, takes every path after it: give the alert paths before it)", run.Stderr, StringComparison.Ordinal);
    }

    // The simulated nights were built without looking at the token: the forced exit 5 s later left the scratch directory.
    [Fact]
    public async Task BenchPipeline_SigtermWhileBuildingTheSimulatedNights_StopsWith143AndRemovesItsScratch()
    {
        using var p = AlertBrokerProcess.Start(["bench", "pipeline", "--mode", "embedded", "--sim-nights", "1000", "--sim-objects-per-night", "1000", "--objects", "0", "--seconds", "1"]);
        Assert.True(await p.WaitForLineAsync("machine:", TimeSpan.FromMinutes(1)), p.Output);

        p.Signal(15);
        await p.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}:\n{p.Output}");
        Assert.Contains("bench pipeline: stopped", p.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("still running", p.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "alertbroker-sim-" + p.Id)));
    }

    // A stop during (c) printed what the mock cluster had done so far as the figure ("0 alerts in 0.0 s … p50 NaN ms"), exit 0.
    [Fact]
    public async Task BenchPipelineKafka_Sigint_StopsWith130AndReportsNoFigure()
    {
        using var p = AlertBrokerProcess.Start(["bench", "pipeline", "--mode", "kafka", "--kafka-messages", "500000", "--objects", "0"]);
        Assert.True(await p.WaitForLineAsync("machine:", TimeSpan.FromMinutes(1)), p.Output);

        p.Signal(2);
        await p.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}:\n{p.Output}");
        Assert.Contains("bench pipeline: stopped", p.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("alerts/s", p.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", p.Output, StringComparison.Ordinal);
    }

    // A rate that gives no alert in the night asked was "measured" as 0 alerts/s, p50 NaN ms, exit 0 (0.0001 then; the
    // lowest rate taken is 0.001 since a tiny one hung the simulator).
    [Fact]
    public async Task BenchPipeline_ASimulatedSetWithNoAlert_IsSaidAndLeftOut()
    {
        var run = await AlertBrokerProcess.RunToEndAsync(["bench", "pipeline", "--mode", "embedded", "--seconds", "0.2", "--sim-nights", "1", "--sim-objects-per-night", "0.001", "--objects", "10"]);

        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}");
        Assert.Contains("survey simulator: no alert in 1 night at 0.001 transients/night; left out", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("survey simulator ZTF (", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("synthetic ZTF-format (10 objects", run.Stdout, StringComparison.Ordinal);
    }

    // 7 sent 5 (whole objects of --alerts-per-object 5) without a word.
    [Fact]
    public async Task BenchPipelineKafka_KafkaMessages_SendsExactlyThatMany()
    {
        var run = await AlertBrokerProcess.RunToEndAsync(["bench", "pipeline", "--mode", "kafka", "--kafka-messages", "7", "--objects", "0"]);

        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}");
        Assert.Contains("in-memory state, 7 synthetic ZTF-format messages", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("    7 alerts in ", run.Stdout, StringComparison.Ordinal);

        // Only (c) runs: the sets of (a) and (b) are not built.
        Assert.DoesNotContain("real samples", run.Output, StringComparison.Ordinal);
    }

    // The Redis connection options without a Redis they apply to were ignored without a word.
    [Theory]
    [InlineData("--mode kafka --redis-tls", "--redis-tls is for --mode redis or all with --redis; --mode kafka uses no Redis")]
    [InlineData("--mode embedded --redis-user u", "--redis-user is for --mode redis or all with --redis; --mode embedded uses no Redis")]
    [InlineData("--mode redis --redis-password p", "--redis-password is for a Redis given with --redis; without it (b) starts a local redis-server, which takes none")]
    public async Task BenchPipeline_RedisOptionsWithoutARedisTheyApplyTo_AreAUsageError(string options, string message)
    {
        var run = await AlertBrokerProcess.RunToEndAsync(["bench", "pipeline", .. options.Split(' ')]);

        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Output}");
        Assert.Contains("alertbroker bench pipeline: " + message, run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }
}

/// <summary><c>bench pipeline --redis</c> against a server of the user's: what it writes does not stay there.</summary>
public sealed class BenchPipelineRedisKeysTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    // Every state key (bench<pid>s<set>p<pass>…, no TTL) stayed in the user's Redis: 5,450 keys from a 0.3 s run.
    [Fact]
    public async Task BenchPipelineRedis_GivenARedis_LeavesNoKeyBehind()
    {
        Assert.True(redis.Available, redis.UnavailableReason);
        using var connection = await redis.ConnectAsync();
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var before = server.Keys(pattern: "bench*").Count();

        var run = await AlertBrokerProcess.RunToEndAsync(["bench", "pipeline", "--mode", "redis", "--redis", redis.Configuration, "--seconds", "0.3", "--sim-nights", "0", "--objects", "50", "--observe", "web"]);

        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}");
        Assert.Contains("(b) Redis state at", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, server.Keys(pattern: "bench*").Count());
    }
}
