using System.Globalization;
using System.IO.Compression;
using System.Text;
using AlertBroker.Alerts;

namespace AlertBroker.Simulation.Output;

/// <summary>
/// Writes simulated light curves as the labelled CSV pair the trainer reads (the layout of
/// <c>../shared/labelled</c>): <c>{prefix}_lightcurves.csv.gz</c> with
/// <c>object_id,mjd,band,flux,flux_err,detected</c> in SNANA FLUXCAL (zero point 27.5, like the DES
/// simulations; every epoch, with the survey's detection flag 1/0) and <c>{prefix}_metadata.csv</c> with one row per object, streamed.
/// Both are written under <c>.partial</c> names and take their own names only at <see cref="Complete"/>: a run stopped
/// part-way (Ctrl-C, a full disk) leaves no pair that reads as a smaller labelled set, and a complete pair already there
/// stays until the new one is whole.
/// </summary>
public sealed class LabelledCsvWriter : IDisposable
{
    /// <summary>SNANA's FLUXCAL zero point: flux 1 ↔ magnitude 27.5.</summary>
    public const double FluxCalZeroPoint = 27.5;

    /// <summary>FLUXCAL per µJy: 10^((27.5 − 23.9) / 2.5).</summary>
    public static readonly double FluxCalPerMicroJy = Math.Pow(10, (FluxCalZeroPoint - Photometry.AbZeroPointMicroJy) / 2.5);

    public const string MetadataHeader = "object_id,class,redshift,host_photoz,mwebv,peak_mag,n_obs,n_det,host_photoz_err,peak_mjd,peak_abs_mag,ra,dec,survey";

    private readonly StreamWriter _lightCurves;
    private readonly StreamWriter _metadata;
    private readonly char[] _line = new char[256];
    private readonly string _directory;
    private readonly string? _createdFrom;
    private bool _completed;
    private bool _disposed;

