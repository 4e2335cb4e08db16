using AlertBroker.Model.Packaging;
using StackExchange.Redis;

namespace AlertBroker.Registry.Tests;

/// <summary>One behaviour, two stores: every test runs against Redis and against a directory.</summary>
public abstract class RegistryContractTests
{
    protected abstract IModelRegistry CreateRegistry();

    /// <summary>Overwrites the stored ONNX bytes behind the registry's back.</summary>
    protected abstract Task TamperAsync(IModelRegistry registry, ModelRef model, byte[] onnx);

    /// <summary>Writes the single pointer and history of a registry from before per-survey pointers, behind the registry's back.</summary>
    protected abstract Task WriteLegacyPointerAsync(IModelRegistry registry, ActivePointer active, IReadOnlyList<ActivePointer> historyNewestFirst);

    /// <summary>Overwrites the survey's active pointer with text that is not JSON, behind the registry's back; returns the file or key the error must name.</summary>
    protected abstract Task<string> CorruptActivePointerAsync(IModelRegistry registry, string survey, string text = "garbage{");

    [Fact]
    public async Task Read_ActivePointerNotJson_IsARegistryErrorNamingWhere()
    {
        var registry = CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        var where = await CorruptActivePointerAsync(registry, "ztf");

        // Before: a bare JsonException, which the commands reported as "unexpected error (JsonException)", exit 70.
        foreach (var read in new Func<Task>[] { () => registry.GetActiveAsync("ztf"), () => registry.GetSnapshotAsync(), () => registry.GetSurveyAsync("ztf") })
        {
            var e = await Assert.ThrowsAsync<RegistryException>(read);
            Assert.Contains(where, e.Message, StringComparison.Ordinal);
            Assert.Contains("is not valid JSON", e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Overwrites a pushed model's record (what <c>models list</c> reads) with <paramref name="json"/>; returns the file or key the error must name.</summary>
    protected abstract Task<string> OverwriteModelRecordAsync(IModelRegistry registry, ModelRef model, string json);

    [Theory]
    [InlineData("sha256", "\"\"", "\"sha256\" is not 64 hexadecimal digits (0 characters)")]
    [InlineData("sha256", "\"../../etc\"", "\"sha256\" is not 64 hexadecimal digits (9 characters)")]
    [InlineData("sha256", "null", "\"sha256\" is null")]
    [InlineData("encoding", "null", "\"encoding\" is null")]
    [InlineData("classes", "null", "\"classes\" is null")]
    [InlineData("metrics", "null", "\"metrics\" is null")]
    [InlineData("name", "\"\"", "\"name\" is empty")]
    public async Task Read_ModelRecordValidJsonThatNoRegistryWrites_IsARegistryErrorNamingWhereAndWhat(string field, string value, string says)
    {
        // Found by mutating a directory registry's files: `models list` ended in "unexpected error" (exit 70) on each of
        // these (it sliced, joined or counted the field); now they are read as the damaged records they are.
        var registry = CreateRegistry();
        var pushed = await registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        var record = System.Text.Json.Nodes.JsonNode.Parse(RegistryJsonText(pushed))!.AsObject();
        record[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        var where = await OverwriteModelRecordAsync(registry, pushed.Ref, record.ToJsonString());

        foreach (var read in new Func<Task>[] { () => registry.ListAsync(), () => registry.GetAsync(pushed.Ref) })
        {
            var e = await Assert.ThrowsAsync<RegistryException>(read);
            Assert.Contains(where, e.Message, StringComparison.Ordinal);
            Assert.Contains("is not a valid model record: " + says, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Read_PointerOrAuditRecordValidJsonThatNoRegistryWrites_IsARegistryErrorNamingWhat()
    {
        var registry = CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));

        var pointer = await CorruptActivePointerAsync(registry, "ztf", RegistryJsonText(v1 with { Sha256 = "" }));
        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.GetActiveAsync("ztf"));
        Assert.Contains(pointer, e.Message, StringComparison.Ordinal);
        Assert.Contains("is not a valid model pointer: \"sha256\" is not 64 hexadecimal digits", e.Message, StringComparison.Ordinal);

        // "to": null ended `models status` in "unexpected error (NullReferenceException)".
        var audit = await CorruptOldestAuditRecordAsync(registry, "{\"action\":\"promote\",\"utc\":\"2026-12-06T00:00:00+00:00\",\"to\":null,\"by\":\"x\"}");
        var a = await Assert.ThrowsAsync<RegistryException>(() => registry.GetRecentAuditAsync(10));
        Assert.Contains(audit, a.Message, StringComparison.Ordinal);
        Assert.Contains("is not a valid audit record: \"to\" is null", a.Message, StringComparison.Ordinal);
    }

    private static string RegistryJsonText<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));

    /// <summary>Overwrites one worker's heartbeat with text that is not JSON, behind the registry's back.</summary>
    protected abstract Task CorruptHeartbeatAsync(IModelRegistry registry, string workerId);

    [Fact]
    public async Task GetWorkers_OneHeartbeatDamaged_LeavesItOutAndListsTheOthers()
    {
        var registry = CreateRegistry();
        var now = DateTimeOffset.UtcNow;
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w1", Model = "m@1", Utc = now });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w2", Model = "m@1", Utc = now });
        await CorruptHeartbeatAsync(registry, "w1");

        // Before: one damaged heartbeat failed every status and web-view read of the fleet (exit 1 naming it).
        var worker = Assert.Single(await registry.GetWorkersAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal("w2", worker.WorkerId);
    }

    [Fact]
    public async Task SetActive_RecordWithANonFiniteMetric_MovesThePointerWithItsAuditRecord()
    {
        var registry = CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        var record = Record("promote", null, v1) with { Metrics = new Dictionary<string, double> { ["candidateMacroAuroc"] = double.NaN, ["x"] = double.PositiveInfinity } };

        // Before: the pointer moved, then writing the record threw ("… cannot be written as valid JSON"): no audit record.
        await registry.SetActiveAsync("ztf", null, v1, record);

        Assert.Equal(v1.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        var audit = Assert.Single(await registry.GetAuditAsync());
        Assert.True(double.IsNaN(audit.Metrics["candidateMacroAuroc"]));
    }

    [Fact]
    public async Task Push_ThenGet_ReturnsDescriptionAndVerifiedBytes()
    {
        var registry = CreateRegistry();
        var package = TestPackages.Valid("ztf-gru", "1");

        var pushed = await registry.PushAsync(package, "alice");

        Assert.Equal("ztf-gru", pushed.Name);
        Assert.Equal("1", pushed.Version);
        Assert.Equal(ModelPackage.ComputeSha256(package.Onnx), pushed.Sha256);
        Assert.Equal("alertbroker-lc v1", pushed.Encoding);
        Assert.Equal("alice", pushed.PushedBy);
        Assert.Equal(5, pushed.Classes.Count);
        var bytes = await registry.GetPackageAsync(new ModelRef("ztf-gru", "1"));
        Assert.Equal(package.Onnx, bytes.Onnx);
        Assert.Equal(package.Manifest, bytes.Manifest);
        Assert.Equal(["ztf-gru@1"], (await registry.ListAsync()).Select(m => m.Ref.ToString()));
    }

    [Fact]
    public async Task Push_SameVersionAgain_IsIdempotent_ButOtherBytesAreRefused()
    {
        var registry = CreateRegistry();
        await registry.PushAsync(TestPackages.Valid("m", "1", seed: 1), "a");
        await registry.PushAsync(TestPackages.Valid("m", "1", seed: 1), "a");

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(TestPackages.Valid("m", "1", seed: 2), "a"));
        Assert.Contains("already registered", e.Message, StringComparison.Ordinal);
        Assert.Single(await registry.ListAsync());
    }

    [Fact]
    public async Task Push_TamperedPackage_IsRefused()
    {
        var registry = CreateRegistry();
        var valid = TestPackages.Valid("m", "1");
        var tampered = new ModelPackageBytes(valid.Manifest, [.. valid.Onnx[..^1], (byte)(valid.Onnx[^1] ^ 1)]);

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(tampered, "a"));
        Assert.Contains("SHA-256", e.Message, StringComparison.Ordinal);
        Assert.Empty(await registry.ListAsync());
    }

    /// <summary>Overwrites the stored model.json behind the registry's back.</summary>
    protected abstract Task TamperManifestAsync(IModelRegistry registry, ModelRef model, byte[] manifest);

