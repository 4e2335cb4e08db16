using System.Globalization;
using AlertBroker.Model.Packaging;
using AlertBroker.Registry;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// The promotion gate's holdout: a labelled data set, read once, on which each package's macro AUROC is measured through
/// ONNX Runtime; it also tells the gate which classes it holds, so a holdout lacking the model's classes is said (or refused).
/// </summary>
internal sealed class DatasetHoldout(IReadOnlyList<string> paths, string? labels, LabelledDataset data) : IHoldoutEvaluator
{
    public string Description => string.Create(CultureInfo.InvariantCulture, $"{string.Join(", ", paths)}{(labels is null ? string.Empty : " with labels " + labels)} ({data.Objects.Count} objects)");

    public IReadOnlyDictionary<string, int>? ClassCounts { get; } = data.ClassCounts();

    public static DatasetHoldout Load(IReadOnlyList<string> paths, string? labels, bool detectionsOnly, CancellationToken cancellationToken) =>
        new(paths, labels, DatasetLoader.Load(paths, labels, new CsvReadOptions { DetectionsOnly = detectionsOnly }, null, cancellationToken));

    public double MacroAuroc(ModelPackage package) => OnnxEvaluation.MacroAuroc(package, data);
}
