using System.Text.Json;
using System.Text.Json.Serialization;
using AlertBroker.Model.Packaging;

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

    /// <summary>
    /// SHA-256 of the model.json bytes pushed (lower-case hex); null in records pushed before the field. A model.json
    /// changed in the registry after the push (its classes reordered, a survey added) was promoted and served: only
    /// model.onnx was checked.
    /// </summary>
    public string? ManifestSha256 { get; init; }

    public required string Encoding { get; init; }

    public IReadOnlyList<string> Classes { get; init; } = [];

    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>The surveys the model declares (<c>model.json</c> <c>surveys</c>, <c>["ztf"]</c> when absent); null in records pushed before the field (read the manifest).</summary>
    public IReadOnlyList<string>? Surveys { get; init; }

    /// <summary>The metadata sources the model needs (<c>metadata[].source</c>, e.g. <c>host-redshift</c>); empty for a model that uses only what alerts carry; null in records pushed before the field.</summary>
    public IReadOnlyList<string>? MetadataSources { get; init; }

    public required string PushedBy { get; init; }

    public required DateTimeOffset PushedUtc { get; init; }

    [JsonIgnore]
    public ModelRef Ref => new(Name, Version);
}

/// <summary>
/// One survey's shadow pointer set to <paramref name="Shadow"/> (null: cleared), with its audit record. The registry refuses,
/// in the same atomic step, a shadow that is the survey's active model, one that needs a metadata source
/// (<see cref="RequiredSources"/>) the survey does not declare, and, with <see cref="CompareAndSet"/>, a move whose survey's
/// shadow is no longer <see cref="ExpectedCurrent"/>.
/// </summary>
public sealed record ShadowMove(string Survey, ActivePointer? Shadow, PromotionRecord Record)
{
    /// <summary>Move only while the survey's shadow is still <see cref="ExpectedCurrent"/> (compare-and-set, as promotions are).</summary>
    public bool CompareAndSet { get; init; }

    /// <summary>The shadow the move was checked against (null: none), compared when <see cref="CompareAndSet"/> is set.</summary>
    public ActivePointer? ExpectedCurrent { get; init; }

    /// <summary>The metadata sources the new shadow needs (<c>metadata[].source</c> of a model that requires them): each must be declared for the survey.</summary>
    public IReadOnlyList<string> RequiredSources { get; init; } = [];
}

/// <summary>
/// One survey's active pointer moving from <paramref name="ExpectedCurrent"/> to <paramref name="Next"/>, with its audit
/// record. The registry refuses, in the same atomic step, a move whose model needs a metadata source
/// (<see cref="RequiredSources"/>) the survey does not declare; a survey whose shadow is the model promoted stops shadowing
/// it in the same step (audited as "shadow-clear").
/// </summary>
public sealed record PointerMove(string Survey, ActivePointer? ExpectedCurrent, ActivePointer Next, PromotionRecord Record)
{
    /// <summary>The metadata sources the model needs (<c>metadata[].source</c> of a model that requires them): each must be declared for the survey.</summary>
    public IReadOnlyList<string> RequiredSources { get; init; } = [];
}

/// <summary>
/// A pointer to one registered model version: a survey's active model (what its alerts are classified with) or its shadow
/// model (a candidate scored beside the active one). Compare-and-set compares name, version and SHA-256.
/// </summary>
public sealed record ActivePointer
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public required string Sha256 { get; init; }

    public required DateTimeOffset SinceUtc { get; init; }

    /// <summary>The survey the pointer belongs to ("ztf", "lsst"); set by the registry when it reads or publishes a pointer.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Survey { get; init; }

    /// <summary><see cref="PointerRoles.Active"/> or <see cref="PointerRoles.Shadow"/>; null in pointers written before shadows existed (active).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    [JsonIgnore]
    public ModelRef Ref => new(Name, Version);

    /// <summary>"name@version#sha256[..12]": how statistics and state identities name the pointed-to model.</summary>
    [JsonIgnore]
    public string ShortIdentity => Name + "@" + Version + "#" + Sha256[..Math.Min(12, Sha256.Length)];
}

