using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Evaluation;

/// <summary>Per-class figures.</summary>
public sealed record ClassReport(string Class, int Support, double Precision, double Recall, double F1, double Auroc);

/// <summary>A ROC curve of one class (downsampled to at most a few hundred points).</summary>
public sealed record RocCurve(string Class, double[] FalsePositiveRate, double[] TruePositiveRate);

/// <summary>
/// Scores of the predictions <see cref="Days"/> after first detection (the probabilities after each object's last
/// observation at or before t_first + days; see <see cref="EarlyCurve"/>): over <see cref="Objects"/> objects, of which
/// <see cref="StillObserved"/> had observations after that time (for the others this is their whole light curve).
/// <see cref="PerClassAuroc"/> is in the order of the report's classes (NaN for a class without objects).
/// </summary>
/// <see cref="MacroAurocInterval"/> is the class-stratified bootstrap 95% interval (<see cref="Bootstrap"/>), when asked for.
public sealed record EarlyPoint(double Days, int Objects, double MacroAuroc, double Accuracy, int StillObserved = 0, IReadOnlyList<double>? PerClassAuroc = null, IReadOnlyList<double>? MacroAurocInterval = null);

/// <summary>Everything <c>alertbroker evaluate</c> reports; serialised as JSON and drawn as HTML.</summary>
public sealed record EvaluationReport
{
    public string Model { get; init; } = string.Empty;

    public string Data { get; init; } = string.Empty;

    public IReadOnlyList<string> Classes { get; init; } = [];

    public int Objects { get; init; }

    /// <summary>Mean one-vs-rest AUROC over classes (the paper's metric), on the full light curves.</summary>
    public double MacroAuroc { get; init; }

    public double MacroF1 { get; init; }

    public double Accuracy { get; init; }

    public IReadOnlyList<ClassReport> PerClass { get; init; } = [];

    /// <summary>The model's classes no evaluated object has: no AUROC; the macro figures average the others.</summary>
    public IReadOnlyList<string> ClassesWithoutObjects() => [.. PerClass.Where(c => c.Support == 0).Select(c => c.Class)];

    /// <summary>[true class][predicted class] counts.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Confusion { get; init; } = [];

    public IReadOnlyList<RocCurve> Roc { get; init; } = [];

    /// <summary>The early-classification curve at <see cref="EarlyCurve.Days"/>; the whole light curve is <see cref="MacroAuroc"/>.</summary>
    public IReadOnlyList<EarlyPoint> Early { get; init; } = [];

    /// <summary>Mean of the macro AUROC at the early days and on the whole light curve (<see cref="EarlyCurve.MeanMacroAuroc"/>).</summary>
    public double MeanEarlyMacroAuroc { get; init; } = double.NaN;

    /// <summary>Class-stratified bootstrap 95% interval of <see cref="MacroAuroc"/> (<see cref="Bootstrap"/>); null unless asked for.</summary>
    public IReadOnlyList<double>? MacroAurocInterval { get; init; }

    /// <summary>Bootstrap resamples behind the intervals (0: none computed).</summary>
    public int BootstrapResamples { get; init; }

    /// <summary>What <see cref="Data"/> was evaluated with: metadata known/unknown/none, steps kept.</summary>
    public string Conditions { get; init; } = string.Empty;

    /// <summary>Objects of the data that were not evaluated, and why (a class the model does not have, no observation, …).</summary>
    public LeftOutObjects LeftOut { get; init; } = LeftOutObjects.None;

    /// <summary>Rows of the data's files that were not observations, by reason, with the first (file and line).</summary>
    public RejectedRows RejectedRows { get; init; } = RejectedRows.None;

    /// <summary>Metadata values of the data's files read as unknown, by reason, with the first.</summary>
    public RejectedRows MetadataReadAsUnknown { get; init; } = RejectedRows.None with { Unit = "metadata value", Verb = "read as unknown" };

    /// <summary>Learning curves of the training run, when known.</summary>
    public IReadOnlyList<EpochRecord> History { get; init; } = [];

    /// <summary>Days after first detection at which the early-classification curve is evaluated (<see cref="EarlyCurve.Days"/>).</summary>
    public static IReadOnlyList<double> DefaultDays => EarlyCurve.Days;

