using System.Runtime.Versioning;
using AlertBroker.Cli.Native;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Cli.Training;

/// <summary>
/// Writes a package the way a reader can trust: every file goes into a hidden staging directory beside the target (same
/// file system, so every move is a rename), then into place in one step. A command that fails or is stopped while it
/// writes leaves the target as it was (before, <c>train</c> and <c>finetune</c> could leave a <c>model.onnx</c> without
/// its <c>model.json</c>, or a new <c>model.onnx</c> beside the old <c>model.json</c>).
/// <list type="bullet">
/// <item>No target: the staging directory is renamed to it.</item>
/// <item>An existing target (a package retrained in place, or a directory holding other files such as checkpoints): every
/// file of it that the run does not write gets a hard link at the same place in the staging directory, subdirectories
/// and their permissions kept, and <c>renameat2(RENAME_EXCHANGE)</c> swaps the two directories; the old tree, now at the
/// hidden staging path, is then removed. A reader sees the old tree or the new one, never a mixture; a crash leaves one
/// of them at the target (and at most a hidden directory that a later run removes).</item>
/// <item>Where the swap cannot be had (not Linux, a file system without hard links or <c>RENAME_EXCHANGE</c>, a target that
/// is a mount point, a link refused by policy or a link count limit): file by file, <c>model.json</c> last (see
/// <see cref="MoveFileByFile"/>). Neither way loses a file of the target that the run does not write; a failure before the
/// swap, or of the swap itself, leaves the target as it was.</item>
/// </list>
/// A target that is a symbolic link to a directory is resolved first: the directory it names is written, in place, and the
/// link stays a link (swapping the link's own name would put a directory where the link was).
/// </summary>
internal static class StagedPackage
{
    /// <summary>The files a training run's package has at its top level (model, manifest, card, evaluation report).</summary>
    public static readonly string[] TrainedFileNames = [ModelPackage.ManifestFileName, ModelPackage.OnnxFileName, Commands.DerivedPackages.FileName, "evaluation.json", "evaluation.html"];

    /// <summary>
    /// Why <paramref name="target"/> cannot take a package with <paramref name="files"/>: a directory (not a link to one)
    /// where one of them goes, which <see cref="Write{T}(string, Func{string, T})"/> refuses only once everything is
    /// written — for a training run, after the training. Null when it can (or does not exist yet).
    /// </summary>
    public static string? TargetProblem(string? target, IEnumerable<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (string.IsNullOrEmpty(target) || !Directory.Exists(target))
        {
            return null;
        }

        foreach (var file in files)
        {
            var there = new DirectoryInfo(Path.Combine(target, file));
            if (there.Exists && there.LinkTarget is null)
            {
                return $"{there.FullName} is a directory; this run writes a file there";
            }
        }

        return null;
    }

    /// <summary>Runs <paramref name="write"/> on a staging directory and moves what it wrote into <paramref name="target"/>.</summary>
    public static T Write<T>(string target, Func<string, T> write) => Write(target, write, LinuxFileSystem.TryExchange);

    /// <summary>
    /// <see cref="Write{T}(string, Func{string, T})"/> with the swap given: <paramref name="exchange"/> swaps two directories
    /// and returns true, or returns false having moved nothing (the file-by-file way follows), or throws.
    /// </summary>
    internal static T Write<T>(string target, Func<string, T> write, Func<string, string, bool> exchange)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(exchange);
        var absolute = Path.GetFullPath(target);
        if (string.Equals(absolute, Path.GetPathRoot(absolute), StringComparison.Ordinal))
        {
            throw new ArgumentException($"{target} is the file system's root, not a directory a package can be written to.", nameof(target));
        }

