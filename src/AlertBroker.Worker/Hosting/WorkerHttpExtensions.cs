using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
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
        // Requests naming another host are answered 400 before anything else runs (TelemetryOptions.AllowedHosts); then
        // the JSON error bodies of what the framework rejects under /api (ApiErrorBodies).
        builder.Services.AddTransient<IStartupFilter, HostFilteringFirst>();
        builder.Services.AddTransient<IStartupFilter, ApiErrorBodies>();
        builder.Services.AddHostedService<HttpListeningAnnouncer>();
        BoundStop(builder.Services);
        return builder;
    }

    /// <summary>
    /// How long requests still in progress at a stop may take before their connections are closed: the web server
    /// otherwise waits for them until the host's shutdown timeout (30 s), and one client that never finishes its request
    /// (a header left open, a body shorter than its Content-Length) held every stop that long (serve was ended by the CLI's
    /// 5-s limit, exit 143; until 2026-12-08).
    /// </summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    // The server registered so far (Kestrel) stopped within StopGrace; the host's own token still applies when shorter.
    private static void BoundStop(IServiceCollection services)
    {
        var descriptor = services.LastOrDefault(d => d.ServiceType == typeof(IServer) && !d.IsKeyedService);
        if (descriptor is null)
        {
            return;
        }

        services.Remove(descriptor);
        Func<IServiceProvider, IServer> inner;
        if (descriptor.ImplementationInstance is IServer instance)
        {
            inner = _ => instance;
        }
        else if (descriptor.ImplementationFactory is { } factory)
        {
            inner = sp => (IServer)factory(sp);
        }
        else
        {
            // The concrete type registered as itself, so the container builds it as it did for IServer.
            var type = descriptor.ImplementationType!;
            services.TryAdd(ServiceDescriptor.Singleton(type, type));
            inner = sp => (IServer)sp.GetRequiredService(type);
        }

        services.AddSingleton<IServer>(sp => new BoundedStopServer(inner(sp), StopGrace));
    }
}

/// <summary>A web server whose stop waits at most a grace period for the requests in progress, then closes their connections.</summary>
internal sealed class BoundedStopServer(IServer inner, TimeSpan grace) : IServer
{
    public IFeatureCollection Features => inner.Features;

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull => inner.StartAsync(application, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(grace);
        await inner.StopAsync(bounded.Token).ConfigureAwait(false);
    }

    public void Dispose() => inner.Dispose();
}

/// <summary>
/// The host check, in front of every other middleware and endpoint: a request whose <c>Host</c> names neither an
/// <see cref="TelemetryOptions.AllowedHostList"/> entry, nor <c>localhost</c>, nor an IP address is answered 400.
/// ASP.NET Core's host filtering took the list alone, so with names given (as docs/web.md advises for a pod) the kubelet's
/// probes and Prometheus's scrapes, which name the pod's IP, were refused: the pod never became ready and restarted for
/// ever. An IP address or localhost cannot be what DNS rebinding sends (that is a name the attacker controls), so
/// answering them keeps the protection (docs/dependencies.md).
/// </summary>
internal sealed class HostFilteringFirst(IOptions<TelemetryOptions> telemetry) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var allowed = telemetry.Value.AllowedHostList();
        app.Use(async (context, nextStep) =>
        {
            if (!Allows(allowed, context.Request.Host))
            {
                const string Refused = "the Host header names a host this server does not answer (AlertBroker:Telemetry:AllowedHosts)";
                if (ApiErrorBodies.IsApi(context.Request.Path))
                {
                    // Until 2026-12-07 this was the plain text below on /api too, which a client of the API could not parse.
                    await ApiErrorBodies.WriteAsync(context, Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest, Refused).ConfigureAwait(false);
                    return;
                }

                context.Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status400BadRequest;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, "Bad Request: " + Refused + "\n", context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await nextStep(context).ConfigureAwait(false);
        });
        next(app);
    };

    /// <summary>Whether a request naming <paramref name="host"/> is answered (a request without a Host header is, as HTTP/1.0 sends none).</summary>
    internal static bool Allows(IReadOnlyList<string> allowed, Microsoft.AspNetCore.Http.HostString host)
    {
        if (!host.HasValue)
        {
            return true;
        }

        var name = host.Host;
        var bare = name.Length > 1 && name[0] == '[' && name[^1] == ']' ? name[1..^1] : name;
        if (IPAddress.TryParse(bare, out _) || string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var entry in allowed)
        {
            if (entry == "*"
                || (entry.StartsWith("*.", StringComparison.Ordinal)
                    ? name.Length > entry.Length - 1 && name.EndsWith(entry[1..], StringComparison.OrdinalIgnoreCase)
                    : string.Equals(name, entry, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// Under <c>/api</c>, the answers the framework writes itself get the API's JSON error (<c>{"error": "…"}</c>, with
/// <c>X-Content-Type-Options: nosniff</c> and <c>Cache-Control: no-store</c>) instead of an empty body: a rejection Kestrel
/// raises while the application reads the request (<see cref="Microsoft.AspNetCore.Http.BadHttpRequestException"/>: a body over the size limit 413,
/// malformed chunks 400, a body sent too slowly 408), which Kestrel otherwise answers bare once the application has
/// thrown it; and any 4xx/5xx left without a body (ASP.NET Core's status code pages, answering JSON). What Kestrel rejects
/// while it parses the request line and headers (400, 414, 431, 505, …) never reaches any middleware and stays bare
/// (docs/web.md). Pages and health endpoints keep the framework's answers: a browser shows them, no script parses them.
/// </summary>
internal sealed class ApiErrorBodies : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextStep) =>
        {
            if (!IsApi(context.Request.Path))
            {
                await nextStep(context).ConfigureAwait(false);
                return;
            }

            try
            {
                await nextStep(context).ConfigureAwait(false);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                // Kestrel has already stopped reading this connection (it closes after the answer); the status is its own.
                context.Response.Clear();
                await WriteAsync(context, e.StatusCode, "the request was rejected: " + e.Message).ConfigureAwait(false);
            }
        });
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            return IsApi(http.Request.Path)
                ? WriteAsync(http, status, (Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "error " + status.ToString(CultureInfo.InvariantCulture)).ToLowerInvariant())
                : Task.CompletedTask;
        });
        next(app);
    };

    /// <summary>Whether <paramref name="path"/> is the JSON API's (<c>/api</c> and below).</summary>
    internal static bool IsApi(PathString path) => path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    /// <summary>The API's error shape: <c>{"error": message}</c> with the API's headers.</summary>
    internal static async Task WriteAsync(HttpContext context, int status, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
        var body = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new System.Text.Json.Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("error", message);
            json.WriteEndObject();
        }

        response.ContentLength = body.WrittenCount;
        await response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
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
