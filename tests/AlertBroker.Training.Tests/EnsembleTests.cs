using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Scoring;
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
        var models = Members(config, ["A", "B", "C"], 10, members);
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

    [Theory]
    [InlineData(0, 2, 2)]
    [InlineData(3, 2, 3)]
    [InlineData(3, 1, 2)]
    public void Export_MembersAsTheirOwnGraphs_ScoreAndStateExactlyAsTheWholeNetwork(int meta, int layers, int members)
    {
        var config = TestNetworks.Tiny(meta: meta, layers: layers, classes: 4, hidden: 5);
        var models = Members(config, ["A", "B", "C", "D"], 40, members);
        var ensemble = ModelIo.Ensemble(models);
        Assert.Equal(members, ensemble.Config.Members);
        Assert.True(ensemble.IsBlockDiagonal());

        // The same weights as one plain network (Members 1): the graph the exporter wrote before members had their own.
        var whole = new GruClassifierWeights(ensemble.Config with { Members = 1 });
        for (var p = 0; p < whole.Parameters.Count; p++)
        {
            ensemble.Parameters[p].Values.CopyTo(whole.Parameters[p].Values, 0);
        }

        var split = GruClassifierExporter.ToOnnx(ensemble);
        var dense = GruClassifierExporter.ToOnnx(whole);

        // Incremental scoring from a stored state, and full sequences from zeros: probabilities and the new state agree.
        var random = new Random(3);
        float[] Uniform(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        var stateSize = layers * ensemble.Config.HiddenSize;
        var requests = new[]
        {
            new ScoringRequest(Uniform(6), Uniform(meta), Uniform(stateSize)),
            new ScoringRequest(Uniform(6 * 7), Uniform(meta), ReadOnlyMemory<float>.Empty),
            new ScoringRequest(Uniform(6 * 3), Uniform(meta), Uniform(stateSize)),
        };
        (float[] Probs, float[] State)[] Score(byte[] onnx)
        {
            using var session = OnnxSession.FromBytes(onnx, new OnnxSessionOptions { IntraOpThreads = 1, InterOpThreads = 1 });
            using var scorer = new BatchScorer(session, ModelDimensions.From(ensemble.Config));
            return [.. scorer.Score(requests).Select(r => (r.Probabilities, r.HiddenState))];
        }

        var a = Score(split);
        var b = Score(dense);
        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(b[i].Probs.Length, a[i].Probs.Length);
            for (var j = 0; j < a[i].Probs.Length; j++)
            {
                Assert.Equal(b[i].Probs[j], a[i].Probs[j], 5);
            }

            for (var j = 0; j < a[i].State.Length; j++)
            {
                Assert.Equal(b[i].State[j], a[i].State[j], 5);
            }
        }

        // And the file reads back into the same side-by-side network (what finetune, average, priors start from).
        var back = GruClassifierExporter.FromOnnx(split);
        Assert.Equal(ensemble.Config, back.Config);
        for (var p = 0; p < back.Parameters.Count; p++)
        {
            for (var j = 0; j < back.Parameters[p].Values.Length; j++)
            {
                Assert.Equal(ensemble.Parameters[p].Values[j], back.Parameters[p].Values[j], 6);
            }
        }
    }

    [Fact]
    public void Export_MembersNoLongerBlockDiagonal_IsWrittenAsOneNetwork()
    {
        var config = TestNetworks.Tiny(meta: 0, hidden: 4);
        var ensemble = ModelIo.Ensemble([.. Enumerable.Range(0, 2).Select(m => new TrainedModel(GruClassifierWeights.Random(config, m), ["A", "B", "C"], null))]);
        ensemble.GruLayers[0].WeightHh[(0 * 8) + 5] = 0.25f; // member 0's unit 0 now reads member 1's unit 1, as after training the whole
        Assert.False(ensemble.IsBlockDiagonal());

        var back = GruClassifierExporter.FromOnnx(GruClassifierExporter.ToOnnx(ensemble));

        Assert.Equal(1, back.Config.Members);
        for (var p = 0; p < back.Parameters.Count; p++)
        {
            Assert.Equal(ensemble.Parameters[p].Values, back.Parameters[p].Values);
        }
    }

    [Fact]
    public void Ensemble_OfEnsembles_BringsTheirMembers()
    {
        var config = TestNetworks.Tiny(meta: 0, hidden: 3);
        TrainedModel Pair(int seed) => new(ModelIo.Ensemble([.. Enumerable.Range(0, 2).Select(m => new TrainedModel(GruClassifierWeights.Random(config, seed + m), ["A", "B", "C"], null))]), ["A", "B", "C"], null);
        var a = Pair(1);
        var b = Pair(5);
        var data = TestNetworks.RandomData([3, 6], 0, 3, 2);

        var four = ModelIo.Ensemble([a, b]);

        Assert.Equal(4, four.Config.Members);
        Assert.Equal(12, four.Config.HiddenSize);
        var pa = Predictor.Predict(a.Weights, data, threads: 1);
        var pb = Predictor.Predict(b.Weights, data, threads: 1);
        var p4 = Predictor.Predict(four, data, threads: 1);
        for (var i = 0; i < data.Count; i++)
        {
            for (var j = 0; j < p4[i].Length; j += 3)
            {
                var mean = Enumerable.Range(0, 3).Select(c => (Math.Log(pa[i][j + c]) + Math.Log(pb[i][j + c])) / 2).ToArray();
                var norm = mean.Sum(Math.Exp);
                for (var c = 0; c < 3; c++)
                {
                    Assert.Equal(Math.Exp(mean[c]) / norm, p4[i][j + c], 5);
                }
            }
        }
    }

    // Members of one shape with random weights, seeds firstSeed, firstSeed + 1, ….
    private static List<TrainedModel> Members(GruClassifierConfig config, string[] classes, int firstSeed, int members) =>
        [.. Enumerable.Range(0, members).Select(m => new TrainedModel(GruClassifierWeights.Random(config, firstSeed + m), classes, null))];
}
