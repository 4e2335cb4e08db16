using System.Buffers;
using System.Numerics.Tensors;

namespace AlertBroker.Model.Network;

/// <summary>
/// The managed reference forward pass of the GRU classifier, float32, with PyTorch/cuDNN GRU semantics
/// (<c>linear_before_reset=1</c>): r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
/// It reads the weight arrays on every call (a trainer may update them in between) and is safe to call from
/// several threads as long as nobody writes the weights meanwhile.
/// </summary>
public sealed class GruClassifier
{
    public GruClassifier(GruClassifierWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Weights = weights;
    }

    public GruClassifierWeights Weights { get; }

    public GruClassifierConfig Config => Weights.Config;

    /// <summary>
    /// Runs a padded batch, with the ONNX graph's tensor layout.
    /// <paramref name="x"/> is [batch, steps, InputFeatures]; <paramref name="meta"/> is [batch, MetaFeatures] (empty
    /// without a metadata branch); <paramref name="lengths"/> holds each row's valid steps (0..steps);
    /// <paramref name="h0"/> is [Layers, batch, HiddenSize] or empty for zeros.
    /// Writes <paramref name="probabilities"/> [batch, steps, Classes] and <paramref name="hn"/> [Layers, batch, HiddenSize],
    /// the state after each row's last valid step. Padded steps (t ≥ length) get the head applied to a zero GRU output,
    /// exactly as the exported graph does; they carry no meaning.
    /// </summary>
    public void Forward(
        ReadOnlySpan<float> x,
        ReadOnlySpan<float> meta,
        ReadOnlySpan<int> lengths,
        ReadOnlySpan<float> h0,
        int batch,
        int steps,
        Span<float> probabilities,
        Span<float> hn)
    {
        var c = Config;
        int f = c.InputFeatures, m = c.MetaFeatures, h = c.HiddenSize, layers = c.Layers;
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        RequireLength(x.Length, batch * steps * f, nameof(x));
        RequireLength(meta.Length, batch * m, nameof(meta));
        RequireLength(lengths.Length, batch, nameof(lengths));
        if (!h0.IsEmpty)
        {
            RequireLength(h0.Length, layers * batch * h, nameof(h0));
        }

        RequireLength(probabilities.Length, batch * steps * c.Classes, nameof(probabilities));
        RequireLength(hn.Length, layers * batch * h, nameof(hn));

        var scratch = new Scratch(c);
        try
        {
            for (var b = 0; b < batch; b++)
            {
                var length = lengths[b];
                if ((uint)length > (uint)steps)
                {
                    throw new ArgumentOutOfRangeException(nameof(lengths), length, $"Row {b}: lengths must lie in 0..{steps}.");
                }

                var state = scratch.State;
                for (var l = 0; l < layers; l++)
                {
                    var target = state.Slice(l * h, h);
                    if (h0.IsEmpty)
                    {
                        target.Clear();
                    }
                    else
                    {
                        h0.Slice(((l * batch) + b) * h, h).CopyTo(target);
                    }
                }

                var metaOut = scratch.MetaOut;
                if (m > 0)
                {
                    Dense(Weights.MetaDense!, meta.Slice(b * m, m), metaOut);
                    TensorPrimitives.Tanh(metaOut, metaOut);
                }

                for (var t = 0; t < steps; t++)
                {
                    ReadOnlySpan<float> top;
                    if (t < length)
                    {
                        ReadOnlySpan<float> input = x.Slice(((b * steps) + t) * f, f);
                        for (var l = 0; l < layers; l++)
                        {
                            var hl = state.Slice(l * h, h);
                            GruCell(Weights.GruLayers[l], input, hl, scratch.Gi, scratch.Gh);
                            input = hl;
                        }

                        top = input;
                    }
                    else
                    {
                        top = scratch.Zeros;
                    }

                    Head(top, metaOut, probabilities.Slice(((b * steps) + t) * c.Classes, c.Classes), scratch);
                }

                for (var l = 0; l < layers; l++)
                {
                    state.Slice(l * h, h).CopyTo(hn.Slice(((l * batch) + b) * h, h));
                }
            }
        }
        finally
        {
            scratch.Return();
        }
    }

    /// <summary>
    /// Runs k new steps of one object from its hidden state (incremental scoring). <paramref name="steps"/> is
    /// [k, InputFeatures]; <paramref name="h0"/> is [Layers, HiddenSize] or empty for a new object. Writes
    /// <paramref name="probabilities"/> [k, Classes] and <paramref name="hn"/> [Layers, HiddenSize].
    /// </summary>
    public void Run(ReadOnlySpan<float> steps, ReadOnlySpan<float> meta, ReadOnlySpan<float> h0, Span<float> probabilities, Span<float> hn)
    {
        var f = Config.InputFeatures;
        if (steps.Length % f != 0)
        {
            throw new ArgumentException($"Step data length {steps.Length} is not a multiple of {f} features.", nameof(steps));
        }

        var k = steps.Length / f;
        ReadOnlySpan<int> lengths = [k];
        Forward(steps, meta, lengths, h0, 1, k, probabilities, hn);
    }

