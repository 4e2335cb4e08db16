using AlertBroker.Model.Onnx;

namespace AlertBroker.Cli.Worker;

/// <summary>Small helpers the worker commands share.</summary>
internal static class WorkerCli
{
    /// <summary>
    /// The loader finds ONNX Runtime beside the program, through ALERTBROKER_ONNXRUNTIME_PATH, or in a checkout's .native folder
    /// above the program; a program built elsewhere (an artifacts folder) but started from the checkout finds it from the
    /// working directory.
    /// </summary>
    public static void ConfigureOnnxRuntime()
    {
        if (OnnxRuntime.LibraryPath is not null || Environment.GetEnvironmentVariable("ALERTBROKER_ONNXRUNTIME_PATH") is not null || OnnxRuntime.TryInitialize(out _))
        {
            return;
        }

        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, ".native", "onnxruntime", "libonnxruntime.so.1");
            if (File.Exists(path))
            {
                OnnxRuntime.LibraryPath = path;
                return;
            }
        }
    }
}
