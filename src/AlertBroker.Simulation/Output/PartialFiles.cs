using AlertBroker.Alerts.Archives;

namespace AlertBroker.Simulation.Output;

/// <summary>
/// The hidden name a file is written under until it is whole, beside its place (same file system, so moving it into place
/// is a rename): <c>.NAME.GUID.partial</c>. Used by every writer whose failure must leave an existing file as it was
/// (<c>simulate alerts</c>, <c>replay --out</c>, <c>split --folds</c>).
/// </summary>
public static class PartialFiles
{
    /// <summary>
    /// A fresh hidden path beside the file <paramref name="path"/> names, and in <paramref name="target"/> where it goes
    /// when whole: the path, or for a symbolic link the file it leads to (moving onto the link would replace the link).
    /// Null when the path names something other than a regular file — a device, a pipe, <c>/dev/stdout</c>: that is
    /// written straight (a move would replace <c>/dev/full</c> with a regular file).
    /// </summary>
    public static string? For(string path, out string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        target = path;

        // What the path leads to, links followed (/dev/stdout → /proc/self/fd/1 → a pipe): anything but a regular file,
        // or nothing yet, is written straight.
        if (FileType.Of(path) is not (FileKind.Regular or FileKind.Unknown))
        {
            return null;
        }

        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            if (info.ResolveLinkTarget(returnFinalTarget: true) is not { } resolved)
            {
                return null;
            }

            target = resolved.FullName;
        }

        var full = Path.GetFullPath(target);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{LabelledCsvWriter.PartialSuffix}");
    }
}
