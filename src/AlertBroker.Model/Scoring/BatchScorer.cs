using System.Buffers;
using System.Collections.Concurrent;
using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Scoring;

/// <summary>
/// The sizes a scorer needs: features per step, metadata features, recurrent layers and width (both 0 for a model without a
/// recurrent state), classes.
/// </summary>
public sealed record ModelDimensions(int InputFeatures, int MetaFeatures, int Layers, int HiddenSize, int Classes)
{
    /// <summary>Floats in one object's hidden state: [Layers, HiddenSize] (0 without a state).</summary>
    public int StateSize => Layers * HiddenSize;

    public static ModelDimensions From(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var n = manifest.Network;

        // A graph without a recurrent state has no state to carry, whatever network.layers/hidden describe.
        var stateful = manifest.EffectiveRoles.HasState;
        return new(n.InputFeatures, n.MetaFeatures, stateful ? n.Layers : 0, stateful ? n.Hidden : 0, manifest.Classes.Count);
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
/// Scores many objects with ONNX Runtime: each object brings its own new steps, metadata and starting hidden state. The
/// graph's tensors are bound by their roles (<see cref="TensorRoles"/>), so names and input order are the graph's own.
/// A graph with a lengths input gets one call per batch padded to the longest k, with each row's length; a graph without
/// one is never fed padding (it would run its recurrence over it): rows of equal k are scored together, one call per
/// distinct k. Either way every object gets exactly the numbers it would get alone. A graph without a recurrent state
/// takes no starting state (requests must carry none) and returns none. Thread-safe: concurrent calls take separate buffer
/// sets from a pool. Each buffer set keeps pinned buffers and an <see cref="OnnxBinding"/> over them, so a call shaped like
/// that set's previous call allocates nothing; a differently shaped one rebinds the changed tensors (under 1 KB). The
/// scorer does not own the session; disposing it releases its bindings (they are otherwise released by their finalizers).
/// </summary>
/// <remarks>
/// Padding costs compute proportional to N × max k; keep long full re-runs and one-step updates in separate calls. Without
/// a lengths input a batch costs one call per distinct length instead (not benchmarked yet).
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
    private readonly bool _lengths64;
    private int _pooled;
    private bool _disposed;

    public BatchScorer(ModelPackage package, BatchScorerOptions? options = null)
        : this(
            package?.Session ?? throw new ArgumentNullException(nameof(package)),
            ModelDimensions.From(package.Manifest),
            options,
            package.Manifest.EffectiveRoles)
    {
    }

    /// <summary>
    /// A scorer over <paramref name="session"/>, binding its tensors by <paramref name="roles"/> (default: the standard
    /// names <c>x</c>, <c>meta</c> when <see cref="ModelDimensions.MetaFeatures"/> &gt; 0, <c>h0</c>, <c>lengths</c>,
    /// <c>probs</c>, <c>hn</c>).
    /// </summary>
    public BatchScorer(OnnxSession session, ModelDimensions dimensions, BatchScorerOptions? options = null, TensorRoles? roles = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(dimensions);
        _session = session;
        Dimensions = dimensions;
        Roles = roles ?? TensorRoles.Standard(dimensions.MetaFeatures > 0);
        _options = options ?? new BatchScorerOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxBatchSize);

        // Look tensors up by name: a graph exported by another tool may order them differently.
        var r = Roles;
        _xIndex = Require(session.GetInputIndex(r.Steps ?? string.Empty), r.Steps, "step features");
        _probsIndex = Require(session.GetOutputIndex(r.Probabilities ?? string.Empty), r.Probabilities, "probabilities");
        _metaIndex = r.Metadata is null ? -1 : Require(session.GetInputIndex(r.Metadata), r.Metadata, "metadata");
        _lengthsIndex = r.Lengths is null ? -1 : Require(session.GetInputIndex(r.Lengths), r.Lengths, "lengths");
        if ((r.StateIn is null) != (r.StateOut is null))
        {
            throw new ArgumentException("A recurrent state needs both a state-in input and a state-out output.", nameof(roles));
        }

        _h0Index = r.StateIn is null ? -1 : Require(session.GetInputIndex(r.StateIn), r.StateIn, "state in");
        _hnIndex = r.StateOut is null ? -1 : Require(session.GetOutputIndex(r.StateOut), r.StateOut, "state out");
        if ((_metaIndex >= 0) != (dimensions.MetaFeatures > 0))
        {
            throw new ArgumentException($"The graph {(_metaIndex >= 0 ? "has" : "lacks")} a metadata input but MetaFeatures is {dimensions.MetaFeatures}.", nameof(dimensions));
        }

        if (HasState != (dimensions.StateSize > 0))
        {
            throw new ArgumentException($"The graph {(HasState ? "has" : "lacks")} a recurrent state but the dimensions give {dimensions.Layers} × {dimensions.HiddenSize}.", nameof(dimensions));
        }

        _lengths64 = _lengthsIndex >= 0 && session.Inputs[_lengthsIndex].ElementType == OnnxElementType.Int64;
        var expectedInputs = 1 + (_metaIndex >= 0 ? 1 : 0) + (_h0Index >= 0 ? 1 : 0) + (_lengthsIndex >= 0 ? 1 : 0);
        var expectedOutputs = 1 + (_hnIndex >= 0 ? 1 : 0);
        if (session.Inputs.Count != expectedInputs || session.Outputs.Count != expectedOutputs)
        {
            throw new ArgumentException($"The graph must have exactly the contract's inputs and outputs ({Roles}); it has {session.Inputs.Count} inputs and {session.Outputs.Count} outputs.", nameof(session));
        }
    }

