using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Onnx.Protobuf;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;

namespace AlertBroker.Model.Tests;

/// <summary>
/// Graphs shaped like other frameworks' exports (built here with the project's exporter and protobuf builder, since there is
/// no PyTorch in the build): scoring without lengths or without state, the packager's mapping and its refusals, the smoke
/// batch, the reference verifier, and the encoding/graph size check.
/// </summary>
public sealed class ExternalGraphTests : IDisposable
{
    private static readonly string[] s_classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
    private readonly string _root = Directory.CreateTempSubdirectory("ab-external-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static GruClassifierConfig Config(int features = 4, int meta = 0, int hidden = 12, int layers = 2, int classes = 5) => new()
    {
        InputFeatures = features,
        MetaFeatures = meta,
        HiddenSize = hidden,
        Layers = layers,
        DenseSize = 10,
        MetaDenseSize = 4,
        MergeSize = 9,
        LatentSize = 8,
        Classes = classes,
    };

    private static PackageRequest Request(byte[] onnx, IStepEncoding? encoding = null, TensorRoles? overrides = null, IReadOnlyList<string>? classes = null) => new()
    {
        Onnx = onnx,
        Source = "model.onnx",
        Classes = classes ?? s_classes,
        Encoding = encoding ?? Muthukrishna2025Encoding.Instance,
        Name = "paper-gru",
        Version = "1.0.0",
        Overrides = overrides ?? new TensorRoles(),
    };

    // A stateless per-step classifier, x [batch, steps, 4] → softmax(x·w) [batch, steps, 5]: with externalLocation its
    // weights are written as external data; with mixRows each row first gets the batch's mean added (rows depend on each other).
    // With meanOverSteps each step first has the mean over all the row's steps taken away (step k depends on later steps);
    // with returnInput the graph also returns its input x as an output named x.
    private static byte[] SoftmaxGraph(float[] w, string? externalLocation = null, bool mixRows = false, bool meanOverSteps = false, bool returnInput = false)
    {
        var b = new OnnxModelBuilder { ProducerName = "pytorch", Opset = 13 };
        var batch = OnnxDimension.Dynamic("batch");
        var steps = OnnxDimension.Dynamic("steps");
        b.AddInput("x", OnnxElementType.Float, batch, steps, OnnxDimension.Fixed(4));
        b.AddOutput("probs", OnnxElementType.Float, batch, steps, OnnxDimension.Fixed(5));
        b.AddInitializer(OnnxInitializer.Float("w", w, 4, 5) with { ExternalLocation = externalLocation });
        var input = mixRows
            ? b.Add("Add", "mixed", ["x", b.Add("ReduceMean", "batch_mean", ["x"], OnnxAttribute.Of("axes", new long[] { 0 }), OnnxAttribute.Of("keepdims", 1L))])
            : meanOverSteps
            ? b.Add("Sub", "centred", ["x", b.Add("ReduceMean", "step_mean", ["x"], OnnxAttribute.Of("axes", new long[] { 1 }), OnnxAttribute.Of("keepdims", 1L))])
            : "x";
        if (returnInput)
        {
            b.AddOutput("x", OnnxElementType.Float, batch, steps, OnnxDimension.Fixed(4));
        }

        var logits = b.Add("MatMul", "logits", [input, "w"]);
        b.AddNode("Softmax", [logits], ["probs"], OnnxAttribute.Of("axis", -1L));
        return b.ToBytes();
    }

    [Fact]
    public void Score_GraphWithoutLengths_MixedLengthBatchEqualsEachRowAloneAndTheReference()
    {
        var config = Config();
        var weights = GruClassifierWeights.Random(config, 3);
        var options = GruClassifierExportOptions.PyTorchStyle;
        using var session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(weights, options));
        using var scorer = new BatchScorer(session, ModelDimensions.From(config), roles: GruClassifierExporter.Contract(config, options).Roles);
        var reference = new GruClassifier(weights);
        var random = new Random(11);
        int[] lengths = [1, 7, 3, 7, 12, 1, 5, 3];
        var requests = lengths.Select(k => new ScoringRequest(TestData.Uniform(random, k * 4, 1.5f), ReadOnlyMemory<float>.Empty, random.Next(2) == 0 ? TestData.Uniform(random, 2 * 12, 0.5f) : [])).ToArray();

        Assert.False(scorer.HasLengths);
        var batch = scorer.Score(requests);

        for (var i = 0; i < requests.Length; i++)
        {
            var alone = scorer.Score([requests[i]])[0];
            TestData.AssertClose(alone.Probabilities, batch[i].Probabilities, what: $"row {i} probs");
            TestData.AssertClose(alone.HiddenState, batch[i].HiddenState, what: $"row {i} state");
            var probs = new float[lengths[i] * 5];
            var hn = new float[2 * 12];
            reference.Run(requests[i].Steps.Span, [], requests[i].HiddenState.Span, probs, hn);
            TestData.AssertClose(probs, batch[i].Probabilities, what: $"row {i} reference probs");
            TestData.AssertClose(hn, batch[i].HiddenState, what: $"row {i} reference state");
        }
    }

