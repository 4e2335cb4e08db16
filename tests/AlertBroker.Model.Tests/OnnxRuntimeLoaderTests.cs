using AlertBroker.Model.Onnx;
using AlertBroker.Model.Onnx.Native;

namespace AlertBroker.Model.Tests;

public sealed class OnnxRuntimeLoaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-loader-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void BuildCandidates_AllSourcesPresent_FollowDocumentedOrder()
    {
        var repoLibrary = Path.Combine(_root, "repo", ".native", "onnxruntime", "libonnxruntime.so.1");
        Directory.CreateDirectory(Path.GetDirectoryName(repoLibrary)!);
        File.WriteAllBytes(repoLibrary, []);
        var baseDirectory = Path.Combine(_root, "repo", "artifacts", "bin", "app");
        Directory.CreateDirectory(baseDirectory);

        var candidates = OrtLibraryLoader.BuildCandidates("/configured/libonnxruntime.so.1", "/from-env/libonnxruntime.so.1", baseDirectory);

        Assert.Equal(
            [
                "configured path (OnnxRuntime.LibraryPath)",
                "environment variable ALERTBROKER_ONNXRUNTIME_PATH",
                "application folder",
                "application folder",
                "repository checkout (.native/onnxruntime)",
                "system loader",
                "system loader",
            ],
            candidates.Select(c => c.Source));
        Assert.Equal("/configured/libonnxruntime.so.1", candidates[0].Target);
        Assert.Equal("/from-env/libonnxruntime.so.1", candidates[1].Target);
        Assert.Equal(Path.Combine(baseDirectory, "libonnxruntime.so.1"), candidates[2].Target);
        Assert.Equal(repoLibrary, candidates[4].Target);
        Assert.Null(candidates[4].KnownFailure);
        Assert.Equal("libonnxruntime.so.1", candidates[5].Target);
        Assert.False(candidates[5].IsPath);
    }

    [Fact]
    public void BuildCandidates_FolderGivenInEnvironment_ResolvesLibraryInside()
    {
        File.WriteAllBytes(Path.Combine(_root, "libonnxruntime.so"), []);

        var candidates = OrtLibraryLoader.BuildCandidates(null, _root, _root);

        Assert.Equal(Path.Combine(_root, "libonnxruntime.so"), candidates[0].Target);
    }

    [Fact]
    public void BuildCandidates_NoCheckoutAbove_RecordsWhyTheWalkFailed()
    {
        var candidates = OrtLibraryLoader.BuildCandidates(null, null, _root);

        var walk = Assert.Single(candidates, c => c.Source.StartsWith("repository", StringComparison.Ordinal));
        Assert.Contains("not found in", walk.KnownFailure);
        Assert.Equal("application folder", candidates[0].Source);
    }

    [Fact]
    public void Load_NothingUsable_ThrowsOneExceptionListingEveryAttemptAndWhy()
    {
        var notALibrary = Path.Combine(_root, "libonnxruntime.so.1");
        File.WriteAllText(notALibrary, "this is not an ELF file");
        OrtLibraryCandidate[] candidates =
        [
            new("configured path (OnnxRuntime.LibraryPath)", Path.Combine(_root, "missing.so"), IsPath: true),
            new("application folder", notALibrary, IsPath: true),
            new("repository checkout (.native/onnxruntime)", ".native/onnxruntime/libonnxruntime.so.1", IsPath: true, KnownFailure: "not found in 3 folders"),
            new("system loader", "libalertbroker-no-such-library.so.1", IsPath: false),
        ];

        var e = Assert.Throws<OnnxRuntimeNotFoundException>(() => OrtLibraryLoader.Load(candidates));

        Assert.Equal(4, e.Attempts.Count);
        Assert.Contains("missing.so", e.Attempts[0]);
        Assert.Contains("file does not exist", e.Attempts[0]);
        Assert.Contains(notALibrary, e.Attempts[1]);
        Assert.DoesNotContain("file does not exist", e.Attempts[1]);
        Assert.Contains("not found in 3 folders", e.Attempts[2]);
        Assert.Contains("libalertbroker-no-such-library.so.1", e.Attempts[3]);
        Assert.All(e.Attempts, a => Assert.Contains(a, e.Message));
        Assert.All(e.Attempts, a => Assert.DoesNotContain('\n', a));
    }

    [Fact]
    public void Load_LibraryWithoutOrtGetApiBase_IsRejectedWithReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var e = Assert.Throws<OnnxRuntimeNotFoundException>(() => OrtLibraryLoader.Load([new("system loader", "libc.so.6", IsPath: false)]));

        Assert.Contains("OrtGetApiBase", Assert.Single(e.Attempts));
    }

    [OnnxRuntimeFact]
    public void Load_RealLibrary_ReturnsApiTableAndVersion()
    {
        var path = OnnxRuntime.LibraryLocation;

        var loaded = OrtLibraryLoader.Load([new("configured path (OnnxRuntime.LibraryPath)", path, IsPath: true)]);

        Assert.NotEqual(0, loaded.ApiTable);
        Assert.Equal(OnnxRuntime.Version, loaded.Version);
    }

    [OnnxRuntimeFact]
    public void Version_LoadedRuntime_IsAtLeastTheApiVersionWeAskFor()
    {
        var version = System.Version.Parse(OnnxRuntime.Version);

        Assert.Equal(1, version.Major);
        Assert.True(version.Minor >= (int)OrtApi.RequestedApiVersion, $"ONNX Runtime {version}");
    }

    [OnnxRuntimeFact]
    public void GetAvailableProviders_CpuBuild_IncludesCpuProvider() =>
        Assert.Contains("CPUExecutionProvider", OnnxRuntime.GetAvailableProviders());

    [OnnxRuntimeFact]
    public void LibraryPath_SetAfterLoad_ThrowsInvalidOperationException() =>
        Assert.Throws<InvalidOperationException>(() => OnnxRuntime.LibraryPath = "/elsewhere/libonnxruntime.so.1");
}
