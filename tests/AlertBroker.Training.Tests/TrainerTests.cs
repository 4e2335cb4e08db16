using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

public sealed class TrainerTests
{
    // A learnable toy task: the class is the sign of the flux trend (rising or falling), hidden in noise.
    private static EncodedDataset TrendTask(int count, int seed)
    {
        var random = new Random(seed);
        var steps = new float[count][];
        var labels = new int[count];
        var meta = new float[count * 4];
        for (var i = 0; i < count; i++)
        {
            var length = random.Next(3, 12);
            var label = i % 2;
            labels[i] = label;
            steps[i] = new float[length * 6];
            for (var t = 0; t < length; t++)
            {
                var row = steps[i].AsSpan(t * 6, 6);
                row[0] = 0.5f;
                row[1] = t * 0.1f;
                row[3] = ((label == 0 ? 1 : -1) * t * 0.15f) + (float)((random.NextDouble() - 0.5) * 0.2);
                row[4] = 0.1f;
                row[5] = 1f;
            }
        }

        return EncodedDataset.FromArrays(["rising", "falling"], steps, meta, labels, 4);
    }

    private static GruClassifierConfig ToyConfig() => new()
    {
        InputFeatures = 6,
        MetaFeatures = 4,
        HiddenSize = 8,
        DenseSize = 8,
        MetaDenseSize = 2,
        MergeSize = 8,
        LatentSize = 8,
        Classes = 2,
    };

    [Fact]
    public void Train_LearnableToyTask_LossFallsAndClassifies()
    {
        var train = TrendTask(300, 1);
        var validation = TrendTask(100, 2);
        var weights = GruClassifierWeights.Random(ToyConfig(), 3);
        var result = GruTrainer.Train(weights, train, validation, new TrainingOptions { MaxEpochs = 25, BatchSize = 32, LearningRate = 1e-2f, Patience = 0 });

        Assert.True(result.History[^1].TrainLoss < 0.5 * result.History[0].TrainLoss, $"loss {result.History[0].TrainLoss} → {result.History[^1].TrainLoss}");
        Assert.True(result.History[result.BestEpoch - 1].ValidationAccuracy > 0.9, $"validation accuracy {result.History[result.BestEpoch - 1].ValidationAccuracy}");
        Assert.True(result.History[result.BestEpoch - 1].ValidationMacroAuroc > 0.95);
    }

    [Fact]
    public void Train_FrozenLayers_StayBitIdenticalAndTrainableOnesMove()
    {
        var train = TrendTask(80, 4);
        var weights = GruClassifierWeights.Random(ToyConfig(), 5);
        var trainable = TrainableLayers.Parse("latent,output");
        var result = GruTrainer.Train(weights, train, null, new TrainingOptions { MaxEpochs = 2, BatchSize = 16, Trainable = trainable });

        for (var i = 0; i < weights.Parameters.Count; i++)
        {
            var before = weights.Parameters[i];
            var after = result.Weights.Parameters[i];
            if (trainable.Includes(before.Name))
            {
                Assert.False(before.Values.AsSpan().SequenceEqual(after.Values), $"{before.Name} did not change");
            }
            else
            {
                Assert.True(before.Values.AsSpan().SequenceEqual(after.Values), $"{before.Name} changed although frozen");
            }
        }
    }

    [Fact]
    public void Train_SameSeedTwice_GivesBitIdenticalWeights()
    {
        var train = TrendTask(90, 6);
        var weights = GruClassifierWeights.Random(ToyConfig(), 7);
        var options = new TrainingOptions { MaxEpochs = 2, BatchSize = 20, Seed = 9, Threads = 2 };
        var a = GruTrainer.Train(weights, train, null, options);
        var b = GruTrainer.Train(weights, train, null, options);
        for (var i = 0; i < a.Weights.Parameters.Count; i++)
        {
            Assert.True(a.Weights.Parameters[i].Values.AsSpan().SequenceEqual(b.Weights.Parameters[i].Values), a.Weights.Parameters[i].Name);
        }
    }

