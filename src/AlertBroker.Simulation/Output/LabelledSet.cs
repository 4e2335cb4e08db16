using System.Globalization;
using AlertBroker.Alerts.Archives;
using AlertBroker.Alerts.Csv;

namespace AlertBroker.Simulation.Output;

/// <summary>One observation of a labelled light curve as read from CSV: flux in µJy whatever the file's unit.</summary>
/// <param name="Mjd">Time, MJD.</param>
/// <param name="Band">Band letter, lower case (g, r, …, whatever the file's case).</param>
/// <param name="FluxMicroJy">Flux, µJy.</param>
/// <param name="FluxErrMicroJy">Flux error, µJy.</param>
/// <param name="Detected">The file's <c>detected</c> flag; else true for magnitude tables (they hold detections) and S/N ≥ 5 for flux tables.</param>
public readonly record struct LabelledPoint(double Mjd, char Band, double FluxMicroJy, double FluxErrMicroJy, bool Detected)
{
    public double Magnitude => AlertBroker.Alerts.Photometry.MicroJyToMag(FluxMicroJy);

    public double SignalToNoise => FluxErrMicroJy > 0 ? FluxMicroJy / FluxErrMicroJy : double.NaN;
}

/// <summary>A labelled light curve read from a CSV pair.</summary>
public sealed class LabelledLightCurve
{
    public required string ObjectId { get; init; }

    public required string ClassName { get; init; }

    public double Redshift { get; init; } = double.NaN;

    public List<LabelledPoint> Points { get; } = [];
}

/// <summary>
/// Reads a labelled CSV pair (<c>*_metadata.csv[.gz]</c> + <c>*_lightcurves.csv[.gz]</c>) in either layout of
/// <c>../shared/labelled</c>: magnitudes (<c>mag,mag_err</c>, AB) or fluxes (<c>flux,flux_err</c>, FLUXCAL at
/// zero point 27.5, with an optional <c>detected</c> column). A row repeating an earlier row of its object exactly is read
/// once. Used by <c>simulate compare</c> and <c>tune</c>; small sets only (everything is held in memory).
/// </summary>
public static class LabelledSetReader
{
    public static IReadOnlyList<LabelledLightCurve> Read(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var metadataPath = FindOne(directory, "*_metadata.csv", "*_metadata.csv.gz");
        var curvesPath = FindOne(directory, "*_lightcurves.csv.gz", "*_lightcurves.csv");
        var byId = new Dictionary<string, LabelledLightCurve>(StringComparer.Ordinal);
        var ordered = new List<LabelledLightCurve>();
        using (var text = new StreamReader(metadataPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new CheckedGZipStream(metadataPath) : File.OpenRead(metadataPath)))
        {
            using var reader = new CsvRecordReader(text, metadataPath);
            var header = reader.ReadHeader();
            var idCol = Column(header, metadataPath, "object_id");
            var classCol = Column(header, metadataPath, "class");
            var zCol = Array.IndexOf(header, "redshift");
            while (reader.ReadFields() is { } cells)
            {
                if (cells.Length <= Math.Max(idCol, classCol))
                {
                    throw TooFewColumns(metadataPath, reader.Line);
                }

                var curve = new LabelledLightCurve
                {
                    ObjectId = cells[idCol],
                    ClassName = cells[classCol],
                    Redshift = zCol >= 0 && zCol < cells.Length ? ParseOrNaN(cells[zCol]) : double.NaN,
                };
                if (byId.TryAdd(curve.ObjectId, curve))
                {
                    ordered.Add(curve);
                }
            }
        }

        using var stream = curvesPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? (Stream)new CheckedGZipStream(curvesPath)
            : File.OpenRead(curvesPath);
        using var curvesText = new StreamReader(stream);
        using var lines = new CsvRecordReader(curvesText, curvesPath);
        var columns = lines.ReadHeader();
        var id = Column(columns, curvesPath, "object_id");
        var mjd = Column(columns, curvesPath, "mjd");
        var band = Column(columns, curvesPath, "band");
        var magCol = Array.IndexOf(columns, "mag");
        var isMag = magCol >= 0;
        var value = isMag ? magCol : Column(columns, curvesPath, "flux");
        var error = Column(columns, curvesPath, isMag ? "mag_err" : "flux_err");
        var detectedCol = Array.IndexOf(columns, "detected");
        while (lines.ReadFields() is { } cells)
        {
            if (cells.Length <= Math.Max(Math.Max(id, mjd), Math.Max(band, Math.Max(value, error))))
            {
                throw TooFewColumns(curvesPath, lines.Line);
            }

            if (!byId.TryGetValue(cells[id], out var curve))
            {
                continue;
            }

            var v = ParseOrNaN(cells[value]);
            var e = ParseOrNaN(cells[error]);
            double flux, fluxErr;
            if (isMag)
            {
                flux = AlertBroker.Alerts.Photometry.MagToMicroJy(v);
                fluxErr = AlertBroker.Alerts.Photometry.MagErrToFluxErr(flux, e);
            }
            else
            {
                flux = v / LabelledCsvWriter.FluxCalPerMicroJy;
                fluxErr = e / LabelledCsvWriter.FluxCalPerMicroJy;
            }

            var detected = detectedCol >= 0 && detectedCol < cells.Length
                ? CsvLine.IsTrue(cells[detectedCol])
                : isMag || flux >= 5 * fluxErr;
            curve.Points.Add(new LabelledPoint(ParseOrNaN(cells[mjd]), cells[band].Length > 0 ? char.ToLowerInvariant(cells[band][0]) : '?', flux, fluxErr, detected));
        }

        var seen = new HashSet<LabelledPoint>();
        foreach (var curve in ordered)
        {
            // A row that repeats an earlier row of the object exactly is one measurement (the BTS file has 95), read once,
            // as the trainer's reader and the worker (one observation per source id) see it.
            seen.Clear();
            curve.Points.RemoveAll(p => !seen.Add(p));
            curve.Points.Sort(static (a, b) => a.Mjd.CompareTo(b.Mjd));
        }

        return ordered;
    }

    private static string FindOne(string directory, params string[] patterns)
    {
        foreach (var pattern in patterns)
        {
            var files = Directory.GetFiles(directory, pattern);
            Array.Sort(files, StringComparer.Ordinal);
            if (files.Length > 0)
            {
                return files[0];
            }
        }

        throw new FileNotFoundException($"no {string.Join(" or ", patterns)} in {directory}");
    }

    private static int Column(string[] header, string path, string name)
    {
        var i = Array.IndexOf(header, name);
        return i >= 0 ? i : throw new InvalidDataException($"{path}: no '{name}' column");
    }

    // Before, an IndexOutOfRangeException that no command caught.
    private static InvalidDataException TooFewColumns(string path, long line) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{path}: line {line}: too few columns"));

    private static double ParseOrNaN(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
}
