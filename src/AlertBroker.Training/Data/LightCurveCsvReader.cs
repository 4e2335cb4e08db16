using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.Alerts.Csv;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Training.Data;

/// <summary>How to read a PLAsTiCC-style CSV pair.</summary>
public sealed record CsvReadOptions
{
    /// <summary>"ztf", "lsst", "des" or null to infer from the file names and bands.</summary>
    public string? Survey { get; init; }

    /// <summary>The survey when <see cref="Survey"/> is null and the file and folder names do not say (e.g. the model's own).</summary>
    public string? FallbackSurvey { get; init; }

    /// <summary>Zero point of flux columns (SNANA FLUXCAL: 27.5).</summary>
    public double FluxZeroPoint { get; init; } = 27.5;

    /// <summary>S/N at or above which a flux point counts as a detection (files without a detection column).</summary>
    public double DetectionThreshold { get; init; } = 5.0;

    /// <summary>Drop points that are not detections (makes forced-photometry sets look like alert photometry).</summary>
    public bool DetectionsOnly { get; init; }

    /// <summary>Metadata column used as redshift ("redshift", "host_photoz", …); "none" leaves it unknown.</summary>
    public string RedshiftColumn { get; init; } = "redshift";

    /// <summary>
    /// The option that names <see cref="RedshiftColumn"/>, for the advice of a redshift column that is not numeric; null for a
    /// command without one (<c>simulate compare</c>, <c>tune</c>: the advice is then to correct the column or leave it out).
    /// </summary>
    public string? RedshiftColumnOption { get; init; } = "--redshift-column";
}