/// <summary>What a pointer is for.</summary>
public static class PointerRoles
{
    public const string Active = "active";

    public const string Shadow = "shadow";
}

/// <summary>One survey's pointers, as <c>models status</c> shows them.</summary>
public sealed record SurveyPointers
{
    public required string Survey { get; init; }

    /// <summary>The model the survey's alerts are classified with, or null.</summary>
    public ActivePointer? Active { get; init; }

    /// <summary>What a rollback would restore, or null.</summary>
    public ActivePointer? Previous { get; init; }

    /// <summary>The candidate scored beside the active model, or null.</summary>
    public ActivePointer? Shadow { get; init; }
}

/// <summary>Everything a worker follows, read together: each survey's active and shadow pointers and the metadata sources.</summary>
public sealed record RegistrySnapshot
{
    /// <summary>Survey → its pointers (<see cref="SurveyPointers.Previous"/> is not filled here).</summary>
    public required IReadOnlyDictionary<string, SurveyPointers> Surveys { get; init; }

    public required IReadOnlyList<MetadataSourceDeclaration> MetadataSources { get; init; }
}

/// <summary>
/// Where a survey's workers find one metadata quantity (a <c>model.json</c> <c>metadata[].source</c> such as
/// <c>host-redshift</c>, or <see cref="MetadataSourceDeclaration.LabelSource"/> for the class labels shadow statistics use):
/// a CSV file (<see cref="Csv"/>, column <see cref="Column"/>) or a Redis hash whose fields are object ids
/// (<see cref="RedisHash"/>, in the worker's state Redis unless the worker sets <c>AlertBroker:Metadata:Redis</c>).
/// The promotion gate refuses a model for a survey that lacks a declaration for any source the model needs.
/// </summary>
public sealed record MetadataSourceDeclaration
{
    /// <summary>The source name shadow statistics read class labels from (values are class names).</summary>
    public const string LabelSource = "label";

    public required string Survey { get; init; }

    /// <summary>The quantity supplied: <c>host-redshift</c>, <c>mw-ebv</c>, another agreed name, or <c>label</c>.</summary>
    public required string Source { get; init; }

    /// <summary>A CSV file with a header row; the first column (or one named <c>object_id</c>) holds object ids.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Csv { get; init; }

    /// <summary>The CSV column holding the values (default: the source name).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Column { get; init; }

    /// <summary>A Redis hash: field = object id, value = the quantity.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RedisHash { get; init; }

    public string? By { get; init; }

    public DateTimeOffset Utc { get; init; }

    /// <summary>The longest source name <see cref="IsSourceName"/> accepts.</summary>
    public const int MaxSourceNameLength = AlertBroker.Model.Packaging.MetadataSources.MaxNameLength;

    /// <summary>A well-formed source name (<see cref="AlertBroker.Model.Packaging.MetadataSources.IsName"/>), the rule model.json's <c>metadata[].source</c> follows too.</summary>
    public static bool IsSourceName(string? source) => AlertBroker.Model.Packaging.MetadataSources.IsName(source);

    /// <summary>"csv FILE (column C)" or "redis-hash KEY".</summary>
    public string Describe() => Csv is not null ? $"csv {Csv} (column {Column ?? Source})" : $"redis-hash {RedisHash}";

    /// <summary>A problem with the declaration, or null.</summary>
    public string? Validate()
    {
        if (Survey is null)
        {
            return "\"survey\" is null";
        }

        if (!RegistryNames.IsSurvey(Survey))
        {
            return $"'{Survey}' is not a survey name (lower-case letters, digits, '-')";
        }

        if (string.IsNullOrWhiteSpace(Source))
        {
            return "a metadata source needs a name (e.g. host-redshift, mw-ebv, label)";
        }

        if (!IsSourceName(Source))
        {
            // The name is echoed without its control characters: a line break would forge a line of the output.
            var shown = string.Concat(Source.Select(c => char.IsControl(c) ? '?' : c));
            return $"'{shown}' is not a metadata source name: up to {MaxSourceNameLength} lower-case letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. host-redshift, mw-ebv, label)";
        }

        return (Csv is null) == (RedisHash is null)
            ? "give exactly one of a CSV file or a Redis hash"
            : Csv is not null && string.IsNullOrWhiteSpace(Csv) ? "the CSV path is empty"
            : RedisHash is not null && string.IsNullOrWhiteSpace(RedisHash) ? "the Redis hash key is empty"
            : null;
    }
}

