using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Scoring;

namespace AlertBroker.Model.Tests;

public class BatchScorerTests
{
    private sealed class Fixture : IDisposable
    {
        public Fixture(GruClassifierConfig config, BatchScorerOptions? options = null)
        {
            Config = config;
            Weights = GruClassifierWeights.Random(config, 31);
            Reference = new GruClassifier(Weights);
            Session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(Weights));
            Scorer = new BatchScorer(Session, ModelDimensions.From(config), options);
        }

        public GruClassifierConfig Config { get; }

        public GruClassifierWeights Weights { get; }

        public GruClassifier Reference { get; }

        public OnnxSession Session { get; }

        public BatchScorer Scorer { get; }

        public ScoringRequest[] RandomRequests(Random random, int count, int maxSteps, bool withState)
        {
            var c = Config;
            var requests = new ScoringRequest[count];
            for (var i = 0; i < count; i++)
            {
                var k = random.Next(1, maxSteps + 1);
                var state = withState && random.Next(3) > 0 ? TestData.Uniform(random, c.Layers * c.HiddenSize, 0.7f) : [];
                requests[i] = new ScoringRequest(TestData.Uniform(random, k * c.InputFeatures, 2f), TestData.Uniform(random, c.MetaFeatures), state);
            }

            return requests;
        }

        public void AssertMatchesReference(ScoringRequest request, ScoringResult result, string what)
        {
            var c = Config;
            var k = request.Steps.Length / c.InputFeatures;
            var probs = new float[k * c.Classes];
            var hn = new float[c.Layers * c.HiddenSize];
            Reference.Run(request.Steps.Span, request.Meta.Span, request.HiddenState.Span, probs, hn);
            Assert.Equal(k, result.Steps);
            TestData.AssertClose(probs, result.Probabilities, what: what + " probs");
            TestData.AssertClose(hn, result.HiddenState, what: what + " state");
        }

