using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace AlertBroker.Worker.Kafka;

/// <summary>librdkafka could not be loaded from the application's own files.</summary>
public sealed class KafkaNativeLibraryException : Exception
{
    public KafkaNativeLibraryException()
    {
    }

    public KafkaNativeLibraryException(string message)
        : base(message)
    {
    }

    public KafkaNativeLibraryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Makes Confluent.Kafka use the librdkafka that ships in the librdkafka.redist package beside the application, and never a
/// system one. Left to itself, .NET resolves Confluent's <c>[DllImport("librdkafka")]</c> by trying the package's
/// <c>runtimes/linux-x64/native/librdkafka.so</c> (which needs <c>libsasl2.so.3</c>, absent on Debian 12) and then the
/// system's <c>librdkafka.so</c> (Debian's <c>librdkafka-dev</c> 2.0.2): Confluent.Kafka 2.x against 2.0.2 fails later, on
/// <c>Consume</c>. <c>Library.Load(path)</c> is no cure either: on Linux it opens the file but still binds its calls through
/// the <c>librdkafka</c> import name (so to the system library when one is installed), and it needs an unversioned
/// <c>libdl.so</c> that glibc 2.34+ systems lack. Here a <see cref="NativeLibrary.SetDllImportResolver"/> on Confluent.Kafka's
/// assembly answers every librdkafka import with one file: <c>centos8-librdkafka.so</c> on linux-x64 (glibc only, no
/// SASL/GSSAPI library), found in the application's folder (RID-specific build or publish) or under
/// <c>runtimes/&lt;rid&gt;/native/</c> (portable layout). After loading, the version is checked (≥ 2.16) and, on Linux, the
/// process's memory map is checked to hold no other librdkafka.
/// </summary>
public static class KafkaNativeLibrary
{
    /// <summary>The oldest librdkafka accepted: 2.16.0 (<c>rd_kafka_version()</c> encoding 0xMMmmrrxx).</summary>
    public const int MinimumVersion = 0x021000ff;

    private static readonly Lock s_lock = new();
    private static IntPtr s_handle;
    private static volatile string? s_path;
    private static volatile string? s_version;

    /// <summary>The file loaded (null before <see cref="Load"/>, or where the platform's default loading is used).</summary>
    public static string? LoadedPath => s_path;

    /// <summary><c>Library.VersionString</c> of the loaded library, or null before <see cref="Load"/> succeeded.</summary>
    public static string? LoadedVersion => s_version;

    /// <summary>
    /// Loads the package's librdkafka (idempotent, thread-safe) and returns its version string. Call it before any other
    /// Confluent.Kafka use in the process; <see cref="MockKafkaCluster"/>, <see cref="KafkaAlertWorker"/> and the CLI do.
    /// </summary>
    /// <exception cref="KafkaNativeLibraryException">The file is missing or does not load, or another librdkafka is already loaded.</exception>
    public static string Load()
    {
        if (s_version is { } done)
        {
            return done;
        }

        lock (s_lock)
        {
            if (s_version is { } v)
            {
                return v;
            }

            if (OperatingSystem.IsLinux() && s_path is null)
            {
                LoadPackaged();
            }

            try
            {
                Library.Load();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or FileLoadException or BadImageFormatException)
            {
                throw new KafkaNativeLibraryException("Confluent.Kafka could not initialise librdkafka" + (s_path is null ? string.Empty : " from " + s_path) + ": " + e.Message, e);
            }

            var version = Library.Version;
            if (version < MinimumVersion)
            {
                throw new KafkaNativeLibraryException(string.Create(CultureInfo.InvariantCulture, $"librdkafka {Library.VersionString} is loaded (from {DescribeMapped()}); AlertBroker needs 2.16.0 or newer from the librdkafka.redist package"));
            }

            if (s_path is { } own)
            {
                var foreign = MappedFiles().Where(f => !SameFile(f, own)).ToList();
                if (foreign.Count > 0)
                {
                    throw new KafkaNativeLibraryException($"another librdkafka is loaded in this process ({string.Join(", ", foreign)}) besides the application's own {own}: something used Confluent.Kafka before KafkaNativeLibrary.Load()");
                }
            }

            s_version = Library.VersionString;
            return s_version;
        }
    }

    /// <summary>The address of a librdkafka function in the loaded library (for the mock cluster's test controls).</summary>
    /// <exception cref="KafkaNativeLibraryException">not loaded through this loader, or no such export.</exception>
    internal static IntPtr GetExport(string name)
    {
        Load();
        if (s_handle == IntPtr.Zero || !NativeLibrary.TryGetExport(s_handle, name, out var address))
        {
            throw new KafkaNativeLibraryException($"librdkafka function {name} is not available" + (s_path is null ? " (the library was not loaded by path)" : " in " + s_path));
        }

        return address;
    }

    /// <summary>The librdkafka files mapped into this process (Linux; empty elsewhere).</summary>
    public static IReadOnlyList<string> MappedFiles()
    {
        var files = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            return files;
        }

        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                continue;
            }

