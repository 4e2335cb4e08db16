using AlertBroker.Redis;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AlertBroker.Web;

/// <summary>
/// Puts the web view (pages under <c>/ui/</c>, the JSON API under <c>/api/</c>, <c>docs/web.md</c>) into an ASP.NET Core
/// application, in one of three ways:
/// <list type="bullet">
/// <item><see cref="AddAlertBrokerWebInWorker"/>: inside <c>alertbroker run</c> (<c>--web</c> or
/// <c>AlertBroker:Web:Enabled</c>), on the worker's HTTP listener: the worker's own statistics and recent
/// classifications, its state store, and the registry it follows.</item>
/// <item><see cref="AddAlertBrokerWebStandalone"/>: <c>alertbroker serve</c> (with its own <c>/healthz</c> and <c>/readyz</c>): the state store's Redis
/// (<c>AlertBroker:State:*</c>) and the model registry (<c>AlertBroker:Model:Registry*</c>), the keys <c>run</c> uses;
/// the fleet's numbers from the workers' registry heartbeats; recent classifications from the list the workers keep in
/// the state store's Redis.</item>
/// <item><see cref="AddAlertBrokerWeb(IServiceCollection, WebSources)"/> with sources built by the caller (the demo).</item>
/// </list>
/// Then <see cref="MapAlertBrokerWeb"/> maps the pages and the API (GET and HEAD only).
/// </summary>
public static class WebHosting
{
    /// <summary>The web view in a worker host built by <c>AddAlertBrokerWorker</c>.</summary>
    public static WebApplicationBuilder AddAlertBrokerWebInWorker(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(sp =>
        {
            var web = sp.GetRequiredService<IOptions<WebOptions>>().Value;
            var model = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
            var state = sp.GetRequiredService<IOptions<StateOptions>>().Value;
            var security = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            var (registry, description, owned, registryConnection) = OpenRegistry(model, security);
            var statistics = sp.GetRequiredService<WorkerStatistics>();
            var workerId = Environment.MachineName + "-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return new WebSources
            {
                Mode = "worker",
                Statistics = new InProcessStatisticsSource(statistics, workerId),
                Recent = web.RecentClassifications > 0
                    ? new InProcessRecentSource(sp.GetRequiredService<RecentClassificationLog>())
                    : new NoRecentSource("none kept (AlertBroker:Web:RecentClassifications is 0)"),
                Store = sp.GetRequiredService<IObjectStateStore>(),
                StoreDescription = state.Store == StateStoreKind.InMemory ? "in process memory" : DescribeRedis(state.Redis, security, state.KeyPrefix),
                Registry = registry,
                RegistryDescription = description,
                RegistryConnection = registryConnection,
                FixedModels = () => statistics.Snapshot().Serving,
                Models = new ModelLibrary(registry, ModelDirectories(web, model), sp.GetRequiredService<ILoggerFactory>().CreateLogger("AlertBroker.Web")),
                RefreshSeconds = web.RefreshSeconds,
                MaxStreamClients = web.MaxStreamClients,
                Owned = owned,
            };
        });
        builder.Services.AddHostedService<WebSourcesStarter>();
        return builder;
    }

