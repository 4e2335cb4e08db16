using AlertBroker.Model.Packaging;

namespace AlertBroker.Cli.Training;

/// <summary>
/// Writes a package the way a reader can trust: every file goes into a hidden staging directory beside the target
/// (same file system, so the moves are renames), then into the target, <c>model.json</c> last. A command that fails or
/// is stopped while it writes leaves the target as it was (before, <c>train</c> and <c>finetune</c> could leave a
/// <c>model.onnx</c> without its <c>model.json</c>, or a new <c>model.onnx</c> beside the old <c>model.json</c>).
/// </summary>
internal static class StagedPackage
{
    /// <summary>Runs <paramref name="write"/> on a staging directory and moves what it wrote into <paramref name="target"/>.</summary>
    public static T Write<T>(string target, Func<string, T> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(target).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"{target} has no parent directory.", nameof(target));
        Directory.CreateDirectory(parent);
        RemoveStale(parent, DateTime.UtcNow - StaleAfter);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var result = write(staging);
            MoveInto(staging, full);
            return result;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>How old a staging directory must be before a later run removes it as left by a killed run.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromDays(1);

    /// <summary>
    /// Removes the hidden staging directories (<c>.NAME.staging-…</c>, any NAME) in <paramref name="parent"/> last written
    /// before <paramref name="olderThan"/>: what a run killed outright leaves. A younger one may be another run's, still
    /// writing, so it stays. Returns how many went; one that cannot be removed is left.
    /// </summary>
    internal static int RemoveStale(string parent, DateTime olderThan)
    {
        var removed = 0;
        try
        {
            foreach (var directory in Directory.EnumerateDirectories(parent, ".*.staging-*"))
            {
                try
                {
                    if (Directory.GetLastWriteTimeUtc(directory) < olderThan)
                    {
                        Directory.Delete(directory, recursive: true);
                        removed++;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Being removed by another run, or not ours to remove: leave it.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return removed;
    }

    private static void MoveInto(string staging, string target)
    {
        if (!Directory.Exists(target))
        {
            // One rename: the package appears whole or not at all.
            Directory.Move(staging, target);
            return;
        }

        // An existing directory (a package retrained in place, or one holding other files such as --checkpoints) keeps
        // what this run does not write; each file is replaced by a rename, model.json last, so that until the end the old
        // manifest names the old ONNX file's hash and a reader refuses the mixture rather than trusting it.
        var files = Directory.GetFiles(staging, "*", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        var manifest = Path.Combine(staging, ModelPackage.ManifestFileName);
        foreach (var file in files.Where(f => f != manifest).Append(manifest).Where(File.Exists))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(staging, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Move(file, destination, overwrite: true);
        }
    }
}
