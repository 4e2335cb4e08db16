using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlertBroker.Registry;

/// <summary>A model version: <c>name@version</c>.</summary>
public readonly record struct ModelRef(string Name, string Version)
{
    /// <summary>Parses "name@version".</summary>
    public static ModelRef Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            throw new FormatException($"'{text}' is not NAME@VERSION");
        }

        return new ModelRef(text[..at], text[(at + 1)..]);
    }

    public override string ToString() => Name + "@" + Version;
}

/// <summary>What the registry knows about one pushed model version.</summary>
public sealed record RegisteredModel
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>SHA-256 of model.onnx (lower-case hex), as in model.json.</summary>
    public required string Sha256 { get; init; }

    public required string Encoding { get; init; }

    public IReadOnlyList<string> Classes { get; init; } = [];

    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    public required string PushedBy { get; init; }

    public required DateTimeOffset PushedUtc { get; init; }

    [JsonIgnore]
    public ModelRef Ref => new(Name, Version);
}

/// <summary>The active-model pointer every worker follows.</summary>
public sealed record ActivePointer
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public required string Sha256 { get; init; }

    public required DateTimeOffset SinceUtc { get; init; }

    [JsonIgnore]
    public ModelRef Ref => new(Name, Version);
}

/// <summary>One promotion or rollback, as recorded in the audit trail.</summary>
public sealed record PromotionRecord
{
    /// <summary>"promote" or "rollback".</summary>
    public required string Action { get; init; }

    public required DateTimeOffset Utc { get; init; }

    public string? From { get; init; }

    public required string To { get; init; }

    /// <summary>What the gate measured (e.g. candidate and active macro AUROC).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>True when the gate's verdict was overridden with --force.</summary>
    public bool Forced { get; init; }

    /// <summary>Why, in words (the gate's findings, or the operator's reason).</summary>
    public string? Reason { get; init; }

    public required string By { get; init; }
}

/// <summary>A worker's periodic report of the model it is running.</summary>
public sealed record WorkerHeartbeat
{
    public required string WorkerId { get; init; }

    /// <summary>The model version the worker scores with now, or null while it has none.</summary>
    public string? Model { get; init; }

    public string? Sha256 { get; init; }

    /// <summary>The last model load failure, if the worker refused a model.</summary>
    public string? LastError { get; init; }

    public required DateTimeOffset Utc { get; init; }

    /// <summary>The worker's throughput, latency, dead letters and lag at <see cref="Utc"/> (null from workers that do not report them).</summary>
    public HeartbeatStatistics? Statistics { get; init; }
}

/// <summary>A model package's two files, as stored.</summary>
public sealed record ModelPackageBytes(byte[] Manifest, byte[] Onnx);

internal static class RegistryJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new RegistryException($"registry record is empty: {json}");
}

/// <summary>A registry operation failed: unknown model, hash mismatch, a concurrent change, an unreachable store.</summary>
public sealed class RegistryException : Exception
{
    public RegistryException()
    {
    }

    public RegistryException(string message)
        : base(message)
    {
    }

    public RegistryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