    // A model.json changed in the registry after the push (classes reordered, a survey added) was promoted and served:
    // only model.onnx was checked against the record.
    [Fact]
    public async Task GetPackageAndManifest_ModelJsonChangedAfterPush_IsRefused()
    {
        var registry = CreateRegistry();
        var valid = TestPackages.Valid("m", "1");
        var model = (await registry.PushAsync(valid, "a")).Ref;
        var changed = TestPackages.WithManifest(valid, m => m with { Classes = [.. m.Classes.Reverse()], Surveys = ["ztf", "lsst"] });
        await TamperManifestAsync(registry, model, changed.Manifest);

        foreach (var read in new Func<Task>[] { () => registry.GetPackageAsync(model), () => registry.GetManifestAsync(model) })
        {
            var e = await Assert.ThrowsAsync<RegistryException>(read);
            Assert.Contains("stored model.json has SHA-256", e.Message, StringComparison.Ordinal);
            Assert.Contains("it was changed after the push", e.Message, StringComparison.Ordinal);
        }

        // Pushed again, the package restores it; the changed model.json pushed under the same version is refused.
        await registry.PushAsync(valid, "a");
        Assert.Equal(valid.Manifest, (await registry.GetPackageAsync(model)).Manifest);
        var e2 = await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(changed, "a"));
        Assert.Equal("m@1 is already registered with another model.json (its classes differ); push a new version instead", e2.Message);
    }

    // Pushing the same package again said "pushed" and left damaged stored bytes as they were.
    [Fact]
    public async Task Push_SamePackageAgain_RestoresDamagedStoredBytes()
    {
        var registry = CreateRegistry();
        var valid = TestPackages.Valid("m", "1");
        var model = (await registry.PushAsync(valid, "a")).Ref;
        await TamperAsync(registry, model, [1, 2, 3]);
        await Assert.ThrowsAsync<RegistryException>(() => registry.GetPackageAsync(model));

        await registry.PushAsync(valid, "a");

        Assert.Equal(valid.Onnx, (await registry.GetPackageAsync(model)).Onnx);
        Assert.Single(await registry.ListAsync());
    }

    [Fact]
    public async Task GetPackage_BytesChangedAfterPush_IsRefused()
    {
        var registry = CreateRegistry();
        var model = (await registry.PushAsync(TestPackages.Valid("m", "1"), "a")).Ref;
        await TamperAsync(registry, model, [1, 2, 3]);

        await Assert.ThrowsAsync<RegistryException>(() => registry.GetPackageAsync(model));
    }

    [Fact]
    public async Task SetActive_IsCompareAndSet_AndKeepsHistoryAndAudit()
    {
        var registry = CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a"));

        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));

        // A promotion checked against a stale pointer must not land.
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync("ztf", v1, v1, Record("promote", v1, v1)));
        Assert.Equal(v2.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(v1.Ref, (await registry.GetPreviousAsync("ztf"))!.Ref);

        var restored = await registry.RollbackAsync("ztf", v2, Record("rollback", v2, v1));
        Assert.Equal(v1.Ref, restored.Ref);
        Assert.Equal(v1.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Null(await registry.GetPreviousAsync("ztf"));
        await Assert.ThrowsAsync<RegistryException>(() => registry.RollbackAsync("ztf", v1, Record("rollback", v1, v1)));

        var audit = await registry.GetAuditAsync();
        Assert.Equal(["promote", "promote", "rollback"], audit.Select(r => r.Action));
        Assert.Equal(["m@1", "m@2", "m@1"], audit.Select(r => r.To));
        Assert.All(audit, r => Assert.Equal("ztf", r.Survey));
    }

    // A rollback restored the history entry as it was, so status said the model rolled back to was active since its first
    // promotion, days before the rollback.
    [Fact]
    public async Task Rollback_RestoredModelIsActiveSinceTheRollback()
    {
        var registry = CreateRegistry();
        var first = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a")) with { SinceUtc = first };
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a")) with { SinceUtc = first.AddDays(1) };
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));
        var rollback = Record("rollback", v2, v1) with { Utc = first.AddDays(3) };

        var restored = await registry.RollbackAsync("ztf", v2, rollback);

        Assert.Equal(first.AddDays(3), restored.SinceUtc);
        Assert.Equal(first.AddDays(3), (await registry.GetActiveAsync("ztf"))!.SinceUtc);
        Assert.Equal(v1.Sha256, (await registry.GetActiveAsync("ztf"))!.Sha256);
    }

    [Fact]
    public async Task PromoteAndRollback_PerSurvey_PointersAndHistoriesAreIndependent()
    {
        var registry = CreateRegistry();
        var z1 = Active(await registry.PushAsync(TestPackages.Valid("ztf-m", "1", 1), "a"));
        var z2 = Active(await registry.PushAsync(TestPackages.Valid("ztf-m", "2", 2), "a"));
        var l1 = Active(await registry.PushAsync(TestPackages.Valid("lsst-m", "1", 3, surveys: ["lsst"]), "a"));
        var l2 = Active(await registry.PushAsync(TestPackages.Valid("lsst-m", "2", 4, surveys: ["lsst"]), "a"));

        await registry.SetActiveAsync("ztf", null, z1, Record("promote", null, z1));
        await registry.SetActiveAsync("lsst", null, l1, Record("promote", null, l1));
        await registry.SetActiveAsync("lsst", l1, l2, Record("promote", l1, l2));
        await registry.SetActiveAsync("ztf", z1, z2, Record("promote", z1, z2));

        Assert.Equal(["lsst", "ztf"], await registry.GetSurveysAsync());
        Assert.Equal(z2.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(l2.Ref, (await registry.GetActiveAsync("lsst"))!.Ref);
        Assert.Null(await registry.GetActiveAsync("des"));

        // The lsst pointer's compare-and-set knows nothing of ztf's.
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync("lsst", z2, l1, Record("promote", z2, l1)));

        // Rolling lsst back walks lsst's history only.
        var restored = await registry.RollbackAsync("lsst", l2, Record("rollback", l2, l1));
        Assert.Equal(l1.Ref, restored.Ref);
        Assert.Equal("lsst", restored.Survey);
        Assert.Equal(z2.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(z1.Ref, (await registry.GetPreviousAsync("ztf"))!.Ref);
        Assert.Null(await registry.GetPreviousAsync("lsst"));
        var ztf = await registry.GetSurveyAsync("ztf");
        Assert.Equal((z2.Ref, z1.Ref), (ztf.Active!.Ref, ztf.Previous!.Ref));

        var audit = await registry.GetAuditAsync();
        Assert.Equal(["ztf", "lsst", "lsst", "ztf", "lsst"], audit.Select(r => r.Survey));
        var snapshot = await registry.GetSnapshotAsync();
        Assert.Equal(z2.Ref, snapshot.Surveys["ztf"].Active!.Ref);
        Assert.Equal(l1.Ref, snapshot.Surveys["lsst"].Active!.Ref);
    }

    // A promotion covering several surveys moved them one at a time: a compare-and-set failing on the second left the
    // first moved. Now the moves are one change.
    [Fact]
    public async Task SetActive_SeveralSurveys_AllMoveOrNone()
    {
        var registry = CreateRegistry();
        var a = Active(await registry.PushAsync(TestPackages.Valid("both", "1", 1, surveys: ["ztf", "lsst"]), "a"));
        var b = Active(await registry.PushAsync(TestPackages.Valid("both", "2", 2, surveys: ["ztf", "lsst"]), "a"));
        var other = Active(await registry.PushAsync(TestPackages.Valid("lsst-m", "1", 3, surveys: ["lsst"]), "a"));
        await registry.SetActiveAsync([new PointerMove("ztf", null, a, Record("promote", null, a)), new PointerMove("lsst", null, a, Record("promote", null, a))]);
        Assert.Equal(a.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(a.Ref, (await registry.GetActiveAsync("lsst"))!.Ref);

        // lsst moved since the promotion read it: neither survey moves, nothing is audited, and the error names lsst.
        await registry.SetActiveAsync("lsst", a, other, Record("promote", a, other));
        var auditBefore = (await registry.GetAuditAsync()).Count;
        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync(
            [new PointerMove("ztf", a, b, Record("promote", a, b)), new PointerMove("lsst", a, b, Record("promote", a, b))]));
        Assert.Contains("active model of lsst changed", e.Message, StringComparison.Ordinal);
        Assert.Contains("no survey's pointer was moved", e.Message, StringComparison.Ordinal);
        Assert.Equal(a.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Null(await registry.GetPreviousAsync("ztf"));
        Assert.Equal(other.Ref, (await registry.GetActiveAsync("lsst"))!.Ref);
        Assert.Equal(auditBefore, (await registry.GetAuditAsync()).Count);

        // Checked against what is there now, both move, each with its history entry and audit record.
        await registry.SetActiveAsync([new PointerMove("ztf", a, b, Record("promote", a, b)), new PointerMove("lsst", other, b, Record("promote", other, b))]);
        Assert.Equal((b.Ref, a.Ref), ((await registry.GetActiveAsync("ztf"))!.Ref, (await registry.GetPreviousAsync("ztf"))!.Ref));
        Assert.Equal((b.Ref, other.Ref), ((await registry.GetActiveAsync("lsst"))!.Ref, (await registry.GetPreviousAsync("lsst"))!.Ref));
        var audit = await registry.GetAuditAsync();
        Assert.Equal(["ztf", "lsst"], audit.Skip(auditBefore).Select(r => r.Survey));

        // The same survey twice in one change is a mistake, not two moves.
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync(
            [new PointerMove("ztf", b, a, Record("promote", b, a)), new PointerMove("ztf", b, a, Record("promote", b, a))]));
        Assert.Equal(b.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
    }

    [Fact]
    public async Task SetShadow_SeveralSurveys_SetAndClearedTogether()
    {
        var registry = CreateRegistry();
        var a = Active(await registry.PushAsync(TestPackages.Valid("both", "1", 1, surveys: ["ztf", "lsst"]), "a"));

        await registry.SetShadowAsync([new ShadowMove("ztf", a, Record("shadow", null, a)), new ShadowMove("lsst", a, Record("shadow", null, a))]);
        Assert.Equal(a.Ref, (await registry.GetShadowAsync("ztf"))!.Ref);
        Assert.Equal(a.Ref, (await registry.GetShadowAsync("lsst"))!.Ref);
        Assert.Equal(["lsst", "ztf"], await registry.GetSurveysAsync());

        await registry.SetShadowAsync([new ShadowMove("ztf", null, Record("shadow-clear")), new ShadowMove("lsst", null, Record("shadow-clear"))]);
        Assert.Null(await registry.GetShadowAsync("ztf"));
        Assert.Null(await registry.GetShadowAsync("lsst"));
        Assert.Equal(["shadow", "shadow", "shadow-clear", "shadow-clear"], (await registry.GetAuditAsync()).Select(r => r.Action));
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetShadowAsync([new ShadowMove("ztf", a, Record("shadow", null, a)), new ShadowMove("ztf", a, Record("shadow", null, a))]));
        Assert.Null(await registry.GetShadowAsync("ztf"));
    }

    [Fact]
    public async Task SetActive_SurveyNameThatIsNotOne_IsRefused()
    {
        var registry = CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync("../ztf", null, v1, Record("promote", null, v1)));
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync("ZTF", null, v1, Record("promote", null, v1)));
    }

    [Fact]
    public async Task Migration_SinglePointerOfAMultiSurveyModel_BecomesEachDeclaredSurveysPointerWithItsHistory()
    {
        var registry = CreateRegistry();
        var old = Active(await registry.PushAsync(TestPackages.Valid("both", "1", 1, surveys: ["ztf", "lsst"]), "a"));
        var current = Active(await registry.PushAsync(TestPackages.Valid("both", "2", 2, surveys: ["ztf", "lsst"]), "a"));
        await WriteLegacyPointerAsync(registry, current, [old]);

        // A fresh instance (as a restarted worker or the CLI) sees the migrated layout.
        Assert.Equal(["lsst", "ztf"], await registry.GetSurveysAsync());
        foreach (var survey in new[] { "ztf", "lsst" })
        {
            var pointers = await registry.GetSurveyAsync(survey);
            Assert.Equal(current.Ref, pointers.Active!.Ref);
            Assert.Equal(current.Sha256, pointers.Active.Sha256);
            Assert.Equal(old.Ref, pointers.Previous!.Ref);
        }

        // It keeps working: promote and roll back per survey.
        await registry.RollbackAsync("lsst", current, Record("rollback", current, old));
        Assert.Equal(old.Ref, (await registry.GetActiveAsync("lsst"))!.Ref);
        Assert.Equal(current.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        var migrate = Assert.Single(await registry.GetAuditAsync(), r => r.Action == "migrate");
        Assert.Contains("ztf", migrate.Reason, StringComparison.Ordinal);
        Assert.Contains("lsst", migrate.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migration_PackageWithoutSurveys_BecomesTheZtfPointer()
    {
        var registry = CreateRegistry();
        var old = Active(await registry.PushAsync(TestPackages.WithoutSurveys("old", "1"), "a"));
        await WriteLegacyPointerAsync(registry, old, []);

        Assert.Equal(old.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(["ztf"], await registry.GetSurveysAsync());
        Assert.Null(await registry.GetActiveAsync("lsst"));
        Assert.Null(await registry.GetPreviousAsync("ztf"));
    }

    [Fact]
    public async Task Shadow_SetAndClear_PerSurvey_Audited()
    {
        var registry = CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));

        await registry.SetShadowAsync("ztf", v2, Record("shadow", null, v2));
        Assert.Equal(v2.Ref, (await registry.GetShadowAsync("ztf"))!.Ref);
        Assert.Equal(PointerRoles.Shadow, (await registry.GetShadowAsync("ztf"))!.Role);
        Assert.Null(await registry.GetShadowAsync("lsst"));
        Assert.Equal(v2.Ref, (await registry.GetSnapshotAsync()).Surveys["ztf"].Shadow!.Ref);

        // The shadow does not move the active pointer or its history.
        Assert.Equal(v1.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Null(await registry.GetPreviousAsync("ztf"));

        await registry.SetShadowAsync("ztf", null, Record("shadow-clear", v2, v2));
        Assert.Null(await registry.GetShadowAsync("ztf"));
        Assert.Equal(["promote", "shadow", "shadow-clear"], (await registry.GetAuditAsync()).Select(r => r.Action));
    }

    [Fact]
    public async Task ShadowStatistics_IncrementsFromSeveralWorkers_AddUp()
    {
        var registry = CreateRegistry();
        var pair = new ShadowPair("ztf", "m@2#abc", "m@1#def");
        var other = pair with { Active = "m@0#000" };
        Assert.Null(await registry.GetShadowStatisticsAsync(pair));

        await registry.AddShadowStatisticsAsync(pair, new Dictionary<string, double> { ["alerts"] = 3, ["agreed"] = 2, ["dp:SNIa"] = 0.25 });
        await registry.AddShadowStatisticsAsync(pair, new Dictionary<string, double> { ["alerts"] = 5, ["agreed"] = 5, ["dp:SNIa"] = 0.5 });
        await registry.AddShadowStatisticsAsync(other, new Dictionary<string, double> { ["alerts"] = 1 });

        var stats = (await registry.GetShadowStatisticsAsync(pair))!;
        Assert.Equal(8, stats.Alerts);
        Assert.Equal(7, stats.Agreed);
        Assert.Equal(7.0 / 8, stats.Agreement, 12);
        Assert.Equal(0.75 / 8, stats.MeanAbsDiff["SNIa"], 12);
        Assert.Equal(1, (await registry.GetShadowStatisticsAsync(other))!.Alerts);
    }

    [Fact]
    public async Task MetadataSources_SetReplaceRemove()
    {
        var registry = CreateRegistry();
        await registry.SetMetadataSourceAsync(Declaration("ztf", "host-redshift", csv: "/data/z.csv"), Record("metadata-set"));
        await registry.SetMetadataSourceAsync(Declaration("lsst", "host-redshift", hash: "meta:lsst:z"), Record("metadata-set"));
        await registry.SetMetadataSourceAsync(Declaration("ztf", "host-redshift", hash: "meta:ztf:z"), Record("metadata-set"));

        var all = await registry.GetMetadataSourcesAsync();
        Assert.Equal(["lsst/host-redshift", "ztf/host-redshift"], all.Select(d => d.Survey + "/" + d.Source));
        Assert.Equal("meta:ztf:z", all[1].RedisHash);
        Assert.Null(all[1].Csv);
        Assert.Equal(all, (await registry.GetSnapshotAsync()).MetadataSources);

        Assert.True(await registry.RemoveMetadataSourceAsync("ztf", "host-redshift", Record("metadata-remove")));
        Assert.False(await registry.RemoveMetadataSourceAsync("ztf", "host-redshift", Record("metadata-remove")));
        Assert.Equal(["lsst"], (await registry.GetMetadataSourcesAsync()).Select(d => d.Survey));
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetMetadataSourceAsync(Declaration("ztf", "mw-ebv", csv: "a.csv", hash: "k"), Record("metadata-set")));
        Assert.Equal(4, (await registry.GetAuditAsync()).Count);
    }

    [Fact]
    public async Task GetRecentAudit_TrailLongerThanAsked_TheNewestOldestFirstAndSaysOlderOnesExist()
    {
        var registry = CreateRegistry();
        var empty = await registry.GetRecentAuditAsync(3);
        Assert.Empty(empty.Records);
        Assert.False(empty.HasOlder);

        // Long records (longer than one read of the directory back-end's file tail) and short ones, mixed.
        for (var i = 0; i < 7; i++)
        {
            await registry.SetShadowAsync("ztf", null, Record("shadow-clear") with { Reason = i + new string('x', i % 2 == 0 ? 100_000 : 10) });
        }

        var all = await registry.GetAuditAsync();
        Assert.Equal(7, all.Count);
        foreach (var (count, older) in new[] { (1, true), (3, true), (6, true), (7, false), (8, false), (int.MaxValue, false) })
        {
            var tail = await registry.GetRecentAuditAsync(count);
            Assert.Equal(all.Skip(Math.Max(0, all.Count - count)).Select(r => r.Reason), tail.Records.Select(r => r.Reason));
            Assert.Equal(older, tail.HasOlder);
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => registry.GetRecentAuditAsync(0));
    }

    /// <summary>Overwrites the oldest audit record with text that is not JSON, behind the registry's back; returns the file or key the error must name.</summary>
    protected abstract Task<string> CorruptOldestAuditRecordAsync(IModelRegistry registry, string text = "garbage{");

    [Fact]
    public async Task GetRecentAudit_OlderRecordDamaged_ReadsTheNewestWithoutIt_ADamagedOneIsNamed()
    {
        var registry = CreateRegistry();
        for (var i = 0; i < 4; i++)
        {
            await registry.SetShadowAsync("ztf", null, Record("shadow-clear") with { Reason = "r" + i });
        }

        var where = await CorruptOldestAuditRecordAsync(registry);

        // The bounded read never looks at (let alone deserialises) the records older than it was asked for.
        var tail = await registry.GetRecentAuditAsync(3);
        Assert.Equal(["r1", "r2", "r3"], tail.Records.Select(r => r.Reason));
        Assert.True(tail.HasOlder);
        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.GetRecentAuditAsync(4));
        Assert.Contains(where, e.Message, StringComparison.Ordinal);
        Assert.Contains("is not valid JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegistryStatus_AuditTail_IsTheNewestRecords()
    {
        var registry = CreateRegistry();
        for (var i = 0; i < 5; i++)
        {
            await registry.SetShadowAsync("ztf", null, Record("shadow-clear") with { Reason = "r" + i });
        }

        var status = await RegistryStatus.ReadAsync(registry, TimeSpan.FromMinutes(1), auditTail: 2);
        Assert.Equal(["r3", "r4"], status.Audit.Select(r => r.Reason));
        Assert.Empty((await RegistryStatus.ReadAsync(registry, TimeSpan.FromMinutes(1), auditTail: 0)).Audit);
    }

    internal static MetadataSourceDeclaration Declaration(string survey, string source, string? csv = null, string? hash = null) =>
        new() { Survey = survey, Source = source, Csv = csv, RedisHash = hash, By = "test", Utc = DateTimeOffset.UtcNow };

    internal static PromotionRecord Record(string action) => new() { Action = action, Utc = DateTimeOffset.UtcNow, To = string.Empty, By = "test" };

    // Found by the registry hunt (2026-12-08): the metadata gate, the shadow's compare-and-set and "a shadow is never the
    // active model" were checked outside the registry's atomic step (or not at all), so racing commands could each pass.
    [Fact]
    public async Task PointerMoves_CheckSourcesShadowAndActiveInTheirAtomicStep()
    {
        var registry = CreateRegistry();
        var a = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        var b = Active(await registry.PushAsync(TestPackages.Valid("m", "2", seed: 2), "a"));
        var c = Active(await registry.PushAsync(TestPackages.Valid("m", "3", seed: 3), "a"));

        // A move needing a source the survey does not declare: refused, nothing moved or audited.
        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync([new PointerMove("ztf", null, a, Record("promote", null, a)) { RequiredSources = ["host-redshift"] }]));
        Assert.Equal(RegistryNames.MissingSourceMessage("m@1", "ztf", "host-redshift"), e.Message);
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetShadowAsync([new ShadowMove("ztf", a, Record("shadow", null, a)) { RequiredSources = ["host-redshift"] }]));
        Assert.Null(await registry.GetActiveAsync("ztf"));
        Assert.Empty(await registry.GetAuditAsync());
        await registry.SetMetadataSourceAsync(Declaration("ztf", "host-redshift", csv: "/data/z.csv"), Record("metadata-set"));
        await registry.SetActiveAsync([new PointerMove("ztf", null, a, Record("promote", null, a)) { RequiredSources = ["host-redshift"] }]);

        // A shadow moves only from the one it was checked against, and is never the active model.
        await registry.SetShadowAsync([new ShadowMove("ztf", b, Record("shadow", null, b)) { CompareAndSet = true, ExpectedCurrent = null }]);
        var conflict = await Assert.ThrowsAsync<RegistryException>(() => registry.SetShadowAsync([new ShadowMove("ztf", c, Record("shadow", null, c)) { CompareAndSet = true, ExpectedCurrent = null }]));
        Assert.Equal(RegistryNames.ShadowConflictMessage("ztf", 1), conflict.Message);
        var same = await Assert.ThrowsAsync<RegistryException>(() => registry.SetShadowAsync("ztf", a, Record("shadow", null, a)));
        Assert.Equal("m@1 is the active model of ztf; a shadow is a different model scored beside it", same.Message);
        Assert.Equal(b.Ref, (await registry.GetShadowAsync("ztf"))!.Ref);

        // Promoting the shadow stops it in the same change, audited.
        await registry.SetActiveAsync("ztf", a, b, Record("promote", a, b));
        Assert.Null(await registry.GetShadowAsync("ztf"));
        var audit = await registry.GetAuditAsync();
        Assert.Equal(["metadata-set", "promote", "shadow", "promote", "shadow-clear"], audit.Select(r => r.Action));
        Assert.Equal("m@2", audit[^1].From);
    }

    // The rollback's own checks came after the registry's step until 2026-12-08: the sources the restored model needs were
    // checked before it (a `metadata remove` between left an active model no worker serves), and its shadow was cleared
    // after it (a shadow set between scored the model beside itself).
    [Fact]
    public async Task Rollback_ChecksSourcesAndClearsTheRestoredModelsShadowInItsAtomicStep()
    {
        var registry = CreateRegistry();
        var a = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        var b = Active(await registry.PushAsync(TestPackages.Valid("m", "2", seed: 2), "a"));
        await registry.SetMetadataSourceAsync(Declaration("ztf", "host-redshift", csv: "/data/z.csv"), Record("metadata-set"));
        await registry.SetActiveAsync([new PointerMove("ztf", null, a, Record("promote", null, a)) { RequiredSources = ["host-redshift"] }]);
        await registry.SetActiveAsync("ztf", a, b, Record("promote", a, b));
        await registry.SetShadowAsync("ztf", a, Record("shadow", null, a));

        // A source the restored model needs, no longer declared: refused, nothing moved or audited.
        await registry.SetShadowAsync("ztf", null, Record("shadow-clear"));
        Assert.True(await registry.RemoveMetadataSourceAsync("ztf", "host-redshift", Record("metadata-remove")));
        await registry.SetShadowAsync("ztf", a, Record("shadow", null, a));
        var audited = (await registry.GetAuditAsync()).Count;
        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.RollbackAsync("ztf", b, Record("rollback", b, a), ["host-redshift"]));
        Assert.Equal(RegistryNames.MissingSourceMessage("m@1", "ztf", "host-redshift"), e.Message);
        Assert.Equal(b.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(a.Ref, (await registry.GetPreviousAsync("ztf"))!.Ref);
        Assert.Equal(audited, (await registry.GetAuditAsync()).Count);

        // Declared again: rolled back, and the shadow that was the restored model cleared in the same step, audited.
        await registry.SetMetadataSourceAsync(Declaration("ztf", "host-redshift", csv: "/data/z.csv"), Record("metadata-set"));
        Assert.Equal(a.Ref, (await registry.RollbackAsync("ztf", b, Record("rollback", b, a), ["host-redshift"])).Ref);
        Assert.Equal(a.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Null(await registry.GetShadowAsync("ztf"));
        var audit = await registry.GetAuditAsync();
        Assert.Equal(["rollback", "shadow-clear"], audit.TakeLast(2).Select(r => r.Action));
        Assert.Equal("m@1", audit[^1].From);
    }

    [Fact]
    public async Task RemoveMetadataSource_NeededByTheActiveModelOrShadow_IsRefused()
    {
        var registry = CreateRegistry();
        var plain = Active(await registry.PushAsync(TestPackages.Valid("p", "1"), "a"));
        var meta = Active(await registry.PushAsync(TestPackages.Valid("z-meta", "1", metadata: true), "a"));
        await registry.SetMetadataSourceAsync(Declaration("ztf", "host-redshift", csv: "/data/z.csv"), Record("metadata-set"));
        await registry.SetMetadataSourceAsync(Declaration("ztf", "mw-ebv", csv: "/data/z.csv"), Record("metadata-set"));
        await registry.SetActiveAsync("ztf", null, plain, Record("promote", null, plain));
        await registry.SetShadowAsync("ztf", meta, Record("shadow", null, meta));

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.RemoveMetadataSourceAsync("ztf", "mw-ebv", Record("metadata-remove")));

        Assert.Equal("refused: z-meta@1 (shadow) needs ztf/mw-ebv: promote (or roll back to) a model that does not, or clear the shadow, before removing its source", e.Message);
        Assert.Equal(2, (await registry.GetMetadataSourcesAsync()).Count);
        await registry.SetShadowAsync("ztf", null, Record("shadow-clear"));
        Assert.True(await registry.RemoveMetadataSourceAsync("ztf", "mw-ebv", Record("metadata-remove")));
    }

    [Fact]
    public async Task Heartbeats_OnlyRecentOnesAreReported()
    {
        var registry = CreateRegistry();
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w1", Model = "m@1", Utc = DateTimeOffset.UtcNow });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w2", Model = "m@1", Utc = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10) });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w1", Model = "m@2", Utc = DateTimeOffset.UtcNow });

        var workers = await registry.GetWorkersAsync(TimeSpan.FromMinutes(1));

        var w = Assert.Single(workers);
        Assert.Equal("w1", w.WorkerId);
        Assert.Equal("m@2", w.Model);
    }

    // A heartbeat stamped years ahead (a clock gone wrong) counted as a live worker for ever.
    [Fact]
    public async Task Heartbeats_StampedFarAhead_AreNotLive()
    {
        var registry = CreateRegistry();
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "skewed", Model = "m@1", Utc = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(20) });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "future", Model = "m@1", Utc = new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero) });

        var workers = await registry.GetWorkersAsync(TimeSpan.FromMinutes(1));

        Assert.Equal("skewed", Assert.Single(workers).WorkerId);
    }

    // Workers that stopped (cleanly or not) left their heartbeats for ever, one per pod or process id, and every status and
    // overview read all of them: a clean stop removes its own, and a live worker prunes those a day old.
    [Fact]
    public async Task Heartbeats_RemovedOnRequest_AndPrunedWhenOld()
    {
        var registry = CreateRegistry();
        var now = DateTimeOffset.UtcNow;
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "live", Model = "m@1", Utc = now });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "stopped", Model = "m@1", Utc = now });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "killed-yesterday", Model = "m@1", Utc = now - TimeSpan.FromDays(2) });
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "an-hour-ago", Model = "m@1", Utc = now - TimeSpan.FromHours(1) });

        await registry.RemoveHeartbeatAsync("stopped");
        await registry.RemoveHeartbeatAsync("never-there");
        var pruned = await registry.PruneHeartbeatsAsync(TimeSpan.FromDays(1));

        Assert.Equal(1, pruned);
        var all = await registry.GetWorkersAsync(TimeSpan.FromDays(3650));
        Assert.Equal(["an-hour-ago", "live"], all.Select(w => w.WorkerId));
    }

    internal static ActivePointer Active(RegisteredModel m) => new() { Name = m.Name, Version = m.Version, Sha256 = m.Sha256, SinceUtc = DateTimeOffset.UtcNow };

    internal static PromotionRecord Record(string action, ActivePointer? from, ActivePointer to) =>
        new() { Action = action, Utc = DateTimeOffset.UtcNow, From = from?.Ref.ToString(), To = to.Ref.ToString(), By = "test" };
}

