using System.Collections.Concurrent;
using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Scoring;

/// <summary>The sizes a scorer needs: features per step, metadata features, GRU layers and width, classes.</summary>
public sealed record ModelDimensions(int InputFeatures, int MetaFeatures, int Layers, int HiddenSize, int Classes)
{
    /// <summary>Floats in one object's hidden state: [Layers, HiddenSize].</summary>
    public int StateSize => Layers * HiddenSize;

    public static ModelDimensions From(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var n = manifest.Network;
        return new(n.InputFeatures, n.MetaFeatures, n.Layers, n.Hidden, manifest.Classes.Count);
    }

    public static ModelDimensions From(GruClassifierConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new(config.InputFeatures, config.MetaFeatures, config.Layers, config.HiddenSize, config.Classes);
    }
}

/// <summary>
/// One object to score: its k ≥ 1 new steps ([k, InputFeatures], row-major), its metadata vector ([MetaFeatures];
/// empty when the model has none) and its hidden state before these steps ([Layers, HiddenSize]; empty for a new object).
/// </summary>
public readonly record struct ScoringRequest(ReadOnlyMemory<float> Steps, ReadOnlyMemory<float> Meta, ReadOnlyMemory<float> HiddenState);

/// <summary>
/// Where one object's results go: class probabilities after each new step ([k, Classes]) and its hidden state after the
/// last new step ([Layers, HiddenSize]). <see cref="HiddenState"/> may be the request's own state buffer (updated in place).
/// </summary>
public readonly record struct ScoringOutput(Memory<float> Probabilities, Memory<float> HiddenState);

/// <summary>Scoring results in fresh arrays: probabilities [Steps, Classes] and the new hidden state [Layers, HiddenSize].</summary>
public sealed record ScoringResult(int Steps, float[] Probabilities, float[] HiddenState);

public sealed record BatchScorerOptions
{
    /// <summary>Objects per ONNX Runtime call; larger requests are split into calls of at most this many.</summary>
    public int MaxBatchSize { get; init; } = 1024;

    /// <summary>Buffer sets kept for reuse between calls (one is in use per concurrent call).</summary>
    public int MaxPooledBuffers { get; init; } = Math.Max(2, Environment.ProcessorCount);
}

/// <summary>
/// Scores many objects with one ONNX Runtime call: each object brings its own new steps, metadata and starting hidden
/// state; the batch is padded to the longest k with the per-row <c>lengths</c> input, so every object gets exactly the
/// numbers it would get alone. Thread-safe: concurrent calls take separate buffer sets from a pool. Each buffer set keeps
/// pinned buffers and an <see cref="OnnxBinding"/> over them, so a call shaped like that set's previous call (same object
/// count and longest k) allocates nothing; a differently shaped one rebinds the changed tensors (under 1 KB). The scorer
/// does not own the session; disposing it releases its bindings (they are otherwise released by their finalizers).
/// </summary>
/// <remarks>
/// Padding costs compute proportional to N × max k; keep long full re-runs and one-step updates in separate calls.
/// </remarks>
public sealed class BatchScorer : IDisposable
{
    private readonly OnnxSession _session;
    private readonly BatchScorerOptions _options;
    private readonly ConcurrentQueue<Buffers> _pool = new();
    private readonly int _xIndex;
    private readonly int _metaIndex;
    private readonly int _h0Index;
    private readonly int _lengthsIndex;
    private readonly int _probsIndex;
    private readonly int _hnIndex;
    private int _pooled;
    private bool _disposed;

    public BatchScorer(ModelPackage package, BatchScorerOptions? options = null)
        : this(package?.Session ?? throw new ArgumentNullException(nameof(package)), ModelDimensions.From(package.Manifest), options)
    {
    }

    public BatchScorer(OnnxSession session, ModelDimensions dimensions, BatchScorerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(dimensions);
        _session = session;
        Dimensions = dimensions;
        _options = options ?? new BatchScorerOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxBatchSize);

        // Look inputs up by name: a graph exported by another tool may order them differently.
        _xIndex = Require(session.GetInputIndex(ModelTensorNames.X), ModelTensorNames.X);
        _h0Index = Require(session.GetInputIndex(ModelTensorNames.H0), ModelTensorNames.H0);
        _lengthsIndex = Require(session.GetInputIndex(ModelTensorNames.Lengths), ModelTensorNames.Lengths);
        _metaIndex = session.GetInputIndex(ModelTensorNames.Meta);
        _probsIndex = Require(session.GetOutputIndex(ModelTensorNames.Probs), ModelTensorNames.Probs);
        _hnIndex = Require(session.GetOutputIndex(ModelTensorNames.Hn), ModelTensorNames.Hn);
        if ((_metaIndex >= 0) != (dimensions.MetaFeatures > 0))
        {
            throw new ArgumentException($"The graph {(_metaIndex >= 0 ? "has" : "lacks")} a 'meta' input but MetaFeatures is {dimensions.MetaFeatures}.", nameof(dimensions));
        }

