using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Numerics;
using AlertBroker.Training.Training;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Training;

/// <summary>
/// The trainer's hot paths on the default network: one training step (forward + backward + Adam over one batch of
/// 128 sequences of 40 steps, split over two threads) and the SGEMM kernel on the recurrent product's shape. The
/// end-to-end figure (seconds per epoch on 10,000 × 40) comes from <c>alertbroker train --benchmark</c>.
/// </summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    private EncodedDataset? _batch;
    private GruClassifierWeights? _weights;
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];

    [GlobalSetup]
    public void Setup()
    {
        _batch = EncodedDataset.Synthetic(128, 40, 5, 42);
        _weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(5), 1);
        var random = new Random(3);
        _a = [.. Enumerable.Range(0, 64 * 100).Select(_ => (float)random.NextDouble())];
        _b = [.. Enumerable.Range(0, 100 * 300).Select(_ => (float)random.NextDouble())];
        _c = new float[64 * 300];
    }

    /// <summary>One epoch over a single batch: 128 × 40 steps, forward, backward and the optimiser step.</summary>
    [Benchmark]
    public TrainingResult TrainOneBatch() =>
        GruTrainer.Train(_weights!, _batch!, null, new TrainingOptions { MaxEpochs = 1, BatchSize = 128, Threads = 2, Patience = 0 });

    /// <summary>[64, 100] × [100, 300]: one shard's recurrent product per GRU step.</summary>
    [Benchmark]
    public void RecurrentProduct() => Sgemm.Multiply(64, 300, 100, _a, 100, 1, _b, 300, _c, 300, accumulate: false);
}
