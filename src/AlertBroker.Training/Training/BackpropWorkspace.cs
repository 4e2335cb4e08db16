using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Numerics;

namespace AlertBroker.Training.Training;

/// <summary>
/// Forward and backward pass of the GRU classifier over one shard of a mini-batch, step-synchronously: the shard's
/// sequences are sorted by length (longest first) and packed time-major, so step t holds the first n_t rows and
/// every GRU step is one [n_t, in] × [in, 3H] product. Input projections, the head and all weight gradients are
/// single products over every packed row. Activations for backpropagation through time stay in buffers that only
/// grow; one workspace serves one thread.
/// </summary>
/// <remarks>
/// Loss: Σ over valid steps of ω · w_c · w_o · (−log p_c) (w_o the object's weight, <see cref="EncodedDataset.ObjectWeight"/>), divided by the caller's normaliser (the whole batch's Σ ω,
/// <see cref="Normaliser(StepLoss, IEnumerable{int})"/>), so the shards' losses and gradients add up to the batch's. ω is the step weight of the
/// <see cref="StepLoss"/> mode. Padded steps are never computed. With a soft-target weight α &gt; 0 (distillation,
/// <see cref="TrainingOptions.DistillationWeight"/>) the one-hot target of each step becomes (1 − α)·onehot + α·q, q the
/// step's soft target (<see cref="EncodedDataset.SoftTargetsInternal"/>): −Σ_c target_c log p_c, gradient p − target.
/// </remarks>
internal sealed class BackpropWorkspace
{
    private readonly GruClassifierConfig _c;
    private readonly int _h;
    private readonly int _layers;

    private int[] _order = [];
    private int[] _lengths = [];
    private int[] _labels = [];
    private float[] _rowWeight = [];
    private float[][] _rowDays = [];
    private float[]?[] _rowTargets = [];
    private float[] _omega = [];
    private int[] _count = [];
    private int[] _offset = [];
    private int _rows;
    private int _steps;
    private int _total;

    private float[] _x = [];
    private float[] _meta = [];
    private float[] _metaOut = [];
    private float[] _metaMerge = [];
    private readonly float[][] _g;
    private readonly float[][] _gh;
    private readonly float[][] _hs;
    private readonly float[][] _hp;
    private float[] _s = [];
    private float[] _mg = [];
    private float[] _lat = [];
    private float[] _p = [];

    private float[] _dLogits = [];
    private float[] _dLat = [];
    private float[] _dMg = [];
    private float[] _dS = [];
    private float[] _dH = [];
    private float[] _dMgSum = [];
    private float[] _dMetaOut = [];
    private float[] _carry = [];

    public BackpropWorkspace(GruClassifierConfig config)
    {
        _c = config;
        _h = config.HiddenSize;
        _layers = config.Layers;
        _g = new float[_layers][];
        _gh = new float[_layers][];
        _hs = new float[_layers][];
        _hp = new float[_layers][];
        for (var l = 0; l < _layers; l++)
        {
            _g[l] = [];
            _gh[l] = [];
            _hs[l] = [];
            _hp[l] = [];
        }
    }

    /// <summary>Sequences loaded (rows of the shard).</summary>
    public int Rows => _rows;

    /// <summary>Valid steps in the shard.</summary>
    public int TotalSteps => _total;

    /// <summary>The data-set index of sorted row <paramref name="row"/>.</summary>
    public int DatasetIndex(int row) => _order[row];

    public int Length(int row) => _lengths[row];

    /// <summary>Class probabilities of sorted row <paramref name="row"/> after step <paramref name="step"/> (&lt; its length).</summary>
    public ReadOnlySpan<float> Probabilities(int row, int step) => _p.AsSpan((_offset[step] + row) * _c.Classes, _c.Classes);

