using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using AlertBroker.Training.Data;

namespace AlertBroker.Training.Evaluation;

/// <summary>
/// Evaluates a model package as it is served — through ONNX Runtime and the batched scorer — rather than through
/// the trainer's managed weights, so a promotion gate measures exactly what the workers will run.
/// </summary>
public static class OnnxEvaluation
{
    private const int BatchSize = 256;

    /// <summary>
    /// Class probabilities after every step of every object ([length × classes] per object), through ONNX Runtime: how
    /// <c>evaluate</c> scores a package whose graph was not exported by this project (its weights cannot be read back).
    /// </summary>
    public static float[][] PredictSteps(ModelPackage package, EncodedDataset data)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(data);
        using var scorer = new BatchScorer(package);
        var d = scorer.Dimensions;
        var result = new float[data.Count][];
        for (var from = 0; from < data.Count; from += BatchSize)
        {
            var count = Math.Min(BatchSize, data.Count - from);
            var requests = new ScoringRequest[count];
            for (var r = 0; r < count; r++)
            {
                var i = from + r;
                var meta = d.MetaFeatures == 0 ? ReadOnlyMemory<float>.Empty : data.MetaInternal.AsMemory(i * data.MetaFeatures, d.MetaFeatures);
                requests[r] = new ScoringRequest(data.StepsInternal[i], meta, ReadOnlyMemory<float>.Empty);
            }

            var results = scorer.Score(requests);
            for (var r = 0; r < count; r++)
            {
                result[from + r] = results[r].Probabilities;
            }
        }

        return result;
    }

    /// <summary>Class probabilities after each object's last step, [objects, classes], in the dataset's order.</summary>
    public static float[] PredictLastStep(ModelPackage package, EncodedDataset data)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(data);
        using var scorer = new BatchScorer(package);
        var d = scorer.Dimensions;
        var probs = new float[data.Count * d.Classes];
        var requests = new List<ScoringRequest>(BatchSize);
        var first = 0;
        for (var i = 0; i <= data.Count; i++)
        {
            if (i < data.Count)
            {
                var meta = d.MetaFeatures == 0 ? ReadOnlyMemory<float>.Empty : data.MetaInternal.AsMemory(i * data.MetaFeatures, d.MetaFeatures);
                requests.Add(new ScoringRequest(data.StepsInternal[i], meta, ReadOnlyMemory<float>.Empty));
            }

            if (requests.Count == BatchSize || (i == data.Count && requests.Count > 0))
            {
                var results = scorer.Score(requests.ToArray());
                for (var r = 0; r < results.Length; r++)
                {
                    results[r].Probabilities.AsSpan((results[r].Steps - 1) * d.Classes, d.Classes).CopyTo(probs.AsSpan((first + r) * d.Classes));
                }

                first += requests.Count;
                requests.Clear();
            }
        }

        return probs;
    }

    /// <summary>Macro one-vs-rest AUROC of the package on <paramref name="data"/>, encoded with the package's own class list.</summary>
    public static double MacroAuroc(ModelPackage package, LabelledDataset data, int maxSteps = 100)
    {
        ArgumentNullException.ThrowIfNull(package);
        var classes = package.Manifest.Classes;
        var encoded = EncodedDataset.Encode(data, classes, new EncodingOptions
        {
            MaxSteps = maxSteps,
            Metadata = package.Manifest.Network.MetaFeatures > 0 ? MetadataUse.Known : MetadataUse.None,
            Encoding = StepEncodings.Get(package.Manifest.Encoding.Id),
        });
        var probs = PredictLastStep(package, encoded);
        return ClassificationMetrics.MacroAuroc(probs, encoded.LabelsInternal, classes.Count);
    }
}
