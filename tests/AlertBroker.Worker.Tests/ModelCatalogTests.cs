using AlertBroker.Worker.Scoring;

namespace AlertBroker.Worker.Tests;

/// <summary><see cref="ModelCatalog.Scan"/>: which directories under the model search directory count as packages.</summary>
public sealed class ModelCatalogTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-catalog-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // A train or finetune killed between writing model.json into its hidden staging directory and moving it into place
    // left .VERSION.staging-… holding a package; Scan took it for one, and as the newest the worker picked it.
    [Fact]
    public void Scan_PackageInAHiddenStagingDirectory_IsNotAPackage()
    {
        var real = Path.Combine(_root, "m", "1.0.0");
        var staged = Path.Combine(_root, "m", ".2.0.0.staging-0123456789abcdef");
        using (ActiveModel.CreateRandom(real, seed: 1, hiddenSize: 8, name: "m"))
        {
        }

        Thread.Sleep(20); // createdUtc: the staged one is the newer
        using (ActiveModel.CreateRandom(staged, seed: 2, hiddenSize: 8, name: "m"))
        {
        }

        var packages = ModelCatalog.Scan(_root);

        Assert.Equal([real], packages.Select(p => p.Directory));
    }
}