/// <summary>
/// Reads light-curve CSV pairs: <c>*_lightcurves.csv[.gz]</c> (<c>object_id, mjd, band, mag, mag_err</c> or
/// <c>object_id, mjd, band, flux, flux_err</c> [, <c>detected</c>]) and <c>*_metadata.csv[.gz]</c> (<c>object_id, class</c>
/// and optionally <c>redshift</c>, <c>host_photoz</c>, <c>mwebv</c> or <c>a_v</c> (E(B−V) = A_V / 3.1)).
/// Magnitudes are AB; fluxes are on <see cref="CsvReadOptions.FluxZeroPoint"/>. All become µJy observations. Rows that
/// are not observations are left out and counted by reason (<see cref="LabelledDataset.Rejected"/>), among them a row
/// that repeats an earlier row of its object exactly (time, band, kind, value and error, as parsed).
/// </summary>
public static class LightCurveCsvReader
{
    /// <summary>
    /// Reads a pair given as a directory holding one pair, a light-curve file or a metadata file (its partner is
    /// found by replacing <c>_lightcurves.csv(.gz)</c> ↔ <c>_metadata.csv(.gz)</c>; a partner there both plain and gzipped
    /// is refused).
    /// </summary>
    public static LabelledDataset Read(string path, CsvReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new CsvReadOptions();
        var (lightCurves, metadata) = ResolvePair(path);
        var survey = options.Survey ?? InferSurvey(lightCurves, options.FallbackSurvey);
        var rejections = new RejectionCounter();
        var unknown = new RejectionCounter();
        var meta = ReadMetadata(metadata, options, rejections, unknown);
        var observations = new Dictionary<string, Curve>(StringComparer.Ordinal);
        using (var text = OpenText(lightCurves))
        {
            using var reader = new CsvRecordReader(text, lightCurves);
            var header = reader.ReadHeader();
            int id = Column(header, "object_id", lightCurves), mjd = Column(header, "mjd", lightCurves), band = Column(header, "band", lightCurves);
            var mag = Array.IndexOf(header, "mag");
            var magErr = Array.IndexOf(header, "mag_err");
            var flux = Array.IndexOf(header, "flux");
            var fluxErr = Array.IndexOf(header, "flux_err");
            var detected = Array.IndexOf(header, "detected");
            var useMag = mag >= 0 && magErr >= 0;
            if (!useMag && (flux < 0 || fluxErr < 0))
            {
                throw new InvalidDataException($"{lightCurves}: needs mag,mag_err or flux,flux_err columns.");
            }

            // A row needs HeaderWidth cells; a cell past it that holds anything is a row that does not fit the header
            // (decimal commas: "A1,58000,g,18,52,0,12" was read as mag 18, error 52), not trailing emptiness.
            var width = HeaderWidth(header);

            var fluxScale = Math.Pow(10.0, (Photometry.AbZeroPointMicroJy - options.FluxZeroPoint) / 2.5);
            var bandCache = new Dictionary<string, Passband>(StringComparer.Ordinal);
            while (reader.ReadFields() is { } f)
            {
                // Where the record starts (a record may span lines: a quoted cell holding a line break); its row number
                // (the observation's id) is the line before, as when every record was one line.
                var at = reader.Line;
                var row = at - 1;
                if (f.Length < width)
                {
                    rejections.Add("too few columns", lightCurves, at);
                    continue;
                }

                if (MoreCellsThan(f, width))
                {
                    rejections.Add("more cells than the header", lightCurves, at);
                    continue;
                }

                if (f[id].Length == 0)
                {
                    rejections.Add("row without an object id", lightCurves, at);
                    continue;
                }

                if (!bandCache.TryGetValue(f[band], out var passband))
                {
                    passband = Passbands.Parse(survey, f[band].Trim());
                    bandCache[f[band]] = passband;
                }

                if (passband == Passband.Unknown)
                {
                    rejections.Add("unknown band", lightCurves, at);
                    continue;
                }

                if (Problem(f, mjd, useMag ? mag : flux, useMag ? magErr : fluxErr, useMag, out var time, out var value, out var valueError) is { } problem)
                {
                    rejections.Add(problem, lightCurves, at);
                    continue;
                }

                double microJy, error;
                ObservationKind kind;
                if (useMag)
                {
                    microJy = Photometry.MagToMicroJy(value);
                    error = Photometry.MagErrToFluxErr(microJy, valueError);
                    kind = ObservationKind.Detection;
                }
                else
                {
                    microJy = value * fluxScale;
                    error = valueError * fluxScale;
                    kind = detected >= 0
                        ? (CsvLine.IsTrue(f[detected]) ? ObservationKind.Detection : ObservationKind.Forced)
                        : EncodedDataset.KindFor(microJy, error, options.DetectionThreshold);
                }

                // Held in single precision: a value or error beyond it (a flux of 1e300, a magnitude error of 1e308 made
                // infinite) or an error that rounds to zero would be a point no encoder can use.
                if (!float.IsFinite((float)microJy))
                {
                    rejections.Add("flux out of range", lightCurves, at);
                    continue;
                }

                if (!float.IsFinite((float)error) || (float)error <= 0)
                {
                    rejections.Add("error out of range", lightCurves, at);
                    continue;
                }

                if (options.DetectionsOnly && kind != ObservationKind.Detection)
                {
                    continue;
                }

                var objectId = f[id];
                if (!observations.TryGetValue(objectId, out var curve))
                {
                    curve = new Curve();
                    observations[objectId] = curve;
                }

                // The same measurement written twice (BTS: 95 rows) would count twice; the worker keeps one observation per
                // source id, so a light curve in the stream never holds it twice. The same time and band with another value
                // or error is another measurement (a detection and forced photometry) and stays.
                if (!curve.TryAdd(new Observation(row, time, passband, kind, (float)microJy, (float)error, float.NaN), value, valueError))
                {
                    rejections.Add("repeats an earlier row exactly", lightCurves, at);
                }
            }
        }

        var objects = new List<LabelledObject>(meta.Count);
        var labelled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (objectId, cls, z, ebv) in meta)
        {
            labelled.Add(objectId);
            if (observations.TryGetValue(objectId, out var curve))
            {
                objects.Add(new LabelledObject(objectId, cls, [.. curve.Points], z, ebv));
            }
        }

