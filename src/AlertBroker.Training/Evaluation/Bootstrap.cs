using AlertBroker.Training.Training;

namespace AlertBroker.Training.Evaluation;

/// <summary>
/// How uncertain a test figure is because the test objects are a sample: the class-stratified bootstrap. Each resample
/// draws, within every class, as many objects as the class has, with replacement (so a class of 3 stays 3, but which 3
/// varies); the interval is the 2.5th–97.5th percentile of the figure over the resamples. It says nothing about
/// training noise (that is what repeating seeds measures) and is widest where a class has few objects.
/// </summary>
public static class Bootstrap
{
    /// <summary>The central 95% interval of the macro AUROC of <paramref name="probs"/> ([n, classes]) over <paramref name="resamples"/> stratified resamples.</summary>
    public static double[] MacroAurocInterval(float[] probs, int[] labels, int classes, int resamples, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(probs);
        ArgumentNullException.ThrowIfNull(labels);
        if (resamples <= 0 || labels.Length == 0)
        {
            return [double.NaN, double.NaN];
        }

        var members = new List<int>[classes];
        for (var c = 0; c < classes; c++)
        {
            members[c] = [];
        }

        for (var i = 0; i < labels.Length; i++)
        {
            members[labels[i]].Add(i);
        }

        var random = new SplitMix(seed);
        var sampleProbs = new float[probs.Length];
        var sampleLabels = new int[labels.Length];
        var values = new List<double>(resamples);
        for (var r = 0; r < resamples; r++)
        {
            var k = 0;
            for (var c = 0; c < classes; c++)
            {
                var m = members[c];
                for (var j = 0; j < m.Count; j++)
                {
                    var i = m[random.NextInt(m.Count)];
                    probs.AsSpan(i * classes, classes).CopyTo(sampleProbs.AsSpan(k * classes, classes));
                    sampleLabels[k++] = c;
                }
            }

            var v = ClassificationMetrics.MacroAuroc(sampleProbs, sampleLabels, classes);
            if (double.IsFinite(v))
            {
                values.Add(v);
            }
        }

        if (values.Count == 0)
        {
            return [double.NaN, double.NaN];
        }

        values.Sort();
        return [Percentile(values, 0.025), Percentile(values, 0.975)];
    }

    private static double Percentile(List<double> sorted, double q)
    {
        var position = q * (sorted.Count - 1);
        var lo = (int)Math.Floor(position);
        var hi = Math.Min(sorted.Count - 1, lo + 1);
        return sorted[lo] + ((position - lo) * (sorted[hi] - sorted[lo]));
    }
}