    public LabelledCsvWriter(string directory, string prefix)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!IsPlainPrefix(prefix))
        {
            throw new ArgumentException($"the file prefix must be part of a file name (no '/', '\\' or '..'), not '{prefix}'", nameof(prefix));
        }

        // The outermost directory this run creates: a run that fails leaves no empty folders behind.
        _directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        for (var d = _directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d))
        {
            _createdFrom = d;
        }

        Directory.CreateDirectory(directory);
        LightCurvesPath = Path.Combine(directory, prefix + "_lightcurves.csv.gz");
        MetadataPath = Path.Combine(directory, prefix + "_metadata.csv");

        // A directory where a file of the pair (or its partial file) goes failed only at the end, after the other file
        // had replaced its namesake (a pair of two runs), or as "Access to the path is denied" with a partial file left.
        foreach (var path in new[] { LightCurvesPath, MetadataPath, LightCurvesPath + PartialSuffix, MetadataPath + PartialSuffix })
        {
            if (Directory.Exists(path))
            {
                throw new IOException($"{path} is a directory, where this run writes a file; move it or give another --out or --prefix");
            }
        }

        var gzip = new GZipStream(new FileStream(LightCurvesPath + PartialSuffix, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), CompressionLevel.Fastest);
        _lightCurves = new StreamWriter(gzip, new UTF8Encoding(false), 1 << 16);
        try
        {
            _metadata = new StreamWriter(MetadataPath + PartialSuffix, false, new UTF8Encoding(false), 1 << 16);
        }
        catch
        {
            _lightCurves.Dispose();
            File.Delete(LightCurvesPath + PartialSuffix);
            RemoveCreatedDirectories();
            throw;
        }

        _lightCurves.Write("object_id,mjd,band,flux,flux_err,detected\n");
        _metadata.Write(MetadataHeader + "\n");
    }

    /// <summary>Whether <paramref name="prefix"/> names files inside the directory: not empty, no directory separator, no "..".</summary>
    public static bool IsPlainPrefix(string? prefix) =>
        !string.IsNullOrWhiteSpace(prefix) && prefix.IndexOfAny(['/', '\\', '\0']) < 0 && !prefix.Contains("..", StringComparison.Ordinal);

    /// <summary>What the files are called until <see cref="Complete"/>.</summary>
    public const string PartialSuffix = ".partial";

    public string LightCurvesPath { get; }

    public string MetadataPath { get; }

    public long ObjectsWritten { get; private set; }

    public long RowsWritten { get; private set; }

    public void Write(SimulatedLightCurve curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        var inv = CultureInfo.InvariantCulture;
        var id = curve.ObjectId;
        foreach (var p in curve.Points)
        {
            // Formatted into one reused buffer: 10^7 rows must not allocate 10^7 strings.
            var span = _line.AsSpan();
            id.AsSpan().CopyTo(span);
            var n = id.Length;
            span[n++] = ',';
            p.Mjd.TryFormat(span[n..], out var w, "F5", inv);
            n += w;
            span[n++] = ',';
            span[n++] = Passbands.Letter(p.Band)[0];
            span[n++] = ',';
            (p.FluxMicroJy * FluxCalPerMicroJy).TryFormat(span[n..], out w, "G6", inv);
            n += w;
            span[n++] = ',';
            (p.FluxErrMicroJy * FluxCalPerMicroJy).TryFormat(span[n..], out w, "G5", inv);
            n += w;
            span[n++] = ',';
            span[n++] = p.Detected ? '1' : '0';
            span[n++] = '\n';
            _lightCurves.Write(span[..n]);
        }

        RowsWritten += curve.Points.Length;
        var t = curve.Transient;
        _metadata.Write(string.Create(
            inv,
            $"{id},{curve.ClassName},{t.Redshift:F5},{curve.HostPhotoZ:F4},{t.MwEbv:F4},{curve.ObservedPeakMag:F4},{curve.Points.Length},{curve.DetectionCount},{curve.HostPhotoZErr:F4},{t.PeakMjd:F3},{t.PeakAbsMag:F3},{curve.Ra:F6},{curve.Dec:F6},{Passbands.SurveyOf(curve.Points.Length > 0 ? curve.Points[0].Band : Passband.Unknown).ToString().ToLowerInvariant()}\n"));
        ObjectsWritten++;
    }

    /// <summary>
    /// Closes both files and gives them their names (replacing a pair of the same names). When the second cannot take its
    /// name, the first file's old namesake is put back: the pair on disk is the old one or the new one, never one of each.
    /// </summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _lightCurves.Dispose();
        _metadata.Dispose();
        var kept = File.Exists(LightCurvesPath) ? Path.Combine(Path.GetDirectoryName(LightCurvesPath)!, $".{Path.GetFileName(LightCurvesPath)}.{Guid.NewGuid():N}.old") : null;
        if (kept is not null)
        {
            File.Move(LightCurvesPath, kept);
        }

        try
        {
            File.Move(LightCurvesPath + PartialSuffix, LightCurvesPath, overwrite: true);
            File.Move(MetadataPath + PartialSuffix, MetadataPath, overwrite: true);
        }
        catch
        {
            if (kept is not null)
            {
                File.Move(kept, LightCurvesPath, overwrite: true);
            }
            else if (!File.Exists(LightCurvesPath + PartialSuffix))
            {
                File.Delete(LightCurvesPath);
            }

            throw;
        }

        if (kept is not null)
        {
            File.Delete(kept);
        }

        _completed = true;
    }

    /// <summary>Without <see cref="Complete"/> (an exception, a cancellation), removes the partial files and the directories it created, when empty.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_completed)
        {
            return;
        }

        try
        {
            _lightCurves.Dispose();
            _metadata.Dispose();
        }
        catch (IOException)
        {
            // A full disk fails the last flush too: the files go anyway.
        }

        File.Delete(LightCurvesPath + PartialSuffix);
        File.Delete(MetadataPath + PartialSuffix);
        RemoveCreatedDirectories();
    }

    // The directories the constructor created, innermost first, each only while empty.
    private void RemoveCreatedDirectories()
    {
        if (_createdFrom is null)
        {
            return;
        }

        for (var d = _directory; d is not null && d.Length >= _createdFrom.Length; d = Path.GetDirectoryName(d))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(d).Any())
                {
                    return;
                }

                Directory.Delete(d);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }
}
