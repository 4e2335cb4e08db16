using AlertBroker.Model.Network;

namespace AlertBroker.Model.Tests;

public class GruClassifierTests
{
    [Fact]
    public void GruCell_ScalarCase_MatchesPyTorchFormulaComputedInDouble()
    {
        var layer = new GruLayerWeights(1, 1);
        // Distinct values per gate so that any mix-up of r, z, n or of the reset placement changes the result.
        layer.WeightIh[0] = 0.3f; layer.WeightIh[1] = -0.7f; layer.WeightIh[2] = 1.1f;  // r, z, n
        layer.WeightHh[0] = 0.5f; layer.WeightHh[1] = 0.2f; layer.WeightHh[2] = -0.9f;
        layer.BiasIh[0] = 0.1f; layer.BiasIh[1] = -0.2f; layer.BiasIh[2] = 0.05f;
        layer.BiasHh[0] = -0.3f; layer.BiasHh[1] = 0.4f; layer.BiasHh[2] = 0.6f;
        double x = 0.8, h = -0.4;
        static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        var r = Sigmoid((0.3 * x) + 0.1 + (0.5 * h) - 0.3);
        var z = Sigmoid((-0.7 * x) - 0.2 + (0.2 * h) + 0.4);
        var n = Math.Tanh((1.1 * x) + 0.05 + (r * ((-0.9 * h) + 0.6)));
        var expected = ((1 - z) * n) + (z * h);

        float[] state = [(float)h];
        GruClassifier.GruCell(layer, [(float)x], state, new float[3], new float[3]);

        Assert.Equal(expected, state[0], 1e-6);
    }

    [Fact]
    public void Forward_AnyInput_ProbabilitiesArePositiveAndSumToOne()
    {
        var c = TestData.Config(6, 2, 8, 2, 5);
        var classifier = new GruClassifier(GruClassifierWeights.Random(c, 1));
        var random = new Random(1);
        var probs = new float[3 * 4 * 5];

        classifier.Forward(TestData.Uniform(random, 3 * 4 * 6, 5f), TestData.Uniform(random, 6), [4, 2, 1], [], 3, 4, probs, new float[2 * 3 * 8]);

        for (var row = 0; row < 12; row++)
        {
            var slice = probs.AsSpan(row * 5, 5);
            Assert.Equal(1.0, slice.ToArray().Sum(), 1e-5);
            Assert.All(slice.ToArray(), p => Assert.True(p > 0));
        }
    }

    [Fact]
    public void Forward_PaddedBatch_EqualsEachRowRunAlone()
    {
        var c = TestData.Config(4, 3, 6, 2, 3);
        var classifier = new GruClassifier(GruClassifierWeights.Random(c, 2));
        var random = new Random(2);
        const int batch = 3, steps = 5;
        int[] lengths = [5, 2, 3];
        var x = TestData.Uniform(random, batch * steps * 4);
        var meta = TestData.Uniform(random, batch * 3);
        var probs = new float[batch * steps * 3];
        var hn = new float[2 * batch * 6];
        classifier.Forward(x, meta, lengths, [], batch, steps, probs, hn);

        for (var b = 0; b < batch; b++)
        {
            var k = lengths[b];
            var rowProbs = new float[k * 3];
            var rowHn = new float[2 * 6];
            classifier.Run(x.AsSpan(b * steps * 4, k * 4), meta.AsSpan(b * 3, 3), [], rowProbs, rowHn);

            Assert.Equal(rowProbs, probs.AsSpan(b * steps * 3, k * 3).ToArray());
            Assert.Equal(rowHn[..6], hn.AsSpan(b * 6, 6).ToArray());
            Assert.Equal(rowHn[6..], hn.AsSpan((batch + b) * 6, 6).ToArray());
        }
    }

    [Fact]
    public void Run_ContinuingFromReturnedState_EqualsRunningAllStepsAtOnce()
    {
        var c = TestData.Config(6, 2, 8, 2, 5);
        var classifier = new GruClassifier(GruClassifierWeights.Random(c, 3));
        var random = new Random(3);
        var steps = TestData.Uniform(random, 7 * 6);
        var meta = TestData.Uniform(random, 2);
        var allProbs = new float[7 * 5];
        var allHn = new float[16];
        classifier.Run(steps, meta, [], allProbs, allHn);

        var firstProbs = new float[4 * 5];
        var state = new float[16];
        classifier.Run(steps.AsSpan(0, 4 * 6), meta, [], firstProbs, state);
        var restProbs = new float[3 * 5];
        var finalState = new float[16];
        classifier.Run(steps.AsSpan(4 * 6), meta, state, restProbs, finalState);

        Assert.Equal(allProbs[..20], firstProbs);
        Assert.Equal(allProbs[20..], restProbs);
        Assert.Equal(allHn, finalState);
    }

    [Fact]
    public void Forward_ZeroLength_ReturnsInitialState()
    {
        var c = TestData.Config(3, 0, 4, 2, 2);
        var classifier = new GruClassifier(GruClassifierWeights.Random(c, 4));
        var h0 = TestData.Uniform(new Random(4), 2 * 4);
        var hn = new float[8];

        classifier.Forward(new float[2 * 3], [], [0], h0, 1, 2, new float[2 * 2], hn);

        Assert.Equal(h0, hn);
    }

    [Fact]
    public void Forward_LengthBeyondSteps_ThrowsArgumentOutOfRange()
    {
        var c = TestData.Config(3, 0, 4, 1, 2);
        var classifier = new GruClassifier(GruClassifierWeights.Random(c, 4));

        Assert.Throws<ArgumentOutOfRangeException>(() => classifier.Forward(new float[6], [], [3], [], 1, 2, new float[4], new float[4]));
    }

    [Fact]
    public void Run_StepsNotMultipleOfFeatures_ThrowsArgumentException()
    {
        var classifier = new GruClassifier(GruClassifierWeights.Random(TestData.Config(3, 0, 4, 1, 2), 4));

        Assert.Throws<ArgumentException>(() => classifier.Run(new float[4], [], [], new float[2], new float[4]));
    }

    [Fact]
    public void Softmax_HugeLogits_StaysFinite()
    {
        float[] logits = [1000f, 999f, -1000f];

        GruClassifier.Softmax(logits);

        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1 / (1 + MathF.Exp(-1)), logits[0], 1e-6f);
    }

    [Fact]
    public void Forward_WeightsChangedBetweenCalls_UsesCurrentWeights()
    {
        var c = TestData.Config(3, 0, 4, 1, 2);
        var weights = GruClassifierWeights.Random(c, 8);
        var classifier = new GruClassifier(weights);
        var before = new float[2];
        classifier.Run([0.1f, 0.2f, 0.3f], [], [], before, new float[4]);

        weights.Output.Bias[0] += 3f;
        var after = new float[2];
        classifier.Run([0.1f, 0.2f, 0.3f], [], [], after, new float[4]);

        Assert.True(after[0] > before[0]);
    }
}