/// <summary>Survey names as the registry keeps them.</summary>
public static class RegistryNames
{
    /// <summary>The survey a registry written before per-survey pointers gave its one pointer to when the model declared none.</summary>
    public const string DefaultSurvey = "ztf";

    /// <summary>The surveys whose alerts workers decode and route to a model: only these may be forced onto a model that does not declare them.</summary>
    public static IReadOnlyList<string> KnownSurveys { get; } = ["ztf", "lsst"];

    /// <summary>Lower-case letters, digits and '-', at most 32 characters (the manifest's rule for <c>surveys</c>).</summary>
    public static bool IsSurvey(string? survey)
    {
        if (string.IsNullOrEmpty(survey) || survey.Length > 32)
        {
            return false;
        }

        foreach (var c in survey)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="RegistryException"/> when <paramref name="survey"/> is not a survey name.</summary>
    public static string CheckSurvey(string survey) =>
        IsSurvey(survey) ? survey : throw new RegistryException($"'{survey}' is not a survey name (lower-case letters, digits and '-', e.g. ztf, lsst)");

    /// <summary>Checks a set of active-pointer moves: survey names valid and distinct, pointers and records present.</summary>
    public static void CheckMoves(IReadOnlyList<PointerMove> moves)
    {
        ArgumentNullException.ThrowIfNull(moves);
        foreach (var move in moves)
        {
            ArgumentNullException.ThrowIfNull(move);
            ArgumentNullException.ThrowIfNull(move.Next);
            ArgumentNullException.ThrowIfNull(move.Record);
        }

        CheckSurveysOnce(moves.Select(m => m.Survey));
    }

    /// <summary>Checks a set of shadow-pointer changes: survey names valid and distinct, records present.</summary>
    public static void CheckMoves(IReadOnlyList<ShadowMove> moves)
    {
        ArgumentNullException.ThrowIfNull(moves);
        foreach (var move in moves)
        {
            ArgumentNullException.ThrowIfNull(move);
            ArgumentNullException.ThrowIfNull(move.Record);
        }

        CheckSurveysOnce(moves.Select(m => m.Survey));
    }

    private static void CheckSurveysOnce(IEnumerable<string> surveys)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var survey in surveys)
        {
            CheckSurvey(survey);
            if (!seen.Add(survey))
            {
                throw new RegistryException($"{survey} is changed twice in one change");
            }
        }
    }

    /// <summary>What a move refused for a metadata source the survey no longer declares says.</summary>
    public static string MissingSourceMessage(string model, string survey, string source) =>
        $"{model} needs the metadata source {source}, which is no longer declared for {survey} (removed while this change was being checked); nothing was changed: declare it (models metadata set) and try again";

    /// <summary>What a failed shadow compare-and-set says.</summary>
    public static string ShadowConflictMessage(string survey, int surveys) =>
        $"the shadow of {survey} changed while this change was being checked; check again" + (surveys > 1 ? " (no survey's shadow was set)" : string.Empty);

    /// <summary>What a shadow that is the survey's active model says.</summary>
    public static string ShadowIsActiveMessage(string model, string survey) =>
        $"{model} is the active model of {survey}; a shadow is a different model scored beside it";

    /// <summary>The audit record of a shadow stopped because its model was promoted (in the promotion's own change).</summary>
    internal static PromotionRecord ShadowClearedByPromotion(string survey, ActivePointer promoted, PromotionRecord promotion) =>
        new() { Action = "shadow-clear", Survey = survey, Utc = promotion.Utc, From = promoted.Ref.ToString(), To = string.Empty, Reason = $"{promoted.Ref} was promoted", By = promotion.By };

    /// <summary>The audit record of a shadow cleared because a rollback made its model active again.</summary>
    internal static PromotionRecord ShadowClearedByRollback(string survey, ActivePointer restored, PromotionRecord rollback) =>
        new() { Action = "shadow-clear", Survey = survey, Utc = rollback.Utc, From = restored.Ref.ToString(), To = string.Empty, Reason = $"{restored.Ref} became active again by a rollback", By = rollback.By };

    /// <summary>What a failed compare-and-set says; with several surveys, that none of them moved.</summary>
    public static string ConflictMessage(string survey, int surveys) =>
        $"the active model of {survey} changed while this promotion was being checked; check again" + (surveys > 1 ? " (no survey's pointer was moved)" : string.Empty);
}

