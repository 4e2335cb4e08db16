using System.Runtime.CompilerServices;
using AlertBroker.Model.Onnx;

namespace AlertBroker.Model.Tests;

/// <summary>A fact that needs the native ONNX Runtime; skipped, with the loader's report, when it cannot be found.</summary>
public sealed class OnnxRuntimeFactAttribute : FactAttribute
{
    public OnnxRuntimeFactAttribute()
    {
        if (!TestEnvironment.OnnxRuntimeAvailable(out var reason))
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs the native ONNX Runtime; skipped when it cannot be found.</summary>
public sealed class OnnxRuntimeTheoryAttribute : TheoryAttribute
{
    public OnnxRuntimeTheoryAttribute()
    {
        if (!TestEnvironment.OnnxRuntimeAvailable(out var reason))
        {
            Skip = reason;
        }
    }
}

internal static class TestEnvironment
{
    private static readonly Lazy<string?> s_repositoryLibrary = new(FindRepositoryLibrary);

    /// <summary>
    /// Tests build into an artifacts folder outside the checkout (e.g. /tmp/art-model), so the loader's walk up from
    /// the application folder cannot reach the checkout's .native folder. The source file's own path can: point the
    /// runtime there unless the environment variable already says where to look.
    /// </summary>
    public static bool OnnxRuntimeAvailable(out string? reason)
    {
        var library = s_repositoryLibrary.Value;
        if (library is not null
            && Environment.GetEnvironmentVariable("ALERTBROKER_ONNXRUNTIME_PATH") is null
            && OnnxRuntime.LibraryPath is null
            && !OnnxRuntime.TryInitialize(out _))
        {
            OnnxRuntime.LibraryPath = library;
        }

        if (OnnxRuntime.TryInitialize(out var error))
        {
            reason = null;
            return true;
        }

        reason = "ONNX Runtime native library not available (run eng/setup.sh or set ALERTBROKER_ONNXRUNTIME_PATH): " + error;
        return false;
    }

    public static string? RepositoryLibrary => s_repositoryLibrary.Value;

    private static string? FindRepositoryLibrary() => FindFrom(SourceDirectory());

    private static string? FindFrom(string? start)
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
