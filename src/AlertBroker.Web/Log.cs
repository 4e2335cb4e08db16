using Microsoft.Extensions.Logging;

namespace AlertBroker.Web;

/// <summary>The web view's log messages (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Web view: {Mode} mode; state {State}; model registry {Registry}; recent classifications from {Recent}")]
    public static partial void Sources(ILogger logger, string mode, string state, string registry, string recent);

    [LoggerMessage(2, LogLevel.Warning, "Web view: model {ModelId} is not available for recomputing probabilities: {Reason}")]
    public static partial void ModelUnavailable(ILogger logger, string modelId, string reason);

    [LoggerMessage(3, LogLevel.Information, "Web view: loaded model {ModelId} from {Source} for recomputing probabilities")]
    public static partial void ModelLoaded(ILogger logger, string modelId, string source);

    [LoggerMessage(4, LogLevel.Warning, "Web view: {Operation} failed: {Error}")]
    public static partial void SourceFailed(ILogger logger, string operation, string error);

    [LoggerMessage(5, LogLevel.Error, "Web view: {Operation} failed unexpectedly")]
    public static partial void Unexpected(ILogger logger, string operation, Exception exception);
}
