using AlertBroker.Model.Onnx.Native;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// The process-wide ONNX Runtime: the native library, its API table and the one <c>OrtEnv</c> every session shares.
/// Loaded on first use. Lookup order: <see cref="LibraryPath"/>, the <c>ALERTBROKER_ONNXRUNTIME_PATH</c> environment
/// variable (a file or a folder), the application folder, a <c>.native/onnxruntime</c> folder in the application folder
/// or any parent (a repository checkout), then the system loader.
/// </summary>
public static class OnnxRuntime
{
    private static readonly Lock s_lock = new();
    private static string? s_libraryPath;
    private static Loaded? s_loaded;
    private static Exception? s_failure;

    /// <summary>An explicit library path (file or folder), tried first. Set it before the first session is created.</summary>
    public static string? LibraryPath
    {
        get => s_libraryPath;
        set
        {
            lock (s_lock)
            {
                if (s_loaded is not null)
                {
                    throw new InvalidOperationException($"ONNX Runtime is already loaded from {s_loaded.Library.Location}; set LibraryPath before first use.");
                }

                s_libraryPath = value;
                s_failure = null;
            }
        }
    }

    /// <summary>True when the native library can be loaded (loading it if needed).</summary>
    public static bool IsAvailable => TryInitialize(out _);

    /// <summary>The version string the loaded library reports, e.g. "1.30.0".</summary>
    public static string Version => Get().Library.Version;

    /// <summary>The path or name the library was loaded from.</summary>
    public static string LibraryLocation => Get().Library.Location;

    internal static OrtApi Api => Get().Api;

    internal static OrtEnvHandle Env => Get().Env;

    internal static OrtMemoryInfoHandle CpuMemoryInfo => Get().CpuMemoryInfo;

    /// <summary>Loads the library and creates the environment, or throws <see cref="OnnxRuntimeNotFoundException"/> / <see cref="OnnxRuntimeException"/>.</summary>
    public static void EnsureInitialized() => Get();

    /// <summary>Loads the library if possible; on failure returns false and the reason.</summary>
    public static bool TryInitialize(out string? error)
    {
        try
        {
            Get();
            error = null;
            return true;
        }
        catch (Exception e) when (e is OnnxRuntimeNotFoundException or OnnxRuntimeException)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>The execution providers this build was compiled with (a listed provider may still fail to load its dependencies).</summary>
    public static IReadOnlyList<string> GetAvailableProviders() => Api.GetAvailableProviders();

    private static Loaded Get()
    {
        var loaded = Volatile.Read(ref s_loaded);
        if (loaded is not null)
        {
            return loaded;
        }

        lock (s_lock)
        {
            if (s_loaded is not null)
            {
                return s_loaded;
            }

            // A failed lookup is remembered so that every call does not walk the file system again;
            // setting LibraryPath clears it.
            if (s_failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(s_failure);
            }

            try
            {
                var candidates = OrtLibraryLoader.BuildCandidates(
                    s_libraryPath,
                    Environment.GetEnvironmentVariable(OrtLibraryLoader.EnvironmentVariable),
                    AppContext.BaseDirectory);
                var library = OrtLibraryLoader.Load(candidates);
                var api = new OrtApi(library.ApiTable);
                // ORT_LOGGING_LEVEL_ERROR: warnings (e.g. unused initializers) would otherwise go to stderr on every load.
                var env = new OrtEnvHandle(api.CreateEnv(3, "AlertBroker"));
                var memoryInfo = new OrtMemoryInfoHandle(api.CreateCpuMemoryInfo());
                s_loaded = new Loaded(library, api, env, memoryInfo);
                return s_loaded;
            }
            catch (Exception e) when (e is OnnxRuntimeNotFoundException or OnnxRuntimeException)
            {
                s_failure = e;
                throw;
            }
        }
    }

    private sealed record Loaded(OrtLoadedLibrary Library, OrtApi Api, OrtEnvHandle Env, OrtMemoryInfoHandle CpuMemoryInfo);
}
