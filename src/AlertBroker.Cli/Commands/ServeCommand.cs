using System.CommandLine;
using System.Globalization;
using AlertBroker.Redis;
using AlertBroker.Web;
using AlertBroker.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker serve</c>: the web view (pages and read-only JSON API, <c>docs/web.md</c>) on its own, over the stores a
/// fleet of workers writes: object states in Redis (<c>AlertBroker:State:*</c>), the model registry
/// (<c>AlertBroker:Model:Registry*</c>) with the workers' heartbeats, and the recent-classification list the workers keep
/// beside the states. Same configuration sources and keys as <c>run</c>; loopback (127.0.0.1:9464) by default.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "An extra JSON configuration file (same shape as appsettings.json)." };
        var redis = new Option<string?>("--redis") { Description = "Redis endpoint(s) of the workers' state store (AlertBroker:State:Redis); user, password and TLS: --redis-user, --redis-tls, … or AlertBroker:Redis." }.RedisEndpoints();
        var keyPrefix = new Option<string?>("--key-prefix") { Description = "Key prefix of the state store (AlertBroker:State:KeyPrefix, default ab)." };
        var redisSecurity = new RedisCliOptions();
        var registryRedis = new Option<string?>("--model-registry-redis") { Description = "The model registry in this Redis (AlertBroker:Model:RegistryRedis): versions, pointers, audit, the workers' heartbeats and their numbers." };
        var registryDir = new Option<string?>("--model-registry-dir") { Description = "A local directory model registry instead (AlertBroker:Model:RegistryDirectory)." };
        var models = new Option<string?>("--models") { Description = "A directory of model packages to recompute probabilities with when the registry lacks a model (AlertBroker:Web:ModelDirectory; default: the checkout's models/)." };
        var httpPort = new Option<int?>("--http-port") { Description = "Port of the web view (AlertBroker:Telemetry:HttpPort, default 9464)." };
        var httpAddress = new Option<string?>("--http-address") { Description = "Address it listens on, 127.0.0.1 by default (AlertBroker:Telemetry:HttpAddress)." };
        var command = new Command("serve", "Serve the web view (overview, models, objects with light curves and class probabilities over time) over the workers' Redis and model registry; read-only, loopback by default.")
        {
            config, redis, keyPrefix, registryRedis, registryDir, models, httpPort, httpAddress,
        };
        redisSecurity.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    overrides[key] = value;
                }
            }

            Set("AlertBroker:State:Redis", parse.GetValue(redis));
            Set("AlertBroker:State:KeyPrefix", parse.GetValue(keyPrefix));
            redisSecurity.AddOverrides(parse, overrides);
            Set("AlertBroker:Model:RegistryRedis", parse.GetValue(registryRedis));
            Set("AlertBroker:Model:RegistryDirectory", parse.GetValue(registryDir));
            Set("AlertBroker:Web:ModelDirectory", parse.GetValue(models));
            Set("AlertBroker:Telemetry:HttpPort", parse.GetValue(httpPort)?.ToString(CultureInfo.InvariantCulture));
            Set("AlertBroker:Telemetry:HttpAddress", parse.GetValue(httpAddress));
            return await RunAsync(parse.GetValue(config), overrides, ct).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Builds and runs the web host. Exit codes: 0 on Ctrl-C/SIGTERM, 2 invalid configuration, 4 Redis refusing the credentials or the registry's Redis unreachable.</summary>
    public static async Task<int> RunAsync(string? configFile, IReadOnlyDictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        if (CliHelpers.ConfigFileProblem(configFile))
        {
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        if (configFile is not null && !CliHelpers.TryAddJsonConfiguration(builder.Configuration, configFile))
        {
            return 2;
        }

        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Critical);

        // As in run: each /readyz probe while not ready logged a framework "fail:" line; the body names the failing check,
        // and serve says once that the store does not answer.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);

        // It would announce /metrics too, which only a worker serves; the address is printed below.
        builder.Logging.AddFilter("AlertBroker.Worker.Hosting.HttpListeningAnnouncer", LogLevel.None);
        if (builder.Configuration["AlertBroker:Telemetry:HttpPort"]?.Trim() == "0")
        {
            CliHelpers.Stderr.MarkupLine("[red]invalid configuration:[/] AlertBroker:Telemetry:HttpPort 0 would serve nothing; give a port.");
            return 2;
        }

        builder.AddAlertBrokerHttp();
        builder.AddAlertBrokerWebStandalone();

        // As run does: values of the wrong shape (an object for a port, an enum given as a number) named before the start.
        if (ConfigurationKeyCheck.ShapeProblems(builder.Configuration) is { Count: > 0 } shapes)
        {
            return Invalid(shapes);
        }

        try
        {
            await using var app = builder.Build();

            // As run does: a mistyped key would otherwise be ignored without a word.
            ConfigurationKeyCheck.Warn(app.Configuration, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AlertBroker.Configuration"));
            app.MapAlertBrokerWeb();
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var telemetry = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
            AnsiConsole.MarkupLine("web view: [bold]" + Markup.Escape(Address(telemetry.HttpAddress, telemetry.HttpPort)) + "[/] (read-only; Ctrl-C stops it)");
            if (app.Services.GetRequiredService<WebSources>().StoreNotAnswering() is { } why)
            {
                CliHelpers.Stderr.MarkupLine("[yellow]" + Markup.Escape(why) + "[/]");
            }
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (OptionsValidationException e)
        {
            return Invalid(e.Failures);
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OptionsValidationException))
        {
            return Invalid(e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(x => x.Failures));
        }
        catch (Exception e) when (ConfigurationErrors.IsHostStartError(e))
        {
            return ConfigurationErrors.ReportHostStartError(e, "(choose another port with --http-port)");
        }
        catch (RedisConnectionFailedException e)
        {
            CliHelpers.Stderr.MarkupLine("[red]Redis:[/] " + Markup.Escape(e.Message));
            return 4;
        }
    }

    /// <summary>The address of the pages: <c>http://127.0.0.1:9464/ui/</c> (IPv6 in brackets; a wildcard shown as loopback).</summary>
    public static string Address(string address, int port)
    {
        var host = address switch
        {
            "0.0.0.0" => "127.0.0.1",
            "::" => "[::1]",
            _ => address.Contains(':', StringComparison.Ordinal) ? "[" + address + "]" : address,
        };
        return string.Create(CultureInfo.InvariantCulture, $"http://{host}:{port}/ui/");
    }

    private static int Invalid(IEnumerable<string> failures)
    {
        CliHelpers.Stderr.MarkupLine("[red]invalid configuration:[/]");
        foreach (var f in failures)
        {
            CliHelpers.Stderr.MarkupLine("  " + Markup.Escape(f));
        }

        return 2;
    }
}
