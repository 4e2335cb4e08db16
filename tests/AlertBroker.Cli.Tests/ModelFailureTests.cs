using AlertBroker.Cli.Commands;
using AlertBroker.Model.Packaging;
using Spectre.Console;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// A broken model or an unusable execution provider ends every command that loads a model with a typed one-line error and
/// exit code 3 (model unusable), never an unhandled exception; and the built program finds ONNX Runtime beside itself.
/// </summary>
public sealed class ModelFailureTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-model-failure-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A package whose model.onnx parses as protobuf but names an operator ONNX Runtime does not have; the manifest's hash matches it.</summary>
    private string CorruptGraphPackage()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "corrupt", "1"), "corrupt-gru", "1", seed: 3);
        var onnxPath = Path.Combine(dir, ModelPackage.OnnxFileName);
        var onnx = File.ReadAllBytes(onnxPath);
        // NodeProto.op_type is field 4 (tag 0x22), here 3 bytes long: "GRU" → "GRX" (node names contain "GRU" too).
        var opType = "\"\u0003GRU"u8;
        var at = onnx.AsSpan().IndexOf(opType);
        Assert.True(at >= 0, "the exported graph has a GRU node");
        onnx[at + 4] = (byte)'X';
        File.WriteAllBytes(onnxPath, onnx);
        RehashManifest(dir, onnx);
        return dir;
    }

    /// <summary>A package whose model.onnx is cut in half; the manifest's hash matches the cut file.</summary>
    private string TruncatedPackage()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "truncated", "1"), "truncated-gru", "1", seed: 4);
        var onnxPath = Path.Combine(dir, ModelPackage.OnnxFileName);
        var onnx = File.ReadAllBytes(onnxPath).AsSpan(0, (int)(new FileInfo(onnxPath).Length / 2)).ToArray();
        File.WriteAllBytes(onnxPath, onnx);
        RehashManifest(dir, onnx);
        return dir;
    }

    private static void RehashManifest(string dir, byte[] onnx)
    {
        var path = Path.Combine(dir, ModelPackage.ManifestFileName);
        var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(path));
        File.WriteAllBytes(path, ModelPackage.SerializeManifest(manifest with { Onnx = manifest.Onnx with { Sha256 = ModelPackage.ComputeSha256(onnx) } }));
    }

    [Fact]
    public void Inspect_GraphOnnxRuntimeRejects_ExitsThreeNamingTheProblem()
    {
        var (exit, text) = RunInspect(CorruptGraphPackage());

        Assert.Equal(3, exit);
        Assert.Contains("invalid model package", text, StringComparison.Ordinal);
        Assert.Contains(nameof(ModelPackageProblemKind.OnnxLoadFailed), text, StringComparison.Ordinal);
        Assert.Contains("GRX", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_TruncatedOnnx_ExitsThree()
    {
        var (exit, text) = RunInspect(TruncatedPackage());

        Assert.Equal(3, exit);
        Assert.Contains(nameof(ModelPackageProblemKind.OnnxLoadFailed), text, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_CudaOnCpuBuild_ExitsThreeSayingSo()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "ok", "1"), "ok-gru", "1", seed: 5);

        var (exit, text) = RunInspect(dir, "cuda");

        Assert.Equal(3, exit);
        Assert.Contains("OnnxRuntimeFlavour=Gpu", text, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public void Score_CorruptModel_ExitsThree()
    {
        var exit = ScoreCommand.Run(CorruptGraphPackage(), [SharedData.Path("alert-samples", "ztf")], jsonl: true, TextWriter.Null, CancellationToken.None);

        Assert.Equal(3, exit);
    }

    [SharedDataFact]
    public void Score_CudaOnCpuBuild_ExitsThree()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "ok", "1"), "ok-gru", "1", seed: 5);

        var exit = ScoreCommand.Run(dir, [SharedData.Path("alert-samples", "ztf")], jsonl: true, TextWriter.Null, CancellationToken.None, device: "cuda");

        Assert.Equal(3, exit);
    }

    [Fact]
    public async Task Run_CorruptModel_ExitsThreeBeforeConsuming()
    {
        // Should the model load after all, the worker would run: stop it rather than hang the suite (exit 0 then fails).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exit = await RunCommand.RunHostAsync(null, WorkerSettings(CorruptGraphPackage()), timeout.Token);

        Assert.Equal(3, exit);
    }

    [Fact]
    public async Task Run_CudaOnCpuBuild_ExitsTwoAsInvalidConfiguration()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "ok", "1"), "ok-gru", "1", seed: 5);
        var settings = new Dictionary<string, string?>(WorkerSettings(dir)) { ["AlertBroker:Model:ExecutionProvider"] = "Cuda" };

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exit = await RunCommand.RunHostAsync(null, settings, timeout.Token);

        Assert.Equal(2, exit);
    }

    [Fact]
    public void BuiltProgram_FromAnotherDirectoryWithNoVariables_LoadsOnnxRuntimeBesideItself()
    {
        // The alertbroker program this test project carries (a build outside src/), run from an unrelated directory with
        // no ALERTBROKER_* variables: it must find libonnxruntime.so in its own folder.
        var model = Path.Combine(SharedData.RepositoryRoot()!, "models", "ztf-bts", "1.0.0");

        var (exit, stdout, stderr) = RunProgram(["models", "inspect", model]);

        Assert.True(exit == 0, $"exit {exit}: {stderr}");

        // The card's table wraps long cells at the console width: compare without borders and white space.
        var card = new string(stdout.Where(c => c != '│' && !char.IsWhiteSpace(c)).ToArray());
        Assert.Contains("ONNXRuntime1.31.1(Microsoft.ML.OnnxRuntime,CPU)", card, StringComparison.Ordinal);
        Assert.Contains("from" + Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so"), card, StringComparison.Ordinal);
    }

    // ONNX Runtime 1.31's Linux build starts Microsoft's 1DS telemetry with its first environment: an uploader thread, a
    // device id and an SQLite event queue under ~/.cache/Microsoft/DeveloperTools/.onnxruntime. Its teardown at exit raced
    // that thread: a demo that had printed its whole summary aborted, "double free or corruption (fasttop)", exit 134.
    // Every command that loads a model now turns it off before the runtime's environment exists (OnnxTelemetry).
    [Fact]
    public async Task BuiltProgram_LoadingAModel_RuntimeTelemetryOff_NothingWrittenUnderHome()
    {
        var home = Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;
        var model = TestModelPackages.Export(Path.Combine(_root, "telemetry", "1"), "telemetry-gru", "1", seed: 5);

        // No opt-out inherited from this test process, and none of the CI variables the runtime also takes as one.
        var environment = new Dictionary<string, string?> { ["HOME"] = home, ["XDG_CACHE_HOME"] = null, ["ORT_DISABLE_TELEMETRY"] = null, ["ORT_TELEMETRY_DISABLED"] = null };
        foreach (var ci in new[] { "CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL", "CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI" })
        {
            environment[ci] = null;
        }

        var (exit, output, _) = await AlertBrokerProcess.RunAsync(["models", "inspect", model], environment, TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.Contains("ONNX Runtime 1.31.1", output, StringComparison.Ordinal);
        var written = Directory.GetFileSystemEntries(home, "*", SearchOption.AllDirectories);
        Assert.True(written.Length == 0, "written under HOME: " + string.Join(", ", written));
    }

    // An operator's own value is theirs: either name set to anything is left as it is; unset, both are set.
    [Theory]
    [InlineData("ORT_DISABLE_TELEMETRY", "true", "ORT_DISABLE_TELEMETRY=true set by the operator")]
    [InlineData("ORT_TELEMETRY_DISABLED", "0", "ORT_TELEMETRY_DISABLED=0 set by the operator")]
    [InlineData(null, null, "off (ORT_DISABLE_TELEMETRY=1, ORT_TELEMETRY_DISABLED=1)")]
    public async Task BuiltProgram_TelemetryVariables_OperatorValueKept_ElseBothSet(string? name, string? value, string expected)
    {
        var model = TestModelPackages.Export(Path.Combine(_root, "telemetry-operator", "1"), "telemetry-gru", "1", seed: 6);
        var environment = new Dictionary<string, string?> { ["ORT_DISABLE_TELEMETRY"] = null, ["ORT_TELEMETRY_DISABLED"] = null };
        if (name is not null)
        {
            environment[name] = value;
        }

        var (exit, output, _) = await AlertBrokerProcess.RunAsync(["models", "inspect", model], environment, TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public void BuiltProgram_ScoreCorruptModel_OneLineOnStderrAndExitThree()
    {
        var (exit, stdout, stderr) = RunProgram(["score", "--model", CorruptGraphPackage(), "--jsonl", SharedData.Path("alert-samples", "ztf")]);

        Assert.Equal(3, exit);
        Assert.Equal(string.Empty, stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("model unusable (invalid model package):", line, StringComparison.Ordinal);
        Assert.Contains("OnnxLoadFailed", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", stderr, StringComparison.Ordinal);
    }

    private Dictionary<string, string?> WorkerSettings(string modelDirectory) => new()
    {
        // No broker listens here: the model is loaded (and refused) before anything is consumed.
        ["AlertBroker:Kafka:BootstrapServers"] = "127.0.0.1:9",
        ["AlertBroker:Kafka:Topics:0"] = "ab-model-failure",
        ["AlertBroker:State:Store"] = "InMemory",
        ["AlertBroker:Model:Path"] = modelDirectory,
        ["AlertBroker:Telemetry:HttpPort"] = "0",
    };

    private (int Exit, string Stdout, string Stderr) RunProgram(string[] arguments)
    {
        var finished = AlertBrokerProcess.RunToEnd(_root, arguments);
        return (finished.Code, finished.Stdout, finished.Stderr);
    }

    private static (int Exit, string Text) RunInspect(string dir, string? device = null)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 400;
        var exit = ModelsCommand.Inspect(dir, console, device);
        return (exit, writer.ToString());
    }
}
