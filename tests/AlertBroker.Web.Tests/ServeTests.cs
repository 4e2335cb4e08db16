using System.Globalization;
using System.Net;
using System.Text.Json;
using AlertBroker.Registry;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Simulation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Web.Tests;

/// <summary>
/// <c>alertbroker serve</c> beside a worker that keeps its state and follows its model registry in Redis: the web view reads
/// only Redis (states, the recent-classification list, the registry with the worker's heartbeat numbers).
/// </summary>
public sealed class ServeTests : IClassFixture<RedisServerFixture>
{
    private readonly RedisServerFixture _redis;

    public ServeTests(RedisServerFixture redis)
    {
        _redis = redis;
    }

    /// <summary>As <c>ServeCommand</c> builds it: the worker's HTTP wiring plus the standalone web view.</summary>
    internal static WebApplication BuildServe(Dictionary<string, string?> settings, ILoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddAlertBrokerHttp();
        builder.AddAlertBrokerWebStandalone();
        var app = builder.Build();
        app.MapAlertBrokerWeb();
        return app;
    }

    /// <summary><c>serve</c> over the state store's Redis under <paramref name="prefix"/> (no registry), started on a free port.</summary>
    private Task<WebApplication> StartServeOverStateAsync(string prefix) =>
        StartServeAsync("AlertBroker:State:Redis", "AlertBroker:State:KeyPrefix", prefix);

    private Task<WebApplication> StartServeOverRegistryAsync(string registryPrefix) =>
        StartServeAsync("AlertBroker:Model:RegistryRedis", "AlertBroker:Model:RegistryPrefix", registryPrefix);

    // serve over the fixture's Redis, as the state store or the model registry (redisKey), with that prefix, on a free port.
    private async Task<WebApplication> StartServeAsync(string redisKey, string prefixKey, string prefix)
    {
        var serve = BuildServe(new Dictionary<string, string?>
        {
            [redisKey] = _redis.Configuration,
            [prefixKey] = prefix,
            ["AlertBroker:Telemetry:HttpPort"] = TestPorts.Free().ToString(CultureInfo.InvariantCulture),
        });
        await serve.StartAsync();
        return serve;
    }

    /// <summary>GETs <paramref name="path"/>, asserts a 503, and returns its JSON body's error.</summary>
    private static async Task<string> Error503Async(HttpClient http, string path)
    {
        using var r = await http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        using var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("error").GetString()!;
    }

    private static HttpClient Client(WebApplication serve) =>
        new() { BaseAddress = new Uri("http://127.0.0.1:" + serve.Configuration["AlertBroker:Telemetry:HttpPort"]) };

    [OnnxFact]
    public async Task Serve_WorkerFleetOnRedis_ShowsHeartbeatNumbersRecentObjectsHistoryAndModels()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var id = Guid.NewGuid().ToString("N")[..8];
        var statePrefix = "ab" + id;
        var registryPrefix = "reg" + id;

