using AlertBroker.Alerts;
using AlertBroker.Model.Features;

namespace AlertBroker.Training.Data;

/// <summary>How labelled objects become network inputs.</summary>
public sealed record EncodingOptions
{
    /// <summary>Keep at most this many steps (the first ones); longer light curves are cut.</summary>
    public int MaxSteps { get; init; } = 100;

    /// <summary>Early-classification view: keep only points up to this many days after the first detection (null = all).</summary>
    public double? DaysAfterFirstDetection { get; init; }

    /// <summary>
    /// What the network gets of the metadata (redshift, MW E(B−V)): <see cref="MetadataUse.Known"/> (the default), the
    /// vector flagged unknown (<see cref="MetadataUse.Unknown"/>, stream conditions for a model that has a metadata
    /// branch) or no vector at all (<see cref="MetadataUse.None"/>, a model without one). Without known metadata the
    /// step times stay in the observer frame, as the worker encodes them when it has no redshift.
    /// </summary>
    public MetadataUse Metadata { get; init; } = MetadataUse.Known;

    /// <summary>
    /// The feature encoding (default <c>alertbroker-lc</c> v1): which points become steps, t₀ and the features. An encoding
    /// without metadata features gives no metadata vector whatever <see cref="Metadata"/> says.
    /// </summary>
    public IStepEncoding Encoding { get; init; } = StepEncodings.Default;
}

/// <summary>How the metadata enters an encoded set; see <see cref="EncodingOptions.Metadata"/>.</summary>
public enum MetadataUse
{
    /// <summary>The metadata vector with the data's values; redshift also makes the step times rest-frame.</summary>
    Known,

    /// <summary>The metadata vector with every value flagged unknown; observer-frame step times.</summary>
    Unknown,

    /// <summary>No metadata vector (a network without the metadata branch); observer-frame step times.</summary>
    None,
}

/// <summary>
/// Objects encoded with an <see cref="IStepEncoding"/> (the serving code, so training and serving cannot drift): per object
/// its steps [length, F], its metadata [M], its label index and the days since first detection of each step.
/// </summary>
public sealed class EncodedDataset
{
    internal EncodedDataset(IReadOnlyList<string> classes, string[] ids, float[][] steps, float[][] days, int[] lengths, float[] meta, int[] labels, int metaFeatures = LightCurveEncoding.MetaFeatureCount, int stepFeatures = LightCurveEncoding.StepFeatureCount, float[]? objectWeights = null, float[][]? softTargets = null)
    {
        if (objectWeights is not null && objectWeights.Length != labels.Length)
        {
            throw new ArgumentException($"{objectWeights.Length} object weights for {labels.Length} objects.", nameof(objectWeights));
        }

        if (softTargets is not null)
        {
            if (softTargets.Length != labels.Length)
            {
                throw new ArgumentException($"{softTargets.Length} soft-target rows for {labels.Length} objects.", nameof(softTargets));
            }

            for (var i = 0; i < softTargets.Length; i++)
            {
                if (softTargets[i].Length != lengths[i] * classes.Count)
                {
                    throw new ArgumentException($"Object {ids[i]}: {softTargets[i].Length} soft-target values for {lengths[i]} steps × {classes.Count} classes.", nameof(softTargets));
                }
            }
        }

        ObjectWeightsInternal = objectWeights;
        SoftTargetsInternal = softTargets;
        MetaFeatures = metaFeatures;
        StepFeatures = stepFeatures;
        Classes = classes;
        ObjectIdsInternal = ids;
        StepsInternal = steps;
        DaysInternal = days;
        LengthsInternal = lengths;
        MetaInternal = meta;
        LabelsInternal = labels;
    }

    public IReadOnlyList<string> Classes { get; }

    /// <summary>
    /// Objects of the labelled set that <see cref="Encode"/> could not use, with the reader's own (no observation, no
    /// label); <see cref="LeftOutObjects.None"/> for a subset or a set not made by <see cref="Encode"/>.
    /// </summary>
    public LeftOutObjects LeftOut { get; private init; } = LeftOutObjects.None;