    public ModelDimensions Dimensions { get; }

    /// <summary>Which graph tensor plays which part.</summary>
    public TensorRoles Roles { get; }

    /// <summary>The graph takes a starting state and returns the state after the last step: incremental scoring is possible.</summary>
    public bool HasState => Roles.HasState;

    /// <summary>The graph takes per-row lengths (so a mixed-length batch is one padded call); without, rows are grouped by length.</summary>
    public bool HasLengths => _lengthsIndex >= 0;

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
        var f = Dimensions.InputFeatures;
        var n = requests.Length;
        var rows = ArrayPool<int>.Shared.Rent(n);
        try
        {
            if (HasLengths)
            {
                // One call, padded to the longest request; the lengths input stops each row at its own end.
                var maxK = 0;
                for (var i = 0; i < n; i++)
                {
                    rows[i] = i;
                    maxK = Math.Max(maxK, requests[i].Steps.Length / f);
                }

                ScoreRows(requests, outputs, rows.AsSpan(0, n), maxK);
                return;
            }

            // No lengths input: the graph would run over padding, so rows of equal length go together and nothing is padded.
            var keys = ArrayPool<int>.Shared.Rent(n);
            try
            {
                for (var i = 0; i < n; i++)
                {
                    rows[i] = i;
                    keys[i] = requests[i].Steps.Length / f;
                }

                Array.Sort(keys, rows, 0, n);
                var start = 0;
                for (var i = 1; i <= n; i++)
                {
                    if (i == n || keys[i] != keys[start])
                    {
                        ScoreRows(requests, outputs, rows.AsSpan(start, i - start), keys[start]);
                        start = i;
                    }
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(keys);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rows);
        }
    }

