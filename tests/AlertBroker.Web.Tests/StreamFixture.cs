using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Registry;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Web.Tests;

/// <summary>
/// A worker hosted exactly as <c>alertbroker run --web</c> hosts it (the worker's services, its HTTP listener, the web view
/// mounted beside <c>/healthz</c>), following a directory model registry that holds the two shipped models
/// (<c>ztf-sim-base</c> promoted first, then <c>ztf-bts</c>), fed through librdkafka's mock cluster with the real ZTF and
/// Rubin samples of <c>../shared/alert-samples</c> and a small synthetic ZTF stream. Started once per test class; the
/// stream has been fully processed when the tests run.
/// </summary>
public sealed class StreamFixture : IAsyncLifetime
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "ab-web-tests-" + Guid.NewGuid().ToString("N")[..8]);
    private MockKafkaCluster? _kafka;

    public WebApplication? Host { get; private set; }

    public int Port { get; private set; }

    public string BaseUrl => "http://127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Why the stream could not run (no ONNX Runtime, no ../shared), or null.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>Every alert fed, decoded independently of the worker (by object id).</summary>
    public Dictionary<string, List<Alert>> AlertsByObject { get; } = new(StringComparer.Ordinal);

    public int MessagesFed { get; private set; }

    public string RegistryDirectory => Path.Combine(_temp, "registry");

    public async Task InitializeAsync()
    {
        if (!SharedData.Available)
        {
            Unavailable = "../shared (the real alert samples) is not available";
            return;
        }

        Directory.CreateDirectory(_temp);
        await PrepareRegistryAsync();
        var wire = new SurveyWireFormat();
        var feed = WebTestKit.ReadArchives([SharedData.Sample("ztf-real-50"), SharedData.Sample("ztf"), SharedData.Sample("lsst-real-v7_4")], wire);
        var schemas = Path.Combine(_temp, "schemas");
        wire.WriteSchemaDirectory(schemas);
        var messages = feed.Select(f => (f.Key, f.Value)).ToList();
        foreach (var (_, _, alerts) in feed)
        {
            foreach (var a in alerts)
            {
                (AlertsByObject.TryGetValue(a.ObjectId, out var list) ? list : AlertsByObject[a.ObjectId] = []).Add(a);
            }
        }

        foreach (var a in SyntheticZtfAlerts.Generate(6, 4, seed: 15))
        {
            messages.Add((a.ObjectId, a.Message));
        }

        MessagesFed = messages.Count;
        _kafka = MockKafkaCluster.Start();
        _kafka.CreateTopics("alerts", "classifications", "dead-letters");
        Port = TestPorts.Free();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = _kafka.BootstrapServers,
            ["AlertBroker:Kafka:Topics:0"] = "alerts",
            ["AlertBroker:Kafka:OutputTopic"] = "classifications",
            ["AlertBroker:Kafka:DeadLetterTopic"] = "dead-letters",
            ["AlertBroker:Kafka:BatchSize"] = "50",
            ["AlertBroker:Kafka:BatchTimeoutMs"] = "50",
            ["AlertBroker:Schemas:SchemaDirectory"] = schemas,
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Model:RegistryDirectory"] = RegistryDirectory,
            ["AlertBroker:Model:RegistryPollSeconds"] = "1",
            ["AlertBroker:Telemetry:HttpPort"] = Port.ToString(CultureInfo.InvariantCulture),
            ["AlertBroker:Web:Enabled"] = "true",
            ["AlertBroker:Web:RefreshSeconds"] = "1",
        });

        // As RunCommand does with AlertBroker:Web:Enabled.
        builder.AddAlertBrokerWorker();
        builder.AddAlertBrokerHttp();
        builder.AddAlertBrokerWebInWorker();
        Host = builder.Build();
        Host.MapAlertBrokerWorkerEndpoints();
        Host.MapAlertBrokerWeb();
        await Host.StartAsync();

        var worker = Host.Services.GetRequiredService<KafkaAlertWorker>();
        if (!await WebTestKit.WaitUntilAsync(() => Host.Services.GetRequiredService<WorkerHealth>().AssignedPartitions > 0, TimeSpan.FromSeconds(60)))
        {
            throw new InvalidOperationException("the worker was assigned no partition");
        }

        await WebTestKit.ProduceAsync(_kafka.BootstrapServers, "alerts", messages);
        if (!await WebTestKit.WaitUntilAsync(() => worker.Alerts + worker.DeadLetters >= messages.Count, TimeSpan.FromSeconds(120)))
        {
            throw new InvalidOperationException($"the worker processed {worker.Alerts} alerts and {worker.DeadLetters} dead letters of {messages.Count} messages");
        }
    }

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.StopAsync();
            await Host.DisposeAsync();
        }

        _kafka?.Dispose();
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task PrepareRegistryAsync()
    {
        var registry = new DirectoryModelRegistry(RegistryDirectory);
        ActivePointer? current = null;
        foreach (var (name, version) in new[] { ("ztf-sim-base", "2.0.0"), ("ztf-bts", "2.0.0") })
        {
            var dir = WebTestKit.ShippedModel(name, version);
            var bytes = new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
            var registered = await registry.PushAsync(bytes, "web-tests");
            var next = new ActivePointer { Name = registered.Name, Version = registered.Version, Sha256 = registered.Sha256, SinceUtc = DateTimeOffset.UtcNow };
            await registry.SetActiveAsync("ztf", current, next, new PromotionRecord
            {
                Action = "promote",
                Utc = DateTimeOffset.UtcNow,
                From = current?.Ref.ToString(),
                To = next.Ref.ToString(),
                By = "web-tests",
                Reason = current is null ? "first model" : "fine-tuned on BTS",
            });
            current = next;
        }
    }
}
