using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AlertBroker.Web.Tests;

/// <summary>
/// A Redis password written in the connection string (StackExchange.Redis syntax, still accepted) opens the store and the
/// registry but is shown nowhere: not on <c>/readyz</c>, <c>/api/models</c>, the models page, nor in the start's log line.
/// Until 2026-12-07 all four showed the string as given ("Redis 127.0.0.1:16390,password=S3cret prefix ab").
/// </summary>
public sealed class RedisPasswordNotShownTests : IClassFixture<PasswordRedisServerFixture>
{
    private readonly PasswordRedisServerFixture _redis;

    public RedisPasswordNotShownTests(PasswordRedisServerFixture redis)
    {
        _redis = redis;
    }

    [Theory]
    [InlineData("{0},password={1}")]
    [InlineData("{0},Password={1}")]
    [InlineData("{0},user={2},password={1}")]
    [InlineData("{0},User={2},PASSWORD={1},abortConnect=false")]
    public async Task Serve_PasswordInTheConnectionString_ShownNowhere(string format)
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var connection = string.Format(CultureInfo.InvariantCulture, format, _redis.Configuration, _redis.Password, _redis.User);
        var id = Guid.NewGuid().ToString("N")[..8];
        var port = TestPorts.Free();
        using var logs = new CapturingLoggerProvider();
        await using var serve = ServeTests.BuildServe(
            new Dictionary<string, string?>
            {
                ["AlertBroker:State:Redis"] = connection,
                ["AlertBroker:State:KeyPrefix"] = "st" + id,
                ["AlertBroker:Model:RegistryRedis"] = connection,
                ["AlertBroker:Model:RegistryPrefix"] = "reg" + id,
                ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
            },
            logs);
        await serve.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)) };

        using var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        var readyBody = await ready.Content.ReadAsStringAsync();
        var models = await http.GetStringAsync(new Uri("/api/models", UriKind.Relative));
        var page = await http.GetStringAsync(new Uri("/ui/models", UriKind.Relative));
        var overview = await http.GetStringAsync(new Uri("/api/overview", UriKind.Relative));
        await serve.StopAsync();
        var log = string.Join('\n', logs.Entries.Select(e => e.Message + " " + e.Exception));
        foreach (var (what, text) in new[] { ("/readyz", readyBody), ("/api/models", models), ("/ui/models", page), ("/api/overview", overview), ("the log", log) })
        {
            AssertNoPassword(what, text, _redis.Password!);
        }

        // The password did open both (the server requires it): ready, and the descriptions name the endpoints.
        Assert.True(ready.StatusCode == HttpStatusCode.OK, readyBody);
        Assert.Contains("the state store (Redis " + _redis.Configuration + " prefix st" + id + ") answers", readyBody, StringComparison.Ordinal);
        Assert.Contains("the model registry (Redis " + _redis.Configuration + " prefix reg" + id + ")", readyBody, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse(models))
        {
            Assert.Equal("Redis " + _redis.Configuration + " prefix reg" + id, json.RootElement.GetProperty("registry").GetString());
        }

        Assert.Contains("Web view: serve mode; state Redis " + _redis.Configuration + " prefix st" + id, log, StringComparison.Ordinal);
    }

    /// <summary>Neither the password nor any long piece of it (a redaction that stopped at a space left "***** 3f9c… pw").</summary>
    internal static void AssertNoPassword(string what, string text, string password)
    {
        foreach (var piece in password.Split(' ').Where(p => p.Length >= 8).Append(password))
        {
            var at = text.IndexOf(piece, StringComparison.Ordinal);
            Assert.True(at < 0, $"{what} shows the password: …{text[Math.Max(0, at - 120)..Math.Min(text.Length, at + piece.Length + 40)]}…");
        }
    }
}
