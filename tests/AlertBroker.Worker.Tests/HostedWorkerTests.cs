using System.Net;
using System.Net.Sockets;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Tests;

/// <summary>The worker as <c>alertbroker run</c> hosts it: configuration, validation, health and metrics endpoints.</summary>
public sealed class HostedWorkerTests : IClassFixture<MockKafkaFixture>
{
    private readonly MockKafkaFixture _kafka;

    public HostedWorkerTests(MockKafkaFixture kafka)
    {
        _kafka = kafka;
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAlertBrokerWorker();
        return builder.Build();
    }

    [Fact]
    public async Task Start_InvalidConfiguration_FailsWithMessagesNamingTheKeys()
    {
        using var host = BuildHost(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:TopicPattern"] = "ztf.*",
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Model:Path"] = "/definitely/not/here",
            ["AlertBroker:Telemetry:HttpPort"] = "0",
        });
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        var all = string.Join("\n", e.Failures);
        Assert.Contains("AlertBroker:Kafka:BootstrapServers", all, StringComparison.Ordinal);
        Assert.Contains("TopicPattern must start with ^", all, StringComparison.Ordinal);
    }

    [OnnxFact]
    public async Task Host_AlertsFlow_HealthReadyAndMetricsEndpointsReport()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var port = FreePort();
        var modelDir = TestModels.A.Package.Source;
        using var host = BuildHost(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = _kafka.Cluster.BootstrapServers,
            ["AlertBroker:Kafka:GroupId"] = topics.Group,
            ["AlertBroker:Kafka:Topics:0"] = topics.Input,
            ["AlertBroker:Kafka:OutputTopic"] = topics.Output,
            ["AlertBroker:Kafka:DeadLetterTopic"] = topics.DeadLetters,
            ["AlertBroker:Kafka:BatchSize"] = "20",
            ["AlertBroker:Kafka:BatchTimeoutMs"] = "50",
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Model:Path"] = modelDir,
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await host.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        var worker = host.Services.GetRequiredService<Kafka.KafkaAlertWorker>();
        Assert.True(await TestTopics.WaitUntilAsync(() => host.Services.GetRequiredService<WorkerHealth>().AssignedPartitions > 0, TimeSpan.FromSeconds(30)));
        var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);

        var alerts = SyntheticZtfAlerts.Generate(5, 3, seed: 21);
        await topics.ProduceAsync(alerts.Select(a => ((string?)a.ObjectId, a.Message)).ToList());
        var poison = PipelineTestKit.PoisonMessages();
        await topics.ProduceAsync([(null, poison[0])]);
        Assert.True(await TestTopics.WaitUntilAsync(() => worker.Alerts >= alerts.Count && worker.DeadLetters >= 1, TimeSpan.FromSeconds(40)));

        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("alertbroker_alerts_received_total " + alerts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), metrics, StringComparison.Ordinal);
        Assert.Contains("alertbroker_classifications_published_total " + alerts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), metrics, StringComparison.Ordinal);
        Assert.Contains("alertbroker_dead_letters_total{kind=", metrics, StringComparison.Ordinal);
        Assert.Contains("alertbroker_stage_duration_seconds_bucket{stage=\"score\",le=", metrics, StringComparison.Ordinal);
        Assert.Contains("alertbroker_model_active{model=\"random-gru\"", metrics, StringComparison.Ordinal);
        Assert.Contains("alertbroker_consumer_lag{", metrics, StringComparison.Ordinal);

        await host.StopAsync();
        Assert.False(host.Services.GetRequiredService<WorkerHealth>().Running);
        var outputs = topics.ReadAll(topics.Output, r => r.Count >= alerts.Count, TimeSpan.FromSeconds(30));
        Assert.Equal(alerts.Select(a => a.Candid).ToHashSet(), TestTopics.SourceIds(outputs));
    }

    [Fact]
    public void PrometheusExporter_CountersAndHistograms_WritesTextFormat()
    {
        using var exporter = new PrometheusExporter(WorkerMetrics.MeterName);
        using var metrics = new WorkerMetrics();
        metrics.DeadLetter("NotAvro");
        metrics.DeadLetter("NotAvro");
        metrics.Stage("decode", TimeSpan.FromMilliseconds(3));
        metrics.SetLag("t", 0, 42);
        var text = exporter.Scrape();
        Assert.Contains("# TYPE alertbroker_dead_letters_total counter", text, StringComparison.Ordinal);
        Assert.Contains("alertbroker_dead_letters_total{kind=\"NotAvro\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("alertbroker_stage_duration_seconds_bucket{stage=\"decode\",le=\"0.005\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("alertbroker_stage_duration_seconds_count{stage=\"decode\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("alertbroker_consumer_lag{topic=\"t\",partition=\"0\"} 42", text, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
