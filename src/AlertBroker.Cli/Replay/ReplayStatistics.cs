using AlertBroker.Alerts;

namespace AlertBroker.Cli.Replay;

/// <summary>What a replay saw: alerts, objects, schema versions and errors by kind.</summary>
internal sealed class ReplayStatistics
{
    private const int ExamplesPerKind = 3;

    private readonly HashSet<string> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _bySchema = new(StringComparer.Ordinal);
    private readonly Dictionary<AlertErrorKind, long> _errors = [];
    private readonly List<string> _errorExamples = [];

    public long Messages { get; private set; }

    /// <summary>The replay was stopped by a signal before its end: these are the totals up to there.</summary>
    public bool Stopped { get; set; }

    public long Alerts { get; private set; }

    public long Bytes { get; private set; }

    public long Detections { get; private set; }

    public long UpperLimits { get; private set; }

    public long ForcedPhotometry { get; private set; }

    public TimeSpan Elapsed { get; set; }

    public int Objects => _objects.Count;

    public IReadOnlyDictionary<string, long> BySchema => _bySchema;

    public IReadOnlyDictionary<AlertErrorKind, long> Errors => _errors;

    public IReadOnlyList<string> ErrorExamples => _errorExamples;

    public long ErrorCount { get; private set; }

    public double AlertsPerSecond => Elapsed.TotalSeconds > 0 ? Alerts / Elapsed.TotalSeconds : 0;

    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? Bytes / 1e6 / Elapsed.TotalSeconds : 0;

    public void AddMessage(int bytes)
    {
        Messages++;
        Bytes += bytes;
    }

    public void AddAlert(Alert alert)
    {
        Alerts++;
        Detections += alert.Detections.Length;
        UpperLimits += alert.UpperLimits.Length;
        ForcedPhotometry += alert.ForcedPhotometry.Length;
        _objects.Add(alert.ObjectId);
        var key = alert.SchemaVersion;
        _bySchema[key] = _bySchema.GetValueOrDefault(key) + 1;
    }

    public void AddError(string source, AlertFormatException error)
    {
        ErrorCount++;
        var count = _errors.GetValueOrDefault(error.Kind) + 1;
        _errors[error.Kind] = count;
        if (count <= ExamplesPerKind)
        {
            _errorExamples.Add($"{error.Kind}: {source}: {error.Message}");
        }
    }
}