    /// <summary>Gathers the sequences <paramref name="indices"/> of <paramref name="data"/>, sorted and packed.</summary>
    public void Load(EncodedDataset data, ReadOnlySpan<int> indices)
    {
        var rows = indices.Length;
        if (_order.Length < rows)
        {
            var capacity = Math.Max(rows, 8);
            _order = new int[capacity];
            _lengths = new int[capacity];
            _labels = new int[capacity];
            _rowWeight = new float[capacity];
            _rowDays = new float[capacity][];
            _rowTargets = new float[capacity][];
        }

        indices.CopyTo(_order);
        var order = _order;
        var lengths = data.LengthsInternal;
        Array.Sort(order, 0, rows, Comparer<int>.Create((a, b) =>
        {
            var c = lengths[b].CompareTo(lengths[a]);
            return c != 0 ? c : a.CompareTo(b);
        }));
        _rows = rows;
        var steps = 0;
        var total = 0;
        for (var i = 0; i < rows; i++)
        {
            _lengths[i] = lengths[order[i]];
            _labels[i] = data.LabelsInternal[order[i]];
            _rowWeight[i] = data.ObjectWeight(order[i]);
            _rowDays[i] = data.DaysInternal[order[i]];
            _rowTargets[i] = data.SoftTargetsInternal?[order[i]];
            total += _lengths[i];
            steps = Math.Max(steps, _lengths[i]);
        }

        _steps = steps;
        _total = total;
        if (_count.Length < steps + 1)
        {
            _count = new int[steps + 1];
            _offset = new int[steps + 1];
        }

        var n = rows;
        var offset = 0;
        for (var t = 0; t < steps; t++)
        {
            while (n > 0 && _lengths[n - 1] <= t)
            {
                n--;
            }

            _count[t] = n;
            _offset[t] = offset;
            offset += n;
        }

        _offset[steps] = offset;
        EnsureCapacity(rows, total);

        var f = _c.InputFeatures;
        for (var t = 0; t < steps; t++)
        {
            var off = _offset[t];
            for (var i = 0; i < _count[t]; i++)
            {
                data.StepsInternal[order[i]].AsSpan(t * f, f).CopyTo(_x.AsSpan((off + i) * f, f));
            }
        }

        var m = _c.MetaFeatures;
        if (m > 0)
        {
            for (var i = 0; i < rows; i++)
            {
                data.MetaInternal.AsSpan(order[i] * m, m).CopyTo(_meta.AsSpan(i * m, m));
            }
        }
    }

    private void EnsureCapacity(int rows, int total)
    {
        var h3 = 3 * _h;
        Grow(ref _x, total * _c.InputFeatures);
        Grow(ref _meta, rows * _c.MetaFeatures);
        Grow(ref _metaOut, rows * _c.MetaDenseSize);
        Grow(ref _metaMerge, rows * _c.MergeSize);
        for (var l = 0; l < _layers; l++)
        {
            Grow(ref _g[l], total * h3);
            Grow(ref _gh[l], total * h3);
            Grow(ref _hs[l], total * _h);
            Grow(ref _hp[l], total * _h);
        }

        Grow(ref _s, total * _c.DenseSize);
        Grow(ref _mg, total * _c.MergeSize);
        Grow(ref _lat, total * _c.LatentSize);
        Grow(ref _p, total * _c.Classes);
        Grow(ref _dLogits, total * _c.Classes);
        Grow(ref _dLat, total * _c.LatentSize);
        Grow(ref _dMg, total * _c.MergeSize);
        Grow(ref _dS, total * _c.DenseSize);
        Grow(ref _dH, total * _h);
        Grow(ref _dMgSum, rows * _c.MergeSize);
        Grow(ref _dMetaOut, rows * _c.MetaDenseSize);
        Grow(ref _carry, rows * _h);
    }

    private static void Grow(ref float[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            // Headroom so that slightly larger batches later do not reallocate.
            buffer = new float[size + (size / 4)];
        }
    }

