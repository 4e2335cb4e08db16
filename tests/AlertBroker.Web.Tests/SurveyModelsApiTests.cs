using AlertBroker.Registry;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Web.Tests;

/// <summary>The overview's and the models page's JSON: one entry per survey (active, rollback, shadow), from the registry or the worker's fixed models.</summary>
public sealed class SurveyModelsApiTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-web-surveys-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [OnnxFact]
    public async Task ModelsAndOverview_PerSurveyPointersAndAShadow_OneEntryPerSurvey()
    {
        var registry = new DirectoryModelRegistry(Path.Combine(_root, "registry"));
        var pushed = new Dictionary<string, RegisteredModel>(StringComparer.Ordinal);
        foreach (var (name, seed, survey) in new[] { ("z", 1, "ztf"), ("z2", 2, "ztf"), ("l", 3, "lsst"), ("c", 4, "ztf") })
        {
            var dir = TestModelPackages.Export(Path.Combine(_root, "export", name), name, "1", seed, surveys: [survey]);
            pushed[name] = await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), "web-tests");
        }

        ActivePointer Pointer(string name) => new() { Name = pushed[name].Name, Version = "1", Sha256 = pushed[name].Sha256, SinceUtc = DateTimeOffset.UtcNow };
        PromotionRecord Record(string action, string survey, string to) => new() { Action = action, Survey = survey, Utc = DateTimeOffset.UtcNow, To = to, By = "web-tests" };
        await registry.SetActiveAsync("ztf", null, Pointer("z"), Record("promote", "ztf", "z@1"));
        await registry.SetActiveAsync("ztf", Pointer("z"), Pointer("z2"), Record("promote", "ztf", "z2@1"));
        await registry.SetActiveAsync("lsst", null, Pointer("l"), Record("promote", "lsst", "l@1"));
        await registry.SetShadowAsync("ztf", Pointer("c"), Record("shadow", "ztf", "c@1"));

        using var metrics = new WorkerMetrics();
        using var statistics = new WorkerStatistics(metrics);
        using var sources = Sources(statistics, registry);

        var models = await WebApi.ModelsAsync(sources, CancellationToken.None);
        Assert.Equal(["lsst", "ztf"], models.Pointers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("z2", "z", "c"), (models.Pointers["ztf"].Active!.Name, models.Pointers["ztf"].Rollback!.Name, models.Pointers["ztf"].Shadow!.Name));
        Assert.Equal("l", models.Pointers["lsst"].Active!.Name);
        Assert.Null(models.Pointers["lsst"].Shadow);
        Assert.Equal(["ztf"], models.Versions.Single(v => v.Name == "z2").ActiveFor);
        Assert.Equal(["lsst"], models.Versions.Single(v => v.Name == "l").ActiveFor);
        Assert.Equal(["ztf"], models.Versions.Single(v => v.Name == "c").ShadowFor);
        Assert.True(models.Versions.Single(v => v.Name == "z").Rollback);
        Assert.Equal(4, models.Audit.Count);
        Assert.Equal("shadow", models.Audit[0].Action);

        var overview = await WebApi.OverviewAsync(sources, CancellationToken.None);
        Assert.Equal(["lsst", "ztf"], overview.Models.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("z2", "c"), (overview.Models["ztf"].Active!.Name, overview.Models["ztf"].Shadow!.Name));
        Assert.Equal("l", overview.Models["lsst"].Active!.Name);
    }

    // The worker's row named whichever active gauge was read last (one of the two models) where its heartbeat says both.
    [Fact]
    public async Task Overview_InProcessWorkerServingTwoSurveys_RowNamesEachSurveysModelAsTheHeartbeatDoes()
    {
        using var metrics = new WorkerMetrics();
        using var statistics = new WorkerStatistics(metrics);
        using var sources = Sources(statistics, null);

        metrics.SetModels([("ztf", "active", "ztf-bts", "2.0.0"), ("lsst", "active", "lsst-sim", "1.0.0"), ("ztf", "shadow", "ztf-next", "0.1.0")]);
        var two = await WebApi.OverviewAsync(sources, CancellationToken.None);
        metrics.SetModels([("ztf", "active", "both", "1.0.0"), ("lsst", "active", "both", "1.0.0")]);
        var one = await WebApi.OverviewAsync(sources, CancellationToken.None);

        Assert.Equal("lsst=lsst-sim@1.0.0, ztf=ztf-bts@2.0.0", Assert.Single(two.PerWorker).Model);
        Assert.Equal("both@1.0.0", Assert.Single(one.PerWorker).Model);
    }

    [Fact]
    public async Task Overview_WithoutARegistry_ShowsTheModelsTheWorkerServesPerSurvey()
    {
        using var metrics = new WorkerMetrics();
        using var statistics = new WorkerStatistics(metrics);
        metrics.SetModels([("ztf", "active", "ztf-bts", "2.0.0"), ("lsst", "active", "lsst-sim", "1.0.0"), ("ztf", "shadow", "ztf-next", "0.1.0")]);
        using var sources = Sources(statistics, null);

        var overview = await WebApi.OverviewAsync(sources, CancellationToken.None);
        Assert.Equal(("ztf-bts", "2.0.0", "ztf-next"), (overview.Models["ztf"].Active!.Name, overview.Models["ztf"].Active!.Version, overview.Models["ztf"].Shadow!.Name));
        Assert.Equal("lsst-sim", overview.Models["lsst"].Active!.Name);
        Assert.Null(overview.Models["lsst"].Shadow);

        var models = await WebApi.ModelsAsync(sources, CancellationToken.None);
        Assert.Equal("ztf-bts", models.Pointers["ztf"].Active!.Name);
        Assert.Contains(models.Notes, n => n.Contains("lsst lsst-sim@1.0.0", StringComparison.Ordinal));
    }

    // The models page read (and deserialised) the whole audit trail on every request, however long it had grown.
    [Fact]
    public async Task Models_AuditLongerThanThePage_AnswersTheNewestRecordsAndSaysOlderOnesExist()
    {
        var registry = new DirectoryModelRegistry(Path.Combine(_root, "registry"));
        var total = WebApi.MaxAuditRecords + 50;
        for (var i = 0; i < total; i++)
        {
            await registry.SetShadowAsync("ztf", null, new PromotionRecord { Action = "shadow-clear", Survey = "ztf", Utc = DateTimeOffset.UtcNow, To = "-", By = "web-tests", Reason = "r" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        using var metrics = new WorkerMetrics();
        using var statistics = new WorkerStatistics(metrics);
        using var sources = Sources(statistics, registry);

        var models = await WebApi.ModelsAsync(sources, CancellationToken.None);
        Assert.Equal(WebApi.MaxAuditRecords, models.Audit.Count);
        Assert.True(models.AuditTruncated);
        Assert.Equal("r" + (total - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), models.Audit[0].Reason);
        Assert.Equal("r50", models.Audit[^1].Reason);

        var small = new DirectoryModelRegistry(Path.Combine(_root, "short"));
        await small.SetShadowAsync("lsst", null, new PromotionRecord { Action = "shadow-clear", Survey = "lsst", Utc = DateTimeOffset.UtcNow, To = "-", By = "web-tests" });
        using var fewer = Sources(statistics, small);
        var all = await WebApi.ModelsAsync(fewer, CancellationToken.None);
        Assert.Equal("lsst", Assert.Single(all.Audit).Survey);
        Assert.False(all.AuditTruncated);
    }

    private static WebSources Sources(WorkerStatistics statistics, IModelRegistry? registry) => new()
    {
        Mode = "worker",
        Statistics = new InProcessStatisticsSource(statistics, "w1"),
        Recent = new NoRecentSource("none"),
        Registry = registry,
        RegistryDescription = registry is null ? null : "directory",
        FixedModels = () => statistics.Snapshot().Serving,
        Models = new ModelLibrary(registry, []),
    };
}
