using System.Globalization;
using System.Net;
using AlertBroker.Registry;
using AlertBroker.Worker.Kafka;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// <c>run</c> and <c>serve</c> against a redis-server that requires a password (one with spaces): the password from
/// <c>$ALERTBROKER_REDIS_PASSWORD</c>, as <c>--redis-password</c>'s help says, and a password written in the connection
/// strings, which <c>run --web</c> shows nowhere (its <c>/readyz</c>, <c>/api/models</c>, the models page, its output).
/// </summary>
public sealed class RedisPasswordCommandsTests : IClassFixture<PasswordRedisServerFixture>, IDisposable
{
    private readonly PasswordRedisServerFixture _redis;
    private readonly MockKafkaCluster _kafka = MockKafkaCluster.Start();
    private readonly string _root = Directory.CreateTempSubdirectory("ab-redis-pw-").FullName;
    private readonly string _topic = "in-" + Guid.NewGuid().ToString("N")[..8];

    public RedisPasswordCommandsTests(PasswordRedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
        _kafka.CreateTopics(_topic);
    }

    public void Dispose()
    {
        _kafka.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    // Until 2026-12-07 run and serve ignored the variable (only the other commands read it): NOAUTH, exit 4.
    [Fact]
    public async Task Serve_PasswordInTheVariable_OpensTheStoreAndTheRegistry()
    {
        var port = TestPorts.Free();
        using var serve = AlertBrokerProcess.Start(
            ["serve", "--redis", _redis.Configuration, "--model-registry-redis", _redis.Configuration, "--http-port", port.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string?> { ["ALERTBROKER_REDIS_PASSWORD"] = _redis.Password });
        try
        {
            Assert.True(await serve.WaitForLineAsync("web view:", TimeSpan.FromSeconds(90)), serve.Output);
            using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };
            using var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
            var body = await ready.Content.ReadAsStringAsync();
            Assert.True(ready.StatusCode == HttpStatusCode.OK, body + "\n" + serve.Output);
            Assert.Contains("the state store (Redis " + _redis.Configuration + " prefix ab) answers", body, StringComparison.Ordinal);
        }
        finally
        {
            serve.Terminate();
            await serve.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        Assert.True(serve.ExitCode == 0, serve.Output);
        AssertNoPassword(serve.Output);
    }

    [Fact]
    public async Task Run_PasswordInTheVariable_OpensTheStateStore()
    {
        using var worker = AlertBrokerProcess.Start(
            ["run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--group", "g-" + _topic, "--http-port", "0", "--random-model", "--redis", _redis.Configuration],
            new Dictionary<string, string?> { ["ALERTBROKER_REDIS_PASSWORD"] = _redis.Password });
        try
        {
            Assert.True(await worker.WaitForLineAsync("State store: Redis at " + _redis.Configuration, TimeSpan.FromSeconds(90)), worker.Output);
        }
        finally
        {
            worker.Terminate();
            await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        Assert.True(worker.ExitCode == 0, worker.Output);
        AssertNoPassword(worker.Output);
    }

    // Until 2026-12-07 the worker's web view showed the strings as given: /api/models "registry":"Redis
    // 127.0.0.1:…,user=…,password=… prefix …", the log "Web view: worker mode; state Redis 127.0.0.1:…,password=…", and
    // run's warning about --model beside a registry "the worker follows the registry in Redis 127.0.0.1:…,password=…".
    [Fact]
    public async Task RunWeb_PasswordInTheConnectionStrings_ShownNowhere()
    {
        var prefix = "pw" + Guid.NewGuid().ToString("N")[..8];
        var package = TestModelPackages.Export(Path.Combine(_root, "m"), "pw-gru", "1", seed: 5);
        using (var connection = await _redis.ConnectAsync())
        {
            var registry = new RedisModelRegistry(connection, prefix);
            await registry.PushAsync(new ModelPackageBytes(File.ReadAllBytes(Path.Combine(package, "model.json")), File.ReadAllBytes(Path.Combine(package, "model.onnx"))), "test");
            Assert.True((await new ModelPromoter(registry).PromoteAsync(new ModelRef("pw-gru", "1"), new PromotionOptions())).Promoted);
        }

        var state = _redis.Configuration + ",password=" + _redis.Password;
        var registryRedis = _redis.Configuration + ",User=" + _redis.User + ",Password=" + _redis.Password;
        var port = TestPorts.Free();
        using var worker = AlertBrokerProcess.Start(
            [
                "run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", _topic, "--group", "g-" + _topic, "--web",
                "--http-port", port.ToString(CultureInfo.InvariantCulture), "--redis", state, "--model-registry-redis", registryRedis,

                // Ignored beside a registry, with a warning that names the registry.
                "--model", package,
            ],
            new Dictionary<string, string?> { ["AlertBroker__Model__RegistryPrefix"] = prefix });
        var texts = new List<(string What, string Text)>();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)), Timeout = TimeSpan.FromSeconds(10) };
            var readyBody = await WaitUntilReadyAsync(http, worker);
            texts.Add(("/readyz", readyBody));
            texts.Add(("/api/models", await http.GetStringAsync(new Uri("/api/models", UriKind.Relative))));
            texts.Add(("/ui/models", await http.GetStringAsync(new Uri("/ui/models", UriKind.Relative))));
            texts.Add(("/api/overview", await http.GetStringAsync(new Uri("/api/overview", UriKind.Relative))));
        }
        finally
        {
            worker.Terminate();
            await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        texts.Add(("the output", worker.Output));
        foreach (var (what, text) in texts)
        {
            AssertNoPassword(text, what);
        }

        Assert.True(worker.ExitCode == 0, worker.Output);
        Assert.Contains("\"registry\":\"Redis " + _redis.Configuration + " prefix " + prefix + "\"", texts[1].Text, StringComparison.Ordinal);
        Assert.Contains("--model is ignored: the worker follows the registry in Redis " + _redis.Configuration + " and scores", worker.Output, StringComparison.Ordinal);
        Assert.Contains("Web view: worker mode; state Redis " + _redis.Configuration + " prefix ab;", worker.Output, StringComparison.Ordinal);
    }

    // /readyz's body once it answers 200 (the worker has joined its group and loaded the registry's model).
    private static async Task<string> WaitUntilReadyAsync(HttpClient http, AlertBrokerProcess worker)
    {
        var body = string.Empty;
        for (var i = 0; i < 600 && !worker.HasExited; i++)
        {
            try
            {
                using var r = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
                body = await r.Content.ReadAsStringAsync();
                if (r.StatusCode == HttpStatusCode.OK)
                {
                    return body;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        Assert.Fail("/readyz never answered 200: " + body + "\n" + worker.Output);
        return body;
    }

    // Neither the password nor its long piece (a redaction that stopped at its first space showed the rest).
    private void AssertNoPassword(string text, string what = "the output")
    {
        foreach (var piece in _redis.Password!.Split(' ').Where(p => p.Length >= 8).Append(_redis.Password))
        {
            var at = text.IndexOf(piece, StringComparison.Ordinal);
            Assert.True(at < 0, $"{what} shows the password: …{text[Math.Max(0, at - 200)..Math.Min(text.Length, at + piece.Length + 60)]}…");
        }
    }
}
