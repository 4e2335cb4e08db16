using AlertBroker.Redis;
using AlertBroker.Worker.Kafka;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Hosting;

/// <summary>Configuration section <c>AlertBroker:Kafka</c> (environment: <c>AlertBroker__Kafka__BootstrapServers</c>, …).</summary>
public sealed class KafkaOptions
{
    public const string Section = "AlertBroker:Kafka";

    /// <summary>Comma-separated host:port list.</summary>
    public string BootstrapServers { get; set; } = string.Empty;

    public string GroupId { get; set; } = "alertbroker";

    /// <summary>Input topics. Alternatively (or in addition) <see cref="TopicPattern"/>.</summary>
    public List<string> Topics { get; set; } = [];

    /// <summary>A regular expression for topic subscription (librdkafka: the pattern starts with <c>^</c>), e.g. <c>^ztf_.*</c>.</summary>
    public string? TopicPattern { get; set; }

    public string OutputTopic { get; set; } = "alertbroker-classifications";

    public string DeadLetterTopic { get; set; } = "alertbroker-dead-letters";

    /// <summary>Where shadow models' classifications go (same schema, keyed by object id).</summary>
    public string ShadowTopic { get; set; } = "alertbroker-shadow-classifications";

    /// <summary>
    /// Largest payload a dead letter carries whole, in bytes (default 1,000,000: with the headers, under Kafka's default
    /// <c>message.max.bytes</c> of 1,048,588); the headers come on top of it. A larger message goes to the dead-letter
    /// topic as a reference — source topic, partition, offset, size, SHA-256 and the error in headers — with its first
    /// bytes up to this limit; the producer's <c>message.max.bytes</c> (with the headers) and a broker's "message too
    /// large" answer lower the size further, so a dead letter never blocks a partition.
    /// </summary>
    public int DeadLetterMaxBytes { get; set; } = 1_000_000;

    /// <summary>
    /// How long the worker waits at start for Kafka to answer a metadata request before it gives up with exit code 4 (the
    /// brokers unreachable, or refusing the connection or the credentials); 0 skips the check.
    /// </summary>
    public int StartTimeoutMs { get; set; } = 30_000;

    /// <summary>Most messages per batch.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Longest wait to fill a batch, milliseconds.</summary>
    public int BatchTimeoutMs { get; set; } = 100;

    /// <summary><c>auto.offset.reset</c> for a group without committed offsets: earliest or latest.</summary>
    public string AutoOffsetReset { get; set; } = "earliest";

    /// <summary>How often stored offsets are committed (they are also committed on revocation and shutdown).</summary>
    public int CommitIntervalMs { get; set; } = 1000;

    /// <summary>
    /// Any other librdkafka setting, passed through to the consumer and producers (e.g. <c>session.timeout.ms</c>). The
    /// security settings have typed keys below; a Properties entry that contradicts one of them is refused at start.
    /// </summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>librdkafka <c>security.protocol</c>; unset: plaintext (or a Properties entry). See <see cref="KafkaSecurity"/>.</summary>
    public KafkaSecurityProtocol? SecurityProtocol { get; set; }

    /// <summary>librdkafka <c>sasl.mechanism</c>, required with SaslPlaintext and SaslSsl.</summary>
    public KafkaSaslMechanism? SaslMechanism { get; set; }

    public string? SaslUsername { get; set; }

    /// <summary>Never logged.</summary>
    public string? SaslPassword { get; set; }

    /// <summary>PEM file (or directory) of the CA(s) that issued the brokers' certificates; unset: the system's trust store.</summary>
    public string? SslCaLocation { get; set; }

    /// <summary>PEM client certificate, for brokers that require one (mutual TLS); with <see cref="SslKeyLocation"/>.</summary>
    public string? SslCertificateLocation { get; set; }

    public string? SslKeyLocation { get; set; }

    /// <summary>Password of an encrypted <see cref="SslKeyLocation"/>. Never logged.</summary>
    public string? SslKeyPassword { get; set; }
}

/// <summary>Section <c>AlertBroker:Schemas</c>: where Confluent-wire schema ids are resolved, and how output is framed.</summary>
public sealed class SchemaOptions
{
    public const string Section = "AlertBroker:Schemas";

    /// <summary>
    /// Schema registry base URL (several may be separated by commas; https for TLS): input schema ids are resolved there,
    /// and the output schema is registered there (output then uses Confluent wire format).
    /// </summary>
    public string? RegistryUrl { get; set; }

    /// <summary>User name for the registry's HTTP basic authentication (none when empty).</summary>
    public string? RegistryUsername { get; set; }