    /// <summary>Evaluates <paramref name="weights"/> on <paramref name="data"/> (whose classes must be the network's).</summary>
    /// <param name="weights">The network.</param>
    /// <param name="data">The evaluated objects.</param>
    /// <param name="threads">Threads of the forward pass.</param>
    /// <param name="bootstrap">Stratified bootstrap resamples for the 95% intervals of the macro AUROC (0: none).</param>
    public static EvaluationReport Evaluate(GruClassifierWeights weights, EncodedDataset data, int threads = 2, int bootstrap = 0)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(data);
        var predictions = Predictor.Predict(weights, data, threads);
        return FromPredictions(data, predictions, bootstrap);
    }

    public static EvaluationReport FromPredictions(EncodedDataset data, float[][] predictions, int bootstrap = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        var k = data.Classes.Count;
        var labels = data.LabelsInternal;
        var last = Predictor.LastStep(data, predictions);
        var confusion = ClassificationMetrics.Confusion(last, labels, k);
        var perClass = new List<ClassReport>();
        var roc = new List<RocCurve>();
        double f1Sum = 0;
        var f1Count = 0;
        for (var c = 0; c < k; c++)
        {
            int tp = confusion[c, c], support = 0, predicted = 0;
            for (var j = 0; j < k; j++)
            {
                support += confusion[c, j];
                predicted += confusion[j, c];
            }

            var precision = predicted == 0 ? 0 : (double)tp / predicted;
            var recall = support == 0 ? double.NaN : (double)tp / support;
            var f1 = support == 0 ? double.NaN : precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            if (support > 0)
            {
                f1Sum += f1;
                f1Count++;
            }

            perClass.Add(new ClassReport(data.Classes[c], support, precision, recall, f1, ClassificationMetrics.Auroc(last, labels, k, c)));
            if (support > 0)
            {
                var (fpr, tpr) = ClassificationMetrics.RocCurve(last, labels, k, c);
                roc.Add(Downsample(data.Classes[c], fpr, tpr, 300));
            }
        }

        var early = new List<EarlyPoint>();
        foreach (var day in DefaultDays)
        {
            var probs = Predictor.AtDay(data, predictions, day, out var present);
            int n = 0, right = 0, still = 0;
            for (var i = 0; i < present.Length; i++)
            {
                if (present[i])
                {
                    n++;
                    if (ClassificationMetrics.ArgMax(probs.AsSpan(i * k, k)) == labels[i])
                    {
                        right++;
                    }
                }

                var d = data.DaysInternal[i];
                if (d.Length > 0 && d[^1] > day)
                {
                    still++;
                }
            }

            var perClassEarly = new double[k];
            for (var c = 0; c < k; c++)
            {
                perClassEarly[c] = ClassificationMetrics.Auroc(probs, labels, k, c, present);
            }

            early.Add(new EarlyPoint(day, n, ClassificationMetrics.MacroAuroc(probs, labels, k, present), n == 0 ? double.NaN : (double)right / n, still, perClassEarly,
                bootstrap > 0 && n == labels.Length ? Bootstrap.MacroAurocInterval(probs, labels, k, bootstrap) : null));
        }

        var matrix = new List<IReadOnlyList<int>>();
        for (var c = 0; c < k; c++)
        {
            var row = new int[k];
            for (var j = 0; j < k; j++)
            {
                row[j] = confusion[c, j];
            }

            matrix.Add(row);
        }

        return new EvaluationReport
        {
            Classes = data.Classes,
            Objects = data.Count,
            MacroAuroc = ClassificationMetrics.MacroAuroc(last, labels, k),
            MacroF1 = f1Count == 0 ? double.NaN : f1Sum / f1Count,
            Accuracy = ClassificationMetrics.Accuracy(last, labels, k),
            PerClass = perClass,
            Confusion = matrix,
            Roc = roc,
            Early = early,
            MeanEarlyMacroAuroc = EarlyCurve.MeanMacroAuroc(data, predictions),
            MacroAurocInterval = bootstrap > 0 ? Bootstrap.MacroAurocInterval(last, labels, k, bootstrap) : null,
            BootstrapResamples = Math.Max(0, bootstrap),
        };
    }

    private static RocCurve Downsample(string cls, double[] fpr, double[] tpr, int max)
    {
        if (fpr.Length <= max)
        {
            return new RocCurve(cls, fpr, tpr);
        }

        var f = new double[max];
        var t = new double[max];
        for (var i = 0; i < max; i++)
        {
            var j = (int)((long)i * (fpr.Length - 1) / (max - 1));
            f[i] = fpr[j];
            t[i] = tpr[j];
        }

        return new RocCurve(cls, f, t);
    }
}
