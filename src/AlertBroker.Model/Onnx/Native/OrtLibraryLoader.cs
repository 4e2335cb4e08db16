using System.Runtime.InteropServices;

namespace AlertBroker.Model.Onnx.Native;

// One place the loader tries: a file path, or a bare name handed to the system loader.
// Source: Where the candidate came from, for the error report.
// Target: A file path, or a library name when IsPath is false.
// IsPath: True for a file path, false for a name the system loader resolves.
// KnownFailure: Set when the step already failed while building the list (nothing to load).
internal sealed record OrtLibraryCandidate(string Source, string Target, bool IsPath, string? KnownFailure = null);

// A loaded ONNX Runtime library and its API table.
internal sealed record OrtLoadedLibrary(nint Handle, string Location, nint ApiTable, string Version);

// Finds and loads the native ONNX Runtime library in a fixed, documented order.
internal static unsafe class OrtLibraryLoader
{
    internal const string EnvironmentVariable = "ALERTBROKER_ONNXRUNTIME_PATH";

    // The repository-relative folder that eng/setup.sh installs the library into.
    internal const string RepositoryNativeFolder = ".native/onnxruntime";

    // File names tried in a folder, most specific first.
    internal static string[] LibraryFileNames { get; } =
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    // The candidates in lookup order: configured path, environment variable, the application folder,
    // a .native/onnxruntime folder in the application folder or any parent (a repository checkout),
    // then the system loader.
    internal static List<OrtLibraryCandidate> BuildCandidates(string? configuredPath, string? environmentValue, string baseDirectory)
    {
        var candidates = new List<OrtLibraryCandidate>();
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            candidates.Add(new("configured path (OnnxRuntime.LibraryPath)", ResolveFileOrFolder(configuredPath), IsPath: true));
        }

        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            candidates.Add(new($"environment variable {EnvironmentVariable}", ResolveFileOrFolder(environmentValue), IsPath: true));
        }

        foreach (var name in LibraryFileNames)
        {
            candidates.Add(new("application folder", Path.Combine(baseDirectory, name), IsPath: true));
        }

        var walked = new List<string>();
        string? found = null;
        for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, RepositoryNativeFolder, LibraryFileNames[0]);
            walked.Add(dir.FullName);
            if (File.Exists(path))
            {
                found = path;
                break;
            }
        }

        candidates.Add(found is not null
            ? new OrtLibraryCandidate("repository checkout (.native/onnxruntime)", found, IsPath: true)
            : new OrtLibraryCandidate(
                "repository checkout (.native/onnxruntime)",
                Path.Combine(RepositoryNativeFolder, LibraryFileNames[0]),
                IsPath: true,
                KnownFailure: $"not found in {walked.Count} folders from {baseDirectory} up to the file-system root"));

        foreach (var name in LibraryFileNames)
        {
            candidates.Add(new("system loader", name, IsPath: false));
        }

        return candidates;
    }

    // Loads the first candidate that is a usable ONNX Runtime; otherwise one exception listing every attempt.
    internal static OrtLoadedLibrary Load(IReadOnlyList<OrtLibraryCandidate> candidates)
    {
        var attempts = new List<string>(candidates.Count);
        foreach (var candidate in candidates)
        {
            var failure = TryLoad(candidate, out var loaded);
            if (failure is null)
            {
                return loaded!;
            }

            attempts.Add($"{candidate.Source}: {candidate.Target} — {failure}");
        }

        throw new OnnxRuntimeNotFoundException(attempts);
    }

    private static string ResolveFileOrFolder(string value)
    {
        if (!Directory.Exists(value))
        {
            return value;
        }

        foreach (var name in LibraryFileNames)
        {
            var path = Path.Combine(value, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return Path.Combine(value, LibraryFileNames[0]);
    }

    private static string? TryLoad(OrtLibraryCandidate candidate, out OrtLoadedLibrary? loaded)
    {
        loaded = null;
        if (candidate.KnownFailure is not null)
        {
            return candidate.KnownFailure;
        }

        if (candidate.IsPath && !File.Exists(candidate.Target))
        {
            return "file does not exist";
        }

        nint handle;
        try
        {
            handle = NativeLibrary.Load(candidate.Target);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            return OneLine(e.Message);
        }

        if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out var getApiBase))
        {
            NativeLibrary.Free(handle);
            return "loaded, but it exports no OrtGetApiBase (not an ONNX Runtime library)";
        }

        var apiBase = (void**)((delegate* unmanaged[Cdecl]<nint>)getApiBase)();
        if (apiBase is null)
        {
            NativeLibrary.Free(handle);
            return "OrtGetApiBase returned null";
        }

        var getApi = (delegate* unmanaged[Cdecl]<uint, nint>)apiBase[0];
        var getVersion = (delegate* unmanaged[Cdecl]<byte*>)apiBase[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersion()) ?? "unknown";
        var table = getApi(OrtApi.RequestedApiVersion);
        if (table == 0)
        {
            NativeLibrary.Free(handle);
            return $"ONNX Runtime {version} does not offer C API version {OrtApi.RequestedApiVersion}";
        }

        loaded = new OrtLoadedLibrary(handle, candidate.Target, table, version);
        return null;
    }

    // The runtime's loader messages span several lines (and suggest strace); one line per attempt reads better.
    private static string OneLine(string message) =>
        string.Join(' ', message.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
