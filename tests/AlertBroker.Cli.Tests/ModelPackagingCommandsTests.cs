using AlertBroker.Cli.Commands;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Registry;

namespace AlertBroker.Cli.Tests;

/// <summary><c>models package</c> and <c>models verify</c> exit codes and messages, and the encoding/graph size check in inspect, push, promote and score.</summary>
public sealed class ModelPackagingCommandsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-packaging-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Onnx(int features, GruClassifierExportOptions options, string name = "model.onnx")
    {
        var config = new GruClassifierConfig { InputFeatures = features, HiddenSize = 8, Layers = 2, DenseSize = 8, MergeSize = 8, LatentSize = 8, Classes = 3 };
        var path = Path.Combine(_root, name);
        File.WriteAllBytes(path, GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(config, 1), options));
        return path;
    }

    private static (int Exit, string Out, string Err) Package(string onnx, string encoding, string output, TensorRoles? overrides = null, bool detectionsOnly = false)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = ModelPackagingCommands.Package(new ModelPackagingCommands.PackageArguments(onnx, "A,B,C", encoding, null, null, null, output, overrides ?? new TensorRoles(), DetectionsOnly: detectionsOnly), stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Package_PyTorchStyleGraph_ExitsZeroPrintingTheRolesAndWhatWasValidated()
    {
        var (exit, output, errors) = Package(Onnx(4, GruClassifierExportOptions.PyTorchStyle), "muthukrishna2025", Path.Combine(_root, "models", "paper", "2.0.0"));

        Assert.True(exit == 0, errors);
        Assert.Contains("packaged paper 2.0.0", output, StringComparison.Ordinal);
        Assert.Contains("state in      h0 float32 [2, ?, 8]", output, StringComparison.Ordinal);
        Assert.Contains("lengths       (none)", output, StringComparison.Ordinal);
        Assert.Contains("the state continues exactly", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_root, "models", "paper", "2.0.0", "model.json")));
    }

    [Fact]
    public void Package_DetectionsOnly_IsWrittenIntoModelJson_AndTheDefaultFeedsEveryPoint()
    {
        var (exit, output, errors) = Package(Onnx(4, GruClassifierExportOptions.PyTorchStyle), "muthukrishna2025", Path.Combine(_root, "models", "det", "1"), detectionsOnly: true);
        var (exitAll, outputAll, _) = Package(Onnx(4, GruClassifierExportOptions.PyTorchStyle), "muthukrishna2025", Path.Combine(_root, "models", "all", "1"));

        Assert.True(exit == 0, errors);
        Assert.Equal(0, exitAll);
        Assert.Contains("fed detections only", output, StringComparison.Ordinal);
        Assert.Contains("fed detections and forced photometry", outputAll, StringComparison.Ordinal);
        Assert.True(ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(_root, "models", "det", "1", "model.json"))).Encoding.DetectionsOnly);
        Assert.Null(ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(_root, "models", "all", "1", "model.json"))).Encoding.DetectionsOnly);
    }

    // The graph fits: the name or version taken from --out is what model.json refuses. Was exit 1, "… does not fit the
    // scoring contract: name 'm@x' must be …", after loading the graph.
    [Theory]
    [InlineData("m@x/1", "the model name is taken from its parent folder, 'm@x'", "give --name")]
    [InlineData("m/1 ", "the version is taken from its last folder, '1 '", "give --version")]
    [InlineData("m/1.0.0-and-a-version-of-more-than-fifty-bytes-is-too-long", "the version is taken from its last folder", "at most 50 bytes in UTF-8")]
    public void Package_ANameOrVersionFromOutThatModelJsonRefuses_ExitsTwoNamingOut(string outUnder, string said, string alsoSaid)
    {
        var output = Path.Combine(_root, "o2", outUnder);

        var (exit, _, errors) = Package(Onnx(4, GruClassifierExportOptions.PyTorchStyle), "muthukrishna2025", output);

        Assert.Equal(2, exit);
        Assert.Contains($"models package: --out {output}: {said}", errors, StringComparison.Ordinal);
        Assert.Contains(alsoSaid, errors, StringComparison.Ordinal);
        Assert.DoesNotContain("does not fit", errors, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "o2")));
    }

    [Fact]
    public void Package_UnknownEncoding_ExitsTwoNamingTheImplementedOnes()
    {
        var (exit, _, errors) = Package(Onnx(4, GruClassifierExportOptions.PyTorchStyle), "paper", Path.Combine(_root, "x", "1"));

        Assert.Equal(2, exit);
        Assert.Contains("unknown feature encoding 'paper'", errors, StringComparison.Ordinal);
        Assert.Contains("muthukrishna2025@1", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Package_GraphThatDoesNotFit_ExitsOneWithOneLinePerProblemAndWritesNothing()
    {
        var output = Path.Combine(_root, "six", "1");

        var (exit, _, errors) = Package(Onnx(6, GruClassifierExportOptions.PyTorchStyle), "muthukrishna2025", output, new TensorRoles { Lengths = "seq_len" });

        Assert.Equal(1, exit);
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("does not fit: input 'x' has 6 features per step but encoding muthukrishna2025 v1 computes 4", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("does not fit: --lengths 'seq_len': the graph has no input of that name", StringComparison.Ordinal));
        Assert.False(Directory.Exists(output));
    }

    // "--meta lengths" got two lines contradicting each other ("has 0 metadata features but encoding … fills 4" and "is
    // given as the metadata input but the model has no metadata features"), neither saying an int32 [batch] is no metadata.
    // Now: that, and (as for any input no role takes) that the scorer could not feed it.
    [Fact]
    public void Package_MetaNamesTheLengthsInput_OneLineSayingItIsNotAMetadataVector()
    {
        var output = Path.Combine(_root, "meta-lengths", "1");

        var (exit, _, errors) = Package(Onnx(6, GruClassifierExportOptions.Default with { SelfDescribing = false }), "alertbroker-lc", output, new TensorRoles { Metadata = "lengths" });

        Assert.Equal(1, exit);
        var problems = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("does not fit:", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                "does not fit: input 'lengths' (int32 [?]) cannot be the metadata input, which is float32 [batch, M]",
                "does not fit: the graph has input 'lengths' (int32 [?]) that plays no part in the scoring contract (step features, metadata, state in, lengths); the scorer could not feed it",
            ],
            problems);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Package_OutputAlreadyHoldsAPackage_ExitsTwo()
    {
        var output = Path.Combine(_root, "twice", "1");
        Assert.Equal(0, Package(Onnx(4, GruClassifierExportOptions.PyTorchStyle), "muthukrishna2025", output).Exit);

        var (exit, _, errors) = Package(Onnx(4, GruClassifierExportOptions.PyTorchStyle), "muthukrishna2025", output);

        Assert.Equal(2, exit);
        Assert.Contains("already holds a package", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"x\": [1, 2", "not valid JSON")]
    [InlineData("{\"probs\": [[[0.3, 0.3, 0.4]]]}", "no value for inputs 'x' (float32 [?, ?, 4]), 'h0' (float32 [2, ?, 8])")]
    public void Verify_UnusableReference_ExitsTwoWithOneLine(string json, string expected)
    {
        var package = Path.Combine(_root, "verify", "1");
        Assert.Equal(0, Package(Onnx(4, GruClassifierExportOptions.PyTorchStyle), "muthukrishna2025", package).Exit);
        var reference = Path.Combine(_root, "reference.json");
        File.WriteAllText(reference, json);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = ModelPackagingCommands.Verify(package, reference, 1e-4, stdout, stderr);

        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManifestClaimingTheSixFeatureEncodingForAFourFeatureGraph_InspectPushPromoteAndScoreRefuse()
    {
        // What the issue found: such a manifest passed inspect and promote, and score crashed ("destination holds 4 floats; 6 needed").
        var dir = Path.Combine(_root, "four", "1");
        var encoding = LightCurveEncoding.Descriptor(metadata: false);
        GruClassifierExporter.ExportPackage(
            GruClassifierWeights.Random(new GruClassifierConfig { InputFeatures = 4, HiddenSize = 8, Classes = 3 }, 1),
            new ModelManifest { Name = "four", Version = "1", Classes = ["A", "B", "C"], Encoding = encoding with { StepFeatures = [.. encoding.StepFeatures.Take(4)] } },
            dir);
        var registry = Path.Combine(_root, "registry");

        Assert.Equal(3, await RunAsync(["models", "inspect", dir]));
        Assert.Equal(3, await RunAsync(["models", "push", dir, "--registry", registry]));

        // Registered behind the CLI's back, it is still refused by the promotion gate.
        await new DirectoryModelRegistry(registry).PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), "test");
        var promoted = await new ModelPromoter(new DirectoryModelRegistry(registry)).PromoteAsync(new ModelRef("four", "1"), new PromotionOptions());
        Assert.False(promoted.Promoted);
        Assert.Contains(promoted.Findings, f => f.Contains("EncodingMismatch", StringComparison.Ordinal) && f.Contains("computes 6", StringComparison.Ordinal));
        Assert.Equal(1, await RunAsync(["models", "promote", "four@1", "--registry", registry]));

        Assert.Equal(3, ScoreCommand.Run(dir, [Path.Combine(_root, "no-alerts")], jsonl: true, TextWriter.Null, CancellationToken.None));
    }

    private static Task<int> RunAsync(string[] args) => AlertBrokerCommand.Create().Parse(args).InvokeAsync();

    // A class name model.json refuses was "does not fit the scoring contract" (exit 1) or, 100,000 characters long,
    // packaged; an empty entry was dropped without a word. Each is a bad argument now, exit 2, before the graph is read.
    [Theory]
    [InlineData("A=1,B,C", "ztf", "--classes: 'A=1' cannot be a class name: no ',' or '=', control character or space at either end.")]
    [InlineData("A,,B,C", "ztf", "--classes has an empty name (two commas in a row, or one at either end)")]
    [InlineData("A,B,C,", "ztf", "--classes has an empty name")]
    [InlineData("LONG,B,C", "ztf", "cannot be a class name: at most 64 bytes in UTF-8, not 65.")]
    [InlineData("A,B,C", "ztf,", "--surveys has an empty name (two commas in a row, or one at either end)")]
    public async Task Package_AClassOrSurveyListModelJsonRefuses_UsageErrorNamingTheOption(string classes, string surveys, string expected)
    {
        var onnx = Onnx(4, GruClassifierExportOptions.PyTorchStyle);
        var output = Path.Combine(_root, "listed", "1");
        string[] args = ["models", "package", "--onnx", onnx, "--classes", classes.Replace("LONG", new string('L', 65), StringComparison.Ordinal), "--surveys", surveys, "--encoding", "muthukrishna2025", "--out", output];

        var (exit, said, _) = await AlertBrokerProcess.RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains(expected, said, StringComparison.Ordinal);
        Assert.DoesNotContain("does not fit", said, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    // 200,000 ignored keys in a reference printed one "ignored keys:" line of 2.7 MB.
    [Fact]
    public void IgnoredKeys_ManyKeys_NamesTenAndCountsTheRest()
    {
        var keys = Enumerable.Range(0, 200_000).Select(i => $"k{i}").ToArray();

        Assert.Equal("k0, k1, k2, k3, k4, k5, k6, k7, k8, k9 and 199990 more", ModelPackagingCommands.IgnoredKeys(keys));
        Assert.Equal("framework", ModelPackagingCommands.IgnoredKeys(["framework"]));
    }
}
