using AlertBroker.Model.Network;
using AlertBroker.Training.Data;

namespace AlertBroker.Training.Training;

/// <summary>Runs the trainer's forward pass over a whole data set, in parallel chunks.</summary>
public static class Predictor
{
    private const int Chunk = 256;

    /// <summary>Class probabilities after every step, per object ([length × classes], row-major).</summary>
    public static float[][] Predict(GruClassifierWeights weights, EncodedDataset data, int threads = 2)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return Predict(new NetworkView(weights), data, threads, [], StepLoss.AllSteps, out _);
    }

    internal static float[][] Predict(NetworkView net, EncodedDataset data, int threads, ReadOnlySpan<float> classWeights, StepLoss stepLoss, out double loss)
    {
        ArgumentNullException.ThrowIfNull(data);
        GruTrainer.CheckStepFeatures(net.Config, data, nameof(data));
        var k = net.Config.Classes;
        var result = new float[data.Count][];
        var chunks = (data.Count + Chunk - 1) / Chunk;
        var losses = new double[chunks];
        var weights = classWeights.ToArray();
        var total = Math.Max(1, BackpropWorkspace.Normaliser(stepLoss, data.LengthsInternal));
        var workspaces = new System.Collections.Concurrent.ConcurrentBag<BackpropWorkspace>();
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, ci =>
        {
            if (!workspaces.TryTake(out var ws))
            {
                ws = new BackpropWorkspace(net.Config);
            }

            var from = ci * Chunk;
            var count = Math.Min(Chunk, data.Count - from);
            var indices = new int[count];
            for (var i = 0; i < count; i++)
            {
                indices[i] = from + i;
            }

            ws.Load(data, indices);
            losses[ci] = ws.Forward(net, weights, total, stepLoss);
            for (var row = 0; row < ws.Rows; row++)
            {
                var length = ws.Length(row);
                var probs = new float[length * k];
                for (var t = 0; t < length; t++)
                {
                    ws.Probabilities(row, t).CopyTo(probs.AsSpan(t * k, k));
                }

                result[ws.DatasetIndex(row)] = probs;
            }

            workspaces.Add(ws);
        });

        loss = 0;
        foreach (var l in losses)
        {
            loss += l;
        }

        return result;
    }

    /// <summary>The probabilities after each object's last step, [objects, classes].</summary>
    public static float[] LastStep(EncodedDataset data, float[][] predictions)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(predictions);
        var k = data.Classes.Count;
        var last = new float[data.Count * k];
        for (var i = 0; i < data.Count; i++)
        {
            predictions[i].AsSpan((data.LengthsInternal[i] - 1) * k, k).CopyTo(last.AsSpan(i * k, k));
        }

        return last;
    }

    /// <summary>
    /// The probabilities each object had <paramref name="days"/> after its first detection (its last step up to then),
    /// [objects, classes], and a mask of the objects that had a step by then.
    /// </summary>
    public static float[] AtDay(EncodedDataset data, float[][] predictions, double days, out bool[] present)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(predictions);
        var k = data.Classes.Count;
        var probs = new float[data.Count * k];
        present = new bool[data.Count];
        for (var i = 0; i < data.Count; i++)
        {
            var d = data.DaysInternal[i];
            var step = -1;
            while (step + 1 < d.Length && d[step + 1] <= days)
            {
                step++;
            }

            if (step >= 0)
            {
                present[i] = true;
                predictions[i].AsSpan(step * k, k).CopyTo(probs.AsSpan(i * k, k));
            }
        }

        return probs;
    }
}
