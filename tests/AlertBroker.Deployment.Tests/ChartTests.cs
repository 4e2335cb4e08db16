using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace AlertBroker.Deployment.Tests;

/// <summary><c>helm lint</c> and <c>helm template</c> of helm/alertbroker with the value sets in values/, asserting on the parsed objects.</summary>
public sealed partial class ChartTests
{
    private const string ConfigPath = "/etc/alertbroker/config/alertbroker.json";

    public static TheoryData<string> ValueSets => ["minimal", "keda", "hpa", "existing-secrets", "redis-cluster", "promote", "tls", "monitoring"];

    [HelmTheory]
    [MemberData(nameof(ValueSets))]
    public void Lint_EveryValueSet_Passes(string valueSet)
    {
        var result = Helm.Run("lint", "--strict", Helm.Chart, "-f", Helm.Values(valueSet));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("0 chart(s) failed", result.All, StringComparison.Ordinal);
    }

    /// <summary>
    /// The bare defaults lint (helm turns a template's fail into a lint message) but cannot be installed: without brokers
    /// and topics the worker would only crash-loop, so rendering fails and names what to set.
    /// </summary>
    [HelmFact]
    public void Template_WithoutKafkaSettings_FailsNamingWhatToSet()
    {
        var lint = Helm.Run("lint", "--strict", Helm.Chart);
        Assert.True(lint.ExitCode == 0, lint.All);
        Assert.Contains("config.Kafka.BootstrapServers is required", lint.All, StringComparison.Ordinal);

        var result = Helm.TryTemplate([]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("config.Kafka.BootstrapServers is required", result.All, StringComparison.Ordinal);
        Assert.Contains("config.Kafka.Topics", result.All, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput.Trim());
    }

    [HelmFact]
    public void Template_Defaults_RenderAHardenedWorkerDeployment()
    {
        var m = Helm.Template(["minimal"]);
        var deployment = m.Single("Deployment");
        var pod = deployment.Map("spec", "template", "spec");
        var worker = m.WorkerContainer();

        Assert.Equal("2", deployment.Str("spec", "replicas"));
        Assert.Equal("true", pod.Str("securityContext", "runAsNonRoot"));
        Assert.Equal("10001", pod.Str("securityContext", "runAsUser"));
        Assert.Equal("RuntimeDefault", pod.Str("securityContext", "seccompProfile", "type"));
        Assert.Equal("false", pod.Str("automountServiceAccountToken"));
        Assert.Equal("true", worker.Str("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("false", worker.Str("securityContext", "allowPrivilegeEscalation"));
        Assert.Equal("true", worker.Str("securityContext", "runAsNonRoot"));
        Assert.Equal(["ALL"], worker.Map("securityContext", "capabilities").Seq("drop").Strings());

        // The only port, named for the probes and the Service.
        var port = Assert.Single(worker.Seq("ports").Cast<YamlMappingNode>());
        Assert.Equal("http", port.Str("name"));
        Assert.Equal("9464", port.Str("containerPort"));
        Assert.Equal("/healthz", worker.Str("livenessProbe", "httpGet", "path"));
        Assert.Equal("http", worker.Str("livenessProbe", "httpGet", "port"));
        Assert.Equal("/healthz", worker.Str("startupProbe", "httpGet", "path"));
        Assert.Equal("/readyz", worker.Str("readinessProbe", "httpGet", "path"));
        Assert.Equal("http", worker.Str("readinessProbe", "httpGet", "port"));

        // Bound beyond loopback inside the pod, so the kubelet can probe.
        Assert.Equal("0.0.0.0", worker.Env()["AlertBroker__Telemetry__HttpAddress"].Str("value"));

        // Drain: the grace period covers the host's shutdown timeout; no preStop pause by default.
        var config = ConfigFile(m);
        var grace = int.Parse(pod.Str("terminationGracePeriodSeconds")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(60, grace);
        Assert.Equal(45, config.GetProperty("shutdownTimeoutSeconds").GetInt32());
        Assert.True(grace >= config.GetProperty("shutdownTimeoutSeconds").GetInt32() + 5);
        Assert.Null(worker.Get("lifecycle"));

        foreach (var kind in new[] { "requests", "limits" })
        {
            Assert.False(string.IsNullOrEmpty(worker.Str("resources", kind, "cpu")), kind + ".cpu");
            Assert.False(string.IsNullOrEmpty(worker.Str("resources", kind, "memory")), kind + ".memory");
        }

        // Read-only root: /tmp is an emptyDir; the configuration is the ConfigMap, read with run --config.
        var mounts = worker.Seq("volumeMounts").Cast<YamlMappingNode>().ToDictionary(v => v.Str("name")!, v => v);
        Assert.Equal("/tmp", mounts["tmp"].Str("mountPath"));
        Assert.Equal("/etc/alertbroker/config", mounts["config"].Str("mountPath"));
        var volumes = pod.Seq("volumes").Cast<YamlMappingNode>().ToDictionary(v => v.Str("name")!, v => v);
        Assert.NotNull(volumes["tmp"].Get("emptyDir"));
        Assert.Equal("ab-alertbroker", volumes["config"].Str("configMap", "name"));
        Assert.Equal(["run", "--config", ConfigPath], worker.Seq("args").Strings());

        // Rolling one at a time without a surge pod (never more workers than asked for).
        Assert.Equal("0", deployment.Str("spec", "strategy", "rollingUpdate", "maxSurge"));

        Assert.Empty(m.OfKind("ScaledObject"));
        Assert.Empty(m.OfKind("HorizontalPodAutoscaler"));
        Assert.Empty(m.OfKind("ServiceMonitor"));
        Assert.Empty(m.OfKind("Job"));
        Assert.Empty(m.OfKind("NetworkPolicy"));
        Assert.Empty(m.OfKind("Secret"));
    }

    // Found by the chart bug hunt: the readiness probe gave up after 3 s, while /readyz waits up to 6 s for Redis (the
    // worker's limit on that check): a slow Redis showed as "probe timed out" instead of the body's reason.
    [HelmFact]
    public void Template_Defaults_ReadinessProbeOutwaitsTheWorkersRedisCheck()
    {
        var source = File.ReadAllText(Path.Combine(Helm.RepositoryRoot, "src", "AlertBroker.Worker", "Hosting", "WorkerHealthChecks.cs"));
        var limit = RedisCheckTimeout().Match(source);
        Assert.True(limit.Success, "the Redis check's timeout was not found in WorkerHealthChecks.cs");
        var redisSeconds = int.Parse(limit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        var probe = Helm.Template(["minimal"]).WorkerContainer().Map("readinessProbe");
        var timeout = int.Parse(probe.Str("timeoutSeconds")!, System.Globalization.CultureInfo.InvariantCulture);
        var period = int.Parse(probe.Str("periodSeconds")!, System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(timeout > redisSeconds, $"readiness timeoutSeconds {timeout} is not above the worker's Redis check limit ({redisSeconds} s)");
        Assert.True(period >= timeout, $"readiness periodSeconds {period} is below its timeoutSeconds {timeout}");
    }

    [HelmFact]
    public void Template_Defaults_ExposeOnlyTheMetricsPortAndBudgetOneDisruption()
    {
        var m = Helm.Template(["minimal"]);
        var podLabels = m.Single("Deployment").Map("spec", "template", "metadata", "labels");

        var service = m.Single("Service");
        var port = Assert.Single(service.Map("spec").Seq("ports").Cast<YamlMappingNode>());
        Assert.Equal("metrics", port.Str("name"));
        Assert.Equal("9464", port.Str("port"));
        Assert.Equal("http", port.Str("targetPort"));
        Assert.Equal("ClusterIP", service.Str("spec", "type"));
        Assert.Equal("true", service.Str("spec", "publishNotReadyAddresses"));
        AssertSelects(service.Map("spec", "selector"), podLabels);

        var pdb = m.Single("PodDisruptionBudget");
        Assert.Equal("policy/v1", pdb.Str("apiVersion"));
        Assert.Equal("1", pdb.Str("spec", "maxUnavailable"));
        Assert.Null(pdb.Map("spec").Get("minAvailable"));
        Assert.Equal("AlwaysAllow", pdb.Str("spec", "unhealthyPodEvictionPolicy"));
        AssertSelects(pdb.Map("spec", "selector", "matchLabels"), podLabels);
        AssertSelects(m.Single("Deployment").Map("spec", "selector", "matchLabels"), podLabels);
    }

    // Found by the chart bug hunt: from a values file (YAML numbers are float64 to Helm) every Properties value of a
    // million or more was written in exponent form ("5.24288e+07"), of which librdkafka reads the digits before the '.'
    // (fetch.max.bytes 5; message.max.bytes 1, refused: the worker stopped at start). --set gives int64 and was right.
    [HelmFact]
    public void Template_KafkaPropertiesFromAValuesFile_WholeNumbersAreWrittenAsWritten()
    {
        var properties = ConfigFile(Helm.Template(["minimal", "kafka-properties"])).GetProperty("AlertBroker").GetProperty("Kafka").GetProperty("Properties");

        Assert.Equal("52428800", properties.GetProperty("fetch.max.bytes").GetString());
        Assert.Equal("1048576", properties.GetProperty("max.partition.fetch.bytes").GetString());
        Assert.Equal("1000000", properties.GetProperty("queued.max.messages.kbytes").GetString());
        Assert.Equal("3000000", properties.GetProperty("max.poll.interval.ms").GetString());
        Assert.Equal("45000", properties.GetProperty("session.timeout.ms").GetString());
        Assert.Equal("0", properties.GetProperty("statistics.interval.ms").GetString());
        Assert.Equal("true", properties.GetProperty("enable.ssl.certificate.verification").GetString());
        Assert.Equal("eu-west-1a", properties.GetProperty("client.rack").GetString());
    }

    [HelmFact]
    public void Template_ConfigFile_CarriesTheWorkerSettingsUnderTheirOwnNames()
    {
        var m = Helm.Template(["minimal"], "config.Kafka.Properties.session\\.timeout\\.ms=45000", "config.State.TtlHours=720", "metrics.port=9500", "logLevel=Debug");
        var config = ConfigFile(m);
        var ab = config.GetProperty("AlertBroker");

        Assert.Equal("kafka-0.kafka:9092,kafka-1.kafka:9092", ab.GetProperty("Kafka").GetProperty("BootstrapServers").GetString());
        Assert.Equal(["ztf_20261121_programid1"], ab.GetProperty("Kafka").GetProperty("Topics").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(500, ab.GetProperty("Kafka").GetProperty("BatchSize").GetInt32());
        Assert.Equal("45000", ab.GetProperty("Kafka").GetProperty("Properties").GetProperty("session.timeout.ms").GetString());
        Assert.Equal("redis:6379", ab.GetProperty("State").GetProperty("Redis").GetString());
        Assert.Equal(720, ab.GetProperty("State").GetProperty("TtlHours").GetInt32());
        Assert.Equal("/app/models/ztf-bts/2.7.0", ab.GetProperty("Model").GetProperty("Path").GetString());
        Assert.Equal(9500, ab.GetProperty("Telemetry").GetProperty("HttpPort").GetInt32());
        Assert.Equal("Debug", config.GetProperty("Logging").GetProperty("LogLevel").GetProperty("Default").GetString());
        Assert.Equal("9500", m.WorkerContainer().Seq("ports").Cast<YamlMappingNode>().Single().Str("containerPort"));

        // Empty settings are left out so that the worker's defaults apply.
        Assert.False(ab.GetProperty("Kafka").TryGetProperty("TopicPattern", out _));
        Assert.False(ab.GetProperty("Model").TryGetProperty("RegistryRedis", out _));
        Assert.False(ab.TryGetProperty("Schemas", out _));

        // A changed configuration changes the pod template (so the workers restart and read it).
        var other = Helm.Template(["minimal"], "config.Kafka.BatchSize=100");
        Assert.NotEqual(Checksum(m), Checksum(other));
        Assert.Equal(Checksum(m), Checksum(Helm.Template(["minimal"], "config.Kafka.Properties.session\\.timeout\\.ms=45000", "config.State.TtlHours=720", "metrics.port=9500", "logLevel=Debug")));
    }

    /// <summary>
    /// Every setting of docs/worker.md is reachable from values: a `config` key of the same name, a key the chart owns
    /// (the HTTP endpoint), or a credential/TLS key wired from Secrets. And every `config` key is one the worker knows.
    /// A key added to the worker without a way to set it from the chart fails here (and a key the worker reads but
    /// docs/worker.md does not list fails AlertBroker.Worker.Tests' DocumentedSettingsTests). It reads files only, so it
    /// runs without helm.
    /// </summary>
    [Fact]
    public void Values_ConfigBlock_MatchesTheWorkersDocumentedSettings()
    {
        var documented = DocumentedWorkerKeys();
        var values = new YamlStream();
        values.Load(new StringReader(File.ReadAllText(Path.Combine(Helm.Chart, "values.yaml"))));
        var chartKeys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (section, settings) in ((YamlMappingNode)values.Documents[0].RootNode).Map("config").Children)
        {
            foreach (var key in ((YamlMappingNode)settings).Children.Keys)
            {
                chartKeys.Add($"{section}:{key}");
            }
        }

        string[] ownedByChart = ["Telemetry:HttpPort", "Telemetry:HttpAddress"];
        var fromSecurity = ExpectedSecurityEnv.Select(e => e["AlertBroker__".Length..].Replace("__", ":", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);

        Assert.True(documented.Count >= 25, "docs/worker.md lists " + documented.Count + " keys; the table was not found?");
        var unreachable = documented.Where(k => !chartKeys.Contains(k) && !ownedByChart.Contains(k) && !fromSecurity.Contains(k)).ToList();
        Assert.True(unreachable.Count == 0, "settings in docs/worker.md the chart cannot set: " + string.Join(", ", unreachable));
        var unknown = chartKeys.Where(k => !documented.Contains(k)).ToList();
        Assert.True(unknown.Count == 0, "config keys the worker does not document: " + string.Join(", ", unknown));
    }

    /// <summary>
    /// values.schema.json refuses properties it does not list (additionalProperties false): every key of the config block
    /// must have a property there, or helm refuses the chart's own values. Reads files only, so it runs without helm.
    /// </summary>
    [Fact]
    public void Schema_ListsEveryConfigKeyOfTheValues()
    {
        var values = new YamlStream();
        values.Load(new StringReader(File.ReadAllText(Path.Combine(Helm.Chart, "values.yaml"))));
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "values.schema.json")));
        var sections = schema.RootElement.GetProperty("properties").GetProperty("config").GetProperty("properties");
        var missing = new List<string>();
        foreach (var (section, settings) in ((YamlMappingNode)values.Documents[0].RootNode).Map("config").Children)
        {
            var name = ((YamlScalarNode)section).Value!;
            if (!sections.TryGetProperty(name, out var sectionSchema))
            {
                missing.Add(name);
                continue;
            }

            foreach (var key in ((YamlMappingNode)settings).Children.Keys)
            {
                if (!sectionSchema.GetProperty("properties").TryGetProperty(((YamlScalarNode)key).Value!, out _))
                {
                    missing.Add($"{name}:{key}");
                }
            }
        }

        Assert.True(missing.Count == 0, "config keys of values.yaml that values.schema.json does not list (helm would refuse them): " + string.Join(", ", missing));
    }

    /// <summary>
    /// extraEnv may set no key of config, though the configuration file leaves it out (empty, or null, which Helm drops
    /// from the values): every key values.schema.json lists, each set to null, is refused through extraEnv and named.
    /// Kafka.Properties entries may come from extraEnv (per-pod values through the downward API) and are tested apart.
    /// Until 2026-12-07 only the keys in the file were refused.
    /// </summary>
    [HelmFact]
    public void Template_ExtraEnvForEveryConfigKey_IsRefusedEvenWhenTheKeyIsNull()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "values.schema.json")));
        var sets = new List<string>();
        var expected = new List<string>();
        foreach (var section in schema.RootElement.GetProperty("properties").GetProperty("config").GetProperty("properties").EnumerateObject())
        {
            foreach (var key in section.Value.GetProperty("properties").EnumerateObject())
            {
                sets.Add($"config.{section.Name}.{key.Name}=null");
                if (section.Name == "Kafka" && key.Name == "Properties")
                {
                    continue;
                }

                var i = expected.Count;
                var name = $"AlertBroker__{section.Name}__{key.Name}";
                sets.Add($"extraEnv[{i}].name={name},extraEnv[{i}].value=x");
                expected.Add($"extraEnv[{i}] sets {name}, which belongs to config.{section.Name}.{key.Name}: set it there");
            }
        }

        var result = Helm.TryTemplate(["minimal"], [.. sets]);

        Assert.NotEqual(0, result.ExitCode);
        var missing = expected.Where(e => !result.StandardError.Contains(e, StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "not refused:\n" + string.Join("\n", missing) + "\n" + result.StandardError);
    }

    /// <summary>The environment variables the chart sets for credentials and TLS (the agreed AlertBroker:* keys).</summary>
    internal static readonly string[] ExpectedSecurityEnv =
    [
        "AlertBroker__Kafka__SecurityProtocol", "AlertBroker__Kafka__SaslMechanism", "AlertBroker__Kafka__SaslUsername",
        "AlertBroker__Kafka__SaslPassword", "AlertBroker__Kafka__SslCaLocation", "AlertBroker__Kafka__SslCertificateLocation",
        "AlertBroker__Kafka__SslKeyLocation", "AlertBroker__Kafka__SslKeyPassword",
        "AlertBroker__Redis__User", "AlertBroker__Redis__Password", "AlertBroker__Redis__Tls",
        "AlertBroker__Redis__TlsCaFile", "AlertBroker__Redis__TlsCertificateFile", "AlertBroker__Redis__TlsKeyFile",
        "AlertBroker__Schemas__RegistryUsername", "AlertBroker__Schemas__RegistryPassword",
    ];

    [HelmFact]
    public void Template_ExistingSecrets_TakeEveryCredentialFromSecretKeyRef()
    {
        var m = Helm.Template(["existing-secrets"]);
        var env = m.WorkerContainer().Env();

        (string Env, string Secret, string Key)[] fromSecrets =
        [
            ("AlertBroker__Kafka__SaslUsername", "alertbroker-kafka-user", "user"),
            ("AlertBroker__Kafka__SaslPassword", "alertbroker-kafka-user", "password"),
            ("AlertBroker__Kafka__SslKeyPassword", "kafka-cluster-ca", "user.password"),
            ("AlertBroker__Redis__User", "alertbroker-redis", "username"),
            ("AlertBroker__Redis__Password", "alertbroker-redis", "password"),
            ("AlertBroker__Schemas__RegistryUsername", "alertbroker-schema-registry", "username"),
            ("AlertBroker__Schemas__RegistryPassword", "alertbroker-schema-registry", "password"),
        ];
        foreach (var (name, secret, key) in fromSecrets)
        {
            Assert.True(env.ContainsKey(name), name + " is not set");
            Assert.Null(env[name].Get("value"));
            Assert.Equal(secret, env[name].Str("valueFrom", "secretKeyRef", "name"));
            Assert.Equal(key, env[name].Str("valueFrom", "secretKeyRef", "key"));
        }

        Assert.Equal("SaslSsl", env["AlertBroker__Kafka__SecurityProtocol"].Str("value"));
        Assert.Equal("ScramSha512", env["AlertBroker__Kafka__SaslMechanism"].Str("value"));
        Assert.Equal("/etc/alertbroker/tls/kafka/ca.crt", env["AlertBroker__Kafka__SslCaLocation"].Str("value"));
        Assert.Equal("/etc/alertbroker/tls/kafka/tls.crt", env["AlertBroker__Kafka__SslCertificateLocation"].Str("value"));
        Assert.Equal("/etc/alertbroker/tls/kafka/tls.key", env["AlertBroker__Kafka__SslKeyLocation"].Str("value"));
        Assert.Equal("true", env["AlertBroker__Redis__Tls"].Str("value"));
        Assert.Equal("/etc/alertbroker/tls/redis/ca.crt", env["AlertBroker__Redis__TlsCaFile"].Str("value"));
        Assert.False(env.ContainsKey("AlertBroker__Redis__TlsCertificateFile"));

        // Every variable the chart sets is one of the agreed keys (or the HTTP bind address).
        Assert.All(env.Keys, k => Assert.True(ExpectedSecurityEnv.Contains(k) || k == "AlertBroker__Telemetry__HttpAddress", k));

        // The TLS files come from the Secrets, each key under a fixed name, mounted read-only.
        var pod = m.Single("Deployment").Map("spec", "template", "spec");
        var volumes = pod.Seq("volumes").Cast<YamlMappingNode>().ToDictionary(v => v.Str("name")!, v => v);
        Assert.Equal("kafka-cluster-ca", volumes["kafka-tls"].Str("secret", "secretName"));
        Assert.Equal(
            ["ca.crt=ca.crt", "user.crt=tls.crt", "user.key=tls.key"],
            volumes["kafka-tls"].Map("secret").Seq("items").Cast<YamlMappingNode>().Select(i => i.Str("key") + "=" + i.Str("path")));
        Assert.Equal("redis-ca", volumes["redis-tls"].Str("secret", "secretName"));
        var mounts = m.WorkerContainer().Seq("volumeMounts").Cast<YamlMappingNode>().ToDictionary(v => v.Str("name")!, v => v);
        Assert.Equal("/etc/alertbroker/tls/kafka", mounts["kafka-tls"].Str("mountPath"));
        Assert.Equal("true", mounts["kafka-tls"].Str("readOnly"));
        Assert.Equal("/etc/alertbroker/tls/redis", mounts["redis-tls"].Str("mountPath"));

        // Nothing secret in the ConfigMap, and no Secret objects: the chart never holds a credential.
        var configMap = m.Single("ConfigMap").ToYamlString();
        Assert.DoesNotContain("password", configMap, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(m.OfKind("Secret"));
        Assert.Equal("https://schema-registry.kafka:8081", ConfigFile(m).GetProperty("AlertBroker").GetProperty("Schemas").GetProperty("RegistryUrl").GetString());
    }

    [HelmTheory]
    [MemberData(nameof(ValueSets))]
    public void Template_AnyValueSet_SetsCredentialsOnlyFromSecrets(string valueSet)
    {
        var m = Helm.Template([valueSet]);

        foreach (var doc in m.OfKind("Deployment").Concat(m.OfKind("Job")))
        {
            foreach (var container in doc.Map("spec", "template", "spec").Seq("containers").Cast<YamlMappingNode>())
            {
                foreach (var (name, entry) in container.Env())
                {
                    if (CredentialName().IsMatch(name))
                    {
                        Assert.Null(entry.Get("value"));
                        Assert.NotNull(entry.Map("valueFrom").Get("secretKeyRef"));
                    }
                }
            }
        }

        Assert.DoesNotContain("password", ConfigFile(m).GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Attempts to hand the chart a secret value: each is refused, and the secret is echoed nowhere (not even in the error).</summary>
    [HelmTheory]
    [InlineData("security.kafka.sasl.password=S3cret-kafka-7Q", "Additional property password is not allowed")]
    [InlineData("security.redis.auth.password=S3cret-redis-7Q", "Additional property password is not allowed")]
    [InlineData("security.schemaRegistry.auth.password=S3cret-sr-7Q", "Additional property password is not allowed")]
    [InlineData("config.Kafka.SaslPassword=S3cret-cfg-7Q", "Additional property SaslPassword is not allowed")]
    [InlineData("config.Redis.Password=S3cret-cfgr-7Q", "Additional property Redis is not allowed")]
    [InlineData("config.Kafka.Properties.sasl\\.password=S3cret-prop-7Q", "sasl.password")]
    [InlineData("config.Kafka.Properties.ssl\\.key\\.password=S3cret-prop2-7Q", "ssl.key.password")]
    [InlineData("config.State.Redis=redis:6379\\,password=S3cret-conn-7Q", "config.State.Redis must name endpoints only")]
    [InlineData("config.Model.RegistryRedis=redis:6379\\,user=ab\\,password=S3cret-reg-7Q", "config.Model.RegistryRedis must name endpoints only")]
    [InlineData("config.Schemas.RegistryUrl=https://ab:S3cret-url-7Q@registry:8081", "config.Schemas.RegistryUrl")]
    [InlineData("extraEnv[0].name=KAFKA_PASSWORD,extraEnv[0].value=S3cret-env-7Q", "extraEnv.0")]

    // Found by the chart bug hunt: both went into the ConfigMap as written.
    [InlineData("config.Metadata.Redis=meta:6379\\,password=S3cret-meta-7Q", "config.Metadata.Redis must name endpoints only")]
    [InlineData("config.Metadata.Redis[0]=meta:6379,config.Metadata.Redis[1]=user=ab\\,password=S3cret-metal-7Q", "config.Metadata.Redis")]
    [InlineData("config.Telemetry.OtlpEndpoint=https://ab:S3cret-otlp-7Q@collector:4318", "config.Telemetry.OtlpEndpoint")]
    [InlineData("config.Telemetry.OtlpEndpoint=https://S3cret-otlpu-7Q@collector", "config.Telemetry.OtlpEndpoint")]

    // Found by the security review: docs/deployment.md said these were refused, and each was rendered with the secret in
    // the Deployment (extraEnv) or the ConfigMap (a URL's query). The OTLP headers carry the collector's credentials, so
    // a plain value there is refused whatever it looks like; other names by what the value looks like.
    [InlineData("extraEnv[0].name=OTEL_EXPORTER_OTLP_HEADERS,extraEnv[0].value=Authorization=Bearer S3cret-otlph-7Q", "extraEnv[0] OTEL_EXPORTER_OTLP_HEADERS has a plain value: the OTLP exporter's headers carry the collector's credentials")]
    [InlineData("extraEnv[0].name=OTEL_EXPORTER_OTLP_HEADERS,extraEnv[0].value=x-honeycomb-team=S3cret-otlph2-7Q", "extraEnv[0] OTEL_EXPORTER_OTLP_HEADERS has a plain value")]
    [InlineData("extraEnv[0].name=OTEL_EXPORTER_OTLP_TRACES_HEADERS,extraEnv[0].value=S3cret-otlph3-7Q", "extraEnv[0] OTEL_EXPORTER_OTLP_TRACES_HEADERS has a plain value")]
    [InlineData("extraEnv[0].name=OTEL_EXPORTER_OTLP_HEADERS,extraEnv[0].value=Authorization=Bearer $(OTLP_TOKEN)\\,x-team=S3cret-otlph4-7Q", "extraEnv[0] OTEL_EXPORTER_OTLP_HEADERS has a plain value")]
    [InlineData("extraEnv[0].name=CACHE_URL,extraEnv[0].value=redis://$(REDIS_USER):S3cret-envref-7Q@redis:6379", "extraEnv[0] CACHE_URL has a plain value holding what looks like a credential (user info in a URL")]
    [InlineData("extraEnv[0].name=SCHEMA_REGISTRY,extraEnv[0].value=https://bob:S3cret-envurl-7Q@sr.example:8081", "extraEnv[0] SCHEMA_REGISTRY has a plain value holding what looks like a credential (user info in a URL")]
    [InlineData("extraEnv[0].name=GIT_REMOTE,extraEnv[0].value=https://S3cret-envurl2-7Q@git.example/models.git", "extraEnv[0] GIT_REMOTE has a plain value holding what looks like a credential (user info in a URL")]
    [InlineData("extraEnv[0].name=REDIS_CONFIGURATION,extraEnv[0].value=redis:6379\\,password=S3cret-envredis-7Q", "extraEnv[0] REDIS_CONFIGURATION has a plain value holding what looks like a credential (a value for the key 'password')")]
    [InlineData("extraEnv[0].name=COLLECTOR_HEADER,extraEnv[0].value=Authorization: Basic S3cret-envbasic-7Q", "extraEnv[0] COLLECTOR_HEADER has a plain value holding what looks like a credential (an Authorization header's credential")]
    [InlineData("extraEnv[0].name=UPSTREAM,extraEnv[0].value=bearer S3cret-envbearer-7Q", "(an Authorization header's credential")]
    [InlineData("extraEnv[0].name=WEBHOOK,extraEnv[0].value=https://hooks.example/x?channel=a&api_key=S3cret-envq-7Q", "extraEnv[0] WEBHOOK has a plain value holding what looks like a credential (a value for the key 'api_key')")]
    [InlineData("extraEnv[0].name=STORAGE,extraEnv[0].value=AccountName=ab;AccountKey=S3cret-envaz-7Q", "(a value for the key 'AccountKey')")]
    [InlineData("config.Telemetry.OtlpEndpoint=http://collector:4317/?api_key=S3cret-otlpq-7Q", "config.Telemetry.OtlpEndpoint holds what looks like a credential (a value for the key 'api_key'), which would be in the ConfigMap")]
    [InlineData("config.Schemas.RegistryUrl=https://sr:8081/?password=S3cret-srq-7Q", "config.Schemas.RegistryUrl holds what looks like a credential (a value for the key 'password'), which would be in the ConfigMap")]
    [InlineData("config.Schemas.RegistryUrl=https://sr-0:8081\\,https://sr-1:8081/?access_token=S3cret-srq2-7Q", "config.Schemas.RegistryUrl holds what looks like a credential (a value for the key 'access_token')")]
    [InlineData("metrics.prometheusRule.runbookUrl=https://wiki.example/runbook?token=S3cret-rbq-7Q", "metrics.prometheusRule.runbookUrl holds what looks like a credential (a value for the key 'token'), which would be in the PrometheusRule")]
    [InlineData("metrics.prometheusRule.runbookUrl=https://ops:S3cret-rbu-7Q@wiki.example/runbook", "metrics.prometheusRule.runbookUrl holds what looks like a credential (user info in a URL")]
    public void Template_SecretGivenAsAValue_IsRefusedAndNotEchoed(string set, string expected)
    {
        var result = Helm.TryTemplate(["minimal"], set);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.All, StringComparison.Ordinal);
        var secret = SecretInSet().Match(set).Value;
        Assert.DoesNotContain(secret, result.All, StringComparison.Ordinal);
    }

    /// <summary>
    /// A plain extraEnv value holding a JSON object with a credential member (given with --set-json, which --set cannot
    /// express) is refused like a key=value pair, and neither the secret nor the value is echoed.
    /// </summary>
    [HelmFact]
    public void Template_ExtraEnvJsonValueWithACredentialMember_IsRefusedAndNotEchoed()
    {
        var result = Helm.Run("template", "ab", Helm.Chart, "-f", Helm.Values("minimal"), "--set-json", """extraEnv=[{"name":"CLIENT_SETTINGS","value":"{\"url\": \"https://api.example\", \"client_secret\": \"S3cret-json-7Q\"}"}]""");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("extraEnv[0] CLIENT_SETTINGS has a plain value holding what looks like a credential (a value for the key 'client_secret')", result.All, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cret-json-7Q", result.All, StringComparison.Ordinal);
    }

    [HelmFact]
    public void Template_Keda_RendersAKafkaLagTriggerAuthenticatedFromTheWorkersSecrets()
    {
        var m = Helm.Template(["keda"]);

        Assert.Empty(m.OfKind("HorizontalPodAutoscaler"));
        Assert.Null(m.Single("Deployment").Map("spec").Get("replicas"));
        var scaled = m.Single("ScaledObject");
        Assert.Equal("keda.sh/v1alpha1", scaled.Str("apiVersion"));
        Assert.Equal("Deployment", scaled.Str("spec", "scaleTargetRef", "kind"));
        Assert.Equal("ab-alertbroker", scaled.Str("spec", "scaleTargetRef", "name"));
        Assert.Equal("1", scaled.Str("spec", "minReplicaCount"));
        Assert.Equal("16", scaled.Str("spec", "maxReplicaCount"));
        Assert.Equal("600", scaled.Str("spec", "advanced", "horizontalPodAutoscalerConfig", "behavior", "scaleDown", "stabilizationWindowSeconds"));

        var trigger = Assert.Single(scaled.Map("spec").Seq("triggers").Cast<YamlMappingNode>());
        Assert.Equal("kafka", trigger.Str("type"));
        var meta = trigger.Map("metadata");
        Assert.Equal("kafka-0.kafka:9093", meta.Str("bootstrapServers"));
        Assert.Equal("alertbroker-ztf", meta.Str("consumerGroup"));
        Assert.Equal("ztf_20261121_programid1", meta.Str("topic"));
        Assert.Equal("50000", meta.Str("lagThreshold"));
        Assert.Equal("earliest", meta.Str("offsetResetPolicy"));
        Assert.Equal("false", meta.Str("allowIdleConsumers"));
        Assert.Equal("scram_sha256", meta.Str("sasl"));
        Assert.Equal("enable", meta.Str("tls"));

        var auth = m.Single("TriggerAuthentication");
        Assert.Equal(auth.Str("metadata", "name"), trigger.Str("authenticationRef", "name"));
        var refs = auth.Map("spec").Seq("secretTargetRef").Cast<YamlMappingNode>().ToDictionary(r => r.Str("parameter")!, r => (r.Str("name"), r.Str("key")));
        Assert.Equal(("alertbroker-kafka-user", "username"), refs["username"]);
        Assert.Equal(("alertbroker-kafka-user", "password"), refs["password"]);
        Assert.Equal(("kafka-cluster-ca", "ca.crt"), refs["ca"]);
        Assert.Equal(3, refs.Count);
    }

    [HelmFact]
    public void Template_KedaWithoutKafkaCredentials_NeedsNoTriggerAuthentication()
    {
        var m = Helm.Template(["minimal"], "autoscaling.mode=keda", "autoscaling.minReplicas=1", "config.Kafka.Topics={a,b}");

        Assert.Empty(m.OfKind("TriggerAuthentication"));
        var trigger = m.Single("ScaledObject").Map("spec").Seq("triggers").Cast<YamlMappingNode>().Single();
        Assert.Null(trigger.Get("authenticationRef"));
        Assert.Equal("none", trigger.Str("metadata", "sasl"));
        Assert.Equal("disable", trigger.Str("metadata", "tls"));
        // Two input topics: KEDA sums the lag of the topics the group subscribes to or has committed offsets for (one
        // worker always runs: minReplicas 0 is refused without autoscaling.keda.topic).
        Assert.Null(trigger.Map("metadata").Get("topic"));
        Assert.Equal("1", m.Single("ScaledObject").Str("spec", "minReplicaCount"));
    }

    // Scaled to zero, the workers are woken by the lag of the topic KEDA is given: autoscaling.keda.topic beside a pattern
    // or several input topics (without it that is refused: Template_InvalidValues_AreRefused).
    [HelmFact]
    public void Template_KedaScaledToZeroWithTopicPattern_WatchesTheTopicItIsGiven()
    {
        var m = Helm.Template(["minimal"], "autoscaling.mode=keda", "autoscaling.minReplicas=0", "config.Kafka.Topics=null", "config.Kafka.TopicPattern=^ztf_.*", "autoscaling.keda.topic=ztf_20261121_programid1");

        var scaled = m.Single("ScaledObject");
        Assert.Equal("0", scaled.Str("spec", "minReplicaCount"));
        var trigger = scaled.Map("spec").Seq("triggers").Cast<YamlMappingNode>().Single();
        Assert.Equal("ztf_20261121_programid1", trigger.Str("metadata", "topic"));
    }

    // "Topics:" left empty (null) beside a TopicPattern failed to render with "len of nil pointer" from the KEDA helper.
    [HelmFact]
    public void Template_KedaWithTopicPatternAndNullTopics_ReadsTheGroupsLagOverAllItsTopics()
    {
        var m = Helm.Template(["minimal"], "autoscaling.mode=keda", "config.Kafka.TopicPattern=^ztf_.*", "config.Kafka.Topics=null");

        var trigger = m.Single("ScaledObject").Map("spec").Seq("triggers").Cast<YamlMappingNode>().Single();
        Assert.Null(trigger.Map("metadata").Get("topic"));
        Assert.Equal("^ztf_.*", ConfigFile(m).GetProperty("AlertBroker").GetProperty("Kafka").GetProperty("TopicPattern").GetString());
    }

    // updateStrategy.type=Recreate kept the default rollingUpdate block, which Kubernetes refuses beside Recreate.
    [HelmFact]
    public void Template_RecreateStrategy_RendersNoRollingUpdate()
    {
        var strategy = Helm.Template(["minimal"], "updateStrategy.type=Recreate").Single("Deployment").Map("spec", "strategy");

        Assert.Equal("Recreate", strategy.Str("type"));
        Assert.Null(strategy.Get("rollingUpdate"));
    }

    [HelmFact]
    public void Template_Hpa_ScalesOnCpuAndNeverAlongsideKeda()
    {
        var m = Helm.Template(["hpa"]);

        Assert.Empty(m.OfKind("ScaledObject"));
        Assert.Null(m.Single("Deployment").Map("spec").Get("replicas"));
        var hpa = m.Single("HorizontalPodAutoscaler");
        Assert.Equal("autoscaling/v2", hpa.Str("apiVersion"));
        Assert.Equal("ab-alertbroker", hpa.Str("spec", "scaleTargetRef", "name"));
        Assert.Equal("2", hpa.Str("spec", "minReplicas"));
        Assert.Equal("8", hpa.Str("spec", "maxReplicas"));
        var metric = Assert.Single(hpa.Map("spec").Seq("metrics").Cast<YamlMappingNode>());
        Assert.Equal("cpu", metric.Str("resource", "name"));
        Assert.Equal("65", metric.Str("resource", "target", "averageUtilization"));
        Assert.Equal("^ztf_.*", ConfigFile(m).GetProperty("AlertBroker").GetProperty("Kafka").GetProperty("TopicPattern").GetString());

        // One mode at a time, by construction: the only way to ask for both is a value the schema refuses.
        foreach (var set in ValueSets)
        {
            var kinds = Manifests.Kinds(Helm.Template([set])).ToList();
            Assert.False(kinds.Contains("ScaledObject") && kinds.Contains("HorizontalPodAutoscaler"), set);
        }
    }

    [HelmFact]
    public void Template_RedisCluster_JoinsTheSeedNodesAndTakesThePasswordFromTheSecret()
    {
        var m = Helm.Template(["redis-cluster"]);
        var ab = ConfigFile(m).GetProperty("AlertBroker");
        const string nodes = "redis-cluster-0.redis-cluster:6379,redis-cluster-1.redis-cluster:6379,redis-cluster-2.redis-cluster:6379";

        Assert.Equal(nodes, ab.GetProperty("State").GetProperty("Redis").GetString());
        Assert.Equal(nodes, ab.GetProperty("Model").GetProperty("RegistryRedis").GetString());
        var env = m.WorkerContainer().Env();
        Assert.Equal("redis-cluster", env["AlertBroker__Redis__Password"].Str("valueFrom", "secretKeyRef", "name"));
        Assert.Equal("redis-password", env["AlertBroker__Redis__Password"].Str("valueFrom", "secretKeyRef", "key"));
        Assert.False(env.ContainsKey("AlertBroker__Redis__User"));
        Assert.False(env.ContainsKey("AlertBroker__Redis__Tls"));
    }

    // Found by the chart bug hunt: Metadata:Redis was written as given, so a list of seed nodes (the form State.Redis
    // takes) became a JSON array, which the worker cannot bind to its string setting.
    [HelmFact]
    public void Template_MetadataRedisAsAList_IsJoinedLikeTheStateRedis()
    {
        var ab = ConfigFile(Helm.Template(["minimal"], "config.Metadata.Redis={meta-0.meta:6379,meta-1.meta:6379}")).GetProperty("AlertBroker");

        Assert.Equal("meta-0.meta:6379,meta-1.meta:6379", ab.GetProperty("Metadata").GetProperty("Redis").GetString());
        Assert.Equal("meta:6379", ConfigFile(Helm.Template(["minimal"], "config.Metadata.Redis=\\ meta:6379\\ ")).GetProperty("AlertBroker").GetProperty("Metadata").GetProperty("Redis").GetString());
    }

    // Found by the chart bug hunt: the metrics Service was "<fullname>-metrics": up to 71 characters, and not a DNS-1035
    // label (what Kubernetes requires of a Service name) for a release named "1ab" or "ab.prod", which every other object
    // of the chart takes. The rules select the series by that name, so they must use the same one.
    [HelmTheory]
    [InlineData("ab", "ab-alertbroker-metrics")]
    [InlineData("1ab", "ab-1ab-alertbroker-metrics")]
    [InlineData("ab.prod", "ab-prod-alertbroker-metrics")]
    [InlineData("abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghi", "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghi-a-metrics")]
    public void Template_AnyReleaseName_NamesTheMetricsServiceWithADnsLabelTheRulesSelect(string release, string expected)
    {
        var result = Helm.Run("template", release, Helm.Chart, "--namespace", "alerts", "-f", Helm.Values("monitoring"));
        Assert.True(result.ExitCode == 0, result.All);
        var m = Manifests.Parse(result.StandardOutput);

        var name = m.Single("Service").Str("metadata", "name")!;
        Assert.Equal(expected, name);
        Assert.Matches("^[a-z]([-a-z0-9]*[a-z0-9])?$", name);
        Assert.True(name.Length <= 63, name);
        var expressions = string.Join('\n', m.Single("PrometheusRule").Map("spec").Seq("groups").Cast<YamlMappingNode>()
            .SelectMany(g => g.Seq("rules").Cast<YamlMappingNode>()).Select(r => r.Str("expr")));
        var services = ServiceInSelector().Matches(expressions).Select(s => s.Groups[1].Value).Distinct().ToList();
        Assert.Equal([name], services);
    }

    // Found by the chart bug hunt: the dashboard's uid, title and file name were fixed, so two releases with the dashboard
    // (in one namespace, or one name in two namespaces Grafana's sidecar reads) overwrote or clashed with each other.
    [HelmFact]
    public void Template_GrafanaDashboards_OfTwoReleasesHaveTheirOwnUidTitleAndFile()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (release, ns) in new[] { ("ab", "alerts"), ("ab-lsst", "alerts"), ("ab", "alerts-staging"), ("abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghi", "alerts"), ("ab.prod", "alerts") })
        {
            var result = Helm.Run("template", release, Helm.Chart, "--namespace", ns, "-f", Helm.Values("monitoring"));
            Assert.True(result.ExitCode == 0, result.All);
            var map = Manifests.Parse(result.StandardOutput).OfKind("ConfigMap").Single(c => c.Str("metadata", "name")!.EndsWith("-dashboard", StringComparison.Ordinal));
            var file = Assert.Single(map.Map("data").Children);
            using var dashboard = JsonDocument.Parse(((YamlScalarNode)file.Value).Value!);
            var uid = dashboard.RootElement.GetProperty("uid").GetString()!;

            Assert.Matches("^[A-Za-z0-9_-]{1,40}$", uid);
            Assert.Equal(uid + ".json", ((YamlScalarNode)file.Key).Value);
            Assert.Equal($"AlertBroker workers ({ns}/{release})", dashboard.RootElement.GetProperty("title").GetString());
            Assert.True(seen.Add(uid), $"{ns}/{release}: uid {uid} again");
        }
    }

    [HelmFact]
    public void Template_Tls_MountsTheRedisClientCertificateAndUsesTheImageCaBundleForKafka()
    {
        var m = Helm.Template(["tls"]);
        var worker = m.WorkerContainer();
        var env = worker.Env();

        Assert.Equal("Ssl", env["AlertBroker__Kafka__SecurityProtocol"].Str("value"));
        Assert.False(env.ContainsKey("AlertBroker__Kafka__SslCaLocation"));
        Assert.False(env.ContainsKey("AlertBroker__Kafka__SaslPassword"));
        Assert.Equal("/etc/alertbroker/tls/redis/tls.crt", env["AlertBroker__Redis__TlsCertificateFile"].Str("value"));
        Assert.Equal("/etc/alertbroker/tls/redis/tls.key", env["AlertBroker__Redis__TlsKeyFile"].Str("value"));
        var volumes = m.Single("Deployment").Map("spec", "template", "spec").Seq("volumes").Cast<YamlMappingNode>().ToDictionary(v => v.Str("name")!, v => v);
        Assert.False(volumes.ContainsKey("kafka-tls"));
        Assert.Equal("0440", volumes["redis-tls"].Str("secret", "defaultMode"));

        // Longer drain, with a preStop pause; the grace period covers both.
        Assert.Equal(["sleep", "5"], worker.Map("lifecycle", "preStop", "exec").Seq("command").Strings());
        Assert.Equal("120", m.Single("Deployment").Str("spec", "template", "spec", "terminationGracePeriodSeconds"));
        Assert.Equal(90, ConfigFile(m).GetProperty("shutdownTimeoutSeconds").GetInt32());

        var monitor = m.Single("ServiceMonitor");
        Assert.Equal("kube-prometheus-stack", monitor.Str("metadata", "labels", "release"));
        var endpoint = Assert.Single(monitor.Map("spec").Seq("endpoints").Cast<YamlMappingNode>());
        Assert.Equal("metrics", endpoint.Str("port"));
        Assert.Equal("/metrics", endpoint.Str("path"));
        AssertSelects(monitor.Map("spec", "selector", "matchLabels"), m.Single("Service").Map("metadata", "labels"));

        var policy = m.Single("NetworkPolicy");
        Assert.Equal(["Ingress"], policy.Map("spec").Seq("policyTypes").Strings());
        var rule = Assert.Single(policy.Map("spec").Seq("ingress").Cast<YamlMappingNode>());
        Assert.Equal("http", Assert.Single(rule.Seq("ports").Cast<YamlMappingNode>()).Str("port"));
        Assert.Equal("monitoring", rule.Seq("from").Cast<YamlMappingNode>().Single().Str("namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"));
    }

    [HelmFact]
    public void Template_PromoteJob_RunsModelsPromoteAgainstTheRegistryWithoutSecretsInItsSpec()
    {
        var m = Helm.Template(["promote"]);
        var job = m.Single("Job");
        var pod = job.Map("spec", "template", "spec");
        var container = Manifests.Containers(job, "promote");

        Assert.Equal(
            ["models", "promote", "ztf-bts@1.1.0", "--prefix", "alertbroker", "--max-drop", "0.02", "--actor", "helm:alerts/ab", "--reason", "fine-tuned on BTS, all layers", "--holdout", "/data/holdout/ztf-bts", "--detections-only"],
            container.Seq("args").Strings());
        Assert.Equal("Never", pod.Str("restartPolicy"));
        Assert.Equal("0", job.Str("spec", "backoffLimit"));
        Assert.Equal("promote", job.Str("spec", "template", "metadata", "labels", "app.kubernetes.io/component"));
        Assert.Equal("true", container.Str("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("true", pod.Str("securityContext", "runAsNonRoot"));

        // The registry connection: the workers' own variables (endpoints from values, credentials from the Secret), which
        // `models` reads as `run` does; no connection string is assembled, so no credential is in any value.
        var env = container.Env();
        Assert.Equal("redis:6379", env["AlertBroker__Model__RegistryRedis"].Str("value"));
        Assert.Equal("alertbroker-redis", env["AlertBroker__Redis__Password"].Str("valueFrom", "secretKeyRef", "name"));
        Assert.Equal("alertbroker-redis", env["AlertBroker__Redis__User"].Str("valueFrom", "secretKeyRef", "name"));
        Assert.False(env.ContainsKey("ALERTBROKER_REDIS"));
        Assert.All(container.Seq("env").Cast<YamlMappingNode>(), e => Assert.DoesNotContain("$(", e.Str("value") ?? string.Empty, StringComparison.Ordinal));
        Assert.Equal("ops-team", Manifests.Containers(Helm.Template(["promote"], "promote.actor=ops-team").Single("Job"), "promote").Seq("args").Strings().SkipWhile(a => a != "--actor").ElementAt(1));

        // Not a worker: the Service and the PDB do not select it.
        var jobLabels = job.Map("spec", "template", "metadata", "labels");
        Assert.False(Selects(m.Single("PodDisruptionBudget").Map("spec", "selector", "matchLabels"), jobLabels));

        // One Job per promotion: the same values keep the name (no second promotion on an unrelated upgrade),
        // another model gets a new Job.
        var name = job.Str("metadata", "name")!;
        Assert.Equal(name, Helm.Template(["promote"], "replicaCount=5").Single("Job").Str("metadata", "name"));
        Assert.NotEqual(name, Helm.Template(["promote"], "promote.model=ztf-bts@1.2.0").Single("Job").Str("metadata", "name"));
        Assert.True(name.Length <= 63, name);
    }

    [HelmTheory]
    [InlineData("autoscaling.mode=both", "autoscaling.mode must be one of the following")]
    [InlineData("security.kafka.securityProtocol=SASL_SSL", "security.kafka.securityProtocol must be one of the following")]
    [InlineData("security.kafka.sasl.mechanism=GSSAPI", "security.kafka.sasl.mechanism must be one of the following")]
    [InlineData("logLevel=Verbose", "logLevel must be one of the following")]
    [InlineData("config.Kafka.BatchSizee=100", "Additional property BatchSizee is not allowed")]
    [InlineData("config.Kafka.BatchSize=0", "config.Kafka.BatchSize")]
    [InlineData("config.Kafka.TopicPattern=ztf_.*", "config.Kafka.TopicPattern")]
    [InlineData("config.Kafka.TopicPattern=^(?:ztf|lsst)_.*", "config.Kafka.TopicPattern")]
    [InlineData("config.State.Store=Memory", "config.State.Store must be one of the following")]
    [InlineData("metrics.port=0", "metrics.port")]
    [InlineData("promote.model=ztf-bts", "promote.model")]
    [InlineData("image.digest=latest", "image.digest")]
    [InlineData("security.kafka.securityProtocol=SaslSsl", "security.kafka.sasl.existingSecret is required with securityProtocol SaslSsl")]
    [InlineData("security.kafka.tls.existingSecret=ca", "does not use TLS")]
    [InlineData("security.kafka.securityProtocol=Ssl,security.kafka.tls.existingSecret=c,security.kafka.tls.certificateKey=tls.crt", "set certificateKey and keyKey together")]
    [InlineData("security.redis.tls.existingSecret=ca", "security.redis.tls.enabled is false")]
    [InlineData("terminationGracePeriodSeconds=40", "terminationGracePeriodSeconds (40) must be at least")]
    [InlineData("drain.preStopSleepSeconds=20", "must be at least drain.timeoutSeconds + drain.preStopSleepSeconds + 5 = 70")]
    [InlineData("promote.enabled=true,promote.model=ztf-bts@1.1.0", "promote.enabled needs config.Model.RegistryRedis")]
    [InlineData("config.State.Store=InMemory", "InMemory keeps state inside one process")]
    [InlineData("autoscaling.mode=hpa,autoscaling.minReplicas=0", "at least 1 with mode hpa")]
    [InlineData("autoscaling.mode=keda,autoscaling.minReplicas=20,autoscaling.maxReplicas=10", "must not exceed autoscaling.maxReplicas")]
    [InlineData("podDisruptionBudget.minAvailable=1", "set exactly one of maxUnavailable and minAvailable")]
    [InlineData("metrics.bindAddress=127.0.0.1", "metrics.bindAddress must be one of the following")]

    // Quantities Kubernetes refuses at apply time (a negative number, a suffix it does not know) were rendered.
    [InlineData("resources.requests.cpu=-1", "resources.requests.cpu: Must be greater than or equal to 0")]
    [InlineData("resources.limits.memory=2GB", "resources.limits.memory: Does not match pattern")]
    [InlineData("resources.requests.cpu=1.2.3", "resources.requests.cpu: Does not match pattern")]
    [InlineData("promote.resources.limits.cpu=-0.5", "promote.resources.limits.cpu")]
    [InlineData("tmpDir.sizeLimit=-1", "tmpDir.sizeLimit: Must be greater than or equal to 0")]

    // Rendered before, and refused by Kubernetes at apply time (a budget below 0 or over 100%, a rollout that may replace
    // no pod, object names that are not DNS labels).
    [InlineData("podDisruptionBudget.maxUnavailable=-1", "podDisruptionBudget.maxUnavailable: Must be greater than or equal to 0")]
    [InlineData("podDisruptionBudget.maxUnavailable=150%", "podDisruptionBudget.maxUnavailable: Does not match pattern")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=101%", "podDisruptionBudget.minAvailable: Does not match pattern")]
    [InlineData("updateStrategy.rollingUpdate.maxUnavailable=0", "maxSurge and maxUnavailable cannot both be 0")]

    // Found by the chart bug hunt: a budget that no eviction fits was rendered, and every node drain would wait for ever.
    [InlineData("podDisruptionBudget.maxUnavailable=0", "podDisruptionBudget.maxUnavailable 0 lets no worker be evicted")]
    [InlineData("podDisruptionBudget.maxUnavailable=0%", "podDisruptionBudget.maxUnavailable 0% lets no worker be evicted")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=100%", "podDisruptionBudget.minAvailable 100% leaves no worker to evict")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=51%", "podDisruptionBudget.minAvailable 51% leaves no worker to evict")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=2", "podDisruptionBudget.minAvailable 2 is not below replicaCount 2")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=5,replicaCount=3", "podDisruptionBudget.minAvailable 5 is not below replicaCount 3")]

    // A budget checked against replicaCount only: with autoscaling, one of autoscaling.minReplicas or more (or a percentage
    // that rounds up to all of them) was rendered, and blocked every node drain while the autoscaler ran that few workers.
    // KEDA with minReplicas 0 has no worker to protect at zero, but runs a single one after waking.
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=2,autoscaling.mode=hpa,autoscaling.minReplicas=2", "podDisruptionBudget.minAvailable 2 leaves no worker to evict while the autoscaler runs autoscaling.minReplicas (2)")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=3,autoscaling.mode=keda,autoscaling.minReplicas=2", "podDisruptionBudget.minAvailable 3 leaves no worker to evict while the autoscaler runs autoscaling.minReplicas (2)")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=60%,autoscaling.mode=hpa,autoscaling.minReplicas=2", "podDisruptionBudget.minAvailable 60% leaves no worker to evict (Kubernetes rounds the percentage up) while the autoscaler runs autoscaling.minReplicas (2)")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=1,autoscaling.mode=keda,autoscaling.minReplicas=0", "podDisruptionBudget.minAvailable 1 leaves no worker to evict while KEDA runs a single one: with autoscaling.minReplicas 0 there is no worker to protect at zero")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=10%,autoscaling.mode=keda,autoscaling.minReplicas=0", "podDisruptionBudget.minAvailable 10% leaves no worker to evict while KEDA runs a single one (Kubernetes rounds the percentage up)")]
    [InlineData("updateStrategy.rollingUpdate.maxUnavailable=0%", "maxSurge and maxUnavailable cannot both be 0")]
    [InlineData("updateStrategy.type=Rolling", "updateStrategy.type must be one of the following")]
    [InlineData("updateStrategy.rollingUpdate.maxSurge=-1", "updateStrategy.rollingUpdate.maxSurge: Must be greater than or equal to 0")]
    [InlineData("config.Kafka.BootstrapServers=\\ \\ ", "config.Kafka.BootstrapServers is required")]

    // Settings the worker refuses at start were rendered, and the pods could only crash-loop.
    [InlineData("config.Kafka.OutputTopic=ztf_20261121_programid1", "config.Kafka.OutputTopic 'ztf_20261121_programid1' is also an input topic")]
    [InlineData("config.Kafka.DeadLetterTopic=alertbroker-classifications", "config.Kafka.OutputTopic and DeadLetterTopic are both 'alertbroker-classifications'")]
    [InlineData("config.Kafka.ShadowTopic=alertbroker-dead-letters", "config.Kafka.DeadLetterTopic and ShadowTopic are both 'alertbroker-dead-letters'")]
    [InlineData("config.Kafka.Topics[0]=ztf 2026", "config.Kafka.Topics.0: Does not match pattern")]
    [InlineData("config.Kafka.OutputTopic=out/put", "config.Kafka.OutputTopic: Does not match pattern")]
    [InlineData("config.Schemas.RegistryUrl=http://sr:8081,config.Schemas.SchemaDirectory=/schemas", "config.Schemas: set RegistryUrl or SchemaDirectory, not both")]
    [InlineData("security.schemaRegistry.auth.existingSecret=sr-user", "security.schemaRegistry.auth.existingSecret is set without config.Schemas.RegistryUrl")]
    [InlineData("config.Alerts.ZtfMinMjd=70000", "config.Alerts.ZtfMinMjd (70000) must be below ZtfMaxMjd (63000)")]
    [InlineData("config.Alerts.LsstMaxMjd=60000", "config.Alerts.LsstMinMjd (60000) must be below LsstMaxMjd (60000)")]
    [InlineData("config.State.RetryInitialMs=10000,config.State.RetryMaxMs=100", "config.State.RetryInitialMs (10000) must not be above RetryMaxMs (100)")]
    [InlineData("config.Metadata.Sources.ztf.host-redshift.Csv=/meta/z.csv,config.Metadata.Sources.ztf.host-redshift.RedisHash=meta:z", "config.Metadata.Sources.ztf.host-redshift: set exactly one of Csv")]
    [InlineData("config.Metadata.Sources.ztf.host-redshift.Column=z", "config.Metadata.Sources.ztf.host-redshift: set exactly one of Csv")]
    [InlineData("image.tag=1.0 rc", "image.tag: Does not match pattern")]
    [InlineData("image.repository=alertbroker:1.0", "image.repository: Does not match pattern")]
    [InlineData("image.repository=Alert\\ Broker", "image.repository: Does not match pattern")]
    [InlineData("metrics.serviceMonitor.enabled=true,metrics.serviceMonitor.scrapeTimeout=60s", "metrics.serviceMonitor.scrapeTimeout (60s) must not exceed its interval (30s)")]
    [InlineData("metrics.serviceMonitor.enabled=true,metrics.serviceMonitor.interval=1m,metrics.serviceMonitor.scrapeTimeout=61s", "metrics.serviceMonitor.scrapeTimeout (61s) must not exceed its interval (1m)")]
    [InlineData("extraEnv[0].name=AlertBroker__Telemetry__HttpAddress,extraEnv[0].value=127.0.0.1", "extraEnv[0] sets AlertBroker__Telemetry__HttpAddress, which the chart sets itself")]
    [InlineData("security.redis.tls.enabled=true,extraEnv[0].name=AlertBroker__Redis__Tls,extraEnv[0].value=off", "extraEnv[0] sets AlertBroker__Redis__Tls, which the chart sets itself")]

    // Found by the chart bug hunt: a key of the configuration file set again in extraEnv (the environment wins over the
    // file, in any case) was accepted: with HttpPort the worker listened elsewhere than the probes and the Service.
    [InlineData("extraEnv[0].name=AlertBroker__Telemetry__HttpPort,extraEnv[0].valueFrom.configMapKeyRef.name=ports,extraEnv[0].valueFrom.configMapKeyRef.key=http", "extraEnv[0] sets AlertBroker__Telemetry__HttpPort, which the chart sets itself (from metrics.port)")]
    [InlineData("extraEnv[0].name=ALERTBROKER__KAFKA__BATCHSIZE,extraEnv[0].value=1x", "extraEnv[0] sets ALERTBROKER__KAFKA__BATCHSIZE, which the chart sets itself (from config.Kafka.BatchSize)")]
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Topics__1,extraEnv[0].value=ztf_b", "extraEnv[0] sets AlertBroker__Kafka__Topics__1, which the chart sets itself (from config.Kafka.Topics)")]
    [InlineData("config.Kafka.Properties.client\\.id=ab,extraEnv[0].name=AlertBroker__Kafka__Properties__client.id,extraEnv[0].value=cd", "(from config.Kafka.Properties.client.id)")]
    [InlineData("extraEnv[0].name=Logging__LogLevel__Default,extraEnv[0].value=Trace", "extraEnv[0] sets Logging__LogLevel__Default, which the chart sets itself (from logLevel)")]

    // Found by the chart review: a config key the file leaves out (empty, or null) was accepted in extraEnv, beyond the
    // chart's checks (an output topic against TopicPattern, the topic KEDA watches, a metadata source), and so was a
    // librdkafka property that a typed key owns.
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__TopicPattern,extraEnv[0].value=^alert.*", "extraEnv[0] sets AlertBroker__Kafka__TopicPattern, which belongs to config.Kafka.TopicPattern: set it there")]
    [InlineData("config.Kafka.ShadowTopic=null,extraEnv[0].name=AlertBroker__Kafka__ShadowTopic,extraEnv[0].value=ztf_20261121_programid1", "extraEnv[0] sets AlertBroker__Kafka__ShadowTopic, which belongs to config.Kafka.ShadowTopic: set it there")]
    [InlineData("config.Kafka.Topics=null,config.Kafka.TopicPattern=^ztf_.*,extraEnv[0].name=AlertBroker__Kafka__Topics__0,extraEnv[0].value=lsst", "extraEnv[0] sets AlertBroker__Kafka__Topics__0, which belongs to config.Kafka.Topics: set it there")]
    [InlineData("extraEnv[0].name=alertbroker:schemas:registryurl,extraEnv[0].value=http://sr:8081", "extraEnv[0] sets alertbroker:schemas:registryurl, which belongs to config.Schemas.RegistryUrl")]
    [InlineData("extraEnv[0].name=AlertBroker__Metadata__Sources__ztf__host-redshift__Csv,extraEnv[0].value=/meta/z.csv", "extraEnv[0] sets AlertBroker__Metadata__Sources__ztf__host-redshift__Csv, which belongs to config.Metadata.Sources")]
    [InlineData("config.Metadata.Sources.ztf.host-redshift.RedisHash=meta:z,extraEnv[0].name=AlertBroker__Metadata__Sources__ztf__host-redshift__Csv,extraEnv[0].value=/meta/z.csv", "extraEnv[0] sets AlertBroker__Metadata__Sources__ztf__host-redshift__Csv, which the chart sets itself (from config.Metadata.Sources.ztf)")]
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Properties__group.id,extraEnv[0].value=other", "extraEnv[0] sets AlertBroker__Kafka__Properties__group.id, which the chart sets itself (from config.Kafka.GroupId)")]
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Properties__bootstrap.servers,extraEnv[0].value=other:9092", "extraEnv[0] sets AlertBroker__Kafka__Properties__bootstrap.servers, which the chart sets itself (from config.Kafka.BootstrapServers)")]

    // Found by the chart bug hunt: settings the worker refuses at start (exit 2), or that make replicas fence each other,
    // were rendered. The bootstrap list is checked as the worker checks it (KafkaBootstrapServers.Problem).
    [InlineData("config.Kafka.BootstrapServers=a:9092\\,\\,b:9092", "config.Kafka.BootstrapServers is not a list of host:port: 'a:9092,,b:9092' has an empty entry")]
    [InlineData("config.Kafka.BootstrapServers=a:9092\\,", "config.Kafka.BootstrapServers is not a list of host:port: 'a:9092,' has an empty entry")]
    [InlineData("config.Kafka.BootstrapServers=:9092", "config.Kafka.BootstrapServers is not a list of host:port: ':9092' has no host")]
    [InlineData("config.Kafka.BootstrapServers=kafka:", "config.Kafka.BootstrapServers is not a list of host:port: 'kafka:' has the port ''")]
    [InlineData("config.Kafka.BootstrapServers=kafka:70000", "'kafka:70000' has the port '70000'; a port is a number from 1 to 65535")]
    [InlineData("config.Kafka.BootstrapServers=kafka:0", "'kafka:0' has the port '0'")]
    [InlineData("config.Kafka.BootstrapServers=kafka a:9092", "'kafka a:9092' holds a space")]
    [InlineData("config.Kafka.BootstrapServers=[::1:9092", "'[::1:9092' opens '[' for an IPv6 address and does not close it")]
    [InlineData("config.Kafka.BootstrapServers=[::1]9092", "'[::1]9092' has '9092' after its IPv6 address")]
    [InlineData("config.Kafka.Properties.bootstrap\\.servers=kafka-0.kafka:9092\\,kafka-1.kafka:9092", "config.Kafka.Properties.bootstrap.servers: set config.Kafka.BootstrapServers instead")]
    [InlineData("config.Kafka.Properties.metadata\\.broker\\.list=other:9092", "config.Kafka.Properties.metadata.broker.list: set config.Kafka.BootstrapServers instead")]
    [InlineData("config.Kafka.Properties.group\\.id=alertbroker-2", "config.Kafka.Properties.group.id: set config.Kafka.GroupId instead")]
    [InlineData("config.Kafka.Properties.group\\.instance\\.id=worker-0", "config.Kafka.Properties.group.instance.id is shared by every worker")]
    [InlineData("config.Kafka.Properties.group\\.instance\\.id=worker-0,replicaCount=1,autoscaling.mode=keda", "config.Kafka.Properties.group.instance.id is shared by every worker")]
    [InlineData("config.Kafka.Properties.group\\.instance\\.id=worker-0,replicaCount=1,updateStrategy.rollingUpdate.maxSurge=1,updateStrategy.rollingUpdate.maxUnavailable=0", "config.Kafka.Properties.group.instance.id is shared by every worker")]
    [InlineData("nameOverride=Bad_Name", "nameOverride: Does not match pattern")]
    [InlineData("fullnameOverride=My.Broker", "fullnameOverride: Does not match pattern")]
    [InlineData("fullnameOverride=1broker", "fullnameOverride: Does not match pattern")]

    // Rendered before: a CUDA worker without a GPU limit is scheduled where there is no GPU and stops at start; a Redis
    // endpoint of spaces counted as set (the worker reads it as unset).
    [InlineData("config.Model.ExecutionProvider=Cuda", "config.Model.ExecutionProvider Cuda needs a GPU: set resources.limits.\"nvidia.com/gpu\"")]
    [InlineData("config.Model.ExecutionProvider=Cuda,resources.limits.nvidia\\.com/gpu=0", "config.Model.ExecutionProvider Cuda needs a GPU")]
    [InlineData("config.Model.Path=null,config.Model.RegistryRedis=\\ \\ ", "set config.Model.Path (a model in the image or a volume), config.Model.Paths")]
    [InlineData("config.Model.Path=\\ ,config.Model.Paths[0]=\\ ,config.Model.SearchDirectory=\\ ", "set config.Model.Path (a model in the image or a volume), config.Model.Paths")]
    [InlineData("config.Model.SearchDirectory=/models", "config.Model.SearchDirectory is used only without config.Model.Path, Paths and a registry")]
    [InlineData("config.State.Redis=\\ ", "config.State.Redis is required when config.State.Store is Redis")]

    // An output topic the input pattern matches was rendered; the worker refuses it at start (it would read back what it
    // writes, without end).
    [InlineData("config.Kafka.Topics=null,config.Kafka.TopicPattern=^ztf_.*,config.Kafka.OutputTopic=ztf_classified", "config.Kafka.OutputTopic 'ztf_classified' matches config.Kafka.TopicPattern '^ztf_.*'")]
    [InlineData("config.Kafka.TopicPattern=^alert.*", "config.Kafka.DeadLetterTopic 'alertbroker-dead-letters' matches config.Kafka.TopicPattern '^alert.*'")]

    // KEDA scaled to zero with no topic to watch (a TopicPattern, or several input topics) was rendered: at zero workers
    // KEDA reads the lag only of the topics the group has committed offsets for, so a group that never committed (or whose
    // offsets expired, or whose pattern matches a new topic) never woke the workers.
    [InlineData("autoscaling.mode=keda,autoscaling.minReplicas=0,config.Kafka.Topics=null,config.Kafka.TopicPattern=^ztf_.*", "autoscaling.mode keda with autoscaling.minReplicas 0 needs autoscaling.keda.topic here (config.Kafka.TopicPattern is set, so KEDA is given no topic)")]
    [InlineData("autoscaling.mode=keda,autoscaling.minReplicas=0,config.Kafka.Topics={ztf_a,ztf_b}", "autoscaling.mode keda with autoscaling.minReplicas 0 needs autoscaling.keda.topic here (config.Kafka.Topics has more than one topic, so KEDA is given no topic)")]

    // Found by the chart review: KEDA was given a topic the workers never read (its lag is not theirs and, with no offset
    // committed, only grows: maxReplicas workers for ever).
    [InlineData("autoscaling.mode=keda,autoscaling.keda.topic=ztf_20261122_programid1", "autoscaling.keda.topic 'ztf_20261122_programid1' is not in config.Kafka.Topics [ztf_20261121_programid1]: the workers never read it")]
    [InlineData("autoscaling.mode=keda,autoscaling.minReplicas=0,config.Kafka.Topics=null,config.Kafka.TopicPattern=^ztf_.*,autoscaling.keda.topic=lsst_alerts", "autoscaling.keda.topic 'lsst_alerts' does not match config.Kafka.TopicPattern '^ztf_.*': the workers never read it")]
    [InlineData("autoscaling.mode=keda,config.Kafka.TopicPattern=^ztf_.*,autoscaling.keda.topic=lsst_alerts", "autoscaling.keda.topic 'lsst_alerts' is not in config.Kafka.Topics [ztf_20261121_programid1] and does not match config.Kafka.TopicPattern '^ztf_.*'")]

    // Found by the chart review: a static member id from extraEnv with one value for every pod was accepted, while the
    // same setting under config was refused; the workers fence each other (exit 70).
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Properties__group.instance.id,extraEnv[0].value=worker-0", "extraEnv[0] gives AlertBroker__Kafka__Properties__group.instance.id the same value in every pod (a plain value): with more than one worker")]
    [InlineData("replicaCount=1,autoscaling.mode=keda,extraEnv[0].name=AlertBroker:Kafka:Properties:group.instance.id,extraEnv[0].value=worker-0", "extraEnv[0] gives AlertBroker:Kafka:Properties:group.instance.id the same value in every pod (a plain value)")]
    [InlineData("replicaCount=1,updateStrategy.rollingUpdate.maxSurge=1,updateStrategy.rollingUpdate.maxUnavailable=0,extraEnv[0].name=AlertBroker__Kafka__Properties__group.instance.id,extraEnv[0].value=worker-0", "extraEnv[0] gives AlertBroker__Kafka__Properties__group.instance.id the same value in every pod (a plain value)")]
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Properties__group.instance.id,extraEnv[0].valueFrom.configMapKeyRef.name=ids,extraEnv[0].valueFrom.configMapKeyRef.key=id", "the same value in every pod (a value from a ConfigMap, a Secret or a resource)")]
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Properties__group.instance.id,extraEnv[0].valueFrom.fieldRef.fieldPath=spec.nodeName", "the same value in every pod (valueFrom.fieldRef spec.nodeName, which the pods share)")]

    // Found by the chart review: the web view, which has no authentication, was put outside the cluster without a word.
    [InlineData("config.Web.Enabled=true,metrics.service.type=LoadBalancer", "config.Web.Enabled with metrics.service.type LoadBalancer makes the web view reachable from outside the cluster, and it has no authentication")]
    [InlineData("config.Web.Enabled=true,metrics.service.type=NodePort", "config.Web.Enabled with metrics.service.type NodePort makes the web view reachable from outside the cluster")]
    [InlineData("config.Web.Enabled=true,metrics.service.type=NodePort,metrics.service.allowWebViewOutsideCluster=yes", "metrics.service.allowWebViewOutsideCluster: Invalid type. Expected: boolean")]

    // A null output topic was left to the worker's default, beyond the checks of the output topics; two were refused as
    // "both '%!s(<nil>)'".
    [InlineData("config.Kafka.ShadowTopic=null", "config.Kafka.ShadowTopic must be set: the topic the worker writes the classifications of shadow models to")]
    public void Template_InvalidValues_AreRefused(string set, string expected)
    {
        var result = Helm.TryTemplate(["minimal"], set);

        Assert.True(result.ExitCode != 0, "accepted: " + set);
        Assert.Contains(expected, result.All, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two null output topics were refused as "config.Kafka.OutputTopic and DeadLetterTopic are both '%!s(&lt;nil&gt;)'";
    /// each is named as a topic that must be set, as the worker says.
    /// </summary>
    [HelmFact]
    public void Template_TwoNullOutputTopics_SayEachMustBeSet()
    {
        var result = Helm.TryTemplate(["minimal"], "config.Kafka.OutputTopic=null,config.Kafka.DeadLetterTopic=null");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("config.Kafka.OutputTopic must be set: the topic the worker writes its classifications to", result.All, StringComparison.Ordinal);
        Assert.Contains("config.Kafka.DeadLetterTopic must be set: the topic the worker writes the alerts it cannot process to", result.All, StringComparison.Ordinal);
        Assert.DoesNotContain("%!", result.All, StringComparison.Ordinal);
        Assert.DoesNotContain("are both", result.All, StringComparison.Ordinal);
    }

    /// <summary>
    /// NOTES.txt says when the HTTP surfaces, which have no authentication, are reachable beyond what the operator may
    /// expect: a NodePort or LoadBalancer Service (metrics, health and, when enabled, the web view), and the web view
    /// open to every pod without a NetworkPolicy that lists who may connect. Until 2026-12-07 it said nothing.
    /// </summary>
    [HelmTheory]
    [InlineData("metrics.service.type=NodePort", "WARNING: metrics.service.type NodePort puts /metrics, /healthz and /readyz outside\nthe cluster, without authentication")]
    [InlineData("config.Web.Enabled=true,metrics.service.type=LoadBalancer,metrics.service.allowWebViewOutsideCluster=true", "WARNING: metrics.service.type LoadBalancer puts the web view (pages and JSON API), /metrics, /healthz and /readyz outside")]
    [InlineData("config.Web.Enabled=true,metrics.service.type=LoadBalancer,metrics.service.allowWebViewOutsideCluster=true", "No NetworkPolicy limits who may connect")]
    [InlineData("config.Web.Enabled=true", "WARNING: the web view (pages and JSON API) has no authentication, and every pod of the cluster can reach it")]
    [InlineData("config.Web.Enabled=true,networkPolicy.enabled=true", "WARNING: the web view (pages and JSON API) has no authentication, and every pod of the cluster can reach it")]
    public void Notes_SurfacesWithoutAuthenticationWithinReach_AreWarnedOf(string set, string expected)
    {
        var notes = Helm.Notes(["minimal"], set);

        Assert.Contains(expected, notes, StringComparison.Ordinal);
    }

    [HelmTheory]
    [InlineData("metrics.port=9464")]
    [InlineData("config.Web.Enabled=true,networkPolicy.enabled=true,networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name=monitoring")]
    [InlineData("metrics.service.enabled=false,metrics.service.type=NodePort")]
    public void Notes_ClusterIpOrAWebViewBehindANetworkPolicy_WarnOfNoExposure(string set)
    {
        var notes = Helm.Notes(["minimal"], set);

        Assert.Contains("Upgrading, rolling back and promoting models", notes, StringComparison.Ordinal);
        Assert.DoesNotContain("authentication", notes, StringComparison.Ordinal);
    }

    [HelmTheory]
    [InlineData("resources.requests.cpu=0.5")]
    [InlineData("resources.requests.cpu=250m")]
    [InlineData("resources.limits.memory=1.5Gi")]
    [InlineData("resources.limits.memory=1e9")]
    [InlineData("resources.requests.memory=100M")]
    [InlineData("tmpDir.sizeLimit=0")]
    [InlineData("podDisruptionBudget.maxUnavailable=100%")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=1")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=50%")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=2,autoscaling.mode=keda,autoscaling.minReplicas=3")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=50%,autoscaling.mode=hpa,autoscaling.minReplicas=2")]
    [InlineData("podDisruptionBudget.maxUnavailable=null,podDisruptionBudget.minAvailable=0,autoscaling.mode=keda,autoscaling.minReplicas=0")]
    [InlineData("podDisruptionBudget.maxUnavailable=1,autoscaling.mode=keda,autoscaling.minReplicas=0")]
    [InlineData("podDisruptionBudget.enabled=false,podDisruptionBudget.maxUnavailable=0")]
    [InlineData("updateStrategy.rollingUpdate.maxSurge=1,updateStrategy.rollingUpdate.maxUnavailable=0")]
    [InlineData("config.Kafka.OutputTopic=ztf.classified-v2")]
    [InlineData("config.Schemas.RegistryUrl=http://sr:8081,security.schemaRegistry.auth.existingSecret=sr-user")]
    [InlineData("config.State.RetryInitialMs=100,config.State.RetryMaxMs=100")]
    [InlineData("config.Metadata.Sources.ztf.host-redshift.RedisHash=meta:z")]
    [InlineData("config.Metadata.Sources.ztf.host-redshift.Csv=/meta/z.csv,config.Metadata.Sources.ztf.host-redshift.Column=z")]
    [InlineData("image.tag=1.0.0-rc.1")]
    [InlineData("image.repository=registry.example.org:5000/astro/alert_broker")]
    [InlineData("metrics.serviceMonitor.enabled=true,metrics.serviceMonitor.scrapeTimeout=30s")]
    [InlineData("metrics.serviceMonitor.enabled=true,metrics.serviceMonitor.interval=1h,metrics.serviceMonitor.scrapeTimeout=59m")]
    [InlineData("extraEnv[0].name=DOTNET_GCHeapHardLimitPercent,extraEnv[0].value=0x4B")]
    [InlineData("nameOverride=ab-2")]
    [InlineData("fullnameOverride=broker-ztf")]
    [InlineData("config.Model.ExecutionProvider=Cuda,resources.limits.nvidia\\.com/gpu=1")]
    [InlineData("config.Kafka.Topics=null,config.Kafka.TopicPattern=^ztf_[0-9]+_programid[12],config.Kafka.OutputTopic=ztf_classified")]
    [InlineData("config.Telemetry.OtlpEndpoint=http://otel-collector.monitoring:4318/v1")]
    [InlineData("config.Kafka.BootstrapServers=kafka-0.kafka:9092\\, kafka-1.kafka:9092")]
    [InlineData("config.Kafka.BootstrapServers=SASL_SSL://kafka:9093\\,kafka-1\\,[fd00::1]:9092\\,[fd00::2]\\,fd00::3")]
    [InlineData("config.Kafka.Properties.group\\.instance\\.id=worker-0,replicaCount=1")]
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Properties__client.id,extraEnv[0].value=ab-7")]
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Properties__group.instance.id,extraEnv[0].valueFrom.fieldRef.fieldPath=metadata.name")]
    [InlineData("extraEnv[0].name=OTEL_EXPORTER_OTLP_HEADERS,extraEnv[0].valueFrom.secretKeyRef.name=otlp,extraEnv[0].valueFrom.secretKeyRef.key=headers")]
    [InlineData("config.Metadata.Redis=meta:6379\\,ssl=false")]

    // Ordinary values beside the credential checks: pairs, URLs, host:port and addresses that name no secret.
    [InlineData("extraEnv[0].name=OTEL_RESOURCE_ATTRIBUTES,extraEnv[0].value=deployment.environment=prod\\,service.namespace=alerts")]
    [InlineData("extraEnv[0].name=UPSTREAM,extraEnv[0].value=http://auth:8080/path?monkey=1&max_tokens=5&sort=key")]
    [InlineData("extraEnv[0].name=CONTACT,extraEnv[0].value=ops@example.org")]
    [InlineData("extraEnv[0].name=NO_PROXY,extraEnv[0].value=.svc\\,.cluster.local\\,10.0.0.0/8")]
    [InlineData("extraEnv[0].name=DOTNET_ENVIRONMENT,extraEnv[0].value=Production,extraEnv[1].name=TZ,extraEnv[1].value=UTC")]
    [InlineData("config.Schemas.RegistryUrl=https://sr-0:8081\\,https://sr-1:8081")]
    [InlineData("config.Telemetry.OtlpEndpoint=http://otel-collector.monitoring:4318/v1?compression=gzip")]

    // A value composed from variables that come from a Secret ($(NAME), which Kubernetes expands) holds no credential.
    [InlineData("extraEnv[0].name=OTLP_TOKEN,extraEnv[0].valueFrom.secretKeyRef.name=otlp,extraEnv[0].valueFrom.secretKeyRef.key=token,extraEnv[1].name=OTEL_EXPORTER_OTLP_HEADERS,extraEnv[1].value=Authorization=Bearer $(OTLP_TOKEN)")]
    [InlineData("extraEnv[0].name=OTEL_EXPORTER_OTLP_HEADERS,extraEnv[0].value=api-key=$(OTLP_KEY)\\,x-team=$(OTLP_TEAM)")]
    [InlineData("extraEnv[0].name=CACHE_URL,extraEnv[0].value=redis://:$(REDIS_PASSWORD)@redis:6379")]
    [InlineData("extraEnv[0].name=CACHE_CONFIGURATION,extraEnv[0].value=redis:6379\\,user=ab\\,password=$(REDIS_PASSWORD)")]
    [InlineData("metrics.prometheusRule.runbookUrl=https://wiki.example/runbooks/alertbroker?view=full#alerts")]

    // The web view outside the cluster when it is meant; metrics alone there (a warning in NOTES.txt); KEDA watching an
    // input topic; a static member id in extraEnv for one worker.
    [InlineData("config.Web.Enabled=true,metrics.service.type=LoadBalancer,metrics.service.allowWebViewOutsideCluster=true")]
    [InlineData("config.Web.Enabled=true,metrics.service.enabled=false,metrics.service.type=LoadBalancer")]
    [InlineData("metrics.service.type=NodePort")]
    [InlineData("autoscaling.mode=keda,autoscaling.keda.topic=ztf_20261121_programid1")]
    [InlineData("autoscaling.mode=keda,autoscaling.minReplicas=0,config.Kafka.Topics=null,config.Kafka.TopicPattern=^(ztf|lsst)_.*,autoscaling.keda.topic=lsst_alerts")]
    [InlineData("autoscaling.keda.topic=not-read-while-mode-is-none")]
    [InlineData("replicaCount=1,extraEnv[0].name=AlertBroker__Kafka__Properties__group.instance.id,extraEnv[0].value=worker-0")]
    [InlineData("extraEnv[0].name=AlertBroker__Kafka__Properties__group.instance.id,extraEnv[0].valueFrom.fieldRef.fieldPath=status.podIP")]
    public void Template_ValidValuesNearTheLimits_AreAccepted(string set)
    {
        var result = Helm.TryTemplate(["minimal"], set);

        Assert.True(result.ExitCode == 0, set + ": " + result.All);
    }

    // Found by the chart bug hunt: the schema's least TtlHours above 0 (0.000277) was below the worker's (one second,
    // 1.0 / 3600 as a double), so a value between them was rendered and the worker stopped at start. --set-json, as a
    // values file does, gives Helm a number (--set gives a string for a fraction).
    [HelmTheory]
    [InlineData("0.000277", false)]
    [InlineData("0.0002777777777777777", false)]
    [InlineData("0.0002777777777777778", true)]
    [InlineData("0.000278", true)]
    [InlineData("0", true)]
    public void Template_StateTtlHours_TakesTheWorkersLeastValueAndNothingBelow(string hours, bool accepted)
    {
        Assert.Equal(1.0 / 3600, 0.0002777777777777778);
        var result = Helm.Run("template", "ab", Helm.Chart, "-f", Helm.Values("minimal"), "--set-json", "config.State.TtlHours=" + hours);

        Assert.True(accepted == (result.ExitCode == 0), hours + ": " + result.All);
        if (accepted)
        {
            var ttl = ConfigFile(Manifests.Parse(result.StandardOutput)).GetProperty("AlertBroker").GetProperty("State").GetProperty("TtlHours").GetDouble();
            Assert.Equal(double.Parse(hours, System.Globalization.CultureInfo.InvariantCulture), ttl);
        }
        else
        {
            Assert.Contains("config.State.TtlHours", result.All, StringComparison.Ordinal);
        }
    }

    // Found by the chart bug hunt: the check asked for Path or a registry, so config.Model.Paths or SearchDirectory alone
    // (both the worker's own settings) could never be used. An empty Path is left out of the file, so the worker uses them.
    [HelmTheory]
    [InlineData("config.Model.Path=,config.Model.SearchDirectory=/models", "SearchDirectory", "/models")]
    [InlineData("config.Model.Path=null,config.Model.Paths={/models/ztf-bts/2.7.0,/models/lsst-bts/1.0.0}", "Paths", "/models/ztf-bts/2.7.0,/models/lsst-bts/1.0.0")]
    public void Template_ModelPathsOrSearchDirectoryAlone_AreRenderedWithoutAPath(string set, string key, string expected)
    {
        var m = Helm.Template(["minimal"], set);
        var model = ConfigFile(m).GetProperty("AlertBroker").GetProperty("Model");

        Assert.False(model.TryGetProperty("Path", out _));
        var value = model.GetProperty(key);
        Assert.Equal(expected, value.ValueKind == JsonValueKind.Array ? string.Join(',', value.EnumerateArray().Select(e => e.GetString())) : value.GetString());
    }

    // A promotion Job was rendered with a registry of spaces, which the promote command reads as no registry at all.
    [HelmFact]
    public void Template_PromoteWithARegistryOfSpaces_IsRefused()
    {
        var result = Helm.TryTemplate(["promote"], "config.Model.RegistryRedis=\\ \\ ");

        Assert.True(result.ExitCode != 0, "accepted: " + result.All);
        Assert.Contains("promote.enabled needs config.Model.RegistryRedis", result.All, StringComparison.Ordinal);
    }

    [HelmFact]
    public void Template_ClusterOlderThanTheChartSupports_IsRefused()
    {
        var result = Helm.Run("template", "ab", Helm.Chart, "-f", Helm.Values("minimal"), "--kube-version", "1.26.0");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("kubeVersion", result.All, StringComparison.OrdinalIgnoreCase);
    }

    internal static JsonElement ConfigFile(Manifests m)
    {
        // The worker's configuration (the dashboard, when enabled, is another ConfigMap).
        var json = Assert.Single(m.OfKind("ConfigMap"), c => c.Map("data").Get("alertbroker.json") is not null).Map("data").Str("alertbroker.json");
        Assert.False(string.IsNullOrEmpty(json));
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    /// <summary>Every <c>Section:Key</c> in the configuration table of docs/worker.md.</summary>
    internal static SortedSet<string> DocumentedWorkerKeys()
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(Helm.RepositoryRoot, "docs", "worker.md")))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal))
            {
                continue;
            }

            var firstCell = line.Split('|')[1];
            foreach (Match k in DocumentedKey().Matches(firstCell))
            {
                keys.Add(k.Groups[1].Value);
            }
        }

        return keys;
    }

    private static string Checksum(Manifests m) => m.Single("Deployment").Str("spec", "template", "metadata", "annotations", "checksum/config")!;

    private static bool Selects(YamlMappingNode selector, YamlMappingNode labels) =>
        selector.Children.All(kv => labels.Get(((YamlScalarNode)kv.Key).Value!) is YamlScalarNode v && v.Value == ((YamlScalarNode)kv.Value).Value);

    private static void AssertSelects(YamlMappingNode selector, YamlMappingNode labels) =>
        Assert.True(Selects(selector, labels), "selector " + selector.ToYamlString() + " does not match " + labels.ToYamlString());

    [GeneratedRegex("(?i)(password|passwd|secret|token|username|^AlertBroker__Redis__User$)")]
    private static partial Regex CredentialName();

    [GeneratedRegex(@"AddCheck<StateStoreCheck>\([^;]*TimeSpan\.FromSeconds\((\d+)\)")]
    private static partial Regex RedisCheckTimeout();

    [GeneratedRegex("service=\"([^\"]*)\"")]
    private static partial Regex ServiceInSelector();

    [GeneratedRegex(@"S3cret-[a-z0-9]+-7Q")]
    private static partial Regex SecretInSet();

    [GeneratedRegex(@"`([A-Z][A-Za-z]+:[A-Z][A-Za-z]+)(?::<[^>]+>)?`")]
    private static partial Regex DocumentedKey();
}