    /// <summary>
    /// Runs the network over the loaded shard. Returns the shard's share of the batch loss (see remarks), or 0 when
    /// <paramref name="classWeights"/> is empty (inference only).
    /// </summary>
    public double Forward(NetworkView net, ReadOnlySpan<float> classWeights, double normaliser, StepLoss stepLoss = StepLoss.AllSteps, float softWeight = 0)
    {
        var w = net.Weights;
        var c = _c;
        int h = _h, h3 = 3 * _h, n = _total, b = _rows;
        for (var l = 0; l < _layers; l++)
        {
            var layer = w.GruLayers[l];
            var input = l == 0 ? _x : _hs[l - 1];
            var inW = layer.InputSize;
            var g = _g[l];
            FillRows(g, n, layer.BiasIh);
            Sgemm.Multiply(n, h3, inW, input, inW, 1, net.WihT[l], h3, g, h3, accumulate: true);
            var gh = _gh[l];
            var hs = _hs[l];
            var hp = _hp[l];
            for (var t = 0; t < _steps; t++)
            {
                int rows = _count[t], off = _offset[t];
                var hpRows = hp.AsSpan(off * h, rows * h);
                var ghRows = gh.AsSpan(off * h3, rows * h3);
                FillRows(ghRows, rows, layer.BiasHh);
                if (t == 0)
                {
                    hpRows.Clear();
                }
                else
                {
                    hs.AsSpan(_offset[t - 1] * h, rows * h).CopyTo(hpRows);
                    Sgemm.Multiply(rows, h3, h, hpRows, h, 1, net.WhhT[l], h3, ghRows, h3, accumulate: true);
                }

                for (var i = 0; i < rows; i++)
                {
                    var gi = g.AsSpan((off + i) * h3, h3);
                    var ghi = ghRows.Slice(i * h3, h3);
                    var rz = gi[..(2 * h)];
                    TensorPrimitives.Add(rz, ghi[..(2 * h)], rz);
                    TensorPrimitives.Sigmoid(rz, rz);
                    var r = gi[..h];
                    var z = gi.Slice(h, h);
                    var nn = gi.Slice(2 * h, h);
                    TensorPrimitives.FusedMultiplyAdd(r, ghi.Slice(2 * h, h), nn, nn);
                    TensorPrimitives.Tanh(nn, nn);
                    var hOut = hs.AsSpan((off + i) * h, h);
                    TensorPrimitives.Subtract(hpRows.Slice(i * h, h), nn, hOut);
                    TensorPrimitives.FusedMultiplyAdd(z, hOut, nn, hOut);
                }
            }
        }

        // Head over every packed row at once.
        var top = _hs[_layers - 1];
        int d = c.DenseSize, mg = c.MergeSize, lat = c.LatentSize, k = c.Classes;
        var s = _s.AsSpan(0, n * d);
        FillRows(s, n, w.StepDense.Bias);
        Sgemm.Multiply(n, d, h, top, h, 1, net.StepDenseT, d, s, d, accumulate: true);
        TensorPrimitives.Tanh(s, s);

        var merged = _mg.AsSpan(0, n * mg);
        FillRows(merged, n, w.Merge.Bias);
        Sgemm.Multiply(n, mg, d, s, d, 1, net.MergeStepT, mg, merged, mg, accumulate: true);
        if (c.MetaFeatures > 0)
        {
            int m = c.MetaFeatures, md = c.MetaDenseSize;
            var metaOut = _metaOut.AsSpan(0, b * md);
            FillRows(metaOut, b, w.MetaDense!.Bias);
            Sgemm.Multiply(b, md, m, _meta, m, 1, net.MetaDenseT, md, metaOut, md, accumulate: true);
            TensorPrimitives.Tanh(metaOut, metaOut);
            Sgemm.Multiply(b, mg, md, metaOut, md, 1, net.MergeMetaT, mg, _metaMerge, mg, accumulate: false);
            for (var t = 0; t < _steps; t++)
            {
                var off = _offset[t];
                var rows = _count[t];
                TensorPrimitives.Add(merged.Slice(off * mg, rows * mg), _metaMerge.AsSpan(0, rows * mg), merged.Slice(off * mg, rows * mg));
            }
        }

        TensorPrimitives.Max(merged, 0f, merged);
        var latent = _lat.AsSpan(0, n * lat);
        FillRows(latent, n, w.Latent.Bias);
        Sgemm.Multiply(n, lat, mg, merged, mg, 1, net.LatentT, lat, latent, lat, accumulate: true);
        TensorPrimitives.Max(latent, 0f, latent);
        var p = _p.AsSpan(0, n * k);
        FillRows(p, n, w.Output.Bias);
        Sgemm.Multiply(n, k, lat, latent, lat, 1, net.OutputT, k, p, k, accumulate: true);
        for (var r = 0; r < n; r++)
        {
            Softmax(p.Slice(r * k, k));
        }

        if (classWeights.IsEmpty)
        {
            return 0;
        }

        if (stepLoss == StepLoss.Checkpoints)
        {
            FillCheckpointWeights();
        }

        double loss = 0;
        for (var t = 0; t < _steps; t++)
        {
            var off = _offset[t];
            for (var i = 0; i < _count[t]; i++)
            {
                var omega = StepWeight(stepLoss, i, t);
                if (omega == 0f)
                {
                    continue;
                }

                var label = _labels[i];
                var scale = omega * classWeights[label] * _rowWeight[i];
                var row = (off + i) * k;
                if (softWeight > 0 && _rowTargets[i] is { } q)
                {
                    // −Σ_c ((1 − α)·onehot_c + α·q_c) · log p_c
                    var qt = q.AsSpan(t * k, k);
                    double cross = (1 - softWeight) * Math.Log(Math.Max(p[row + label], 1e-30f));
                    for (var cls = 0; cls < k; cls++)
                    {
                        cross += softWeight * qt[cls] * Math.Log(Math.Max(p[row + cls], 1e-30f));
                    }

                    loss -= scale * cross;
                    continue;
                }

                loss -= scale * Math.Log(Math.Max(p[row + label], 1e-30f));
            }
        }

        return loss / normaliser;
    }

