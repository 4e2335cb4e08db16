using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Model.Packaging;
using AlertBroker.Redis;
using AlertBroker.Registry;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Tests;

/// <summary>How a test builds the worker host: as <c>alertbroker run</c> does, a WebApplication with the worker's services and endpoints.</summary>
internal static class WorkerHosts
{
    public static WebApplication Build(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddAlertBrokerWorker();
        builder.AddAlertBrokerHttp();
        var app = builder.Build();
        app.MapAlertBrokerWorkerEndpoints();
        return app;
    }

    public static Dictionary<string, string?> Settings(TestTopics topics, int httpPort) => new()
    {
        ["AlertBroker:Kafka:BootstrapServers"] = topics.Cluster.BootstrapServers,
        ["AlertBroker:Kafka:GroupId"] = topics.Group,
        ["AlertBroker:Kafka:Topics:0"] = topics.Input,
        ["AlertBroker:Kafka:OutputTopic"] = topics.Output,
        ["AlertBroker:Kafka:DeadLetterTopic"] = topics.DeadLetters,
        ["AlertBroker:Kafka:BatchSize"] = "20",
        ["AlertBroker:Kafka:BatchTimeoutMs"] = "50",
        ["AlertBroker:Telemetry:HttpPort"] = httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The <c>AlertBroker:Redis</c> keys that open a fixture's server.</summary>
    public static void AddRedis(Dictionary<string, string?> settings, RedisServerFixture redis)
    {
        var o = redis.SecurityOptions();
        settings["AlertBroker:Redis:User"] = o.User;
        settings["AlertBroker:Redis:Password"] = o.Password;
        settings["AlertBroker:Redis:Tls"] = o.Tls ? "true" : "false";
        settings["AlertBroker:Redis:TlsCaFile"] = o.TlsCaFile;
    }

    public static HttpClient Client(int port) => new() { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture)) };

    public static async Task<(HttpStatusCode Code, Dictionary<string, string> Checks)> GetChecksAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = doc.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString()!);
        return (response.StatusCode, checks);
    }

    public static async Task<bool> WaitForStatusAsync(HttpClient http, string path, HttpStatusCode expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using (var response = await http.GetAsync(new Uri(path, UriKind.Relative)))
            {
                if (response.StatusCode == expected)
                {
                    return true;
                }
            }

            await Task.Delay(100);
        }

        return false;
    }
}

/// <summary>The worker as <c>alertbroker run</c> hosts it: configuration, validation, health and metrics endpoints.</summary>
public sealed class HostedWorkerTests : IClassFixture<MockKafkaFixture>
{
    private readonly MockKafkaFixture _kafka;

    public HostedWorkerTests(MockKafkaFixture kafka)
    {
        _kafka = kafka;
    }

