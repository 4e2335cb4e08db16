using AlertBroker.Training.Data;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Evaluation;

/// <summary>
/// Early classification: the class probabilities each object had d days after its first detection — those after its
/// last observation at or before t_first + d — scored by macro one-vs-rest AUROC over all objects. Every object has
/// its first detection at d = 0, so every object takes part at every d; the points differ from the whole light curve
/// only for objects still observed after t_first + d. "Whole light curve" means every step the encoding keeps (the
/// first <see cref="EncodingOptions.MaxSteps"/> observations, whatever their time span).
/// </summary>
public static class EarlyCurve
{
    /// <summary>Days after first detection reported by <c>evaluate</c> and <c>experiment transfer</c>: 0, 2, 5, 10, 15, 20, 30, 50.</summary>
    public static IReadOnlyList<double> Days { get; } = [0, 2, 5, 10, 15, 20, 30, 50];

    /// <summary>Macro AUROC at each of <see cref="Days"/>.</summary>
    public static double[] MacroAuroc(EncodedDataset data, float[][] predictions)
    {
        ArgumentNullException.ThrowIfNull(data);
        var k = data.Classes.Count;
        var result = new double[Days.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var probs = Predictor.AtDay(data, predictions, Days[i], out var present);
            result[i] = ClassificationMetrics.MacroAuroc(probs, data.LabelsInternal, k, present);
        }

        return result;
    }

    /// <summary>
    /// The mean of the macro AUROC at <see cref="Days"/> and on the whole light curve (nine figures, equal weights):
    /// one number for choosing between models when early and late accuracy both matter.
    /// </summary>
    public static double MeanMacroAuroc(EncodedDataset data, float[][] predictions)
    {
        ArgumentNullException.ThrowIfNull(data);
        var early = MacroAuroc(data, predictions);
        var whole = ClassificationMetrics.MacroAuroc(Predictor.LastStep(data, predictions), data.LabelsInternal, data.Classes.Count);
        double sum = whole;
        var n = 1;
        foreach (var v in early)
        {
            if (double.IsFinite(v))
            {
                sum += v;
                n++;
            }
        }

        return double.IsFinite(whole) ? sum / n : double.NaN;
    }
}