        // The registry: ztf-bts pushed and promoted.
        using (var connection = await _redis.ConnectAsync())
        {
            var registry = new RedisModelRegistry(connection, registryPrefix);
            var dir = WebTestKit.ShippedModel("ztf-bts", "2.0.0");
            var model = await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), "serve-test");
            await registry.SetActiveAsync("ztf", null, new ActivePointer { Name = model.Name, Version = model.Version, Sha256 = model.Sha256, SinceUtc = DateTimeOffset.UtcNow }, new PromotionRecord { Action = "promote", Utc = DateTimeOffset.UtcNow, To = model.Ref.ToString(), By = "serve-test" });
        }

        using var kafka = MockKafkaCluster.Start();
        kafka.CreateTopics("in", "out", "dead");
        var workerPort = TestPorts.Free();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["AlertBroker:Kafka:Topics:0"] = "in",
            ["AlertBroker:Kafka:OutputTopic"] = "out",
            ["AlertBroker:Kafka:DeadLetterTopic"] = "dead",
            ["AlertBroker:Kafka:BatchTimeoutMs"] = "50",
            ["AlertBroker:State:Redis"] = _redis.Configuration,
            ["AlertBroker:State:KeyPrefix"] = statePrefix,
            ["AlertBroker:Model:RegistryRedis"] = _redis.Configuration,
            ["AlertBroker:Model:RegistryPrefix"] = registryPrefix,
            ["AlertBroker:Telemetry:HttpPort"] = workerPort.ToString(CultureInfo.InvariantCulture),
        });
        builder.AddAlertBrokerWorker();
        builder.AddAlertBrokerHttp();
        await using var worker = builder.Build();
        worker.MapAlertBrokerWorkerEndpoints();
        await worker.StartAsync();
        var loop = worker.Services.GetRequiredService<KafkaAlertWorker>();
        Assert.True(await WebTestKit.WaitUntilAsync(() => worker.Services.GetRequiredService<WorkerHealth>().AssignedPartitions > 0, TimeSpan.FromSeconds(60)));
        var alerts = SyntheticZtfAlerts.Generate(8, 4, seed: 3);
        await WebTestKit.ProduceAsync(kafka.BootstrapServers, "in", alerts.Select(a => ((string?)a.ObjectId, a.Message)));
        Assert.True(await WebTestKit.WaitUntilAsync(() => loop.Alerts >= alerts.Count, TimeSpan.FromSeconds(60)));

        var port = TestPorts.Free();
        await using var serve = BuildServe(new Dictionary<string, string?>
        {
            ["AlertBroker:State:Redis"] = _redis.Configuration,
            ["AlertBroker:State:KeyPrefix"] = statePrefix,
            ["AlertBroker:Model:RegistryRedis"] = _redis.Configuration,
            ["AlertBroker:Model:RegistryPrefix"] = registryPrefix,
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
        });
        await serve.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };

        // The overview: the worker's numbers, from its heartbeat (every 5 s).
        JsonElement overview = default;
        Assert.True(await WebTestKit.WaitUntilAsync(
            () =>
            {
                overview = Get(http, "/api/overview");
                return overview.GetProperty("alerts").GetInt64() >= alerts.Count;
            },
            TimeSpan.FromSeconds(20)), overview.ToString());
        Assert.Equal("heartbeats", overview.GetProperty("source").GetString());
        Assert.Equal(1, overview.GetProperty("workers").GetInt32());
        Assert.True(overview.GetProperty("latencyMs").GetProperty("p50").GetDouble() > 0);
        Assert.Equal("ztf-bts", overview.GetProperty("models").GetProperty("ztf").GetProperty("active").GetProperty("name").GetString());

        // Recent classifications: the list the worker keeps in the state store's Redis; each links to a readable object.
        var recent = Get(http, "/api/objects/recent?limit=50");
        var items = recent.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(alerts.Count, items.Count);
        Assert.Equal(alerts.Select(a => a.ObjectId).ToHashSet(), items.Select(i => i.GetProperty("objectId").GetString()!).ToHashSet());
        var objectId = items[0].GetProperty("objectId").GetString()!;
        var state = Get(http, "/api/objects/ztf/" + objectId);
        var decoder = new AlertBroker.Alerts.AlertDecoder();
        var decoded = new List<AlertBroker.Alerts.Alert>();
        foreach (var a in alerts.Where(a => a.ObjectId == objectId))
        {
            decoder.Decode(a.Message, decoded);
        }

        var distinct = decoded.SelectMany(a => a.Detections.Concat(a.UpperLimits).Concat(a.ForcedPhotometry))
            .Where(o => double.IsFinite(o.Mjd)).Select(o => (o.SourceId, o.Kind)).Distinct().Count();
        Assert.Equal(distinct, state.GetProperty("observations").GetArrayLength());
        Assert.StartsWith("ztf-bts/2.0.0/", state.GetProperty("modelId").GetString(), StringComparison.Ordinal);

        // The history, recomputed with the registry's package, ends where the worker's incremental scoring ended.
        var history = Get(http, "/api/objects/ztf/" + objectId + "/history");
        Assert.True(history.GetProperty("available").GetBoolean(), history.ToString());
        Assert.Equal("the model registry", history.GetProperty("source").GetString());
        Assert.InRange(history.GetProperty("storedDifference").GetDouble(), 0, 2e-5);
        foreach (var step in history.GetProperty("steps").EnumerateArray())
        {
            Assert.InRange(step.GetProperty("probabilities").EnumerateArray().Sum(p => p.GetDouble()), 1 - 1e-4, 1 + 1e-4);
        }

        // Asked again while the object is unchanged: the same answer, without running the network again.
        var histories = serve.Services.GetRequiredService<WebSources>().History;
        Assert.Equal(1, histories.Runs);
        Assert.Equal(history.ToString(), Get(http, "/api/objects/ztf/" + objectId + "/history").ToString());
        Assert.Equal(1, histories.Runs);

        // Models: the version, the pointer and the live worker.
        var models = Get(http, "/api/models");
        Assert.Equal("ztf-bts", Assert.Single(models.GetProperty("versions").EnumerateArray()).GetProperty("name").GetString());
        Assert.Single(models.GetProperty("audit").EnumerateArray());
        var heartbeat = Assert.Single(models.GetProperty("workers").EnumerateArray());
        Assert.Equal("ztf-bts@2.0.0", heartbeat.GetProperty("model").GetString());

        // Search: exact id from the state store.
        var search = Get(http, "/api/objects/search?q=" + objectId);
        Assert.Contains(search.GetProperty("matches").EnumerateArray(), m => m.GetProperty("source").GetString() == "state" && m.GetProperty("objectId").GetString() == objectId);

        // Read-only and loopback.
        using (var post = await http.PostAsync(new Uri("/api/overview", UriKind.Relative), new StringContent("{}")))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        }

        var addresses = serve.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Assert.All(addresses, a => Assert.StartsWith("http://127.0.0.1:", a, StringComparison.Ordinal));

        await serve.StopAsync();
        await worker.StopAsync();
    }

    [Fact]
    public async Task Api_UnknownSurveyMissingObjectAndNoStore_AnswerJsonErrors()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var port = TestPorts.Free();
        await using var serve = BuildServe(new Dictionary<string, string?>
        {
            ["AlertBroker:State:Redis"] = _redis.Configuration,
            ["AlertBroker:State:KeyPrefix"] = "empty" + Guid.NewGuid().ToString("N")[..6],
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
        });
        await serve.StartAsync();
        Assert.Null(serve.Services.GetRequiredService<WebSources>().StoreNotAnswering());
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };
        using (var r = await http.GetAsync(new Uri("/api/objects/hsc/X1", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Contains("ztf or lsst", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var r = await http.GetAsync(new Uri("/api/objects/ztf/ZTFnothere", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal("application/json; charset=utf-8", r.Content.Headers.ContentType?.ToString());
        }

        using (var r = await http.GetAsync(new Uri("/api/objects/search?q=", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }

        // No registry: the overview says where numbers would come from; the pages carry a strict CSP.
        var overview = Get(http, "/api/overview");
        Assert.Contains("No model registry", overview.GetProperty("notes")[0].GetString(), StringComparison.Ordinal);
        using (var page = await http.GetAsync(new Uri("/ui/object?survey=ztf&id=x", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            var html = await page.Content.ReadAsStringAsync();
            Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        }

        using (var asset = await http.GetAsync(new Uri("/ui/assets/nothing.js", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, asset.StatusCode);
        }

        await serve.StopAsync();
    }

    // A damaged record was shown as an ordinary empty object (version 0, updated 1970) without a word.
    [Fact]
    public async Task Api_DamagedStateRecord_SaysItCouldNotBeRead()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var prefix = "damaged" + Guid.NewGuid().ToString("N")[..6];
        await _redis.ExecuteAsync("SET", new AlertBroker.State.ObjectKey(AlertBroker.Alerts.Survey.Ztf, "ZTF26damaged").ToStorageKey(prefix), "not a state record at all");
        await using var serve = await StartServeOverStateAsync(prefix);
        using var http = Client(serve);

        var o = Get(http, "/api/objects/ztf/ZTF26damaged");

        Assert.StartsWith("the stored record could not be read", o.GetProperty("unreadable").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, o.GetProperty("observations").GetArrayLength());
        await serve.StopAsync();
    }

    // A heartbeat that is valid JSON but that no worker writes ("deadLetters": null, "workerId": null) passed the registry's
    // damaged-heartbeat filter, and the overview failed on it with a NullReferenceException: /api/overview answered an
    // empty 500 and every event stream closed, for the whole fleet, until the record was removed.
    [Fact]
    public async Task Serve_HeartbeatWithNullFields_IsLeftOutAndTheOverviewAnswers()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var registryPrefix = "hb" + Guid.NewGuid().ToString("N")[..8];
        var now = DateTimeOffset.UtcNow;
        using (var connection = await _redis.ConnectAsync())
        {
            var registry = new RedisModelRegistry(connection, registryPrefix);
            await registry.ReportHeartbeatAsync(new WorkerHeartbeat { WorkerId = "good-1", Utc = now, Statistics = new HeartbeatStatistics { Alerts = 42 } });
        }

        var utc = now.ToString("O", CultureInfo.InvariantCulture);
        var workers = "{" + registryPrefix + "}:models:workers";
        await _redis.ExecuteAsync("HSET", workers, "dead-letters-null", "{\"workerId\":\"bad-1\",\"utc\":\"" + utc + "\",\"statistics\":{\"alerts\":5,\"deadLetters\":null}}");
        await _redis.ExecuteAsync("HSET", workers, "worker-id-null", "{\"workerId\":null,\"utc\":\"" + utc + "\",\"statistics\":{\"alerts\":7}}");
        var port = TestPorts.Free();
        await using var serve = BuildServe(new Dictionary<string, string?>
        {
            ["AlertBroker:State:Redis"] = _redis.Configuration,
            ["AlertBroker:State:KeyPrefix"] = registryPrefix,
            ["AlertBroker:Model:RegistryRedis"] = _redis.Configuration,
            ["AlertBroker:Model:RegistryPrefix"] = registryPrefix,
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
        });
        await serve.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };

        var overview = Get(http, "/api/overview");
        Assert.Equal(1, overview.GetProperty("workers").GetInt32());
        Assert.Equal(42, overview.GetProperty("alerts").GetInt64());
        Assert.Equal("good-1", Assert.Single(overview.GetProperty("perWorker").EnumerateArray()).GetProperty("workerId").GetString());
        var models = Get(http, "/api/models");
        Assert.Equal("good-1", Assert.Single(models.GetProperty("workers").EnumerateArray()).GetProperty("workerId").GetString());

        using (var stream = await http.GetAsync(new Uri("/api/overview/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
            Assert.Equal("event: overview", await reader.ReadLineAsync());
            var data = await reader.ReadLineAsync();
            Assert.StartsWith("data: {\"source\":\"heartbeats\"", data, StringComparison.Ordinal);
        }

        await serve.StopAsync();
    }

    // Two fresh heartbeats whose counters add past long's range (a damaged or foreign record) made /api/overview and every
    // stream a 500 (OverflowException in the sums) for as long as they stayed fresh: the totals are held at the maximum.
    [Fact]
    public async Task Serve_HeartbeatCountersThatAddPastTheRange_TheOverviewAnswersWithTheTotalsHeld()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var registryPrefix = "hbmax" + Guid.NewGuid().ToString("N")[..8];
        var utc = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        var workers = "{" + registryPrefix + "}:models:workers";
        foreach (var id in new[] { "w1", "w2" })
        {
            await _redis.ExecuteAsync("HSET", workers, id, "{\"workerId\":\"" + id + "\",\"utc\":\"" + utc + "\",\"statistics\":{\"alerts\":9223372036854775807,\"deadLetters\":{\"A\":9223372036854775807,\"B\":5}}}");
        }

        var port = TestPorts.Free();
        await using var serve = BuildServe(new Dictionary<string, string?>
        {
            ["AlertBroker:Model:RegistryRedis"] = _redis.Configuration,
            ["AlertBroker:Model:RegistryPrefix"] = registryPrefix,
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
        });
        await serve.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };

        var overview = Get(http, "/api/overview");

        Assert.Equal(2, overview.GetProperty("workers").GetInt32());
        Assert.Equal(long.MaxValue, overview.GetProperty("alerts").GetInt64());
        Assert.All(overview.GetProperty("perWorker").EnumerateArray(), w => Assert.Equal(long.MaxValue, w.GetProperty("deadLetters").GetInt64()));
        await serve.StopAsync();
    }

    // An entry of the recent-classification list that was valid JSON without an object id was listed with null fields,
    // and /api/objects/search failed on it with a NullReferenceException (an empty 500 for every query) until it aged out.
    [Fact]
    public async Task Serve_RecentEntryWithoutObjectId_IsSkippedAndSearchAnswers()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var prefix = "recent" + Guid.NewGuid().ToString("N")[..8];
        const string Good = "{\"objectId\":\"ZTF26good\",\"survey\":\"ztf\",\"mjd\":60000.5,\"model\":\"ztf-bts@2.0.0\",\"topClass\":\"SNIa\",\"topProbability\":0.9,\"observations\":3,\"steps\":2,\"scoring\":\"Full\",\"classifiedUnixMs\":1}";
        // The last: a classification time no browser Date holds, which took the objects page's whole list (2026-12-07).
        const string BadTime = "{\"objectId\":\"ZTF26badtime\",\"survey\":\"ztf\",\"mjd\":60000.5,\"model\":\"m@1\",\"scoring\":\"Full\",\"classifiedUnixMs\":8640000000000001}";
        await _redis.ExecuteAsync("LPUSH", prefix + ":recent-classifications", Good, "{}", "{\"objectId\":null,\"survey\":\"ztf\"}", "{\"objectId\":\"ZTF26nosurvey\"}", "not json", BadTime);
        await using var serve = await StartServeOverStateAsync(prefix);
        using var http = Client(serve);

        var recent = Get(http, "/api/objects/recent");
        Assert.Equal("ZTF26good", Assert.Single(recent.GetProperty("items").EnumerateArray()).GetProperty("objectId").GetString());
        var search = Get(http, "/api/objects/search?q=ZTF26");
        var match = Assert.Single(search.GetProperty("matches").EnumerateArray());
        Assert.Equal("ZTF26good", match.GetProperty("objectId").GetString());
        Assert.Equal("recent", match.GetProperty("source").GetString());
        await serve.StopAsync();
    }

    // serve against a state Redis that is down said nothing: it printed its address and every object page answered 503.
    // It now says so at start (StoreNotAnswering, printed by ServeCommand), answers 503 meanwhile and recovers when the
    // Redis comes up, without a restart.
    [Fact]
    public async Task Serve_StateRedisDownAtStart_SaysSoAnswers503AndRecoversWhenItComesUp()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var redisPort = TestPorts.Free();
        var port = TestPorts.Free();
        await using var serve = BuildServe(new Dictionary<string, string?>
        {
            ["AlertBroker:State:Redis"] = "127.0.0.1:" + redisPort.ToString(CultureInfo.InvariantCulture),
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
        });
        await serve.StartAsync();
        var sources = serve.Services.GetRequiredService<WebSources>();
        var why = sources.StoreNotAnswering();
        Assert.NotNull(why);
        Assert.Contains("127.0.0.1:" + redisPort.ToString(CultureInfo.InvariantCulture), why, StringComparison.Ordinal);
        Assert.Contains("503", why, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };

        // Live, not ready: the readiness check names the store (serve had no probe of its own).
        Assert.Equal(HttpStatusCode.OK, (await ServeProbeAndHostTests.HealthAsync(http, "/healthz")).Code);
        var notReady = await ServeProbeAndHostTests.HealthAsync(http, "/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.Code);
        Assert.Contains(notReady.Checks, c => c is { Name: "redis", Status: "Unhealthy" } && c.Description == "the state store (Redis 127.0.0.1:" + redisPort.ToString(CultureInfo.InvariantCulture) + " prefix ab) is not connected (reconnecting in the background)");
        Assert.Contains(notReady.Checks, c => c is { Name: "model_registry", Status: "Healthy", Description: "no model registry configured" });

        // Each answered only after the Redis client's 5 s timeout, with its diagnostics dump; now at once, saying what is down.
        foreach (var path in new[] { "/api/objects/ztf/ZTF26aaaaaaa", "/api/objects/ztf/ZTF26aaaaaaa/history", "/api/objects/search?q=ZTF26", "/api/objects/recent" })
        {
            using var r = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            using var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.Equal(
                "a data source did not answer: the state store (Redis 127.0.0.1:" + redisPort.ToString(CultureInfo.InvariantCulture) + " prefix ab) is not connected (reconnecting in the background)",
                body.RootElement.GetProperty("error").GetString());
        }

        var late = new RedisServerFixture();
        try
        {
            await late.StartAsync(redisPort);
            Assert.True(late.Available, late.UnavailableReason);
            Assert.True(await WebTestKit.WaitUntilAsync(() => sources.StoreNotAnswering() is null, TimeSpan.FromSeconds(30)), "the store did not reconnect");
            using var r = await http.GetAsync(new Uri("/api/objects/ztf/ZTF26aaaaaaa", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await ServeProbeAndHostTests.HealthAsync(http, "/readyz")).Code);
        }
        finally
        {
            await serve.StopAsync();
            await late.DisposeAsync();
        }
    }

    // A registry Redis gone while serving made every /api/models request (and each overview computation) wait out the Redis
    // client's 5 s timeout and answer its diagnostics dump; now they answer 503 at once, saying which registry is down.
    [Fact]
    public async Task Serve_RegistryRedisGoneWhileServing_ModelsAndOverviewAnswer503SayingSo()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var registryRedis = new RedisServerFixture();
        var port = TestPorts.Free();
        try
        {
            await registryRedis.InitializeAsync();
            Assert.True(registryRedis.Available, registryRedis.UnavailableReason);
            await using var serve = BuildServe(new Dictionary<string, string?>
            {
                ["AlertBroker:State:Redis"] = _redis.Configuration,
                ["AlertBroker:Model:RegistryRedis"] = registryRedis.Configuration,
                ["AlertBroker:Model:RegistryPrefix"] = "gone",
                ["AlertBroker:Web:RefreshSeconds"] = "0.2",
                ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
            });
            await serve.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };
            Get(http, "/api/models");

            await registryRedis.StopAsync();
            var sources = serve.Services.GetRequiredService<WebSources>();
            Assert.True(await WebTestKit.WaitUntilAsync(() => sources.RegistryConnection is { IsConnected: false }, TimeSpan.FromSeconds(30)), "the client did not notice the registry Redis was gone");

            // Not ready, naming the registry; the store it also reads answers.
            var ready = await ServeProbeAndHostTests.HealthAsync(http, "/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Code);
            Assert.Contains(ready.Checks, c => c is { Name: "model_registry", Status: "Unhealthy" } && c.Description == "the model registry (Redis " + registryRedis.Configuration + " prefix gone) is not connected (reconnecting in the background)");
            Assert.Contains(ready.Checks, c => c is { Name: "redis", Status: "Healthy" });

            var expected = "a data source did not answer: the model registry (Redis " + registryRedis.Configuration + " prefix gone) is not connected (reconnecting in the background)";
            foreach (var path in new[] { "/api/models", "/api/overview" })
            {
                using var r = await http.GetAsync(new Uri(path, UriKind.Relative));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
                using var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
                Assert.Equal(expected, body.RootElement.GetProperty("error").GetString());
            }

            // Objects come from the state store, which is up.
            using (var r = await http.GetAsync(new Uri("/api/objects/ztf/ZTF26none", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            }

            await serve.StopAsync();
        }
        finally
        {
            await registryRedis.DisposeAsync();
        }
    }

    // A worker's web view keeps its recent classifications in memory: its Redis state store being down must not take that
    // list away (only the pages that read the store answer 503).
    [Fact]
    public async Task WorkerView_StateRedisDown_RecentListStillAnswersFromMemory_ObjectsAnswer503()
    {
        var redisPort = TestPorts.Free();
        var port = TestPorts.Free();
        var store = await AlertBroker.State.RedisObjectStateStore.ConnectAsync(new AlertBroker.State.RedisStateOptions { Configuration = "127.0.0.1:" + redisPort.ToString(CultureInfo.InvariantCulture), KeyPrefix = "ab" });
        using var metrics = new AlertBroker.Worker.Telemetry.WorkerMetrics();
        using var statistics = new AlertBroker.Worker.Telemetry.WorkerStatistics(metrics);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture) });
        builder.AddAlertBrokerHttp();
        builder.Services.AddAlertBrokerWeb(new WebSources
        {
            Mode = "worker",
            Statistics = new InProcessStatisticsSource(statistics, "test"),
            Recent = new InProcessRecentSource(new AlertBroker.Worker.Pipeline.RecentClassificationLog(10)),
            Store = store,
            StoreDescription = "Redis 127.0.0.1:" + redisPort.ToString(CultureInfo.InvariantCulture) + " prefix ab",
            Models = new ModelLibrary(null, []),
            Owned = [store],
        });
        await using var app = builder.Build();
        app.MapAlertBrokerWeb();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };

        var recent = Get(http, "/api/objects/recent");
        Assert.Equal("this worker (in process)", recent.GetProperty("source").GetString());
        using (var r = await http.GetAsync(new Uri("/api/objects/ztf/ZTF26aaaaaaa", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Contains("is not connected", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await app.StopAsync();
    }

    // A registry key holding another program's value: /api/models answered "WRONGTYPE Operation against a key holding the
    // wrong kind of value", naming no key; it names the key now, as models commands do.
    [Fact]
    public async Task Serve_RegistryKeyOfAnotherType_The503NamesTheKey()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var registryPrefix = "regwrong" + Guid.NewGuid().ToString("N")[..6];
        await _redis.ExecuteAsync("SET", "{" + registryPrefix + "}:models:surveys", "another program's value");
        await using var serve = await StartServeOverRegistryAsync(registryPrefix);
        using var http = Client(serve);

        var error = await Error503Async(http, "/api/models");
        Assert.StartsWith("a data source refused the request: WRONGTYPE", error, StringComparison.Ordinal);
        Assert.Contains("{" + registryPrefix + "}:models:surveys is a string where the registry keeps a set", error, StringComparison.Ordinal);
        Assert.Contains("a prefix of its own", error, StringComparison.Ordinal);

        await serve.StopAsync();
    }

    // A registry record that is not JSON (another program's value, a torn write) was reported as "a data source did not
    // answer": the registry answered, and the operator went looking for an outage. Then one such record took the whole
    // models page; now the parts that can be read are shown, with a note naming the record.
    [Fact]
    public async Task Serve_OneModelRecordThatIsNotJson_ThePageShowsTheRestWithANoteNamingTheRecord()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var registryPrefix = "regjson" + Guid.NewGuid().ToString("N")[..6];
        await _redis.ExecuteAsync("SADD", "{" + registryPrefix + "}:models:index", "m@1");
        await _redis.ExecuteAsync("SET", "{" + registryPrefix + "}:model:m@1:info", "not json{");
        await _redis.ExecuteAsync("SADD", "{" + registryPrefix + "}:models:surveys", "ztf");
        await _redis.ExecuteAsync("SET", "{" + registryPrefix + "}:models:active:ztf", JsonSerializer.Serialize(new { name = "m", version = "1", sha256 = new string('a', 64), sinceUtc = DateTimeOffset.UtcNow }));
        await using var serve = await StartServeOverRegistryAsync(registryPrefix);
        using var http = Client(serve);

        var page = Get(http, "/api/models");

        Assert.Equal(0, page.GetProperty("versions").GetArrayLength());
        Assert.Equal(["versions"], page.GetProperty("leftOut").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("m", page.GetProperty("pointers").GetProperty("ztf").GetProperty("active").GetProperty("name").GetString());
        var note = Assert.Single(page.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!));
        Assert.StartsWith("Left out: registry record Redis key {" + registryPrefix + "}:model:m@1:info is not valid JSON", note, StringComparison.Ordinal);
        await serve.StopAsync();
    }

    [Fact]
    public async Task Serve_ActivePointerThatIsNotJson_TheVersionsAndAuditStillShow()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var registryPrefix = "regptr" + Guid.NewGuid().ToString("N")[..6];
        using (var connection = await _redis.ConnectAsync())
        {
            var registry = new RedisModelRegistry(connection, registryPrefix);
            var dir = WebTestKit.ShippedModel("ztf-bts", "2.0.0");
            await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), "serve-test");
        }

        await _redis.ExecuteAsync("SADD", "{" + registryPrefix + "}:models:surveys", "ztf");
        await _redis.ExecuteAsync("SET", "{" + registryPrefix + "}:models:active:ztf", "{\"name\":");
        await using var serve = await StartServeOverRegistryAsync(registryPrefix);
        using var http = Client(serve);

        var page = Get(http, "/api/models");

        Assert.Equal("ztf-bts", Assert.Single(page.GetProperty("versions").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(["status"], page.GetProperty("leftOut").EnumerateArray().Select(p => p.GetString()));
        var note = Assert.Single(page.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!));
        Assert.StartsWith("Left out: registry record Redis key {" + registryPrefix + "}:models:active:ztf is not valid JSON", note, StringComparison.Ordinal);
        await serve.StopAsync();
    }

    // Nothing readable: the page is the 503 that says a record cannot be read (not that nothing answered).
    [Fact]
    public async Task Serve_EveryPartDamaged_The503SaysTheRecordCannotBeReadNotThatNothingAnswered()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var registryPrefix = "regall" + Guid.NewGuid().ToString("N")[..6];
        await _redis.ExecuteAsync("SADD", "{" + registryPrefix + "}:models:index", "m@1");
        await _redis.ExecuteAsync("SET", "{" + registryPrefix + "}:model:m@1:info", "not json{");
        await _redis.ExecuteAsync("SADD", "{" + registryPrefix + "}:models:surveys", "ztf");
        await _redis.ExecuteAsync("SET", "{" + registryPrefix + "}:models:active:ztf", "null");
        await _redis.ExecuteAsync("LPUSH", "{" + registryPrefix + "}:models:audit", "[1,");
        await using var serve = await StartServeOverRegistryAsync(registryPrefix);
        using var http = Client(serve);

        var error = await Error503Async(http, "/api/models");

        Assert.StartsWith("a data source holds a record it cannot read: registry record Redis key {" + registryPrefix + "}:models:active:ztf", error, StringComparison.Ordinal);
        await serve.StopAsync();
    }

    // An error reply from a Redis that answers (here WRONGTYPE at the recent list; NOPERM for a user without read rights)
    // was reported as "a data source did not answer", which sends an operator looking for an outage.
    [Fact]
    public async Task Serve_RedisErrorReply_Answers503SayingTheSourceRefused()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var prefix = "wrongtype" + Guid.NewGuid().ToString("N")[..6];
        await _redis.ExecuteAsync("HSET", new AlertBroker.State.ObjectKey(AlertBroker.Alerts.Survey.Ztf, "ZTF26hash").ToStorageKey(prefix), "a", "b");
        await _redis.ExecuteAsync("HSET", prefix + ":recent-classifications", "a", "b");
        await using var serve = await StartServeOverStateAsync(prefix);
        using var http = Client(serve);

        var error = await Error503Async(http, "/api/objects/recent");
        Assert.StartsWith("a data source refused the request: ", error, StringComparison.Ordinal);
        Assert.Contains("WRONGTYPE", error, StringComparison.Ordinal);

        // Redis's own reply names no key: the key and what to do are said.
        Assert.Contains(prefix + ":recent-classifications is a hash where the workers keep a list", error, StringComparison.Ordinal);

        // An object key of another type reads as an unreadable record, as the worker reads it (which replaces it).
        using (var r = await http.GetAsync(new Uri("/api/objects/ztf/ZTF26hash", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            using var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.StartsWith("the stored record could not be read", body.RootElement.GetProperty("unreadable").GetString(), StringComparison.Ordinal);
        }

        // And its probability history says the same, not "not scored yet".
        using (var r = await http.GetAsync(new Uri("/api/objects/ztf/ZTF26hash/history", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            using var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.StartsWith("the stored record could not be read", body.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        await serve.StopAsync();
    }

    private static JsonElement Get(HttpClient http, string path)
    {
        using var response = http.GetAsync(new Uri(path, UriKind.Relative)).GetAwaiter().GetResult();
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, path + ": " + (int)response.StatusCode + " " + body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