/// <summary>One change of a pointer or of a metadata source, as recorded in the audit trail.</summary>
public sealed record PromotionRecord
{
    /// <summary>"promote", "rollback", "shadow", "shadow-clear", "metadata-set", "metadata-remove" or "migrate".</summary>
    public required string Action { get; init; }

    /// <summary>The survey whose pointer (or metadata source) changed; null in records written before per-survey pointers.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Survey { get; init; }

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

/// <summary>The newest records of the audit trail, oldest first, and whether the trail holds older ones than these.</summary>
public sealed record AuditTail(IReadOnlyList<PromotionRecord> Records, bool HasOlder);

/// <summary>A worker's periodic report of the model it is running.</summary>
public sealed record WorkerHeartbeat
{
    public required string WorkerId { get; init; }

    /// <summary>
    /// The model version the worker scores with now, or null while it has none; with several surveys, "survey=model"
    /// pairs joined by ", " (<see cref="Surveys"/> has them one by one).
    /// </summary>
    public string? Model { get; init; }

    public string? Sha256 { get; init; }

    /// <summary>Survey → the model version the worker scores that survey's alerts with.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Surveys { get; init; }

    /// <summary>Survey → the shadow model the worker also scores that survey's alerts with.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Shadows { get; init; }

    /// <summary>The last model load failure, if the worker refused a model.</summary>
    public string? LastError { get; init; }

    public required DateTimeOffset Utc { get; init; }

    /// <summary>The worker's throughput, latency, dead letters and lag at <see cref="Utc"/> (null from workers that do not report them).</summary>
    public HeartbeatStatistics? Statistics { get; init; }
}

/// <summary>
/// What the registry publishes on every change (Redis pub/sub channel <c>{prefix}:models:events</c>, JSON): the kind
/// (<see cref="PointerRoles.Active"/>, <see cref="PointerRoles.Shadow"/> or "metadata"), the survey, and the new pointer
/// (null when a shadow was cleared or for metadata changes). Workers treat any event as "check now".
/// </summary>
public sealed record RegistryEvent
{
    public required string Kind { get; init; }

    public string? Survey { get; init; }

    public ActivePointer? Pointer { get; init; }
}

/// <summary>A model package's two files, as stored.</summary>
public sealed record ModelPackageBytes(byte[] Manifest, byte[] Onnx);

internal static class RegistryJson
{
    // A metric that is NaN or infinite (an AUROC on a holdout of one class) is written as null ("undefined") and read back as
    // NaN, so a record can always be serialised (before, writing it threw after the pointer moved); records written until
    // 2026-12-07 hold it as "NaN"/"Infinity", which are still read (FigureJson).
    public static readonly JsonSerializerOptions Options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    }.WithFigures();

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>
    /// Parses a registry record read from <paramref name="source"/> (a file path or a Redis key, named in the error): text
    /// that is not valid JSON of the record's shape is a <see cref="RegistryException"/>, never a bare <see cref="JsonException"/>.
    /// </summary>
    public static T Deserialize<T>(string json, string source)
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(json, Options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new RegistryException($"registry record {source} is not valid JSON ({e.Message}): repair it, or remove it to forget what it held", e) { DamagedRecord = true };
        }

