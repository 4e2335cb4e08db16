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
        Assert.Equal("cli-gru@2", (await registry.GetActiveAsync())!.Ref.ToString());

        Assert.Equal(0, await RegistryCommands.Rollback(registry, "testing", CancellationToken.None));
        Assert.Equal("cli-gru@1", (await registry.GetActiveAsync())!.Ref.ToString());
        Assert.Equal(0, await RegistryCommands.Status(registry, CancellationToken.None));
        Assert.Equal(0, await RegistryCommands.List(registry, CancellationToken.None));

        // Promoting an unknown version fails with exit code 1 and leaves the pointer alone.
        Assert.Equal(1, await RegistryCommands.Promote(registry, ModelRef.Parse("cli-gru@9"), new PromotionOptions(), CancellationToken.None));
        Assert.Equal("cli-gru@1", (await registry.GetActiveAsync())!.Ref.ToString());
    }

    private string Export(string version, int seed) =>
        TestModelPackages.Export(Path.Combine(_root, "export", version), "cli-gru", version, seed, classes: ["a", "b", "c"]);
}
