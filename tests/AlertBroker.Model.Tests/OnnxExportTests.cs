using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Onnx.Protobuf;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Tests;

public class OnnxExportTests
{
    private static (OnnxTensor[] Inputs, OnnxTensor[] Outputs) Bind(
        OnnxSession session, GruClassifierConfig c, float[] x, float[] meta, float[] h0, int[] lengths, int batch, int steps, float[] probs, float[] hn)
    {
        var inputs = new OnnxTensor[session.Inputs.Count];
        inputs[session.GetInputIndex("x")] = OnnxTensor.Create(x, [batch, steps, c.InputFeatures]);
        if (c.MetaFeatures > 0)
        {
            inputs[session.GetInputIndex("meta")] = OnnxTensor.Create(meta, [batch, c.MetaFeatures]);
        }

        inputs[session.GetInputIndex("h0")] = OnnxTensor.Create(h0, [c.Layers, batch, c.HiddenSize]);
        inputs[session.GetInputIndex("lengths")] = OnnxTensor.Create(lengths, [batch]);
        var outputs = new OnnxTensor[2];
        outputs[session.GetOutputIndex("probs")] = OnnxTensor.Create(probs, [batch, steps, c.Classes]);
        outputs[session.GetOutputIndex("hn")] = OnnxTensor.Create(hn, [c.Layers, batch, c.HiddenSize]);
        return (inputs, outputs);
    }

    private static void RunOnnx(OnnxSession session, GruClassifierConfig c, float[] x, float[] meta, float[] h0, int[] lengths, int batch, int steps, float[] probs, float[] hn)
    {
        var (inputs, outputs) = Bind(session, c, x, meta, h0, lengths, batch, steps, probs, hn);
        session.Run(inputs, outputs);
    }

    [Theory]
    [MemberData(nameof(TestData.Configs), MemberType = typeof(TestData))]
    public void Run_RandomWeightsAndInputs_MatchesManagedForwardPass(int features, int meta, int hidden, int layers, int classes)
    {
        var c = TestData.Config(features, meta, hidden, layers, classes);
        var weights = GruClassifierWeights.Random(c, seed: 42);
        using var session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(weights));
        var random = new Random(7);
        const int batch = 5, steps = 9;
        var x = TestData.Uniform(random, batch * steps * features, 2f);
        var m = TestData.Uniform(random, batch * meta);
        var h0 = TestData.Uniform(random, layers * batch * hidden, 0.8f);
        int[] lengths = [9, 1, 4, 9, 6];

        var expectedProbs = new float[batch * steps * classes];
        var expectedHn = new float[layers * batch * hidden];
        new GruClassifier(weights).Forward(x, m, lengths, h0, batch, steps, expectedProbs, expectedHn);

        var probs = new float[expectedProbs.Length];
        var hn = new float[expectedHn.Length];
        RunOnnx(session, c, x, m, h0, lengths, batch, steps, probs, hn);