    /// <summary>Password for the registry's HTTP basic authentication. Never logged.</summary>
    public string? RegistryPassword { get; set; }

    /// <summary>Directory of <c>&lt;id&gt;.avsc</c> files for input schema ids (when no registry is used).</summary>
    public string? SchemaDirectory { get; set; }
}

/// <summary>Which state store.</summary>
public enum StateStoreKind
{
    Redis,
    InMemory,
}

/// <summary>Section <c>AlertBroker:State</c>.</summary>
public sealed class StateOptions
{
    public const string Section = "AlertBroker:State";

    public StateStoreKind Store { get; set; } = StateStoreKind.Redis;

    /// <summary>
    /// Redis endpoints: <c>host:port</c>, or several comma-separated. User, password and TLS come from
    /// <c>AlertBroker:Redis</c> (<see cref="RedisOptions"/>).
    /// </summary>
    public string Redis { get; set; } = "127.0.0.1:6379";

    public string KeyPrefix { get; set; } = "ab";

    /// <summary>Forget an object this many hours after its last alert; 0 keeps objects forever.</summary>
    public double TtlHours { get; set; }

    /// <summary>Largest <see cref="TtlHours"/>: 10 years (a TimeSpan of much more overflows; NaN and infinity are refused too).</summary>
    internal const double MaxTtlHours = 87_600;

    /// <summary>
    /// Smallest <see cref="TtlHours"/> above 0: one second. Redis expires in whole milliseconds and reads 0 as "no expiry",
    /// so 1e-7 hours kept every object forever in Redis while the in-memory store forgot it at once.
    /// </summary>
    internal const double MinTtlHours = 1.0 / 3600;

    /// <summary>First and longest wait between retries while the store is unreachable, milliseconds.</summary>
    public int RetryInitialMs { get; set; } = 200;

    public int RetryMaxMs { get; set; } = 5000;

    /// <summary>
    /// Most observations kept per object; beyond it the oldest are dropped from the stored light curve and the scoring
    /// window (see <see cref="Pipeline.AlertBatchProcessor.MaxObservationsPerObject"/>). 0: no limit.
    /// </summary>
    public int MaxObservationsPerObject { get; set; } = Pipeline.AlertBatchProcessor.DefaultMaxObservationsPerObject;
}

/// <summary>
/// Section <c>AlertBroker:Alerts</c>: the value checks applied to every decoded alert (<see cref="AlertBroker.Alerts.AlertValidation"/>):
/// each survey's time window and the most observations one alert may carry.
/// </summary>
public sealed class AlertOptions
{
    public const string Section = "AlertBroker:Alerts";

    private static readonly AlertBroker.Alerts.AlertValidation s_defaults = AlertBroker.Alerts.AlertValidation.Default;

    public double ZtfMinMjd { get; set; } = s_defaults.ZtfMinMjd;

    public double ZtfMaxMjd { get; set; } = s_defaults.ZtfMaxMjd;

    public double LsstMinMjd { get; set; } = s_defaults.LsstMinMjd;

    public double LsstMaxMjd { get; set; } = s_defaults.LsstMaxMjd;

    /// <summary>Most observations (all kinds) one alert may carry; an alert over it is dead-lettered (<c>HistoryTooLong</c>). 0: no limit.</summary>
    public int MaxObservationsPerAlert { get; set; } = s_defaults.MaxObservationsPerAlert;

    /// <summary>
    /// Most bytes one message's compressed Avro blocks may inflate to, in all (default 16 MiB, about a hundred times a real
    /// alert with its cutouts); a message that would inflate further is dead-lettered as <c>TooLarge</c> after at most this
    /// much decompression, so a few kilobytes of compression bomb cost neither the decoder's 256 MiB block limit in memory
    /// nor seconds of a partition's time. 0: only that block limit.
    /// </summary>
    public long MaxInflatedBytes { get; set; } = DefaultMaxInflatedBytes;

    /// <summary>The default of <see cref="MaxInflatedBytes"/>: 16 MiB.</summary>
    public const long DefaultMaxInflatedBytes = 16 * 1024 * 1024;

    /// <summary>The decoder's limits under these settings: <see cref="MaxInflatedBytes"/> over the defaults.</summary>
    public AlertBroker.Avro.AvroLimits ToDecoderLimits() =>
        MaxInflatedBytes == 0 ? AlertBroker.Avro.AvroLimits.Default : AlertBroker.Avro.AvroLimits.Default with { MaxInflatedBytes = MaxInflatedBytes };