    /// <summary>
    /// Backpropagates the loss of the last <see cref="Forward"/> into <paramref name="grads"/> (accumulated) for the
    /// trainable groups; stops below the lowest trainable layer. Overwrites the stored gate activations.
    /// </summary>
    public void Backward(NetworkView net, GruClassifierWeights grads, TrainableLayers trainable, ReadOnlySpan<float> classWeights, double normaliser, StepLoss stepLoss = StepLoss.AllSteps, float softWeight = 0)
    {
        var w = net.Weights;
        var c = _c;
        int h = _h, h3 = 3 * _h, n = _total, b = _rows;
        int d = c.DenseSize, mg = c.MergeSize, lat = c.LatentSize, k = c.Classes, cs = c.ConcatSize;
        var anyGru = false;
        var lowestGru = _layers;
        for (var l = _layers - 1; l >= 0; l--)
        {
            if (trainable.GruLayer(l))
            {
                anyGru = true;
                lowestGru = l;
            }
        }

        var needStepPath = anyGru || trainable.StepDense;
        var needMerge = needStepPath || trainable.Merge || (trainable.MetaDense && c.MetaFeatures > 0);
        var needLatent = needMerge || trainable.Latent;

        var dLogits = _dLogits.AsSpan(0, n * k);
        var p = _p.AsSpan(0, n * k);
        for (var t = 0; t < _steps; t++)
        {
            var off = _offset[t];
            for (var i = 0; i < _count[t]; i++)
            {
                var row = (off + i) * k;
                var scale = (float)(StepWeight(stepLoss, i, t) * classWeights[_labels[i]] * _rowWeight[i] / normaliser);
                TensorPrimitives.Multiply(p.Slice(row, k), scale, dLogits.Slice(row, k));
                if (softWeight > 0 && _rowTargets[i] is { } q)
                {
                    // gradient p − ((1 − α)·onehot + α·q)
                    dLogits[row + _labels[i]] -= scale * (1 - softWeight);
                    var qt = q.AsSpan(t * k, k);
                    for (var cls = 0; cls < k; cls++)
                    {
                        dLogits[row + cls] -= scale * softWeight * qt[cls];
                    }

                    continue;
                }

                dLogits[row + _labels[i]] -= scale;
            }
        }

        var latent = _lat.AsSpan(0, n * lat);
        if (trainable.Output)
        {
            Sgemm.Multiply(k, lat, n, dLogits, 1, k, latent, lat, grads.Output.Weight, lat, accumulate: true);
            Sgemm.AddRows(dLogits, n, k, k, grads.Output.Bias);
        }

        if (!needLatent)
        {
            return;
        }

        var dLat = _dLat.AsSpan(0, n * lat);
        Sgemm.Multiply(n, lat, k, dLogits, k, 1, w.Output.Weight, lat, dLat, lat, accumulate: false);
        ReluMask(dLat, latent);
        var merged = _mg.AsSpan(0, n * mg);
        if (trainable.Latent)
        {
            Sgemm.Multiply(lat, mg, n, dLat, 1, lat, merged, mg, grads.Latent.Weight, mg, accumulate: true);
            Sgemm.AddRows(dLat, n, lat, lat, grads.Latent.Bias);
        }

        if (!needMerge)
        {
            return;
        }

        var dMg = _dMg.AsSpan(0, n * mg);
        Sgemm.Multiply(n, mg, lat, dLat, lat, 1, w.Latent.Weight, mg, dMg, mg, accumulate: false);
        ReluMask(dMg, merged);
        var s = _s.AsSpan(0, n * d);
        if (trainable.Merge)
        {
            Sgemm.Multiply(mg, d, n, dMg, 1, mg, s, d, grads.Merge.Weight, cs, accumulate: true);
            Sgemm.AddRows(dMg, n, mg, mg, grads.Merge.Bias);
        }

        if (c.MetaFeatures > 0 && (trainable.Merge || trainable.MetaDense))
        {
            int m = c.MetaFeatures, md = c.MetaDenseSize;
            var dSum = _dMgSum.AsSpan(0, b * mg);
            dSum.Clear();
            for (var t = 0; t < _steps; t++)
            {
                var rows = _count[t] * mg;
                TensorPrimitives.Add(dSum[..rows], dMg.Slice(_offset[t] * mg, rows), dSum[..rows]);
            }

            var metaOut = _metaOut.AsSpan(0, b * md);
            if (trainable.Merge)
            {
                Sgemm.Multiply(mg, md, b, dSum, 1, mg, metaOut, md, grads.Merge.Weight.AsSpan(d), cs, accumulate: true);
            }

            if (trainable.MetaDense)
            {
                var dMeta = _dMetaOut.AsSpan(0, b * md);
                Sgemm.Multiply(b, md, mg, dSum, mg, 1, w.Merge.Weight.AsSpan(d), cs, dMeta, md, accumulate: false);
                TanhBackward(dMeta, metaOut);
                Sgemm.Multiply(md, m, b, dMeta, 1, md, _meta, m, grads.MetaDense!.Weight, m, accumulate: true);
                Sgemm.AddRows(dMeta, b, md, md, grads.MetaDense.Bias);
            }
        }

        if (!needStepPath)
        {
            return;
        }

        var dS = _dS.AsSpan(0, n * d);
        Sgemm.Multiply(n, d, mg, dMg, mg, 1, w.Merge.Weight, cs, dS, d, accumulate: false);
        TanhBackward(dS, s);
        var top = _hs[_layers - 1];
        if (trainable.StepDense)
        {
            Sgemm.Multiply(d, h, n, dS, 1, d, top, h, grads.StepDense.Weight, h, accumulate: true);
            Sgemm.AddRows(dS, n, d, d, grads.StepDense.Bias);
        }

        if (!anyGru)
        {
            return;
        }

        var dH = _dH;
        Sgemm.Multiply(n, h, d, dS, d, 1, w.StepDense.Weight, h, dH, h, accumulate: false);
        for (var l = _layers - 1; l >= lowestGru; l--)
        {
            var layer = w.GruLayers[l];
            var g = _g[l];
            var gh = _gh[l];
            var hp = _hp[l];
            var carry = _carry;
            for (var t = _steps - 1; t >= 0; t--)
            {
                int rows = _count[t], off = _offset[t];
                if (t < _steps - 1)
                {
                    var next = _count[t + 1] * h;
                    var target = dH.AsSpan(off * h, next);
                    TensorPrimitives.Add(target, carry.AsSpan(0, next), target);
                }

                for (var i = 0; i < rows; i++)
                {
                    var row = off + i;
                    CellBackward(g.AsSpan(row * h3, h3), gh.AsSpan(row * h3, h3), hp.AsSpan(row * h, h), dH.AsSpan(row * h, h), carry.AsSpan(i * h, h), h);
                }

                if (t > 0)
                {
                    Sgemm.Multiply(rows, h, h3, gh.AsSpan(off * h3, rows * h3), h3, 1, layer.WeightHh, h, carry, h, accumulate: true);
                }
            }

            var inW = layer.InputSize;
            var input = l == 0 ? _x : _hs[l - 1];
            if (trainable.GruLayer(l))
            {
                var gl = grads.GruLayers[l];
                Sgemm.Multiply(h3, h, n, gh, 1, h3, hp, h, gl.WeightHh, h, accumulate: true);
                Sgemm.AddRows(gh, n, h3, h3, gl.BiasHh);
                Sgemm.Multiply(h3, inW, n, g, 1, h3, input, inW, gl.WeightIh, inW, accumulate: true);
                Sgemm.AddRows(g, n, h3, h3, gl.BiasIh);
            }

            if (l > lowestGru)
            {
                Sgemm.Multiply(n, h, h3, g, h3, 1, layer.WeightIh, h, dH, h, accumulate: false);
            }
        }
    }

