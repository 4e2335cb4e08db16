using AlertBroker.Alerts;
using AlertBroker.Simulation.Output;
using AlertBroker.Training.Data;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// Labelled CSV pairs for <c>simulate compare</c> and <c>tune</c>: read by the trainer's reader
/// (<see cref="LightCurveCsvReader"/>, the one reader of the format) and handed to the simulator's validation as
/// <see cref="LabelledLightCurve"/>s. The conversion sits here because the simulator does not depend on the trainer.
/// </summary>
internal static class LabelledLightCurves
{
    /// <summary>
    /// How compare and tune read a pair: the survey from the file or folder name, else ZTF (they compare with ZTF, and
    /// the simulator's old reader took any band letter); fluxes at zero point 27.5, S/N ≥ 5 a detection where there is no
    /// <c>detected</c> column; the <c>redshift</c> column.
    /// </summary>
    internal static CsvReadOptions Options { get; } = new() { FallbackSurvey = "ztf", RedshiftColumnOption = null };

    /// <summary>
    /// The pair in <paramref name="directory"/> as labelled light curves, in metadata order; <paramref name="say"/> is
    /// given one line per thing the reader left out or read as unknown, prefixed with <paramref name="option"/>.
    /// </summary>
    public static List<LabelledLightCurve> Read(string directory, string option, Action<string> say)
    {
        ArgumentNullException.ThrowIfNull(say);
        // The reader asks for the one pair to read when a directory holds several; compare and tune take the directory only.
        var pairs = Directory.Exists(directory)
            ? Directory.GetFiles(directory, "*_lightcurves.csv*").Where(f => f.EndsWith("_lightcurves.csv", StringComparison.Ordinal) || f.EndsWith("_lightcurves.csv.gz", StringComparison.Ordinal)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()
            : [];
        if (pairs.Length > 1)
        {
            throw new InvalidDataException($"{directory}: {pairs.Length} light-curve files ({string.Join(", ", pairs)}); {option} takes a directory holding one pair: move the others out");
        }

        var data = LightCurveCsvReader.Read(directory, Options);
        foreach (var line in Notes(data, option))
        {
            say(line);
        }

        var curves = new List<LabelledLightCurve>(data.Objects.Count);
        foreach (var o in data.Objects)
        {
            curves.Add(From(o));
        }

        return curves;
    }

    /// <summary>
    /// What the reader left out (rows, as <c>train</c> says them; objects without a usable row or without a metadata row)
    /// and metadata it read as unknown, one line each, prefixed with <paramref name="option"/>; none when nothing was.
    /// </summary>
    internal static IEnumerable<string> Notes(LabelledDataset data, string option)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Rejected.Total > 0)
        {
            yield return $"{option}: {data.Rejected}";
        }

        if (data.UnknownMetadata.Total > 0)
        {
            yield return $"{option}: {data.UnknownMetadata}";
        }

        if (data.LeftOut.Total > 0)
        {
            yield return $"{option}: {data.LeftOut.Describe([])}";
        }
    }

    /// <summary>
    /// One labelled object as the simulator's validation takes it: every observation as a point (µJy, as the reader made
    /// it, in single precision), its band's letter in lower case, detected when the reader made it a detection (every row of
    /// a magnitude table; the <c>detected</c> column, else S/N ≥ 5, of a flux table), sorted by time.
    /// </summary>
    public static LabelledLightCurve From(LabelledObject labelled)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        var curve = new LabelledLightCurve { ObjectId = labelled.ObjectId, ClassName = labelled.Class, Redshift = labelled.Redshift };
        foreach (var o in labelled.Observations)
        {
            curve.Points.Add(new LabelledPoint(o.Mjd, Passbands.Letter(o.Band)[0], o.FluxMicroJy, o.FluxErrMicroJy, o.Kind == ObservationKind.Detection));
        }

        // List.Sort, as the simulator's own reader sorted: it is not stable, but the same points in the same order come out
        // in the same order, so points at the same time (the first of equally bright detections is the peak) give the
        // features compare and tune measured before.
        curve.Points.Sort(static (a, b) => a.Mjd.CompareTo(b.Mjd));
        return curve;
    }
}