public sealed class DirectoryRegistryTests : RegistryContractTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-registry-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    protected override IModelRegistry CreateRegistry() => new DirectoryModelRegistry(Path.Combine(_root, Guid.NewGuid().ToString("N")));

    // Found by the models sweep: a link as .registry/lock was followed (a push created the file it names); a push that
    // failed on a name too long for its record left package files no record names; a record copied under another name
    // listed its model twice.
    [Fact]
    public async Task Push_LockThatIsALink_FailedPush_RecordUnderAnotherName_AreSaidOrCleanedUp()
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        await registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        var lockPath = Path.Combine(registry.Root, ".registry", "lock");
        var target = Path.Combine(_root, "lock-target-" + Guid.NewGuid().ToString("N"));
        File.CreateSymbolicLink(lockPath, target);

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(TestPackages.Valid("m", "2", seed: 2), "a"));
        Assert.Contains("is a symbolic link", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
        File.Delete(lockPath);

        var longName = new string('n', 250);
        await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(TestPackages.WithManifest(TestPackages.Valid("m", "3", seed: 3), m => m with { Name = longName }), "a"));
        Assert.False(Directory.Exists(Path.Combine(registry.Root, longName)));

        var records = Path.Combine(registry.Root, ".registry", "models");
        File.Copy(Path.Combine(records, "m@1.json"), Path.Combine(records, "m@9.json"));
        var listed = await Assert.ThrowsAsync<RegistryException>(() => registry.ListAsync());
        Assert.Contains("holds m@1, whose record is m@1.json", listed.Message, StringComparison.Ordinal);
    }

    // Found by the registry hunt (2026-12-07): each pointer was written before the audit record, so an audit that could not
    // be written (a directory in its place here; a full disk alike) left the pointer moved without its record, and a
    // promotion over two surveys whose second history could not be written moved the first survey only.
    [Fact]
    public async Task Change_ThatCannotBeWrittenWhole_LeavesEveryRecordAsItWas()
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", surveys: ["ztf", "lsst"]), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", seed: 2, surveys: ["ztf", "lsst"]), "a"));
        await registry.SetActiveAsync([new PointerMove("ztf", null, v1, Record("promote", null, v1)), new PointerMove("lsst", null, v1, Record("promote", null, v1))]);
        var meta = Path.Combine(registry.Root, ".registry");
        var audit = Path.Combine(meta, "audit.jsonl");
        var auditBefore = File.ReadAllText(audit);

        // Both surveys, the second's history unwritable: neither moves.
        var lsstHistory = Path.Combine(meta, "surveys", "lsst", "history.jsonl");
        Directory.CreateDirectory(lsstHistory);
        var both = await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync([new PointerMove("ztf", v1, v2, Record("promote", v1, v2)), new PointerMove("lsst", v1, v2, Record("promote", v1, v2))]));
        Assert.Equal($"registry record {lsstHistory} is a directory, not a file: repair it, or remove it to forget what it held", both.Message);
        Assert.Equal(v1.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.False(File.Exists(Path.Combine(meta, "surveys", "ztf", "history.jsonl")));
        Assert.Equal(auditBefore, File.ReadAllText(audit));
        Directory.Delete(lsstHistory);

        // The audit unwritable: a promotion, a shadow and a metadata declaration change nothing.
        File.Move(audit, audit + ".saved");
        Directory.CreateDirectory(audit);
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2)));
        Assert.Equal(v1.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.False(File.Exists(Path.Combine(meta, "surveys", "ztf", "history.jsonl")));
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetShadowAsync("ztf", v2, Record("shadow", null, v2)));
        Assert.Null(await registry.GetShadowAsync("ztf"));
        await Assert.ThrowsAsync<RegistryException>(() => registry.SetMetadataSourceAsync(Declaration("ztf", "host-redshift", csv: "/data/z.csv"), Record("metadata-set")));
        Assert.Empty(await registry.GetMetadataSourcesAsync());

        // A rollback likewise.
        Directory.Delete(audit);
        File.Move(audit + ".saved", audit);
        await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));
        auditBefore = File.ReadAllText(audit);
        File.Move(audit, audit + ".saved");
        Directory.CreateDirectory(audit);
        await Assert.ThrowsAsync<RegistryException>(() => registry.RollbackAsync("ztf", v2, Record("rollback", v2, v1)));
        Assert.Equal(v2.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(v1.Ref, (await registry.GetPreviousAsync("ztf"))!.Ref);
        Directory.Delete(audit);
        File.Move(audit + ".saved", audit);
        Assert.Equal(auditBefore, File.ReadAllText(audit));
        Assert.Empty(Directory.GetFiles(meta, "*.tmp-*", SearchOption.AllDirectories));
    }

    // Found by the registry hunt (2026-12-08): a full disk while a promotion appended its audit record left the history
    // grown by the active model, a torn audit line (every later `models status` exit 1) and active.json.tmp-PID behind,
    // with the pointer where it was; `models rollback` then "rolled back" to the active model itself.
    [Theory]
    [InlineData("stage", "active.json")]
    [InlineData("journal", "change.json")]
    [InlineData("append", "history.jsonl")]
    [InlineData("append", "audit.jsonl")]
    public async Task Change_DiskFullPartWay_ChangesNothingAndLeavesNothingBehind(string stage, string file)
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", seed: 2), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));
        var meta = Path.Combine(registry.Root, ".registry");
        var before = RecordFiles(meta);
        registry.Fault = (what, path) =>
        {
            if (what == stage && Path.GetFileName(path) == file)
            {
                throw new IOException("No space left on device", 28);
            }
        };

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync("ztf", v2, v1, Record("promote", v2, v1)));

        Assert.Contains("No space left on device; nothing was changed", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, RecordFiles(meta));
        registry.Fault = null;
        Assert.Equal(v2.Ref, (await registry.GetSurveyAsync("ztf")).Active!.Ref);
        Assert.Equal(v1.Ref, (await registry.GetSurveyAsync("ztf")).Previous!.Ref);
        Assert.Equal(2, (await registry.GetRecentAuditAsync(10)).Records.Count);
        Assert.Equal(v1.Ref, (await registry.RollbackAsync("ztf", v2, Record("rollback", v2, v1))).Ref);
    }

    // The same found with kill -9 between the appends and the pointer's rename: the audit recorded a promotion that never
    // happened and the history held the active model twice. A change is now committed by one rename (its journal): killed
    // before, nothing changed; killed after, readers see it whole and the next command holding the lock completes it.
    [Theory]
    [InlineData("stage", false)]
    [InlineData("journal", false)]
    [InlineData("append", true)]
    [InlineData("rename", true)]
    public async Task Change_KilledPartWay_IsWholeOrAbsentForReaders_AndTheNextCommandTidiesUp(string stage, bool committed)
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", seed: 2), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        var meta = Path.Combine(registry.Root, ".registry");
        registry.Fault = (what, path) =>
        {
            if (what == stage && Path.GetFileName(path) is "audit.jsonl" or "active.json" or "change.json")
            {
                throw new DirectoryModelRegistry.SimulatedCrashException();
            }
        };

        await Assert.ThrowsAsync<DirectoryModelRegistry.SimulatedCrashException>(() => registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2)));

        // Another process reads what the killed one left.
        var reader = new DirectoryModelRegistry(registry.Root);
        var survey = await reader.GetSurveyAsync("ztf");
        Assert.Equal(committed ? v2.Ref : v1.Ref, survey.Active!.Ref);
        Assert.Equal(committed ? v1.Ref : null, survey.Previous?.Ref);
        Assert.Equal(committed ? ["m@1", "m@2"] : ["m@1"], (await reader.GetRecentAuditAsync(10)).Records.Select(r => r.To));
        Assert.Equal(committed ? ["m@1", "m@2"] : ["m@1"], (await reader.GetAuditAsync()).Select(r => r.To));

        // The next command holding the lock completes (or forgets) it, and removes what was written aside.
        await reader.SetMetadataSourceAsync(Declaration("ztf", "label", csv: "/data/labels.csv"), Record("metadata-set"));
        Assert.Empty(Directory.GetFiles(meta, "*.tmp-*", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(meta, "change.json")));
        var history = Path.Combine(meta, "surveys", "ztf", "history.jsonl");
        Assert.Equal(committed ? 1 : 0, File.Exists(history) ? File.ReadAllLines(history).Length : 0);
        Assert.Equal(committed ? ["m@1", "m@2", string.Empty] : ["m@1", string.Empty], File.ReadAllLines(Path.Combine(meta, "audit.jsonl")).Select(l => RegistryJson.Deserialize<PromotionRecord>(l, "audit").To));
        Assert.Equal(committed ? v2.Ref : v1.Ref, (await reader.GetActiveAsync("ztf"))!.Ref);
    }

    // Found by the registry hunt (2026-12-08): on a read-only file system every change waited 30 s and then said "registry
    // lock … was held by another command for more than 30 s; try again": every IOException was taken for contention.
    [Fact]
    public async Task Lock_ThatCannotBeTakenForAnotherReason_IsSaidAtOnce_ContentionIsWaitedFor()
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        registry.Fault = (what, path) =>
        {
            if (what == "lock")
            {
                throw new IOException($"Read-only file system : '{path}'", 30);
            }
        };

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1)));

        Assert.StartsWith($"registry lock {Path.Combine(registry.Root, ".registry", "lock")} cannot be taken: Read-only file system", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("held by another command", e.Message, StringComparison.Ordinal);

        // What another command holding the lock makes the open fail with is still waited for.
        registry.Fault = null;
        var lockPath = Path.Combine(registry.Root, ".registry", "lock");
        using (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var held = Assert.ThrowsAny<IOException>(() => new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            Assert.True(DirectoryModelRegistry.IsHeldByAnother(held), $"{held.HResult}: {held.Message}");
        }

        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
    }

    // What a kill or a full disk left under an older release: a torn last audit line (every `models status` failed on it,
    // exit 1) and an active.json.tmp-PID (never removed).
    [Fact]
    public async Task Audit_TornLastLineLeftByAnOlderRelease_IsLeftOutByReaders_AndCutOffByTheNextChange()
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", seed: 2), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        var meta = Path.Combine(registry.Root, ".registry");
        var audit = Path.Combine(meta, "audit.jsonl");
        File.AppendAllText(audit, "{\"action\":\"promote\",\"survey\":\"ztf\",\"utc\":\"2026-12-0");
        var stale = Path.Combine(meta, "surveys", "ztf", "active.json.tmp-999999");
        File.WriteAllText(stale, "{}");

        Assert.Equal(["m@1"], (await registry.GetRecentAuditAsync(10)).Records.Select(r => r.To));
        Assert.Equal(["m@1"], (await registry.GetAuditAsync()).Select(r => r.To));

        await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));

        Assert.Equal(["m@1", "m@2"], (await registry.GetAuditAsync()).Select(r => r.To));
        Assert.Equal(2, File.ReadAllLines(audit).Length);
        Assert.False(File.Exists(stale));
    }

    private static SortedDictionary<string, string> RecordFiles(string meta) =>
        new(Directory.GetFiles(meta, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "lock").ToDictionary(f => Path.GetRelativePath(meta, f), File.ReadAllText), StringComparer.Ordinal);

    // A last audit line without its newline (a hand edit, a torn write) took the next record into the same line.
    [Fact]
    public async Task Audit_LastLineWithoutItsNewline_TheNextRecordIsALineOfItsOwn()
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", seed: 2), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        var audit = Path.Combine(registry.Root, ".registry", "audit.jsonl");
        File.WriteAllText(audit, File.ReadAllText(audit).TrimEnd('\n'));

        await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));

        Assert.Equal(["m@1", "m@2"], (await registry.GetAuditAsync()).Select(r => r.To));
    }

    // A record copied under another name was listed as an error, but asked for by name it was that model's: promote m@9
    // said "promoted m@9" while the pointer named m@1.
    [Fact]
    public async Task Get_RecordFiledUnderAnotherName_IsARegistryErrorNamingIt()
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        await registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        var records = Path.Combine(registry.Root, ".registry", "models");
        File.Copy(Path.Combine(records, "m@1.json"), Path.Combine(records, "m@9.json"));

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.GetAsync(new ModelRef("m", "9")));

        Assert.Equal($"registry record {Path.Combine(records, "m@9.json")} holds m@1, whose record is m@1.json: rename or remove it", e.Message);
        Assert.True(e.DamagedRecord);
        await Assert.ThrowsAsync<RegistryException>(() => registry.GetPackageAsync(new ModelRef("m", "9")));
    }

    // A survey's folder, or .registry itself, made a file read as an empty registry ("no model is active for ztf", status
    // without the survey, exit 0): said as the damage it is, as .registry/models made a file already was.
    [Fact]
    public async Task Read_SurveyFolderOrRegistryFolderMadeAFile_IsARegistryErrorNamingIt()
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        var survey = Path.Combine(registry.Root, ".registry", "surveys", "ztf");
        Directory.Delete(survey, recursive: true);
        File.WriteAllText(survey, "x");

        foreach (var read in new Func<Task>[] { () => registry.GetSurveysAsync(), () => registry.GetActiveAsync("ztf"), () => registry.GetSurveyAsync("ztf") })
        {
            var e = await Assert.ThrowsAsync<RegistryException>(read);
            Assert.Equal($"registry folder {survey} is a file, not a directory: repair it, or remove it to forget what it held", e.Message);
        }

        var meta = Path.Combine(registry.Root, ".registry");
        Directory.Delete(meta, recursive: true);
        File.WriteAllText(meta, "x");
        foreach (var read in new Func<Task>[] { () => registry.GetSurveysAsync(), () => registry.ListAsync() })
        {
            Assert.Contains($"registry folder {meta} is a file", (await Assert.ThrowsAsync<RegistryException>(read)).Message, StringComparison.Ordinal);
        }
    }

    protected override Task TamperAsync(IModelRegistry registry, ModelRef model, byte[] onnx)
    {
        File.WriteAllBytes(Path.Combine(((DirectoryModelRegistry)registry).Root, model.Name, model.Version, "model.onnx"), onnx);
        return Task.CompletedTask;
    }

    protected override Task TamperManifestAsync(IModelRegistry registry, ModelRef model, byte[] manifest)
    {
        File.WriteAllBytes(Path.Combine(((DirectoryModelRegistry)registry).Root, model.Name, model.Version, "model.json"), manifest);
        return Task.CompletedTask;
    }

    protected override Task WriteLegacyPointerAsync(IModelRegistry registry, ActivePointer active, IReadOnlyList<ActivePointer> historyNewestFirst)
    {
        // The layout before per-survey pointers: .registry/active.json and history.jsonl (oldest first).
        var meta = Path.Combine(((DirectoryModelRegistry)registry).Root, ".registry");
        File.WriteAllText(Path.Combine(meta, "active.json"), System.Text.Json.JsonSerializer.Serialize(active, s_web));
        File.WriteAllLines(Path.Combine(meta, "history.jsonl"), historyNewestFirst.Reverse().Select(p => System.Text.Json.JsonSerializer.Serialize(p, s_web)));
        return Task.CompletedTask;
    }

    protected override async Task<string> CorruptActivePointerAsync(IModelRegistry registry, string survey, string text = "garbage{")
    {
        var path = Path.Combine(((DirectoryModelRegistry)registry).Root, ".registry", "surveys", survey, "active.json");
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    protected override async Task<string> CorruptOldestAuditRecordAsync(IModelRegistry registry, string text = "garbage{")
    {
        var path = Path.Combine(((DirectoryModelRegistry)registry).Root, ".registry", "audit.jsonl");
        var lines = await File.ReadAllLinesAsync(path);
        lines[0] = text;
        await File.WriteAllLinesAsync(path, lines);
        return path;
    }

    protected override async Task<string> OverwriteModelRecordAsync(IModelRegistry registry, ModelRef model, string json)
    {
        var path = Path.Combine(((DirectoryModelRegistry)registry).Root, ".registry", "models", model + ".json");
        Assert.True(File.Exists(path), path);
        await File.WriteAllTextAsync(path, json);
        return path;
    }

    protected override Task CorruptHeartbeatAsync(IModelRegistry registry, string workerId) =>
        File.WriteAllTextAsync(Path.Combine(((DirectoryModelRegistry)registry).Root, ".registry", "workers", workerId + ".json"), "garbage{");

    [Theory]
    [InlineData("[null]", "is not a valid list of metadata sources: entry 1 is null")]
    [InlineData("[{\"survey\":null,\"source\":\"host-redshift\",\"csv\":\"z.csv\"}]", "entry 1: \"survey\" is null")]
    [InlineData("[{\"survey\":\"ztf\",\"source\":\"host-redshift\"}]", "entry 1: neither \"csv\" nor \"redisHash\" is given")]
    [InlineData("[{\"survey\":\"ztf\",\"source\":null,\"csv\":\"z.csv\"}]", "entry 1: \"source\" is null")]
    public async Task GetMetadataSources_AListThatNoRegistryWrites_IsARegistryErrorNamingTheFile(string json, string says)
    {
        // Found by mutating a registry's files: models status and models metadata list ended in "unexpected error" (exit 70).
        var registry = (DirectoryModelRegistry)CreateRegistry();
        var path = Path.Combine(registry.Root, ".registry", "metadata.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, json);

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.GetMetadataSourcesAsync());

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadOnlyCalls_OnAPlainDirectory_CreateNothing()
    {
        // Before: constructing the registry made .registry/models, so `models list` left one in any directory it was pointed at.
        var dir = Directory.CreateDirectory(Path.Combine(_root, "plain")).FullName;
        var registry = new DirectoryModelRegistry(dir);

        Assert.Empty(await registry.ListAsync());
        Assert.Empty(await registry.GetSurveysAsync());
        Assert.Empty((await registry.GetSnapshotAsync()).Surveys);
        Assert.Null(await registry.GetActiveAsync("ztf"));
        Assert.Empty(await registry.GetAuditAsync());
        Assert.Empty(await registry.GetWorkersAsync(TimeSpan.FromMinutes(1)));

        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    [Fact]
    public async Task Read_MetadataFileNotJson_IsARegistryErrorNamingTheFile()
    {
        var registry = (DirectoryModelRegistry)CreateRegistry();
        await registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        var path = Path.Combine(registry.Root, ".registry", "metadata.json");
        await File.WriteAllTextAsync(path, "[{\"survey\": ");

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.GetMetadataSourcesAsync());

        Assert.Contains(path + " is not valid JSON", e.Message, StringComparison.Ordinal);
    }

    private static readonly System.Text.Json.JsonSerializerOptions s_web = new(System.Text.Json.JsonSerializerDefaults.Web);

    [Fact]
    public async Task Push_NameThatEscapesTheRoot_IsRefused()
    {
        var registry = CreateRegistry();
        await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(TestPackages.Renamed("..", "1"), "a"));
    }
}