        public void Dispose()
        {
            Scorer.Dispose();
            Session.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(TestData.Configs), MemberType = typeof(TestData))]
    public void Score_RandomRaggedBatch_MatchesManagedForwardPassPerObject(int features, int meta, int hidden, int layers, int classes)
    {
        using var f = new Fixture(TestData.Config(features, meta, hidden, layers, classes));
        var random = new Random(features * 100 + layers);
        for (var round = 0; round < 3; round++)
        {
            var requests = f.RandomRequests(random, count: 1 + random.Next(12), maxSteps: 9, withState: true);

            var results = f.Scorer.Score(requests);

            for (var i = 0; i < requests.Length; i++)
            {
                f.AssertMatchesReference(requests[i], results[i], $"round {round} object {i}");
            }
        }
    }

    [Fact]
    public void Score_IncrementalFromReturnedState_EqualsScoringFromScratch()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5));
        var random = new Random(5);
        const int objects = 6;
        var steps = Enumerable.Range(0, objects).Select(i => TestData.Uniform(random, (3 + i) * 6)).ToArray();
        var meta = Enumerable.Range(0, objects).Select(_ => TestData.Uniform(random, 2)).ToArray();
        var full = f.Scorer.Score(Enumerable.Range(0, objects).Select(i => new ScoringRequest(steps[i], meta[i], default)).ToArray());

        // First the first two steps of each object, then the rest from the returned state, one or two steps at a time.
        var state = new float[objects][];
        var probs = Enumerable.Range(0, objects).Select(_ => new List<float>()).ToArray();
        var first = f.Scorer.Score(Enumerable.Range(0, objects).Select(i => new ScoringRequest(steps[i].AsMemory(0, 2 * 6), meta[i], default)).ToArray());
        var done = new int[objects];
        for (var i = 0; i < objects; i++)
        {
            state[i] = first[i].HiddenState;
            probs[i].AddRange(first[i].Probabilities);
            done[i] = 2;
        }

        while (done.Where((d, i) => d < steps[i].Length / 6).Any())
        {
            var pending = Enumerable.Range(0, objects).Where(i => done[i] < steps[i].Length / 6).ToArray();
            var requests = pending.Select(i =>
            {
                var k = Math.Min(1 + (i % 2), (steps[i].Length / 6) - done[i]);
                return new ScoringRequest(steps[i].AsMemory(done[i] * 6, k * 6), meta[i], state[i]);
            }).ToArray();
            var results = f.Scorer.Score(requests);
            for (var j = 0; j < pending.Length; j++)
            {
                var i = pending[j];
                state[i] = results[j].HiddenState;
                probs[i].AddRange(results[j].Probabilities);
                done[i] += results[j].Steps;
            }
        }

        for (var i = 0; i < objects; i++)
        {
            TestData.AssertClose(full[i].Probabilities, probs[i].ToArray(), what: $"object {i} probs");
            TestData.AssertClose(full[i].HiddenState, state[i], what: $"object {i} state");
        }
    }

    [Fact]
    public void Score_MoreObjectsThanMaxBatchSize_SplitsCallsAndStillMatches()
    {
        using var f = new Fixture(TestData.Config(4, 0, 6, 1, 3), new BatchScorerOptions { MaxBatchSize = 4 });
        var requests = f.RandomRequests(new Random(9), count: 11, maxSteps: 4, withState: true);

        var results = f.Scorer.Score(requests);

        for (var i = 0; i < requests.Length; i++)
        {
            f.AssertMatchesReference(requests[i], results[i], $"object {i}");
        }
    }

    [Fact]
    public void Score_ConcurrentCallers_EachGetsTheSequentialResult()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5));
        var random = new Random(12);
        var batches = Enumerable.Range(0, 12).Select(_ => f.RandomRequests(random, 1 + random.Next(8), 6, withState: true)).ToArray();
        var expected = batches.Select(b => f.Scorer.Score(b)).ToArray();
        var actual = new ScoringResult[batches.Length][];

        Parallel.For(0, batches.Length * 3, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => actual[i % batches.Length] = f.Scorer.Score(batches[i % batches.Length]));

        for (var b = 0; b < batches.Length; b++)
        {
            for (var i = 0; i < batches[b].Length; i++)
            {
                Assert.Equal(expected[b][i].Probabilities, actual[b][i].Probabilities);
                Assert.Equal(expected[b][i].HiddenState, actual[b][i].HiddenState);
            }
        }
    }

    [Fact]
    public void Score_OutputStateIsRequestState_UpdatesInPlace()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5));
        var random = new Random(3);
        var state = TestData.Uniform(random, 16, 0.5f);
        var request = new ScoringRequest(TestData.Uniform(random, 3 * 6), TestData.Uniform(random, 2), state.ToArray());
        var expected = f.Scorer.Score([request])[0];
        var probs = new float[3 * 5];

        f.Scorer.Score([request with { HiddenState = state }], [new ScoringOutput(probs, state)]);

        Assert.Equal(expected.HiddenState, state);
        Assert.Equal(expected.Probabilities, probs);
    }

    [Fact]
    public void Score_WarmCallerProvidedOutputs_AllocatesNoManagedMemory()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5));
        var requests = f.RandomRequests(new Random(4), 32, 1, withState: true);
        var outputs = requests.Select(r => new ScoringOutput(new float[5 * r.Steps.Length / 6], new float[16])).ToArray();
        f.Scorer.Score(requests, outputs);

        var before = GC.GetAllocatedBytesForCurrentThread();
        f.Scorer.Score(requests, outputs);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Score_ShapeChangesEveryCall_MatchesReferenceAndAllocatesLittle()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5), new BatchScorerOptions { MaxPooledBuffers = 1 });
        var random = new Random(21);
        var batches = new[] { 32, 7, 32, 1, 19 }.Select(n => f.RandomRequests(random, n, maxSteps: 1 + (n % 3), withState: true)).ToArray();
        var outputs = batches.Select(b => b.Select(r => new ScoringOutput(new float[5 * r.Steps.Length / 6], new float[16])).ToArray()).ToArray();
        for (var b = 0; b < batches.Length; b++)
        {
            f.Scorer.Score(batches[b], outputs[b]);
        }

        // Buffers are now grown; every call below has another shape than the one before it, so the binding rebinds.
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var b = 0; b < batches.Length; b++)
        {
            f.Scorer.Score(batches[b], outputs[b]);
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / batches.Length;

        Assert.InRange(perCall, 0, 2048);
        for (var b = 0; b < batches.Length; b++)
        {
            for (var i = 0; i < batches[b].Length; i++)
            {
                var request = batches[b][i];
                f.AssertMatchesReference(request, new ScoringResult(request.Steps.Length / 6, outputs[b][i].Probabilities.ToArray(), outputs[b][i].HiddenState.ToArray()), $"batch {b} object {i}");
            }
        }
    }

    [Fact]
    public void Score_AfterDispose_ThrowsObjectDisposedException()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5));
        var request = new ScoringRequest(new float[6], new float[2], default);
        f.Scorer.Score([request]);

        f.Scorer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => f.Scorer.Score([request]));
    }

    [Fact]
    public void Score_InvalidRequests_ThrowArgumentExceptionNamingTheObject()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5));
        var good = new ScoringRequest(new float[6], new float[2], default);

        Assert.Contains("Request 1", Assert.Throws<ArgumentException>(() => f.Scorer.Score([good, good with { Steps = new float[7] }])).Message);
        Assert.Throws<ArgumentException>(() => f.Scorer.Score([good with { Steps = default }]));
        Assert.Throws<ArgumentException>(() => f.Scorer.Score([good with { Meta = new float[3] }]));
        Assert.Throws<ArgumentException>(() => f.Scorer.Score([good with { HiddenState = new float[15] }]));
        Assert.Throws<ArgumentException>(() => f.Scorer.Score([good], [new ScoringOutput(new float[4], new float[16])]));
        Assert.Throws<ArgumentException>(() => f.Scorer.Score([good], [new ScoringOutput(new float[5], new float[8])]));
    }

    [Fact]
    public void Constructor_DimensionsDisagreeWithGraph_Throws()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5));

        Assert.Throws<ArgumentException>(() => new BatchScorer(f.Session, new ModelDimensions(6, 0, 2, 8, 5)));
    }

    [Fact]
    public void Score_EmptyBatch_DoesNothing()
    {
        using var f = new Fixture(TestData.Config(6, 2, 8, 2, 5));

        Assert.Empty(f.Scorer.Score([]));
    }
}
