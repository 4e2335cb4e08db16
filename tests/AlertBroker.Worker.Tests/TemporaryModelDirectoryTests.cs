using AlertBroker.Worker.Scoring;

namespace AlertBroker.Worker.Tests;

/// <summary>The random-weight model directories of processes that no longer run are removed; nothing else is.</summary>
public sealed class TemporaryModelDirectoryTests : IDisposable
{
    private readonly string _parent = Directory.CreateTempSubdirectory("ab-temp-models-").FullName;

    public void Dispose() => Directory.Delete(_parent, recursive: true);

    [Fact]
    public void RemoveLeftovers_OnlyDirectoriesOfProcessesNoLongerRunning()
    {
        // PID 1 always runs; no PID is above the kernel's maximum (4194304).
        var gone = Make("alertbroker-random-model-4194305");
        var running = Make("alertbroker-random-model-1");
        var ours = Make("alertbroker-random-model-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var notAPid = Make("alertbroker-random-model-abc");
        var otherPrefix = Make("alertbroker-demo-random-model-4194305");

        var removed = TemporaryModelDirectory.RemoveLeftovers(_parent, "alertbroker-random-model");

        Assert.Equal(1, removed);
        Assert.False(Directory.Exists(gone));
        Assert.True(Directory.Exists(running));
        Assert.True(Directory.Exists(ours));
        Assert.True(Directory.Exists(notAPid));
        Assert.True(Directory.Exists(otherPrefix));
    }

    private string Make(string name)
    {
        var directory = Path.Combine(_parent, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "model.json"), "{}");
        return directory;
    }
}