    // One GRU cell backwards for one row. In: g = (r, z, n) activations, gh = (W_h h + b_h) pre-activations, hp = h_{t−1},
    // dh = ∂L/∂h_t. Out: g ← ∂L/∂(input pre-activations), gh ← ∂L/∂(recurrent pre-activations), carry ← dh ⊙ z (the
    // direct part of ∂L/∂h_{t−1}; the caller adds gh·W_hh).
    private static void CellBackward(Span<float> g, Span<float> gh, ReadOnlySpan<float> hp, ReadOnlySpan<float> dh, Span<float> carry, int h)
    {
        var r = g[..h];
        var z = g.Slice(h, h);
        var nn = g.Slice(2 * h, h);
        var ghr = gh[..h];
        var ghz = gh.Slice(h, h);
        var ghn = gh.Slice(2 * h, h);
        var j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<float>.One;
            for (; j + 8 <= h; j += 8)
            {
                var vr = Vector256.Create(r.Slice(j, 8));
                var vz = Vector256.Create(z.Slice(j, 8));
                var vn = Vector256.Create(nn.Slice(j, 8));
                var vgn = Vector256.Create(ghn.Slice(j, 8));
                var vhp = Vector256.Create(hp.Slice(j, 8));
                var vd = Vector256.Create(dh.Slice(j, 8));
                var dn = vd * (one - vz);
                var dz = vd * (vhp - vn);
                var dan = dn * (one - (vn * vn));
                var dar = dan * vgn * vr * (one - vr);
                var daz = dz * vz * (one - vz);
                (vd * vz).CopyTo(carry.Slice(j, 8));
                dar.CopyTo(r.Slice(j, 8));
                daz.CopyTo(z.Slice(j, 8));
                dan.CopyTo(nn.Slice(j, 8));
                dar.CopyTo(ghr.Slice(j, 8));
                daz.CopyTo(ghz.Slice(j, 8));
                (dan * vr).CopyTo(ghn.Slice(j, 8));
            }
        }