        var full = ResolveLink(absolute.TrimEnd(Path.DirectorySeparatorChar));
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"{target} has no parent directory.", nameof(target));

        Directory.CreateDirectory(parent);
        RemoveStale(parent, DateTime.UtcNow - StaleAfter);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.staging-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(staging);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // .NET names the hidden staging directory ("Could not find file '/proc/.x.staging-50bb…'"), which the user never
            // gave: say which directory could not be written in.
            throw new IOException($"cannot write {full}: cannot create a directory in {parent} ({e.Message.Replace(staging, full, StringComparison.Ordinal)})", e);
        }
        var remove = true;
        try
        {
            var result = write(staging);
            remove = MoveInto(staging, full, exchange);
            return result;
        }
        finally
        {
            if (remove)
            {
                RemoveQuietly(staging);
            }
        }
    }

    /// <summary>The directory a symbolic link names (to its end), or <paramref name="full"/> when it is not a link to an existing directory.</summary>
    private static string ResolveLink(string full)
    {
        var info = new DirectoryInfo(full);
        return info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is DirectoryInfo { Exists: true } real
            ? Path.TrimEndingDirectorySeparator(real.FullName)
            : full;
    }

    /// <summary>
    /// Removes the staging directory: what a failed run wrote, or the old tree after a swap. One that cannot be removed (it
    /// does not hold the package, which is in place or was never moved) is left for <see cref="RemoveStale"/>, rather than
    /// hiding the run's own outcome or exception behind this one.
    /// </summary>
    private static void RemoveQuietly(string staging)
    {
        try
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
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

    /// <summary>Moves the run's files into <paramref name="target"/>; false when the staging directory must stay (it holds what could not be moved across).</summary>
    private static bool MoveInto(string staging, string target, Func<string, string, bool> exchange)
    {
        if (!Directory.Exists(target))
        {
            // One rename: the package appears whole or not at all.
            Directory.Move(staging, target);
            return true;
        }

        // What this run wrote, listed before anything of the old target is linked in beside it.
        var written = Directory.GetFiles(staging, "*", SearchOption.AllDirectories);
        Array.Sort(written, StringComparer.Ordinal);
        CheckKinds(staging, target);
        if (OperatingSystem.IsLinux() && TryLinkKept(target, staging) && exchange(staging, target))
        {
            // The staging path now holds the old tree, removed by the caller. A file made in the old target after the links
            // (another process writing there) would go with it: it is moved across first, and should that fail the old
            // tree stays where it is.
            try
            {
                MoveAcrossWhatIsMissing(staging, target);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        MoveFileByFile(staging, target, written);
        return true;
    }

    /// <summary>
    /// The way without the swap: each file this run wrote replaces its namesake in the target by a rename, model.json last,
    /// so that until the end the old manifest names the old ONNX file's hash and a reader refuses the mixture rather than
    /// trusting it. Files the run does not write are kept. Not one step: a reader can see a new model.onnx beside the old
    /// model.json (and refuses it), and a crash midway leaves some files new and the rest old, the old model.json among
    /// them; no file is ever missing or half-written.
    /// </summary>
    private static void MoveFileByFile(string staging, string target, string[] written)
    {
        var manifest = Path.Combine(staging, ModelPackage.ManifestFileName);
        foreach (var file in written.Where(f => f != manifest).Append(manifest).Where(File.Exists))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(staging, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Move(file, destination, overwrite: true);
        }
    }

    /// <summary>
    /// Refuses, before anything moves, a run whose file lands where the target has a directory or whose directory lands
    /// where the target has a file or a link: either way would lose or redirect what is there.
    /// </summary>
    private static void CheckKinds(string staging, string target)
    {
        foreach (var entry in new DirectoryInfo(staging).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            var there = Path.Combine(target, Path.GetRelativePath(staging, entry.FullName));
            FileSystemInfo old = new FileInfo(there);
            if (!old.Exists)
            {
                old = new DirectoryInfo(there);
                if (!old.Exists)
                {
                    continue;
                }
            }

            var oldIsDirectory = old.Attributes.HasFlag(FileAttributes.Directory) && old.LinkTarget is null;
            var newIsDirectory = entry is DirectoryInfo;
            if (oldIsDirectory != newIsDirectory || (newIsDirectory && old.LinkTarget is not null))
            {
                throw new IOException($"{there} is {(oldIsDirectory ? "a directory" : old.LinkTarget is not null ? "a link" : "a file")}; this run writes a {(newIsDirectory ? "directory" : "file")} there");
            }
        }
    }

    /// <summary>
    /// Gives every entry of <paramref name="target"/> that the run did not write a second name at the same place under
    /// <paramref name="staging"/> (a hard link: no bytes copied; a symbolic link is linked as a link), making the
    /// directories it needs with the old ones' permissions. False when a link is refused (the file system has none, or a
    /// policy or a limit forbids it) or a directory cannot be read: the caller moves file by file instead, and the links made
    /// go with the staging directory (removing a name leaves the file and its other names).
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static bool TryLinkKept(string target, string staging)
    {
        try
        {
            return LinkKept(new DirectoryInfo(target), staging);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [SupportedOSPlatform("linux")]
    private static bool LinkKept(DirectoryInfo from, string to)
    {
        var directory = new DirectoryInfo(to);
        if (!directory.Exists)
        {
            directory.Create();
        }

        foreach (var entry in from.EnumerateFileSystemInfos())
        {
            var there = Path.Combine(to, entry.Name);
            if (entry is DirectoryInfo sub && entry.LinkTarget is null)
            {
                if (!LinkKept(sub, there))
                {
                    return false;
                }
            }
            else if (!Path.Exists(there) && !LinkedOrGone(entry.FullName, there))
            {
                return false;
            }
        }

        // Last: a directory without write permission could not have been filled.
        directory.UnixFileMode = from.UnixFileMode;
        return true;
    }

    private static bool LinkedOrGone(string existing, string link)
    {
        try
        {
            return LinuxFileSystem.TryLink(existing, link);
        }
        catch (NativeFileSystemException e) when (e.Errno == LinuxFileSystem.ENOENT && !Path.Exists(existing))
        {
            // Removed from the target since it was listed: nothing to keep.
            return true;
        }
    }

    /// <summary>After the swap: moves into <paramref name="target"/> what the old tree (at <paramref name="old"/>) has and the new one lacks.</summary>
    private static void MoveAcrossWhatIsMissing(string old, string target)
    {
        foreach (var entry in new DirectoryInfo(old).EnumerateFileSystemInfos())
        {
            var there = Path.Combine(target, entry.Name);
            if (entry is DirectoryInfo sub && entry.LinkTarget is null && Directory.Exists(there) && new DirectoryInfo(there).LinkTarget is null)
            {
                MoveAcrossWhatIsMissing(sub.FullName, there);
            }
            else if (!Path.Exists(there))
            {
                if (entry is DirectoryInfo)
                {
                    Directory.Move(entry.FullName, there);
                }
                else
                {
                    File.Move(entry.FullName, there);
                }
            }
        }
    }
}
