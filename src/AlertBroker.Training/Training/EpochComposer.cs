using AlertBroker.Training.Data;

namespace AlertBroker.Training.Training;

/// <summary>
/// Replay while fine-tuning: light curves from another set (typically the simulations the base was trained on) mixed
/// into every epoch, so that what the base learnt there — above all the rare classes, of which the real set has a
/// handful — is kept while the network adapts to the real light curves.
/// </summary>
public sealed record ReplayOptions
{
    /// <summary>The light curves to draw from (same classes and encoding as the training set).</summary>
    public required EncodedDataset Pool { get; init; }

    /// <summary>Pool objects drawn per epoch, per training object (0.5: half as many pool as real light curves).</summary>
    public double Ratio { get; init; } = 1;

    /// <summary>A pool object's loss weight, relative to the mean loss weight of a training object (its class weight averaged over the training set).</summary>
    public float Weight { get; init; } = 1;

    /// <summary>Throws for values outside their ranges.</summary>
    public void Validate()
    {
        if (Pool.Count == 0)
        {
            throw new ArgumentException("The replay pool is empty.");
        }

        if (!(Ratio is > 0 and <= 100))
        {
            throw new ArgumentException($"The replay ratio must be in (0, 100], not {Ratio}.");
        }

        if (!(Weight is > 0 and <= 1000))
        {
            throw new ArgumentException($"The replay weight must be in (0, 1000], not {Weight}.");
        }
    }
}

/// <summary>
/// Builds each epoch's training set: the training objects (augmented when <see cref="AugmentationOptions"/> says so),
/// followed by round(ratio × N) objects drawn from the replay pool without replacement (the pool is walked through in
/// a seeded random order, reshuffled when used up). Every object carries its whole loss weight
/// (<see cref="EncodedDataset.ObjectWeight"/>): a training object its class weight, a pool object the replay weight
/// times the training objects' mean class weight; the trainer then runs with unit class weights. Deterministic for a seed.
/// </summary>
internal sealed class EpochComposer
{
    private readonly EncodedDataset _train;
    private readonly float[] _trainWeights;
    private readonly ReplayOptions? _replay;
    private readonly LightCurveAugmenter? _augmenter;
    private readonly SplitMix _random;
    private readonly int[] _poolOrder = [];
    private readonly float _poolWeight;
    private int _cursor;

    public EpochComposer(EncodedDataset train, IReadOnlyList<float> classWeights, ReplayOptions? replay, AugmentationOptions? augmentation, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(classWeights);
        _train = train;
        _trainWeights = new float[train.Count];
        double mean = 0;
        for (var i = 0; i < train.Count; i++)
        {
            _trainWeights[i] = classWeights[train.LabelsInternal[i]] * train.ObjectWeight(i);
            mean += _trainWeights[i];
        }

        mean /= Math.Max(1, train.Count);
        if (replay is not null)
        {
            replay.Validate();
            if (!replay.Pool.Classes.SequenceEqual(train.Classes, StringComparer.Ordinal) || replay.Pool.MetaFeatures != train.MetaFeatures)
            {
                throw new ArgumentException("The replay pool must have the training set's classes (in the same order) and metadata width.", nameof(replay));
            }

            _replay = replay;
            _poolWeight = (float)(replay.Weight * mean);
            _poolOrder = new int[replay.Pool.Count];
            for (var i = 0; i < _poolOrder.Length; i++)
            {
                _poolOrder[i] = i;
            }

            _cursor = _poolOrder.Length; // shuffled on first use
        }

        // Separate streams, so that switching one feature on does not change the other's draws.
        _random = new SplitMix(seed ^ 0x6A09E667F3BCC908UL);
        _augmenter = augmentation is { IsActive: true } ? new LightCurveAugmenter(augmentation, seed ^ 0xBB67AE8584CAA73BUL) : null;
    }

    /// <summary>Pool objects per epoch.</summary>
    public int PoolPerEpoch => _replay is null ? 0 : (int)Math.Round(_replay.Ratio * _train.Count);

    /// <summary>The loss weight every pool object gets.</summary>
    public float PoolWeight => _poolWeight;

    /// <summary>The next epoch's set: training objects first, then the drawn pool objects; with their loss weights.</summary>
    public EncodedDataset Next()
    {
        var real = (_augmenter?.Augment(_train) ?? _train).WithObjectWeights(_trainWeights);
        if (_replay is null)
        {
            return real;
        }

        var count = PoolPerEpoch;
        var picked = new int[count];
        for (var i = 0; i < count; i++)
        {
            if (_cursor >= _poolOrder.Length)
            {
                _random.Shuffle(_poolOrder);
                _cursor = 0;
            }

            picked[i] = _poolOrder[_cursor++];
        }

        var pool = _replay.Pool.Subset(picked);
        var weights = new float[count];
        Array.Fill(weights, _poolWeight);
        return EncodedDataset.Concat(real, pool.WithObjectWeights(weights));
    }
}