    // One ONNX Runtime call over the requests at the given indices, padded to maxK steps (no padding without lengths).
    private void ScoreRows(ReadOnlySpan<ScoringRequest> requests, ReadOnlySpan<ScoringOutput> outputs, ReadOnlySpan<int> rows, int maxK)
    {
        var d = Dimensions;
        int n = rows.Length, f = d.InputFeatures, m = d.MetaFeatures, h = d.HiddenSize, layers = d.Layers, c = d.Classes;
        var buffers = Rent();
        try
        {
            buffers.Ensure(n * maxK * f, n * m, layers * n * h, n, n * maxK * c, _lengths64);
            var x = buffers.X.AsSpan(0, n * maxK * f);
            var meta = buffers.Meta.AsSpan(0, n * m);
            var h0 = buffers.H0.AsSpan(0, layers * n * h);
            for (var i = 0; i < n; i++)
            {
                var request = requests[rows[i]];
                var steps = request.Steps.Span;
                var row = x.Slice(i * maxK * f, maxK * f);
                steps.CopyTo(row);

                // Padded steps must hold finite numbers; ONNX Runtime skips them, but NaN garbage would be a hazard.
                row[steps.Length..].Clear();
                var k = steps.Length / f;
                if (_lengths64)
                {
                    buffers.Lengths64[i] = k;
                }
                else
                {
                    buffers.Lengths[i] = k;
                }

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

            if (_h0Index >= 0)
            {
                inputs[_h0Index] = OnnxTensor.Create(buffers.H0.AsMemory(0, h0.Length), [layers, n, h]);
            }

            if (_lengthsIndex >= 0)
            {
                inputs[_lengthsIndex] = _lengths64
                    ? OnnxTensor.Create(buffers.Lengths64.AsMemory(0, n), [n])
                    : OnnxTensor.Create(buffers.Lengths.AsMemory(0, n), [n]);
            }

            var results = buffers.Outputs;
            results[_probsIndex] = OnnxTensor.Create(buffers.Probs.AsMemory(0, n * maxK * c), [n, maxK, c]);
            if (_hnIndex >= 0)
            {
                results[_hnIndex] = OnnxTensor.Create(buffers.Hn.AsMemory(0, layers * n * h), [layers, n, h]);
            }

            buffers.Binding.Run(inputs, results);

            var probs = buffers.Probs.AsSpan(0, n * maxK * c);
            var hn = buffers.Hn.AsSpan(0, layers * n * h);
            for (var i = 0; i < n; i++)
            {
                var k = requests[rows[i]].Steps.Length / f;
                var output = outputs[rows[i]];
                probs.Slice(i * maxK * c, k * c).CopyTo(output.Probabilities.Span);
                var state = output.HiddenState.Span;
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

        if (!request.HiddenState.IsEmpty && d.StateSize == 0)
        {
            throw new ArgumentException($"Request {index}: carries a hidden state but the model has no recurrent state; score from the first step.", "requests");
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

    private static int Require(int index, string? name, string role) =>
        index >= 0 ? index : throw new ArgumentException(name is null
            ? $"No tensor is given the {role} role, which the scoring contract requires."
            : $"The ONNX graph has no '{name}' tensor (the {role}), which the scoring contract requires.");

    // One call's worth of input/output buffers on the pinned object heap (they never move, so the binding's native
    // tensors stay valid), grown on demand and reused, with the binding over them.
    private sealed class Buffers(int inputCount, int outputCount) : IDisposable
    {
        public OnnxBinding? Binding { get; set; }

        public float[] X { get; private set; } = [];

        public float[] Meta { get; private set; } = [];

        public float[] H0 { get; private set; } = [];

        public int[] Lengths { get; private set; } = [];

        public long[] Lengths64 { get; private set; } = [];

        public float[] Probs { get; private set; } = [];

        public float[] Hn { get; private set; } = [];

        public OnnxTensor[] Inputs { get; } = new OnnxTensor[inputCount];

        public OnnxTensor[] Outputs { get; } = new OnnxTensor[outputCount];

        public void Ensure(int x, int meta, int state, int rows, int probs, bool lengths64)
        {
            X = Grow(X, x);
            Meta = Grow(Meta, meta);
            H0 = Grow(H0, state);
            Hn = Grow(Hn, state);
            Probs = Grow(Probs, probs);
            if (!lengths64 && Lengths.Length < rows)
            {
                Lengths = GC.AllocateArray<int>(Math.Max(rows, Lengths.Length * 2), pinned: true);
            }

            if (lengths64 && Lengths64.Length < rows)
            {
                Lengths64 = GC.AllocateArray<long>(Math.Max(rows, Lengths64.Length * 2), pinned: true);
            }
        }

        public void Dispose() => Binding?.Dispose();

        private static float[] Grow(float[] current, int needed) =>
            current.Length >= needed ? current : GC.AllocateArray<float>(Math.Max(needed, current.Length * 2), pinned: true);
    }
}