    // One GRU step in place: h becomes h'.
    internal static void GruCell(GruLayerWeights w, ReadOnlySpan<float> x, Span<float> h, Span<float> gi, Span<float> gh)
    {
        var hs = w.HiddenSize;
        MatVec(w.WeightIh, w.BiasIh, x, gi);
        MatVec(w.WeightHh, w.BiasHh, h, gh);

        // r and z: σ(gi + gh) over the first two gate blocks at once.
        var rz = gi[..(2 * hs)];
        TensorPrimitives.Add(rz, gh[..(2 * hs)], rz);
        TensorPrimitives.Sigmoid(rz, rz);
        var r = gi[..hs];
        var z = gi.Slice(hs, hs);

        // n = tanh(gi_n + r ⊙ gh_n): the reset gate multiplies the recurrent term including its bias.
        var n = gi.Slice(2 * hs, hs);
        TensorPrimitives.FusedMultiplyAdd(r, gh.Slice(2 * hs, hs), n, n);
        TensorPrimitives.Tanh(n, n);

        // h' = n + z ⊙ (h − n)
        var diff = gh[..hs];
        TensorPrimitives.Subtract(h, n, diff);
        TensorPrimitives.FusedMultiplyAdd(z, diff, n, h);
    }

    // y = W x + b with W row-major [y.Length, x.Length].
    internal static void MatVec(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, Span<float> y)
    {
        var cols = x.Length;
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = TensorPrimitives.Dot(weight.Slice(i * cols, cols), x) + bias[i];
        }
    }

    internal static void Dense(DenseLayerWeights layer, ReadOnlySpan<float> x, Span<float> y) => MatVec(layer.Weight, layer.Bias, x, y);

    // Numerically stable softmax in place (shifts by the maximum, as ONNX Runtime does).
    internal static void Softmax(Span<float> values)
    {
        var max = TensorPrimitives.Max(values);
        TensorPrimitives.Subtract(values, max, values);
        TensorPrimitives.Exp(values, values);
        var sum = TensorPrimitives.Sum(values);
        TensorPrimitives.Divide(values, sum, values);
    }

    private void Head(ReadOnlySpan<float> top, ReadOnlySpan<float> metaOut, Span<float> probabilities, Scratch scratch)
    {
        var concat = scratch.Concat;
        var stepOut = concat[..Config.DenseSize];
        Dense(Weights.StepDense, top, stepOut);
        TensorPrimitives.Tanh(stepOut, stepOut);
        if (Config.MetaFeatures > 0)
        {
            metaOut.CopyTo(concat[Config.DenseSize..]);
        }

        var merged = scratch.Merge;
        Dense(Weights.Merge, concat, merged);
        TensorPrimitives.Max(merged, 0f, merged);
        var latent = scratch.Latent;
        Dense(Weights.Latent, merged, latent);
        TensorPrimitives.Max(latent, 0f, latent);
        Dense(Weights.Output, latent, probabilities);
        Softmax(probabilities);
    }

    private static void RequireLength(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected {expected} elements, got {actual}.", name);
        }
    }

    // Per-call work space, rented as one array.
    private readonly ref struct Scratch
    {
        private readonly float[] _buffer;
        private readonly GruClassifierConfig _c;

        public Scratch(GruClassifierConfig c)
        {
            _c = c;
            var total = (c.Layers * c.HiddenSize) + (6 * c.HiddenSize) + c.HiddenSize + c.MetaDenseSize + c.ConcatSize + c.MergeSize + c.LatentSize;
            _buffer = ArrayPool<float>.Shared.Rent(total);
            Array.Clear(_buffer);
        }

        public Span<float> State => _buffer.AsSpan(0, _c.Layers * _c.HiddenSize);

        public Span<float> Gi => _buffer.AsSpan(_c.Layers * _c.HiddenSize, 3 * _c.HiddenSize);

        public Span<float> Gh => _buffer.AsSpan((_c.Layers + 3) * _c.HiddenSize, 3 * _c.HiddenSize);

        public ReadOnlySpan<float> Zeros => _buffer.AsSpan((_c.Layers + 6) * _c.HiddenSize, _c.HiddenSize);

        public Span<float> MetaOut => _buffer.AsSpan((_c.Layers + 7) * _c.HiddenSize, _c.MetaDenseSize);

        public Span<float> Concat => _buffer.AsSpan(((_c.Layers + 7) * _c.HiddenSize) + _c.MetaDenseSize, _c.ConcatSize);

        public Span<float> Merge => _buffer.AsSpan(((_c.Layers + 7) * _c.HiddenSize) + _c.MetaDenseSize + _c.ConcatSize, _c.MergeSize);

        public Span<float> Latent => _buffer.AsSpan(((_c.Layers + 7) * _c.HiddenSize) + _c.MetaDenseSize + _c.ConcatSize + _c.MergeSize, _c.LatentSize);

        public void Return() => ArrayPool<float>.Shared.Return(_buffer);
    }
}
