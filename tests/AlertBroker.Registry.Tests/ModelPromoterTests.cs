using AlertBroker.Model.Packaging;

namespace AlertBroker.Registry.Tests;

public sealed class ModelPromoterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-promote-").FullName;
    private readonly DirectoryModelRegistry _registry;
    private readonly ModelPromoter _promoter;

    public ModelPromoterTests()
    {
        _registry = new DirectoryModelRegistry(_root);
        _promoter = new ModelPromoter(_registry);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Promote_ValidModels_MovesThePointerAndRecordsEachStep()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");

        var first = await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions { By = "alice" });
        var second = await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions { By = "bob", Reason = "fine-tuned on BTS" });

        Assert.True(first.Promoted, string.Join("\n", first.Findings));
        Assert.True(second.Promoted, string.Join("\n", second.Findings));
        Assert.Equal(new ModelRef("m", "2"), (await _registry.GetActiveAsync())!.Ref);
        var audit = await _registry.GetAuditAsync();
        Assert.Equal([null, "m@1"], audit.Select(r => r.From));
        Assert.Equal("fine-tuned on BTS", audit[1].Reason);
        Assert.Equal("bob", audit[1].By);
        Assert.False(audit[1].Forced);
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("encoding")]
    [InlineData("shapes")]
    public async Task Promote_BrokenCandidate_IsRefusedAndTheActiveModelStays(string kind)
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        var broken = kind switch
        {
            "corrupt" => TestPackages.CorruptOnnx("m", "2"),
            "encoding" => TestPackages.UnknownEncoding("m", "2"),
            _ => TestPackages.WrongShapes("m", "2"),
        };
        await _registry.PushAsync(broken, "a");

        // --force overrides only the metric check: a package that cannot serve is never promoted.
        var result = await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions { Force = true });

        Assert.False(result.Promoted);
        Assert.Contains(result.Findings, f => f.StartsWith("refused", StringComparison.Ordinal));
        Assert.Equal(new ModelRef("m", "1"), (await _registry.GetActiveAsync())!.Ref);
        Assert.Single(await _registry.GetAuditAsync());
    }

    [Fact]
    public async Task Promote_WorseOnHoldout_IsRefused_UnlessForced_AndTheAuditSaysSo()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        var holdout = new FixedHoldout(new Dictionary<string, double> { ["1"] = 0.90, ["2"] = 0.85 });

        var refused = await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions { Holdout = holdout, MaxAurocDrop = 0.01 });
        Assert.False(refused.Promoted);
        Assert.Equal(new ModelRef("m", "1"), (await _registry.GetActiveAsync())!.Ref);

        var forced = await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions { Holdout = holdout, MaxAurocDrop = 0.01, Force = true });
        Assert.True(forced.Promoted);
        var record = (await _registry.GetAuditAsync())[^1];
        Assert.True(record.Forced);
        Assert.Equal(0.85, record.Metrics["candidateMacroAuroc"]);
        Assert.Equal(0.90, record.Metrics["activeMacroAuroc"]);
    }

    [Fact]
    public async Task Promote_WithinAllowedDrop_IsPromoted()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());

        var result = await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions { Holdout = new FixedHoldout(new Dictionary<string, double> { ["1"] = 0.90, ["2"] = 0.895 }), MaxAurocDrop = 0.01 });

        Assert.True(result.Promoted, string.Join("\n", result.Findings));
        Assert.False((await _registry.GetAuditAsync())[^1].Forced);
    }

    [Fact]
    public async Task Rollback_RestoresThePreviousModel()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions());

        var record = await _promoter.RollbackAsync("carol", "regression seen in shadow");

        Assert.Equal("m@2", record.From);
        Assert.Equal("m@1", record.To);
        Assert.Equal(new ModelRef("m", "1"), (await _registry.GetActiveAsync())!.Ref);
        await Assert.ThrowsAsync<RegistryException>(() => _promoter.RollbackAsync("carol", null));
    }

    [Fact]
    public async Task Promote_Unregistered_IsRefused()
    {
        var result = await _promoter.PromoteAsync(new ModelRef("nope", "1"), new PromotionOptions());
        Assert.False(result.Promoted);
        Assert.Null(await _registry.GetActiveAsync());
    }

    /// <summary>A holdout whose AUROC per model version is fixed by the test.</summary>
    private sealed class FixedHoldout(Dictionary<string, double> aurocByVersion) : IHoldoutEvaluator
    {
        public string Description => "fixed test holdout";

        public double MacroAuroc(ModelPackage package) => aurocByVersion[package.Manifest.Version];
    }
}
