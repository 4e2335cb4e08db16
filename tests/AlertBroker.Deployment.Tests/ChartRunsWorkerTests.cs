using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace AlertBroker.Deployment.Tests;

/// <summary>
/// The worker started the way the chart starts it: the rendered ConfigMap's file given to <c>alertbroker run --config</c>,
/// the Deployment's plain environment variables set, the probes' paths asked on the rendered port, then SIGTERM as the
/// kubelet sends it. Kafka is librdkafka's mock cluster (<c>alertbroker mock-kafka</c>), Redis a local redis-server.
/// </summary>
public sealed class ChartRunsWorkerTests : IClassFixture<RedisServerFixture>, IDisposable
{
    private readonly RedisServerFixture _redis;
    private readonly string _dir = Directory.CreateTempSubdirectory("ab-chart-run-").FullName;
    private readonly List<ChildProcess> _processes = [];

    public ChartRunsWorkerTests(RedisServerFixture redis)
    {
        _redis = redis;
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            p.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [HelmFact]
    public async Task Worker_StartedWithTheChartsConfigAndEnvironment_ServesItsProbesAndStopsCleanlyOnSigterm()
    {
        Assert.True(_redis.Available, "redis-server is not installed (run eng/setup.sh)");

        var cli = CliPath();
        var topic = "chart-" + Guid.NewGuid().ToString("N")[..8];
        var kafka = Start(cli, _dir, ["mock-kafka", "--topic", topic], new Dictionary<string, string>());
        var bootstrap = kafka.ReadLine(TimeSpan.FromSeconds(30));
        Assert.Matches(@"^127\.0\.0\.1:\d+", bootstrap);

        var port = TestPorts.Free();
        var m = Helm.Template(["minimal"], [.. WorkerSettings(bootstrap, topic, port), "drain.timeoutSeconds=20", "terminationGracePeriodSeconds=30"]);

        // The ConfigMap's file, and the container's plain (non-secret) variables, exactly as rendered.
        var configFile = Path.Combine(_dir, "alertbroker.json");
        await File.WriteAllTextAsync(configFile, m.Single("ConfigMap").Map("data").Str("alertbroker.json"));
        var container = m.WorkerContainer();
        var env = container.Env().Where(e => e.Value.Get("value") is not null).ToDictionary(e => e.Key, e => e.Value.Str("value")!, StringComparer.Ordinal);
        Assert.Equal("0.0.0.0", env["AlertBroker__Telemetry__HttpAddress"]);
        var args = container.Seq("args").Strings().Select(a => a == "/etc/alertbroker/config/alertbroker.json" ? configFile : a).ToArray();
        Assert.Equal(["run", "--config", configFile], args);

        var worker = Start(cli, _dir, args, env);
        var probePort = int.Parse(container.Seq("ports").Cast<YamlMappingNode>().Single().Str("containerPort")!, CultureInfo.InvariantCulture);
        Assert.Equal(port, probePort);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{probePort}"), Timeout = TimeSpan.FromSeconds(3) };

        Assert.Equal(HttpStatusCode.OK, await PollAsync(http, container.Str("livenessProbe", "httpGet", "path")!, worker, TimeSpan.FromSeconds(60)));
        Assert.Equal(HttpStatusCode.OK, await PollAsync(http, container.Str("readinessProbe", "httpGet", "path")!, worker, TimeSpan.FromSeconds(60)));
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("alertbroker_model_active{model=\"ztf-bts\",version=\"2.7.0\"} 1", metrics, StringComparison.Ordinal);

        // SIGTERM, as the kubelet sends it: a clean stop (exit 0) well inside the grace period.
        var clock = Stopwatch.StartNew();
        worker.Signal("TERM");
        Assert.True(worker.Process.WaitForExit(TimeSpan.FromSeconds(30)), "the worker did not stop within terminationGracePeriodSeconds");
        Assert.True(worker.Process.ExitCode == 0, "exit code " + worker.Process.ExitCode + "\n" + worker.Output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "stopping took " + clock.Elapsed);
        kafka.Signal("INT");
        kafka.Process.WaitForExit(10_000);
    }

    /// <summary>
    /// The chart's Kafka security variables (SASL/SCRAM over TLS with a private CA and an encrypted client key, as rendered
    /// from values, the Secrets' values and mounted files stood in for by local ones) are the worker's own keys: they bind
    /// and validate (no exit code 2), reach librdkafka (which loads the encrypted key with its password) and, against the
    /// mock's plaintext listener, end in the start-time refusal (exit code 4), with no secret in the output.
    /// </summary>
    [HelmFact]
    public async Task Worker_WithTheChartsKafkaSaslSslVariables_BindsThemAndIsRefusedByAPlaintextBroker()
    {
        Assert.True(_redis.Available, "redis-server is not installed (run eng/setup.sh)");
        const string SaslPassword = "chart-sasl-S3cret-19ab";
        using var certificates = TestCertificates.Create("chart-key-S3cret-0c44");
        var cli = CliPath();
        var kafka = Start(cli, _dir, ["mock-kafka", "--topic", "t"], new Dictionary<string, string>());
        var bootstrap = kafka.ReadLine(TimeSpan.FromSeconds(30));
        var m = Helm.Template(
            ["minimal"],
            $"config.Kafka.BootstrapServers={bootstrap}",
            $"config.State.Redis={_redis.Configuration}",
            "config.Model.Path=" + Path.Combine(Helm.RepositoryRoot, "models", "ztf-bts", "2.7.0"),
            "metrics.port=" + TestPorts.Free().ToString(CultureInfo.InvariantCulture),
            "security.kafka.securityProtocol=SaslSsl",
            "security.kafka.sasl.mechanism=ScramSha256",
            "security.kafka.sasl.existingSecret=kafka-user",
            "security.kafka.tls.existingSecret=kafka-tls",
            "security.kafka.tls.certificateKey=tls.crt",
            "security.kafka.tls.keyKey=tls.key",
            "security.kafka.tls.keyPasswordKey=key.password");
        var configFile = Path.Combine(_dir, "alertbroker-sasl.json");
        await File.WriteAllTextAsync(configFile, m.Single("ConfigMap").Map("data").Str("alertbroker.json"));
        var container = m.WorkerContainer();
        var mounted = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["/etc/alertbroker/tls/kafka/ca.crt"] = certificates.CaFile,
            ["/etc/alertbroker/tls/kafka/tls.crt"] = certificates.CertificateFile,
            ["/etc/alertbroker/tls/kafka/tls.key"] = certificates.EncryptedKeyFile,
        };
        var fromSecrets = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AlertBroker__Kafka__SaslUsername"] = "alertbroker",
            ["AlertBroker__Kafka__SaslPassword"] = SaslPassword,
            ["AlertBroker__Kafka__SslKeyPassword"] = certificates.KeyPassword,
        };
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, variable) in container.Env())
        {
            if (variable.Get("value") is not null)
            {
                var value = variable.Str("value")!;
                env[name] = mounted.GetValueOrDefault(value, value);
            }
            else
            {
                Assert.Equal("secretKeyRef", ((YamlScalarNode)((YamlMappingNode)variable.Map("valueFrom")).Children.Keys.Single()).Value);
                env[name] = fromSecrets[name];
            }
        }

        Assert.Equal("SaslSsl", env["AlertBroker__Kafka__SecurityProtocol"]);
        Assert.Equal("ScramSha256", env["AlertBroker__Kafka__SaslMechanism"]);
        Assert.Equal(certificates.EncryptedKeyFile, env["AlertBroker__Kafka__SslKeyLocation"]);
        env["Logging__LogLevel__Default"] = "Debug";
        var worker = Start(cli, _dir, ["run", "--config", configFile], env);

        Assert.True(worker.Process.WaitForExit(TimeSpan.FromSeconds(90)), "the worker did not stop:\n" + worker.Output);
        worker.Process.WaitForExit();
        Assert.True(worker.Process.ExitCode == 4, "exit code " + worker.Process.ExitCode + "\n" + worker.Output);
        Assert.Contains("security protocol SaslSsl, SASL ScramSha256 as user 'alertbroker'", System.Text.RegularExpressions.Regex.Replace(worker.Output, @"\s+", " "), StringComparison.Ordinal);
        Assert.DoesNotContain(SaslPassword, worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(certificates.KeyPassword, worker.Output, StringComparison.Ordinal);
        kafka.Signal("INT");
        kafka.Process.WaitForExit(10_000);
    }

    /// <summary>
    /// A real Prometheus (Debian's 2.42, from eng/setup.sh) scrapes the worker the chart starts, with the labels the chart's
    /// ServiceMonitor gives the scrape, and loads the chart's rendered alerting rules: alerts flow through the worker, then
    /// every rule evaluates without error and every query of the chart's Grafana dashboard answers (with data where the
    /// worker has had something to count). What no unit test shows: that the exposition, names and labels are what the
    /// rules and panels select, as Prometheus itself reads them.
    /// </summary>
    [HelmFact]
    public async Task Prometheus_ScrapingTheChartsWorkerWithItsRules_EveryRuleEvaluatesAndEveryDashboardQueryAnswers()
    {
        Assert.True(_redis.Available, "redis-server is not installed (run eng/setup.sh)");
        var prometheus = Path.Combine(Helm.RepositoryRoot, ".tools", "prometheus", "prometheus");
        Assert.True(File.Exists(prometheus), $"prometheus is not at {prometheus}: run eng/setup.sh");

        var cli = CliPath();
        var topic = "prom-" + Guid.NewGuid().ToString("N")[..8];
        var kafka = Start(cli, _dir, ["mock-kafka", "--topic", topic], new Dictionary<string, string>());
        var bootstrap = kafka.ReadLine(TimeSpan.FromSeconds(30));
        var port = TestPorts.Free();
        var m = Helm.Template(["monitoring"], WorkerSettings(bootstrap, topic, port));
        var configFile = Path.Combine(_dir, "alertbroker-prom.json");
        await File.WriteAllTextAsync(configFile, m.OfKind("ConfigMap").Single(c => c.Get("data") is YamlMappingNode data && data.Get("alertbroker.json") is not null).Str("data", "alertbroker.json"));
        var container = m.WorkerContainer();
        var env = container.Env().Where(e => e.Value.Get("value") is not null).ToDictionary(e => e.Key, e => e.Value.Str("value")!, StringComparer.Ordinal);
        var worker = Start(cli, _dir, ["run", "--config", configFile], env);
        using var workerHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(3) };
        Assert.Equal(HttpStatusCode.OK, await PollAsync(workerHttp, "/readyz", worker, TimeSpan.FromSeconds(60)));

        // Prometheus with the chart's rules (the PrometheusRule's spec is a rules file) and the ServiceMonitor's target labels.
        var rule = m.Single("PrometheusRule");
        var alertNames = rule.Map("spec").Seq("groups").Cast<YamlMappingNode>().SelectMany(g => g.Seq("rules").Cast<YamlMappingNode>()).Select(r => r.Str("alert")!).Order(StringComparer.Ordinal).ToList();
        var promDir = Directory.CreateDirectory(Path.Combine(_dir, "prometheus")).FullName;
        await File.WriteAllTextAsync(Path.Combine(promDir, "rules.yaml"), rule.Map("spec").ToYamlString());
        var promPort = TestPorts.Free();
        await File.WriteAllTextAsync(Path.Combine(promDir, "prometheus.yml"), string.Join('\n',
            "global: {scrape_interval: 1s, evaluation_interval: 1s}",
            "rule_files: [rules.yaml]",
            "scrape_configs:",
            "  - job_name: alertbroker",
            $"    static_configs: [{{targets: ['127.0.0.1:{port}'], labels: {{namespace: alerts, service: ab-alertbroker-metrics, pod: ab-alertbroker-0}}}}]",
            string.Empty));
        var server = StartProgram(prometheus, promDir, ["--config.file=prometheus.yml", "--storage.tsdb.path=data", $"--web.listen-address=127.0.0.1:{promPort}", "--log.level=warn"]);
        using var prom = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{promPort}"), Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(HttpStatusCode.OK, await PollAsync(prom, "/-/ready", server, TimeSpan.FromSeconds(60)));

        // Alerts through the worker: a simulated night of ZTF alerts published to its topic.
        var sim = Path.Combine(_dir, "sim-" + topic);
        await RunToEndAsync(cli, ["simulate", "alerts", "--survey", "ztf", "--nights", "3", "--no-cutouts", "--out", sim, "--seed", "3"]);
        await RunToEndAsync(cli, ["replay", sim, "--to-kafka", "--bootstrap-servers", bootstrap, "--topic", topic, "--quiet"]);

        const string Release = "namespace=\"alerts\", service=\"ab-alertbroker-metrics\"";
        var published = 0.0;
        var clock = Stopwatch.StartNew();
        while (published <= 0 && clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(500);
            var answer = await QueryAsync(prom, $"sum(alertbroker_classifications_published_total{{{Release}}})");
            published = answer.Count == 0 ? 0 : answer[0].Value;
        }

        Assert.True(published > 0, "Prometheus saw no published classification\nworker:\n" + worker.Output + "\nprometheus:\n" + server.Output);
        Assert.Equal(1, (await QueryAsync(prom, $"up{{{Release}}}")).Single().Value);

        // The rare-event counters are there at 0 before their first event, so the alerts on increase() see the first one.
        Assert.Equal(0, (await QueryAsync(prom, $"alertbroker_kafka_offset_resets_total{{{Release}, topic=\"{topic}\"}}")).Single().Value);
        Assert.Equal(0, (await QueryAsync(prom, $"alertbroker_kafka_partitions_lost_total{{{Release}}}")).Single().Value);

        // Every rule evaluated (Prometheus evaluates each group every second) without error.
        await Task.Delay(TimeSpan.FromSeconds(3));
        using var rules = System.Text.Json.JsonDocument.Parse(await prom.GetStringAsync(new Uri("/api/v1/rules", UriKind.Relative)));
        var evaluated = rules.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray()).ToList();
        Assert.Equal(alertNames, evaluated.Select(r => r.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
        foreach (var r in evaluated)
        {
            Assert.True(r.GetProperty("health").GetString() == "ok", $"{r.GetProperty("name")}: {r}");
        }

        // Every dashboard query answers as Grafana would ask it (its variables set to this release); the panels on what a
        // working worker counts have data.
        using var dashboard = System.Text.Json.JsonDocument.Parse(((YamlScalarNode)m.OfKind("ConfigMap").Single(c => c.Str("metadata", "name") == "ab-alertbroker-dashboard").Map("data").Children.Single().Value).Value!);
        var withData = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                var expr = target.GetProperty("expr").GetString()!.Replace("$namespace", "alerts", StringComparison.Ordinal).Replace("$service", "ab-alertbroker-metrics", StringComparison.Ordinal);
                if ((await QueryAsync(prom, expr)).Count > 0)
                {
                    withData.Add(expr);
                }
            }
        }

        foreach (var family in new[] { "alertbroker_alerts_received_total", "alertbroker_classifications_published_total", "alertbroker_alert_latency_seconds_bucket", "alertbroker_consumer_lag", "alertbroker_dependency_up", "alertbroker_model_serving", "alertbroker_kafka_partitions_assigned", "dotnet_process_memory_working_set_bytes" })
        {
            Assert.True(withData.Any(e => e.Contains(family + "{", StringComparison.Ordinal)), $"no dashboard query on {family} has data; with data:\n{string.Join('\n', withData)}");
        }

        worker.Signal("TERM");
        Assert.True(worker.Process.WaitForExit(TimeSpan.FromSeconds(30)), "the worker did not stop");
        kafka.Signal("INT");
        kafka.Process.WaitForExit(10_000);
    }

    // An instant query's answer: each series's labels and value (an error fails the test with Prometheus's message).
    private static async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(HttpClient prom, string query)
    {
        using var response = await prom.GetAsync(new Uri("/api/v1/query?query=" + Uri.EscapeDataString(query), UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {response.StatusCode} {body}");
        using var json = System.Text.Json.JsonDocument.Parse(body);
        var data = json.RootElement.GetProperty("data");
        Assert.Equal("vector", data.GetProperty("resultType").GetString());
        return data.GetProperty("result").EnumerateArray()
            .Select(r => (r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal), double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    private async Task RunToEndAsync(string cli, string[] args)
    {
        var child = Start(cli, _dir, args, new Dictionary<string, string>());
        await child.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        child.Process.WaitForExit();
        Assert.True(child.Process.ExitCode == 0, string.Join(' ', args) + ": exit " + child.Process.ExitCode + "\n" + child.Output);
    }

    // The chart's settings for a worker of its own group on the mock cluster and the local Redis, with the shipped ZTF
    // model and the metrics port.
    private string[] WorkerSettings(string bootstrap, string topic, int port) =>
    [
        $"config.Kafka.BootstrapServers={bootstrap}",
        $"config.Kafka.Topics={{{topic}}}",
        "config.Kafka.GroupId=chart-test-" + topic,
        "config.Kafka.Properties.session\\.timeout\\.ms=6000",
        $"config.State.Redis={_redis.Configuration}",
        "config.State.KeyPrefix=chart-" + topic,
        "config.Model.Path=" + Path.Combine(Helm.RepositoryRoot, "models", "ztf-bts", "2.7.0"),
        $"metrics.port={port}",
    ];

    private static string CliPath()
    {
        foreach (var attribute in typeof(ChartRunsWorkerTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
        {
            if (attribute is System.Reflection.AssemblyMetadataAttribute { Key: "AlertBrokerCliPath", Value: { Length: > 0 } path } && File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException("alertbroker.dll not found: build src/AlertBroker.Cli first");
    }

    private ChildProcess Start(string cli, string workingDirectory, string[] args, IReadOnlyDictionary<string, string> env) =>
        StartProgram("dotnet", workingDirectory, [cli, .. args], env);

    private ChildProcess StartProgram(string program, string workingDirectory, string[] args, IReadOnlyDictionary<string, string>? env = null)
    {
        var child = new ChildProcess(Tool.StartInfo(program, workingDirectory, args, env));
        _processes.Add(child);
        return child;
    }

    private static async Task<HttpStatusCode> PollAsync(HttpClient http, string path, ChildProcess worker, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        HttpStatusCode last = 0;
        while (clock.Elapsed < timeout)
        {
            Assert.False(worker.Process.HasExited, "the worker exited:\n" + worker.Output);
            try
            {
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
                last = response.StatusCode;
                if (last == HttpStatusCode.OK)
                {
                    return last;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        Assert.Fail($"{path} answered {last} for {timeout}:\n{worker.Output}");
        return last;
    }
}

/// <summary>A child process whose output is kept (for failure messages) and whose stdout lines can be read.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly System.Collections.Concurrent.BlockingCollection<string> _lines = [];

    public ChildProcess(ProcessStartInfo info)
    {
        Process = new Process { StartInfo = info };
        Process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Append(e.Data);
                _lines.Add(e.Data);
            }
        };
        Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Append(e.Data);
            }
        };
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string ReadLine(TimeSpan timeout) =>
        _lines.TryTake(out var line, timeout) ? line : throw new TimeoutException("no output from " + Process.StartInfo.ArgumentList[1] + ":\n" + Output);

    /// <summary>Sends a POSIX signal (TERM as the kubelet does, INT as Ctrl-C).</summary>
    public void Signal(string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, Process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit(5000);
        }

        Process.Dispose();
        _lines.Dispose();
    }

    private void Append(string line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