    /// <summary>The checks as the decoder takes them.</summary>
    public AlertBroker.Alerts.AlertValidation ToValidation() => new()
    {
        ZtfMinMjd = ZtfMinMjd,
        ZtfMaxMjd = ZtfMaxMjd,
        LsstMinMjd = LsstMinMjd,
        LsstMaxMjd = LsstMaxMjd,
        MaxObservationsPerAlert = MaxObservationsPerAlert,
    };
}

internal sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var problems = options.ToValidation().Problems().Select(p => "AlertBroker:Alerts: " + p).ToList();
        if (options.MaxInflatedBytes < 0)
        {
            problems.Add("AlertBroker:Alerts:MaxInflatedBytes must be 0 (only the decoder's 256 MiB block limit) or a number of bytes.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>
/// Section <c>AlertBroker:Candidates</c>, bound straight onto <see cref="AlertBroker.Alerts.CandidateFilter"/> (its
/// properties are the keys, its defaults the defaults): which alerts are transient candidates whose classifications carry
/// probabilities; the others are stored, scored and published without probabilities.
/// </summary>
internal sealed class CandidateFilterValidator : IValidateOptions<AlertBroker.Alerts.CandidateFilter>
{
    public const string Section = "AlertBroker:Candidates";

    public ValidateOptionsResult Validate(string? name, AlertBroker.Alerts.CandidateFilter options)
    {
        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems.Select(p => Section + ": " + p));
    }
}

/// <summary>Section <c>AlertBroker:Model</c>.</summary>
public sealed class ModelOptions
{
    public const string Section = "AlertBroker:Model";

    /// <summary>A model package directory (<c>model.json</c> + <c>model.onnx</c>), e.g. <c>models/ztf-gru/1.0.0</c>.</summary>
    public string? Path { get; set; }

    /// <summary>More model package directories (with <see cref="Path"/>, each serving the surveys its <c>model.json</c> declares; one model per survey).</summary>
    public List<string> Paths { get; set; } = [];

    /// <summary>
    /// With no path, no registry and no random model: pick, per survey, the newest package under this directory that
    /// declares the survey (preferring one whose metadata sources are all configured). <c>alertbroker run</c> sets it to the
    /// checkout's <c>models/</c>.
    /// </summary>
    public string? SearchDirectory { get; set; }

    /// <summary>No trained model: export one with random weights into a temporary directory (demo and smoke tests only).</summary>
    public bool AllowRandom { get; set; }

    /// <summary>
    /// Follow the model registry in this Redis (endpoints, as <see cref="StateOptions.Redis"/>; user, password and TLS from
    /// <c>AlertBroker:Redis</c>) instead of a fixed <see cref="Path"/>: the worker scores with the registry's active
    /// model and hot-swaps to each promoted one between batches.
    /// </summary>
    public string? RegistryRedis { get; set; }

    /// <summary>Follow a local directory registry (embedded mode) instead of a fixed <see cref="Path"/>.</summary>
    public string? RegistryDirectory { get; set; }

    /// <summary>Key prefix of the Redis registry.</summary>
    public string RegistryPrefix { get; set; } = "alertbroker";

    /// <summary>How often the registry pointer is checked even without a notification.</summary>
    public int RegistryPollSeconds { get; set; } = 10;

    /// <summary>
    /// Where ONNX Runtime runs the model: <c>Cpu</c> (default) or <c>Cuda</c>. Cuda needs a build with
    /// <c>-p:OnnxRuntimeFlavour=Gpu</c> (refused at start otherwise) and CUDA 13 + cuDNN 9 on the host (the model load fails
    /// otherwise, exit 3); there is no silent fallback to the CPU.
    /// </summary>
    public string ExecutionProvider { get; set; } = "Cpu";

    /// <summary>The CUDA device ordinal when <see cref="ExecutionProvider"/> is Cuda.</summary>
    public int CudaDeviceId { get; set; }

    internal bool UsesCuda => string.Equals(ExecutionProvider, "Cuda", StringComparison.OrdinalIgnoreCase);

    /// <summary>The ONNX Runtime session options these settings ask for.</summary>
    public AlertBroker.Model.Onnx.OnnxSessionOptions ToSessionOptions() => new() { UseCuda = UsesCuda, CudaDeviceId = CudaDeviceId };

    internal bool UsesRegistry => !string.IsNullOrWhiteSpace(RegistryRedis) || !string.IsNullOrWhiteSpace(RegistryDirectory);

    /// <summary><see cref="Path"/> and <see cref="Paths"/>, non-empty ones.</summary>
    internal List<string> AllPaths => [.. new[] { Path }.Concat(Paths).Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p!)];
}

