namespace AlertBroker.Benchmarks;

/// <summary>Locates the shared sample data (../shared beside the checkout).</summary>
public static class BenchmarkData
{
    public static string SharedDirectory()
    {
        foreach (var attribute in typeof(BenchmarkData).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
        {
            if (attribute is System.Reflection.AssemblyMetadataAttribute { Key: "RepositoryRoot", Value: { } root }
                && Directory.Exists(Path.Combine(root, "..", "shared", "alert-samples")))
            {
                return Path.GetFullPath(Path.Combine(root, "..", "shared"));
            }
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "alert-samples");
            if (Directory.Exists(candidate))
            {
                return Path.Combine(dir.FullName, "shared");
            }
        }

        throw new DirectoryNotFoundException("../shared/alert-samples not found above " + AppContext.BaseDirectory);
    }

    public static byte[][] ReadAll(string relativeDirectory)
    {
        var files = Directory.GetFiles(Path.Combine(SharedDirectory(), relativeDirectory), "*.avro");
        Array.Sort(files, StringComparer.Ordinal);
        var result = new byte[files.Length][];
        for (var i = 0; i < files.Length; i++)
        {
            result[i] = File.ReadAllBytes(files[i]);
        }

        return result;
    }
}
