using System.Text.RegularExpressions;
using Ort = Microsoft.ML.OnnxRuntime;

namespace AlertBroker.Model.Onnx;

/// <summary>ONNX Runtime's <c>OrtErrorCode</c>, plus <see cref="ExecutionProviderFailure"/> for an execution provider (CUDA) that cannot be used.</summary>
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

/// <summary>An ONNX Runtime call failed; carries the runtime's error code and its message on one line.</summary>
public class OnnxRuntimeException : Exception
{
    public OnnxRuntimeException(OnnxErrorCode errorCode, string message)
        : base($"ONNX Runtime error {errorCode}: {message}")
    {
        ErrorCode = errorCode;
        NativeMessage = message;
    }

    public OnnxRuntimeException(OnnxErrorCode errorCode, string message, Exception? innerException)
        : base($"ONNX Runtime error {errorCode}: {message}", innerException)
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
        : this(OnnxErrorCode.Fail, message, innerException)
    {
    }

    /// <summary>The <c>OrtErrorCode</c> the runtime reported.</summary>
    public OnnxErrorCode ErrorCode { get; }

    /// <summary>The runtime's own message, without the code prefix, on one line.</summary>
    public string NativeMessage { get; }
}

/// <summary>
/// The ONNX Runtime native library (<c>libonnxruntime.so</c>, shipped by the NuGet package beside the program) could not
/// be loaded: the build or publish folder is incomplete, or was made for another platform.
/// </summary>
public sealed class OnnxRuntimeNotFoundException : OnnxRuntimeException
{
    public OnnxRuntimeNotFoundException(string message, Exception? innerException)
        : base(OnnxErrorCode.Fail, message, innerException)
    {
    }

    public OnnxRuntimeNotFoundException()
        : this("the ONNX Runtime native library could not be loaded", null)
    {
    }

    public OnnxRuntimeNotFoundException(string message)
        : this(message, null)
    {
    }
}

/// <summary>Turns the package's exceptions into <see cref="OnnxRuntimeException"/> with the runtime's code and a one-line message.</summary>
internal static partial class OnnxErrors
{
    // The package formats its messages as "[ErrorCode:Name] text".
    [GeneratedRegex(@"^\[ErrorCode:(?<code>[A-Za-z]+)\]\s*")]
    private static partial Regex CodePrefix();

    // The native library's own prefix: "/onnxruntime_src/…/file.cc:123 function [ONNXRuntimeError] : 1 : FAIL : ".
    [GeneratedRegex(@"^.*?\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*")]
    private static partial Regex NativePrefix();

    public static OnnxRuntimeException Wrap(Ort.OnnxRuntimeException e, string? context = null)
    {
        var message = e.Message;
        var code = OnnxErrorCode.Fail;
        var match = CodePrefix().Match(message);
        if (match.Success)
        {
            code = Enum.TryParse<OnnxErrorCode>(match.Groups["code"].Value, out var parsed) ? parsed : OnnxErrorCode.Fail;
            message = message[match.Length..];
        }

        message = Clean(message);
        return new OnnxRuntimeException(code, context is null ? message : context + ": " + message, e);
    }

    /// <summary>
    /// One line, without the native source location and error-code prefix the runtime puts before some messages (what
    /// failed is what follows it).
    /// </summary>
    internal static string Clean(string message) => NativePrefix().Replace(OneLine(message), string.Empty, 1);

    /// <summary>Runtime messages can span lines (source locations, loader hints); one line per error reads better in logs.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
