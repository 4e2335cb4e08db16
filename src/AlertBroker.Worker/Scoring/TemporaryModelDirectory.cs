namespace AlertBroker.Worker.Scoring;

/// <summary>
/// Deletes the directories random-weight models are exported to when the process ends (a clean stop, Ctrl-C or SIGTERM):
/// the web view and the logs name the package's directory while the process runs, so it cannot go sooner. A process
/// killed outright (SIGKILL, out of memory) leaves its directory: the next one with the same prefix removes those of
/// processes that no longer run.
/// </summary>
internal static class TemporaryModelDirectory
{
    private static readonly Lock s_lock = new();
    private static readonly HashSet<string> s_directories = new(StringComparer.Ordinal);
    private static bool s_hooked;

    /// <summary>
    /// <c>TEMP/PREFIX-PID</c> for this process, to be removed when it exits; first removes the <c>TEMP/PREFIX-PID</c>
    /// directories of processes that are no longer running.
    /// </summary>
    public static string ForThisProcess(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        RemoveLeftovers(Path.GetTempPath(), prefix);
        var directory = Path.Combine(Path.GetTempPath(), prefix + "-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        DeleteOnExit(directory);
        return directory;
    }

    /// <summary>Removes <c>PARENT/PREFIX-PID</c> directories whose process is not running; returns how many went.</summary>
    internal static int RemoveLeftovers(string parent, string prefix)
    {
        var removed = 0;
        try
        {
            foreach (var directory in Directory.EnumerateDirectories(parent, prefix + "-*"))
            {
                var suffix = Path.GetFileName(directory).AsSpan(prefix.Length + 1);
                if (!int.TryParse(suffix, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId || Running(pid))
                {
                    continue;
                }

                try
                {
                    Directory.Delete(directory, recursive: true);
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another user's, or being removed by another process: leave it.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return removed;
    }

    private static bool Running(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

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
