using AlertBroker.Cli.Training;

namespace AlertBroker.Cli.Tests;

/// <summary>train and finetune write their package through <see cref="StagedPackage"/>: whole or not at all.</summary>
public sealed class StagedPackageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-staged-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Target => Path.Combine(_root, "models", "m", "1.0.0");

    [Fact]
    public void Write_Succeeds_TargetHoldsEveryFileAndNoStagingIsLeft()
    {
        var result = StagedPackage.Write(Target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "model.onnx"), "onnx");
            File.WriteAllText(Path.Combine(dir, "model.json"), "{}");
            return 7;
        });

        Assert.Equal(7, result);
        Assert.Equal(["model.json", "model.onnx"], Directory.GetFiles(Target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    [Fact]
    public void Write_FailsOrIsStoppedAfterTheOnnxFile_NoTargetAndNoStagingIsLeft()
    {
        foreach (var failure in new Exception[] { new IOException("disk full"), new OperationCanceledException() })
        {
            var thrown = Assert.Throws(failure.GetType(), () => StagedPackage.Write<int>(Target, dir =>
            {
                File.WriteAllText(Path.Combine(dir, "model.onnx"), "onnx");
                throw failure;
            }));

            Assert.Same(failure, thrown);
            Assert.False(Directory.Exists(Target));
            Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
        }
    }

    [Fact]
    public void Write_FailsOverAnExistingPackage_TheOldPackageIsUntouched()
    {
        Directory.CreateDirectory(Target);
        File.WriteAllText(Path.Combine(Target, "model.onnx"), "old onnx");
        File.WriteAllText(Path.Combine(Target, "model.json"), "old json");

        Assert.Throws<IOException>(() => StagedPackage.Write<int>(Target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "model.onnx"), "new onnx");
            throw new IOException("disk full");
        }));

        Assert.Equal("old onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.Equal("old json", File.ReadAllText(Path.Combine(Target, "model.json")));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    [Fact]
    public void Write_OverAnExistingDirectory_ReplacesThePackageFilesAndKeepsOthers()
    {
        Directory.CreateDirectory(Path.Combine(Target, "checkpoints"));
        File.WriteAllText(Path.Combine(Target, "checkpoints", "best.weights"), "w");
        File.WriteAllText(Path.Combine(Target, "model.json"), "old json");

        StagedPackage.Write(Target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "model.onnx"), "new onnx");
            File.WriteAllText(Path.Combine(dir, "model.json"), "new json");
            return 0;
        });

        Assert.Equal("new json", File.ReadAllText(Path.Combine(Target, "model.json")));
        Assert.Equal("new onnx", File.ReadAllText(Path.Combine(Target, "model.onnx")));
        Assert.True(File.Exists(Path.Combine(Target, "checkpoints", "best.weights")));
        Assert.Equal([Target], Directory.GetFileSystemEntries(Path.GetDirectoryName(Target)!));
    }

    // A run killed outright leaves its hidden staging directory; nothing ever removed it, so they piled up beside --out.
    [Fact]
    public void Write_StaleStagingBesideTheTarget_IsRemovedAndAYoungOneAndOtherDirectoriesAreKept()
    {
        var parent = Path.GetDirectoryName(Target)!;
        var stale = Directory.CreateDirectory(Path.Combine(parent, ".0.9.0.staging-aaaa")).FullName;
        File.WriteAllText(Path.Combine(stale, "model.onnx"), "half");
        Directory.SetLastWriteTimeUtc(stale, DateTime.UtcNow - StagedPackage.StaleAfter - TimeSpan.FromHours(1));
        var young = Directory.CreateDirectory(Path.Combine(parent, ".0.9.1.staging-bbbb")).FullName;
        var other = Directory.CreateDirectory(Path.Combine(parent, ".cache")).FullName;
        Directory.SetLastWriteTimeUtc(other, DateTime.UtcNow - TimeSpan.FromDays(30));

        StagedPackage.Write(Target, dir =>
        {
            File.WriteAllText(Path.Combine(dir, "model.json"), "{}");
            return 0;
        });

        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(young));
        Assert.True(Directory.Exists(other));
        Assert.True(File.Exists(Path.Combine(Target, "model.json")));
    }
}
