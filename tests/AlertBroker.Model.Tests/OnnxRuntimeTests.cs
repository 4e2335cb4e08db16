using AlertBroker.Model.Onnx;

namespace AlertBroker.Model.Tests;

public class OnnxRuntimeTests
{
    [Theory]
    [InlineData(
        "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:2043 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /app/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory",
        "Failed to load library /app/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory")]
    [InlineData("Load model from x.onnx failed:Protobuf parsing failed.\n", "Load model from x.onnx failed:Protobuf parsing failed.")]
    [InlineData("a [ONNXRuntimeError] : 2 : INVALID_ARGUMENT : b\nc", "b c")]
    public void Clean_NativeSourcePrefixAndLineBreaks_Removed(string native, string expected) =>
        Assert.Equal(expected, OnnxErrors.Clean(native));

    [Fact]
    public void LibraryLocation_DefaultBuild_IsTheLibraryBesideTheProgram()
    {
        // The package copies runtimes/linux-x64/native/libonnxruntime.so flat into the output folder (RuntimeIdentifier
        // linux-x64); that copy, not another one on the system, is what the process maps. No variable or path is configured.
        var location = OnnxRuntime.LibraryLocation;

        Assert.NotNull(location);
        Assert.Equal("libonnxruntime.so", Path.GetFileName(location));
        Assert.Equal(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory), Path.GetDirectoryName(location));
    }

    [Fact]
    public void Version_DefaultBuild_IsThePinnedCpuPackage()
    {
        Assert.Equal("Cpu", OnnxRuntime.Flavour);
        Assert.Equal("Microsoft.ML.OnnxRuntime", OnnxRuntime.PackageName);
        Assert.Equal("1.31.1", OnnxRuntime.Version);
        Assert.True(OnnxRuntime.IsAvailable);
    }

    // The runtime reads ORT_DISABLE_TELEMETRY when it creates its environment: by then the native environment (getenv, not
    // .NET's own copy) holds a value, ours ("1") unless the process was started with one.
    [Fact]
    public void EnsureInitialized_NativeEnvironmentHoldsTheTelemetryOptOut()
    {
        OnnxRuntime.EnsureInitialized();

        Assert.False(string.IsNullOrEmpty(OnnxTelemetry.NativeValue()));
        Assert.NotNull(OnnxTelemetry.State);
        if (OnnxTelemetry.SetByUs)
        {
            Assert.Equal("1", OnnxTelemetry.NativeValue());
            Assert.Equal("1", Environment.GetEnvironmentVariable(OnnxTelemetry.Variable));
            Assert.Equal("1", Environment.GetEnvironmentVariable(OnnxTelemetry.LaterVariable));
        }
    }

    [Fact]
    public void GetAvailableProviders_CpuBuild_IncludesCpuProvider() =>
        Assert.Contains("CPUExecutionProvider", OnnxRuntime.GetAvailableProviders());

    [Fact]
    public void OutputFolder_DefaultBuild_CarriesOnlyThisPlatformsNatives()
    {
        // RuntimeIdentifier linux-x64: no runtimes/<rid>/native tree with every platform's libraries (239 MB).
        Assert.False(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "win-x64")), "win-x64 natives were copied");
        Assert.False(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "osx-arm64")), "osx-arm64 natives were copied");
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "onnxruntime.dll")), "the package's Windows DLL was copied");
    }
}