        if (value is null)
        {
            throw new RegistryException($"registry record {source} is empty (JSON null): repair it, or remove it to forget what it held") { DamagedRecord = true };
        }

        // Valid JSON of the right shape can still hold what no registry writes (a "sha256" of "", a null "classes", a null
        // "to"): every reader sliced, counted or printed those and ended in "unexpected error" (models list, status).
        if (Problem(value) is { } problem)
        {
            throw new RegistryException($"registry record {source} is not a valid {Kind(value)}: {problem}: repair it, or remove it to forget what it held") { DamagedRecord = true };
        }

        return value;
    }

    /// <summary>What a registry record read back holds that no registry writes, or null.</summary>
    internal static string? Problem(object record) => record switch
    {
        RegisteredModel m => Missing(("name", m.Name), ("version", m.Version), ("encoding", m.Encoding), ("pushedBy", m.PushedBy))
            ?? Sha256Problem(m.Sha256)
            ?? ListProblem("classes", m.Classes, allowNull: false)
            ?? ListProblem("surveys", m.Surveys, allowNull: true)
            ?? ListProblem("metadataSources", m.MetadataSources, allowNull: true)
            ?? (m.Metrics is null ? "\"metrics\" is null" : null),
        ActivePointer p => Missing(("name", p.Name), ("version", p.Version)) ?? Sha256Problem(p.Sha256),
        PromotionRecord r => (r.Action is null ? "\"action\" is null" : null)
            ?? (r.To is null ? "\"to\" is null" : null)
            ?? (r.By is null ? "\"by\" is null" : null)
            ?? (r.Metrics is null ? "\"metrics\" is null" : null),
        WorkerHeartbeat h => Missing(("workerId", h.WorkerId))
            ?? (h.Statistics is { DeadLetters: null } ? "\"statistics.deadLetters\" is null" : null),
        // Only what every reader relies on: a declaration written by an older release under an older naming rule stays readable.
        MetadataSourceDeclaration d => Missing(("survey", d.Survey), ("source", d.Source))
            ?? (d.Csv is null && d.RedisHash is null ? "neither \"csv\" nor \"redisHash\" is given" : null),
        RegistryEvent e => (e.Kind is null ? "\"kind\" is null" : null) ?? (e.Pointer is { } pointer ? Problem(pointer) : null),
        IEnumerable<MetadataSourceDeclaration> list => list.Select((d, i) => d is null ? $"entry {i + 1} is null" : Problem(d) is { } p ? $"entry {i + 1}: {p}" : null).FirstOrDefault(p => p is not null),
        _ => null,
    };

    private static string Kind(object record) => record switch
    {
        RegisteredModel => "model record",
        ActivePointer => "model pointer",
        PromotionRecord => "audit record",
        WorkerHeartbeat => "worker heartbeat",
        MetadataSourceDeclaration => "metadata source",
        RegistryEvent => "registry event",
        IEnumerable<MetadataSourceDeclaration> => "list of metadata sources",
        _ => "record",
    };

    private static string? Missing(params (string Field, string? Value)[] fields)
    {
        foreach (var (field, value) in fields)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return $"\"{field}\" is {(value is null ? "null" : "empty")}";
            }
        }

        return null;
    }

    private static string? Sha256Problem(string? sha256) =>
        sha256 is { Length: 64 } && sha256.All(char.IsAsciiHexDigit)
            ? null
            : sha256 is null ? "\"sha256\" is null" : $"\"sha256\" is not 64 hexadecimal digits ({sha256.Length} characters)";

    private static string? ListProblem(string field, IReadOnlyList<string>? list, bool allowNull) =>
        list is null
            ? allowNull ? null : $"\"{field}\" is null"
            : list.Any(string.IsNullOrWhiteSpace) ? $"\"{field}\" holds a null or empty entry" : null;
}

/// <summary>A registry operation failed: unknown model, hash mismatch, a concurrent change, an unreachable store.</summary>
public sealed class RegistryException : Exception
{
    /// <summary>A record the registry holds but cannot read (not JSON, or not of its kind): the store answered.</summary>
    public bool DamagedRecord { get; init; }

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
