using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;

namespace AlertBroker.Web.Tests;

/// <summary>
/// <c>serve</c>'s own <c>/healthz</c> and <c>/readyz</c> (it had none: a Deployment of it could only probe a page), and the
/// Host check every HTTP listener of ours makes (<c>AlertBroker:Telemetry:AllowedHosts</c>): on loopback a request naming
/// another host (a page elsewhere whose name resolves to 127.0.0.1, DNS rebinding) was answered like the operator's own.
/// </summary>
public sealed class ServeProbeAndHostTests : IClassFixture<RedisServerFixture>
{
    private readonly RedisServerFixture _redis;

    public ServeProbeAndHostTests(RedisServerFixture redis)
    {
        _redis = redis;
    }

    private async Task<WebApplication> StartAsync(int port, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["AlertBroker:State:Redis"] = _redis.Configuration,
            ["AlertBroker:State:KeyPrefix"] = "ab" + Guid.NewGuid().ToString("N")[..8],
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var serve = ServeTests.BuildServe(all);
        await serve.StartAsync();
        return serve;
    }

    /// <summary>GETs <paramref name="path"/> on 127.0.0.1:<paramref name="port"/> naming <paramref name="host"/> in the Host header.</summary>
    private static async Task<HttpStatusCode> StatusAsync(int port, string path, string host)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture) + path));
        request.Headers.Host = host;
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>The health report's status and each check's (name, status, description).</summary>
    internal static async Task<(HttpStatusCode Code, List<(string Name, string Status, string Description)> Checks)> HealthAsync(HttpClient http, string path)
    {
        using var r = await http.GetAsync(new Uri(path, UriKind.Relative));
        using var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        var checks = body.RootElement.GetProperty("checks").EnumerateArray()
            .Select(c => (c.GetProperty("name").GetString()!, c.GetProperty("status").GetString()!, c.GetProperty("description").GetString()!))
            .ToList();
        return (r.StatusCode, checks);
    }

    [Fact]
    public async Task Serve_HealthzAndReadyz_NameTheWebViewTheStoreAndTheRegistry()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var port = TestPorts.Free();
        await using var serve = await StartAsync(port,
            ("AlertBroker:Model:RegistryRedis", _redis.Configuration),
            ("AlertBroker:Model:RegistryPrefix", "reg" + Guid.NewGuid().ToString("N")[..8]));
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };

        var live = await HealthAsync(http, "/healthz");
        Assert.Equal(HttpStatusCode.OK, live.Code);
        Assert.Equal([("web", "Healthy", "the web view answers")], live.Checks);

        var ready = await HealthAsync(http, "/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.Code);
        Assert.Equal(["redis", "model_registry"], ready.Checks.Select(c => c.Name).Order(StringComparer.Ordinal).Reverse());
        Assert.All(ready.Checks, c => Assert.Equal("Healthy", c.Status));
        Assert.Contains(ready.Checks, c => c.Name == "redis" && c.Description.StartsWith("the state store (Redis " + _redis.Configuration, StringComparison.Ordinal));

        // Read-only like the rest; no /metrics (serve scores nothing).
        using (var r = await http.DeleteAsync(new Uri("/readyz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
        }

        using (var r = await http.GetAsync(new Uri("/metrics", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        await serve.StopAsync();
    }

    [Fact]
    public async Task OnLoopback_ARequestNamingAnotherHost_Is400_LoopbackNamesAnswer()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var port = TestPorts.Free();
        var p = ":" + port.ToString(CultureInfo.InvariantCulture);
        await using var serve = await StartAsync(port);

        foreach (var host in new[] { "rebound.example" + p, "rebound.example", "127.0.0.1.rebound.example" + p, "localhost.example" + p })
        {
            foreach (var path in new[] { "/api/overview", "/ui/", "/healthz" })
            {
                Assert.True(await StatusAsync(port, path, host) == HttpStatusCode.BadRequest, $"{path} with Host {host} was not refused");
            }
        }

        foreach (var host in new[] { "localhost" + p, "127.0.0.1" + p, "[::1]" + p, "LOCALHOST" + p, "localhost" })
        {
            Assert.True(await StatusAsync(port, "/healthz", host) == HttpStatusCode.OK, $"Host {host} was refused");
        }

        await serve.StopAsync();
    }

    [Fact]
    public async Task AllowedHostsGiven_OnlyThoseNamesAnswer_AndIpAddressesAndLocalhost()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var port = TestPorts.Free();
        await using var serve = await StartAsync(port, ("AlertBroker:Telemetry:AllowedHosts", "broker.example.org; *.svc.cluster.local"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(port, "/healthz", "broker.example.org"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(port, "/healthz", "alertbroker.ns.svc.cluster.local:9464"));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(port, "/healthz", "svc.cluster.local"));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(port, "/healthz", "rebound.example"));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(port, "/healthz", "10.244.1.17.rebound.example:9464"));

        // Found by the chart bug hunt: with names given (as docs/web.md advises for a pod), the kubelet's probes and
        // Prometheus's scrapes, which name the pod's IP, got 400: the pod never became ready. An IP address or localhost
        // is never what DNS rebinding sends, and is answered.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(port, "/healthz", "10.244.1.17:9464"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(port, "/healthz", "[fd00::17]:9464"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(port, "/healthz", "localhost"));
        await serve.StopAsync();
    }

    [Fact]
    public async Task OnEveryAddress_AnyHostAnswersByDefault()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var port = TestPorts.Free();
        await using var serve = await StartAsync(port, ("AlertBroker:Telemetry:HttpAddress", "0.0.0.0"));

        // A kubelet probes with the pod's IP, Prometheus scrapes with whatever name its service discovery found.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(port, "/healthz", "10.244.1.17:" + port.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(port, "/healthz", "alertbroker-serve.monitoring"));
        await serve.StopAsync();
    }
}
