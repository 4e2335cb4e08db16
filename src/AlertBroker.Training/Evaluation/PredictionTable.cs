using System.Globalization;
using AlertBroker.Training.Data;

namespace AlertBroker.Training.Evaluation;

/// <summary>
/// Every evaluated object's class probabilities at each early-classification point and on its whole light curve, as
/// CSV (<c>evaluate --predictions FILE</c>): the numbers the report's figures are computed from, for a user's own
/// analysis (other metrics, calibration, pooling several runs' held-out parts, resampling to another class mix).
/// </summary>
/// <remarks>
/// Columns: <c>object_id</c>, <c>class</c> (the label), <c>view</c> (days after first detection — 0, 2, 5, 10, 15, 20,
/// 30, 50 — or <c>whole</c>), <c>steps</c> (how many of the object's encoded observations the probabilities are after),
/// then <c>p_&lt;class&gt;</c> per class in the model's order. A row per object and view; the rows of a view are exactly
/// the objects the report's figure for that view is computed on (the whole row is after the last encoded step; a day
/// row after the last step at or before first detection + that many days), so the report's macro AUROC of a view can
/// be recomputed from its rows.
/// </remarks>
public static class PredictionTable
{
    /// <summary>The <c>view</c> of the whole light curve.</summary>
    public const string Whole = "whole";

    /// <summary>Writes the table for <paramref name="predictions"/> (per object, [steps × classes]) of <paramref name="data"/>.</summary>
    public static void Write(TextWriter output, EncodedDataset data, float[][] predictions)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(predictions);
        if (predictions.Length != data.Count)
        {
            throw new ArgumentException($"{predictions.Length} prediction rows for {data.Count} objects", nameof(predictions));
        }

        var inv = CultureInfo.InvariantCulture;
        var k = data.Classes.Count;
        output.Write("object_id,class,view,steps");
        foreach (var c in data.Classes)
        {
            // The whole field is quoted ("p_S,N"), not the name inside it (p_"S,N" is not a CSV field).
            output.Write(',');
            output.Write(Csv("p_" + c));
        }

        output.WriteLine();
        for (var i = 0; i < data.Count; i++)
        {
            var days = data.DaysInternal[i];
            var length = data.LengthsInternal[i];
            foreach (var view in EarlyCurve.Days)
            {
                var steps = 0;
                while (steps < days.Length && days[steps] <= view)
                {
                    steps++;
                }

                if (steps > 0)
                {
                    Row(output, data, i, view.ToString(inv), steps, predictions[i].AsSpan((steps - 1) * k, k));
                }
            }

            Row(output, data, i, Whole, length, predictions[i].AsSpan((length - 1) * k, k));
        }
    }

    private static void Row(TextWriter output, EncodedDataset data, int i, string view, int steps, ReadOnlySpan<float> p)
    {
        output.Write(Csv(data.ObjectIdsInternal[i]));
        output.Write(',');
        output.Write(Csv(data.Classes[data.LabelsInternal[i]]));
        output.Write(',');
        output.Write(view);
        output.Write(',');
        output.Write(steps.ToString(CultureInfo.InvariantCulture));
        foreach (var v in p)
        {
            output.Write(',');
            output.Write(v.ToString("R", CultureInfo.InvariantCulture));
        }

        output.WriteLine();
    }

    // Ids and class names are plain in the data sets here; quote any that would break a CSV row.
    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