/// <summary>
/// Section <c>AlertBroker:Metadata</c>: where the worker finds the metadata models need (host redshift, E(B−V), …) and the
/// class labels shadow statistics use, per survey and source name:
/// <c>AlertBroker:Metadata:Sources:SURVEY:SOURCE:Csv</c> (+ <c>Column</c>) or <c>…:RedisHash</c>. A worker following a
/// registry also uses the sources the registry declares (<c>alertbroker models metadata set</c>); these settings win.
/// </summary>
public sealed class MetadataOptions
{
    public const string Section = "AlertBroker:Metadata";

    /// <summary>Redis endpoint(s) holding the hash sources; default: the state store's Redis (lookups then share its read round trip).</summary>
    public string? Redis { get; set; }

    /// <summary>Survey → source name (<c>host-redshift</c>, <c>mw-ebv</c>, <c>label</c>, …) → where.</summary>
    public Dictionary<string, Dictionary<string, MetadataSourceOptions>> Sources { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every configured source as (survey, source, csv, column, redis hash), survey names lower-cased.</summary>
    internal IEnumerable<(string Survey, string Source, string? Csv, string? Column, string? RedisHash)> Flatten()
    {
        foreach (var (survey, sources) in Sources)
        {
            foreach (var (source, o) in sources)
            {
                yield return (survey.ToLowerInvariant(), source.ToLowerInvariant(), string.IsNullOrWhiteSpace(o.Csv) ? null : o.Csv, string.IsNullOrWhiteSpace(o.Column) ? null : o.Column, string.IsNullOrWhiteSpace(o.RedisHash) ? null : o.RedisHash);
            }
        }
    }
}

/// <summary>One metadata source: a CSV file (object id column + <see cref="Column"/>) or a Redis hash keyed by object id.</summary>
public sealed class MetadataSourceOptions
{
    /// <summary>A CSV file with a header row: object ids in <c>object_id</c> (or the first column), values in <see cref="Column"/>.</summary>
    public string? Csv { get; set; }

    /// <summary>The CSV column holding the values; default: the source name.</summary>
    public string? Column { get; set; }

    /// <summary>A Redis hash: field = object id, value = the quantity (or class name for <c>label</c>).</summary>
    public string? RedisHash { get; set; }
}

/// <summary>Section <c>AlertBroker:Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "AlertBroker:Telemetry";

    /// <summary>Port of the /healthz, /readyz and /metrics endpoints; 0 disables them.</summary>
    public int HttpPort { get; set; } = 9464;

    /// <summary>Address they listen on (loopback by default).</summary>
    public string HttpAddress { get; set; } = "127.0.0.1";

    /// <summary>OTLP endpoint for metrics and traces (e.g. http://collector:4317); none when empty.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>
    /// The host names a request may name in its <c>Host</c> header (without the port), separated by <c>;</c>: <c>*</c> for
    /// any, <c>*.example.org</c> for any name under it, IPv6 addresses in brackets. Any other request is answered 400.
    /// Empty (the default): on a loopback <see cref="HttpAddress"/>, <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c>
    /// only, so that a web page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) cannot read the pages,
    /// the API or the metrics through a browser; on any other address, any host (give the names clients use to restrict it).
    /// A request naming an IP address or <c>localhost</c> is answered whatever the list (the kubelet's probes and
    /// Prometheus name the pod's IP; DNS rebinding sends a name).
    /// </summary>
    public string? AllowedHosts { get; set; }

    /// <summary>The hosts answered: <see cref="AllowedHosts"/> split, or the default for <see cref="HttpAddress"/>.</summary>
    public IReadOnlyList<string> AllowedHostList()
    {
        var given = SplitHosts(AllowedHosts);
        if (given.Count > 0)
        {
            return given;
        }

        return System.Net.IPAddress.TryParse(HttpAddress, out var ip) && System.Net.IPAddress.IsLoopback(ip)
            ? ["localhost", "127.0.0.1", "[::1]"]
            : ["*"];
    }