/// <summary>The contract on a plain redis-server.</summary>
public sealed class RedisRegistryTests(RedisServerFixture redis) : RedisRegistryTestsBase(redis), IClassFixture<RedisServerFixture>;

/// <summary>The same contract (and pub/sub notifications) with an ACL user and password over TLS.</summary>
public sealed class SecureRedisRegistryTests(SecureRedisServerFixture redis) : RedisRegistryTestsBase(redis), IClassFixture<SecureRedisServerFixture>;

public abstract class RedisRegistryTestsBase : RegistryContractTests, IDisposable
{
    private protected readonly ConnectionMultiplexer _connection;
    private protected readonly RedisServerFixture _redis;

    protected RedisRegistryTestsBase(RedisServerFixture redis)
    {
        Assert.True(redis.Available, redis.UnavailableReason);
        _redis = redis;
        _connection = redis.Connect();
    }

    public void Dispose()
    {
        _connection.Dispose();
        GC.SuppressFinalize(this);
    }

    protected override IModelRegistry CreateRegistry() => new RedisModelRegistry(_connection, "test-" + Guid.NewGuid().ToString("N"));

    protected override async Task WriteLegacyPointerAsync(IModelRegistry registry, ActivePointer active, IReadOnlyList<ActivePointer> historyNewestFirst)
    {
        // The keys before per-survey pointers: PREFIX:models:active and PREFIX:models:history (newest first).
        var prefix = ((RedisModelRegistry)registry).EventsChannel.Replace(":models:events", string.Empty, StringComparison.Ordinal);
        var web = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);
        var db = _connection.GetDatabase();
        await db.StringSetAsync(prefix + ":models:active", System.Text.Json.JsonSerializer.Serialize(active, web));
        foreach (var p in historyNewestFirst)
        {
            await db.ListRightPushAsync(prefix + ":models:history", System.Text.Json.JsonSerializer.Serialize(p, web));
        }
    }

    protected override Task TamperAsync(IModelRegistry registry, ModelRef model, byte[] onnx) =>
        _connection.GetDatabase().StringSetAsync("{" + ((RedisModelRegistry)registry).Prefix + "}:model:" + model + ":onnx", onnx);

    protected override Task TamperManifestAsync(IModelRegistry registry, ModelRef model, byte[] manifest) =>
        _connection.GetDatabase().StringSetAsync("{" + ((RedisModelRegistry)registry).Prefix + "}:model:" + model + ":manifest", manifest);

    protected override async Task<string> CorruptActivePointerAsync(IModelRegistry registry, string survey, string text = "garbage{")
    {
        var key = "{" + ((RedisModelRegistry)registry).Prefix + "}:models:active:" + survey;
        await _connection.GetDatabase().StringSetAsync(key, text);
        return key;
    }

    protected override async Task<string> CorruptOldestAuditRecordAsync(IModelRegistry registry, string text = "garbage{")
    {
        var key = "{" + ((RedisModelRegistry)registry).Prefix + "}:models:audit";
        await _connection.GetDatabase().ListSetByIndexAsync(key, 0, text);
        return key;
    }

    protected override async Task<string> OverwriteModelRecordAsync(IModelRegistry registry, ModelRef model, string json)
    {
        var key = "{" + ((RedisModelRegistry)registry).Prefix + "}:model:" + model + ":info";
        Assert.True(await _connection.GetDatabase().KeyExistsAsync(key), key);
        await _connection.GetDatabase().StringSetAsync(key, json);
        return key;
    }

    protected override Task CorruptHeartbeatAsync(IModelRegistry registry, string workerId) =>
        _connection.GetDatabase().HashSetAsync("{" + ((RedisModelRegistry)registry).Prefix + "}:models:workers", workerId, "garbage{");

    // A registry key a write needs holding another program's value: the scripts wrote up to the failing command (Redis
    // does not undo a script's earlier writes), so a push left the package without its index entry (and a second push
    // found it "already pushed" and never indexed it), a promotion or rollback moved the pointer without its audit record
    // or notification. Every key is checked first now: nothing is written, and the error names the key.
    [Fact]
    public async Task Push_IndexKeyOfAnotherType_WritesNothing_NamesTheKey_AndPushesOnceItIsGone()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + registry.Prefix + "}";
        var db = _connection.GetDatabase();
        await db.StringSetAsync(tag + ":models:index", "another program's value");

        var e = await Assert.ThrowsAnyAsync<Exception>(() => registry.PushAsync(TestPackages.Valid("m", "1"), "a"));

        foreach (var part in new[] { "info", "manifest", "onnx" })
        {
            Assert.False(await db.KeyExistsAsync(tag + ":model:m@1:" + part), part);
        }

        Assert.StartsWith("WRONGTYPE", e.Message, StringComparison.Ordinal);
        Assert.Contains(tag + ":models:index is a string where the registry keeps a set", e.Message, StringComparison.Ordinal);

        await db.KeyDeleteAsync(tag + ":models:index");
        await registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        Assert.Equal("m@1", Assert.Single(await registry.ListAsync()).Ref.ToString());
    }

    [Theory]
    [InlineData("promote")]
    [InlineData("rollback")]
    [InlineData("shadow")]
    [InlineData("metadata")]
    public async Task Write_AuditKeyOfAnotherType_NothingChanges_TheErrorNamesTheKey(string action)
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + registry.Prefix + "}";
        var db = _connection.GetDatabase();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        if (action == "rollback")
        {
            await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));
        }

        await db.KeyDeleteAsync(tag + ":models:audit");
        await db.SetAddAsync(tag + ":models:audit", "x");
        var before = await db.HashGetAllAsync(tag + ":models:metadata");
        var active = await registry.GetActiveAsync("ztf");

        var e = await Assert.ThrowsAnyAsync<Exception>(() => action switch
        {
            "promote" => registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2)),
            "rollback" => registry.RollbackAsync("ztf", v2, Record("rollback", v2, v1)),
            "shadow" => registry.SetShadowAsync("ztf", v2, Record("shadow", null, v2)),
            _ => registry.SetMetadataSourceAsync(new MetadataSourceDeclaration { Survey = "ztf", Source = "mw-ebv", RedisHash = "ebv" }, Record("metadata-set")),
        });

        Assert.Equal(active!.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(action == "rollback" ? "m@1" : null, (await registry.GetPreviousAsync("ztf"))?.Ref.ToString());
        Assert.Null(await registry.GetShadowAsync("ztf"));
        Assert.Equal(before.Length, (await db.HashGetAllAsync(tag + ":models:metadata")).Length);
        Assert.Contains(tag + ":models:audit is a set where the registry keeps a list", e.Message, StringComparison.Ordinal);
    }

    // The second survey's history key holding another program's value: the first survey's pointer does not move either.
    [Fact]
    public async Task SetActive_SeveralSurveys_LaterKeyOfAnotherType_NeitherMoves()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + registry.Prefix + "}";
        var a = Active(await registry.PushAsync(TestPackages.Valid("both", "1", 1, surveys: ["ztf", "lsst"]), "a"));
        var b = Active(await registry.PushAsync(TestPackages.Valid("both", "2", 2, surveys: ["ztf", "lsst"]), "a"));
        await registry.SetActiveAsync([new PointerMove("ztf", null, a, Record("promote", null, a)), new PointerMove("lsst", null, a, Record("promote", null, a))]);
        await _connection.GetDatabase().KeyDeleteAsync(tag + ":models:history:lsst");
        await _connection.GetDatabase().StringSetAsync(tag + ":models:history:lsst", "another program's value");
        var auditBefore = (await registry.GetAuditAsync()).Count;

        var e = await Assert.ThrowsAnyAsync<Exception>(() => registry.SetActiveAsync(
            [new PointerMove("ztf", a, b, Record("promote", a, b)), new PointerMove("lsst", a, b, Record("promote", a, b))]));

        Assert.Contains(tag + ":models:history:lsst is a string where the registry keeps a list", e.Message, StringComparison.Ordinal);
        Assert.Equal(a.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Null(await registry.GetPreviousAsync("ztf"));
        Assert.Equal(a.Ref, (await registry.GetActiveAsync("lsst"))!.Ref);
        Assert.Equal(auditBefore, (await registry.GetAuditAsync()).Count);
    }

    [Fact]
    public async Task SetShadow_SeveralSurveys_LaterKeyOfAnotherType_NeitherIsSet()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + registry.Prefix + "}";
        var a = Active(await registry.PushAsync(TestPackages.Valid("both", "1", 1, surveys: ["ztf", "lsst"]), "a"));
        await _connection.GetDatabase().ListRightPushAsync(tag + ":models:shadow:lsst", "another program's value");

        var e = await Assert.ThrowsAnyAsync<Exception>(() => registry.SetShadowAsync(
            [new ShadowMove("ztf", a, Record("shadow", null, a)), new ShadowMove("lsst", a, Record("shadow", null, a))]));

        Assert.Contains(tag + ":models:shadow:lsst is a list where the registry keeps a string", e.Message, StringComparison.Ordinal);
        Assert.Null(await registry.GetShadowAsync("ztf"));
        Assert.Empty(await registry.GetAuditAsync());
    }

    // Found by the CLI bug hunt: MGET answers nil for a key of another type, so such a key read as absent. `models status`
    // said "active model: (none)" (exit 0) for a list at the active pointer, `models list` left out a model whose record
    // was a hash, and a package whose model.json was a set read as "package bytes are missing".
    [Theory]
    [InlineData("models:active:ztf", "list")]
    [InlineData("models:shadow:ztf", "hash")]
    public async Task ReadPointers_KeyOfAnotherType_IsARegistryErrorNamingTheKeyAndItsType(string suffix, string type)
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        var key = "{" + registry.Prefix + "}:" + suffix;
        await ReplaceWithAnotherTypeAsync(key, type);

        foreach (var read in new Func<Task>[] { () => registry.GetSurveyAsync("ztf"), () => registry.GetSnapshotAsync(), () => RegistryStatus.ReadAsync(registry, TimeSpan.FromSeconds(30)) })
        {
            var e = await Assert.ThrowsAsync<RegistryException>(read);
            Assert.Contains($"{key} is a {type} where the registry keeps a string", e.Message, StringComparison.Ordinal);
            Assert.True(e.DamagedRecord);
        }
    }

    [Theory]
    [InlineData("info", "hash")]
    [InlineData("manifest", "set")]
    [InlineData("onnx", "list")]
    public async Task ReadModels_PartOfAnotherType_IsARegistryErrorNamingTheKeyAndItsType(string part, string type)
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        var v2 = await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        var key = "{" + registry.Prefix + "}:model:m@1:" + part;
        await ReplaceWithAnotherTypeAsync(key, type);

        // The model record is read by list and (with a single GET, which Redis refuses itself) by get; the bytes by get-package.
        Func<Task> read = part == "info" ? () => registry.ListAsync() : () => registry.GetPackageAsync(new ModelRef("m", "1"));
        var e = await Assert.ThrowsAsync<RegistryException>(read);

        Assert.Contains($"{key} is a {type} where the registry keeps a string", e.Message, StringComparison.Ordinal);
        Assert.True(e.DamagedRecord);
        Assert.NotEmpty((await registry.GetPackageAsync(v2.Ref)).Onnx);
    }

    // Found by the CLI bug hunt: m@1's keys copied to m@9 and indexed. `models promote m@9` said "promoted m@9" and audited
    // it, but the pointer it wrote named m@1 (the record's own name), and `models list` showed m@1 twice. The directory
    // registry's list refuses a record filed under another name; the Redis registry says the same.
    [Fact]
    public async Task GetAndList_RecordFiledUnderAnotherVersion_IsADamagedRecordNamingTheKeyAndBothVersions()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + registry.Prefix + "}";
        var db = _connection.GetDatabase();
        var v1 = await registry.PushAsync(TestPackages.Valid("m", "1"), "a");
        foreach (var part in new[] { "info", "manifest", "onnx" })
        {
            await db.StringSetAsync(tag + ":model:m@9:" + part, await db.StringGetAsync(tag + ":model:m@1:" + part));
        }

        await db.SetAddAsync(tag + ":models:index", "m@9");
        var copy = new ModelRef("m", "9");

        foreach (var read in new Func<Task>[] { () => registry.GetAsync(copy), () => registry.ListAsync(), () => registry.GetPackageAsync(copy), () => registry.GetManifestAsync(copy) })
        {
            var e = await Assert.ThrowsAsync<RegistryException>(read);
            Assert.Contains($"registry record Redis key {tag}:model:m@9:info names m@1, not m@9 (copied or renamed?)", e.Message, StringComparison.Ordinal);
            Assert.True(e.DamagedRecord);
        }

        Assert.Equal(v1.Sha256, (await registry.GetAsync(v1.Ref))!.Sha256);
        await Assert.ThrowsAsync<RegistryException>(() => registry.PushAsync(TestPackages.Valid("m", "9"), "a"));
        Assert.Null(await registry.GetActiveAsync("ztf"));
    }

    // An index entry whose record is gone (deleted by hand, or evicted by a Redis without maxmemory-policy noeviction):
    // `models list` left the model out without a word, as though it had never been pushed. It is a damaged record now,
    // naming the index, the model and the missing key, and a push of the same package puts the record back.
    [Fact]
    public async Task List_IndexEntryWithoutItsRecord_IsADamagedRecord_AndAPushAgainRestoresIt()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + registry.Prefix + "}";
        var db = _connection.GetDatabase();
        await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        await db.KeyDeleteAsync(tag + ":model:m@1:info");

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.ListAsync());

        Assert.True(e.DamagedRecord);
        Assert.Contains($"registry index Redis key {tag}:models:index names m@1, but its record Redis key {tag}:model:m@1:info is missing", e.Message, StringComparison.Ordinal);
        Assert.Contains("noeviction", e.Message, StringComparison.Ordinal);

        await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        Assert.Equal(["m@1", "m@2"], (await registry.ListAsync()).Select(m => m.Ref.ToString()).Order(StringComparer.Ordinal));
    }

    // Found by the data-integrity review (2026-12-07): shadow statistics were read back without a range check, so a
    // hand-edited or damaged hash (−3 alerts, 12 agreed of 10, "nan") was shown by models status and the web view (an
    // agreement of 120%) and passed a promotion's --min-agreement. Each is now a damaged record naming the key.
    [Theory]
    [InlineData("alerts", "-3", "\"alerts\" is negative (-3)")]
    [InlineData("alerts", "2.5", "\"alerts\" is not a whole number (2.5)")]
    [InlineData("alerts", "1e300", "\"alerts\" (1E+300) is above 2^53")]
    [InlineData("agreed", "12", "\"agreed\" (12) is greater than \"alerts\" (10)")]
    [InlineData("agreed", "-1", "\"agreed\" is negative (-1)")]
    [InlineData("labelled", "11", "\"labelled\" (11) is greater than \"alerts\" (10)")]
    [InlineData("agreed", "nan", "field \"agreed\" is NaN")]
    [InlineData("dp:SNIa", "inf", "field \"dp:SNIa\" is Infinity")]
    [InlineData("dp:SNIa", "-0.5", "\"dp:SNIa\" (-0.5) is negative: a mean |Δp| outside [0, 1]")]
    [InlineData("dp:SNIa", "10.5", "\"dp:SNIa\" (10.5) is more than \"alerts\" (10): a mean |Δp| outside [0, 1]")]
    [InlineData("roc:c:SNIa:n:7", "-1", "\"roc:c:SNIa:n:7\" is negative (-1)")]
    [InlineData("roc:a:SNIa:p:3", "9", "the active model's histogram of class SNIa counts 13 alerts, more than \"labelled\" (4)")]
    [InlineData("agreed", "abc", "field \"agreed\" is not a number")]
    public async Task GetShadowStatistics_DamagedHash_IsADamagedRecordNamingTheKeyAndTheProblem(string field, string value, string problem)
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var pair = new ShadowPair("ztf", "m@2#abc", "m@1#def");
        var fine = new ShadowPair("ztf", "m@3#abc", "m@1#def");
        var valid = new Dictionary<string, double> { ["alerts"] = 10, ["agreed"] = 7, ["labelled"] = 4, ["dp:SNIa"] = 2.5, ["roc:c:SNIa:p:150"] = 1, ["roc:c:SNIa:n:40"] = 3, ["roc:a:SNIa:p:120"] = 1, ["roc:a:SNIa:n:60"] = 3 };
        await registry.AddShadowStatisticsAsync(pair, valid);
        await registry.AddShadowStatisticsAsync(fine, valid);
        Assert.Equal(0.7, (await registry.GetShadowStatisticsAsync(pair))!.Agreement, 12);

        await _connection.GetDatabase().HashSetAsync(registry.StatsKey(pair), field, value);

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.GetShadowStatisticsAsync(pair));
        Assert.True(e.DamagedRecord);
        Assert.Contains($"registry record Redis hash {registry.StatsKey(pair)} is not valid shadow statistics: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.EndsWith("repair it, or remove it to start the comparison again", e.Message, StringComparison.Ordinal);

        // Another comparison is read all the same.
        Assert.Equal(10, (await registry.GetShadowStatisticsAsync(fine))!.Alerts);
    }

    // models status (and the web view, through RegistryStatus) and the promotion gate read the same record: a damaged one
    // is the same typed error there (the CLI's exit 1), not a figure shown or acted on.
    [Fact]
    public async Task StatusAndPromotion_DamagedShadowStatistics_AreADamagedRecord()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var v1 = await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        var v2 = await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a");
        var promoter = new ModelPromoter(registry);
        Assert.True((await promoter.PromoteAsync(v1.Ref, new PromotionOptions())).Promoted);
        Assert.True((await promoter.ShadowAsync(v2.Ref, new ShadowOptions())).Promoted);
        var pair = ShadowPair.Of("ztf", Active(v2), Active(v1));
        await registry.AddShadowStatisticsAsync(pair, new Dictionary<string, double> { ["alerts"] = 10, ["agreed"] = 10 });
        await _connection.GetDatabase().HashSetAsync(registry.StatsKey(pair), "agreed", "12");

        var status = await Assert.ThrowsAsync<RegistryException>(() => RegistryStatus.ReadAsync(registry, TimeSpan.FromSeconds(30)));
        Assert.True(status.DamagedRecord);
        Assert.Contains("\"agreed\" (12) is greater than \"alerts\" (10)", status.Message, StringComparison.Ordinal);

        // Before: agreement 1.2 ≥ 0.9, promoted.
        var promote = await Assert.ThrowsAsync<RegistryException>(() => promoter.PromoteAsync(v2.Ref, new PromotionOptions { RequireShadowAlerts = 5, MinShadowAgreement = 0.9 }));
        Assert.True(promote.DamagedRecord);
        Assert.Equal(v1.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
    }

    // The other way round: the index lost (deleted or evicted) while the records stay. A push of the same package found
    // it "already pushed" and returned without indexing it, so it never came back to the list.
    [Fact]
    public async Task Push_AgainAfterTheIndexWasLost_ListsTheModelAgain()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var pushed = await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await _connection.GetDatabase().KeyDeleteAsync("{" + registry.Prefix + "}:models:index");
        Assert.Empty(await registry.ListAsync());

        var again = await registry.PushAsync(TestPackages.Valid("m", "1", 1), "b");

        Assert.Equal(pushed.PushedUtc, again.PushedUtc);
        Assert.Equal("m@1", Assert.Single(await registry.ListAsync()).Ref.ToString());
    }

    // A pointer written with capitalised field names ({"Name":…,"Sha256":…}, as .NET writes by default) reads in C# (the
    // registry's JSON matches names case-insensitively), but the scripts' identity read m.sha256: promote and rollback
    // failed with "attempt to concatenate field 'sha256' (a nil value)", naming no key. The scripts read it as C# does.
    [Fact]
    public async Task PromoteAndRollback_PointersWithCapitalisedFieldNames_AreReadAsTheRegistryReadsThem()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a"));
        var capitalised = System.Text.Json.JsonSerializer.Serialize(v1);
        Assert.Contains("\"Sha256\":", capitalised, StringComparison.Ordinal);
        await _connection.GetDatabase().StringSetAsync("{" + registry.Prefix + "}:models:active:ztf", capitalised);
        var current = await registry.GetActiveAsync("ztf");
        Assert.Equal(v1.Ref, current!.Ref);

        await registry.SetActiveAsync("ztf", current, v2, Record("promote", current, v2));

        Assert.Equal(v2.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(v1.Ref, (await registry.GetPreviousAsync("ztf"))!.Ref);

        // The capitalised pointer is now the history entry the rollback compares and restores.
        var restored = await registry.RollbackAsync("ztf", v2, Record("rollback", v2, v1));

        Assert.Equal(v1.Ref, restored.Ref);
        Assert.Equal(v1.Sha256, (await registry.GetActiveAsync("ztf"))!.Sha256);
    }

    // The single pointer's migration checked no type: with the set of surveys another program's string, the SADD failed
    // after the survey's pointer and history were written (Redis keeps a script's earlier writes).
    [Fact]
    public async Task MigrateSinglePointer_SurveysKeyOfAnotherType_WritesNothing_NamesTheKey()
    {
        var writer = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + writer.Prefix + "}";
        var v1 = Active(await writer.PushAsync(TestPackages.Valid("m", "1", 1), "a"));
        await WriteLegacyPointerAsync(writer, v1, []);
        var db = _connection.GetDatabase();
        await db.StringSetAsync(tag + ":models:surveys", "another program's value");

        var e = await Assert.ThrowsAnyAsync<Exception>(() => new RedisModelRegistry(_connection, writer.Prefix).GetActiveAsync("ztf"));

        Assert.Contains(tag + ":models:surveys is a string where the registry keeps a set", e.Message, StringComparison.Ordinal);
        Assert.False(await db.KeyExistsAsync(tag + ":models:active:ztf"));
        Assert.True(await db.KeyExistsAsync(tag + ":models:active"));
        Assert.Equal(0, await db.ListLengthAsync(tag + ":models:audit"));
    }

    // The keys of the layout before the hash tag have common names (PREFIX:models:index): another program's key of that
    // name failed the hint that looks for such a registry with WRONGTYPE, so `models list` of an empty registry failed and a
    // worker start without an active model ended "fatal" (exit 70). Such a key is no old registry.
    [Fact]
    public async Task FindLegacyLayout_KeysOfThoseNamesOfAnotherType_IsNoLegacyRegistry()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var db = _connection.GetDatabase();
        await db.StringSetAsync(registry.Prefix + ":models:index", "another program's value");
        await db.ListRightPushAsync(registry.Prefix + ":models:active", "another program's value");
        await db.HashSetAsync(registry.Prefix + ":models:audit", "field", "another program's value");

        Assert.Null(await registry.FindLegacyLayoutAsync());
    }

    // `models migrate` copied every key of the old names with DUMP/RESTORE whatever its type: another program's hash at
    // PREFIX:models:audit became the registry's audit trail (every read WRONGTYPE), and --delete-legacy deleted it.
    [Fact]
    public async Task MigrateLegacyLayout_KeyOfAnotherType_CopiesAndDeletesNothing_NamesTheKey()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + registry.Prefix + "}";
        var db = _connection.GetDatabase();
        await db.SetAddAsync(registry.Prefix + ":models:index", "m@1");
        foreach (var part in new[] { "info", "manifest", "onnx" })
        {
            await db.StringSetAsync(registry.Prefix + ":model:m@1:" + part, "x");
        }

        await db.HashSetAsync(registry.Prefix + ":models:audit", "field", "another program's value");

        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.MigrateLegacyLayoutAsync(deleteLegacy: true));

        Assert.Contains(registry.Prefix + ":models:audit is a hash where a registry of the earlier layout keeps a list", e.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was copied or deleted", e.Message, StringComparison.Ordinal);
        Assert.Equal(RedisType.Hash, await db.KeyTypeAsync(registry.Prefix + ":models:audit"));
        Assert.True(await db.KeyExistsAsync(registry.Prefix + ":models:index"));
        Assert.False(await db.KeyExistsAsync(tag + ":models:audit"));
        Assert.False(await db.KeyExistsAsync(tag + ":model:m@1:info"));
    }

    // A push that restores a package's damaged bytes wrote them in a transaction whose commands' answers were dropped: with
    // the index another program's string, its SADD failed and the push said it had restored the package (exit 0), which
    // `models list` then never showed.
    [Fact]
    public async Task Push_RestoringBytes_IndexKeyOfAnotherType_IsAWrongTypeError()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var tag = "{" + registry.Prefix + "}";
        var m = await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a");
        await TamperAsync(registry, m.Ref, [1, 2, 3]);
        await _connection.GetDatabase().KeyDeleteAsync(tag + ":models:index");
        await _connection.GetDatabase().StringSetAsync(tag + ":models:index", "another program's value");

        var e = await Assert.ThrowsAsync<RedisServerException>(() => registry.PushAsync(TestPackages.Valid("m", "1", 1), "a"));

        Assert.StartsWith("WRONGTYPE", e.Message, StringComparison.Ordinal);
        Assert.Contains(tag + ":models:index is a string where the registry keeps a set", string.Join("; ", await registry.FindMistypedKeysAsync()), StringComparison.Ordinal);
    }

    private async Task ReplaceWithAnotherTypeAsync(RedisKey key, string type)
    {
        var db = _connection.GetDatabase();
        await db.KeyDeleteAsync(key);
        Task write = type switch
        {
            "list" => db.ListRightPushAsync(key, "another program's value"),
            "set" => db.SetAddAsync(key, "another program's value"),
            _ => db.HashSetAsync(key, "field", "another program's value"),
        };
        await write;
    }

    // Found by the web sweep: one member that is not a survey name made /api/models a 503 for every survey.
    [Fact]
    public async Task GetSurveys_MemberThatIsNotASurveyName_IsLeftOutAndTheStatusReads()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        await _connection.GetDatabase().SetAddAsync("{" + registry.Prefix + "}:models:surveys", "BAD SURVEY");

        Assert.Equal(["ztf"], await registry.GetSurveysAsync());
        var status = await RegistryStatus.ReadAsync(registry, TimeSpan.FromSeconds(30));
        Assert.Equal("m@1", Assert.Single(status.Surveys).Active!.Ref.ToString());
    }

    [Fact]
    public async Task GetShadowStatistics_FieldNotANumber_IsARegistryErrorNamingTheKey()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var pair = new ShadowPair("ztf", "m@2#abc", "m@1#def");
        await registry.AddShadowStatisticsAsync(pair, new Dictionary<string, double> { ["alerts"] = 3, ["agreed"] = 2 });
        var key = "{" + registry.Prefix + "}:models:shadowstats:ztf:m@2#abc:m@1#def";
        await _connection.GetDatabase().HashSetAsync(key, "agreed", "lots");

        // Before: an InvalidCastException, "unexpected error" (exit 70) in models status.
        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.GetShadowStatisticsAsync(pair));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains("agreed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_AllStartWithTheBracedPrefix_AndShareOneSlot()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", 1), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w", Model = "m@2", Utc = DateTimeOffset.UtcNow });

        var keys = new List<RedisKey>();
        foreach (var endpoint in _connection.GetEndPoints())
        {
            keys.AddRange(_connection.GetServer(endpoint).Keys(pattern: "*" + registry.Prefix + "*", pageSize: 1000));
        }

        // index, the surveys set, ztf's active pointer and history, audit, workers and three parts of two versions.
        Assert.Equal(12, keys.Count);
        Assert.All(keys, k => Assert.StartsWith("{" + registry.Prefix + "}:", k.ToString(), StringComparison.Ordinal));
        Assert.Single(keys.Select(k => _connection.HashSlot(k)).Distinct());
        Assert.Equal("{" + registry.Prefix + "}:models:events", registry.EventsChannel);
    }

    [Fact]
    public void Constructor_PrefixWithABrace_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => new RedisModelRegistry(_connection, "ab{x}"));
        Assert.Contains("hash tag", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateLegacyLayout_RegistryOfThePreviousRelease_IsCopiedAndKeepsWorking()
    {
        // A registry as the release before the hash tag wrote it: the same values under the names without braces.
        var prefix = "legacy-" + Guid.NewGuid().ToString("N")[..8];
        var writer = new RedisModelRegistry(_connection, prefix + "-w");
        var v1 = Active(await writer.PushAsync(TestPackages.Valid("m", "1", 1), "a"));
        var v2 = Active(await writer.PushAsync(TestPackages.Valid("m", "2", 2), "a"));
        await writer.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        await writer.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));
        var db = _connection.GetDatabase();
        var written = new List<RedisKey>();
        foreach (var endpoint in _connection.GetEndPoints())
        {
            written.AddRange(_connection.GetServer(endpoint).Keys(pattern: "{" + prefix + "-w}:*", pageSize: 1000));
        }

        // That release had one active pointer and one history (models:active, models:history), not per-survey ones.
        foreach (var key in written)
        {
            var rest = key.ToString()[("{" + prefix + "-w}").Length..];
            rest = rest switch
            {
                ":models:active:ztf" => ":models:active",
                ":models:history:ztf" => ":models:history",
                ":models:surveys" => string.Empty,
                _ => rest,
            };
            if (rest.Length > 0)
            {
                await db.KeyRestoreAsync(prefix + rest, (await db.KeyDumpAsync(key))!);
            }
        }

        var registry = new RedisModelRegistry(_connection, prefix);
        Assert.Empty(await registry.GetSurveysAsync());
        var legacy = await registry.FindLegacyLayoutAsync();
        Assert.Equal(new LegacyRegistryLayout(2, "m@2"), legacy);

        var result = await registry.MigrateLegacyLayoutAsync(deleteLegacy: false);
        Assert.Equal(10, result.Copied.Count);
        Assert.Empty(result.Skipped);

        // The copied single pointer becomes the per-survey pointer of the surveys the model declares (ztf) on first use.
        Assert.Equal(v2.Ref, (await registry.GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(v1.Ref, (await registry.GetPreviousAsync("ztf"))!.Ref);
        Assert.Equal(2, (await registry.ListAsync()).Count);
        Assert.Equal(v1.Sha256, ModelPackageSha(await registry.GetPackageAsync(v1.Ref)));
        Assert.Equal(["promote", "promote", "migrate"], (await registry.GetAuditAsync()).Select(r => r.Action));

        // Again: nothing to copy (the single pointer is not brought back beside the per-survey ones); then with deletion the
        // legacy keys go and the new layout stays.
        var again = await registry.MigrateLegacyLayoutAsync(deleteLegacy: true);
        Assert.Empty(again.Copied);
        Assert.Equal(10, again.Skipped.Count);
        Assert.Equal(10, again.Deleted.Count);
        Assert.Null(await registry.FindLegacyLayoutAsync());
        Assert.Equal(v2.Ref, (await new RedisModelRegistry(_connection, prefix).GetActiveAsync("ztf"))!.Ref);
        Assert.Equal(["promote", "promote", "migrate"], (await registry.GetAuditAsync()).Select(r => r.Action));
    }

    private static string ModelPackageSha(ModelPackageBytes bytes) => ModelPackage.ComputeSha256(bytes.Onnx);

    [Fact]
    public async Task EveryKey_PerSurveyPointersShadowsStatisticsAndMetadata_LiesUnderTheBracedPrefix()
    {
        var prefix = "tag-" + Guid.NewGuid().ToString("N")[..12];
        var registry = new RedisModelRegistry(_connection, prefix);
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1", 1, surveys: ["ztf", "lsst"]), "a"));
        var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2, surveys: ["ztf", "lsst"]), "a"));
        await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
        await registry.SetActiveAsync("lsst", null, v1, Record("promote", null, v1));
        await registry.SetActiveAsync("lsst", v1, v2, Record("promote", v1, v2));
        await registry.SetShadowAsync("ztf", v2, Record("shadow", null, v2));
        await registry.AddShadowStatisticsAsync(ShadowPair.Of("ztf", v2, v1), new Dictionary<string, double> { ["alerts"] = 1, ["agreed"] = 1 });
        await registry.SetMetadataSourceAsync(Declaration("ztf", "host-redshift", csv: "/data/z.csv"), Record("metadata-set"));
        await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "w", Utc = DateTimeOffset.UtcNow });

        // One hash slot for the whole registry (a Redis Cluster runs every script on it), and no key outside the tag.
        var keys = new List<string>();
        foreach (var endpoint in _connection.GetEndPoints())
        {
            keys.AddRange(_connection.GetServer(endpoint).Keys(pattern: "*" + prefix + "*", pageSize: 1000).Select(k => k.ToString()));
        }

        Assert.True(keys.Count >= 12, string.Join(", ", keys));
        Assert.All(keys, k => Assert.StartsWith("{" + prefix + "}:", k, StringComparison.Ordinal));
        Assert.Single(keys.Select(k => _connection.HashSlot(k)).Distinct());
        Assert.Equal("{" + prefix + "}:models:events", registry.EventsChannel);
        Assert.Throws<ArgumentException>(() => new RedisModelRegistry(_connection, "a{b}"));
    }

    [Fact]
    public async Task SetActive_PublishesTheNewPointerWithItsSurvey()
    {
        var registry = (RedisModelRegistry)CreateRegistry();
        var received = new TaskCompletionSource<RegistryEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await registry.SubscribeAsync(a => received.TrySetResult(a));
        var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));

        await registry.SetActiveAsync("lsst", null, v1, Record("promote", null, v1));

        var notified = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(PointerRoles.Active, notified.Kind);
        Assert.Equal("lsst", notified.Survey);
        Assert.Equal(v1.Ref, notified.Pointer!.Ref);
        Assert.Equal(v1.Sha256, notified.Pointer.Sha256);
    }
}