            var file = line[slash..];
            if (Path.GetFileName(file).Contains("rdkafka", StringComparison.Ordinal) && !files.Contains(file))
            {
                files.Add(file);
            }
        }

        return files;
    }

    /// <summary>Where the library is looked for, in order (the first file that exists and loads wins).</summary>
    public static IReadOnlyList<string> Candidates() => Candidates(
        AppContext.BaseDirectory,
        Path.GetDirectoryName(typeof(Library).Assembly.Location),
        RuntimeEnvironment.GetRuntimeDirectory(),
        AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string,
        RuntimeInformation.ProcessArchitecture,
        RuntimeInformation.RuntimeIdentifier);

    /// <summary>
    /// <see cref="Candidates()"/> for a given layout: the application's folder, Confluent.Kafka's, the .NET runtime's, the
    /// host's native search folders, the process architecture and runtime identifier.
    /// </summary>
    internal static IReadOnlyList<string> Candidates(string baseDirectory, string? assemblyDirectory, string runtimeDirectory, string? nativeSearchDirectories, Architecture architecture, string rid)
    {
        var musl = rid.StartsWith("linux-musl", StringComparison.Ordinal);
        var (ridFolder, fileNames) = architecture switch
        {
            Architecture.X64 when musl => ("linux-x64", new[] { "alpine-librdkafka.so" }),
            Architecture.X64 => ("linux-x64", new[] { "centos8-librdkafka.so" }),
            Architecture.Arm64 when musl => ("linux-arm64", new[] { "alpine-librdkafka.so" }),
            Architecture.Arm64 => ("linux-arm64", new[] { "librdkafka.so" }),
            var other => ("linux-" + other.ToString().ToLowerInvariant(), new[] { "librdkafka.so" }),
        };

        static string Normalise(string dir) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));

        // The shared .NET runtime's folder holds no librdkafka of the application's: it is left out, unless the application is
        // self-contained, where the runtime is the application's own folder (leaving it out there found nothing).
        var runtime = Normalise(runtimeDirectory);
        var excluded = runtime == Normalise(baseDirectory) ? null : runtime;
        var directories = new List<string>();
        void Add(string? dir)
        {
            if (!string.IsNullOrEmpty(dir))
            {
                var full = Normalise(dir);
                if (!directories.Contains(full) && full != excluded)
                {
                    directories.Add(full);
                }
            }
        }

        // RID-specific build or publish output: the natives sit beside the program; portable output: under runtimes/.
        foreach (var root in new[] { baseDirectory, assemblyDirectory })
        {
            Add(root);
            if (!string.IsNullOrEmpty(root))
            {
                Add(Path.Combine(root, "runtimes", ridFolder, "native"));
            }
        }

        // The folders the host resolved the app's native assets to (e.g. the package cache with additional probing paths).
        if (nativeSearchDirectories is not null)
        {
            foreach (var dir in nativeSearchDirectories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                Add(dir);
            }
        }

        var candidates = new List<string>();
        foreach (var dir in directories)
        {
            foreach (var name in fileNames)
            {
                candidates.Add(Path.Combine(dir, name));
            }
        }

        return candidates;
    }

    private static void LoadPackaged()
    {
        var tried = new List<string>();
        foreach (var candidate in Candidates())
        {
            if (!File.Exists(candidate))
            {
                continue;
            }

            try
            {
                s_handle = NativeLibrary.Load(candidate);
                s_path = candidate;
                break;
            }
            catch (DllNotFoundException e)
            {
                tried.Add(candidate + ": " + e.Message);
            }
        }

        if (s_path is null)
        {
            throw new KafkaNativeLibraryException(tried.Count > 0
                ? "the packaged librdkafka does not load: " + string.Join("; ", tried)
                : "the packaged librdkafka was not found (looked for " + string.Join(", ", Candidates()) + "); it comes from the librdkafka.redist NuGet package: build or publish the application with its package references");
        }

        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Library).Assembly, Resolve);
        }
        catch (InvalidOperationException e)
        {
            throw new KafkaNativeLibraryException("Confluent.Kafka's native library resolver is already set elsewhere; cannot make it use " + s_path, e);
        }
    }

    // Confluent.Kafka imports librdkafka under a few names (librdkafka, centos8-librdkafka.so, alpine-librdkafka.so): all
    // get the one library loaded above. Anything else keeps the default resolution.
    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName.Contains("rdkafka", StringComparison.OrdinalIgnoreCase) ? s_handle : IntPtr.Zero;

    private static bool SameFile(string a, string b)
    {
        static string Real(string p)
        {
            try
            {
                return new FileInfo(p).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(p);
            }
            catch (IOException)
            {
                return Path.GetFullPath(p);
            }
        }

        return string.Equals(Real(a), Real(b), StringComparison.Ordinal);
    }

    private static string DescribeMapped()
    {
        var files = MappedFiles();
        return files.Count == 0 ? "an unknown file" : string.Join(", ", files);
    }
}
