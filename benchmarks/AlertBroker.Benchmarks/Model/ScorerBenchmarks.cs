using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Scoring;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Model;

/// <summary>
/// BatchScorer throughput on the default network (2 × 100 GRU, 6 step features, 2 metadata features, 5 classes) with
/// ONNX Runtime (the Microsoft.ML.OnnxRuntime package) on one core (intra- and inter-op threads = 1). <c>IncrementalUpdate</c> scores one new step per object
/// from a stored hidden state; <c>FullSequence50</c> re-runs 50 steps per object from zeros. Per-update figures are the
/// mean divided by <see cref="BatchSize"/> (and by 50 steps for the full sequence). <see cref="Members"/> = 2 is the
/// network `models ensemble` makes of two such networks (side by side; exported as one GRU stack and head per member).
/// </summary>
[MemoryDiagnoser]
public class ScorerBenchmarks
{
    private const int StepFeatures = 6;
    private const int MetaFeatures = 2;
    private const int Classes = 5;
    private const int FullSteps = 50;

    private OnnxSession? _session;
    private BatchScorer? _scorer;
    private ScoringRequest[] _incremental = [];
    private ScoringOutput[] _incrementalOutputs = [];
    private ScoringRequest[] _full = [];
    private ScoringOutput[] _fullOutputs = [];

    [Params(1, 64, 512)]
    public int BatchSize { get; set; }

    [Params(1, 2)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var one = new GruClassifierConfig { InputFeatures = StepFeatures, MetaFeatures = MetaFeatures, Classes = Classes };
        var weights = Members == 1
            ? GruClassifierWeights.Random(one, seed: 2024)
            : GruClassifierWeights.SideBySide([.. Enumerable.Range(0, Members).Select(m => GruClassifierWeights.Random(one, seed: 2024 + m))]);
        var config = weights.Config;
        _session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(weights), new OnnxSessionOptions { IntraOpThreads = 1, InterOpThreads = 1 });
        _scorer = new BatchScorer(_session, ModelDimensions.From(config));

        var random = new Random(1);
        var stateSize = config.Layers * config.HiddenSize;
        _incremental = new ScoringRequest[BatchSize];
        _incrementalOutputs = new ScoringOutput[BatchSize];
        _full = new ScoringRequest[BatchSize];
        _fullOutputs = new ScoringOutput[BatchSize];
        for (var i = 0; i < BatchSize; i++)
        {
            var state = Uniform(random, stateSize, 0.5f);
            _incremental[i] = new ScoringRequest(Uniform(random, StepFeatures, 1f), Uniform(random, MetaFeatures, 1f), state);
            _incrementalOutputs[i] = new ScoringOutput(new float[Classes], new float[stateSize]);
            _full[i] = new ScoringRequest(Uniform(random, FullSteps * StepFeatures, 1f), Uniform(random, MetaFeatures, 1f), default);
            _fullOutputs[i] = new ScoringOutput(new float[FullSteps * Classes], new float[stateSize]);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scorer?.Dispose();
        _session?.Dispose();
    }

    [Benchmark]
    public void IncrementalUpdate() => _scorer!.Score(_incremental, _incrementalOutputs);

    [Benchmark]
    public void FullSequence50() => _scorer!.Score(_full, _fullOutputs);

    private static float[] Uniform(Random random, int count, float scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = ((float)random.NextDouble() * 2 - 1) * scale;
        }

        return values;
    }
}
