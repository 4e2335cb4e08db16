namespace AlertBroker.Worker.Scoring;

/// <summary>
/// Deletes the directories random-weight models are exported to when the process ends (a clean stop, Ctrl-C or SIGTERM):
/// the web view and the logs name the package's directory while the process runs, so it cannot go sooner.
/// </summary>
internal static class TemporaryModelDirectory
{
    private static readonly Lock s_lock = new();
    private static readonly HashSet<string> s_directories = new(StringComparer.Ordinal);
    private static bool s_hooked;

    /// <summary>Removes <paramref name="directory"/> (and everything in it) when the process exits.</summary>
    public static void DeleteOnExit(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        lock (s_lock)
        {
            s_directories.Add(Path.GetFullPath(directory));
            if (!s_hooked)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteAll();
                s_hooked = true;
            }
        }
    }

    internal static void DeleteAll()
    {
        string[] directories;
        lock (s_lock)
        {
            directories = [.. s_directories];
            s_directories.Clear();
        }

        foreach (var directory in directories)
        {
            try
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a directory left in the temp folder is harmless.
            }
        }
    }
}
