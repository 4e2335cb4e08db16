using System.Reflection;
using Ort = Microsoft.ML.OnnxRuntime;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// The process-wide ONNX Runtime of the NuGet package this assembly was built with (<see cref="Flavour"/>): its native
/// library ships beside the program (<c>libonnxruntime.so</c>, copied from the package's <c>runtimes/linux-x64/native</c>),
/// so nothing is looked up or configured. Initialised on first use; the runtime logs only fatal errors, since every error
/// reaches the caller as an <see cref="OnnxRuntimeException"/>, and its own usage telemetry is off (<see cref="OnnxTelemetry"/>).
/// </summary>
public static class OnnxRuntime
{
    private static readonly Lock s_lock = new();
    private static Loaded? s_loaded;
    private static OnnxRuntimeNotFoundException? s_failure;

    /// <summary><c>Cpu</c> (package Microsoft.ML.OnnxRuntime) or <c>Gpu</c> (Microsoft.ML.OnnxRuntime.Gpu, built with <c>-p:OnnxRuntimeFlavour=Gpu</c>).</summary>
    public static string Flavour { get; } =
        typeof(OnnxRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "OnnxRuntimeFlavour")?.Value ?? "Cpu";

    /// <summary>True when this build carries the CUDA-enabled runtime (which still needs CUDA 13 and cuDNN 9 on the host to use CUDA).</summary>
    public static bool IsGpuBuild => string.Equals(Flavour, "Gpu", StringComparison.OrdinalIgnoreCase);

    /// <summary>The NuGet package the native library comes from.</summary>
    public static string PackageName => IsGpuBuild ? "Microsoft.ML.OnnxRuntime.Gpu" : "Microsoft.ML.OnnxRuntime";

    /// <summary>True when the native library loads (loading it if needed).</summary>
    public static bool IsAvailable => TryInitialize(out _);

    /// <summary>The version the loaded native library reports, e.g. "1.31.1".</summary>
    public static string Version => Get().Version;

    /// <summary>The file the native library was loaded from (read from the process's memory map), or null where that cannot be read.</summary>
    public static string? LibraryLocation => Get().Location;

    /// <summary>Loads the native library and creates the environment, or throws <see cref="OnnxRuntimeNotFoundException"/>.</summary>
    public static void EnsureInitialized() => Get();

    /// <summary>Loads the native library if possible; on failure returns false and the reason.</summary>
    public static bool TryInitialize(out string? error)
    {
        try
        {
            Get();
            error = null;
            return true;
        }
        catch (OnnxRuntimeNotFoundException e)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>
    /// The execution providers the library was compiled with. A listed provider may still be unusable: the GPU build lists
    /// CUDA on a host without CUDA; only creating a session with it (<see cref="OnnxSessionOptions.UseCuda"/>) tells.
    /// </summary>
    public static IReadOnlyList<string> GetAvailableProviders() => Get().Env.GetAvailableProviders();

    internal static Ort.OrtEnv Env => Get().Env;

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

            // A failed load is remembered: the package's native bindings cannot be initialised a second time anyway.
            if (s_failure is not null)
            {
                throw s_failure;
            }

            // A truncated copy of the library (an interrupted copy or publish) would be mapped by the dynamic loader and crash
            // the process with SIGBUS on first touch: refuse it before it is loaded.
            if (TruncatedLibrary() is { } truncated)
            {
                s_failure = new OnnxRuntimeNotFoundException(
                    $"the ONNX Runtime native library {truncated} is truncated or damaged and was not loaded — the program's folder is incomplete; rebuild or republish it (dotnet publish src/AlertBroker.Cli -c Release -o DIR)",
                    null);
                throw s_failure;
            }

            try
            {
                // Before the first environment: the runtime reads the variable when it creates one (OnnxTelemetry).
                OnnxTelemetry.TurnOff();
                var env = Ort.OrtEnv.Instance();
                env.EnvLogLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
                if (OnnxTelemetry.SetByUs)
                {
                    env.DisableTelemetryEvents();
                }

                s_loaded = new Loaded(env, env.GetVersionString(), FindLoadedLibrary());
                return s_loaded;
            }
            catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
            {
                var root = e;
                while (root.InnerException is not null)
                {
                    root = root.InnerException;
                }

                s_failure = new OnnxRuntimeNotFoundException(
                    $"the ONNX Runtime native library (libonnxruntime.so from the {PackageName} package) could not be loaded for {AppContext.BaseDirectory}: "
                    + OnnxErrors.OneLine(root.Message)
                    + " — the program's folder is incomplete or built for another platform; rebuild or republish it (dotnet publish src/AlertBroker.Cli -c Release -o DIR)",
                    e);
                throw s_failure;
            }
        }
    }

    // The library files the loader would take (beside the program, or in the portable runtimes/ layout) whose ELF headers
    // point past the end of the file: "path (N bytes; its headers need M)", or null when every candidate is whole.
    private static string? TruncatedLibrary()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        foreach (var path in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so"),
                     Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime.so"),
                 })
        {
            try
            {
                if (File.Exists(path) && ElfExtent(path) is { } extent && extent.Needed > extent.Length)
                {
                    return $"{path} ({extent.Length} bytes; its ELF headers need {extent.Needed})";
                }
            }
            catch (IOException)
            {
                // Unreadable: let the loader report it.
            }
        }

        return null;
    }

    // For a 64-bit little-endian ELF file: its length, and the end of the furthest program segment or section header table
    // it declares. Null for anything else (the loader rejects non-ELF files with an error instead of a crash).
    private static (long Length, long Needed)? ElfExtent(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> header = stackalloc byte[64];
        if (file.Read(header) < 64 || header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2 || header[5] != 1)
        {
            return null;
        }

        var phoff = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(header[32..]);
        var shoff = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(header[40..]);
        int phentsize = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header[54..]);
        int phnum = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header[56..]);
        int shentsize = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header[58..]);
        int shnum = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header[60..]);
        var length = file.Length;
        var needed = Math.Max(phoff + ((long)phentsize * phnum), shoff + ((long)shentsize * shnum));
        if (phoff <= 0 || phentsize < 56 || phoff + ((long)phentsize * phnum) > length)
        {
            return (length, needed);
        }

        var entry = new byte[phentsize];
        for (var i = 0; i < phnum; i++)
        {
            file.Position = phoff + ((long)i * phentsize);
            file.ReadExactly(entry);
            var offset = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(entry.AsSpan(8));
            var size = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(entry.AsSpan(32));
            needed = Math.Max(needed, offset + size);
        }

        return (length, needed);
    }

    // Which file the dynamic loader mapped: the proof that the library beside the program (not some other copy) is in use.
    private static string? FindLoadedLibrary()
    {
        const string maps = "/proc/self/maps";
        if (!OperatingSystem.IsLinux() || !File.Exists(maps))
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines(maps))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && (line.EndsWith("/libonnxruntime.so", StringComparison.Ordinal) || line.Contains("/libonnxruntime.so.", StringComparison.Ordinal)))
                {
                    return line[slash..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    private sealed record Loaded(Ort.OrtEnv Env, string Version, string? Location);
}
