using AlertBroker.Training.Training;

namespace AlertBroker.Training.Data;

/// <summary>Index sets of a split by object.</summary>
public sealed record DatasetSplit(int[] Train, int[] Validation, int[] Test)
{
    /// <summary>
    /// Stratified, seeded split: within each class the objects are shuffled and cut at the fractions, so every part
    /// keeps the class proportions (a class with at least three objects has one in every part).
    /// </summary>
    public static DatasetSplit Stratified(IReadOnlyList<int> labels, double validationFraction, double testFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var byClass = ByClass(labels);
        var random = new SplitMix(seed);
        List<int> train = [], validation = [], test = [];
        foreach (var members in byClass)
        {
            var span = members.ToArray();
            random.Shuffle(span);
            var n = span.Length;
            var nTest = (int)Math.Round(n * testFraction);
            var nVal = (int)Math.Round(n * validationFraction);
            if (n >= 3)
            {
                nTest = Math.Max(nTest, testFraction > 0 ? 1 : 0);
                nVal = Math.Max(nVal, validationFraction > 0 ? 1 : 0);
            }

            nTest = Math.Min(nTest, n);
            nVal = Math.Min(nVal, n - nTest);
            test.AddRange(span.AsSpan(0, nTest));
            validation.AddRange(span.AsSpan(nTest, nVal));
            train.AddRange(span.AsSpan(nTest + nVal));
        }

        train.Sort();
        validation.Sort();
        test.Sort();
        return new DatasetSplit([.. train], [.. validation], [.. test]);
    }

    /// <summary>
    /// A stratified, seeded subsample of <paramref name="pool"/> with <paramref name="count"/> objects, taken as prefixes
    /// of one seeded order per class (so for one seed the sets grow with the count). Every class present keeps at
    /// least one object.
    /// </summary>
    public static int[] Subsample(IReadOnlyList<int> pool, IReadOnlyList<int> labels, int count, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(labels);
        if (count >= pool.Count)
        {
            return [.. pool];
        }

        var classes = 0;
        foreach (var i in pool)
        {
            classes = Math.Max(classes, labels[i] + 1);
        }

        var members = new List<int>[classes];
        for (var c = 0; c < classes; c++)
        {
            members[c] = [];
        }

        foreach (var i in pool)
        {
            members[labels[i]].Add(i);
        }

        var random = new SplitMix(seed);
        var result = new List<int>(count);
        var taken = new int[classes];
        for (var c = 0; c < classes; c++)
        {
            var span = members[c].ToArray();
            random.Shuffle(span);
            members[c] = [.. span];
            var share = (int)Math.Floor((double)count * span.Length / pool.Count);
            taken[c] = Math.Min(span.Length, Math.Max(span.Length > 0 ? 1 : 0, share));
        }

        // Hand out what rounding left over, largest remainder first (deterministic).
        var total = 0;
        foreach (var t in taken)
        {
            total += t;
        }

        while (total < count)
        {
            var best = -1;
            var bestGap = double.NegativeInfinity;
            for (var c = 0; c < classes; c++)
            {
                if (taken[c] >= members[c].Count)
                {
                    continue;
                }

                var gap = ((double)count * members[c].Count / pool.Count) - taken[c];
                if (gap > bestGap)
                {
                    bestGap = gap;
                    best = c;
                }
            }

            if (best < 0)
            {
                break;
            }

            taken[best]++;
            total++;
        }

        for (var c = 0; c < classes; c++)
        {
            result.AddRange(members[c].GetRange(0, taken[c]));
        }

        result.Sort();
        return [.. result];
    }

    private static List<int>[] ByClass(IReadOnlyList<int> labels)
    {
        var classes = 0;
        foreach (var l in labels)
        {
            classes = Math.Max(classes, l + 1);
        }

        var byClass = new List<int>[classes];
        for (var c = 0; c < classes; c++)
        {
            byClass[c] = [];
        }

        for (var i = 0; i < labels.Count; i++)
        {
            byClass[labels[i]].Add(i);
        }

        return byClass;
    }
}