/// <summary>
/// The contract on a three-master Redis Cluster (every script touches several registry keys: they share the
/// <c>{prefix}</c> hash tag), and notifications reaching subscribers on other masters.
/// </summary>
public sealed class ClusterRedisRegistryTests(RedisClusterFixture redis) : RedisRegistryTestsBase(redis), IClassFixture<RedisClusterFixture>
{
    [Fact]
    public async Task SetActive_SubscriberConnectedToAnotherMaster_ReceivesTheNotification()
    {
        var cluster = (RedisClusterFixture)_redis;
        var registry = (RedisModelRegistry)CreateRegistry();
        var owner = await cluster.MasterOfAsync("{" + registry.Prefix + "}:models:active");
        var elsewhere = cluster.NodePorts.Where(p => p != owner).ToList();
        Assert.Equal(RedisClusterFixture.Masters - 1, elsewhere.Count);

        // Plain RESP subscribers, each bound to one master that does not hold the registry's slot.
        var subscribers = new List<RawSubscriber>();
        foreach (var port in elsewhere)
        {
            subscribers.Add(await RawSubscriber.StartAsync(port, registry.EventsChannel));
        }

        try
        {
            var v1 = Active(await registry.PushAsync(TestPackages.Valid("m", "1"), "a"));
            await registry.SetActiveAsync("ztf", null, v1, Record("promote", null, v1));
            foreach (var s in subscribers)
            {
                var message = await s.NextMessageAsync(TimeSpan.FromSeconds(10));
                Assert.Contains(v1.Sha256, message, StringComparison.Ordinal);
            }

            var v2 = Active(await registry.PushAsync(TestPackages.Valid("m", "2", 2), "a"));
            await registry.SetActiveAsync("ztf", v1, v2, Record("promote", v1, v2));
            await registry.RollbackAsync("ztf", v2, Record("rollback", v2, v1));
            foreach (var s in subscribers)
            {
                Assert.Contains(v2.Sha256, await s.NextMessageAsync(TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
                Assert.Contains(v1.Sha256, await s.NextMessageAsync(TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
            }
        }
        finally
        {
            foreach (var s in subscribers)
            {
                s.Dispose();
            }
        }
    }

    /// <summary>A subscriber speaking RESP over one TCP connection to one node, so the test decides which node it is on.</summary>
    private sealed class RawSubscriber : IDisposable
    {
        private readonly System.Net.Sockets.TcpClient _client;
        private readonly StreamReader _reader;

        private RawSubscriber(System.Net.Sockets.TcpClient client)
        {
            _client = client;
            _reader = new StreamReader(client.GetStream(), System.Text.Encoding.UTF8);
        }

        public static async Task<RawSubscriber> StartAsync(int port, string channel)
        {
            var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            var request = $"*2\r\n$9\r\nSUBSCRIBE\r\n${System.Text.Encoding.UTF8.GetByteCount(channel)}\r\n{channel}\r\n";
            await client.GetStream().WriteAsync(System.Text.Encoding.UTF8.GetBytes(request));
            var subscriber = new RawSubscriber(client);

            // *3 $9 subscribe $n channel :1
            var confirmation = await subscriber.ReadArrayAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("subscribe", confirmation[0]);
            return subscriber;
        }

        /// <summary>The payload of the next <c>message</c>.</summary>
        public async Task<string> NextMessageAsync(TimeSpan timeout)
        {
            var push = await ReadArrayAsync(timeout);
            Assert.Equal("message", push[0]);
            return push[2];
        }

        public void Dispose()
        {
            _reader.Dispose();
            _client.Dispose();
        }

        private async Task<List<string>> ReadArrayAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            var header = await _reader.ReadLineAsync(cts.Token) ?? throw new IOException("connection closed");
            Assert.StartsWith("*", header, StringComparison.Ordinal);
            var items = new List<string>();
            for (var i = 0; i < int.Parse(header[1..], System.Globalization.CultureInfo.InvariantCulture); i++)
            {
                var line = await _reader.ReadLineAsync(cts.Token) ?? throw new IOException("connection closed");
                items.Add(line.StartsWith('$') ? await _reader.ReadLineAsync(cts.Token) ?? string.Empty : line[1..]);
            }

            return items;
        }
    }
}
