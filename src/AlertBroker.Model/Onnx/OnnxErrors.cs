namespace AlertBroker.Model.Onnx;

/// <summary>ONNX Runtime's <c>OrtErrorCode</c>; values a newer library adds come through as their number.</summary>
public enum OnnxErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    ExecutionProviderFailure = 11,
}

/// <summary>An ONNX Runtime call failed; carries the runtime's error code and message.</summary>
public class OnnxRuntimeException : Exception
{
    public OnnxRuntimeException(OnnxErrorCode errorCode, string message)
        : base($"ONNX Runtime error {errorCode}: {message}")
    {
        ErrorCode = errorCode;
        NativeMessage = message;
    }

    public OnnxRuntimeException()
        : this(OnnxErrorCode.Fail, "unknown error")
    {
    }

    public OnnxRuntimeException(string message)
        : this(OnnxErrorCode.Fail, message)
    {
    }

    public OnnxRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCode = OnnxErrorCode.Fail;
        NativeMessage = message;
    }

    /// <summary>The <c>OrtErrorCode</c> the runtime reported.</summary>
    public OnnxErrorCode ErrorCode { get; }

    /// <summary>The runtime's own message, without the code prefix.</summary>
    public string NativeMessage { get; }
}

/// <summary>No usable ONNX Runtime library was found; <see cref="Attempts"/> lists every place tried and why it failed.</summary>
public sealed class OnnxRuntimeNotFoundException : Exception
{
    public OnnxRuntimeNotFoundException(IReadOnlyList<string> attempts)
        : base(FormatMessage(attempts)) => Attempts = attempts;

    public OnnxRuntimeNotFoundException()
        : this([])
    {
    }

    public OnnxRuntimeNotFoundException(string message)
        : base(message) => Attempts = [];

    public OnnxRuntimeNotFoundException(string message, Exception innerException)
        : base(message, innerException) => Attempts = [];

    /// <summary>One line per place tried, in lookup order: where, what, and why it failed.</summary>
    public IReadOnlyList<string> Attempts { get; }

    private static string FormatMessage(IReadOnlyList<string> attempts)
    {
        var text = new System.Text.StringBuilder("The ONNX Runtime native library could not be loaded. Set OnnxRuntime.LibraryPath or the ")
            .Append(Native.OrtLibraryLoader.EnvironmentVariable)
            .Append(" environment variable to libonnxruntime's path, or run eng/setup.sh in a repository checkout. Tried:");
        foreach (var attempt in attempts)
        {
            text.Append("\n  - ").Append(attempt);
        }

        return text.ToString();
    }
}
