using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;

namespace AlertBroker.Model.Tests;

public class OnnxSessionTests
{
    private static readonly GruClassifierConfig s_config = TestData.Config(6, 2, 8, 2, 5);
    private static readonly byte[] s_model = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(s_config, 17));

    private sealed class Call
    {
        public Call(int batch, int steps, int seed)
        {
            var random = new Random(seed);
            Batch = batch;
            Steps = steps;
            X = TestData.Uniform(random, batch * steps * 6);
            Meta = TestData.Uniform(random, batch * 2);
            H0 = TestData.Uniform(random, 2 * batch * 8);
            Lengths = Enumerable.Repeat(steps, batch).ToArray();
            Probs = new float[batch * steps * 5];
            Hn = new float[2 * batch * 8];
        }

        public int Batch { get; }

        public int Steps { get; }

        public float[] X { get; }

        public float[] Meta { get; }

        public float[] H0 { get; }

        public int[] Lengths { get; }

        public float[] Probs { get; }

        public float[] Hn { get; }

        // Built once, so that a warm binding call allocates nothing here either.
        private OnnxTensor[] Inputs => field ??=
            [
                OnnxTensor.Create(X, [Batch, Steps, 6]),
                OnnxTensor.Create(Meta, [Batch, 2]),
                OnnxTensor.Create(H0, [2, Batch, 8]),
                OnnxTensor.Create(Lengths, [Batch]),
            ];

        private OnnxTensor[] Outputs => field ??= [OnnxTensor.Create(Probs, [Batch, Steps, 5]), OnnxTensor.Create(Hn, [2, Batch, 8])];

        public void Run(OnnxSession session) => session.Run(Inputs, Outputs);

        public void Run(OnnxBinding binding) => binding.Run(Inputs, Outputs);
    }

    [Fact]
    public void FromBytes_CudaRequestedOnCpuOnlyBuild_ThrowsInsteadOfFallingBackToCpu()
    {
        Assert.False(OnnxRuntime.IsGpuBuild, "this test runs on the default (CPU) build");

        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.FromBytes(s_model, new OnnxSessionOptions { UseCuda = true }));

        Assert.Equal(OnnxErrorCode.ExecutionProviderFailure, e.ErrorCode);
        Assert.Contains("CUDA", e.Message);
        Assert.Contains("OnnxRuntimeFlavour=Gpu", e.Message);
        Assert.Contains("does not fall back", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void FromBytes_NotAModel_ThrowsWithRuntimeCodeAndMessage()
    {
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.FromBytes("definitely not protobuf"u8));

        Assert.Equal(OnnxErrorCode.InvalidProtobuf, e.ErrorCode);
        Assert.False(string.IsNullOrWhiteSpace(e.NativeMessage));
        Assert.DoesNotContain("[ErrorCode", e.NativeMessage);
        Assert.Contains(e.NativeMessage, e.Message);
    }

    [Fact]
    public void FromFile_MissingFile_ThrowsNoSuchFile()
    {
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.FromFile("/nonexistent/model.onnx"));

        Assert.Equal(OnnxErrorCode.NoSuchFile, e.ErrorCode);
    }

    [Fact]
    public void FromFile_ExportedModel_GivesSameResultsAsFromBytes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ab-session-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, s_model);
        try
        {
            using var fromFile = OnnxSession.FromFile(path);
            using var fromBytes = OnnxSession.FromBytes(s_model);
            var a = new Call(3, 4, seed: 1);
            var b = new Call(3, 4, seed: 1);

            a.Run(fromFile);
            b.Run(fromBytes);

            Assert.Equal(a.Probs, b.Probs);
            Assert.Equal(a.Hn, b.Hn);
            Assert.Contains(a.Probs, p => p != 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Run_OutputBufferShapedDifferentlyFromResult_ThrowsRuntimeError()
    {
        using var session = OnnxSession.FromBytes(s_model);
        var call = new Call(2, 3, seed: 2);
        var tooLong = new float[2 * 4 * 5];

        var e = Assert.Throws<OnnxRuntimeException>(() => session.Run(
            [
                OnnxTensor.Create(call.X, [2, 3, 6]),
                OnnxTensor.Create(call.Meta, [2, 2]),
                OnnxTensor.Create(call.H0, [2, 2, 8]),
                OnnxTensor.Create(call.Lengths, [2]),
            ],
            [OnnxTensor.Create(tooLong, [2, 4, 5]), OnnxTensor.Create(call.Hn, [2, 2, 8])]));

        Assert.Equal(OnnxErrorCode.InvalidArgument, e.ErrorCode);
        Assert.Contains("probs", e.NativeMessage);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Run_WrongElementType_ThrowsArgumentExceptionBeforeCallingRuntime()
    {
        using var session = OnnxSession.FromBytes(s_model);
        var call = new Call(2, 3, seed: 2);
        var floatLengths = new float[2];

        var e = Assert.Throws<ArgumentException>(() => session.Run(
            [
                OnnxTensor.Create(call.X, [2, 3, 6]),
                OnnxTensor.Create(call.Meta, [2, 2]),
                OnnxTensor.Create(call.H0, [2, 2, 8]),
                OnnxTensor.Create(floatLengths, [2]),
            ],
            [OnnxTensor.Create(call.Probs, [2, 3, 5]), OnnxTensor.Create(call.Hn, [2, 2, 8])]));

        Assert.Contains("lengths", e.Message);
    }

    [Fact]
    public void Run_FixedDimensionDiffers_ThrowsArgumentException()
    {
        using var session = OnnxSession.FromBytes(s_model);
        var call = new Call(2, 3, seed: 2);

        Assert.Throws<ArgumentException>(() => session.Run(
            [
                OnnxTensor.Create(call.X, [2, 6, 3]),
                OnnxTensor.Create(call.Meta, [2, 2]),
                OnnxTensor.Create(call.H0, [2, 2, 8]),
                OnnxTensor.Create(call.Lengths, [2]),
            ],
            [OnnxTensor.Create(call.Probs, [2, 3, 5]), OnnxTensor.Create(call.Hn, [2, 2, 8])]));
    }

    [Fact]
    public void Run_WrongNumberOfInputs_ThrowsArgumentException()
    {
        using var session = OnnxSession.FromBytes(s_model);
        var call = new Call(1, 1, seed: 2);

        Assert.Throws<ArgumentException>(() => session.Run(
            [OnnxTensor.Create(call.X, [1, 1, 6])],
            [OnnxTensor.Create(call.Probs, [1, 1, 5]), OnnxTensor.Create(call.Hn, [2, 1, 8])]));
    }

    [Fact]
    public void Create_BufferSmallerThanShape_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => OnnxTensor.Create(new float[5], [2, 3]));

    [Fact]
    public void Create_RankAboveLimit_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxTensor.Create(new float[1], [1, 1, 1, 1, 1, 1, 1, 1, 1]));

    [Fact]
    public void Run_ManyThreadsShareOneSession_EachGetsItsSequentialResult()
    {
        using var session = OnnxSession.FromBytes(s_model);
        var calls = Enumerable.Range(0, 16).Select(i => new Call(1 + (i % 5), 1 + (i % 7), seed: i)).ToArray();
        var expected = Enumerable.Range(0, 16).Select(i => new Call(1 + (i % 5), 1 + (i % 7), seed: i)).ToArray();
        foreach (var call in expected)
        {
            call.Run(session);
        }

        Parallel.For(0, calls.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => calls[i % calls.Length].Run(session));

        for (var i = 0; i < calls.Length; i++)
        {
            Assert.Equal(expected[i].Probs, calls[i].Probs);
            Assert.Equal(expected[i].Hn, calls[i].Hn);
        }
    }

    [Fact]
    public void Run_AfterDispose_ThrowsObjectDisposedException()
    {
        var session = OnnxSession.FromBytes(s_model);
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => new Call(1, 1, seed: 3).Run(session));
    }

    [Fact]
    public void FromBytes_SessionOptions_AreKept()
    {
        var options = new OnnxSessionOptions { IntraOpThreads = 2, InterOpThreads = 1, OptimizationLevel = OnnxGraphOptimizationLevel.Basic };
        using var session = OnnxSession.FromBytes(s_model, options);
        var call = new Call(2, 2, seed: 4);

        call.Run(session);

        Assert.Same(options, session.Options);
        Assert.All(call.Probs, p => Assert.InRange(p, 0f, 1f));
    }

    [Fact]
    public void Run_MoreTensorsThanStackLimit_PassesEveryTensor()
    {
        // Six inputs and six outputs (twelve tensors) take the pooled pin buffer instead of the stack one.
        var builder = new Onnx.Protobuf.OnnxModelBuilder();
        for (var i = 0; i < 6; i++)
        {
            builder.AddInput($"in{i}", OnnxElementType.Float, Onnx.Protobuf.OnnxDimension.Fixed(2));
            builder.AddOutput($"out{i}", OnnxElementType.Float, Onnx.Protobuf.OnnxDimension.Fixed(2));
            builder.AddNode("Neg", [$"in{i}"], [$"out{i}"]);
        }

        using var session = OnnxSession.FromBytes(builder.ToBytes());
        var inputs = Enumerable.Range(0, 6).Select(i => new float[] { i, i + 0.5f }).ToArray();
        var outputs = Enumerable.Range(0, 6).Select(_ => new float[2]).ToArray();

        session.Run(inputs.Select(a => OnnxTensor.Create(a, [2])).ToArray(), outputs.Select(a => OnnxTensor.Create(a, [2])).ToArray());

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal([-i, -(i + 0.5f)], outputs[i]);
        }
    }

    [Fact]
    public void Binding_SameBuffersNewContents_EachRunSeesTheCurrentContents()
    {
        using var session = OnnxSession.FromBytes(s_model);
        using var binding = session.CreateBinding();
        var call = new Call(3, 4, seed: 5);
        var reference = new Call(3, 4, seed: 5);
        for (var round = 0; round < 3; round++)
        {
            // New contents in the very same arrays: the bound native tensors alias them.
            var random = new Random(100 + round);
            for (var i = 0; i < call.X.Length; i++)
            {
                call.X[i] = reference.X[i] = (float)random.NextDouble();
            }

            for (var i = 0; i < call.H0.Length; i++)
            {
                call.H0[i] = reference.H0[i] = (float)random.NextDouble() - 0.5f;
            }

            call.Run(binding);
            reference.Run(session);

            Assert.Equal(reference.Probs, call.Probs);
            Assert.Equal(reference.Hn, call.Hn);
        }
    }

    [Fact]
    public void Binding_ShapeChangesBetweenCalls_MatchesOneShotRuns()
    {
        using var session = OnnxSession.FromBytes(s_model);
        using var binding = session.CreateBinding();
        foreach (var (batch, steps) in new[] { (2, 3), (5, 1), (2, 3), (1, 7), (5, 1) })
        {
            var viaBinding = new Call(batch, steps, seed: batch * 10 + steps);
            var oneShot = new Call(batch, steps, seed: batch * 10 + steps);

            viaBinding.Run(binding);
            oneShot.Run(session);

            Assert.Equal(oneShot.Probs, viaBinding.Probs);
            Assert.Equal(oneShot.Hn, viaBinding.Hn);
        }
    }

    [Fact]
    public void Binding_WarmWithSameBuffersAndShapes_AllocatesNoManagedMemory()
    {
        using var session = OnnxSession.FromBytes(s_model);
        using var binding = session.CreateBinding();
        var call = new Call(4, 2, seed: 6);
        call.Run(binding);
        call.Run(binding);

        var before = GC.GetAllocatedBytesForCurrentThread();
        call.Run(binding);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Binding_AfterDispose_ThrowsObjectDisposedException()
    {
        using var session = OnnxSession.FromBytes(s_model);
        var binding = session.CreateBinding();
        binding.Dispose();

        Assert.Throws<ObjectDisposedException>(() => new Call(1, 1, seed: 3).Run(binding));
    }

    [Fact]
    public void Binding_SessionDisposed_ThrowsObjectDisposedException()
    {
        var session = OnnxSession.FromBytes(s_model);
        using var binding = session.CreateBinding();
        new Call(1, 1, seed: 3).Run(binding);
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => new Call(1, 1, seed: 3).Run(binding));
    }

    [Fact]
    public void Inputs_ExportedGraph_DescribeNamesTypesAndDynamicDimensions()
    {
        using var session = OnnxSession.FromBytes(s_model);

        Assert.Equal(["x", "meta", "h0", "lengths"], session.Inputs.Select(i => i.Name));
        Assert.Equal(["probs", "hn"], session.Outputs.Select(o => o.Name));
        Assert.Equal(new long[] { -1, -1, 6 }, session.Inputs[0].Shape);
        Assert.Equal(OnnxElementType.Int32, session.Inputs[3].ElementType);
        Assert.Equal(new long[] { 2, -1, 8 }, session.Outputs[1].Shape);
        Assert.Equal("CPU", session.ExecutionProvider);
    }
}
