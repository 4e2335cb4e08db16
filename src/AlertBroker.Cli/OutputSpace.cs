using System.Globalization;

namespace AlertBroker.Cli;

/// <summary>
/// A look before a command writes a lot: an extra digit in <c>simulate lightcurves --n</c> wrote 785 MB in four minutes
/// on its way to filling the disk (and every service beside it: Redis, Kafka) before failing.
/// </summary>
internal static class OutputSpace
{
    /// <summary>
    /// Why <paramref name="estimatedBytes"/> will not fit where <paramref name="output"/> goes (its nearest existing
    /// directory's file system), or null when they fit or the free space cannot be read (then the write itself says).
    /// </summary>
    public static string? Shortfall(string output, double estimatedBytes)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (Free(output) is not { } free || estimatedBytes <= free.Bytes)
        {
            return null;
        }

        return $"would write about {Size(estimatedBytes)}, and {free.Directory} has {Size(free.Bytes)} free";
    }

    /// <summary>The free bytes of the file system <paramref name="output"/> would be written on, and the directory asked.</summary>
    internal static (string Directory, long Bytes)? Free(string output)
    {
        try
        {
            var directory = Path.GetFullPath(output);
            while (!Directory.Exists(directory))
            {
                directory = Path.GetDirectoryName(directory);
                if (directory is null)
                {
                    return null;
                }
            }

            // A pseudo file system (/proc, /sys) reports no size at all: nothing to say, the write itself will fail.
            var drive = new DriveInfo(directory);
            return drive.TotalSize > 0 ? (directory, drive.AvailableFreeSpace) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>"3.2 GB", "780 MB", "12 TB" (powers of 1000).</summary>
    internal static string Size(double bytes) => bytes switch
    {
        >= 1e12 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e12:0.#} TB"),
        >= 1e9 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:0.#} GB"),
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e3:0} kB"),
    };
}