        TestData.AssertClose(expectedProbs, probs, what: "probs");
        TestData.AssertClose(expectedHn, hn, what: "hn");
    }

    [Theory]
    [MemberData(nameof(TestData.Configs), MemberType = typeof(TestData))]
    public void Run_OneStepAtATimeCarryingState_EqualsFullSequence(int features, int meta, int hidden, int layers, int classes)
    {
        var c = TestData.Config(features, meta, hidden, layers, classes);
        var weights = GruClassifierWeights.Random(c, seed: 3);
        using var session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(weights));
        var random = new Random(11);
        const int batch = 3, steps = 7;
        var x = TestData.Uniform(random, batch * steps * features, 2f);
        var m = TestData.Uniform(random, batch * meta);
        var fullProbs = new float[batch * steps * classes];
        var fullHn = new float[layers * batch * hidden];
        RunOnnx(session, c, x, m, new float[layers * batch * hidden], [steps, steps, steps], batch, steps, fullProbs, fullHn);

        var state = new float[layers * batch * hidden];
        var stepX = new float[batch * features];
        var stepProbs = new float[batch * classes];
        var next = new float[state.Length];
        for (var t = 0; t < steps; t++)
        {
            for (var b = 0; b < batch; b++)
            {
                Array.Copy(x, ((b * steps) + t) * features, stepX, b * features, features);
            }

            RunOnnx(session, c, stepX, m, state, [1, 1, 1], batch, 1, stepProbs, next);
            for (var b = 0; b < batch; b++)
            {
                TestData.AssertClose(
                    fullProbs.AsSpan(((b * steps) + t) * classes, classes),
                    stepProbs.AsSpan(b * classes, classes),
                    what: $"probs row {b} step {t}");
            }

            (state, next) = (next, state);
        }

        TestData.AssertClose(fullHn, state, what: "hn");
    }

    [Theory]
    [MemberData(nameof(TestData.Configs), MemberType = typeof(TestData))]
    public void Run_PaddedBatchWithLengths_EqualsEachRowAlone(int features, int meta, int hidden, int layers, int classes)
    {
        var c = TestData.Config(features, meta, hidden, layers, classes);
        var weights = GruClassifierWeights.Random(c, seed: 5);
        using var session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(weights));
        var random = new Random(13);
        const int batch = 4, steps = 8;
        int[] lengths = [3, 8, 1, 5];
        var x = TestData.Uniform(random, batch * steps * features, 2f);
        var m = TestData.Uniform(random, batch * meta);
        var h0 = TestData.Uniform(random, layers * batch * hidden, 0.5f);
        var probs = new float[batch * steps * classes];
        var hn = new float[layers * batch * hidden];
        RunOnnx(session, c, x, m, h0, lengths, batch, steps, probs, hn);

        for (var b = 0; b < batch; b++)
        {
            var k = lengths[b];
            var rowX = x.AsSpan(b * steps * features, k * features).ToArray();
            var rowMeta = m.AsSpan(b * meta, meta).ToArray();
            var rowH0 = new float[layers * hidden];
            for (var l = 0; l < layers; l++)
            {
                Array.Copy(h0, ((l * batch) + b) * hidden, rowH0, l * hidden, hidden);
            }

            var rowProbs = new float[k * classes];
            var rowHn = new float[layers * hidden];
            RunOnnx(session, c, rowX, rowMeta, rowH0, [k], 1, k, rowProbs, rowHn);

            TestData.AssertClose(rowProbs, probs.AsSpan(b * steps * classes, k * classes), what: $"row {b} probs");
            for (var l = 0; l < layers; l++)
            {
                TestData.AssertClose(rowHn.AsSpan(l * hidden, hidden), hn.AsSpan(((l * batch) + b) * hidden, hidden), what: $"row {b} hn layer {l}");
            }
        }
    }

    [Fact]
    public void ToOnnx_Model_RecordsOpsetProducerAndGruWithLinearBeforeReset()
    {
        var weights = GruClassifierWeights.Random(TestData.Config(6, 2, 8, 2, 5), seed: 1);
        var model = OnnxModelReader.Parse(GruClassifierExporter.ToOnnx(weights));

        Assert.Equal(GruClassifierExporter.Opset, model.DefaultOpset);
        Assert.True(model.DefaultOpset >= 14);
        Assert.Equal("AlertBroker", model.ProducerName);
        Assert.Equal(8, model.IrVersion);
        Assert.Equal(2, model.OperatorTypes.Count(t => t == "GRU"));
        Assert.Contains("Softmax", model.OperatorTypes);
    }

    [Fact]
    public void FromOnnx_ExportedWeights_RoundTripsEveryParameterExactly()
    {
        var weights = GruClassifierWeights.Random(TestData.Config(4, 3, 7, 2, 4), seed: 99);

        var back = GruClassifierExporter.FromOnnx(GruClassifierExporter.ToOnnx(weights));

        Assert.Equal(weights.Config, back.Config);
        for (var i = 0; i < weights.Parameters.Count; i++)
        {
            Assert.Equal(weights.Parameters[i].Name, back.Parameters[i].Name);
            Assert.Equal(weights.Parameters[i].Values, back.Parameters[i].Values);
        }
    }

    [Fact]
    public void FromOnnx_ForeignModel_ThrowsFormatException()
    {
        var builder = new OnnxModelBuilder();
        builder.AddInput("a", OnnxElementType.Float, OnnxDimension.Fixed(1));
        builder.AddOutput("b", OnnxElementType.Float, OnnxDimension.Fixed(1));
        builder.AddNode("Identity", ["a"], ["b"]);

        Assert.Throws<FormatException>(() => GruClassifierExporter.FromOnnx(builder.ToBytes()));
    }

    [Fact]
    public void ReorderGates_PyTorchOrder_MovesUpdateGateFirst()
    {
        // r = 1, z = 2, n = 3 in PyTorch order must become z, r, n for ONNX.
        float[] pytorch = [1, 1, 2, 2, 3, 3];

        var onnx = GruClassifierExporter.ReorderGates(pytorch);

        Assert.Equal([2f, 2, 1, 1, 3, 3], onnx);
        Assert.Equal(pytorch, GruClassifierExporter.ReorderGates(onnx));
    }

    [Fact]
    public void Session_ExportedModel_ExposesContractTensorsWithDynamicBatchAndSteps()
    {
        var c = TestData.Config(6, 2, 8, 2, 5);
        using var session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(c, 1)));

        Assert.Equal(["x", "meta", "h0", "lengths"], session.Inputs.Select(i => i.Name));
        Assert.Equal(["probs", "hn"], session.Outputs.Select(o => o.Name));
        Assert.Equal([-1L, -1, 6], session.Inputs[0].Shape);
        Assert.Equal([-1L, 2], session.Inputs[1].Shape);
        Assert.Equal([2L, -1, 8], session.Inputs[2].Shape);
        Assert.Equal(OnnxElementType.Int32, session.Inputs[3].ElementType);
        Assert.Equal([-1L, -1, 5], session.Outputs[0].Shape);
        Assert.Equal([2L, -1, 8], session.Outputs[1].Shape);
        Assert.All(session.Inputs.Take(3), i => Assert.Equal(OnnxElementType.Float, i.ElementType));
    }

    [Fact]
    public void Session_NoMetadataBranch_HasNoMetaInput()
    {
        var c = TestData.Config(6, 0, 8, 1, 3);
        using var session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(c, 1)));

        Assert.Equal(["x", "h0", "lengths"], session.Inputs.Select(i => i.Name));
        Assert.Equal(-1, session.GetInputIndex(ModelTensorNames.Meta));
    }
}