    /// <summary>
    /// The web view alone (<c>alertbroker serve</c>): binds <c>AlertBroker:State</c>, <c>AlertBroker:Model</c>,
    /// <c>AlertBroker:Redis</c> and <c>AlertBroker:Web</c> (validated at start) and reads the state store's Redis and the
    /// model registry. Kestrel is bound separately (<c>AddAlertBrokerHttp</c>: <c>AlertBroker:Telemetry:HttpAddress</c>,
    /// loopback by default).
    /// </summary>
    public static WebApplicationBuilder AddAlertBrokerWebStandalone(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<StateOptions>().BindConfiguration(StateOptions.Section).ValidateOnStart();
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateOnStart();
        services.AddOptions<WebOptions>().BindConfiguration(WebOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StateOptions>, StateOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebOptions>, WebOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelOptions>, ServeModelOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var web = sp.GetRequiredService<IOptions<WebOptions>>().Value;
            var model = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
            var state = sp.GetRequiredService<IOptions<StateOptions>>().Value;
            var security = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            var (registry, description, owned, registryConnection) = OpenRegistry(model, security);

            // Like the worker's store: a Redis that is down is retried in the background (pages answer 503 meanwhile);
            // refused credentials or TLS stop the start (RedisConnectionFailedException).
            var store = RedisObjectStateStore.ConnectAsync(new RedisStateOptions { Configuration = state.Redis, Security = security, KeyPrefix = state.KeyPrefix })
                .GetAwaiter().GetResult();
            return new WebSources
            {
                Mode = "serve",
                Statistics = new HeartbeatStatisticsSource(registry),
                Recent = new RedisRecentSource(store.Connection, state.KeyPrefix),
                Store = store,
                StoreDescription = DescribeRedis(state.Redis, security, state.KeyPrefix),
                Registry = registry,
                RegistryDescription = description,
                RegistryConnection = registryConnection,
                Models = new ModelLibrary(registry, ModelDirectories(web, model), sp.GetRequiredService<ILoggerFactory>().CreateLogger("AlertBroker.Web")),
                RefreshSeconds = web.RefreshSeconds,
                MaxStreamClients = web.MaxStreamClients,
                Owned = [.. owned, store],
            };
        });
        services.AddHostedService<WebSourcesStarter>();
        services.AddHealthChecks().AddServeChecks();
        services.AddSingleton<StandaloneHealthEndpoints>();
        return builder;
    }

    /// <summary>The web view over sources the caller built (the demo). The sources are disposed with the application.</summary>
    internal static IServiceCollection AddAlertBrokerWeb(this IServiceCollection services, WebSources sources)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(sources);
        services.AddHostedService<WebSourcesStarter>();
        return services;
    }

    /// <summary>
    /// Maps the pages (<c>/ui/…</c>, <c>/</c> redirects there) and the read-only JSON API (<c>/api/…</c>); for
    /// <see cref="AddAlertBrokerWebStandalone"/> (<c>serve</c>) also <c>/healthz</c> and <c>/readyz</c> (a worker maps its
    /// own).
    /// </summary>
    public static IEndpointRouteBuilder MapAlertBrokerWeb(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        WebApi.Map(endpoints);
        WebAssets.Map(endpoints);
        if (endpoints.ServiceProvider.GetService<StandaloneHealthEndpoints>() is not null)
        {
            endpoints.MapAlertBrokerHealthEndpoints();
        }

        return endpoints;
    }

    /// <summary>The checkout's <c>models/</c> (a folder beside <c>AlertBroker.sln</c> above the working or program directory), or null.</summary>
    internal static string? CheckoutModels()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var models = Path.Combine(dir.FullName, "models");
                if (Directory.Exists(models) && File.Exists(Path.Combine(dir.FullName, "AlertBroker.sln")))
                {
                    return models;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Where the web view looks for a classification's package: <c>AlertBroker:Web:ModelDirectory</c>, every package the
    /// worker was given (<c>AlertBroker:Model:Path</c> and <c>Paths</c>: <c>run --model</c> gives the latter), the checkout's
    /// <c>models/</c>. Until 2026-12-07 <c>Paths</c> was left out, so <c>run --web --model DIR</c> outside a checkout could
    /// not recompute an object's class history ("no model registry and no model directory is configured").
    /// </summary>
    internal static List<string?> ModelDirectories(WebOptions web, ModelOptions model) =>
        [web.ModelDirectory, .. model.AllPaths.Select(PackageRoot), CheckoutModels()];

    /// <summary>The package directory itself (it holds its own <c>model.json</c>), when it exists.</summary>
    internal static string? PackageRoot(string? packageDirectory) =>
        !string.IsNullOrWhiteSpace(packageDirectory) && Directory.Exists(packageDirectory) ? packageDirectory : null;

    // What the pages, /api/models, /readyz, 503 bodies and the start's log line say of a store in Redis: its endpoints only.
    // Until 2026-12-07 they showed the connection string as given, so a password written in it
    // ("127.0.0.1:6379,password=…", which StackExchange.Redis accepts) was shown to anyone who could reach the port.
    internal static string DescribeRedis(string? endpoints, RedisOptions security, string prefix) =>
        "Redis " + RedisConnectionFactory.Describe(endpoints, security.Tls) + " prefix " + prefix;

    private static (IModelRegistry? Registry, string? Description, IReadOnlyList<IDisposable> Owned, IConnectionMultiplexer? Connection) OpenRegistry(ModelOptions model, RedisOptions security)
    {
        if (!string.IsNullOrWhiteSpace(model.RegistryRedis))
        {
            // The worker's own watcher holds another connection: the web view's reads never queue behind its work.
            var connection = RedisConnectionFactory.ConnectAsync(model.RegistryRedis, security).GetAwaiter().GetResult();
            return (new RedisModelRegistry(connection, model.RegistryPrefix), DescribeRedis(model.RegistryRedis, security, model.RegistryPrefix), [connection], connection);
        }

        if (!string.IsNullOrWhiteSpace(model.RegistryDirectory))
        {
            return (new DirectoryModelRegistry(model.RegistryDirectory), "directory " + Path.GetFullPath(model.RegistryDirectory), [], null);
        }

        return (null, null, [], null);
    }
}

/// <summary>Opens the sources when the application starts (after its options were validated), logs them, and closes them at the end.</summary>
internal sealed class WebSourcesStarter(IServiceProvider services, ILogger<WebSourcesStarter> logger) : IHostedService
{
    private WebSources? _sources;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _sources = services.GetRequiredService<WebSources>();
        Log.Sources(logger, _sources.Mode, _sources.StoreDescription, _sources.RegistryDescription ?? "none", _sources.Recent.Description);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sources?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary><c>serve</c>: the registry settings only (a model path is not required: serve scores nothing live).</summary>
internal sealed class ServeModelOptionsValidator : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.RegistryRedis) && !string.IsNullOrWhiteSpace(options.RegistryDirectory))
        {
            return ValidateOptionsResult.Fail("AlertBroker:Model: set RegistryRedis or RegistryDirectory, not both.");
        }

        if (RedisOptionsValidator.CheckEndpoints(ModelOptions.Section + ":RegistryRedis", options.RegistryRedis) is { } problem)
        {
            return ValidateOptionsResult.Fail(problem);
        }

        return !string.IsNullOrWhiteSpace(options.RegistryDirectory) && !Directory.Exists(options.RegistryDirectory)
            ? ValidateOptionsResult.Fail($"AlertBroker:Model:RegistryDirectory '{options.RegistryDirectory}' is not a directory.")
            : ValidateOptionsResult.Success;
    }
}