    internal static List<string> SplitHosts(string? hosts) =>
        (hosts ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>Why <paramref name="host"/> cannot be an <see cref="AllowedHosts"/> entry, or null when it can.</summary>
    internal static string? HostProblem(string host)
    {
        if (host == "*")
        {
            return null;
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            return System.Net.IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? null
                : "is not an IPv6 address in brackets";
        }

        if (System.Net.IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return "is an IPv6 address: write it in brackets ([" + host + "])";
        }

        var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
        return Uri.CheckHostName(name) is UriHostNameType.Dns or UriHostNameType.IPv4 && !name.Contains('*', StringComparison.Ordinal)
            ? null
            : "is not a host name (no scheme, port or path: example.org, *.example.org, 10.0.0.5, [::1] or *)";
    }
}

/// <summary>Start-time checks with messages that say what to set.</summary>
internal sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            problems.Add("AlertBroker:Kafka:BootstrapServers is required (e.g. AlertBroker__Kafka__BootstrapServers=broker:9092 or --bootstrap-servers).");
        }
        else if (KafkaBootstrapServers.Problem(options.BootstrapServers) is { } bootstrapProblem)
        {
            problems.Add($"AlertBroker:Kafka:BootstrapServers is not a list of host:port: {bootstrapProblem}.");
        }
        else if (KafkaBootstrapServers.Overridden(options.Properties, options.BootstrapServers, options.GroupId) is { } overridden)
        {
            var key = overridden.Group ? "GroupId" : "BootstrapServers";
            var typed = overridden.Group ? options.GroupId : options.BootstrapServers;
            problems.Add($"AlertBroker:Kafka:Properties:{overridden.Name} ({overridden.Value}) contradicts AlertBroker:Kafka:{key} ({typed}): set it in one place only (AlertBroker:Kafka:{key}).");
        }

        if (options.Topics.Count == 0 && string.IsNullOrWhiteSpace(options.TopicPattern))
        {
            problems.Add("Set AlertBroker:Kafka:Topics (a list) or AlertBroker:Kafka:TopicPattern (a regular expression starting with ^).");
        }

        foreach (var topic in options.Topics)
        {
            if (!Kafka.KafkaTopicName.IsValid(topic))
            {
                problems.Add($"AlertBroker:Kafka:Topics: '{topic}' is not a Kafka topic name ({Kafka.KafkaTopicName.Rule}).");
            }
        }

        System.Text.RegularExpressions.Regex? pattern = null;
        if (options.TopicPattern is { Length: > 0 } p)
        {
            if (!p.StartsWith('^'))
            {
                problems.Add("AlertBroker:Kafka:TopicPattern must start with ^ (librdkafka treats only such names as regular expressions).");
            }
            else
            {
                try
                {
                    pattern = new System.Text.RegularExpressions.Regex(p, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                }
                catch (ArgumentException e)
                {
                    problems.Add($"AlertBroker:Kafka:TopicPattern '{p}' is not a valid regular expression: {e.Message}");
                }

                if (pattern is not null && PosixTopicPattern.Problem(p) is { } posix)
                {
                    problems.Add($"AlertBroker:Kafka:TopicPattern '{p}': librdkafka matches topics with POSIX extended regular expressions, not .NET's: {posix}.");
                    pattern = null;
                }
            }
        }

        // A topic the worker writes to that it also reads loops: every dead letter (or classification) is consumed again,
        // fails again and is written again, without end.
        foreach (var (key, topic) in new[] { ("OutputTopic", options.OutputTopic), ("DeadLetterTopic", options.DeadLetterTopic), ("ShadowTopic", options.ShadowTopic) })
        {
            if (string.IsNullOrWhiteSpace(topic))
            {
                continue;
            }

            if (!Kafka.KafkaTopicName.IsValid(topic))
            {
                problems.Add($"AlertBroker:Kafka:{key}: '{topic}' is not a Kafka topic name ({Kafka.KafkaTopicName.Rule}).");
            }
            else if (options.Topics.Contains(topic, StringComparer.Ordinal))
            {
                problems.Add($"AlertBroker:Kafka:{key} '{topic}' is also an input topic (AlertBroker:Kafka:Topics): the worker would read back what it writes, without end. Choose another topic.");
            }
            else if (pattern is not null && MatchesPattern(pattern, topic) is var matches && matches != false)
            {
                problems.Add(matches is null
                    ? $"AlertBroker:Kafka:TopicPattern '{options.TopicPattern}' took too long (over 1 s) to check against AlertBroker:Kafka:{key} '{topic}': whether the worker would read back what it writes cannot be told. Use a simpler pattern."
                    : $"AlertBroker:Kafka:{key} '{topic}' matches AlertBroker:Kafka:TopicPattern '{options.TopicPattern}': the worker would read back what it writes, without end. Choose another topic or a narrower pattern.");
            }
        }

        // Two kinds of output in one topic: a reader of classifications would take dead letters (or a shadow model's
        // classifications) for the active model's.
        (string Key, string Topic)[] outputs = [("OutputTopic", options.OutputTopic), ("DeadLetterTopic", options.DeadLetterTopic), ("ShadowTopic", options.ShadowTopic)];
        for (var i = 0; i < outputs.Length; i++)
        {
            for (var j = i + 1; j < outputs.Length; j++)
            {
                if (!string.IsNullOrWhiteSpace(outputs[i].Topic) && string.Equals(outputs[i].Topic, outputs[j].Topic, StringComparison.Ordinal))
                {
                    problems.Add($"AlertBroker:Kafka:{outputs[i].Key} and {outputs[j].Key} are both '{outputs[i].Topic}': a reader of one would take the other's messages for its own. Give each its own topic.");
                }
            }
        }

        if (string.IsNullOrWhiteSpace(options.GroupId))
        {
            problems.Add("AlertBroker:Kafka:GroupId is required.");
        }

        if (string.IsNullOrWhiteSpace(options.OutputTopic) || string.IsNullOrWhiteSpace(options.DeadLetterTopic) || string.IsNullOrWhiteSpace(options.ShadowTopic))
        {
            problems.Add("AlertBroker:Kafka:OutputTopic, DeadLetterTopic and ShadowTopic must be set.");
        }

        if (options.BatchSize is < 1 or > 100_000)
        {
            problems.Add("AlertBroker:Kafka:BatchSize must be between 1 and 100000.");
        }

        if (options.BatchTimeoutMs is < 1 or > 60_000)
        {
            problems.Add("AlertBroker:Kafka:BatchTimeoutMs must be between 1 and 60000.");
        }

        if (options.AutoOffsetReset is not ("earliest" or "latest"))
        {
            problems.Add("AlertBroker:Kafka:AutoOffsetReset must be earliest or latest.");
        }

        if (options.DeadLetterMaxBytes < 4096)
        {
            problems.Add("AlertBroker:Kafka:DeadLetterMaxBytes must be at least 4096 (bytes of a dead letter sent whole).");
        }

        if (options.StartTimeoutMs < 0)
        {
            problems.Add("AlertBroker:Kafka:StartTimeoutMs must be 0 (no check) or positive.");
        }

        // Offsets are stored after each batch and committed by librdkafka's auto-commit every CommitIntervalMs; 0 would
        // turn that off, leaving commits to revocation and shutdown only (a crash would replay everything since the start).
        if (options.CommitIntervalMs is < 1 or > 86_400_000)
        {
            problems.Add("AlertBroker:Kafka:CommitIntervalMs must be between 1 and 86400000 (milliseconds between commits of processed offsets).");
        }

        // The settings librdkafka will get, checked by librdkafka itself: building a client applies every property (an
        // unknown name, a bad value such as security.protocol=bogus, or a combination it refuses fails here, before anything
        // is consumed). Building connects to nothing; the clients are disposed at once. Not when the typed security settings
        // are wrong (KafkaSecurityValidator says which and why): librdkafka would only add its own wording of the same
        // mistake ("ssl.ca.location failed: … BIO lib" beside "SslCaLocation: file … not found", or "No provider for SASL
        // mechanism GSSAPI" for a mechanism left out).
        if (problems.Count == 0 && KafkaSecurity.Validate(options).Count == 0 && Kafka.KafkaClientConfigCheck.Check(options) is { } refused)
        {
            problems.Add("AlertBroker:Kafka: librdkafka refuses the client configuration: " + refused);
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    // Null when the match timed out (a pattern with catastrophic backtracking): refused, as a match could not be ruled out.
    // Until 2026-12-07 a timeout counted as no match, and such a pattern subscribed to the worker's own output topic.
    private static bool? MatchesPattern(System.Text.RegularExpressions.Regex pattern, string topic)
    {
        try
        {
            return pattern.IsMatch(topic);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return null;
        }
    }
}

internal sealed class SchemaOptionsValidator : IValidateOptions<SchemaOptions>
{
    public ValidateOptionsResult Validate(string? name, SchemaOptions options)
    {
        var problems = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.RegistryUrl) && !Schemas.SchemaRegistryClients.IsValidUrl(options.RegistryUrl))
        {
            problems.Add("AlertBroker:Schemas:RegistryUrl must be an absolute http:// or https:// URL (several separated by commas).");
        }
        else if (Schemas.SchemaRegistryClients.HasUserInfo(options.RegistryUrl))
        {
            problems.Add(Schemas.SchemaRegistryClients.UserInfoProblem("AlertBroker:Schemas:RegistryUrl"));
        }

        if (!string.IsNullOrEmpty(options.RegistryPassword) && string.IsNullOrEmpty(options.RegistryUsername))
        {
            problems.Add("AlertBroker:Schemas:RegistryPassword is set without AlertBroker:Schemas:RegistryUsername.");
        }

        if (!string.IsNullOrEmpty(options.RegistryUsername) && string.IsNullOrWhiteSpace(options.RegistryUrl))
        {
            problems.Add("AlertBroker:Schemas:RegistryUsername is set without AlertBroker:Schemas:RegistryUrl.");
        }

        // With both, the registry was used and the directory ignored without a word.
        if (!string.IsNullOrWhiteSpace(options.RegistryUrl) && !string.IsNullOrWhiteSpace(options.SchemaDirectory))
        {
            problems.Add("AlertBroker:Schemas:RegistryUrl (--schema-registry) and SchemaDirectory (--schema-dir) are two sources of schemas: set one.");
        }

        // A missing directory would be accepted and every Confluent-wire alert then dead-lettered as SchemaNotFound.
        if (!string.IsNullOrWhiteSpace(options.SchemaDirectory) && !Directory.Exists(options.SchemaDirectory))
        {
            problems.Add($"AlertBroker:Schemas:SchemaDirectory '{options.SchemaDirectory}' is not a directory.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

internal sealed class ModelOptionsValidator : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        if (!string.Equals(options.ExecutionProvider, "Cpu", StringComparison.OrdinalIgnoreCase) && !options.UsesCuda)
        {
            return ValidateOptionsResult.Fail($"AlertBroker:Model:ExecutionProvider '{options.ExecutionProvider}' must be Cpu or Cuda.");
        }

        if (options.UsesCuda && !AlertBroker.Model.Onnx.OnnxRuntime.IsGpuBuild)
        {
            return ValidateOptionsResult.Fail(
                "AlertBroker:Model:ExecutionProvider is Cuda but this build carries the CPU-only ONNX Runtime (Microsoft.ML.OnnxRuntime); "
                + "build with -p:OnnxRuntimeFlavour=Gpu (CUDA 13 and cuDNN 9 on the host) or use Cpu.");
        }

        if (options.CudaDeviceId < 0)
        {
            return ValidateOptionsResult.Fail("AlertBroker:Model:CudaDeviceId must be zero or positive.");
        }

        if (options.UsesRegistry)
        {
            if (RedisOptionsValidator.CheckEndpoints(ModelOptions.Section + ":RegistryRedis", options.RegistryRedis) is { } endpointProblem)
            {
                return ValidateOptionsResult.Fail(endpointProblem);
            }

            if (string.IsNullOrEmpty(options.RegistryPrefix) || options.RegistryPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
            {
                return ValidateOptionsResult.Fail("AlertBroker:Model:RegistryPrefix must be non-empty and contain no { or }: the registry puts it in braces itself, as the Redis Cluster hash tag of all its keys.");
            }

            if (string.IsNullOrWhiteSpace(options.RegistryRedis) && !Directory.Exists(options.RegistryDirectory))
            {
                return ValidateOptionsResult.Fail(File.Exists(options.RegistryDirectory)
                    ? $"AlertBroker:Model:RegistryDirectory '{options.RegistryDirectory}' is a file, not a registry directory."
                    : $"AlertBroker:Model:RegistryDirectory '{options.RegistryDirectory}' does not exist (give the directory of an existing local model registry).");
            }

            return !string.IsNullOrWhiteSpace(options.RegistryRedis) && !string.IsNullOrWhiteSpace(options.RegistryDirectory)
                ? ValidateOptionsResult.Fail("AlertBroker:Model: set RegistryRedis or RegistryDirectory, not both.")
                : options.RegistryPollSeconds <= 0
                    ? ValidateOptionsResult.Fail("AlertBroker:Model:RegistryPollSeconds must be positive.")
                    : ValidateOptionsResult.Success;
        }

        var paths = options.AllPaths;
        if (paths.Count == 0)
        {
            return options.AllowRandom || !string.IsNullOrWhiteSpace(options.SearchDirectory)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("AlertBroker:Model:Path is required: a model package directory holding model.json and model.onnx (or --model DIR).");
        }

        var missing = paths.Where(p => !Directory.Exists(p)).Select(p => $"AlertBroker:Model:{(p == options.Path ? "Path" : "Paths")} '{p}' is not a directory.").ToList();
        return missing.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(missing);
    }
}

internal sealed class MetadataOptionsValidator : IValidateOptions<MetadataOptions>
{
    public ValidateOptionsResult Validate(string? name, MetadataOptions options)
    {
        var problems = new List<string>();
        foreach (var (survey, source, csv, _, hash) in options.Flatten())
        {
            var key = $"{MetadataOptions.Section}:Sources:{survey}:{source}";
            if (!AlertBroker.Registry.RegistryNames.IsSurvey(survey))
            {
                problems.Add($"{key}: '{survey}' is not a survey name (lower-case letters, digits and '-', e.g. ztf, lsst).");
            }

            if ((csv is null) == (hash is null))
            {
                problems.Add($"{key}: set exactly one of Csv (a file) or RedisHash (a key).");
            }
            else if (csv is not null && !File.Exists(csv))
            {
                problems.Add($"{key}:Csv '{csv}' is not a file.");
            }
        }

        if (RedisOptionsValidator.CheckEndpoints(MetadataOptions.Section + ":Redis", options.Redis) is { } endpointProblem)
        {
            problems.Add(endpointProblem);
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

internal sealed class StateOptionsValidator : IValidateOptions<StateOptions>
{
    public ValidateOptionsResult Validate(string? name, StateOptions options)
    {
        var problems = new List<string>();
        if (options.Store == StateStoreKind.Redis && string.IsNullOrWhiteSpace(options.Redis))
        {
            // Typically AlertBroker__State__Redis set but empty (a template whose variable was not filled in): the key and
            // the command-line option are both named, as either may be where the operator meant to give it.
            problems.Add("AlertBroker:State:Redis is empty but Store is Redis: give the Redis endpoint (host:port, e.g. 127.0.0.1:6379) "
                + "with --redis or AlertBroker__State__Redis (a single worker can instead keep state in memory: run --in-memory, AlertBroker:State:Store=InMemory).");
        }
        else if (options.Store == StateStoreKind.Redis && RedisOptionsValidator.CheckEndpoints(StateOptions.Section + ":Redis", options.Redis) is { } endpointProblem)
        {
            problems.Add(endpointProblem);
        }

        if (string.IsNullOrWhiteSpace(options.KeyPrefix))
        {
            problems.Add("AlertBroker:State:KeyPrefix must not be empty.");
        }
        else if (options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            problems.Add("AlertBroker:State:KeyPrefix must not contain { or }: in a Redis Cluster a hash tag would put every object in one slot.");
        }

        if (!(options.TtlHours is 0 or (>= StateOptions.MinTtlHours and <= StateOptions.MaxTtlHours)))
        {
            problems.Add($"AlertBroker:State:TtlHours must be 0 (keep forever) or a number of hours from 1 second (0.000278) up to {StateOptions.MaxTtlHours} (10 years).");
        }

        if (options.RetryInitialMs < 1 || options.RetryMaxMs < options.RetryInitialMs)
        {
            problems.Add("AlertBroker:State:RetryInitialMs must be positive and not above RetryMaxMs.");
        }

        if (options.MaxObservationsPerObject < 0)
        {
            problems.Add("AlertBroker:State:MaxObservationsPerObject must be 0 (no limit) or positive.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary><c>AlertBroker:Redis</c>: <see cref="RedisOptions.Validate"/>.</summary>
internal sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>A problem with a Redis endpoint string, or null when it parses (the message never shows a password).</summary>
    internal static string? CheckEndpoints(string key, string? endpoints)
    {
        if (string.IsNullOrWhiteSpace(endpoints))
        {
            return null;
        }

        try
        {
            RedisConnectionFactory.CreateConfiguration(endpoints);
            return null;
        }
        catch (ArgumentException e)
        {
            return key + ": " + e.Message;
        }
    }
}

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        if (options.HttpPort is < 0 or > 65535)
        {
            return ValidateOptionsResult.Fail("AlertBroker:Telemetry:HttpPort must be 0 (off) or a port number.");
        }

        if (!System.Net.IPAddress.TryParse(options.HttpAddress, out _))
        {
            return ValidateOptionsResult.Fail("AlertBroker:Telemetry:HttpAddress must be an IP address (127.0.0.1 keeps the endpoints on loopback).");
        }

        foreach (var host in TelemetryOptions.SplitHosts(options.AllowedHosts))
        {
            if (TelemetryOptions.HostProblem(host) is { } problem)
            {
                return ValidateOptionsResult.Fail($"AlertBroker:Telemetry:AllowedHosts: '{host}' {problem}.");
            }
        }

        // "collector:4317" parses as an absolute URI with scheme "collector"; the OTLP exporter needs http or https.
        return options.OtlpEndpoint is { Length: > 0 } e
            && !(Uri.TryCreate(e, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0)
            ? ValidateOptionsResult.Fail($"AlertBroker:Telemetry:OtlpEndpoint '{e}' must be an http:// or https:// URL (e.g. http://collector:4317).")
            : Schemas.SchemaRegistryClients.HasUserInfo(options.OtlpEndpoint)
            // Logged at start and in export errors (until 2026-12-07 accepted; the chart refused it already).
            ? ValidateOptionsResult.Fail("AlertBroker:Telemetry:OtlpEndpoint holds a user name or password: give the collector's credentials as a header in OTEL_EXPORTER_OTLP_HEADERS (e.g. Authorization=Basic …, from a secret), not in the URL.")
            : ValidateOptionsResult.Success;
    }
}
