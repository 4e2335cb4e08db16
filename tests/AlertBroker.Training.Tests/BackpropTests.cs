using AlertBroker.Model.Network;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

public sealed class BackpropTests
{
    // Padded on purpose: lengths differ, so the packed batch shrinks step by step.
    private static readonly int[] s_lengths = [5, 1, 3, 4, 2, 5];

    public static TheoryData<int, int> Shapes => new()
    {
        { 4, 2 }, // metadata branch, two GRU layers
        { 0, 2 }, // no metadata branch
        { 4, 1 }, // one GRU layer
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_PaddedBatch_EqualsReferenceClassifier(int meta, int layers)
    {
        var config = TestNetworks.Tiny(meta, layers);
        var weights = GruClassifierWeights.Random(config, 3);
        var data = TestNetworks.RandomData(s_lengths, meta, config.Classes, 4);
        var predictions = Predictor.Predict(weights, data, threads: 1);

        var reference = new GruClassifier(weights);
        for (var i = 0; i < data.Count; i++)
        {
            var length = data.Lengths[i];
            var probs = new float[length * config.Classes];
            var hn = new float[layers * config.HiddenSize];
            reference.Run(data.StepsInternal[i], data.MetaInternal.AsSpan(i * meta, meta), [], probs, hn);
            for (var j = 0; j < probs.Length; j++)
            {
                Assert.Equal(probs[j], predictions[i][j], 5);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_EveryParameter_MatchesFiniteDifferences(int meta, int layers) => CheckGradients(meta, layers, StepLoss.AllSteps);

    [Theory]
    [InlineData(StepLoss.PerObject, 0)]
    [InlineData(StepLoss.LastStep, 0)]
    [InlineData(StepLoss.PerObject, 4)]
    [InlineData(StepLoss.Checkpoints, 0)]
    public void Backward_StepLossModes_MatchFiniteDifferences(StepLoss stepLoss, int meta) => CheckGradients(meta, 2, stepLoss);

    [Theory]
    [InlineData(StepLoss.AllSteps, 0, 0.6f)]
    [InlineData(StepLoss.Checkpoints, 4, 1f)]
    public void Backward_SoftTargets_MatchFiniteDifferences(StepLoss stepLoss, int meta, float softWeight) => CheckGradients(meta, 2, stepLoss, softWeight);

    [Theory]
    [InlineData(StepLoss.AllSteps)]
    [InlineData(StepLoss.PerObject)]
    [InlineData(StepLoss.LastStep)]
    [InlineData(StepLoss.Checkpoints)]
    public void Forward_StepLoss_IsTheWeightedMeanOfTheStepLosses(StepLoss stepLoss)
    {
        var config = TestNetworks.Tiny(0, 2);
        var weights = GruClassifierWeights.Random(config, 5);
        var data = TestNetworks.RandomData(s_lengths, 0, config.Classes, 6);
        var classWeights = new float[] { 1f, 2.5f, 0.5f };
        var probs = Predictor.Predict(weights, data, threads: 1);

        // By hand: ω = 1 per step (all), 1/length (object), 1 on the last step (last), or 1/9 per checkpoint day
        // 0, 2, 5, 10, 15, 20, 30, 50 on the step current then (step t is at day t here) and 1/9 on the last step
        // (checkpoints); divided by Σ ω.
        int[] checkpoints = [0, 2, 5, 10, 15, 20, 30, 50];
        double expected = 0, omegaSum = 0;
        for (var i = 0; i < data.Count; i++)
        {
            var length = data.Lengths[i];
            for (var t = 0; t < length; t++)
            {
                var omega = stepLoss switch
                {
                    StepLoss.AllSteps => 1.0,
                    StepLoss.PerObject => 1.0 / length,
                    StepLoss.LastStep => t == length - 1 ? 1.0 : 0.0,
                    _ => (checkpoints.Count(d => Math.Min(d, length - 1) == t) + (t == length - 1 ? 1 : 0)) / 9.0,
                };
                expected -= omega * classWeights[data.Labels[i]] * Math.Log(probs[i][(t * config.Classes) + data.Labels[i]]);
                omegaSum += omega;
            }
        }

        expected /= omegaSum;
        var ws = new BackpropWorkspace(config);
        ws.Load(data, Enumerable.Range(0, data.Count).ToArray());
        var normaliser = BackpropWorkspace.Normaliser(stepLoss, data.Lengths);
        Assert.Equal(omegaSum, normaliser, 9);
        Assert.Equal(expected, ws.Forward(new NetworkView(weights), classWeights, normaliser, stepLoss), 5);
    }

    private static void CheckGradients(int meta, int layers, StepLoss stepLoss, float softWeight = 0)
    {
        var config = TestNetworks.Tiny(meta, layers);
        var weights = GruClassifierWeights.Random(config, 11);
        var data = TestNetworks.RandomData(s_lengths, meta, config.Classes, 12);
        if (softWeight > 0)
        {
            data = data.WithSoftTargets(TestNetworks.RandomDistributions(data, 13));
        }

        var classWeights = new float[] { 1f, 2.5f, 0.5f };
        var indices = Enumerable.Range(0, data.Count).ToArray();
        var normaliser = BackpropWorkspace.Normaliser(stepLoss, data.Lengths);

        var ws = new BackpropWorkspace(config);
        var net = new NetworkView(weights);
        var grads = new GruClassifierWeights(config);
        ws.Load(data, indices);
        ws.Forward(net, classWeights, normaliser, stepLoss, softWeight);
        ws.Backward(net, grads, TrainableLayers.All, classWeights, normaliser, stepLoss, softWeight);

        double Loss()
        {
            net.Refresh();
            ws.Load(data, indices);
            return ws.Forward(net, classWeights, normaliser, stepLoss, softWeight);
        }

        var failures = new List<string>();
        int kinks = 0, compared = 0;
        var checkedKinds = new HashSet<string>();
        for (var p = 0; p < weights.Parameters.Count; p++)
        {
            var parameter = weights.Parameters[p];
            var analytic = grads.Parameters[p].Values;
            for (var j = 0; j < parameter.Values.Length; j++)
            {
                var original = parameter.Values[j];
                const float h = 5e-4f;
                parameter.Values[j] = original + h;
                var up = Loss();
                parameter.Values[j] = original - h;
                var down = Loss();
                parameter.Values[j] = original;
                var centre = Loss();
                var numeric = (up - down) / (2 * h);
                var tolerance = 2e-4 + (2e-2 * Math.Abs(numeric));

                // A ReLU kink inside [x − h, x + h] makes the loss non-differentiable there: the one-sided slopes
                // disagree. Such entries say nothing about the backward pass and are counted, not compared.
                if (Math.Abs(((up - centre) / h) - ((centre - down) / h)) > 4 * tolerance)
                {
                    kinks++;
                    continue;
                }

                compared++;
                if (Math.Abs(numeric - analytic[j]) > tolerance)
                {
                    failures.Add($"{parameter.Name}[{j}]: analytic {analytic[j]:G6}, numeric {numeric:G6}");
                }
            }

            checkedKinds.Add(parameter.Name);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(weights.Parameters.Count, checkedKinds.Count);
        Assert.True(kinks <= compared / 50, $"{kinks} kinks in {compared} entries");

        // The check must not pass vacuously: the gradients are far from zero for the recurrent weights, including the
        // n-gate block of the recurrent bias that the reset gate multiplies (linear_before_reset).
        var h3 = config.HiddenSize;
        foreach (var name in new[] { "gru.weight_hh_l0", "gru.weight_ih_l0", "output.weight" })
        {
            Assert.True(MaxAbs(grads.GetParameter(name).Values) > 1e-5, name);
        }

        Assert.True(MaxAbs(grads.GetParameter("gru.bias_hh_l0").Values.AsSpan(2 * h3, h3).ToArray()) > 1e-6);
        if (meta > 0)
        {
            Assert.True(MaxAbs(grads.GetParameter("meta_dense.weight").Values) > 1e-5);
        }
    }

    [Fact]
    public void Backward_FrozenLowerLayers_GivesSameGradientsForTrainableLayers()
    {
        var config = TestNetworks.Tiny();
        var weights = GruClassifierWeights.Random(config, 21);
        var data = TestNetworks.RandomData(s_lengths, 4, config.Classes, 22);
        var indices = Enumerable.Range(0, data.Count).ToArray();
        var cw = new float[] { 1, 1, 1 };
        var all = Gradients(TrainableLayers.All);
        var head = Gradients(TrainableLayers.Parse("latent,output"));
        Assert.Equal(all.GetParameter("latent.weight").Values, head.GetParameter("latent.weight").Values);
        Assert.Equal(all.GetParameter("output.bias").Values, head.GetParameter("output.bias").Values);
        Assert.All(head.GetParameter("gru.weight_hh_l0").Values, v => Assert.Equal(0f, v));
        Assert.All(head.GetParameter("merge.weight").Values, v => Assert.Equal(0f, v));

        GruClassifierWeights Gradients(TrainableLayers trainable)
        {
            var ws = new BackpropWorkspace(config);
            var net = new NetworkView(weights);
            var grads = new GruClassifierWeights(config);
            ws.Load(data, indices);
            ws.Forward(net, cw, data.TotalSteps);
            ws.Backward(net, grads, trainable, cw, data.TotalSteps);
            return grads;
        }
    }

    private static float MaxAbs(float[] values) => values.Max(Math.Abs);
}
