using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AlertBroker.Alerts;
using AlertBroker.Worker.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// The settings the worker reads agree with what operators are told and what the Helm chart lets them set: every property
/// of every options class the worker binds has a row in docs/worker.md's settings table (the chart's tests then require a
/// way to set each documented key from the chart), and a value the worker refuses at start is refused by the chart's
/// values.schema.json too, so a bad value fails at <c>helm install</c> rather than as a crash-looping pod.
/// </summary>
public sealed partial class DocumentedSettingsTests
{
    [Fact]
    public void EveryBoundSetting_HasARowInTheSettingsTable()
    {
        var documented = DocumentedKeys();
        Assert.True(documented.Count >= 25, "docs/worker.md lists " + documented.Count + " keys; the table was not found?");

        var missing = new List<string>();
        foreach (var (section, type) in ConfigurationKeyCheck.Sections)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is { IsPublic: true } && !documented.Contains(section + ":" + property.Name))
                {
                    missing.Add(section + ":" + property.Name);
                }
            }
        }

        Assert.True(missing.Count == 0, "settings the worker reads that docs/worker.md does not list: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryDocumentedSetting_IsOneTheWorkerReads()
    {
        var unknown = DocumentedKeys().Where(k => !IsBound(k)).ToList();
        Assert.True(unknown.Count == 0, "keys in docs/worker.md that no options class binds: " + string.Join(", ", unknown));
    }

    // docs/worker.md's /readyz row lacked schema_registry: a 503 naming it was a check the operator had not been told of.
    [Fact]
    public void EveryHealthCheck_IsInItsEndpointsRowOfTheDocs()
    {
        var services = new ServiceCollection();
        services.AddHealthChecks().AddAlertBrokerWorkerChecks();
        var registrations = services.BuildServiceProvider().GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        var root = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("repository root not found");
        var rows = File.ReadLines(Path.Combine(root, "docs", "worker.md")).Where(l => l.StartsWith("| `/", StringComparison.Ordinal)).ToList();

        Assert.Equal(5, registrations.Count);
        foreach (var check in registrations)
        {
            var endpoint = check.Tags.Contains(WorkerHealthChecks.ReadyTag) ? "/readyz" : "/healthz";
            var row = Assert.Single(rows, r => r.StartsWith($"| `{endpoint}` |", StringComparison.Ordinal));
            Assert.True(row.Split('|')[2].Contains($"`{check.Name}`", StringComparison.Ordinal), $"docs/worker.md's {endpoint} row does not list the check {check.Name}: {row}");
        }
    }

    // The metric exported a kind=Archive series (a failure of reading tar/gzip files, which the worker never does) and the
    // docs' list of dead-letter kinds lacked HistoryTooLong, which the worker sends.
    [Fact]
    public void DeadLetterKinds_AreTheDocumentedOnes()
    {
        var root = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("repository root not found");
        var text = File.ReadAllText(Path.Combine(root, "docs", "worker.md"));
        var list = Regex.Match(text, @"`alertbroker\.error\.kind` \(([^)]*)\)");
        Assert.True(list.Success, "docs/worker.md no longer lists the dead-letter kinds after `alertbroker.error.kind`");
        var documented = Regex.Matches(list.Groups[1].Value, "`([A-Za-z]+)`").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);

        Assert.Equal(documented, Telemetry.WorkerMetrics.DeadLetterKinds.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(nameof(AlertErrorKind.Archive), Telemetry.WorkerMetrics.DeadLetterKinds);
        Assert.Contains(nameof(AlertErrorKind.HistoryTooLong), Telemetry.WorkerMetrics.DeadLetterKinds);
    }

    /// <summary>Values the worker refuses at start (exit 2); the chart's schema must refuse each of them as well.</summary>
    public static TheoryData<string, string> RefusedValues => new()
    {
        { "Kafka:GroupId", "\"\"" },
        { "Kafka:TopicPattern", "\"ztf_.*\"" },
        { "Kafka:OutputTopic", "\"\"" },
        { "Kafka:BatchSize", "0" },
        { "Kafka:BatchSize", "100001" },
        { "Kafka:BatchTimeoutMs", "0" },
        { "Kafka:BatchTimeoutMs", "60001" },
        { "Kafka:AutoOffsetReset", "\"smallest\"" },
        { "Kafka:CommitIntervalMs", "0" },
        { "Kafka:CommitIntervalMs", "86400001" },
        { "Kafka:DeadLetterMaxBytes", "4095" },
        { "Kafka:StartTimeoutMs", "-1" },
        { "Schemas:RegistryUrl", "\"schema-registry:8081\"" },
        { "State:KeyPrefix", "\"\"" },
        { "State:KeyPrefix", "\"{ab}\"" },
        { "State:TtlHours", "-1" },
        { "State:TtlHours", "1e-7" },
        { "State:TtlHours", "87601" },
        { "State:RetryInitialMs", "0" },
        { "State:MaxObservationsPerObject", "-1" },
        { "Alerts:MaxObservationsPerAlert", "-1" },
        { "Alerts:MaxInflatedBytes", "-1" },
        { "Model:RegistryPrefix", "\"\"" },
        { "Model:RegistryPrefix", "\"{alertbroker}\"" },
        { "Model:RegistryPollSeconds", "0" },
        { "Model:ExecutionProvider", "\"Gpu\"" },
        { "Model:CudaDeviceId", "-1" },
        { "Candidates:ZtfMinRealBogus", "1.5" },
        { "Candidates:LsstMinReliability", "-0.1" },
        { "Candidates:MinStarScore", "2" },
        { "Candidates:SolarSystemRadiusArcsec", "3601" },
        { "Candidates:StarRadiusArcsec", "-1" },
        { "Candidates:MinDetections", "0" },
        { "Candidates:MinDetections", "1001" },
        { "Telemetry:OtlpEndpoint", "\"collector:4317\"" },
        { "Telemetry:AllowedHosts", "\"broker.example.org:9464\"" },
        { "Telemetry:AllowedHosts", "\"http://broker.example.org\"" },
        { "Web:RecentClassifications", "100001" },
        { "Web:RefreshSeconds", "0.1" },
        { "Web:MaxStreamClients", "0" },
    };

    [Theory]
    [MemberData(nameof(RefusedValues))]
    public void ValueTheWorkerRefuses_TheChartSchemaRefusesToo(string key, string json)
    {
        var value = JsonNode.Parse(json);
        var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : json;
        var problems = WorkerProblems(key, text);
        Assert.True(problems.Count > 0, $"the worker accepts {key}={json}: not a refused value (fix the test)");

        var schema = ChartSchemaProperty(key);
        Assert.True(schema is not null, $"values.schema.json has no config.{key.Replace(':', '.')}: the chart refuses every value of it");
        Assert.True(
            SchemaRefuses(schema, value),
            $"the worker refuses {key}={json} ({string.Join(" ", problems)}) but the chart's values.schema.json accepts it: {schema.ToJsonString()}");
    }

    [Fact]
    public void BaselineConfiguration_AcceptedByTheWorker()
    {
        // The refusals above are each that one value's: the rest of the configuration passes.
        Assert.Empty(WorkerProblems(null, null));
    }

    private static bool IsBound(string key)
    {
        var parts = key.Split(':');
        return ConfigurationKeyCheck.Sections.TryGetValue(parts[0], out var type) && type.GetProperty(parts[1]) is { SetMethod.IsPublic: true };
    }

    /// <summary>The problems the worker's validators find with a valid configuration in which <paramref name="key"/> is <paramref name="value"/>.</summary>
    private static List<string> WorkerProblems(string? key, string? value)
    {
        var registry = Directory.CreateTempSubdirectory("ab-settings-registry-").FullName;
        try
        {
            var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["AlertBroker:Kafka:BootstrapServers"] = "broker:9092",
                ["AlertBroker:Kafka:Topics:0"] = "ztf",
                ["AlertBroker:Model:RegistryDirectory"] = registry,
            };
            if (key is not null)
            {
                settings["AlertBroker:" + key] = value;
            }

            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            T Bind<T>(string section)
                where T : new() => configuration.GetSection(section).Get<T>() ?? new T();

            var problems = new List<string>();
            void Add(ValidateOptionsResult result)
            {
                if (result.Failed)
                {
                    problems.AddRange(result.Failures);
                }
            }

            Add(new KafkaOptionsValidator().Validate(null, Bind<KafkaOptions>(KafkaOptions.Section)));
            Add(new SchemaOptionsValidator().Validate(null, Bind<SchemaOptions>(SchemaOptions.Section)));
            Add(new StateOptionsValidator().Validate(null, Bind<StateOptions>(StateOptions.Section)));
            Add(new AlertOptionsValidator().Validate(null, Bind<AlertOptions>(AlertOptions.Section)));
            Add(new CandidateFilterValidator().Validate(null, Bind<CandidateFilter>(CandidateFilterValidator.Section)));
            Add(new ModelOptionsValidator().Validate(null, Bind<ModelOptions>(ModelOptions.Section)));
            Add(new TelemetryOptionsValidator().Validate(null, Bind<TelemetryOptions>(TelemetryOptions.Section)));
            Add(new WebOptionsValidator().Validate(null, Bind<WebOptions>(WebOptions.Section)));
            return problems;
        }
        finally
        {
            Directory.Delete(registry, recursive: true);
        }
    }

    private static JsonObject? ChartSchemaProperty(string key)
    {
        var root = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("repository root not found");
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "helm", "alertbroker", "values.schema.json")))!;
        var parts = key.Split(':');
        return schema["properties"]?["config"]?["properties"]?[parts[0]]?["properties"]?[parts[1]] as JsonObject;
    }

    /// <summary>The keywords values.schema.json uses for scalars: type, enum, minimum, maximum, minLength, pattern, anyOf.</summary>
    private static bool SchemaRefuses(JsonObject schema, JsonNode? value)
    {
        if (schema["anyOf"] is JsonArray anyOf)
        {
            return anyOf.All(s => s is JsonObject o && SchemaRefuses(o, value));
        }

        var kind = value?.GetValueKind();
        if (schema["type"] is { } type)
        {
            var types = type is JsonArray a ? a.Select(t => t!.GetValue<string>()).ToList() : [type.GetValue<string>()];
            var isInteger = kind == System.Text.Json.JsonValueKind.Number && value!.GetValue<double>() % 1 == 0;
            var matches = types.Any(t => t switch
            {
                "string" => kind == System.Text.Json.JsonValueKind.String,
                "integer" => isInteger,
                "number" => kind == System.Text.Json.JsonValueKind.Number,
                "boolean" => kind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False,
                _ => false,
            });
            if (!matches)
            {
                return true;
            }
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(e => JsonNode.DeepEquals(e, value)))
        {
            return true;
        }

        if (kind == System.Text.Json.JsonValueKind.Number)
        {
            var number = value!.GetValue<double>();
            return (schema["minimum"] is { } min && number < min.GetValue<double>()) || (schema["maximum"] is { } max && number > max.GetValue<double>());
        }

        if (kind == System.Text.Json.JsonValueKind.String)
        {
            var text = value!.GetValue<string>();
            return (schema["minLength"] is { } minLength && text.Length < minLength.GetValue<int>())
                || (schema["pattern"] is { } pattern && !Regex.IsMatch(text, pattern.GetValue<string>()));
        }

        return false;
    }

    /// <summary>Every <c>Section:Key</c> in the first column of docs/worker.md's settings table.</summary>
    private static HashSet<string> DocumentedKeys()
    {
        var root = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("repository root not found");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(root, "docs", "worker.md")))
        {
            if (line.StartsWith("| `", StringComparison.Ordinal))
            {
                foreach (Match k in DocumentedKey().Matches(line.Split('|')[1]))
                {
                    keys.Add(k.Groups[1].Value);
                }
            }
        }

        return keys;
    }

    [GeneratedRegex(@"`([A-Z][A-Za-z]+:[A-Z][A-Za-z]+)(?::<[^>]+>)?`")]
    private static partial Regex DocumentedKey();
}
