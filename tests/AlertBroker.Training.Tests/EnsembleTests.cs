using AlertBroker.Model.Network;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

/// <summary><see cref="ModelIo.Ensemble"/>: one block-diagonal network whose every step is the members' mean logits.</summary>
public sealed class EnsembleTests
{
    [Theory]
    [InlineData(0, 2, 2)]
    [InlineData(4, 2, 3)]
    [InlineData(4, 1, 2)]
    public void Ensemble_EveryStep_IsTheSoftmaxOfTheMembersMeanLogProbabilities(int meta, int layers, int members)
    {
        var config = TestNetworks.Tiny(meta: meta, layers: layers, classes: 3, hidden: 5);
        var models = Enumerable.Range(0, members)
            .Select(m => new TrainedModel(GruClassifierWeights.Random(config, 10 + m), ["A", "B", "C"], null))
            .ToList();
        var data = TestNetworks.RandomData([1, 4, 9, 2], meta, 3, 7);

        var ensemble = ModelIo.Ensemble(models);

        Assert.Equal(config.HiddenSize * members, ensemble.Config.HiddenSize);
        Assert.Equal(config.LatentSize * members, ensemble.Config.LatentSize);
        var each = models.Select(m => Predictor.Predict(m.Weights, data, threads: 1)).ToList();
        var together = Predictor.Predict(ensemble, data, threads: 1);
        for (var i = 0; i < data.Count; i++)
        {
            for (var step = 0; step < together[i].Length / 3; step++)
            {
                // Logits are log-probabilities up to a constant per member and step, so softmax(mean logits) = softmax(mean log p).
                var mean = new double[3];
                for (var c = 0; c < 3; c++)
                {
                    mean[c] = each.Average(p => Math.Log(p[i][(step * 3) + c]));
                }

                var norm = mean.Sum(Math.Exp);
                for (var c = 0; c < 3; c++)
                {
                    Assert.Equal(Math.Exp(mean[c]) / norm, together[i][(step * 3) + c], 5);
                }
            }
        }
    }

    [Fact]
    public void Ensemble_MembersOfDifferentKinds_AreRefusedNamingTheDifference()
    {
        var a = new TrainedModel(GruClassifierWeights.Random(TestNetworks.Tiny(meta: 0), 1), ["A", "B", "C"], null);
        var b = new TrainedModel(GruClassifierWeights.Random(TestNetworks.Tiny(meta: 0, hidden: 6), 2), ["A", "B", "C"], null);
        var c = new TrainedModel(GruClassifierWeights.Random(TestNetworks.Tiny(meta: 0), 3), ["A", "C", "B"], null);
        Assert.Contains("at least two", Assert.Throws<ArgumentException>(() => ModelIo.Ensemble([a])).Message, StringComparison.Ordinal);
        Assert.Contains("network", Assert.Throws<ArgumentException>(() => ModelIo.Ensemble([a, b])).Message, StringComparison.Ordinal);
        Assert.Contains("classes A,C,B vs A,B,C", Assert.Throws<ArgumentException>(() => ModelIo.Ensemble([a, c])).Message, StringComparison.Ordinal);
    }
}
