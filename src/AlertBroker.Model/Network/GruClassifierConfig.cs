namespace AlertBroker.Model.Network;

/// <summary>
/// Sizes of the GRU classifier: <see cref="Layers"/> stacked unidirectional GRU layers of <see cref="HiddenSize"/> units →
/// dense <see cref="DenseSize"/> (tanh) per step; an optional metadata branch (<see cref="MetaFeatures"/> → dense
/// <see cref="MetaDenseSize"/>, tanh) broadcast to every step; concat → dense <see cref="MergeSize"/> (ReLU) → dense
/// <see cref="LatentSize"/> (ReLU) → dense <see cref="Classes"/> → softmax per step.
/// </summary>
public sealed record GruClassifierConfig
{
    /// <summary>Features per step (the feature encoder's step width).</summary>
    public required int InputFeatures { get; init; }

    /// <summary>Per-object metadata features; 0 removes the metadata branch (and the <c>meta</c> input).</summary>
    public int MetaFeatures { get; init; }

    public int HiddenSize { get; init; } = 100;

    public int Layers { get; init; } = 2;

    /// <summary>Width of the tanh layer applied to each step's GRU output.</summary>
    public int DenseSize { get; init; } = 100;

    /// <summary>Width of the tanh layer on the metadata vector (ignored when <see cref="MetaFeatures"/> is 0).</summary>
    public int MetaDenseSize { get; init; } = 10;

    /// <summary>Width of the ReLU layer on the concatenation of step and metadata features.</summary>
    public int MergeSize { get; init; } = 100;

    /// <summary>Width of the "latent" ReLU layer before the class layer.</summary>
    public int LatentSize { get; init; } = 100;

    public required int Classes { get; init; }

    /// <summary>
    /// The network is this many independent members side by side (<c>models ensemble</c>): every width is the members'
    /// total, and every weight matrix but the output layer's is block-diagonal, member k's block at rows and columns
    /// k·(width/Members). The exporter writes one GRU stack and head per member (K times, not K², the arithmetic of
    /// one) when the weights are block-diagonal, and the whole as one network otherwise (e.g. after training them).
    /// </summary>
    public int Members { get; init; } = 1;

    /// <summary>The shape of one of the <see cref="Members"/> (every width divided by their number; this one for one member).</summary>
    /// <remarks>A method, not a property: a record prints its properties, and this one would print itself.</remarks>
    public GruClassifierConfig MemberConfig() => Members == 1 ? this : this with
    {
        HiddenSize = HiddenSize / Members,
        DenseSize = DenseSize / Members,
        MetaDenseSize = MetaFeatures > 0 ? MetaDenseSize / Members : MetaDenseSize,
        MergeSize = MergeSize / Members,
        LatentSize = LatentSize / Members,
        Members = 1,
    };

    /// <summary>Width of the concatenation fed to the merge layer.</summary>
    public int ConcatSize => DenseSize + (MetaFeatures > 0 ? MetaDenseSize : 0);

    /// <summary>Throws <see cref="ArgumentException"/> when a size is out of range.</summary>
    public void Validate()
    {
        Positive(InputFeatures, nameof(InputFeatures));
        Positive(HiddenSize, nameof(HiddenSize));
        Positive(Layers, nameof(Layers));
        Positive(DenseSize, nameof(DenseSize));
        Positive(MergeSize, nameof(MergeSize));
        Positive(LatentSize, nameof(LatentSize));
        Positive(Classes, nameof(Classes));
        if (MetaFeatures < 0)
        {
            throw new ArgumentException($"{nameof(MetaFeatures)} must be 0 or positive, not {MetaFeatures}.");
        }

        Positive(Members, nameof(Members));
        if (HiddenSize % Members != 0 || DenseSize % Members != 0 || MergeSize % Members != 0 || LatentSize % Members != 0
            || (MetaFeatures > 0 && MetaDenseSize % Members != 0))
        {
            throw new ArgumentException($"every width must be a multiple of {nameof(Members)} ({Members}).");
        }

        if (MetaFeatures > 0)
        {
            Positive(MetaDenseSize, nameof(MetaDenseSize));
            if ((long)DenseSize + MetaDenseSize > int.MaxValue)
            {
                throw new ArgumentException($"{nameof(DenseSize)} + {nameof(MetaDenseSize)} is too large.");
            }
        }
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException($"{name} must be positive, not {value}.");
        }
    }
}
