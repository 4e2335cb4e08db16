using Microsoft.Extensions.Logging;

namespace AlertBroker.Registry;

internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Loading model {Model} (sha256 {Sha256}) in the background")]
    public static partial void LoadingModel(ILogger logger, string model, string sha256);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "{Survey}: switched to model {Model}; the previous model was {Previous}")]
    public static partial void SwitchedModel(ILogger logger, string survey, string model, string previous);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "{Survey}: refused a model ({Error}); still scoring with {Current}")]
    public static partial void RefusedModel(ILogger logger, string survey, string error, string current);

    [LoggerMessage(EventId = 106, Level = LogLevel.Error, Message = "{Survey}: {Error}")]
    public static partial void ModelMayNoLongerServe(ILogger logger, string survey, string error);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Model registry check failed; will retry: {Error}")]
    public static partial void RegistryCheckFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Heartbeat could not be reported: {Error}")]
    public static partial void HeartbeatFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Shadow statistics could not be added to the registry (this worker keeps its counts for the next flush): {Error}")]
    public static partial void ShadowStatisticsFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 107, Level = LogLevel.Error, Message = "Shadow statistics cannot be read, left out of the gauges: {Error}")]
    public static partial void ShadowStatisticsDamaged(ILogger logger, string error);
}