        for (; j < h; j++)
        {
            float vr = r[j], vz = z[j], vn = nn[j], vd = dh[j];
            var dn = vd * (1 - vz);
            var dz = vd * (hp[j] - vn);
            var dan = dn * (1 - (vn * vn));
            var dar = dan * ghn[j] * vr * (1 - vr);
            var daz = dz * vz * (1 - vz);
            carry[j] = vd * vz;
            r[j] = dar;
            z[j] = daz;
            nn[j] = dan;
            ghr[j] = dar;
            ghz[j] = daz;
            ghn[j] = dan * vr;
        }
    }

    private static void FillRows(Span<float> target, int rows, ReadOnlySpan<float> row)
    {
        var width = row.Length;
        for (var i = 0; i < rows; i++)
        {
            row.CopyTo(target.Slice(i * width, width));
        }
    }

    private static void ReluMask(Span<float> grad, ReadOnlySpan<float> activation)
    {
        for (var i = 0; i < grad.Length; i++)
        {
            if (activation[i] <= 0f)
            {
                grad[i] = 0f;
            }
        }
    }

    // grad ← grad ⊙ (1 − y²) for y = tanh(·).
    private static void TanhBackward(Span<float> grad, ReadOnlySpan<float> y)
    {
        for (var i = 0; i < grad.Length; i++)
        {
            grad[i] *= 1f - (y[i] * y[i]);
        }
    }

    /// <summary>Σ of the step weights ω over sequences of these lengths: the loss normaliser of a batch.</summary>
    public static double Normaliser(StepLoss stepLoss, IEnumerable<int> lengths)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        double total = 0;
        foreach (var length in lengths)
        {
            total += Normaliser(stepLoss, length);
        }

        return total;
    }

    /// <summary>Σ of the step weights ω over one sequence of this length.</summary>
    public static double Normaliser(StepLoss stepLoss, int length) =>
        length <= 0 ? 0 : stepLoss == StepLoss.AllSteps ? length : 1;

    // ω of sorted row i at step t (t < its length). Checkpoints: filled by Forward (FillCheckpointWeights).
    private float StepWeight(StepLoss stepLoss, int row, int t) => stepLoss switch
    {
        StepLoss.AllSteps => 1f,
        StepLoss.PerObject => 1f / _lengths[row],
        StepLoss.LastStep => t == _lengths[row] - 1 ? 1f : 0f,
        StepLoss.Checkpoints => _omega[_offset[t] + row],
        _ => throw new ArgumentOutOfRangeException(nameof(stepLoss)),
    };

    // Checkpoint weights, packed like the activations: 1/(K + 1) on the step that is current at each of the K days of
    // EarlyCurve.Days (the last one at or before t_first + d) and on the last step, so each light curve weighs 1.
    private void FillCheckpointWeights()
    {
        if (_omega.Length < _total)
        {
            _omega = new float[_total + (_total / 4)];
        }

        Array.Clear(_omega, 0, _total);
        var days = Evaluation.EarlyCurve.Days;
        var share = 1f / (days.Count + 1);
        for (var row = 0; row < _rows; row++)
        {
            var d = _rowDays[row];
            var length = _lengths[row];
            foreach (var day in days)
            {
                var step = -1;
                while (step + 1 < length && d[step + 1] <= day)
                {
                    step++;
                }

                // Before the first detection there is no step to score; the share goes to the first step.
                _omega[_offset[Math.Max(0, step)] + row] += share;
            }

            _omega[_offset[length - 1] + row] += share;
        }
    }

    internal static void Softmax(Span<float> values)
    {
        var max = TensorPrimitives.Max(values);
        TensorPrimitives.Subtract(values, max, values);
        TensorPrimitives.Exp(values, values);
        var sum = TensorPrimitives.Sum(values);
        TensorPrimitives.Divide(values, sum, values);
    }
}