        var expectedInputs = dimensions.MetaFeatures > 0 ? 4 : 3;
        if (session.Inputs.Count != expectedInputs || session.Outputs.Count != 2)
        {
            throw new ArgumentException($"The graph must have exactly the contract's inputs and outputs; it has {session.Inputs.Count} inputs and {session.Outputs.Count} outputs.", nameof(session));
        }
    }

    public ModelDimensions Dimensions { get; }

    /// <summary>Scores the requests, writing into caller-provided outputs (one per request).</summary>
    public void Score(ReadOnlySpan<ScoringRequest> requests, ReadOnlySpan<ScoringOutput> outputs)
    {
        if (requests.Length != outputs.Length)
        {
            throw new ArgumentException($"{requests.Length} requests but {outputs.Length} outputs.", nameof(outputs));
        }

        for (var i = 0; i < requests.Length; i++)
        {
            Check(i, requests[i], outputs[i]);
        }

        var max = _options.MaxBatchSize;
        for (var start = 0; start < requests.Length; start += max)
        {
            var count = Math.Min(max, requests.Length - start);
            ScoreChunk(requests.Slice(start, count), outputs.Slice(start, count));
        }
    }

    /// <summary>Scores the requests and returns fresh result arrays (convenient; allocates per object).</summary>
    public ScoringResult[] Score(ReadOnlySpan<ScoringRequest> requests)
    {
        var d = Dimensions;
        var results = new ScoringResult[requests.Length];
        var outputs = new ScoringOutput[requests.Length];
        for (var i = 0; i < requests.Length; i++)
        {
            var k = requests[i].Steps.Length / d.InputFeatures;
            results[i] = new ScoringResult(k, new float[k * d.Classes], new float[d.StateSize]);
            outputs[i] = new ScoringOutput(results[i].Probabilities, results[i].HiddenState);
        }

        Score(requests, outputs);
        return results;
    }

    private void ScoreChunk(ReadOnlySpan<ScoringRequest> requests, ReadOnlySpan<ScoringOutput> outputs)
    {
        var d = Dimensions;
        int n = requests.Length, f = d.InputFeatures, m = d.MetaFeatures, h = d.HiddenSize, layers = d.Layers, c = d.Classes;
        var maxK = 0;
        foreach (var request in requests)
        {
            maxK = Math.Max(maxK, request.Steps.Length / f);
        }

        var buffers = Rent();
        try
        {
            buffers.Ensure(n * maxK * f, n * m, layers * n * h, n, n * maxK * c);
            var x = buffers.X.AsSpan(0, n * maxK * f);
            var meta = buffers.Meta.AsSpan(0, n * m);
            var h0 = buffers.H0.AsSpan(0, layers * n * h);
            var lengths = buffers.Lengths.AsSpan(0, n);
            for (var i = 0; i < n; i++)
            {
                var request = requests[i];
                var steps = request.Steps.Span;
                var row = x.Slice(i * maxK * f, maxK * f);
                steps.CopyTo(row);

                // Padded steps must hold finite numbers; ONNX Runtime skips them, but NaN garbage would be a hazard.
                row[steps.Length..].Clear();
                lengths[i] = steps.Length / f;
                request.Meta.Span.CopyTo(meta.Slice(i * m, m));
                var state = request.HiddenState.Span;
                for (var l = 0; l < layers; l++)
                {
                    var target = h0.Slice(((l * n) + i) * h, h);
                    if (state.IsEmpty)
                    {
                        target.Clear();
                    }
                    else
                    {
                        state.Slice(l * h, h).CopyTo(target);
                    }
                }
            }

            buffers.Binding ??= _session.CreateBinding();
            var inputs = buffers.Inputs;
            inputs[_xIndex] = OnnxTensor.Create(buffers.X.AsMemory(0, x.Length), [n, maxK, f]);
            if (_metaIndex >= 0)
            {
                inputs[_metaIndex] = OnnxTensor.Create(buffers.Meta.AsMemory(0, meta.Length), [n, m]);
            }

            inputs[_h0Index] = OnnxTensor.Create(buffers.H0.AsMemory(0, h0.Length), [layers, n, h]);
            inputs[_lengthsIndex] = OnnxTensor.Create(buffers.Lengths.AsMemory(0, n), [n]);
            var results = buffers.Outputs;
            results[_probsIndex] = OnnxTensor.Create(buffers.Probs.AsMemory(0, n * maxK * c), [n, maxK, c]);
            results[_hnIndex] = OnnxTensor.Create(buffers.Hn.AsMemory(0, layers * n * h), [layers, n, h]);
            buffers.Binding.Run(inputs, results);

            var probs = buffers.Probs.AsSpan(0, n * maxK * c);
            var hn = buffers.Hn.AsSpan(0, layers * n * h);
            for (var i = 0; i < n; i++)
            {
                var k = lengths[i];
                probs.Slice(i * maxK * c, k * c).CopyTo(outputs[i].Probabilities.Span);
                var state = outputs[i].HiddenState.Span;
                for (var l = 0; l < layers; l++)
                {
                    hn.Slice(((l * n) + i) * h, h).CopyTo(state.Slice(l * h, h));
                }
            }
        }
        finally
        {
            Return(buffers);
        }
    }

    private void Check(int index, in ScoringRequest request, in ScoringOutput output)
    {
        var d = Dimensions;
        var length = request.Steps.Length;
        if (length == 0 || length % d.InputFeatures != 0)
        {
            throw new ArgumentException($"Request {index}: steps hold {length} floats; need k ≥ 1 steps of {d.InputFeatures} features.", "requests");
        }

        if (request.Meta.Length != d.MetaFeatures)
        {
            throw new ArgumentException($"Request {index}: meta holds {request.Meta.Length} floats; the model takes {d.MetaFeatures}.", "requests");
        }

        if (!request.HiddenState.IsEmpty && request.HiddenState.Length != d.StateSize)
        {
            throw new ArgumentException($"Request {index}: hidden state holds {request.HiddenState.Length} floats; need {d.StateSize} ([{d.Layers}, {d.HiddenSize}]) or none.", "requests");
        }

        var k = length / d.InputFeatures;
        if (output.Probabilities.Length < k * d.Classes)
        {
            throw new ArgumentException($"Output {index}: probabilities hold {output.Probabilities.Length} floats; need {k * d.Classes} ([{k}, {d.Classes}]).", "outputs");
        }

        if (output.HiddenState.Length != d.StateSize)
        {
            throw new ArgumentException($"Output {index}: hidden state holds {output.HiddenState.Length} floats; need {d.StateSize}.", "outputs");
        }
    }

    /// <summary>Releases the pooled buffer sets' native bindings; calls after this throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        DrainPool();
    }

    private Buffers Rent()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        if (_pool.TryDequeue(out var buffers))
        {
            Interlocked.Decrement(ref _pooled);
            return buffers;
        }

        return new Buffers(_session.Inputs.Count, _session.Outputs.Count);
    }

    private void Return(Buffers buffers)
    {
        if (!Volatile.Read(ref _disposed))
        {
            if (Interlocked.Increment(ref _pooled) <= _options.MaxPooledBuffers)
            {
                _pool.Enqueue(buffers);
                if (Volatile.Read(ref _disposed))
                {
                    DrainPool();
                }

                return;
            }

            Interlocked.Decrement(ref _pooled);
        }

        buffers.Dispose();
    }

    private void DrainPool()
    {
        while (_pool.TryDequeue(out var buffers))
        {
            Interlocked.Decrement(ref _pooled);
            buffers.Dispose();
        }
    }

    private static int Require(int index, string name) =>
        index >= 0 ? index : throw new ArgumentException($"The ONNX graph has no '{name}' tensor, which the scoring contract requires.");

    // One call's worth of input/output buffers on the pinned object heap (they never move, so the binding's native
    // tensors stay valid), grown on demand and reused, with the binding over them.
    private sealed class Buffers(int inputCount, int outputCount) : IDisposable
    {
        public OnnxBinding? Binding { get; set; }

        public float[] X { get; private set; } = [];

        public float[] Meta { get; private set; } = [];

        public float[] H0 { get; private set; } = [];

        public int[] Lengths { get; private set; } = [];

        public float[] Probs { get; private set; } = [];

        public float[] Hn { get; private set; } = [];

        public OnnxTensor[] Inputs { get; } = new OnnxTensor[inputCount];

        public OnnxTensor[] Outputs { get; } = new OnnxTensor[outputCount];

        public void Ensure(int x, int meta, int state, int rows, int probs)
        {
            X = Grow(X, x);
            Meta = Grow(Meta, meta);
            H0 = Grow(H0, state);
            Hn = Grow(Hn, state);
            Probs = Grow(Probs, probs);
            if (Lengths.Length < rows)
            {
                Lengths = GC.AllocateArray<int>(Math.Max(rows, Lengths.Length * 2), pinned: true);
            }
        }

        public void Dispose() => Binding?.Dispose();

        private static float[] Grow(float[] current, int needed) =>
            current.Length >= needed ? current : GC.AllocateArray<float>(Math.Max(needed, current.Length * 2), pinned: true);
    }
}
