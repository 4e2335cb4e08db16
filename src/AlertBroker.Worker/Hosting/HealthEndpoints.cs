using System.Net;
using AlertBroker.Worker.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Hosting;

/// <summary>
/// <c>/healthz</c> (the process and its consume loop are alive), <c>/readyz</c> (Kafka partitions assigned, state store
/// reachable, model loaded) and <c>/metrics</c> (Prometheus text) on a small Kestrel server of its own, bound to the
/// configured address (loopback by default).
/// </summary>
public sealed class HealthEndpoints : IHostedService, IAsyncDisposable
{
    private readonly TelemetryOptions _options;
    private readonly WorkerHealth _health;
    private readonly PrometheusExporter _exporter;
    private readonly ILogger<HealthEndpoints> _logger;
    private WebApplication? _app;

    public HealthEndpoints(IOptions<TelemetryOptions> options, WorkerHealth health, PrometheusExporter exporter, ILogger<HealthEndpoints> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _health = health;
        _exporter = exporter;
        _logger = logger;
    }

    /// <summary>The port actually bound (useful when configured as an ephemeral port in tests).</summary>
    public int Port { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.HttpPort == 0)
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(_options.HttpAddress), _options.HttpPort));
        var app = builder.Build();
        Map(app, _health, _exporter);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        Port = _options.HttpPort;
        Log.HttpListening(_logger, _options.HttpAddress, Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Maps the three endpoints.</summary>
    public static void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app, WorkerHealth health, PrometheusExporter exporter)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/healthz", () => health.Running ? Results.Text("ok\n") : Results.Text("consume loop not running\n", statusCode: 503));
        app.MapGet("/readyz", async (CancellationToken ct) =>
        {
            var (ready, detail) = await health.CheckReadyAsync(ct).ConfigureAwait(false);
            return Results.Text(detail, statusCode: ready ? 200 : 503);
        });
        app.MapGet("/metrics", () => Results.Text(exporter.Scrape(), "text/plain; version=0.0.4; charset=utf-8"));
    }
}