    /// <summary>Metadata floats per object.</summary>
    public int MetaFeatures { get; }

    /// <summary>Features per step (the encoding's).</summary>
    public int StepFeatures { get; }

    public int Count => LabelsInternal.Length;

    public IReadOnlyList<string> ObjectIds => ObjectIdsInternal;

    public IReadOnlyList<int> Labels => LabelsInternal;

    public IReadOnlyList<int> Lengths => LengthsInternal;

    internal string[] ObjectIdsInternal { get; }

    internal float[][] StepsInternal { get; }

    /// <summary>Observer-frame days since the first detection, per step.</summary>
    internal float[][] DaysInternal { get; }

    internal int[] LengthsInternal { get; }

    internal float[] MetaInternal { get; }

    internal int[] LabelsInternal { get; }

    /// <summary>
    /// Per-object loss weights (null: every object weighs 1). The training loss of an object's steps is multiplied by its
    /// weight and by its class weight; used by the epoch composer (<see cref="Training.EpochComposer"/>), which folds the
    /// class weights of real objects and the replay weight of pool objects into one number per object.
    /// </summary>
    internal float[]? ObjectWeightsInternal { get; }

    /// <summary>The loss weight of object <paramref name="index"/> (1 unless set by <see cref="WithObjectWeights"/>).</summary>
    public float ObjectWeight(int index) => ObjectWeightsInternal?[index] ?? 1f;

    /// <summary>
    /// Per-object soft targets for distillation (null: none): for object i, [length × classes] class probabilities a
    /// teacher gave after each of its steps (<see cref="Training.Distillation"/>); row-major by step.
    /// </summary>
    internal float[][]? SoftTargetsInternal { get; }

    /// <summary>Whether every object carries soft targets (<see cref="WithSoftTargets"/>).</summary>
    public bool HasSoftTargets => SoftTargetsInternal is not null;

    /// <summary>The same objects (arrays shared, not copied) with per-object loss weights.</summary>
    public EncodedDataset WithObjectWeights(float[]? weights) =>
        new(Classes, ObjectIdsInternal, StepsInternal, DaysInternal, LengthsInternal, MetaInternal, LabelsInternal, MetaFeatures, StepFeatures, weights, SoftTargetsInternal);

    /// <summary>
    /// The same objects (arrays shared, not copied) with soft targets: for each object, [length × classes] probabilities
    /// (a teacher's after each step). Throws <see cref="ArgumentException"/> when a row does not fit its object.
    /// </summary>
    public EncodedDataset WithSoftTargets(float[][]? targets) =>
        new(Classes, ObjectIdsInternal, StepsInternal, DaysInternal, LengthsInternal, MetaInternal, LabelsInternal, MetaFeatures, StepFeatures, ObjectWeightsInternal, targets);

    /// <summary>
    /// The objects of <paramref name="first"/> followed by those of <paramref name="second"/> (arrays shared, not copied).
    /// Both must have the same class list and metadata width; object weights are kept (1 where a part has none).
    /// </summary>
    public static EncodedDataset Concat(EncodedDataset first, EncodedDataset second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (!first.Classes.SequenceEqual(second.Classes, StringComparer.Ordinal) || first.MetaFeatures != second.MetaFeatures)
        {
            throw new ArgumentException("Only data sets with the same classes (in the same order) and metadata width can be joined.", nameof(second));
        }

        if (first.HasSoftTargets || second.HasSoftTargets)
        {
            throw new ArgumentException("Data sets with soft targets (distillation) cannot be joined.", nameof(second));
        }

        float[]? weights = null;
        if (first.ObjectWeightsInternal is not null || second.ObjectWeightsInternal is not null)
        {
            weights = new float[first.Count + second.Count];
            for (var i = 0; i < first.Count; i++)
            {
                weights[i] = first.ObjectWeight(i);
            }

            for (var i = 0; i < second.Count; i++)
            {
                weights[first.Count + i] = second.ObjectWeight(i);
            }
        }

        return new EncodedDataset(
            first.Classes,
            [.. first.ObjectIdsInternal, .. second.ObjectIdsInternal],
            [.. first.StepsInternal, .. second.StepsInternal],
            [.. first.DaysInternal, .. second.DaysInternal],
            [.. first.LengthsInternal, .. second.LengthsInternal],
            [.. first.MetaInternal, .. second.MetaInternal],
            [.. first.LabelsInternal, .. second.LabelsInternal],
            first.MetaFeatures,
            first.StepFeatures,
            weights);
    }

