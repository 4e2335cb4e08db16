using AlertBroker.Alerts;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Web.Tests;

public sealed class WorkerStatisticsTests
{
    [Fact]
    public void Snapshot_AfterBatches_SumsCountsDeadLettersAndLatencyPercentiles()
    {
        using var metrics = new WorkerMetrics();
        using var statistics = new WorkerStatistics(metrics);
        using var other = new WorkerMetrics();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var outputs = Enumerable.Range(0, 100).Select(i => Output("ZTF" + i, now - (i + 1) * 10)).ToList();
        var batch = new BatchResult(101, 100, outputs, [new DeadLetter(default, "NotAvro", "x")], 100, 100, 0, new StageTimings(default, default, default, default, default, TimeSpan.FromMilliseconds(12)));
        metrics.MessagesReceived(101);
        metrics.RecordBatch(batch);
        metrics.Published(batch, now);
        metrics.SetLag("alerts", 2, 40);
        metrics.SetModel("m", "1.0");
        metrics.Filtered("ztf", "reliability", 7);
        metrics.Filtered("lsst", "negative-flux", 2);

        // Another worker's instruments in the same process are not counted.
        other.RecordBatch(batch);
        other.Filtered("ztf", "star", 5);

        var s = statistics.Snapshot();
        Assert.Equal(101, s.Messages);
        Assert.Equal(100, s.Alerts);
        Assert.Equal(100, s.Classifications);
        Assert.Equal(9, s.Withheld);
        Assert.Equal(9, s.ToHeartbeat().Withheld);
        Assert.Equal(1, s.DeadLetters["NotAvro"]);
        Assert.Equal(100, s.Latency.Samples);
        Assert.Equal(500, s.Latency.P50);
        Assert.Equal(990, s.Latency.P99);
        Assert.Equal(12, s.Batch.P50);
        Assert.Equal(40, s.ConsumerLag);
        Assert.Equal(new PartitionLag("alerts", 2, 40), Assert.Single(s.Partitions));
        Assert.Equal(("m", "1.0"), (s.ModelName, s.ModelVersion));
        Assert.Equal(100, s.PeakAlertsPerSecond);
        var heartbeat = s.ToHeartbeat();
        Assert.Equal(100, heartbeat.Alerts);
        Assert.Equal(990, heartbeat.LatencyP99Ms);
    }

    [Fact]
    public void RecentLog_MoreThanCapacity_KeepsTheNewestFirst()
    {
        var log = new RecentClassificationLog(3);
        var outputs = Enumerable.Range(0, 5).Select(i => Output("ZTF" + i, null)).ToList();
        log.Add(new BatchResult(5, 5, outputs, [], 5, 5, 0, new StageTimings(default, default, default, default, default, default)));
        Assert.Equal(["ZTF4", "ZTF3", "ZTF2"], log.Latest(10).Select(r => r.ObjectId));
        Assert.Equal(["ZTF4"], log.Latest(1).Select(r => r.ObjectId));
        var r = log.Latest(1)[0];
        Assert.Equal(("ztf", "m@1", "B"), (r.Survey, r.Model, r.TopClass));
    }

    [Fact]
    public void ModelId_Parse_SplitsFromTheEnd()
    {
        Assert.True(ModelLibrary.TryParseId("team/ztf-bts/1.0.0/1ce20f77bb37", out var name, out var version, out var sha));
        Assert.Equal(("team/ztf-bts", "1.0.0", "1ce20f77bb37"), (name, version, sha));
        Assert.False(ModelLibrary.TryParseId("nonsense", out _, out _, out _));
    }

    // run --model DIR sets AlertBroker:Model:Paths, which the web view did not look in: outside a checkout an object's class
    // history was "no model registry and no model directory is configured".
    [OnnxFact]
    public async Task ModelDirectories_ThePackagesTheWorkerWasGiven_AreFound()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ab-web-paths-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var first = TestModelPackages.Export(Path.Combine(dir, "a", "given-a", "1.0.0"), "given-a", "1.0.0", seed: 1);
            var second = TestModelPackages.Export(Path.Combine(dir, "b", "given-b", "2.0.0"), "given-b", "2.0.0", seed: 2);
            var directories = WebHosting.ModelDirectories(new WebOptions(), new ModelOptions { Paths = [first, second] });
            using var library = new ModelLibrary(null, directories);

            Assert.Equal(["given-a", "given-b"], library.ListDirectoryPackages().Select(p => p.Name).Where(n => n.StartsWith("given-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
            var sha = library.ListDirectoryPackages().Single(p => p.Name == "given-b").Sha256;
            var found = await library.FindAsync("given-b/2.0.0/" + sha[..12]);
            Assert.True(found.Available, found.Reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [OnnxFact]
    public async Task ModelLibrary_PackageWithAnotherSha_IsNeverUsed()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ab-web-lib-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            TestModelPackages.Export(Path.Combine(dir, "tiny", "1.0.0"), "tiny", "1.0.0", seed: 1);
            using var library = new ModelLibrary(null, [dir]);
            var sha = library.ListDirectoryPackages().Single().Sha256;
            var found = await library.FindAsync("tiny/1.0.0/" + sha[..12]);
            Assert.True(found.Available, found.Reason);
            Assert.Equal(TestModelPackages.Classes, found.Classes);

            var other = await library.FindAsync("tiny/1.0.0/000000000000");
            Assert.False(other.Available);
            Assert.Contains("not 000000000000", other.Reason, StringComparison.Ordinal);
            var missing = await library.FindAsync("gone/2.0.0/" + sha[..12]);
            Assert.False(missing.Available);
            Assert.Contains("gone@2.0.0 is in none of the model directories", missing.Reason, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [OnnxFact]
    public async Task ModelLibrary_RegistryPackageWhoseNetworkGivesNaN_IsUnavailableWithTheReason()
    {
        // A directory package went through ActiveModel.Load (the smoke batch); a registry package did not, and the light
        // curve page showed its history as null probabilities. An infinite output bias passes every file check (only a NaN
        // weight is refused on load) and makes every output NaN.
        var dir = Path.Combine(Path.GetTempPath(), "ab-web-lib-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var package = BrokenModelPackages.Export(Path.Combine(dir, "export"), float.PositiveInfinity);
            var registry = new AlertBroker.Registry.DirectoryModelRegistry(Path.Combine(dir, "registry"));
            var pushed = await registry.PushAsync(new AlertBroker.Registry.ModelPackageBytes(File.ReadAllBytes(Path.Combine(package, "model.json")), File.ReadAllBytes(Path.Combine(package, "model.onnx"))), "web-tests");
            using var library = new ModelLibrary(registry, []);

            var found = await library.FindAsync($"nan-model/1.0.0/{pushed.Sha256[..12]}");

            Assert.False(found.Available);
            Assert.Contains("the registry's package cannot be used", found.Reason, StringComparison.Ordinal);
            Assert.Contains("InvalidOutput", found.Reason, StringComparison.Ordinal);
            Assert.Equal(TestModelPackages.Classes, found.Classes);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static OutputMessage Output(string objectId, long? timestamp) =>
        new(objectId, [], new Classification(objectId, 1, 1, Survey.Ztf, 60000, "m", "1", ["A", "B"], [0.25f, 0.75f], 3, 3, ScoringPath.Full, timestamp, 0, 0));
}
