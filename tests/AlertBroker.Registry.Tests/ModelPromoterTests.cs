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
        Assert.Equal(new ModelRef("m", "2"), (await _registry.GetActiveAsync("ztf"))!.Ref);
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
        Assert.Equal(new ModelRef("m", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);
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
        Assert.Equal(new ModelRef("m", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);

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

        var record = await _promoter.RollbackAsync("ztf", "carol", "regression seen in shadow");

        Assert.Equal("m@2", record.From);
        Assert.Equal("m@1", record.To);
        Assert.Equal(new ModelRef("m", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);
        await Assert.ThrowsAsync<RegistryException>(() => _promoter.RollbackAsync("ztf", "carol", null));
    }

    // Found by the registry hunt (2026-12-08): a history that ends with the active model itself (left by a promotion killed
    // or out of disk under an older release) made `models rollback` print "rolled back ztf: m@2 → m@2", exit 0.
    [Fact]
    public async Task Rollback_HistoryEndsWithTheActiveModelItself_IsRefusedNotANoOpSuccess()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions());
        var history = Path.Combine(_root, ".registry", "surveys", "ztf", "history.jsonl");
        File.AppendAllText(history, File.ReadAllText(Path.Combine(_root, ".registry", "surveys", "ztf", "active.json")) + "\n");
        var auditBefore = (await _registry.GetAuditAsync()).Count;

        var e = await Assert.ThrowsAsync<RegistryException>(() => _promoter.RollbackAsync("ztf", "carol", null));

        Assert.Contains("a rollback would restore m@2, the active model itself", e.Message, StringComparison.Ordinal);
        Assert.Equal(new ModelRef("m", "2"), (await _registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(auditBefore, (await _registry.GetAuditAsync()).Count);
    }

    // Found by the registry hunt (2026-12-08): `models promote` of a model needing metadata and `models metadata remove` of
    // its source, run together, both exited 0: the gate was checked before the pointer's compare-and-set, which covered the
    // pointer only. The registry now checks the sources in the move's own atomic step.
    [Fact]
    public async Task Promote_SourceRemovedWhileTheCandidateIsChecked_IsRefusedAndNothingMoves()
    {
        await _registry.PushAsync(TestPackages.Valid("z-meta", "1", 1, metadata: true), "a");
        foreach (var source in new[] { "host-redshift", "mw-ebv" })
        {
            await _registry.SetMetadataSourceAsync(new MetadataSourceDeclaration { Survey = "ztf", Source = source, Csv = "/data/m.csv", By = "t", Utc = DateTimeOffset.UtcNow }, new PromotionRecord { Action = "metadata-set", Utc = DateTimeOffset.UtcNow, To = source, By = "t" });
        }

        var racing = InterceptingRegistry.Create(_registry, async () =>
            Assert.True(await _registry.RemoveMetadataSourceAsync("ztf", "mw-ebv", new PromotionRecord { Action = "metadata-remove", Utc = DateTimeOffset.UtcNow, To = string.Empty, By = "other" })));

        var result = await new ModelPromoter(racing).PromoteAsync(new ModelRef("z-meta", "1"), new PromotionOptions());

        Assert.False(result.Promoted);
        Assert.Contains(result.Findings, f => f.Contains("z-meta@1 needs the metadata source mw-ebv, which is no longer declared for ztf", StringComparison.Ordinal));
        Assert.Null(await _registry.GetActiveAsync("ztf"));
    }

    // The other order: the source's removal checked the survey's models before its lock, so a model promoted meanwhile
    // kept a source no longer declared. The registry refuses the removal itself while the active model or shadow needs it.
    [Fact]
    public async Task RemoveMetadataSource_WhileTheActiveModelNeedsIt_IsRefusedByTheRegistry()
    {
        await _registry.PushAsync(TestPackages.Valid("z-meta", "1", 1, metadata: true), "a");
        foreach (var source in new[] { "host-redshift", "mw-ebv" })
        {
            await _registry.SetMetadataSourceAsync(new MetadataSourceDeclaration { Survey = "ztf", Source = source, Csv = "/data/m.csv", By = "t", Utc = DateTimeOffset.UtcNow }, new PromotionRecord { Action = "metadata-set", Utc = DateTimeOffset.UtcNow, To = source, By = "t" });
        }

        Assert.True((await _promoter.PromoteAsync(new ModelRef("z-meta", "1"), new PromotionOptions())).Promoted);

        var e = await Assert.ThrowsAsync<RegistryException>(() => _registry.RemoveMetadataSourceAsync("ztf", "mw-ebv", new PromotionRecord { Action = "metadata-remove", Utc = DateTimeOffset.UtcNow, To = string.Empty, By = "other" }));

        Assert.Equal("refused: z-meta@1 (active) needs ztf/mw-ebv: promote (or roll back to) a model that does not, or clear the shadow, before removing its source", e.Message);
        Assert.Equal(2, (await _registry.GetMetadataSourcesAsync()).Count);
    }

    // Found by the registry hunt: `models shadow` had no compare-and-set. Ten at once each said "shadowing X" while one won;
    // and one racing `models promote` of the same model left it active and its own shadow (scored twice against itself).
    [Fact]
    public async Task Shadow_ShadowChangedWhileTheCandidateIsChecked_IsRefused()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        var v2 = await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        var v3 = await _registry.PushAsync(TestPackages.Valid("m", "3", 3), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        var racing = InterceptingRegistry.Create(_registry, () => new ModelPromoter(_registry).ShadowAsync(v3.Ref, new ShadowOptions()), nameof(IModelRegistry.SetShadowAsync));

        var result = await new ModelPromoter(racing).ShadowAsync(v2.Ref, new ShadowOptions());

        Assert.False(result.Promoted);
        Assert.Contains("refused: the shadow of ztf changed while this change was being checked; check again", result.Findings);
        Assert.Equal(v3.Ref, (await _registry.GetShadowAsync("ztf"))!.Ref);
        Assert.Equal(["promote", "shadow"], (await _registry.GetAuditAsync()).Select(r => r.Action));
    }

    [Fact]
    public async Task Shadow_CandidatePromotedWhileItIsChecked_IsRefused_NeverActiveAndShadow()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        var v2 = await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        var racing = InterceptingRegistry.Create(_registry, () => new ModelPromoter(_registry).PromoteAsync(v2.Ref, new PromotionOptions()), nameof(IModelRegistry.SetShadowAsync));

        var result = await new ModelPromoter(racing).ShadowAsync(v2.Ref, new ShadowOptions());

        Assert.False(result.Promoted);
        Assert.Contains("refused: m@2 is the active model of ztf; a shadow is a different model scored beside it", result.Findings);
        Assert.Equal(v2.Ref, (await _registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Null(await _registry.GetShadowAsync("ztf"));
    }

    [Fact]
    public async Task Promote_Unregistered_IsRefused()
    {
        var result = await _promoter.PromoteAsync(new ModelRef("nope", "1"), new PromotionOptions());
        Assert.False(result.Promoted);
        Assert.Null(await _registry.GetActiveAsync("ztf"));
    }

    [Fact]
    public async Task Promote_WithoutSurvey_MovesEveryDeclaredSurveysPointer_AndOnlyThose()
    {
        await _registry.PushAsync(TestPackages.Valid("ztf-m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("both", "1", 2, surveys: ["ztf", "lsst"]), "a");
        Assert.True((await _promoter.PromoteAsync(new ModelRef("ztf-m", "1"), new PromotionOptions())).Promoted);

        var result = await _promoter.PromoteAsync(new ModelRef("both", "1"), new PromotionOptions { Surveys = ["lsst"] });

        Assert.True(result.Promoted, string.Join("\n", result.Findings));
        Assert.Equal(["lsst"], result.Records.Select(r => r.Survey));
        Assert.Equal(new ModelRef("ztf-m", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(new ModelRef("both", "1"), (await _registry.GetActiveAsync("lsst"))!.Ref);

        var all = await _promoter.PromoteAsync(new ModelRef("both", "1"), new PromotionOptions());
        Assert.True(all.Promoted, string.Join("\n", all.Findings));
        Assert.Equal(["ztf"], all.Records.Select(r => r.Survey));
        Assert.Contains(all.Findings, f => f.Contains("already the active model of lsst", StringComparison.Ordinal));
        Assert.Equal(new ModelRef("both", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);
    }

    // Another operator promotes to lsst while this promotion of a ztf+lsst model is being checked. Before, ztf moved and
    // lsst was refused, leaving the surveys on different models with a partly-done result; now neither moves.
    [Fact]
    public async Task Promote_SeveralSurveys_OneChangedDuringTheCheck_NeitherMoves()
    {
        await _registry.PushAsync(TestPackages.Valid("both", "1", 1, surveys: ["ztf", "lsst"]), "a");
        await _registry.PushAsync(TestPackages.Valid("both", "2", 2, surveys: ["ztf", "lsst"]), "a");
        var lsstOnly = await _registry.PushAsync(TestPackages.Valid("lsst-m", "1", 3, surveys: ["lsst"]), "a");
        Assert.True((await _promoter.PromoteAsync(new ModelRef("both", "1"), new PromotionOptions())).Promoted);
        var both1 = await _registry.GetActiveAsync("lsst");
        var racing = InterceptingRegistry.Create(_registry, async () =>
        {
            var pointer = new ActivePointer { Name = lsstOnly.Name, Version = lsstOnly.Version, Sha256 = lsstOnly.Sha256, SinceUtc = DateTimeOffset.UtcNow };
            await _registry.SetActiveAsync("lsst", both1, pointer, new PromotionRecord { Action = "promote", Survey = "lsst", Utc = DateTimeOffset.UtcNow, To = "lsst-m@1", By = "other" });
        });

        var result = await new ModelPromoter(racing).PromoteAsync(new ModelRef("both", "2"), new PromotionOptions());

        Assert.False(result.Promoted);
        Assert.Empty(result.Records);
        Assert.Contains(result.Findings, f => f.StartsWith("refused: the active model of lsst changed", StringComparison.Ordinal));
        Assert.Equal(new ModelRef("both", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(new ModelRef("lsst-m", "1"), (await _registry.GetActiveAsync("lsst"))!.Ref);
        Assert.DoesNotContain(await _registry.GetAuditAsync(), r => r.To == "both@2");
    }

    // A model whose model.json declares a survey no worker routes (a typo, "ztff") was promoted there with only "promoted"
    // said: a pointer nothing reads. It is still promoted (a declared survey is the package's word), with a warning.
    [Fact]
    public async Task Promote_ADeclaredSurveyTheWorkersDoNotRoute_IsPromotedWithAWarning()
    {
        await _registry.PushAsync(TestPackages.Valid("typo", "1", 1, surveys: ["ztff"]), "a");
        await _registry.PushAsync(TestPackages.Valid("ztf-m", "1", 2), "a");

        var result = await _promoter.PromoteAsync(new ModelRef("typo", "1"), new PromotionOptions());
        var known = await _promoter.PromoteAsync(new ModelRef("ztf-m", "1"), new PromotionOptions());

        Assert.True(result.Promoted, string.Join("\n", result.Findings));
        Assert.Equal(["ztff"], result.Records.Select(r => r.Survey));
        Assert.Contains(result.Findings, f => f.StartsWith("warning: ztff is not a survey the workers route alerts of (ztf, lsst)", StringComparison.Ordinal));
        Assert.True(known.Promoted);
        Assert.DoesNotContain(known.Findings, f => f.Contains("not a survey the workers route", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Promote_SurveyTheModelDoesNotDeclare_IsRefused_UnlessForced_AndTheAuditSaysSo()
    {
        await _registry.PushAsync(TestPackages.Valid("ztf-m", "1", 1), "a");

        var refused = await _promoter.PromoteAsync(new ModelRef("ztf-m", "1"), new PromotionOptions { Surveys = ["lsst"] });
        Assert.False(refused.Promoted);
        Assert.Contains(refused.Findings, f => f.StartsWith("refused", StringComparison.Ordinal) && f.Contains("not lsst", StringComparison.Ordinal));
        Assert.Null(await _registry.GetActiveAsync("lsst"));

        var forced = await _promoter.PromoteAsync(new ModelRef("ztf-m", "1"), new PromotionOptions { Surveys = ["lsst"], Force = true });
        Assert.True(forced.Promoted);
        var record = Assert.Single(await _registry.GetAuditAsync());
        Assert.Equal("lsst", record.Survey);
        Assert.True(record.Forced);
    }

    [Fact]
    public async Task Promote_ModelNeedingMetadata_IsRefusedWithoutADeclaredSource_EvenForced_ThenPromotedOnceDeclared()
    {
        await _registry.PushAsync(TestPackages.Valid("z-meta", "1", 1, metadata: true), "a");

        var refused = await _promoter.PromoteAsync(new ModelRef("z-meta", "1"), new PromotionOptions { Force = true });
        Assert.False(refused.Promoted);
        Assert.Contains(refused.Findings, f => f.StartsWith("refused", StringComparison.Ordinal) && f.Contains("host-redshift", StringComparison.Ordinal) && f.Contains("mw-ebv", StringComparison.Ordinal));
        Assert.Null(await _registry.GetActiveAsync("ztf"));

        // One of the two sources is not enough.
        await _registry.SetMetadataSourceAsync(RegistryContractTests.Declaration("ztf", "host-redshift", csv: "/data/z.csv"), RegistryContractTests.Record("metadata-set"));
        var half = await _promoter.PromoteAsync(new ModelRef("z-meta", "1"), new PromotionOptions());
        Assert.False(half.Promoted);
        Assert.Contains(half.Findings, f => f.StartsWith("refused", StringComparison.Ordinal) && f.Contains("mw-ebv", StringComparison.Ordinal));

        // A source declared for another survey does not count.
        await _registry.SetMetadataSourceAsync(RegistryContractTests.Declaration("lsst", "mw-ebv", hash: "ebv"), RegistryContractTests.Record("metadata-set"));
        Assert.False((await _promoter.PromoteAsync(new ModelRef("z-meta", "1"), new PromotionOptions())).Promoted);

        await _registry.SetMetadataSourceAsync(RegistryContractTests.Declaration("ztf", "mw-ebv", hash: "ebv"), RegistryContractTests.Record("metadata-set"));
        var promoted = await _promoter.PromoteAsync(new ModelRef("z-meta", "1"), new PromotionOptions());
        Assert.True(promoted.Promoted, string.Join("\n", promoted.Findings));
        Assert.Equal(new ModelRef("z-meta", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);
    }

    [Fact]
    public async Task Promote_ModelWhoseMetadataIsOptional_IsPromotedWithoutADeclaredSource()
    {
        await _registry.PushAsync(TestPackages.Valid("optional", "1", 1, metadata: true, metadataOptional: true), "a");

        var result = await _promoter.PromoteAsync(new ModelRef("optional", "1"), new PromotionOptions());

        Assert.True(result.Promoted, string.Join("\n", result.Findings));
        Assert.Empty(await _registry.GetMetadataSourcesAsync());
    }

    [Fact]
    public async Task Promote_RequireShadow_RefusesUntilEnoughAgreeingAlertsWereShadowed()
    {
        var v1 = await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        var v2 = await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(v1.Ref, new PromotionOptions());
        var shadow = await _promoter.ShadowAsync(v2.Ref, new ShadowOptions());
        Assert.True(shadow.Promoted, string.Join("\n", shadow.Findings));
        var pair = ShadowPair.Of("ztf", RegistryContractTests.Active(v2), RegistryContractTests.Active(v1));
        var require = new PromotionOptions { RequireShadowAlerts = 100, MinShadowAgreement = 0.9 };

        Assert.False((await _promoter.PromoteAsync(v2.Ref, require)).Promoted);

        await _registry.AddShadowStatisticsAsync(pair, new Dictionary<string, double> { ["alerts"] = 60, ["agreed"] = 58 });
        var few = await _promoter.PromoteAsync(v2.Ref, require);
        Assert.False(few.Promoted);
        Assert.Contains(few.Findings, f => f.Contains("60 alerts (required 100)", StringComparison.Ordinal));

        await _registry.AddShadowStatisticsAsync(pair, new Dictionary<string, double> { ["alerts"] = 60, ["agreed"] = 40 });
        var disagreeing = await _promoter.PromoteAsync(v2.Ref, require);
        Assert.False(disagreeing.Promoted);
        Assert.Contains(disagreeing.Findings, f => f.Contains("agreement 0.8167", StringComparison.Ordinal));

        await _registry.AddShadowStatisticsAsync(pair, new Dictionary<string, double> { ["alerts"] = 200, ["agreed"] = 200 });
        var enough = await _promoter.PromoteAsync(v2.Ref, require);
        Assert.True(enough.Promoted, string.Join("\n", enough.Findings));
        var audit = await _registry.GetAuditAsync();
        var record = audit.Last(r => r.Action == "promote");
        Assert.Equal(320, record.Metrics["shadowAlerts"]);
        Assert.False(record.Forced);

        // The promoted candidate is no longer shadowed (it would be scored twice).
        Assert.Equal("shadow-clear", audit[^1].Action);
        Assert.Null(await _registry.GetShadowAsync("ztf"));
    }

    [Fact]
    public async Task Shadow_SetsTheShadowPointer_RefusesTheActiveModel_AndClears()
    {
        var v1 = await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        var v2 = await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(v1.Ref, new PromotionOptions());

        Assert.False((await _promoter.ShadowAsync(v1.Ref, new ShadowOptions())).Promoted);
        Assert.False((await _promoter.ShadowAsync(v2.Ref, new ShadowOptions { Surveys = ["lsst"] })).Promoted);
        Assert.True((await _promoter.ShadowAsync(v2.Ref, new ShadowOptions { By = "dana" })).Promoted);
        Assert.Equal(v2.Ref, (await _registry.GetShadowAsync("ztf"))!.Ref);
        Assert.Equal(v1.Ref, (await _registry.GetActiveAsync("ztf"))!.Ref);

        var cleared = await _promoter.ClearShadowAsync("ztf", "dana", "done");
        Assert.Equal("m@2", cleared!.From);
        Assert.Null(await _registry.GetShadowAsync("ztf"));
        Assert.Null(await _promoter.ClearShadowAsync("ztf", "dana", null));
    }

    [Fact]
    public async Task Rollback_OneSurvey_LeavesTheOthers()
    {
        await _registry.PushAsync(TestPackages.Valid("both", "1", 1, surveys: ["ztf", "lsst"]), "a");
        await _registry.PushAsync(TestPackages.Valid("both", "2", 2, surveys: ["ztf", "lsst"]), "a");
        await _promoter.PromoteAsync(new ModelRef("both", "1"), new PromotionOptions());
        await _promoter.PromoteAsync(new ModelRef("both", "2"), new PromotionOptions());

        var record = await _promoter.RollbackAsync("lsst", "erin", "lsst regression");

        Assert.Equal("lsst", record.Survey);
        Assert.Equal(new ModelRef("both", "1"), (await _registry.GetActiveAsync("lsst"))!.Ref);
        Assert.Equal(new ModelRef("both", "2"), (await _registry.GetActiveAsync("ztf"))!.Ref);
    }

    [Fact]
    public async Task Promote_HoldoutGivesNoAuroc_IsRefused_AndForcedTheAuditRecordIsWrittenWithThePointer()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        var holdout = new FixedHoldout(new Dictionary<string, double> { ["1"] = double.NaN, ["2"] = double.NaN });

        // Before: "drop > allowed" is false for NaN, so the gate passed, the pointer moved and the audit record failed to serialise.
        var refused = await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions { Holdout = holdout });
        Assert.False(refused.Promoted);
        Assert.Contains(refused.Findings, f => f.StartsWith("refused", StringComparison.Ordinal) && f.Contains("at least two of the model's classes", StringComparison.Ordinal));
        Assert.Equal(new ModelRef("m", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Single(await _registry.GetAuditAsync());

        var forced = await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions { Holdout = holdout, Force = true });
        Assert.True(forced.Promoted, string.Join("\n", forced.Findings));
        var record = (await _registry.GetAuditAsync())[^1];
        Assert.Equal("m@2", record.To);
        Assert.True(record.Forced);
        Assert.DoesNotContain("candidateMacroAuroc", record.Metrics.Keys);
    }

    [Fact]
    public async Task Promote_HoldoutWithOneOfTheModelsClasses_IsRefusedUnlessForced()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        var holdout = new FixedHoldout(new Dictionary<string, double> { ["1"] = 0.7 }) { Counts = new Dictionary<string, int> { ["SNIa"] = 20 } };

        var refused = await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions { Holdout = holdout });

        Assert.False(refused.Promoted);
        Assert.Contains(refused.Findings, f => f.Contains("only one of the model's classes", StringComparison.Ordinal) && f.Contains("SNIa", StringComparison.Ordinal));
        Assert.Null(await _registry.GetActiveAsync("ztf"));
        Assert.True((await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions { Holdout = holdout, Force = true })).Promoted);
        Assert.True((await _registry.GetAuditAsync())[^1].Forced);
    }

    [Fact]
    public async Task Promote_HoldoutLackingSomeOfTheModelsClasses_WarnsNamingThem()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        var holdout = new FixedHoldout(new Dictionary<string, double> { ["1"] = 0.5000, ["2"] = 0.5067 })
        {
            Counts = new Dictionary<string, int> { ["SNIa"] = 50, ["SNII"] = 30, ["SNIbc"] = 10, ["SNIax"] = 5 },
        };

        var result = await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions { Holdout = holdout });

        // A DES set passed a ZTF model's gate on three classes of five without a word.
        Assert.True(result.Promoted, string.Join("\n", result.Findings));
        Assert.Contains(result.Findings, f => f.StartsWith("warning: the holdout has no objects of 2 of the model's 5 classes (SLSN-I, TDE)", StringComparison.Ordinal));
        Assert.Contains(result.Findings, f => f.StartsWith("warning: the holdout's classes SNIax are not classes of the model", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Promote_SurveyNoWorkerRoutes_IsARequestRefusal_EvenForced()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");

        // Before: --survey bogus --force made a permanent "bogus" survey, after which rollback demanded --survey.
        var result = await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions { Surveys = ["bogus"], Force = true });

        Assert.False(result.Promoted);
        Assert.Equal(PromotionRefusal.Request, result.Refusal);
        Assert.Empty(await _registry.GetSurveysAsync());
        Assert.Equal(PromotionRefusal.Request, (await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions { Surveys = ["lsst"] })).Refusal);
    }

    [Fact]
    public async Task Rollback_TargetWithCorruptStoredBytes_IsRefusedAndTheActiveModelStays()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions());
        await File.AppendAllTextAsync(Path.Combine(_root, "m", "1", "model.onnx"), "xx");

        // Before: the rollback reported success and every worker refused the model it pointed at.
        var e = await Assert.ThrowsAsync<RegistryException>(() => _promoter.RollbackAsync("ztf", "carol", null));

        Assert.Contains("cannot roll back ztf to m@1", e.Message, StringComparison.Ordinal);
        Assert.Contains("stored model.onnx has SHA-256", e.Message, StringComparison.Ordinal);
        Assert.Equal(new ModelRef("m", "2"), (await _registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(2, (await _registry.GetAuditAsync()).Count);
    }

    // The gate no promotion can override held for promote and shadow but not for rollback: with its source removed, a
    // rollback to a model that needs it put in place a model every worker refuses.
    [Fact]
    public async Task Rollback_ToAModelWhoseMetadataSourceWasRemoved_IsRefusedAndTheActiveModelStays()
    {
        await _registry.SetMetadataSourceAsync(RegistryContractTests.Declaration("ztf", "host-redshift", csv: "/data/z.csv"), RegistryContractTests.Record("metadata-set"));
        await _registry.SetMetadataSourceAsync(RegistryContractTests.Declaration("ztf", "mw-ebv", hash: "ebv"), RegistryContractTests.Record("metadata-set"));
        await _registry.PushAsync(TestPackages.Valid("z-meta", "1", 1, metadata: true), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        Assert.True((await _promoter.PromoteAsync(new ModelRef("z-meta", "1"), new PromotionOptions())).Promoted);
        Assert.Equal(["z-meta@1 (active)"], await _promoter.ModelsNeedingSourceAsync("ztf", "mw-ebv"));
        Assert.True((await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions())).Promoted);
        Assert.Empty(await _promoter.ModelsNeedingSourceAsync("ztf", "mw-ebv"));
        await _registry.RemoveMetadataSourceAsync("ztf", "mw-ebv", RegistryContractTests.Record("metadata-remove"));

        var e = await Assert.ThrowsAsync<RegistryException>(() => _promoter.RollbackAsync("ztf", "carol", null));

        Assert.StartsWith("cannot roll back ztf to z-meta@1; m@2 stays active: z-meta@1 needs metadata (host-redshift, mw-ebv) but the registry declares no source of mw-ebv for ztf", e.Message, StringComparison.Ordinal);
        Assert.Equal(new ModelRef("m", "2"), (await _registry.GetActiveAsync("ztf"))!.Ref);

        // Declared again, the rollback goes through.
        await _registry.SetMetadataSourceAsync(RegistryContractTests.Declaration("ztf", "mw-ebv", hash: "ebv"), RegistryContractTests.Record("metadata-set"));
        Assert.Equal("z-meta@1", (await _promoter.RollbackAsync("ztf", "carol", null)).To);
    }

    // A rollback to the model being shadowed left it active and its own shadow (models shadow refuses that state), so
    // workers would have scored every alert twice with it.
    [Fact]
    public async Task Rollback_ToTheShadowedModel_StopsShadowing()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());
        await _promoter.PromoteAsync(new ModelRef("m", "2"), new PromotionOptions());
        Assert.True((await _promoter.ShadowAsync(new ModelRef("m", "1"), new ShadowOptions())).Promoted);

        await _promoter.RollbackAsync("ztf", "carol", null);

        Assert.Equal(new ModelRef("m", "1"), (await _registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Null(await _registry.GetShadowAsync("ztf"));
        var clear = (await _registry.GetAuditAsync())[^1];
        Assert.Equal(("shadow-clear", "m@1", "carol"), (clear.Action, clear.From, clear.By));
    }

    [Fact]
    public async Task Promote_CandidateWithCorruptStoredBytes_NamesTheReferenceOnce()
    {
        await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await File.AppendAllTextAsync(Path.Combine(_root, "m", "1", "model.onnx"), "xx");

        var result = await _promoter.PromoteAsync(new ModelRef("m", "1"), new PromotionOptions());

        var refusal = Assert.Single(result.Findings, f => f.StartsWith("refused", StringComparison.Ordinal));
        Assert.StartsWith("refused: m@1: stored model.onnx", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promote_RequireShadowWithoutShadowStatistics_SaysWhatIsMissing()
    {
        var v1 = await _registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        var v2 = await _registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await _promoter.PromoteAsync(v1.Ref, new PromotionOptions());

        var result = await _promoter.PromoteAsync(v2.Ref, new PromotionOptions { MinShadowAgreement = 0.9 });

        // Before: "shadowed beside m@1 on 0 alerts (required 0)", then "refused".
        Assert.False(result.Promoted);
        Assert.DoesNotContain(result.Findings, f => f.Contains("(required 0)", StringComparison.Ordinal));
        Assert.Contains(result.Findings, f => f.Contains("no shadow statistics: m@2 has not been scored beside the active model m@1 on any alert", StringComparison.Ordinal));
    }

    /// <summary>A holdout whose AUROC per model version is fixed by the test.</summary>
    /// <summary>Runs an action just before the first SetActiveAsync reaches the registry (what another operator does meanwhile).</summary>
    public class InterceptingRegistry : System.Reflection.DispatchProxy
    {
        private IModelRegistry _inner = null!;
        private Func<Task>? _before;

        private string _method = nameof(IModelRegistry.SetActiveAsync);

        public static IModelRegistry Create(IModelRegistry inner, Func<Task> before, string method = nameof(IModelRegistry.SetActiveAsync))
        {
            var proxy = Create<IModelRegistry, InterceptingRegistry>();
            var self = (InterceptingRegistry)(object)proxy;
            self._inner = inner;
            self._before = before;
            self._method = method;
            return proxy;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == _method && _before is { } before)
            {
                _before = null;
                return RunAfter(before, () => (Task)targetMethod.Invoke(_inner, args)!);
            }

            return targetMethod.Invoke(_inner, args);
        }

        private static async Task RunAfter(Func<Task> before, Func<Task> call)
        {
            await before();
            await call();
        }
    }

    private sealed class FixedHoldout(Dictionary<string, double> aurocByVersion) : IHoldoutEvaluator
    {
        public string Description => "fixed test holdout";

        public double MacroAuroc(ModelPackage package) => aurocByVersion[package.Manifest.Version];

        public IReadOnlyDictionary<string, int>? Counts { get; init; }

        IReadOnlyDictionary<string, int>? IHoldoutEvaluator.ClassCounts => Counts;
    }
}