    [Fact]
    public async Task Start_InvalidConfiguration_FailsWithMessagesNamingTheKeys()
    {
        await using var host = WorkerHosts.Build(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:TopicPattern"] = "ztf.*",
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Model:Path"] = "/definitely/not/here",
            ["AlertBroker:Redis:User"] = "alertbroker",
            ["AlertBroker:Redis:TlsCaFile"] = "/no/such/ca.pem",
            ["AlertBroker:Telemetry:HttpPort"] = "0",
        });
        // Every section is validated before anything connects or loads: one start reports all the problems.
        var e = await Assert.ThrowsAsync<AggregateException>(() => host.StartAsync());
        var all = string.Join("\n", e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(x => x.Failures));
        Assert.Contains("AlertBroker:Kafka:BootstrapServers", all, StringComparison.Ordinal);
        Assert.Contains("TopicPattern must start with ^", all, StringComparison.Ordinal);
        Assert.Contains("AlertBroker:Redis:Password", all, StringComparison.Ordinal);
        Assert.Contains("AlertBroker:Redis:TlsCaFile", all, StringComparison.Ordinal);
        Assert.Contains("AlertBroker:Model:Path '/definitely/not/here' is not a directory", all, StringComparison.Ordinal);
    }

    [Fact]
    public void Candidates_BoundFromConfiguration_ReachTheBatchProcessor_DefaultsOtherwise()
    {
        using var defaults = WorkerHosts.Build(new Dictionary<string, string?> { ["AlertBroker:Model:AllowRandom"] = "true" });
        Assert.Equal(CandidateFilter.Default, defaults.Services.GetRequiredService<IOptions<CandidateFilter>>().Value);

        using var host = WorkerHosts.Build(new Dictionary<string, string?>
        {
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Model:AllowRandom"] = "true",
            ["AlertBroker:Candidates:Enabled"] = "false",
            ["AlertBroker:Candidates:ZtfMinRealBogus"] = "0.65",
            ["AlertBroker:Candidates:StarRadiusArcsec"] = "0",
        });
        var processor = host.Services.GetRequiredService<AlertBroker.Worker.Pipeline.AlertBatchProcessor>();
        Assert.Equal(CandidateFilter.Default with { Enabled = false, ZtfMinRealBogus = 0.65, StarRadiusArcsec = 0 }, processor.Candidates);
    }

    [Fact]
    public async Task Start_UnparsableRedisEndpoint_FailsValidationWithoutThePassword()
    {
        await using var host = WorkerHosts.Build(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = "127.0.0.1:1",
            ["AlertBroker:Kafka:Topics:0"] = "t",
            ["AlertBroker:State:Redis"] = "127.0.0.1:6379,password=hunter2,nonsense=1",
            ["AlertBroker:Model:AllowRandom"] = "true",
            ["AlertBroker:Telemetry:HttpPort"] = "0",
        });
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        var all = string.Join("\n", e.Failures);
        Assert.Contains("AlertBroker:State:Redis", all, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", all, StringComparison.Ordinal);
    }

    [OnnxFact]
    public async Task Host_AlertsFlow_HealthReadyAndMetricsEndpointsReport()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var port = TestPorts.Free();
        var settings = WorkerHosts.Settings(topics, port);
        settings["AlertBroker:State:Store"] = "InMemory";
        settings["AlertBroker:Model:Path"] = TestModels.A.Package.Source;
        await using var host = WorkerHosts.Build(settings);
        await host.StartAsync();
        using var http = WorkerHosts.Client(port);
        var worker = host.Services.GetRequiredService<Kafka.KafkaAlertWorker>();
        Assert.True(await TestTopics.WaitUntilAsync(() => host.Services.GetRequiredService<WorkerHealth>().AssignedPartitions > 0, TimeSpan.FromSeconds(30)));
        var (code, checks) = await WorkerHosts.GetChecksAsync(http, "/readyz");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal(["kafka_partitions", "model", "redis", "schema_registry"], checks.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await WorkerHosts.GetChecksAsync(http, "/healthz")).Code);

        var alerts = SyntheticZtfAlerts.Generate(5, 3, seed: 21);
        await topics.ProduceAsync(alerts.Select(a => ((string?)a.ObjectId, a.Message)).ToList());
        var poison = PipelineTestKit.PoisonMessages();
        await topics.ProduceAsync([(null, poison[0])]);
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Alerts >= alerts.Count && worker.DeadLetters >= 1, TimeSpan.FromSeconds(40)));

        // The Prometheus exporter caches a scrape for a moment, and the lag gauge follows librdkafka's statistics
        // (periodic): poll until the counters and the gauge have caught up.
        PrometheusScrape? scrape = null;
        for (var i = 0; i < 100; i++)
        {
            scrape = PrometheusScrape.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            if (scrape.Samples.Any(s => s.Name == "alertbroker_classifications_published_total" && s.Value >= alerts.Count)
                && scrape.Samples.Any(s => s.Name == "alertbroker_consumer_lag"))
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(alerts.Count, scrape!.Value("alertbroker_alerts_received_total"));
        Assert.Equal(alerts.Count, scrape.Value("alertbroker_classifications_published_total"));
        Assert.Equal(1, scrape.Value("alertbroker_dead_letters_total", "kind=NotAvro"));
        Assert.True(scrape.Value("alertbroker_stage_duration_seconds_count", "stage=score") >= 1);
        Assert.Equal(1, scrape.Value("alertbroker_model_active", "model=" + TestModels.A.Name));
        Assert.Equal(1, scrape.Value("alertbroker_model_serving", "survey=ztf", "role=active", "model=" + TestModels.A.Name));
        Assert.Contains(scrape.Samples, s => s.Name == "alertbroker_consumer_lag" && s.Labels["topic"] == topics.Input);

        await host.StopAsync();
        Assert.False(host.Services.GetRequiredService<WorkerHealth>().Running);
        var outputs = topics.ReadAll(topics.Output, r => r.Count >= alerts.Count, TimeSpan.FromSeconds(30));
        Assert.Equal(alerts.Select(a => a.Candid).ToHashSet(), TestTopics.SourceIds(outputs));
    }

    // The serving gauges were set only when a batch took the new set: a worker with no alerts named the model it had stopped
    // serving in /metrics (and in its web view's overview) until an alert came, while its log and heartbeat named the new one.
    [OnnxFact]
    public async Task Host_PromotionWhileNoAlertsArrive_MetricsNameTheNewModel()
    {
        var root = Directory.CreateTempSubdirectory("ab-idle-swap-").FullName;
        try
        {
            var registry = new DirectoryModelRegistry(Path.Combine(root, "registry"));
            string[] classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
            foreach (var (version, seed) in new[] { ("1", 11L), ("2", 22L) })
            {
                var dir = TestModelPackages.Export(Path.Combine(root, "export", version), "idle", version, seed, hidden: 8, classes: classes);
                await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), "test");
            }

            var promoter = new ModelPromoter(registry);
            Assert.True((await promoter.PromoteAsync(new ModelRef("idle", "1"), new PromotionOptions())).Promoted);
            var topics = new TestTopics(_kafka.Cluster);
            var port = TestPorts.Free();
            var settings = WorkerHosts.Settings(topics, port);
            settings["AlertBroker:State:Store"] = "InMemory";
            settings["AlertBroker:Model:RegistryDirectory"] = Path.Combine(root, "registry");
            settings["AlertBroker:Model:RegistryPollSeconds"] = "1";
            await using var host = WorkerHosts.Build(settings);
            await host.StartAsync();
            using var http = WorkerHosts.Client(port);
            async Task<bool> Serves(string version)
            {
                for (var i = 0; i < 300; i++)
                {
                    var scrape = PrometheusScrape.Parse(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
                    if (scrape.Samples.Any(x => x.Name == "alertbroker_model_active" && x.Value == 1 && x.Labels["version"] == version)
                        && !scrape.Samples.Any(x => x.Name == "alertbroker_model_active" && x.Value == 1 && x.Labels["version"] != version))
                    {
                        return true;
                    }

                    await Task.Delay(100);
                }

                return false;
            }

            Assert.True(await Serves("1"));
            Assert.True((await promoter.PromoteAsync(new ModelRef("idle", "2"), new PromotionOptions())).Promoted);

            Assert.True(await Serves("2"), "/metrics still names idle 1 after the watcher switched to idle 2 (no alert has come)");
            Assert.Equal(0, host.Services.GetRequiredService<Kafka.KafkaAlertWorker>().Alerts);
            await host.StopAsync();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

/// <summary>The hosted worker with its state and its model registry in a Redis that wants an ACL user, a password and TLS.</summary>
public sealed class SecureRedisHostedWorkerTests : IClassFixture<MockKafkaFixture>, IClassFixture<SecureRedisServerFixture>
{
    private readonly MockKafkaFixture _kafka;
    private readonly SecureRedisServerFixture _redis;

    public SecureRedisHostedWorkerTests(MockKafkaFixture kafka, SecureRedisServerFixture redis)
    {
        _kafka = kafka;
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    [OnnxFact]
    public async Task Host_StateOverAclAndTls_ClassifiesAndReadyzFollowsRedis()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var port = TestPorts.Free();
        var settings = WorkerHosts.Settings(topics, port);
        settings["AlertBroker:State:Redis"] = _redis.Configuration;
        settings["AlertBroker:State:KeyPrefix"] = "hw" + Guid.NewGuid().ToString("N")[..8];
        settings["AlertBroker:State:RetryInitialMs"] = "50";
        settings["AlertBroker:State:RetryMaxMs"] = "200";
        settings["AlertBroker:Model:Path"] = TestModels.A.Package.Source;
        WorkerHosts.AddRedis(settings, _redis);
        await using var host = WorkerHosts.Build(settings);
        await host.StartAsync();
        using var http = WorkerHosts.Client(port);
        var worker = host.Services.GetRequiredService<Kafka.KafkaAlertWorker>();
        Assert.True(await WorkerHosts.WaitForStatusAsync(http, "/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(30)));

        var alerts = SyntheticZtfAlerts.Generate(4, 2, seed: 5);
        await topics.ProduceAsync(alerts.Select(a => ((string?)a.ObjectId, a.Message)).ToList());
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Alerts >= alerts.Count, TimeSpan.FromSeconds(40)));
        using (var direct = await _redis.ConnectAsync())
        {
            // Object keys ({prefix}:{survey}:{id}); the prefix also holds the recent-classification list of the web view.
            var keys = direct.GetServers()[0].Keys(pattern: settings["AlertBroker:State:KeyPrefix"] + ":ztf:*").ToList();
            Assert.Equal(alerts.Select(a => a.ObjectId).Distinct().Count(), keys.Count);
        }

        await _redis.StopAsync();
        Assert.True(await WorkerHosts.WaitForStatusAsync(http, "/readyz", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30)));
        var (_, checks) = await WorkerHosts.GetChecksAsync(http, "/readyz");
        Assert.Equal("Unhealthy", checks["redis"]);
        Assert.Equal(HttpStatusCode.OK, (await WorkerHosts.GetChecksAsync(http, "/healthz")).Code);

        await _redis.StartAsync(_redis.Port);
        Assert.True(await WorkerHosts.WaitForStatusAsync(http, "/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(40)));
        await host.StopAsync();
    }

    [OnnxFact]
    public async Task Host_WrongRedisPassword_FailsAtStartWithATypedErrorAndNoPassword()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var settings = WorkerHosts.Settings(topics, 0);
        settings["AlertBroker:State:Redis"] = _redis.Configuration;
        settings["AlertBroker:Model:Path"] = TestModels.A.Package.Source;
        WorkerHosts.AddRedis(settings, _redis);
        settings["AlertBroker:Redis:Password"] = "definitely-wrong";
        await using var host = WorkerHosts.Build(settings);
        var e = await Assert.ThrowsAsync<RedisConnectionFailedException>(() => host.StartAsync());
        Assert.Equal(RedisConnectFailure.Authentication, e.Failure);
        Assert.DoesNotContain("definitely-wrong", e.ToString(), StringComparison.Ordinal);
    }

    [OnnxFact]
    public async Task Host_ModelRegistryOverAclAndTls_ScoresWithTheActiveModel()
    {
        var prefix = "reg" + Guid.NewGuid().ToString("N")[..8];
        using (var connection = await _redis.ConnectAsync())
        {
            var registry = new RedisModelRegistry(connection, prefix);
            var dir = TestModels.B.Package.Source;
            var pushed = await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, ModelPackage.ManifestFileName)), File.ReadAllBytes(Path.Combine(dir, ModelPackage.OnnxFileName))), "test");
            Assert.True((await new ModelPromoter(registry).PromoteAsync(pushed.Ref, new PromotionOptions())).Promoted);
        }

        var topics = new TestTopics(_kafka.Cluster);
        var port = TestPorts.Free();
        var settings = WorkerHosts.Settings(topics, port);
        settings["AlertBroker:State:Store"] = "InMemory";
        settings["AlertBroker:Model:RegistryRedis"] = _redis.Configuration;
        settings["AlertBroker:Model:RegistryPrefix"] = prefix;
        WorkerHosts.AddRedis(settings, _redis);
        await using var host = WorkerHosts.Build(settings);
        await host.StartAsync();
        using var http = WorkerHosts.Client(port);
        Assert.True(await WorkerHosts.WaitForStatusAsync(http, "/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(30)));
        var models = host.Services.GetRequiredService<Scoring.IBatchModelSource>().ForNextBatch();
        Assert.Equal(TestModels.B.Id, models.For("ztf")!.Id);
        Assert.Equal(TestModels.B.Id, models.For("lsst")!.Id);
        await host.StopAsync();
    }
}