    [Fact]
    public void Train_ShardedBatch_EqualsSingleThreadWithinRounding()
    {
        var train = TrendTask(64, 10);
        var weights = GruClassifierWeights.Random(ToyConfig(), 11);
        var one = GruTrainer.Train(weights, train, null, new TrainingOptions { MaxEpochs = 1, BatchSize = 64, Threads = 1, ClipNorm = 0 });
        var two = GruTrainer.Train(weights, train, null, new TrainingOptions { MaxEpochs = 1, BatchSize = 64, Threads = 2, ClipNorm = 0 });
        Assert.Equal(one.History[0].TrainLoss, two.History[0].TrainLoss, 6);
        for (var i = 0; i < one.Weights.Parameters.Count; i++)
        {
            var x = one.Weights.Parameters[i].Values;
            var y = two.Weights.Parameters[i].Values;
            for (var j = 0; j < x.Length; j++)
            {
                Assert.Equal(x[j], y[j], 4);
            }
        }
    }

    [Fact]
    public void TrainableLayers_Parse_NamesGroups()
    {
        var t = TrainableLayers.Parse("gru,output");
        Assert.True(t.Includes("gru.weight_hh_l1"));
        Assert.True(t.Includes("output.bias"));
        Assert.False(t.Includes("latent.weight"));
        Assert.False(t.Includes("meta_dense.weight"));
        Assert.True(TrainableLayers.Parse("all").Includes("merge.weight"));
        Assert.Throws<FormatException>(() => TrainableLayers.Parse("gills"));
    }

    [Fact]
    public void AdaptHead_NewClassList_KeepsKnownRowsAndBody()
    {
        var config = ToyConfig() with { Classes = 3 };
        var source = new TrainedModel(GruClassifierWeights.Random(config, 1), ["A", "B", "C"], null);
        var adapted = ModelIo.AdaptHead(source, ["C", "D"], replaceHead: false, seed: 2);
        Assert.Equal(2, adapted.Config.Classes);
        Assert.Equal(source.Weights.GetParameter("gru.weight_hh_l0").Values, adapted.GetParameter("gru.weight_hh_l0").Values);
        Assert.Equal(source.Weights.Output.Weight.AsSpan(2 * 8, 8).ToArray(), adapted.Output.Weight.AsSpan(0, 8).ToArray());
        Assert.Equal(source.Weights.Output.Bias[2], adapted.Output.Bias[0]);

        var replaced = ModelIo.AdaptHead(source, ["A", "B", "C"], replaceHead: true, seed: 2);
        Assert.NotEqual(source.Weights.Output.Weight, replaced.Output.Weight);
        Assert.Equal(source.Weights.Latent.Weight, replaced.Latent.Weight);
    }

    // Data encoded with 6 features per step (alertbroker-lc) run through a 4-feature network (muthukrishna2025): the
    // trainer and the predictor copied the first 4 of every 6 into the network without a word (experiment transfer with
    // a muthukrishna2025 base trained and scored on misaligned features).
    [Fact]
    public void Train_StepsWiderThanTheNetworkTakes_Throws()
    {
        var narrow = GruClassifierWeights.Random(ToyConfig() with { InputFeatures = 4 }, 3);
        var data = TrendTask(20, 1);

        var e = Assert.Throws<ArgumentException>(() => GruTrainer.Train(narrow, data, null, new TrainingOptions { MaxEpochs = 1, BatchSize = 8 }));
        Assert.Contains("4 features per step; the data have 6", e.Message, StringComparison.Ordinal);
        Assert.Equal("train", e.ParamName);

        // The validation part too, whose loss and AUROC select the epoch.
        var wide = GruClassifierWeights.Random(ToyConfig(), 3);
        var validation = TrendTask(10, 2);
        var narrowData = EncodedDataset.FromArrays(data.Classes, [.. Enumerable.Range(0, 10).Select(_ => new float[3 * 4])], new float[10 * 4], [.. Enumerable.Repeat(0, 10)], 4, stepFeatures: 4);
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => GruTrainer.Train(wide, validation, narrowData, new TrainingOptions { MaxEpochs = 1 })).ParamName);
    }

    [Fact]
    public void PredictAndEvaluate_StepsWiderThanTheNetworkTakes_Throw()
    {
        var narrow = GruClassifierWeights.Random(ToyConfig() with { InputFeatures = 4 }, 3);
        var data = TrendTask(20, 1);

        Assert.Throws<ArgumentException>(() => Predictor.Predict(narrow, data, threads: 1));
        Assert.Throws<ArgumentException>(() => EvaluationReport.Evaluate(narrow, data, threads: 1));
    }
}
