using Microsoft.Extensions.Logging;

namespace AlertBroker.Registry;

internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Loading model {Model} (sha256 {Sha256}) in the background")]
    public static partial void LoadingModel(ILogger logger, string model, string sha256);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Switched to model {Model}; the previous model was {Previous}")]
    public static partial void SwitchedModel(ILogger logger, string model, string previous);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Refused model {Model}; still scoring with {Current}: {Error}")]
    public static partial void RefusedModel(ILogger logger, string model, string current, string error);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Model registry check failed; will retry: {Error}")]
    public static partial void RegistryCheckFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Heartbeat could not be reported: {Error}")]
    public static partial void HeartbeatFailed(ILogger logger, string error);
}
