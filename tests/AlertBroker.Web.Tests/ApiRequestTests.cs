using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Web.Tests;

/// <summary>
/// Odd requests, over real HTTP (Kestrel on a free loopback port), to the web view as the demo wires it (an in-memory
/// store, this process's statistics): whatever the route, method or query, an answer under <c>/api</c> is a JSON error
/// with the API's headers, never a framework's empty 400/404/405.
/// </summary>
public sealed class ApiRequestTests : IAsyncLifetime
{
    private readonly WorkerMetrics _metrics = new();
    private readonly RecentClassificationLog _recent = new(10);
    private WorkerStatistics? _statistics;
    private readonly InMemoryObjectStateStore _store = new();
    private WebApplication? _app;
    private HttpClient? _http;
    private int _port;

    private HttpClient Http => _http!;

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
        builder.Services.AddAlertBrokerWeb(new WebSources
        {
            Mode = "demo",
            Statistics = new InProcessStatisticsSource(_statistics, "test"),
            Recent = new InProcessRecentSource(_recent),
            Store = _store,
            Models = new ModelLibrary(null, []),
        });
        _app = builder.Build();
        _app.MapAlertBrokerWeb();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + _port.ToString(CultureInfo.InvariantCulture)) };
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _statistics?.Dispose();
        _metrics.Dispose();
    }

    // They answered 404 with an empty body and none of the API's headers.
    [Theory]
    [InlineData("GET", "/api/nothing")]
    [InlineData("GET", "/api")]
    [InlineData("GET", "/api/objects/ztf/")]
    [InlineData("GET", "/api/objects/ztf/ZTF1/history/extra")]
    [InlineData("HEAD", "/api/nothing")]
    public async Task Api_UnknownRoute_AnswersJson404WithTheApisHeaders(string method, string path)
    {
        using var response = await SendAsync(method, path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        AssertApiHeaders(response);
        if (method == "GET")
        {
            Assert.Contains("no such API route", Error(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }
    }

    // They answered 405 with an empty body, no content type and none of the API's headers.
    [Theory]
    [InlineData("POST", "/api/overview")]
    [InlineData("POST", "/api/overview/stream")]
    [InlineData("PUT", "/api/models")]
    [InlineData("DELETE", "/api/objects/recent")]
    [InlineData("PATCH", "/api/objects/search?q=ZTF1")]
    [InlineData("OPTIONS", "/api/objects/ztf/ZTF1")]
    [InlineData("DELETE", "/api/objects/ztf/ZTF1/history")]
    [InlineData("POST", "/api/nothing")]
    public async Task Api_MethodOtherThanGetOrHead_AnswersJson405WithAllow(string method, string path)
    {
        using var response = await SendAsync(method, path, new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        AssertApiHeaders(response);
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
        Assert.Contains("read-only", Error(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    // A limit that was not a number answered 400 with an empty body; 0 and -1 were taken as 1 without a word.
    [Theory]
    [InlineData("abc")]
    [InlineData("5.0")]
    [InlineData("0x10")]
    [InlineData("99999999999")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1001")]
    [InlineData("1&limit=2")]
    [InlineData("5&limit=")] // bound as "5": answered 200 with five items
    [InlineData("&limit=5")]
    [InlineData("3&limit=3")]
    public async Task Recent_LimitNotAWholeNumberFrom1To1000_AnswersJson400(string limit)
    {
        using var response = await Http.GetAsync(new Uri("/api/objects/recent?limit=" + limit, UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertApiHeaders(response);
        Assert.Contains("limit must be a whole number from 1 to 1000", Error(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    // A repeated q was bound as one string joined with a comma ("a,b") and searched for that, with a 200.
    [Theory]
    [InlineData("q=ZTF1&q=ZTF2")]
    [InlineData("q=&q=ZTF2")]
    public async Task Search_RepeatedQ_AnswersJson400(string query)
    {
        using var response = await Http.GetAsync(new Uri("/api/objects/search?" + query, UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertApiHeaders(response);
        Assert.Contains("give q once", Error(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("q=ZTF1", HttpStatusCode.OK)]
    [InlineData("q=", HttpStatusCode.BadRequest)]
    [InlineData("", HttpStatusCode.BadRequest)]
    public async Task Search_OneOrNoQ_AnswersAsBefore(string query, HttpStatusCode expected)
    {
        using var response = await Http.GetAsync(new Uri("/api/objects/search?" + query, UriKind.Relative));
        Assert.Equal(expected, response.StatusCode);
        AssertApiHeaders(response);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1000")]
    public async Task Recent_LimitInRange_AnswersTheList(string limit)
    {
        using var response = await Http.GetAsync(new Uri("/api/objects/recent?limit=" + limit, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Array, body.RootElement.GetProperty("items").ValueKind);
    }

    // Object ids are whatever the alerts carry. Kestrel decodes a request path except %2F, so an id holding a '/' (the
    // page sends encodeURIComponent's a%2Fb) was looked up as the characters "a%2Fb": "no such object", 404, for an object
    // the store holds. An id holding "%2F" itself (sent as %252F) stays itself.
    [Theory]
    [InlineData("ZTF/slash", "ZTF%2Fslash")]
    [InlineData("ZTF/slash", "ZTF%2fslash")]
    [InlineData("ZTF%2Fpercent", "ZTF%252Fpercent")]
    [InlineData("a b/c?d#e", "a%20b%2Fc%3Fd%23e")]
    public async Task Object_IdHoldingASlashOrAPercent_IsFoundAsTheClientEncodedIt(string id, string encoded)
    {
        var committed = new bool[1];
        await _store.WriteAsync(
            [new StateWrite(new ObjectKey(Survey.Ztf, id), 0, new ObjectState
            {
                Version = 1,
                UpdatedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                Observations = [new Observation(1, 60000.1, Passband.ZtfG, ObservationKind.Detection, 120f, 8f, 20.5f)],
            })],
            committed);
        Assert.True(committed[0]);

        using var found = await Http.GetAsync(new Uri("/api/objects/ztf/" + encoded + "?x=1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        using var body = JsonDocument.Parse(await found.Content.ReadAsStringAsync());
        Assert.Equal(id, body.RootElement.GetProperty("objectId").GetString());

        using var history = await Http.GetAsync(new Uri("/api/objects/ztf/" + encoded + "/history", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, history.StatusCode);
        using var historyBody = JsonDocument.Parse(await history.Content.ReadAsStringAsync());
        Assert.Equal(id, historyBody.RootElement.GetProperty("objectId").GetString());
    }

    // HEAD answered 405 everywhere (uptime checks and curl -I use it; RFC 9110 asks every GET resource to answer it).
    [Theory]
    [InlineData("/")]
    [InlineData("/ui/")]
    [InlineData("/ui/object?survey=ztf&id=x")]
    [InlineData("/ui/assets/app.css")]
    [InlineData("/api/overview")]
    [InlineData("/api/models")]
    [InlineData("/api/objects/recent")]
    [InlineData("/api/objects/search?q=ZTF1")]
    [InlineData("/api/objects/ztf/ZTFnothere")]
    public async Task Head_AnyPageAssetOrApiRoute_AnswersAsGetWithoutABody(string path)
    {
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Http.BaseAddress };
        using var get = await noRedirect.GetAsync(new Uri(path, UriKind.Relative));
        using var head = await noRedirect.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri(path, UriKind.Relative)));
        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.ToString(), head.Content.Headers.ContentType?.ToString());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    // A HEAD must not hold the event stream open: on a kept-alive connection the next request would never be answered.
    [Fact]
    public async Task Stream_Head_AnswersTheHeadersAndEndsSoTheConnectionServesTheNextRequest()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        var stream = client.GetStream();
        stream.ReadTimeout = 10_000;
        await stream.WriteAsync(Encoding.ASCII.GetBytes("HEAD /api/overview/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        var head = await ReadHeadersAsync(stream);
        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/event-stream", head, StringComparison.OrdinalIgnoreCase);

        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        var next = await ReadHeadersAsync(stream);
        Assert.StartsWith("HTTP/1.1 404", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_Get_SendsOverviewEvents()
    {
        using var response = await Http.GetAsync(new Uri("/api/overview/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("event: overview", await reader.ReadLineAsync());
    }

    // The assets are the embedded files only: no traversal reaches the file system, and no page is served as an asset.
    [Theory]
    [InlineData("/ui/assets/..%2f..%2fetc%2fpasswd")]
    [InlineData("/ui/assets/%2e%2e%2f%2e%2e%2fappsettings.json")]
    [InlineData("/ui/assets/..%5c..%5cappsettings.json")]
    [InlineData("/ui/assets/index.html")]
    [InlineData("/ui/assets/")]
    public async Task Assets_NameOutsideTheEmbeddedAssets_AnswersNotFound(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    // If-None-Match was compared as one exact string: "*", a list of tags or a weak tag got the whole asset again.
    [Theory]
    [InlineData("{0}", true)]
    [InlineData("W/{0}", true)]
    [InlineData("\"other\", {0}", true)]
    [InlineData("*", true)]
    [InlineData("\"other\"", false)]
    public async Task Assets_IfNoneMatch_ReadAsRfc9110(string header, bool notModified)
    {
        using var first = await Http.GetAsync(new Uri("/ui/assets/common.js", UriKind.Relative));
        var etag = first.Headers.ETag!.Tag;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/ui/assets/common.js", UriKind.Relative));
        request.Headers.TryAddWithoutValidation("If-None-Match", string.Format(CultureInfo.InvariantCulture, header, etag));

        using var response = await Http.SendAsync(request);

        Assert.Equal(notModified ? HttpStatusCode.NotModified : HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(notModified ? 0 : (await first.Content.ReadAsByteArrayAsync()).Length, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    private Task<HttpResponseMessage> SendAsync(string method, string path, HttpContent? content = null) =>
        Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)) { Content = content });

    private static void AssertApiHeaders(HttpResponseMessage response)
    {
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
    }

    private static string Error(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("error").GetString() ?? string.Empty;
    }

    /// <summary>The status line and headers of one response (up to the blank line); a HEAD or 404 here has no body to skip.</summary>
    private static async Task<string> ReadHeadersAsync(NetworkStream stream)
    {
        var text = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!text.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, timeout.Token) == 0)
            {
                break;
            }

            text.Append((char)one[0]);
        }

        return text.ToString();
    }
}
