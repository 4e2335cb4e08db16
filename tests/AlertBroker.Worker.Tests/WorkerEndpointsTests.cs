using System.Net;
using System.Text.Json;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> over real HTTP (Kestrel on a free loopback port), with the worker's
/// health state and instruments driven directly: no Kafka, no model needed.
/// </summary>
public sealed class WorkerEndpointsTests : IAsyncLifetime
{
    private readonly FakeStore _store = new();
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _clock = new();
    private readonly WorkerHealth _health;
    private WebApplication? _app;
    private HttpClient? _http;

    private HttpClient Http => _http!;

    public WorkerEndpointsTests()
    {
        _health = new WorkerHealth(_clock);
    }

    public async Task InitializeAsync()
    {
        var port = TestPorts.Free();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Services.AddSingleton(_health);
        builder.Services.AddSingleton<IObjectStateStore>(_store);
        builder.Services.AddSingleton(sp => new WorkerMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.AddHealthChecks().AddAlertBrokerWorkerChecks();
        WorkerTelemetry.Add(builder.Services, builder.Configuration);
        builder.AddAlertBrokerHttp();
        _app = builder.Build();
        _app.MapAlertBrokerWorkerEndpoints();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Readyz_EachCheck_FlipsTheStatusAndTheBodyListsEveryCheck()
    {
        _health.Running = true;
        var (code, body) = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        Assert.Equal(
            new Dictionary<string, string> { ["kafka_partitions"] = "Unhealthy", ["redis"] = "Healthy", ["schema_registry"] = "Healthy", ["model"] = "Unhealthy" },
            Checks(body));
        Assert.Contains("not a member of the consumer group", Description(body, "kafka_partitions"), StringComparison.Ordinal);

        _health.ModelLoaded = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync("/readyz")).Code);
        _health.AssignedPartitions = 3;
        (code, body) = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.All(Checks(body).Values, s => Assert.Equal("Healthy", s));
        Assert.Contains("3 partition(s)", Description(body, "kafka_partitions"), StringComparison.Ordinal);

        _store.Up = false;
        (code, body) = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal("Unhealthy", Checks(body)["redis"]);
        Assert.Equal("Healthy", Checks(body)["kafka_partitions"]);

        _store.Up = true;
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/readyz")).Code);

        // Stopping (SIGTERM): the endpoints answer during the worker's drain since it stops before the web server; not
        // ready from the stop on, whatever it still holds.
        _health.Stopping = true;
        (code, body) = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal("stopping: finishing the batch in hand, committing its offsets and leaving the consumer group", Description(body, "kafka_partitions"));
        _health.Stopping = false;
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/readyz")).Code);

        // A batch whose writes Redis refused (full, a replica): a PING that answers does not make the worker ready again
        // (it was: "Redis answers" while the batch in hand was refused for ever); the next batch that goes through does.
        const string Full = "Redis refuses writes: it is full (OOM command not allowed when used memory > 'maxmemory'.)";
        _health.StateFailed(Full, writesRefused: true, byBatch: true);
        (code, body) = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Contains("Redis refuses the worker's writes for ", Description(body, "redis"), StringComparison.Ordinal);
        Assert.Contains("it is full", Description(body, "redis"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync("/readyz")).Code);
        Assert.NotNull(_health.StateRecovered());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/readyz")).Code);

        // A batch refused longer ago than the hold (the batch is no longer in hand: partitions moved, the worker idle): a
        // probe that goes through ends it; so does it at once an outage only the probe saw.
        _health.StateFailed(Full, DateTimeOffset.UtcNow - WorkerHealth.BatchRefusalHold - TimeSpan.FromSeconds(1), writesRefused: true, byBatch: true);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/readyz")).Code);
        _health.StateFailed(Full, writesRefused: true);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/readyz")).Code);
        _health.AssignedPartitions = 0;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync("/readyz")).Code);

        // A member of the group with no partition is waiting for partitions — a cooperative rebalance gives a joining member
        // an empty assignment first — until that has lasted StandByAfter: then it stands by (more members than partitions),
        // ready. Until 2026-12-07 it was ready, "standing by", at once, in the middle of the rebalance.
        _health.StandByAfter = TimeSpan.FromSeconds(12);
        _health.InGroup = true;
        (code, body) = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Contains("0 partitions assigned for 0 s: a member of the consumer group waiting for partitions (a rebalance in progress, or more members than partitions); ready, standing by, once that has lasted 12 s", Description(body, "kafka_partitions"), StringComparison.Ordinal);
        _clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync("/readyz")).Code);
        _clock.Advance(TimeSpan.FromSeconds(1));
        (code, body) = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Contains("0 partitions assigned for 12 s: a member of the consumer group standing by", Description(body, "kafka_partitions"), StringComparison.Ordinal);

        // Partitions, then none again (a rebalance took them): waiting again, counted from then.
        _health.AssignedPartitions = 2;
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/readyz")).Code);
        _health.AssignedPartitions = 0;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync("/readyz")).Code);
        _clock.Advance(TimeSpan.FromSeconds(12));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/readyz")).Code);

        // A schema registry that stopped answering lookups: not ready, with the reason and since when.
        _health.RegistryFailed("503 ServiceUnavailable", DateTimeOffset.UtcNow.AddSeconds(-42));
        (code, body) = await GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Matches(@"for 4\d s \(since .*\): 503 ServiceUnavailable", Description(body, "schema_registry"));
        _health.RegistryRecovered();
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/readyz")).Code);
    }

    [Fact]
    public async Task Healthz_ConsumeLoop_FlipsAndChecksNothingElse()
    {
        _store.Up = false;
        _health.Running = false;
        var (code, body) = await GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal(new Dictionary<string, string> { ["consume_loop"] = "Unhealthy" }, Checks(body));

        _health.Running = true;
        (code, body) = await GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal(new Dictionary<string, string> { ["consume_loop"] = "Healthy" }, Checks(body));
    }

    [Fact]
    public async Task Metrics_EveryInstrument_ScrapedUnderTheNameDocsWorkerMdGives()
    {
        // The librdkafka gauge reports the library the loader mapped; a worker always loads it before consuming.
        AlertBroker.Worker.Kafka.KafkaNativeLibrary.Load();
        var metrics = _app!.Services.GetRequiredService<WorkerMetrics>();
        metrics.MessagesReceived(7);
        metrics.DeadLetter("NotAvro");
        metrics.DeadLetter("NotAvro");
        metrics.Error(WorkerError.StateUnavailable);
        var timings = new StageTimings(TimeSpan.FromMilliseconds(3), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(9));
        metrics.RecordBatch(new BatchResult(7, 5, [], [], 2, 4, 0, timings) { UnreadableStates = [new AlertBroker.State.ObjectKey(Alerts.Survey.Ztf, "ZTF1")] });
        metrics.SetLag("t", 0, 42);
        metrics.SetModels([("ztf", "active", "ztf-bts", "1.0.0"), ("ztf", "shadow", "ztf-bts", "1.1.0")]);
        metrics.SetMetadataMissing([("lsst", "lsst-meta@1", "host-redshift")]);
        metrics.Unserved("lsst", 3);
        metrics.InvalidOutput("ztf", "ztf-bts", "1.0.0", 2);
        metrics.Filtered("ztf", "negative-flux", 5);
        metrics.MetadataLookups("ztf", "host-redshift", 2, 1, 0);
        metrics.Shadow("ztf", "ztf-bts", "1.1.0", ["a"], 1, 1, 1, [0.25]);
        metrics.SetShadowStatistics([new ShadowGauge("ztf", "ztf-bts", "1.1.0", 10, 0.9, 0.8, 0.75)]);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var classification = new Classification("ZTF1", 1, 1, Alerts.Survey.Ztf, 60000, "ztf-bts", "1.0.0", ["a"], [1f], 1, 1, ScoringPath.Full, now - 1500, now - 10, now);
        metrics.Published(new BatchResult(1, 1, [new OutputMessage("ZTF1", [], classification)], [], 1, 1, 0, timings), now);
        metrics.ObservationsDropped(9);
        metrics.DeadLetterTruncated();
        metrics.KafkaError("consumer", "Local_AllBrokersDown");
        metrics.OffsetReset("t");
        metrics.PartitionsLost(2);
        metrics.LibrdkafkaLog("warning");
        metrics.SetAssignedPartitions(4);
        metrics.SetDependency("redis", false);

        var response = await Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        var scrape = PrometheusScrape.Parse(await response.Content.ReadAsStringAsync());

        var documented = DocumentedMetricNames();
        Assert.True(documented.Count >= 11, "docs/worker.md's telemetry table lists the metrics");
        foreach (var (family, kind) in documented)
        {
            Assert.True(scrape.Types.TryGetValue(family, out var type), $"{family} (documented in docs/worker.md) is not in /metrics; families there: {string.Join(", ", scrape.Types.Keys)}");
            Assert.Equal(kind, type);
        }

        Assert.Equal(7, scrape.Value("alertbroker_messages_received_total"));
        Assert.Equal(5, scrape.Value("alertbroker_alerts_received_total"));
        Assert.Equal(2, scrape.Value("alertbroker_dead_letters_total", "kind=NotAvro"));
        Assert.Equal(2, scrape.Value("alertbroker_errors_total", "kind=decode_NotAvro"));
        Assert.Equal(1, scrape.Value("alertbroker_errors_total", "kind=state_unavailable"));
        Assert.Equal(4, scrape.Value("alertbroker_observations_added_total"));
        Assert.Equal(1, scrape.Value("alertbroker_stage_duration_seconds_bucket", "stage=decode", "le=0.005"));
        Assert.Equal(0, scrape.Value("alertbroker_stage_duration_seconds_bucket", "stage=decode", "le=0.0025"));
        Assert.Equal(1, scrape.Value("alertbroker_stage_duration_seconds_count", "stage=decode"));
        Assert.Equal(0.003, scrape.Value("alertbroker_stage_duration_seconds_sum", "stage=decode"), 6);
        Assert.Equal(1, scrape.Value("alertbroker_batch_size_bucket", "le=10"));
        Assert.Equal(42, scrape.Value("alertbroker_consumer_lag", "topic=t", "partition=0"));
        Assert.Equal(1, scrape.Value("alertbroker_model_active", "model=ztf-bts", "version=1.0.0"));
        Assert.Equal(1, scrape.Value("alertbroker_model_serving", "survey=ztf", "role=shadow", "version=1.1.0"));
        Assert.Equal(3, scrape.Value("alertbroker_alerts_unserved_total", "survey=lsst"));
        Assert.Equal(5, scrape.Value("alertbroker_alerts_filtered_total", "survey=ztf", "reason=negative-flux"));
        Assert.Equal(0.9, scrape.Value("alertbroker_shadow_aggregate_agreement", "survey=ztf"), 6);
        Assert.Equal(0.25, scrape.Value("alertbroker_shadow_abs_diff_total", "survey=ztf", "class=a"), 6);
        Assert.Equal(1, scrape.Value("alertbroker_classifications_published_total"));
        Assert.Equal(1, scrape.Value("alertbroker_alert_latency_seconds_bucket", "le=2.5"));
        Assert.Equal(0, scrape.Value("alertbroker_alert_latency_seconds_bucket", "le=1"));
        Assert.Equal(9, scrape.Value("alertbroker_observations_dropped_total"));
        Assert.Equal(1, scrape.Value("alertbroker_dead_letters_truncated_total"));
        Assert.Equal(1, scrape.Value("alertbroker_kafka_errors_total", "client=consumer", "code=Local_AllBrokersDown"));
        Assert.Equal(1, scrape.Value("alertbroker_kafka_offset_resets_total", "topic=t"));
        Assert.Equal(2, scrape.Value("alertbroker_kafka_partitions_lost_total"));
        Assert.Equal(1, scrape.Value("alertbroker_kafka_log_messages_total", "level=warning"));
        Assert.Equal(4, scrape.Value("alertbroker_kafka_partitions_assigned"));
        Assert.Equal(0, scrape.Value("alertbroker_dependency_up", "dependency=redis"));

        // The runtime's own series: a live process has memory and has used CPU.
        Assert.True(scrape.Value("dotnet_process_memory_working_set_bytes") > 10_000_000);
        Assert.True(scrape.Samples.Where(x => x.Name == "dotnet_process_cpu_time_seconds_total").Sum(x => x.Value) > 0);
    }

    [Fact]
    public async Task Metrics_RareEventCounters_ExportedAtZeroBeforeTheirFirstEvent()
    {
        // Prometheus's increase() sees nothing in a counter that first appears at 1: the chart's offset-reset and
        // lost-partition alerts need the series at 0 from the assignment on (the worker calls StartCounting then).
        var metrics = _app!.Services.GetRequiredService<WorkerMetrics>();
        metrics.StartCounting(["ztf_a", "ztf_b", "ztf_a"]);

        var before = PrometheusScrape.Parse(await Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        Assert.Equal(0, before.Value("alertbroker_kafka_offset_resets_total", "topic=ztf_a"));
        Assert.Equal(0, before.Value("alertbroker_kafka_offset_resets_total", "topic=ztf_b"));
        Assert.Equal(0, before.Value("alertbroker_kafka_partitions_lost_total"));
        Assert.Equal(0, before.Value("alertbroker_state_unreadable_total", "survey=ztf"));
        Assert.Equal(0, before.Value("alertbroker_state_unreadable_total", "survey=lsst"));
        Assert.Equal(0, before.Value("alertbroker_dead_letters_total", "kind=CorruptAvro"));
        Assert.Equal(0, before.Value("alertbroker_dead_letters_total", "kind=Internal"));
        Assert.Equal(0, before.Value("alertbroker_errors_total", "kind=decode_NotAvro"));
        foreach (var kind in Enum.GetValues<WorkerError>())
        {
            Assert.Equal(0, before.Value("alertbroker_errors_total", "kind=" + WorkerMetrics.Label(kind)));
        }

        Assert.Equal("model_refused", WorkerMetrics.Label(WorkerError.ModelRefused));
        Assert.Equal("schema_registry_unavailable", WorkerMetrics.Label(WorkerError.SchemaRegistryUnavailable));

        // A reset adds 1 to the 0 (a second assignment adds nothing); the exporter caches a scrape for a moment.
        metrics.OffsetReset("ztf_b");
        metrics.StartCounting(["ztf_b"]);
        var after = before;
        for (var i = 0; i < 50 && after.Value("alertbroker_kafka_offset_resets_total", "topic=ztf_b") == 0; i++)
        {
            await Task.Delay(100);
            after = PrometheusScrape.Parse(await Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        }

        Assert.Equal(1, after.Value("alertbroker_kafka_offset_resets_total", "topic=ztf_b"));
        Assert.Equal(0, after.Value("alertbroker_kafka_offset_resets_total", "topic=ztf_a"));
    }

    // Every method was answered as a GET: DELETE /healthz and POST /metrics answered 200 with the checks and the scrape.
    [Theory]
    [InlineData("POST", "/healthz")]
    [InlineData("DELETE", "/healthz")]
    [InlineData("PUT", "/readyz")]
    [InlineData("OPTIONS", "/readyz")]
    [InlineData("POST", "/metrics")]
    [InlineData("PATCH", "/metrics")]
    public async Task Endpoints_MethodOtherThanGetOrHead_Answers405WithAllow(string method, string path)
    {
        using var response = await Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)) { Content = new StringContent("{}") });
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/metrics")]
    public async Task Endpoints_Head_AnswersAsGetWithoutABody(string path)
    {
        _health.Running = true;
        using var get = await Http.GetAsync(new Uri(path, UriKind.Relative));
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri(path, UriKind.Relative)));
        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    // /metrics had neither (the health checks sent no nosniff): a browser could sniff the scrape as HTML, a proxy cache it.
    [Theory]
    [InlineData("GET", "/healthz")]
    [InlineData("GET", "/readyz")]
    [InlineData("GET", "/metrics")]
    [InlineData("HEAD", "/metrics")]
    public async Task Endpoints_Answer_NosniffAndNoStore(string method, string path)
    {
        _health.Running = true;
        using var response = await Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
        if (path == "/metrics" && method == "GET")
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AddAlertBrokerHttp_DefaultAddress_ListensOnLoopbackOnly()
    {
        var addresses = _app!.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var address = Assert.Single(addresses);
        Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAlertBrokerHttp_PortZero_StartsWithoutAListener()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["AlertBroker:Telemetry:HttpPort"] = "0" });
        builder.AddAlertBrokerHttp();
        await using var app = builder.Build();
        await app.StartAsync();
        Assert.IsType<NoListenerServer>(app.Services.GetRequiredService<IServer>());
        await app.StopAsync();
    }

    /// <summary>(Prometheus family, type) for every row of the table in docs/worker.md's "Telemetry" section.</summary>
    private static List<(string Family, string Kind)> DocumentedMetricNames()
    {
        var root = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("repository root not found");
        var lines = File.ReadAllLines(Path.Combine(root, "docs", "worker.md"));
        var names = new List<(string, string)>();
        var inTelemetry = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                inTelemetry = line.StartsWith("## Telemetry", StringComparison.Ordinal);
                continue;
            }

            if (!inTelemetry || !(line.StartsWith("| `alertbroker.", StringComparison.Ordinal) || line.StartsWith("| `dotnet.", StringComparison.Ordinal)))
            {
                continue;
            }

            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            var family = cells[2].Trim('`');
            names.Add((family, cells[3].Split(' ')[0]));
        }

        return names;
    }

    private async Task<(HttpStatusCode Code, JsonElement Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, doc.RootElement.Clone());
    }

    private static Dictionary<string, string> Checks(JsonElement body) =>
        body.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString()!);

    private static string Description(JsonElement body, string check) =>
        body.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("name").GetString() == check).GetProperty("description").GetString()!;

    private sealed class FakeStore : IObjectStateStore
    {
        public volatile bool Up = true;

        public Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> PingAsync(CancellationToken cancellationToken = default) => Task.FromResult(Up);
    }
}
