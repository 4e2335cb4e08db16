namespace AlertBroker.Training.Evaluation;

/// <summary>Metrics over predictions [n, classes] (row-major probabilities) and integer labels.</summary>
public static class ClassificationMetrics
{
    public static double Accuracy(ReadOnlySpan<float> probs, ReadOnlySpan<int> labels, int classes)
    {
        if (labels.IsEmpty)
        {
            return double.NaN;
        }

        var right = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            if (ArgMax(probs.Slice(i * classes, classes)) == labels[i])
            {
                right++;
            }
        }

        return (double)right / labels.Length;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>
    /// One-vs-rest AUROC of class <paramref name="cls"/> (Mann–Whitney U with ties counted half); NaN when the class
    /// has no positives or no negatives.
    /// </summary>
    public static double Auroc(ReadOnlySpan<float> probs, ReadOnlySpan<int> labels, int classes, int cls, ReadOnlySpan<bool> mask = default)
    {
        var scores = new List<(float Score, bool Positive)>(labels.Length);
        for (var i = 0; i < labels.Length; i++)
        {
            if (!mask.IsEmpty && !mask[i])
            {
                continue;
            }

            scores.Add((probs[(i * classes) + cls], labels[i] == cls));
        }

        scores.Sort((a, b) => a.Score.CompareTo(b.Score));
        long positives = 0, negatives = 0;
        double rankSum = 0;
        var index = 0;
        while (index < scores.Count)
        {
            var end = index;
            while (end + 1 < scores.Count && scores[end + 1].Score == scores[index].Score)
            {
                end++;
            }

            var averageRank = ((index + end) / 2.0) + 1;
            for (var j = index; j <= end; j++)
            {
                if (scores[j].Positive)
                {
                    positives++;
                    rankSum += averageRank;
                }
                else
                {
                    negatives++;
                }
            }

            index = end + 1;
        }

        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        return (rankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }

    /// <summary>Mean of the per-class one-vs-rest AUROCs over the classes that have positives and negatives (the paper's metric).</summary>
    public static double MacroAuroc(ReadOnlySpan<float> probs, ReadOnlySpan<int> labels, int classes, ReadOnlySpan<bool> mask = default)
    {
        double sum = 0;
        var n = 0;
        for (var c = 0; c < classes; c++)
        {
            var a = Auroc(probs, labels, classes, c, mask);
            if (!double.IsNaN(a))
            {
                sum += a;
                n++;
            }
        }

        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>Confusion matrix [true, predicted] of the arg-max predictions.</summary>
    public static int[,] Confusion(ReadOnlySpan<float> probs, ReadOnlySpan<int> labels, int classes)
    {
        var m = new int[classes, classes];
        for (var i = 0; i < labels.Length; i++)
        {
            m[labels[i], ArgMax(probs.Slice(i * classes, classes))]++;
        }

        return m;
    }

    /// <summary>The ROC curve of one class: false- and true-positive rates at every distinct threshold.</summary>
    public static (double[] Fpr, double[] Tpr) RocCurve(ReadOnlySpan<float> probs, ReadOnlySpan<int> labels, int classes, int cls)
    {
        var scores = new List<(float Score, bool Positive)>(labels.Length);
        long positives = 0, negatives = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var positive = labels[i] == cls;
            scores.Add((probs[(i * classes) + cls], positive));
            if (positive)
            {
                positives++;
            }
            else
            {
                negatives++;
            }
        }

        scores.Sort((a, b) => b.Score.CompareTo(a.Score));
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        long tp = 0, fp = 0;
        for (var i = 0; i < scores.Count; i++)
        {
            if (scores[i].Positive)
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (i + 1 == scores.Count || scores[i + 1].Score != scores[i].Score)
            {
                fpr.Add(negatives == 0 ? 0 : (double)fp / negatives);
                tpr.Add(positives == 0 ? 0 : (double)tp / positives);
            }
        }

        return ([.. fpr], [.. tpr]);
    }
}