    [Fact]
    public void GraphWithoutLengths_FedPadding_GivesTheShortRowAnotherState()
    {
        // Why the scorer never pads for such a graph: zero steps after a short row still run through the GRU.
        var config = Config();
        var options = GruClassifierExportOptions.PyTorchStyle;
        using var session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(config, 4), options));
        var random = new Random(2);
        var shortRow = TestData.Uniform(random, 2 * 4);
        var padded = new float[2 * 6 * 4];
        shortRow.CopyTo(padded, 0);
        TestData.Uniform(random, 6 * 4).CopyTo(padded, 6 * 4);

        var alone = session.Evaluate([new OnnxInputValue("x", shortRow, [1, 2, 4]), new OnnxInputValue("h0", new float[2 * 12], [2, 1, 12])]);
        var batched = session.Evaluate([new OnnxInputValue("x", padded, [2, 6, 4]), new OnnxInputValue("h0", new float[2 * 2 * 12], [2, 2, 12])]);

        var hnAlone = alone.Single(o => o.Name == "hn").Values;
        var hnBatched = batched.Single(o => o.Name == "hn").Values;
        var shortInBatch = new[] { 0, 1 }.SelectMany(l => hnBatched.Skip(l * 2 * 12).Take(12)).ToArray();
        var largest = hnAlone.Zip(shortInBatch, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(largest > 1e-3, $"padding changed the short row's final state by only {largest}");
    }

    [Fact]
    public void Score_GraphWithoutState_RunsFromZerosAndRefusesAStartingState()
    {
        var config = Config();
        var options = GruClassifierExportOptions.PyTorchStyle with { State = false };
        var weights = GruClassifierWeights.Random(config, 5);
        using var session = OnnxSession.FromBytes(GruClassifierExporter.ToOnnx(weights, options));
        using var scorer = new BatchScorer(session, new ModelDimensions(4, 0, 0, 0, 5), roles: GruClassifierExporter.Contract(config, options).Roles);
        var random = new Random(8);
        var steps = TestData.Uniform(random, 5 * 4);

        var result = scorer.Score([new ScoringRequest(steps, ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty)])[0];

        Assert.False(scorer.HasState);
        Assert.Empty(result.HiddenState);
        var probs = new float[5 * 5];
        new GruClassifier(weights).Run(steps, [], [], probs, new float[2 * 12]);
        TestData.AssertClose(probs, result.Probabilities);
        Assert.Throws<ArgumentException>(() => scorer.Score([new ScoringRequest(steps, ReadOnlyMemory<float>.Empty, new float[24])]));
    }

    [Fact]
    public void Describe_PyTorchStyleGraph_MapsTheStandardNamesAndRecordsOpsetAndProducer()
    {
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(Config(hidden: 100), 1), GruClassifierExportOptions.PyTorchStyle);

        var result = ModelPackager.Describe(Request(onnx));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var m = result.Manifest!;
        Assert.Equal(new TensorRoles { Steps = "x", StateIn = "h0", StateOut = "hn", Probabilities = "probs" }, m.EffectiveRoles);
        Assert.Equal(14, m.Onnx.Opset);
        Assert.Equal("pytorch 2.3.0", m.Onnx.Producer);
        Assert.Equal(ModelPackage.ComputeSha256(onnx), m.Onnx.Sha256);
        Assert.Equal((2, 100, 4, 0, 5), (m.Network.Layers, m.Network.Hidden, m.Network.InputFeatures, m.Network.MetaFeatures, m.Network.Classes));
        Assert.Equal("muthukrishna2025", m.Encoding.Name);
        Assert.False(m.EffectiveRequiresMetadata);
        Assert.Contains(result.Notes, n => n.Contains("no lengths input", StringComparison.Ordinal));
        Assert.Equal([-1L, -1, 4], m.Tensors.Inputs.Single(t => t.Name == "x").Shape);
    }

    [Fact]
    public void Describe_RenamedTensors_FoundByShape()
    {
        var options = GruClassifierExportOptions.PyTorchStyle with
        {
            Names = new GruTensorNames { X = "lc", H0 = "initial_state", Hn = "final_state", Probs = "class_probabilities" },
        };
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(Config(), 1), options);

        var result = ModelPackager.Describe(Request(onnx));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(new TensorRoles { Steps = "lc", StateIn = "initial_state", StateOut = "final_state", Probabilities = "class_probabilities" }, result.Manifest!.Tensors.Roles);
    }

    [Fact]
    public void Describe_OverrideNamesATensorTheGraphLacks_OneProblemNamingTheGraphsInputs()
    {
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(Config(), 1), GruClassifierExportOptions.PyTorchStyle);

        var result = ModelPackager.Describe(Request(onnx, overrides: new TensorRoles { StateIn = "hidden" }));

        Assert.False(result.Succeeded);
        Assert.Contains(result.Problems, p => p.StartsWith("--state-in 'hidden': the graph has no input of that name", StringComparison.Ordinal) && p.Contains("h0 float32 [2, ?, 12]", StringComparison.Ordinal));
    }

    [Fact]
    public void Describe_SixFeatureGraphWithTheFourFeatureEncoding_NamesTheMismatch()
    {
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(Config(features: 6), 1), GruClassifierExportOptions.PyTorchStyle);

        var result = ModelPackager.Describe(Request(onnx));

        var problem = Assert.Single(result.Problems);
        Assert.Contains("input 'x' has 6 features per step but encoding muthukrishna2025 v1 computes 4", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_MetadataInputWithAnEncodingWithoutMetadata_AndWrongClassCount_EachNamed()
    {
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(Config(meta: 2), 1), GruClassifierExportOptions.PyTorchStyle);

        var result = ModelPackager.Describe(Request(onnx, classes: ["A", "B", "C"]));

        Assert.Contains(result.Problems, p => p.Contains("input 'meta' is a metadata input but encoding muthukrishna2025 v1 has no metadata features", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.Contains("gives 5 class probabilities but --classes lists 3", StringComparison.Ordinal));
        Assert.All(result.Problems, p => Assert.DoesNotContain('\n', p));
    }

    [Fact]
    public void Describe_TwoCandidateStepInputsAndLastStepOnlyProbabilities_AsksForAnOverrideAndExplains()
    {
        // A hand-built graph (its declarations are all the packager reads): two [batch, steps, 4] inputs, probabilities [batch, 5].
        var b = new OnnxModelBuilder { ProducerName = "tf2onnx", Opset = 13 };
        var batch = OnnxDimension.Dynamic("batch");
        var steps = OnnxDimension.Dynamic("steps");
        b.AddInput("lc_a", OnnxElementType.Float, batch, steps, OnnxDimension.Fixed(4));
        b.AddInput("lc_b", OnnxElementType.Float, batch, steps, OnnxDimension.Fixed(4));
        b.AddOutput("output", OnnxElementType.Float, batch, OnnxDimension.Fixed(5));
        b.AddNode("Identity", ["lc_a"], ["output"]);

        var ambiguous = ModelPackager.Describe(Request(b.ToBytes()));
        var chosen = ModelPackager.Describe(Request(b.ToBytes(), overrides: new TensorRoles { Steps = "lc_a" }));

        Assert.Contains(ambiguous.Problems, p => p.Contains("'lc_a' (float32 [?, ?, 4]) and 'lc_b' (float32 [?, ?, 4]) could each be the step features: name it with --input-x", StringComparison.Ordinal));
        Assert.Contains(chosen.Problems, p => p.Contains("output 'output' is [?, 5]: probabilities after the last step only", StringComparison.Ordinal));
        Assert.Contains(chosen.Problems, p => p.Contains("the graph has input 'lc_b'", StringComparison.Ordinal) && p.Contains("plays no part", StringComparison.Ordinal));
    }

    [Fact]
    public void Describe_FixedBatchDimension_SaysHowToExportIt()
    {
        var b = new OnnxModelBuilder { ProducerName = "pytorch", Opset = 14 };
        b.AddInput("x", OnnxElementType.Float, OnnxDimension.Fixed(1), OnnxDimension.Fixed(656), OnnxDimension.Fixed(4));
        b.AddOutput("probs", OnnxElementType.Float, OnnxDimension.Fixed(1), OnnxDimension.Fixed(656), OnnxDimension.Fixed(5));
        b.AddNode("Identity", ["x"], ["probs"]);

        var result = ModelPackager.Describe(Request(b.ToBytes(), overrides: new TensorRoles { Steps = "x", Probabilities = "probs" }));

        Assert.Contains(result.Problems, p => p.Contains("input 'x' dimension 0 (batch) is fixed at 1 in the graph; it must be dynamic (PyTorch: dynamic_axes={'x': {0: 'batch'}})", StringComparison.Ordinal));
        Assert.Contains(result.Problems, p => p.Contains("input 'x' dimension 1 (steps) is fixed at 656", StringComparison.Ordinal));
    }

    // Exported without dynamic_axes, with the standard names: x [1, ?, 4] was taken for the state in by its shape, and the
    // problems were "no input looks like the step features" and "h0 plays no part" instead of the fixed dimension.
    [Fact]
    public void Describe_StandardNamesWithAFixedBatch_EachTakesItsRoleAndTheFixedDimensionIsNamed()
    {
        var b = new OnnxModelBuilder { ProducerName = "pytorch", Opset = 14 };
        var steps = OnnxDimension.Dynamic("steps");
        b.AddInput("x", OnnxElementType.Float, OnnxDimension.Fixed(1), steps, OnnxDimension.Fixed(4));
        b.AddInput("h0", OnnxElementType.Float, OnnxDimension.Fixed(2), OnnxDimension.Fixed(1), OnnxDimension.Fixed(8));
        b.AddOutput("probs", OnnxElementType.Float, OnnxDimension.Fixed(1), steps, OnnxDimension.Fixed(5));
        b.AddOutput("hn", OnnxElementType.Float, OnnxDimension.Fixed(2), OnnxDimension.Fixed(1), OnnxDimension.Fixed(8));
        b.AddNode("Identity", ["x"], ["probs"]);
        b.AddNode("Identity", ["h0"], ["hn"]);

        var result = ModelPackager.Describe(Request(b.ToBytes()));

        Assert.Equal(("x", "h0", "probs", "hn"), (result.Roles.Steps, result.Roles.StateIn, result.Roles.Probabilities, result.Roles.StateOut));
        Assert.Contains(result.Problems, p => p.Contains("input 'x' dimension 0 (batch) is fixed at 1 in the graph; it must be dynamic", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Problems, p => p.Contains("no input looks like the step features", StringComparison.Ordinal) || p.Contains("plays no part", StringComparison.Ordinal));
    }

    [Fact]
    public void Describe_NotOnnx_OneProblem()
    {
        var result = ModelPackager.Describe(Request([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]));

        Assert.StartsWith("model.onnx is not an ONNX model", Assert.Single(result.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Package_PyTorchStyleGraph_WritesAPackageThatLoadsAndScores()
    {
        var weights = GruClassifierWeights.Random(Config(hidden: 100), 9);
        var onnx = GruClassifierExporter.ToOnnx(weights, GruClassifierExportOptions.PyTorchStyle);
        var dir = Path.Combine(_root, "paper-gru", "1.0.0");

        var result = ModelPackager.Package(Request(onnx), dir);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(onnx, File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
        using var package = ModelPackage.Load(dir, StepEncodings.Ids);
        using var scorer = new BatchScorer(package);
        Assert.True(scorer.HasState);
        Assert.False(scorer.HasLengths);
        Assert.Empty(ModelPackage.Check(File.ReadAllBytes(Path.Combine(dir, "model.json")), onnx, StepEncodings.Ids));
    }

    [Fact]
    public void Package_GraphThatIgnoresItsLengthsInput_RefusedByTheSmokeBatch()
    {
        // The case: a dummy lengths input added to a graph whose GRU runs over the padding.
        var options = GruClassifierExportOptions.PyTorchStyle with { Lengths = true, IgnoreLengths = true };
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(Config(), 2), options);
        var dir = Path.Combine(_root, "dummy-lengths", "1");

        var result = ModelPackager.Package(Request(onnx), dir);

        var problem = Assert.Single(result.Problems);
        Assert.Contains("does not honour its lengths input 'lengths'", problem, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    // Weights kept beside the file ("external data") made a package that loaded only where the weights happened to be
    // relative to the working directory (ONNX Runtime loads the package's bytes): refused by package and by every load.
    [Fact]
    public void Package_WeightsStoredOutsideTheFile_RefusedNamingThemAndHowToExport()
    {
        var onnx = SoftmaxGraph(new float[20], externalLocation: "weights.bin");
        var dir = Path.Combine(_root, "external", "1");

        var result = ModelPackager.Package(Request(onnx), dir);

        var problem = Assert.Single(result.Problems);
        Assert.StartsWith("the weights of w (in weights.bin) are stored outside the ONNX file (external data)", problem, StringComparison.Ordinal);
        Assert.Contains("torch.onnx.export(..., external_data=False)", problem, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
        Assert.Equal("w (in weights.bin)", OnnxGraphInfo.Read(onnx).ExternalWeight);
    }

    [Fact]
    public void Load_PackageWhoseGraphKeepsItsWeightsOutside_RefusedBeforeOnnxRuntimeLooksForThem()
    {
        // A package as `models package` wrote one from beside its weights before the check: the sound graph packaged, then its
        // bytes replaced (and the manifest's hash recomputed) by the same graph with its weights outside.
        var dir = Path.Combine(_root, "pkg", "1");
        var sound = ModelPackager.Package(Request(SoftmaxGraph(new float[20])), dir);
        Assert.True(sound.Succeeded, string.Join("; ", sound.Problems));
        ModelPackage.Save(dir, sound.Manifest!, SoftmaxGraph(new float[20], externalLocation: "weights.bin"));

        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir, StepEncodings.Ids));

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.OnnxLoadFailed && p.Message.Contains("stored outside the ONNX file", StringComparison.Ordinal));
    }

    // A graph that passed: each output row depends on the batch mean of the inputs (as a time-major GRU fed batch-major rows
    // mixes them), so an object's probabilities depended on which objects shared its call, and the smoke batch, whose rows
    // all had different lengths and so never shared a call without a lengths input, did not see it.
    [Fact]
    public void Package_GraphThatMixesTheRowsOfABatch_RefusedByTheSmokeBatch()
    {
        var onnx = SoftmaxGraph([.. Enumerable.Range(0, 20).Select(i => (i % 7 - 3) * 0.3f)], mixRows: true);
        var dir = Path.Combine(_root, "batch-mixing", "1");

        var result = ModelPackager.Package(Request(onnx), dir);

        var problem = Assert.Single(result.Problems);
        Assert.StartsWith("two 3-step rows scored in one batch differ from the same rows alone by", problem, StringComparison.Ordinal);
        Assert.Contains("the graph mixes the rows of a batch", problem, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    // A graph whose step k depends on later steps was packaged: the worker scores an alert from the steps up to it while
    // evaluate reads step k of one run over the whole curve, so the two disagreed. Refused by package and on every load.
    [Fact]
    public void PackageAndVerify_GraphThatIsNotCausal_RefusedByTheSmokeBatch()
    {
        float[] w = [.. Enumerable.Range(0, 20).Select(i => (i % 7 - 3) * 0.3f)];
        var dir = Path.Combine(_root, "non-causal", "1");

        var result = ModelPackager.Package(Request(SoftmaxGraph(w, meanOverSteps: true)), dir);
        var sound = ModelPackager.Package(Request(SoftmaxGraph(w)), dir);
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), SoftmaxGraph(w, meanOverSteps: true));
        File.WriteAllBytes(Path.Combine(dir, "model.json"), ModelPackage.SerializeManifest(sound.Manifest! with { Onnx = sound.Manifest!.Onnx with { Sha256 = ModelPackage.ComputeSha256(File.ReadAllBytes(Path.Combine(dir, "model.onnx"))) } }));
        using var loaded = ModelPackage.Load(dir, StepEncodings.Ids);
        var e = Assert.Throws<ModelPackageException>(() => ModelPackager.Verify(loaded, dir));

        var problem = Assert.Single(result.Problems);
        Assert.StartsWith("the network is not causal: its output at step k depends on later steps (the probabilities after the first 3 steps of a 6-step light curve differ from those of the same 3 steps alone by ", problem, StringComparison.Ordinal);
        Assert.True(sound.Succeeded, string.Join("; ", sound.Problems));
        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.InvalidOutput && p.Message.StartsWith("the network is not causal", StringComparison.Ordinal));
    }

    // A graph that returns its input x also as an output named x: the contract check took the output for the input (one
    // name) and BatchScorer threw, "unexpected error (ArgumentException)", exit 70, from package, inspect and score.
    [Fact]
    public void DescribeAndLoad_GraphWithAnOutputNamedAsItsInput_DoesNotFit()
    {
        float[] w = [.. Enumerable.Range(0, 20).Select(i => i * 0.05f)];
        var described = ModelPackager.Describe(Request(SoftmaxGraph(w, returnInput: true)));
        var dir = Path.Combine(_root, "x-out", "1");
        var sound = ModelPackager.Package(Request(SoftmaxGraph(w)), dir);
        Assert.True(sound.Succeeded, string.Join("; ", sound.Problems));
        var onnx = SoftmaxGraph(w, returnInput: true);
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), onnx);
        var m = sound.Manifest!;
        var handMade = m with
        {
            Tensors = m.Tensors with { Outputs = [.. m.Tensors.Outputs, m.Tensors.Inputs.Single(i => i.Name == "x")] },
            Onnx = m.Onnx with { Sha256 = ModelPackage.ComputeSha256(onnx) },
        };
        File.WriteAllBytes(Path.Combine(dir, "model.json"), ModelPackage.SerializeManifest(handMade));

        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir, StepEncodings.Ids));

        Assert.Contains(described.Problems, p => p.StartsWith("the graph has output 'x' (float32 [?, ?, 4]) that plays no part in the scoring contract", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("output 'x'", StringComparison.Ordinal));
    }

    [Fact]
    public void Package_GraphThatIgnoresItsStateInput_RefusedByTheSmokeBatch()
    {
        var options = GruClassifierExportOptions.PyTorchStyle with { IgnoreStateInput = true };
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(Config(), 2), options);

        var result = ModelPackager.Package(Request(onnx), Path.Combine(_root, "stateless-h0", "1"));

        Assert.Contains(result.Problems, p => p.StartsWith("the recurrent state does not continue", StringComparison.Ordinal));
    }

    [Fact]
    public void Package_GraphWithoutState_PackagedForFullReRuns()
    {
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(Config(), 2), GruClassifierExportOptions.PyTorchStyle with { State = false });
        var dir = Path.Combine(_root, "stateless", "1");

        var result = ModelPackager.Package(Request(onnx), dir);

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal((0, 0), (result.Manifest!.Network.Layers, result.Manifest.Network.Hidden));
        Assert.Contains(result.Notes, n => n.Contains("re-runs every object's whole light curve", StringComparison.Ordinal));
        using var package = ModelPackage.Load(dir, StepEncodings.Ids);
        Assert.False(package.Manifest.EffectiveRoles.HasState);
    }

    [Fact]
    public void Load_ManifestClaimsTheSixFeatureEncodingForAFourFeatureGraph_RefusedWithoutRuntimeToo()
    {
        // The case: alertbroker-lc v1 with 4 step features passed inspect and promote, then score crashed.
        var config = Config(features: 4, meta: 0);
        var dir = Path.Combine(_root, "four", "1");
        var encoding = LightCurveEncoding.Descriptor(metadata: false);
        GruClassifierExporter.ExportPackage(
            GruClassifierWeights.Random(config, 1),
            new ModelManifest { Name = "four", Version = "1", Classes = s_classes, Encoding = encoding with { StepFeatures = [.. encoding.StepFeatures.Take(4)] } },
            dir);

        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir, StepEncodings.Ids));
        var offline = ModelPackage.Check(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx")), StepEncodings.Ids);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.EncodingMismatch && p.Message.Contains("the network takes 4 step features (network.inputFeatures) but alertbroker-lc v1 computes 6", StringComparison.Ordinal));
        Assert.Contains(offline, p => p.Kind == ModelPackageProblemKind.EncodingMismatch);
    }

    [Fact]
    public void Load_ManifestChangesAnEncodingConstant_Refused()
    {
        var dir = Path.Combine(_root, "constant", "1");
        var encoding = Muthukrishna2025Encoding.Instance.Descriptor();
        GruClassifierExporter.ExportPackage(
            GruClassifierWeights.Random(Config(), 1),
            new ModelManifest
            {
                Name = "constant",
                Version = "1",
                Classes = s_classes,
                Encoding = encoding with { Scaling = new Dictionary<string, float>(encoding.Scaling) { ["fluxDivisorMicroJy"] = 1000f } },
            },
            dir);

        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir, StepEncodings.Ids));

        Assert.Contains(e.Problems, p => p.Message.Contains("encoding.scaling['fluxDivisorMicroJy'] is 1000 but muthukrishna2025 v1 uses 500", StringComparison.Ordinal));
    }

    private (ModelPackage Package, string Reference, Func<float[], string> WithProbs, float[] Probs) PackagedWithReference(int seed)
    {
        var config = Config(hidden: 16);
        var weights = GruClassifierWeights.Random(config, seed);
        var onnx = GruClassifierExporter.ToOnnx(weights, GruClassifierExportOptions.PyTorchStyle);
        var dir = Path.Combine(_root, $"verify-{seed}", "1");
        Assert.True(ModelPackager.Package(Request(onnx), dir).Succeeded);

        // What a PyTorch user dumps: x [2, 7, 4] and h0 [2, 2, 16] in, probs [2, 7, 5] and hn [2, 2, 16] out.
        var random = new Random(seed);
        var x = TestData.Uniform(random, 2 * 7 * 4);
        var h0 = TestData.Uniform(random, 2 * 2 * 16, 0.3f);
        var probs = new float[2 * 7 * 5];
        var hn = new float[2 * 2 * 16];
        new GruClassifier(weights).Forward(x, [], [7, 7], h0, 2, 7, probs, hn);
        string Json(float[] p) => ReferenceJson.Build(
            [("x", [2, 7, 4], ReferenceJson.Doubles(x)), ("h0", [2, 2, 16], ReferenceJson.Doubles(h0)), ("probs", [2, 7, 5], ReferenceJson.Doubles(p)), ("hn", [2, 2, 16], ReferenceJson.Doubles(hn))],
            new Dictionary<string, string> { ["torch_version"] = "\"2.3.0\"", ["seed"] = "7" });
        return (ModelPackage.Load(dir, StepEncodings.Ids), Json(probs), Json, probs);
    }

    [Fact]
    public void Verify_ReferenceFromTheReferenceForwardPass_WithinTolerancePerOutput()
    {
        var (package, json, _, _) = PackagedWithReference(21);
        using (package)
        {
            var result = ReferenceVerifier.Verify(package.Session, System.Text.Encoding.UTF8.GetBytes(json), 1e-4);

            Assert.True(result.Passed);
            Assert.Equal(["probs", "hn"], result.Outputs.Select(o => o.Output));
            Assert.All(result.Outputs, o => Assert.True(o.MaxAbsDifference < 1e-5, $"{o.Output}: {o.MaxAbsDifference}"));
            Assert.Equal(["torch_version", "seed"], result.Ignored);
            Assert.Equal([2L, 7, 5], result.Outputs.Single(o => o.Output == "probs").Shape);
        }
    }

    [Fact]
    public void Verify_OneProbabilityOffBy1e3_FailsNamingTheLargestDifferenceAndWhere()
    {
        var (package, _, withProbs, probs) = PackagedWithReference(22);
        using (package)
        {
            var off = (float[])probs.Clone();
            off[(1 * 7 * 5) + (3 * 5) + 2] += 1e-3f;
            var changed = withProbs(off);

            var result = ReferenceVerifier.Verify(package.Session, System.Text.Encoding.UTF8.GetBytes(changed), 1e-4);

            Assert.False(result.Passed);
            var p = result.Outputs.Single(o => o.Output == "probs");
            Assert.InRange(p.MaxAbsDifference, 9e-4, 1.1e-3);
            Assert.Equal([1L, 3, 2], p.WorstIndex);
            Assert.True(result.Outputs.Single(o => o.Output == "hn").Within(1e-4));
        }
    }

    [Theory]
    [InlineData("{\"x\": [[[1, 2, 3, 4]]], ", "not valid JSON at line 1")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{\"x\": [[[1, 2, 3, 4], [1, 2, 3]]], \"h0\": [[[0]]], \"probs\": [1]}", "'x[0][1]' has 3 elements but its first sibling has 4: ragged array")]
    [InlineData("{\"x\": [[[1, 2, \"3\", 4]]], \"probs\": [1]}", "'x[0][0][2]' is the string \"3\", not a number")]
    [InlineData("{\"x\": [[[1, 2, 3, 4]]], \"probs\": [[[0.2, 0.2, 0.2, 0.2, 0.2]]]}", "no value for input 'h0' (float32 [2, ?, 16])")]
    [InlineData("{\"x\": [[[1, 2, 3, 4, 5, 6]]], \"h0\": [[[0]]], \"probs\": [1]}", "input 'x' is [1, 1, 6] in the reference but the graph declares float32 [?, ?, 4]")]
    [InlineData("{\"x\": [[[1, 2, 3, 4]]], \"h0\": [[[0]]], \"note\": 1}", "input 'h0' is [1, 1, 1] in the reference")]
    [InlineData("{\"x\": [[[1e400, 2, 3, 4]]], \"probs\": [1]}", "'x[0][0][0]' is 1e400, beyond the range of a 64-bit float")]
    [InlineData("{\"x\": [[[1, 2, 3, 1e300]]], \"probs\": [1]}", "input 'x' is float32 but the reference holds 1E+300, beyond its range")]
    public void Verify_UnusableReference_OneClearLine(string json, string expected)
    {
        var (package, _, _, _) = PackagedWithReference(23);
        using (package)
        {
            var e = Assert.Throws<ReferenceFormatException>(() => ReferenceVerifier.Verify(package.Session, System.Text.Encoding.UTF8.GetBytes(json), 1e-4));

            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    // The reference is read as a stream of tokens: a reader that hands over one byte at a time (every token split across
    // refills) gives the same comparison as the whole file at once.
    [Fact]
    public void Verify_StreamReadOneByteAtATime_SameResultAsTheWholeFile()
    {
        var (package, json, _, _) = PackagedWithReference(25);
        using (package)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(json);
            var whole = ReferenceVerifier.Verify(package.Session, bytes, 1e-4);
            using var trickle = new TrickleStream(bytes);

            var streamed = ReferenceVerifier.Verify(package.Session, trickle, 1e-4);

            Assert.True(streamed.Passed);
            Assert.Equal(whole.Fed, streamed.Fed);
            Assert.Equal(whole.Ignored, streamed.Ignored);
            Assert.Equal(whole.Outputs.Select(o => (o.Output, o.MaxAbsDifference, string.Join(",", o.Shape))), streamed.Outputs.Select(o => (o.Output, o.MaxAbsDifference, string.Join(",", o.Shape))));
        }
    }

    // models verify of a 103 MB reference peaked at 3.06 GB (0.93 GB reading it alone): the whole file, a JsonDocument over
    // a copy of it, a List<double> per key. A key that is not a tensor is now skipped a token at a time: 200 MB of it
    // allocate a few MB, not hundreds.
    [Fact]
    public void Verify_ALargeIgnoredKey_IsSkippedWithoutHoldingIt()
    {
        var (package, json, _, _) = PackagedWithReference(26);
        using (package)
        {
            var row = System.Text.Encoding.UTF8.GetBytes("[0.123456,0.234567,0.345678,0.456789],");
            var copies = (200 << 20) / row.Length;
            using var big = new RepeatingStream(System.Text.Encoding.UTF8.GetBytes("{\"extra\": ["), row, copies, System.Text.Encoding.UTF8.GetBytes("[0]], " + json.TrimStart()[1..]));
            var before = GC.GetAllocatedBytesForCurrentThread();

            var result = ReferenceVerifier.Verify(package.Session, big, 1e-4);

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(result.Passed);
            Assert.Equal("extra", result.Ignored[0]);
            Assert.True(allocated < 16 << 20, $"{allocated:N0} bytes allocated to skip {(long)copies * row.Length:N0}");
        }
    }

    [Fact]
    public void Verify_MoreNumbersThanTheBound_RefusedNamingIt()
    {
        var (package, json, _, _) = PackagedWithReference(27);
        using (package)
        {
            using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));

            var e = Assert.Throws<ReferenceFormatException>(() => ReferenceVerifier.Verify(package.Session, stream, 1e-4, maxNumbers: 50));

            Assert.Contains("the reference holds more than 50 numbers, the most verify reads", e.Message, StringComparison.Ordinal);
        }
    }

    // model.json with a byte order mark was read, a reference with one was "not valid JSON ('0xEF' is an invalid start of
    // a value)".
    [Fact]
    public void Verify_ReferenceWithAUtf8ByteOrderMark_IsRead()
    {
        var (package, json, _, _) = PackagedWithReference(28);
        using (package)
        {
            var result = ReferenceVerifier.Verify(package.Session, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(json)], 1e-4);

            Assert.True(result.Passed);
        }
    }

    // The NaN/Infinity hint followed every invalid-JSON message, a truncated file or a nesting too deep among them.
    [Theory]
    [InlineData("{\"x\": [[[NaN, 2, 3, 4]]]}", true)]
    [InlineData("{\"x\": [[[1, Infinity, 3, 4]]]}", true)]
    [InlineData("{\"x\": [[[1, 2, -Infinity, 4]]]}", true)]
    [InlineData("{\"x\": [[[1, 2, 3, 4]]], ", false)]
    [InlineData("{\"x\": [[[1, 2, 3, 4]]]} trailing", false)]
    [InlineData("{\"note\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", false)]
    public void Verify_InvalidJson_HintsAtNaNOnlyForNaNOrInfinity(string json, bool hint)
    {
        var (package, _, _, _) = PackagedWithReference(29);
        using (package)
        {
            var e = Assert.Throws<ReferenceFormatException>(() => ReferenceVerifier.Verify(package.Session, System.Text.Encoding.UTF8.GetBytes(json), 1e-4));

            Assert.StartsWith("the reference is not valid JSON at line 1", e.Message, StringComparison.Ordinal);
            Assert.Equal(hint, e.Message.Contains("NaN and Infinity are not JSON", StringComparison.Ordinal));
        }
    }

    /// <summary>Hands over one byte per read.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }

    /// <summary>A prefix, one chunk many times over, a suffix, made as it is read.</summary>
    private sealed class RepeatingStream(byte[] prefix, byte[] chunk, int copies, byte[] suffix) : Stream
    {
        private long _position;

        private long Total => prefix.Length + ((long)chunk.Length * copies) + suffix.Length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => Total;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = 0;
            while (n < count && _position < Total)
            {
                var p = _position;
                byte b;
                if (p < prefix.Length)
                {
                    b = prefix[p];
                }
                else if ((p -= prefix.Length) < (long)chunk.Length * copies)
                {
                    b = chunk[p % chunk.Length];
                }
                else
                {
                    b = suffix[p - ((long)chunk.Length * copies)];
                }

                buffer[offset + n++] = b;
                _position++;
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void Verify_ReferenceWithoutAnyOutput_SaysThereIsNothingToCompare()
    {
        var (package, _, _, _) = PackagedWithReference(24);
        using (package)
        {
            var json = ReferenceJson.Build([("x", [1, 2, 4], new double[8]), ("h0", [2, 1, 16], new double[32])]);

            var e = Assert.Throws<ReferenceFormatException>(() => ReferenceVerifier.Verify(package.Session, System.Text.Encoding.UTF8.GetBytes(json), 1e-4));

            Assert.Contains("names none of the graph's outputs (probs, hn)", e.Message, StringComparison.Ordinal);
        }
    }
}
