using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Web.Tests;

/// <summary>
/// Requests the server rejects before a route answers, sent byte by byte over a raw socket to a real Kestrel on a free
/// loopback port (the web view as the demo wires it): under <c>/api</c>, every rejection that reaches the application is
/// the API's JSON error; those Kestrel answers while parsing the request line and headers cannot be, and are pinned here
/// as docs/web.md describes them (a status line and an empty body).
/// </summary>
public sealed class KestrelRejectionTests : IAsyncLifetime
{
    /// <summary>The request body limit of this test's server (Kestrel's default is 30 MB).</summary>
    private const int BodyLimit = 1024;

    private readonly WorkerMetrics _metrics = new();
    private WorkerStatistics? _statistics;
    private WebApplication? _app;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = TestPorts.Free();
        _statistics = new WorkerStatistics(_metrics);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Telemetry:HttpPort"] = _port.ToString(CultureInfo.InvariantCulture),
        });
        builder.AddAlertBrokerHttp();
        builder.Services.Configure<KestrelServerOptions>(k => k.Limits.MaxRequestBodySize = BodyLimit);
        builder.Services.AddAlertBrokerWeb(new WebSources
        {
            Mode = "demo",
            Statistics = new InProcessStatisticsSource(_statistics, "test"),
            Recent = new InProcessRecentSource(new RecentClassificationLog(10)),
            Store = new InMemoryObjectStateStore(),
            Models = new ModelLibrary(null, []),
        });
        _app = builder.Build();
        _app.MapAlertBrokerWeb();

        // The API reads no request body today; a route that did would meet Kestrel's body rejections, which this one
        // reaches (it reads whatever it is sent).
        _app.MapPost("/api/test/body", async (HttpRequest request) =>
        {
            await request.Body.CopyToAsync(Stream.Null);
            return Results.Json(new { read = true });
        });

        // An error status with no body, as a framework component (or Results.StatusCode) leaves it.
        _app.MapGet("/api/test/empty", () => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _statistics?.Dispose();
        _metrics.Dispose();
    }

    // Kestrel rejects these while parsing, before any middleware runs, and answers them itself with no body (there is no
    // hook for the application: aspnet/KestrelHttpServer#2947). Pinned so that docs/web.md is changed with the day they
    // can be reached.
    [Theory]
    [InlineData("malformed request line", "GET /api/overview HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n", 400)]
    [InlineData("malformed header line", "GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n", 400)]
    [InlineData("no Host in HTTP/1.1", "GET /api/overview HTTP/1.1\r\n\r\n", 400)]
    [InlineData("two Host headers", "GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: localhost\r\n\r\n", 400)]
    [InlineData("an encoded NUL in the path", "GET /api/objects/ztf/a%00b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400)]
    [InlineData("an unknown HTTP version", "GET /api/overview HTTP/1.2\r\nHost: 127.0.0.1\r\n\r\n", 505)]
    [InlineData("a request line over 8 KB", "GET /api/objects/search?q={8k} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414)]
    [InlineData("headers over 32 KB", "GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {40k}\r\n\r\n", 431)]
    [InlineData("more than 100 headers", "GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\n{101 headers}\r\n", 431)]
    public async Task Api_RejectedWhileKestrelParses_AnswersTheBareStatus(string what, string request, int status)
    {
        var response = await SendAsync(Expand(request));

        Assert.True(response.Status == status, $"{what}: {response.Head}");
        Assert.Equal("0", response.Header("Content-Length"));
        Assert.Null(response.Header("Content-Type"));
        Assert.Empty(response.Body);
    }

    // The host check (AlertBroker:Telemetry:AllowedHosts) is ours and runs first: it answered plain text on /api too.
    [Fact]
    public async Task Api_HostNotAnswered_AnswersTheApisJsonError()
    {
        var response = await SendAsync("GET /api/overview HTTP/1.1\r\nHost: rebound.example\r\nConnection: close\r\n\r\n");

        Assert.Equal(400, response.Status);
        AssertApiError(response, "the Host header names a host this server does not answer (AlertBroker:Telemetry:AllowedHosts)");
    }

    // A page keeps the plain text: a browser shows it, and no script parses it.
    [Fact]
    public async Task Page_HostNotAnswered_AnswersPlainText()
    {
        var response = await SendAsync("GET /ui/ HTTP/1.1\r\nHost: rebound.example\r\nConnection: close\r\n\r\n");

        Assert.Equal(400, response.Status);
        Assert.Equal("text/plain; charset=utf-8", response.Header("Content-Type"));
        Assert.Contains("Bad Request: the Host header names a host", response.Body, StringComparison.Ordinal);
    }

    // Rejections Kestrel raises while the application reads the body (over the limit, malformed chunks) reach the
    // application: under /api they were Kestrel's bare 413 and 400.
    [Theory]
    [InlineData("a body over the limit", "POST /api/test/body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {over}\r\n\r\n{body}", 413, "the request was rejected: Request body too large")]
    [InlineData("a malformed chunk", "POST /api/test/body HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400, "the request was rejected: Bad chunk size")]
    public async Task Api_RejectedWhileTheBodyIsRead_AnswersTheApisJsonError(string what, string request, int status, string error)
    {
        var response = await SendAsync(request.Replace("{over}", (BodyLimit + 1).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("{body}", new string('x', BodyLimit + 1), StringComparison.Ordinal));

        Assert.True(response.Status == status, $"{what}: {response.Head}");
        AssertApiError(response, error);
    }

    // The routes of the API read no body: a body over every limit is never read, and the method is what is refused.
    [Fact]
    public async Task Api_PostOverTheBodyLimit_IsTheApisJson405()
    {
        var response = await SendAsync("POST /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 100000000\r\n\r\n", readToEnd: false);

        Assert.Equal(405, response.Status);
        Assert.Equal("application/json; charset=utf-8", response.Header("Content-Type"));
    }

    // Any 4xx/5xx under /api that a framework component leaves without a body is the API's JSON (status code pages).
    [Fact]
    public async Task Api_EmptyErrorFromTheFramework_GetsTheApisJsonError()
    {
        var response = await SendAsync("GET /api/test/empty HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

        Assert.Equal(503, response.Status);
        AssertApiError(response, "service unavailable");
    }

    private static void AssertApiError(Response response, string error)
    {
        Assert.Equal("application/json; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
        Assert.Equal("no-store", response.Header("Cache-Control"));
        using var json = JsonDocument.Parse(response.Body);
        Assert.StartsWith(error, json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private static string Expand(string request) => request
        .Replace("{8k}", new string('a', 9 * 1024), StringComparison.Ordinal)
        .Replace("{40k}", new string('b', 40 * 1024), StringComparison.Ordinal)
        .Replace("{101 headers}", string.Concat(Enumerable.Range(0, 101).Select(i => "X-H" + i.ToString(CultureInfo.InvariantCulture) + ": 1\r\n")), StringComparison.Ordinal);

    /// <summary>Sends <paramref name="request"/> as ASCII and reads the answer (to the connection's end, or the headers only).</summary>
    private async Task<Response> SendAsync(string request, bool readToEnd = true)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before it has taken everything (a body over the limit): the answer is read below.
        }

        var received = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            int n;
            try
            {
                n = await stream.ReadAsync(buffer, timeout.Token);
            }
            catch (IOException)
            {
                break;
            }

            if (n == 0)
            {
                break;
            }

            received.Write(buffer, 0, n);
            if (!readToEnd && Encoding.ASCII.GetString(received.ToArray()).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        var text = Encoding.UTF8.GetString(received.ToArray());
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, "no response to: " + request[..Math.Min(80, request.Length)]);
        return new Response(text[..end], text[(end + 4)..]);
    }

    private sealed record Response(string Head, string Body)
    {
        public int Status => int.Parse(Head.Split(' ')[1], CultureInfo.InvariantCulture);

        public string? Header(string name)
        {
            foreach (var line in Head.Split("\r\n").Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && string.Equals(line[..colon], name, StringComparison.OrdinalIgnoreCase))
                {
                    return line[(colon + 1)..].Trim();
                }
            }

            return null;
        }
    }
}
