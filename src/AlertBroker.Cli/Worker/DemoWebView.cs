using System.Globalization;
using AlertBroker.State;
using AlertBroker.Web;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Cli.Worker;

/// <summary>
/// <c>demo --serve</c>: the web view over the demo's own worker, in the same process: its metrics (through
/// <see cref="WorkerStatistics"/>), its recent classifications, its state store and its model. Started before the stream
/// so the pages show it as it runs.
/// </summary>
internal sealed class DemoWebView : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly WorkerStatistics _statistics;

    private DemoWebView(WebApplication app, WorkerStatistics statistics, RecentClassificationLog recent, WorkerMetrics metrics, string address)
    {
        _app = app;
        _statistics = statistics;
        Recent = recent;
        Metrics = metrics;
        Address = address;
    }

    /// <summary>The instruments the demo's worker must record into.</summary>
    public WorkerMetrics Metrics { get; }

    public RecentClassificationLog Recent { get; }

    /// <summary>The pages' address, e.g. <c>http://127.0.0.1:9464/ui/</c>.</summary>
    public string Address { get; }

    public static async Task<DemoWebView> StartAsync(string httpAddress, int httpPort, IObjectStateStore store, ModelSet models, CancellationToken cancellationToken)
    {
        var metrics = new WorkerMetrics();
        var statistics = new WorkerStatistics(metrics);
        var recent = new RecentClassificationLog(500);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Telemetry:HttpAddress"] = httpAddress,
            ["AlertBroker:Telemetry:HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture),
        });
        builder.AddAlertBrokerHttp();

        // The demo's command line owns Ctrl-C and SIGTERM: the host's console lifetime would take them and keep the demo waiting.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();

        // Stop within a second even with a browser's connections open: the command line gives a stop two seconds.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        ServingModel[] serving = [.. models.Active.Select(kv => new ServingModel(kv.Key, "active", kv.Value.Name, kv.Value.Version)), .. models.Shadows.Select(kv => new ServingModel(kv.Key, "shadow", kv.Value.Name, kv.Value.Version))];
        builder.Services.AddAlertBrokerWeb(new WebSources
        {
            Mode = "demo",
            Statistics = new InProcessStatisticsSource(statistics, "demo-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
            Recent = new InProcessRecentSource(recent),
            Store = store,
            StoreDescription = store is InMemoryObjectStateStore ? "in process memory" : "Redis",
            FixedModels = () => serving,
            Models = new ModelLibrary(null, [.. models.Distinct.Select(m => m.Package.Source).Distinct(StringComparer.Ordinal), WebHosting.CheckoutModels()]),
        });
        var app = builder.Build();
        app.MapAlertBrokerWeb();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            statistics.Dispose();
            metrics.Dispose();
            throw;
        }

        return new DemoWebView(app, statistics, recent, metrics, Commands.ServeCommand.Address(httpAddress, httpPort));
    }

    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            await _app.StopAsync(stop.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _statistics.Dispose();
        Metrics.Dispose();
    }
}
