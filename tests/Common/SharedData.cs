namespace AlertBroker.Tests.Common;

/// <summary>
/// The project's shared data (<c>../shared</c> beside the checkout). Tests that need it use
/// <see cref="SharedDataFactAttribute"/> and are skipped, with a message, when it is absent.
/// </summary>
internal static class SharedData
{
    private static readonly Lazy<string?> s_root = new(Locate);

    public static string? Root => s_root.Value;

    public static bool Available => Root is not null;

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException("../shared is not available"), .. parts]);

    /// <summary>A path under <c>alert-samples/</c>.</summary>
    public static string Sample(params string[] parts) => Path(["alert-samples", .. parts]);

    /// <summary>Every <c>.avro</c> file under <c>alert-samples/FOLDER</c>, recursively, in ordinal order.</summary>
    public static IEnumerable<string> AvroFiles(string folder)
    {
        var files = Directory.GetFiles(Sample(folder), "*.avro", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    public static string[] Files(string relativeDirectory, string pattern = "*.avro")
    {
        var files = Directory.GetFiles(Path(relativeDirectory), pattern);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    public static string? RepositoryRoot()
    {
        // Baked in at build time (Directory.Build.props), so it holds wherever the output directory is.
        foreach (var attribute in typeof(SharedData).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
        {
            if (attribute is System.Reflection.AssemblyMetadataAttribute { Key: "RepositoryRoot", Value: { } root } && File.Exists(System.IO.Path.Combine(root, "AlertBroker.sln")))
            {
                return root;
            }
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "AlertBroker.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static string? Locate()
    {
        var overridden = Environment.GetEnvironmentVariable("ALERTBROKER_SHARED");
        if (!string.IsNullOrEmpty(overridden) && Directory.Exists(overridden))
        {
            return overridden;
        }

        var repo = RepositoryRoot();
        if (repo is null)
        {
            return null;
        }

        var shared = System.IO.Path.GetFullPath(System.IO.Path.Combine(repo, "..", "shared"));
        return Directory.Exists(System.IO.Path.Combine(shared, "alert-samples")) ? shared : null;
    }
}

/// <summary>A fact that needs <c>../shared</c>; skipped with a clear message when it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (!SharedData.Available)
        {
            Skip = "needs ../shared (alert samples and labelled light curves) beside the checkout; not found";
        }
    }
}

/// <summary>A theory that needs <c>../shared</c>; skipped with a clear message when it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute()
    {
        if (!SharedData.Available)
        {
            Skip = "needs ../shared (alert samples and labelled light curves) beside the checkout; not found";
        }
    }
}
