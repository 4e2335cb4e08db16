using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Hosting;

/// <summary>The web server of the worker's endpoints (and of anything else mapped beside them).</summary>
public static class WorkerHttpExtensions
{
    /// <summary>
    /// Binds the web server (Kestrel) to <c>AlertBroker:Telemetry:HttpAddress</c>:<c>HttpPort</c> (127.0.0.1:9464 by
    /// default); with port 0 the application runs without any listener. Endpoints are mapped separately
    /// (<see cref="WorkerEndpoints.MapAlertBrokerWorkerEndpoints"/>, and whatever else the application serves).
    /// </summary>
    public static WebApplicationBuilder AddAlertBrokerHttp(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>());
        if (builder.Configuration[TelemetryOptions.Section + ":" + nameof(TelemetryOptions.HttpPort)]?.Trim() == "0")
        {
            builder.Services.AddSingleton<IServer, NoListenerServer>();
            return builder;
        }

        // Kestrel reads its options when the host resolves its hosted services, before options are validated: read the raw
        // values here so that a bad one is reported by TelemetryOptionsValidator together with every other problem (the
        // host then stops before the server starts).
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>((kestrel, configuration) =>
        {
            var section = configuration.GetSection(TelemetryOptions.Section);
            var address = section[nameof(TelemetryOptions.HttpAddress)] ?? new TelemetryOptions().HttpAddress;
            var port = section[nameof(TelemetryOptions.HttpPort)] ?? new TelemetryOptions().HttpPort.ToString(CultureInfo.InvariantCulture);
            if (IPAddress.TryParse(address, out var ip) && int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535)
            {
                kestrel.Listen(ip, p);
            }
        });
        // Requests naming another host are answered 400 before anything else runs (TelemetryOptions.AllowedHosts).
        builder.Services.AddHostFiltering(_ => { });
        builder.Services.AddOptions<HostFilteringOptions>().Configure<IOptions<TelemetryOptions>>((filtering, telemetry) =>
            filtering.AllowedHosts = [.. telemetry.Value.AllowedHostList()]);
        builder.Services.AddTransient<IStartupFilter, HostFilteringFirst>();
        builder.Services.AddHostedService<HttpListeningAnnouncer>();
        return builder;
    }
}

/// <summary>Puts the host filter in front of every other middleware and endpoint.</summary>
internal sealed class HostFilteringFirst : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseHostFiltering();
        next(app);
    };
}

/// <summary>With <c>HttpPort</c> 0 the application keeps its host but listens nowhere.</summary>
internal sealed class NoListenerServer : IServer
{
    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
    }
}

/// <summary>Logs where the endpoints listen once the server has started.</summary>
internal sealed class HttpListeningAnnouncer(IHostApplicationLifetime lifetime, IOptions<TelemetryOptions> options, ILogger<HttpListeningAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => Log.HttpListening(logger, options.Value.HttpAddress, options.Value.HttpPort));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
