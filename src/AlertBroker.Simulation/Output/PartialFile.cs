using AlertBroker.Alerts.Archives;

namespace AlertBroker.Simulation.Output;

/// <summary>
/// A file written under a hidden name beside its place (<c>.NAME.GUID.partial</c>: same file system, so moving it into
/// place is a rename) and moved there by <see cref="Commit"/> when whole; disposed without a commit, the hidden file is
/// removed and the place stays as it was. Used by every writer whose failure must leave an existing file as it was
/// (<c>simulate alerts</c>, <c>replay --out</c>, <c>split --folds</c>). A path that leads to something other than a
/// regular file — a device, a pipe, <c>/dev/stdout</c> — is written straight (a move replaced <c>/dev/full</c> with a
/// regular file); a symbolic link is followed to the file it names (a move onto the link would replace the link).
/// </summary>
public sealed class PartialFile : IDisposable
{
    private bool _done;

    private PartialFile(string path, string writePath, string target)
    {
        Path = path;
        WritePath = writePath;
        Target = target;
    }

    /// <summary>The path as given.</summary>
    public string Path { get; }

    /// <summary>Where to write: the hidden file, or <see cref="Path"/> itself when it is written straight.</summary>
    public string WritePath { get; }

    /// <summary>Where <see cref="Commit"/> moves the hidden file: <see cref="Path"/>, or the file a link there names.</summary>
    public string Target { get; }

    /// <summary>Whether the file goes under a hidden name first (false: written straight).</summary>
    public bool IsStaged => WritePath != Path;

    /// <summary>The file for <paramref name="path"/>: hidden, or straight where a move would not do (see the type).</summary>
    public static PartialFile Begin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (FileType.Of(path) is not (FileKind.Regular or FileKind.Unknown))
        {
            return new PartialFile(path, path, path);
        }

        var target = path;
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            if (info.ResolveLinkTarget(returnFinalTarget: true) is not { } resolved)
            {
                return new PartialFile(path, path, path);
            }

            target = resolved.FullName;
        }

        var full = System.IO.Path.GetFullPath(target);
        var hidden = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}{LabelledCsvWriter.PartialSuffix}");
        return new PartialFile(path, hidden, target);
    }

    /// <summary>Moves the hidden file into place (nothing to do for a file written straight).</summary>
    public void Commit()
    {
        if (IsStaged && !_done)
        {
            File.Move(WritePath, Target, overwrite: true);
        }

        _done = true;
    }

    /// <summary><paramref name="message"/> (of an exception writing it) naming <see cref="Path"/> rather than the hidden file.</summary>
    public string InWordsOfThePath(string message) =>
        IsStaged ? (message ?? string.Empty).Replace(WritePath, Path, StringComparison.Ordinal) : message;

    /// <summary>Removes the hidden file unless it was committed; one that cannot be removed is left.</summary>
    public void Dispose()
    {
        if (IsStaged && !_done)
        {
            try
            {
                File.Delete(WritePath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        _done = true;
    }
}