        var leftOut = new LeftOutObjects
        {
            WithoutObservations = meta.Count - objects.Count,
            WithoutLabel = observations.Keys.Count(id => !labelled.Contains(id)),
        };
        return new LabelledDataset(lightCurves, objects) { Rejected = rejections.ToRejected(), LeftOut = leftOut, UnknownMetadata = unknown.ToUnknownMetadata() };
    }

    /// <summary>
    /// Why a row is not an observation (null: it is one): a time, value or error that is not a number, not finite, out
    /// of range (|MJD| ≥ 10⁶; a magnitude outside [−10, 40], such as the 99 some files use for "none"), or an error that
    /// is not positive (the −9 of SNANA's "no measurement").
    /// </summary>
    internal static string? Problem(string[] f, int time, int value, int error, bool magnitudes, out double t, out double v, out double e)
    {
        v = e = double.NaN;
        if (!double.TryParse(f[time], NumberStyles.Float, CultureInfo.InvariantCulture, out t)
            || !double.TryParse(f[value], NumberStyles.Float, CultureInfo.InvariantCulture, out v)
            || !double.TryParse(f[error], NumberStyles.Float, CultureInfo.InvariantCulture, out e))
        {
            return "not a number";
        }

        return !double.IsFinite(t) || !double.IsFinite(v) || !double.IsFinite(e) ? "not finite"
            : Math.Abs(t) >= 1e6 ? "time out of range"
            : magnitudes && v is < -10 or > 40 ? "magnitude out of range"
            : e <= 0 ? "error not positive"
            : null;
    }

    /// <summary>
    /// The name a light-curve pair's two files share (<c>ztf_bts_train</c> for <c>ztf_bts_train_metadata.csv</c> or
    /// <c>ztf_bts_train_lightcurves.csv.gz</c>); null for a file of neither half.
    /// </summary>
    public static string? PairStem(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var at = fileName.IndexOf("_metadata.csv", StringComparison.Ordinal);
        if (at < 0)
        {
            at = fileName.IndexOf("_lightcurves.csv", StringComparison.Ordinal);
        }

        return at < 0 ? null : fileName[..at];
    }

    internal static (string LightCurves, string Metadata) ResolvePair(string path)
    {
        if (Directory.Exists(path))
        {
            // Only the two names a pair's light-curve file can have: a backup beside it (…_lightcurves.csv.bak) was counted.
            var files = Directory.GetFiles(path, "*_lightcurves.csv*")
                .Where(f => f.EndsWith("_lightcurves.csv", StringComparison.Ordinal) || f.EndsWith("_lightcurves.csv.gz", StringComparison.Ordinal)).ToArray();
            Array.Sort(files, StringComparer.Ordinal);
            if (files.Length != 1)
            {
                throw new FileNotFoundException($"{path}: expected exactly one *_lightcurves.csv[.gz], found {files.Length}{(files.Length > 1 ? ": " + string.Join(", ", files.Select(Path.GetFileName)) + "; give the one to read" : string.Empty)}.");
            }

            path = files[0];
        }

        string lightCurves, metadata;
        var name = Path.GetFileName(path);
        var dir = Path.GetDirectoryName(path) ?? ".";
        var stem = PairStem(name) ?? throw new FileNotFoundException($"{path}: not a *_lightcurves.csv[.gz] or *_metadata.csv[.gz] file.");
        if (name.AsSpan(stem.Length).StartsWith("_metadata.csv", StringComparison.Ordinal))
        {
            metadata = path;
            lightCurves = Partner(Path.Combine(dir, stem + "_lightcurves.csv"), path);
        }
        else
        {
            lightCurves = path;
            metadata = Partner(Path.Combine(dir, stem + "_metadata.csv"), path);
        }

        if (!File.Exists(lightCurves) || !File.Exists(metadata))
        {
            var (missing, present) = File.Exists(lightCurves) ? (metadata, lightCurves) : (lightCurves, metadata);
            throw new FileNotFoundException($"{missing}[.gz] is missing: a light-curve set is a pair, *_lightcurves.csv[.gz] (object_id, mjd, band, flux or mag …) with *_metadata.csv[.gz] (object_id, class …) beside it ({present}).", missing);
        }

        return (lightCurves, metadata);
    }

    // The partner file, plain or gzipped; both present is refused (the 3-row .gz was read in place of the whole .csv
    // beside it when the metadata file was given, while the directory was refused).
    private static string Partner(string plain, string given)
    {
        var gz = plain + ".gz";
        return File.Exists(plain) && File.Exists(gz)
            ? throw new InvalidDataException($"{Path.GetFileName(plain)} and {Path.GetFileName(gz)} are both beside {given}: which one is its partner is not clear; remove or rename one.")
            : File.Exists(gz) ? gz : plain;
    }

    /// <summary>
    /// The survey a file's name, else its folder's, names as a whole word (<c>des_sims_train</c>, <c>lsst-sims</c>,
    /// <c>ztf_bts</c>; words split at anything but a letter). A word inside another one is not a survey: the old substring
    /// test read <c>candidates_lightcurves.csv</c> as DES, <c>ztfish</c> as ZTF, and went on with the wrong bands.
    /// </summary>
    internal static string InferSurvey(string path, string? fallback)
    {
        var name = Path.GetFileName(path).ToLowerInvariant();
        var parent = (Path.GetFileName(Path.GetDirectoryName(path)) ?? string.Empty).ToLowerInvariant();
        foreach (var s in new[] { name, parent })
        {
            var words = s.Split(s.Where(c => !char.IsAsciiLetterLower(c)).Distinct().ToArray(), StringSplitOptions.RemoveEmptyEntries);
            if (words.Contains("des"))
            {
                return "des";
            }

            if (words.Contains("lsst") || words.Contains("rubin"))
            {
                return "lsst";
            }

            if (words.Contains("ztf"))
            {
                return "ztf";
            }
        }

        return fallback ?? throw new InvalidDataException($"{path}: cannot tell the survey from the name; pass it (ztf, lsst or des).");
    }

    private static List<(string Id, string Class, double Redshift, double Ebv)> ReadMetadata(string path, CsvReadOptions options, RejectionCounter rejections, RejectionCounter unknown)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var text = OpenText(path);
        using var reader = new CsvRecordReader(text, path);
        var header = reader.ReadHeader();
        int id = Column(header, "object_id", path), cls = Column(header, "class", path);
        var z = RedshiftIndex(header, options.RedshiftColumn, path);
        var ebv = Array.IndexOf(header, "mwebv");
        var av = Array.IndexOf(header, "a_v");
        var list = new List<(string, string, double, double)>();
        var redshiftValues = new RedshiftValues(options.RedshiftColumn, path, options.RedshiftColumnOption);
        var width = HeaderWidth(header);

        while (reader.ReadFields() is { } f)
        {
            var number = reader.Line;
            var problem = f.Length <= Math.Max(id, cls) || f[id].Trim().Length == 0 || f[cls].Trim().Length == 0 ? "metadata without an id or class"
                : MoreCellsThan(f, width) ? "metadata with more cells than the header"
                : !seen.Add(f[id]) ? "metadata repeating an object id"
                : null;
            if (problem is not null)
            {
                rejections.Add(problem, path, number);
                continue;
            }

            // A value the network cannot be given (a catalogue's -99 for "missing", a negative redshift, 1e300) is unknown,
            // as the worker reads it from its sources (MetadataValues), and counted.
            // Text that is not a number and not a "missing" word (abc) is unknown too, and counted.
            var redshift = z >= 0 && z < f.Length
                ? Usable(MetadataSources.HostRedshift, Cell(redshiftValues.Add(f[z]), f[z], options.RedshiftColumn, unknown, path, number), options.RedshiftColumn, unknown, path, number)
                : double.NaN;
            var e = ebv >= 0 && ebv < f.Length ? Usable(MetadataSources.MilkyWayEbv, Cell(ParseOrNaN(f[ebv]), f[ebv], "mwebv", unknown, path, number), "mwebv", unknown, path, number)
                : av >= 0 && av < f.Length ? Usable(MetadataSources.MilkyWayEbv, Cell(ParseOrNaN(f[av]), f[av], "a_v", unknown, path, number) / 3.1, "a_v", unknown, path, number, AvRange)
                : double.NaN;
            list.Add((f[id], f[cls].Trim(), redshift, e));
        }

        if (z >= 0)
        {
            redshiftValues.Check();
        }

        return list;
    }

    /// <summary>
    /// The index of the redshift column <paramref name="column"/> in <paramref name="header"/> (−1: none). "none" means
    /// none; "redshift" is optional (a set without it is a set without metadata); any other name must be there —
    /// a typo would otherwise train or evaluate with every redshift unknown and say nothing (<see cref="InvalidDataException"/>).
    /// </summary>
    internal static int RedshiftIndex(string[] header, string column, string path)
    {
        var z = column == "none" ? -1 : Array.IndexOf(header, column);
        if (z < 0 && column is not ("none" or "redshift"))
        {
            throw new InvalidDataException($"{path} has no column '{column}' for the redshift (its columns: {string.Join(", ", header)}).");
        }

        return z;
    }

    /// <summary>
    /// Counts the cells of the redshift column: a column that is mostly not numbers (say <c>--redshift-column class</c>),
    /// or a named one without one finite number, is refused (<see cref="InvalidDataException"/> naming it). Read as
    /// unknown, every redshift would be NaN: a package equal to one trained without it that still declared a metadata
    /// input, refused later by <c>run</c>.
    /// </summary>
    internal sealed class RedshiftValues(string column, string path, string? option = "--redshift-column")
    {
        private int _filled;
        private int _numbers;
        private int _usable;
        private string? _sample;
        private string? _unusable;

        public double Add(string cell)
        {
            var text = cell.Trim();
            if (text.Length == 0)
            {
                return double.NaN;
            }

            _filled++;
            // Infinity, -Infinity and 1e400 (infinite as a double) are numbers outside the range, returned as they are so that
            // Usable counts them as read as unknown: they were NaN here, unknown without a word, until 2026-12-07.
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && !double.IsNaN(v))
            {
                _numbers++;
                if (MetadataValues.IsUsable(MetadataSources.HostRedshift, v))
                {
                    _usable++;
                }
                else
                {
                    _unusable ??= text;
                }

                return v;
            }

            if (!text.Equals("nan", StringComparison.OrdinalIgnoreCase) && !text.Equals("null", StringComparison.OrdinalIgnoreCase) && !text.Equals("na", StringComparison.OrdinalIgnoreCase))
            {
                _sample ??= text;
            }

            return double.NaN;
        }

        public void Check()
        {
            var words = _filled - _numbers;
            if (_sample is not null && words * 2 > _filled)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: the redshift column '{column}' is not numeric ({words} of {_filled} values are not numbers, e.g. '{_sample}'); {(option is null ? "its values must be numbers (empty where unknown), or leave the column out" : $"name a numeric column with {option}, or none")}."));
            }

            if (_numbers == 0 && column != "redshift")
            {
                throw new InvalidDataException($"{path}: the redshift column '{column}' holds no number; name a numeric column with --redshift-column, or none.");
            }

            // Numbers, but none a redshift (every one -99, say): read as unknown, the set would train a metadata input on
            // nothing, as above.
            if (_usable == 0 && _numbers > 0 && column != "redshift")
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: the redshift column '{column}' holds no redshift ({MetadataValues.Range(MetadataSources.HostRedshift)}; its {_numbers} numbers are all outside, e.g. '{_unusable}'); name another column with --redshift-column, or none."));
            }
        }
    }

    // The header's width without trailing unnamed columns (a header ending in a comma).
    private static int HeaderWidth(string[] header)
    {
        var width = header.Length;
        while (width > 0 && header[width - 1].Length == 0)
        {
            width--;
        }

        return width;
    }

    private static bool MoreCellsThan(string[] cells, int width)
    {
        for (var i = width; i < cells.Length; i++)
        {
            if (cells[i].Length > 0)
            {
                return true;
            }
        }

        return false;
    }

    internal static TextReader OpenText(string path)
    {
        Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new CheckedGZipStream(path) : File.OpenRead(path);
        // Strict UTF-8: bytes of another encoding (Latin-1 ids) are refused, naming the file, not read as U+FFFD.
        return new StreamReader(stream, CsvRecordReader.StrictUtf8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
    }

    /// <summary>
    /// One object's points as read, refusing a row that repeats an earlier one exactly: the same time, band and kind, and
    /// the same value and error as parsed (18.5 is 18.50; a magnitude or flux, before it becomes single-precision µJy).
    /// </summary>
    private sealed class Curve
    {
        private readonly List<(double Value, double Error)> _parsed = [];
        private HashSet<(double Time, Passband Band, ObservationKind Kind, double Value, double Error)>? _seen;
        private double _latest = double.NegativeInfinity;

        public List<Observation> Points { get; } = [];

        /// <summary>Adds <paramref name="point"/>, read from <paramref name="value"/> and <paramref name="error"/>; false when it repeats an earlier point.</summary>
        public bool TryAdd(Observation point, double value, double error)
        {
            // Rows in time order (every shared set) need no set: a repeat can only be one of the last points, those at the
            // latest time. A global set of every row made reading the 1.2 M DES rows 75% slower. The first row out of time
            // order starts this object's set of every point.
            if (_seen is null && point.Mjd < _latest)
            {
                _seen = new(Points.Count);
                for (var i = 0; i < Points.Count; i++)
                {
                    _seen.Add((Points[i].Mjd, Points[i].Band, Points[i].Kind, _parsed[i].Value, _parsed[i].Error));
                }
            }

            if (_seen is not null)
            {
                if (!_seen.Add((point.Mjd, point.Band, point.Kind, value, error)))
                {
                    return false;
                }
            }
            else
            {
                for (var i = Points.Count - 1; i >= 0 && Points[i].Mjd == point.Mjd; i--)
                {
                    if (Points[i].Band == point.Band && Points[i].Kind == point.Kind && _parsed[i] == (value, error))
                    {
                        return false;
                    }
                }
            }

            Points.Add(point);
            _parsed.Add((value, error));
            _latest = Math.Max(_latest, point.Mjd);
            return true;
        }
    }

    private static int Column(string[] header, string name, string path)
    {
        var i = Array.IndexOf(header, name);
        return i >= 0 ? i : throw new InvalidDataException($"{path}: column '{name}' is missing.");
    }

    /// <summary>
    /// <paramref name="value"/> when <paramref name="source"/> can take it (<see cref="MetadataValues.IsUsable"/>), else NaN;
    /// a number it cannot take is counted in <paramref name="unknown"/> under the column's name.
    /// </summary>
    internal static double Usable(string source, double value, string column, RejectionCounter unknown, string path, long line, string? range = null)
    {
        if (double.IsNaN(value) || MetadataValues.IsUsable(source, value))
        {
            return value;
        }

        unknown.Add($"{column} not {range ?? MetadataValues.Range(source)}", path, line);
        return double.NaN;
    }

    // A_V is read as E(B−V) = A_V / 3.1, so its range is 3.1 times E(B−V)'s: A_V 40 was said to be "not a number from 0 to
    // 10" while 20 was taken.
    private static readonly string AvRange = string.Create(CultureInfo.InvariantCulture, $"a number from 0 to {MetadataValues.MaxMilkyWayEbv * 3.1:0.#}");

    // A metadata cell read as NaN: counted as unknown when it held text that is neither a number nor a word for "missing".
    private static double Cell(double value, string cell, string column, RejectionCounter unknown, string path, long line)
    {
        if (double.IsNaN(value) && IsText(cell))
        {
            unknown.Add($"{column} not a number", path, line);
        }

        return value;
    }

    private static bool IsText(string cell)
    {
        var text = cell.Trim();
        return text.Length > 0 && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            && !text.Equals("nan", StringComparison.OrdinalIgnoreCase) && !text.Equals("null", StringComparison.OrdinalIgnoreCase)
            && !text.Equals("na", StringComparison.OrdinalIgnoreCase) && !text.Equals("none", StringComparison.OrdinalIgnoreCase);
    }

    private static double ParseOrNaN(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
}
