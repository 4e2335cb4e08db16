using AlertBroker.Model.Network;
using AlertBroker.Training.Numerics;

namespace AlertBroker.Training.Training;

/// <summary>
/// The weights plus the transposed copies the forward pass multiplies by ([in, out], so every forward product is
/// A·B with B contiguous along the output). <see cref="Refresh"/> after each optimiser step; read-only otherwise, so
/// both shards share one view.
/// </summary>
internal sealed class NetworkView
{
    public NetworkView(GruClassifierWeights weights)
    {
        Weights = weights;
        var c = weights.Config;
        WihT = new float[c.Layers][];
        WhhT = new float[c.Layers][];
        for (var l = 0; l < c.Layers; l++)
        {
            WihT[l] = new float[weights.GruLayers[l].WeightIh.Length];
            WhhT[l] = new float[weights.GruLayers[l].WeightHh.Length];
        }

        StepDenseT = new float[weights.StepDense.Weight.Length];
        MetaDenseT = weights.MetaDense is null ? [] : new float[weights.MetaDense.Weight.Length];
        MergeStepT = new float[c.DenseSize * c.MergeSize];
        MergeMetaT = c.MetaFeatures > 0 ? new float[c.MetaDenseSize * c.MergeSize] : [];
        LatentT = new float[weights.Latent.Weight.Length];
        OutputT = new float[weights.Output.Weight.Length];
        Refresh();
    }

    public GruClassifierWeights Weights { get; }

    public GruClassifierConfig Config => Weights.Config;

    public float[][] WihT { get; }

    public float[][] WhhT { get; }

    public float[] StepDenseT { get; }

    public float[] MetaDenseT { get; }

    public float[] MergeStepT { get; }

    public float[] MergeMetaT { get; }

    public float[] LatentT { get; }

    public float[] OutputT { get; }

    public void Refresh()
    {
        var w = Weights;
        var c = w.Config;
        for (var l = 0; l < c.Layers; l++)
        {
            var g = w.GruLayers[l];
            Sgemm.Transpose(g.WeightIh, 3 * c.HiddenSize, g.InputSize, g.InputSize, WihT[l]);
            Sgemm.Transpose(g.WeightHh, 3 * c.HiddenSize, c.HiddenSize, c.HiddenSize, WhhT[l]);
        }

        Sgemm.Transpose(w.StepDense.Weight, c.DenseSize, c.HiddenSize, c.HiddenSize, StepDenseT);
        if (w.MetaDense is not null)
        {
            Sgemm.Transpose(w.MetaDense.Weight, c.MetaDenseSize, c.MetaFeatures, c.MetaFeatures, MetaDenseT);
            Sgemm.Transpose(w.Merge.Weight.AsSpan(c.DenseSize), c.MergeSize, c.MetaDenseSize, c.ConcatSize, MergeMetaT);
        }

        Sgemm.Transpose(w.Merge.Weight, c.MergeSize, c.DenseSize, c.ConcatSize, MergeStepT);
        Sgemm.Transpose(w.Latent.Weight, c.LatentSize, c.MergeSize, c.MergeSize, LatentT);
        Sgemm.Transpose(w.Output.Weight, c.Classes, c.LatentSize, c.LatentSize, OutputT);
    }
}
