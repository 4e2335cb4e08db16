namespace AlertBroker.Model.Packaging;

/// <summary>The tensor names of the model contract.</summary>
public static class ModelTensorNames
{
    /// <summary>float32 [batch, steps, inputFeatures]: encoded steps, zero-padded after each row's length.</summary>
    public const string X = "x";

    /// <summary>float32 [batch, metaFeatures]: per-object metadata; absent when the network has none.</summary>
    public const string Meta = "meta";

    /// <summary>float32 [layers, batch, hidden]: GRU state before the first step (zeros for a new object).</summary>
    public const string H0 = "h0";

    /// <summary>int32 [batch]: valid steps per row, 1..steps.</summary>
    public const string Lengths = "lengths";

    /// <summary>float32 [batch, steps, classes]: class probabilities after each step.</summary>
    public const string Probs = "probs";

    /// <summary>float32 [layers, batch, hidden]: GRU state after each row's last valid step.</summary>
    public const string Hn = "hn";
}
