using System.Runtime.CompilerServices;
using AlertBroker.Model.Onnx;
using AlertBroker.Worker.Scoring;

namespace AlertBroker.Worker.Tests;

/// <summary>A fact that needs the native ONNX Runtime (every scoring test does); skipped with the loader's reason when absent.</summary>
public sealed class OnnxFactAttribute : FactAttribute
{
    public OnnxFactAttribute()
    {
        if (!TestModels.OnnxRuntimeAvailable(out var reason))
        {
            Skip = reason;
        }
    }
}

/// <summary>Random-weight models exported once per test run (small hidden size keeps the tests quick).</summary>
internal static class TestModels
{
    private static readonly Lazy<ActiveModel> s_a = new(() => Create(1));
    private static readonly Lazy<ActiveModel> s_b = new(() => Create(2));

    public static ActiveModel A => s_a.Value;

    public static ActiveModel B => s_b.Value;

    public static bool OnnxRuntimeAvailable(out string? reason)
    {
        if (Environment.GetEnvironmentVariable("ALERTBROKER_ONNXRUNTIME_PATH") is null && OnnxRuntime.LibraryPath is null && !OnnxRuntime.TryInitialize(out _))
        {
            var library = FindLibrary(SourceDirectory());
            if (library is not null)
            {
                OnnxRuntime.LibraryPath = library;
            }
        }

        if (OnnxRuntime.TryInitialize(out var error))
        {
            reason = null;
            return true;
        }

        reason = "ONNX Runtime native library not available (run eng/setup.sh): " + error;
        return false;
    }

    private static ActiveModel Create(int seed)
    {
        OnnxRuntimeAvailable(out _);
        var dir = Path.Combine(Path.GetTempPath(), "ab-worker-tests-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ActiveModel.CreateRandom(dir, ["A", "B", "C", "D"], seed, hiddenSize: 16);
    }

    private static string? FindLibrary(string? start)
    {
        for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, ".native", "onnxruntime", "libonnxruntime.so.1");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    private static string? SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path);
}
