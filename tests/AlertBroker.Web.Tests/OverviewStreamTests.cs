using System.Globalization;
using System.Net;
using System.Text.Json;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AlertBroker.Web.Tests;

/// <summary>
/// The overview's event stream and <c>/api/overview</c> over real HTTP with many clients: one overview computation per
/// refresh period shared by every client (not one per client), and a cap on open streams.
/// </summary>
public sealed class OverviewStreamTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncDisposable
{
    private WebApplication? _app;
    private HttpClient? _http;

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    // Every client computed its own overview every period: 200 open pages, 200 reads of the statistics (Redis round trips
    // for serve) per period. A period of an hour: within the test, only the number of clients could make it grow.
    [Fact]
    public async Task Stream_ManyClientsAndRequests_ShareOneOverviewComputationPerPeriod()
    {
        var source = new CountingStatisticsSource();
        var http = await StartAsync(source, refreshSeconds: 3600);

        var streams = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => OpenStreamAsync(http)));
        try
        {
            foreach (var (_, reader) in streams)
            {
                using var data = await ReadEventAsync(reader);
                Assert.Equal("heartbeats", data.RootElement.GetProperty("source").GetString());
            }

            for (var i = 0; i < 5; i++)
            {
                using var response = await http.GetAsync(new Uri("/api/overview", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }
        finally
        {
            Close(streams);
        }

        Assert.Equal(1, source.Calls);
    }

    // A source that does not answer: every client still gets the JSON error event (from the one shared computation).
    [Fact]
    public async Task Stream_SourceFails_EveryClientGetsTheJsonErrorEvent()
    {
        var source = new CountingStatisticsSource { Failure = new RegistryException("registry down") };
        var http = await StartAsync(source, refreshSeconds: 3600);

        var streams = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => OpenStreamAsync(http)));
        try
        {
            foreach (var (_, reader) in streams)
            {
                using var data = await ReadEventAsync(reader);
                Assert.Equal("a data source did not answer: registry down", data.RootElement.GetProperty("error").GetString());
            }

            using var response = await http.GetAsync(new Uri("/api/overview", UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
        finally
        {
            Close(streams);
        }

        Assert.Equal(1, source.Calls);
    }

    // A failure other than a source's (a bug, a record no writer makes) ended every stream with an unhandled exception
    // (the pages lost their live updates) and answered /api/overview an empty 500, logged by Kestrel as unhandled.
    [Fact]
    public async Task Stream_UnexpectedFailure_EveryClientGetsAJsonErrorEvent_OverviewAJson500_LoggedOncePerAnswer()
    {
        var source = new CountingStatisticsSource { Failure = new InvalidOperationException("a bug") };
        var log = new CapturingLoggerProvider();
        var http = await StartAsync(source, refreshSeconds: 3600, logs: log);

        var streams = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => OpenStreamAsync(http)));
        try
        {
            foreach (var (_, reader) in streams)
            {
                using var data = await ReadEventAsync(reader);
                Assert.StartsWith("internal error", data.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
            }

            using var response = await http.GetAsync(new Uri("/api/overview", UriKind.Relative));
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.StartsWith("internal error", body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Close(streams);
        }

        Assert.Equal(1, source.Calls);
        var errors = log.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
        Assert.All(errors, e => Assert.Equal("AlertBroker.Web", e.Category));
        Assert.All(errors, e => Assert.Equal("a bug", e.Exception?.Message));
        Assert.Equal(["/api/overview", "/api/overview/stream"], errors.Select(e => e.Message.Split(' ')[2]).Order(StringComparer.Ordinal));
    }

    // Nothing bounded the open streams: every open tab held a connection and a loop, however many there were.
    [Fact]
    public async Task Stream_BeyondMaxStreamClients_Answers503WithRetryAfter_AClosedStreamFreesItsSlot()
    {
        var http = await StartAsync(new CountingStatisticsSource(), refreshSeconds: 3600, maxStreamClients: 2);
        var first = await OpenStreamAsync(http);
        var second = await OpenStreamAsync(http);
        try
        {
            using (var refused = await http.GetAsync(new Uri("/api/overview/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Equal(TimeSpan.FromSeconds(WebApi.StreamRetryAfterSeconds), refused.Headers.RetryAfter?.Delta);
                Assert.Equal("application/json; charset=utf-8", refused.Content.Headers.ContentType?.ToString());
                Assert.Equal("nosniff", Assert.Single(refused.Headers.GetValues("X-Content-Type-Options")));
                using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
                Assert.Contains("AlertBroker:Web:MaxStreamClients", body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
            }

            // The refused page polls instead; HEAD takes no slot either.
            using (var poll = await http.GetAsync(new Uri("/api/overview", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
            }

            using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri("/api/overview/stream", UriKind.Relative))))
            {
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            }

            // The server learns of the closed connection when it next notices (at once on loopback, but not synchronously).
            Close([first]);
            HttpResponseMessage? accepted = null;
            for (var i = 0; i < 100 && accepted is null; i++)
            {
                var response = await http.GetAsync(new Uri("/api/overview/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    accepted = response;
                }
                else
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    response.Dispose();
                    await Task.Delay(50);
                }
            }

            Assert.NotNull(accepted);
            using var reader = new StreamReader(await accepted.Content.ReadAsStreamAsync());
            using (var data = await ReadEventAsync(reader))
            {
                Assert.Equal("heartbeats", data.RootElement.GetProperty("source").GetString());
            }

            accepted.Dispose();
        }
        finally
        {
            Close([first, second]);
        }
    }

    // The page said "reconnecting…" for ever over its first numbers: EventSource does not reconnect after a 503.
    [BrowserFact]
    public async Task OverviewPage_StreamRefused_PollsTheOverviewInstead()
    {
        var source = new CountingStatisticsSource();
        var http = await StartAsync(source, refreshSeconds: 0.2, maxStreamClients: 1);
        var held = await OpenStreamAsync(http);
        try
        {
            browser.Open(http.BaseAddress + "ui/");
            var wait = new OpenQA.Selenium.Support.UI.WebDriverWait(browser.Driver, TimeSpan.FromSeconds(30));
            string Status(OpenQA.Selenium.IWebDriver d) => d.FindElement(OpenQA.Selenium.By.Id("status")).Text;
            wait.Until(d => Status(d).Contains("polling", StringComparison.Ordinal));

            // Still polling: fresh numbers (the overview's time, to the second) keep coming without the stream.
            var first = Status(browser.Driver);
            wait.Until(d => Status(d) != first && Status(d).Contains("polling", StringComparison.Ordinal));
            Assert.Equal("true", browser.Driver.FindElement(OpenQA.Selenium.By.TagName("body")).GetDomAttribute("data-loaded"));
            Assert.NotEmpty(browser.Driver.FindElements(OpenQA.Selenium.By.CssSelector("#cards .card")));
        }
        finally
        {
            Close([held]);
            browser.Driver.Navigate().GoToUrl("about:blank");
            browser.ConsoleMessages();
        }
    }

    [Fact]
    public async Task Snapshot_ConcurrentCallers_OneComputationInFlight_ResultReusedUntilItIsAPeriodOld()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = new CountingStatisticsSource { Gate = gate };
        var clock = new FakeTimeProvider();
        using var sources = Sources(source, refreshSeconds: 2, clock);

        var waiting = Enumerable.Range(0, 50).Select(_ => sources.Overview.GetAsync(CancellationToken.None, CancellationToken.None)).ToList();
        Assert.True(await WebTestKit.WaitUntilAsync(() => source.Calls == 1, TimeSpan.FromSeconds(30)));
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        gate.SetResult();
        var results = await Task.WhenAll(waiting);
        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.Equal(1, source.Calls);

        // Younger than the period: reused. A period old: computed again, once for everyone.
        clock.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Same(results[0], await sources.Overview.GetAsync(CancellationToken.None, CancellationToken.None));
        Assert.Equal(1, source.Calls);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        var next = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => sources.Overview.GetAsync(CancellationToken.None, CancellationToken.None)));
        Assert.Equal(2, source.Calls);
        Assert.All(next, r => Assert.Same(next[0], r));
        Assert.NotSame(results[0], next[0]);
        Assert.Equal(2, next[0].Overview.RefreshSeconds);
    }

    [Fact]
    public async Task Snapshot_ClientCancelled_TheSharedComputationGoesOnForTheOthers()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var source = new CountingStatisticsSource { Gate = gate };
        using var sources = Sources(source, refreshSeconds: 3600, new FakeTimeProvider());
        using var stopping = new CancellationTokenSource();
        using var client = new CancellationTokenSource();

        var cancelled = sources.Overview.GetAsync(stopping.Token, client.Token);
        var other = sources.Overview.GetAsync(stopping.Token, CancellationToken.None);
        Assert.True(await WebTestKit.WaitUntilAsync(() => source.Calls == 1, TimeSpan.FromSeconds(30)));
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(source.LastToken.IsCancellationRequested);
        Assert.False(other.IsCompleted);
        gate.SetResult();
        Assert.Equal("heartbeats", (await other).Overview.Source);
        Assert.Equal(1, source.Calls);

        // The application stopping does cancel it.
        using var stopped = new CancellationTokenSource();
        var clock = new FakeTimeProvider();
        var held = new CountingStatisticsSource { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var heldSources = Sources(held, refreshSeconds: 3600, clock);
        var pending = heldSources.Overview.GetAsync(stopped.Token, CancellationToken.None);
        Assert.True(await WebTestKit.WaitUntilAsync(() => held.Calls == 1, TimeSpan.FromSeconds(30)));
        await stopped.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }

    [Fact]
    public async Task Snapshot_SourceFails_EveryCallerGetsTheFailureOfTheOneComputation()
    {
        var source = new CountingStatisticsSource { Failure = new RegistryException("registry down") };
        using var sources = Sources(source, refreshSeconds: 3600, new FakeTimeProvider());

        var calls = Enumerable.Range(0, 5).Select(_ => sources.Overview.GetAsync(CancellationToken.None, CancellationToken.None)).ToList();

        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<RegistryException>(() => call);
            Assert.Equal("registry down", e.Message);
        }

        Assert.Equal(1, source.Calls);
    }

    private static WebSources Sources(IStatisticsSource statistics, double refreshSeconds, TimeProvider time, int maxStreamClients = 100) => new()
    {
        Mode = "serve",
        Statistics = statistics,
        Recent = new NoRecentSource("none"),
        Store = new InMemoryObjectStateStore(),
        Models = new ModelLibrary(null, []),
        RefreshSeconds = refreshSeconds,
        MaxStreamClients = maxStreamClients,
        Time = time,
    };

    private async Task<HttpClient> StartAsync(IStatisticsSource statistics, double refreshSeconds, int? maxStreamClients = null, ILoggerProvider? logs = null)
    {
        var port = TestPorts.Free();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Telemetry:HttpPort"] = port.ToString(CultureInfo.InvariantCulture),
        });
        builder.AddAlertBrokerHttp();
        builder.Services.AddAlertBrokerWeb(Sources(statistics, refreshSeconds, TimeProvider.System, maxStreamClients ?? 100));
        _app = builder.Build();
        _app.MapAlertBrokerWeb();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture)), Timeout = TimeSpan.FromSeconds(30) };
        return _http;
    }

    private static async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenStreamAsync(HttpClient http)
    {
        var response = await http.GetAsync(new Uri("/api/overview/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return (response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next <c>overview</c> event's data.</summary>
    private static async Task<JsonDocument> ReadEventAsync(StreamReader reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal("event: overview", await reader.ReadLineAsync(timeout.Token));
        var data = await reader.ReadLineAsync(timeout.Token);
        Assert.NotNull(data);
        Assert.StartsWith("data: ", data, StringComparison.Ordinal);
        return JsonDocument.Parse(data["data: ".Length..]);
    }

    private static void Close(IEnumerable<(HttpResponseMessage Response, StreamReader Reader)> streams)
    {
        foreach (var (response, reader) in streams)
        {
            reader.Dispose();
            response.Dispose();
        }
    }
}

/// <summary>Heartbeat-like statistics that count how often they are read (optionally failing, or held until released).</summary>
internal sealed class CountingStatisticsSource : IStatisticsSource
{
    private int _calls;

    public string Kind => "heartbeats";

    public int Calls => Volatile.Read(ref _calls);

    public Exception? Failure { get; init; }

    /// <summary>When set, every read waits for it (to hold a computation in flight).</summary>
    public TaskCompletionSource? Gate { get; init; }

    /// <summary>The token the last read was given.</summary>
    public CancellationToken LastToken { get; private set; }

    public async Task<IReadOnlyList<WorkerNumbers>> ReadAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        LastToken = cancellationToken;
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return Failure is { } e ? throw e : [];
    }
}

/// <summary>Keeps every log entry (category, level, message, exception) in memory.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    internal sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

    private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception));
    }
}
