namespace AlertBroker.Training.Data;

/// <summary>Loads the labelled sets the CLI names: CSV pairs (files or directories), or alert archives with a labels CSV.</summary>
public static class DatasetLoader
{
    /// <summary>
    /// With <paramref name="labels"/>, <paramref name="paths"/> are alert files, directories or archives; without,
    /// each path is a light-curve CSV pair (file or directory). <see cref="CsvReadOptions.DetectionsOnly"/> applies to both
    /// (for alerts: their detections without the forced photometry). The class mapping, if any, is applied last.
    /// </summary>
    public static LabelledDataset Load(IReadOnlyList<string> paths, string? labels, CsvReadOptions? options, ClassMapping? mapping, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        LabelledDataset data;
        if (labels is not null)
        {
            data = AlertArchiveDatasetReader.Read(paths, labels, cancellationToken, options?.DetectionsOnly ?? false, options?.RedshiftColumn ?? "redshift");
        }
        else
        {
            var sets = new List<LabelledDataset>();
            foreach (var p in paths)
            {
                cancellationToken.ThrowIfCancellationRequested();
                sets.Add(LightCurveCsvReader.Read(p, options));
            }

            data = sets.Count == 1 ? sets[0] : LabelledDataset.Concat(string.Join(';', paths), sets);
        }

        return mapping is null ? data : data.Map(mapping);
    }
}
