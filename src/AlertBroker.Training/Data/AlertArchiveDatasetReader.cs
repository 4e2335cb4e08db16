using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.Alerts.Csv;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Training.Data;

/// <summary>
/// Builds a labelled set from alert files, directories or nightly archives plus a labels CSV
/// (<c>object_id,class</c>, optionally <c>redshift</c> — or the column <c>redshiftColumn</c> names — and <c>mwebv</c>): each labelled object's detections and
/// forced photometry are merged across its alerts (deduplicated later by source id) — with <c>detectionsOnly</c>, its
/// detections alone; unlabelled objects are skipped.
/// </summary>
public static class AlertArchiveDatasetReader
{
    public static LabelledDataset Read(IReadOnlyList<string> paths, string labelsCsv, CancellationToken cancellationToken = default, bool detectionsOnly = false, string redshiftColumn = "redshift")
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(labelsCsv);
        var unknown = new RejectionCounter();
        var rejectedLabels = new RejectionCounter();
        var labels = ReadLabels(labelsCsv, redshiftColumn, unknown, rejectedLabels);
        var decoder = new AlertDecoder();
        var observations = new Dictionary<string, List<Observation>>(StringComparer.Ordinal);
        var alerts = new List<Alert>();
        var rejections = new RejectionCounter();
        var unlabelled = new HashSet<string>(StringComparer.Ordinal);

        foreach (var input in AlertArchiveReader.Read(paths, cancellationToken))
        {
            if (input.Error is not null)
            {
                rejections.Add("unreadable", input.Source);
                continue;
            }

            alerts.Clear();
            try
            {
                decoder.Decode(input.Payload, alerts);
            }
            catch (AlertFormatException)
            {
                rejections.Add("not a decodable alert", input.Source);
                continue;
            }

            foreach (var alert in alerts)
            {
                if (!labels.ContainsKey(alert.ObjectId))
                {
                    // Counted, as the CSV pairs count light curves without a metadata row (they were dropped without a word).
                    unlabelled.Add(alert.ObjectId);
                    continue;
                }

                if (!observations.TryGetValue(alert.ObjectId, out var list))
                {
                    list = [];
                    observations[alert.ObjectId] = list;
                }

                list.AddRange(alert.Detections);
                if (!detectionsOnly)
                {
                    list.AddRange(alert.ForcedPhotometry);
                }
            }
        }

        var objects = new List<LabelledObject>();
        foreach (var (id, (cls, z, ebv)) in labels)
        {
            if (observations.TryGetValue(id, out var list))
            {
                objects.Add(new LabelledObject(id, cls, [.. list], z, ebv));
            }
        }

        return new LabelledDataset(string.Join(';', paths), objects)
        {
            // Label rows and alert messages left out, counted together; the unit says which kinds there are.
            Rejected = rejectedLabels.ToRejected().Add(rejections.ToRejected()) is { Total: > 0 } all
                ? all with { Unit = rejectedLabels.ToRejected().Total == 0 ? "message" : rejections.ToRejected().Total == 0 ? "label row" : "label row or message" }
                : RejectedRows.None,
            LeftOut = new LeftOutObjects { WithoutObservations = labels.Count - objects.Count, WithoutLabel = unlabelled.Count },
            UnknownMetadata = unknown.ToUnknownMetadata(),
        };
    }

    private static Dictionary<string, (string Class, double Redshift, double Ebv)> ReadLabels(string path, string redshiftColumn, RejectionCounter unknown, RejectionCounter rejected)
    {
        using var text = LightCurveCsvReader.OpenText(path);
        using var reader = new CsvRecordReader(text, path);
        var header = reader.ReadHeader();
        var id = Array.IndexOf(header, "object_id");
        var cls = Array.IndexOf(header, "class");
        if (id < 0 || cls < 0)
        {
            throw new InvalidDataException($"{path}: needs object_id and class columns.");
        }

        var z = LightCurveCsvReader.RedshiftIndex(header, redshiftColumn, path);
        var ebv = Array.IndexOf(header, "mwebv");
        var result = new Dictionary<string, (string, double, double)>(StringComparer.Ordinal);
        var redshiftValues = new LightCurveCsvReader.RedshiftValues(redshiftColumn, path);
        while (reader.ReadFields() is { } f)
        {
            // As the light-curve CSVs' metadata reader: a row without an id or class, or repeating an id (the first kept), is
            // left out and counted. A repeated id took the last row's class without a word, and an empty class was a class.
            var problem = f.Length <= Math.Max(id, cls) || f[id].Trim().Length == 0 || f[cls].Trim().Length == 0 ? "label without an id or class"
                : result.ContainsKey(f[id]) ? "label repeating an object id"
                : null;
            if (problem is not null)
            {
                rejected.Add(problem, path, reader.Line);
                continue;
            }

            // The rule the light-curve CSVs and the worker follow (MetadataValues): a value the network cannot be given is
            // unknown, and counted. Before, a negative redshift or E(B−V) was used here as it stood.
            var redshift = LightCurveCsvReader.Usable(MetadataSources.HostRedshift, z >= 0 && z < f.Length ? redshiftValues.Add(f[z]) : double.NaN, redshiftColumn, unknown, path, reader.Line);
            result[f[id]] = (f[cls].Trim(), redshift, LightCurveCsvReader.Usable(MetadataSources.MilkyWayEbv, Value(f, ebv), "mwebv", unknown, path, reader.Line));
        }

        if (z >= 0)
        {
            redshiftValues.Check();
        }

        return result;
    }

    private static double Value(string[] f, int i) =>
        i >= 0 && i < f.Length && double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
}
