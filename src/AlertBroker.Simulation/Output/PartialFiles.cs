namespace AlertBroker.Simulation.Output;

/// <summary>
/// The hidden name a file is written under until it is whole, beside its place (same file system, so moving it into place
/// is a rename): <c>.NAME.GUID.partial</c>. Used by every writer whose failure must leave an existing file as it was
/// (<c>simulate alerts</c>, <c>replay --out</c>, <c>split --folds</c>).
/// </summary>
public static class PartialFiles
{
    /// <summary>A fresh hidden path beside <paramref name="path"/>.</summary>
    public static string For(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{LabelledCsvWriter.PartialSuffix}");
    }
}
