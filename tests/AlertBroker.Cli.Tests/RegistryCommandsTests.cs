using AlertBroker.Cli.Commands;
using AlertBroker.Registry;

namespace AlertBroker.Cli.Tests;

public sealed class RegistryCommandsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-registry-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task PushPromoteRollback_ThroughTheCommands_MoveTheActivePointer()
    {
        var registry = new DirectoryModelRegistry(Path.Combine(_root, "registry"));
        var v1 = Export("1", 1);
        var v2 = Export("2", 2);

        Assert.Equal(0, await RegistryCommands.Push(registry, v1, CancellationToken.None));
        Assert.Equal(0, await RegistryCommands.Push(registry, v2, CancellationToken.None));
        Assert.Equal(0, await RegistryCommands.Promote(registry, ModelRef.Parse("cli-gru@1"), new PromotionOptions(), CancellationToken.None));
        Assert.Equal(0, await RegistryCommands.Promote(registry, ModelRef.Parse("cli-gru@2"), new PromotionOptions(), CancellationToken.None));
        Assert.Equal("cli-gru@2", (await registry.GetActiveAsync("ztf"))!.Ref.ToString());

        Assert.Equal(0, await RegistryCommands.Rollback(registry, null, "testing", CancellationToken.None));
        Assert.Equal("cli-gru@1", (await registry.GetActiveAsync("ztf"))!.Ref.ToString());
        Assert.Equal(0, await RegistryCommands.Status(registry, CancellationToken.None));
        Assert.Equal(0, await RegistryCommands.List(registry, CancellationToken.None));

        // Promoting an unknown version fails with exit code 1 and leaves the pointer alone.
        Assert.Equal(1, await RegistryCommands.Promote(registry, ModelRef.Parse("cli-gru@9"), new PromotionOptions(), CancellationToken.None));
        Assert.Equal("cli-gru@1", (await registry.GetActiveAsync("ztf"))!.Ref.ToString());
    }

    [Fact]
    public async Task PerSurveyPromoteShadowMetadataRollback_FromTheCommandLine_MoveOnlyTheNamedSurveysPointers()
    {
        var registry = Path.Combine(_root, "registry");
        var ztf = Export("1", 1);
        var lsst1 = Export("1", 2, name: "cli-lsst", surveys: ["lsst"]);
        var lsst2 = Export("2", 3, name: "cli-lsst", surveys: ["lsst"]);
        var meta = Export("1", 4, name: "cli-meta", surveys: ["ztf"], metadata: true);
        foreach (var dir in new[] { ztf, lsst1, lsst2, meta })
        {
            Assert.Equal(0, await RunAsync(["models", "push", dir, "--registry", registry]));
        }

        Assert.Equal(0, await RunAsync(["models", "promote", "cli-gru@1", "--registry", registry]));
        Assert.Equal(0, await RunAsync(["models", "promote", "cli-lsst@1", "--survey", "lsst", "--registry", registry]));
        Assert.Equal(0, await RunAsync(["models", "promote", "cli-lsst@2", "--registry", registry]));
        var r = new DirectoryModelRegistry(registry);
        Assert.Equal("cli-gru@1", (await r.GetActiveAsync("ztf"))!.Ref.ToString());
        Assert.Equal("cli-lsst@2", (await r.GetActiveAsync("lsst"))!.Ref.ToString());

        // A survey the model does not declare: refused as a usage error (exit 2) unless forced.
        Assert.Equal(2, await RunAsync(["models", "promote", "cli-lsst@1", "--survey", "ztf", "--registry", registry]));
        Assert.Equal("cli-gru@1", (await r.GetActiveAsync("ztf"))!.Ref.ToString());

        // The metadata gate: refused while no source is declared for ztf, promoted once one is.
        Assert.Equal(1, await RunAsync(["models", "promote", "cli-meta@1", "--registry", registry]));
        Assert.Equal(0, await RunAsync(["models", "metadata", "set", "--survey", "ztf", "--source", "host-redshift", "--csv", Path.Combine(_root, "z.csv"), "--registry", registry]));
        Assert.Equal(0, await RunAsync(["models", "metadata", "set", "--survey", "ztf", "--source", "mw-ebv", "--redis-hash", "ebv", "--registry", registry]));
        Assert.Equal(0, await RunAsync(["models", "metadata", "list", "--registry", registry]));

        // Replacing a declaration: the audit names what it replaced (it said "(none)").
        Assert.Equal(0, await RunAsync(["models", "metadata", "set", "--survey", "ztf", "--source", "mw-ebv", "--redis-hash", "ebv2", "--registry", registry]));
        var replaced = (await r.GetAuditAsync()).Last(a => a.Action == "metadata-set");
        Assert.Contains("ebv", replaced.From, StringComparison.Ordinal);
        Assert.DoesNotContain("ebv2", replaced.From, StringComparison.Ordinal);
        Assert.Contains("ebv2", replaced.To, StringComparison.Ordinal);
        Assert.Null((await r.GetAuditAsync()).First(a => a.Action == "metadata-set").From);

        // A shadow: set for lsst only; promotion that requires shadowed alerts is refused while none were compared.
        Assert.Equal(0, await RunAsync(["models", "shadow", "cli-lsst@1", "--survey", "lsst", "--registry", registry]));
        Assert.Equal("cli-lsst@1", (await r.GetShadowAsync("lsst"))!.Ref.ToString());
        Assert.Null(await r.GetShadowAsync("ztf"));
        Assert.Equal(1, await RunAsync(["models", "promote", "cli-lsst@1", "--require-shadow", "100", "--registry", registry]));
        Assert.Equal("cli-lsst@2", (await r.GetActiveAsync("lsst"))!.Ref.ToString());
        Assert.Equal(0, await RunAsync(["models", "status", "--json", "--registry", registry]));
        Assert.Equal(0, await RunAsync(["models", "shadow", "--clear", "--survey", "lsst", "--registry", registry]));
        Assert.Null(await r.GetShadowAsync("lsst"));

        Assert.Equal(0, await RunAsync(["models", "promote", "cli-meta@1", "--registry", registry]));
        Assert.Equal("cli-meta@1", (await r.GetActiveAsync("ztf"))!.Ref.ToString());

        // The active model needs the source: removing its declaration is refused (it went through, exit 0, and every worker
        // then refused the active model); lsst's declarations are not ztf's.
        Assert.Equal(1, await RunAsync(["models", "metadata", "remove", "--survey", "ztf", "--source", "mw-ebv", "--registry", registry]));
        Assert.Contains(await r.GetMetadataSourcesAsync(), d => d is { Survey: "ztf", Source: "mw-ebv" });
        Assert.DoesNotContain(await r.GetAuditAsync(), a => a.Action == "metadata-remove");

        // Rollback needs --survey once two surveys have models (a usage error, as for shadow --clear; it was exit 1); it
        // moves only that survey's pointer.
        Assert.Equal(2, await RunAsync(["models", "rollback", "--registry", registry]));
        Assert.Equal(0, await RunAsync(["models", "rollback", "--survey", "lsst", "--registry", registry]));
        Assert.Equal("cli-lsst@1", (await r.GetActiveAsync("lsst"))!.Ref.ToString());
        Assert.Equal("cli-meta@1", (await r.GetActiveAsync("ztf"))!.Ref.ToString());
        Assert.Contains(await r.GetAuditAsync(), a => a.Action == "shadow" && a.Survey == "lsst");
    }

    private static Task<int> RunAsync(string[] args) => AlertBrokerCommand.Create().Parse(args).InvokeAsync();

    private string Export(string version, int seed, string name = "cli-gru", IReadOnlyList<string>? surveys = null, bool metadata = false) =>
        TestModelPackages.Export(Path.Combine(_root, "export", name + version), name, version, seed, classes: ["a", "b", "c"], metadata: metadata, surveys: surveys);
}