    public long TotalSteps
    {
        get
        {
            long total = 0;
            foreach (var l in LengthsInternal)
            {
                total += l;
            }

            return total;
        }
    }

    /// <summary>Objects per class index.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes.Count];
        foreach (var l in LabelsInternal)
        {
            counts[l]++;
        }

        return counts;
    }

    /// <summary>The objects at <paramref name="indices"/>.</summary>
    public EncodedDataset Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var n = indices.Count;
        var ids = new string[n];
        var steps = new float[n][];
        var days = new float[n][];
        var lengths = new int[n];
        var labels = new int[n];
        var m = MetaFeatures;
        var meta = new float[n * m];
        var weights = ObjectWeightsInternal is null ? null : new float[n];
        var targets = SoftTargetsInternal is null ? null : new float[n][];
        for (var i = 0; i < n; i++)
        {
            var j = indices[i];
            if (targets is not null)
            {
                targets[i] = SoftTargetsInternal![j];
            }

            if (weights is not null)
            {
                weights[i] = ObjectWeightsInternal![j];
            }

            ids[i] = ObjectIdsInternal[j];
            steps[i] = StepsInternal[j];
            days[i] = DaysInternal[j];
            lengths[i] = LengthsInternal[j];
            labels[i] = LabelsInternal[j];
            MetaInternal.AsSpan(j * m, m).CopyTo(meta.AsSpan(i * m, m));
        }

        return new EncodedDataset(Classes, ids, steps, days, lengths, meta, labels, m, StepFeatures, weights, targets);
    }

    /// <summary>
    /// Encodes <paramref name="data"/> for a network over <paramref name="classes"/>; objects of other classes and
    /// objects without a step are left out.
    /// </summary>
    public static EncodedDataset Encode(LabelledDataset data, IReadOnlyList<string> classes, EncodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(classes);
        options ??= new EncodingOptions();
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < classes.Count; i++)
        {
            classIndex[classes[i]] = i;
        }

        var encoding = options.Encoding;
        var f = encoding.StepFeatureCount;
        var m = options.Metadata == MetadataUse.None ? 0 : encoding.MetaFeatureCount;
        var known = options.Metadata == MetadataUse.Known;
        var ids = new List<string>();
        var steps = new List<float[]>();
        var days = new List<float[]>();
        var lengths = new List<int>();
        var labels = new List<int>();
        var meta = new List<float>();
        Span<float> metaRow = stackalloc float[encoding.MetaFeatureCount];
        var otherClasses = new Dictionary<string, int>(StringComparer.Ordinal);
        var withoutSteps = 0;
        foreach (var o in data.Objects)
        {
            if (!classIndex.TryGetValue(o.Class, out var label))
            {
                otherClasses[o.Class] = otherClasses.GetValueOrDefault(o.Class) + 1;
                continue;
            }

            var points = encoding.SelectSteps(o.Observations, out var t0);
            if (points.Length == 0)
            {
                withoutSteps++;
                continue;
            }

            var length = Math.Min(points.Length, options.MaxSteps);
            if (options.DaysAfterFirstDetection is { } limit)
            {
                var keep = 0;
                while (keep < length && points[keep].Mjd <= t0 + limit)
                {
                    keep++;
                }

                length = keep;
            }

            if (length == 0)
            {
                continue;
            }

            var x = new float[length * f];
            encoding.EncodeSteps(points.AsSpan(0, length), 0, t0, known ? o.Redshift : double.NaN, x);
            var d = new float[length];
            for (var i = 0; i < length; i++)
            {
                d[i] = (float)(points[i].Mjd - t0);
            }

            encoding.EncodeMeta(known ? o.Redshift : double.NaN, known ? o.MwEbv : double.NaN, metaRow);

            ids.Add(o.ObjectId);
            steps.Add(x);
            days.Add(d);
            lengths.Add(length);
            labels.Add(label);
            meta.AddRange(metaRow[..m]);
        }

        return new EncodedDataset(classes, [.. ids], [.. steps], [.. days], [.. lengths], [.. meta], [.. labels], m, f)
        {
            LeftOut = data.LeftOut.Add(new LeftOutObjects { OtherClasses = otherClasses, WithoutSteps = withoutSteps }),
        };
    }

    /// <summary>Class names in order of decreasing count (ties by name): a stable default class order.</summary>
    public static IReadOnlyList<string> DefaultClasses(LabelledDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var counts = new List<KeyValuePair<string, int>>(data.ClassCounts());
        counts.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        var names = new string[counts.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = counts[i].Key;
        }

        return names;
    }

    /// <summary>
    /// A fixed synthetic set for benchmarks: <paramref name="sequences"/> sequences of <paramref name="steps"/> steps of
    /// uniform noise in [−0.5, 0.5), metadata uniform in [0, 1), labels cycling through <paramref name="classes"/>.
    /// </summary>
    public static EncodedDataset Synthetic(int sequences, int steps, int classes, int seed)
    {
        var random = new Random(seed);
        var f = LightCurveEncoding.StepFeatureCount;
        var m = LightCurveEncoding.MetaFeatureCount;
        var x = new float[sequences][];
        var labels = new int[sequences];
        var meta = new float[sequences * m];
        for (var i = 0; i < sequences; i++)
        {
            x[i] = new float[steps * f];
            for (var j = 0; j < x[i].Length; j++)
            {
                x[i][j] = (float)(random.NextDouble() - 0.5);
            }

            labels[i] = i % classes;
        }

        for (var j = 0; j < meta.Length; j++)
        {
            meta[j] = (float)random.NextDouble();
        }

        var names = new string[classes];
        for (var c = 0; c < classes; c++)
        {
            names[c] = "class" + c.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return FromArrays(names, x, meta, labels, m);
    }

    /// <summary>Builds a data set directly from encoded sequences (synthetic benchmarks and tests); step i of each object is at day i unless <paramref name="stepDays"/> says otherwise.</summary>
    internal static EncodedDataset FromArrays(IReadOnlyList<string> classes, float[][] steps, float[] meta, int[] labels, int metaFeatures, float[][]? stepDays = null, int stepFeatures = LightCurveEncoding.StepFeatureCount)
    {
        var n = labels.Length;
        var ids = new string[n];
        var days = stepDays ?? new float[n][];
        var lengths = new int[n];
        var f = stepFeatures;
        for (var i = 0; i < n; i++)
        {
            ids[i] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            lengths[i] = steps[i].Length / f;
            if (stepDays is not null)
            {
                continue;
            }

            days[i] = new float[lengths[i]];
            for (var t = 0; t < lengths[i]; t++)
            {
                days[i][t] = t;
            }
        }

        return new EncodedDataset(classes, ids, steps, days, lengths, meta, labels, metaFeatures, f);
    }

    /// <summary>Observations helper for readers: a detection when |flux| / error reaches <paramref name="threshold"/>.</summary>
    internal static ObservationKind KindFor(double flux, double error, double threshold) =>
        error > 0 && flux / error >= threshold ? ObservationKind.Detection : ObservationKind.Forced;
}
