using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AlertBroker.Web;

/// <summary>
/// <c>serve</c>'s <c>/healthz</c> and <c>/readyz</c> (docs/web.md): live while the web server answers; ready while the
/// state store's Redis and the model registry answer (the pages that read them answer 503 otherwise). Read-only: a PING,
/// never the worker's write probe.
/// </summary>
internal static class ServeHealthChecks
{
    public const string Web = "web";
    public const string StateStore = "redis";
    public const string Registry = "model_registry";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    public static IHealthChecksBuilder AddServeChecks(this IHealthChecksBuilder builder) => builder
        .AddCheck(Web, () => HealthCheckResult.Healthy("the web view answers"), [WorkerHealthChecks.LiveTag])
        .AddCheck<StateStoreCheck>(StateStore, HealthStatus.Unhealthy, [WorkerHealthChecks.ReadyTag], TimeSpan.FromSeconds(6))
        .AddCheck<RegistryCheck>(Registry, HealthStatus.Unhealthy, [WorkerHealthChecks.ReadyTag], TimeSpan.FromSeconds(6));

    private sealed class StateStoreCheck(WebSources sources) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (sources.Store is not RedisObjectStateStore redis)
            {
                return HealthCheckResult.Healthy("the state store is in process memory");
            }

            if (!redis.Connection.IsConnected)
            {
                return HealthCheckResult.Unhealthy("the state store (" + sources.StoreDescription + ") is not connected (reconnecting in the background)");
            }

            return await redis.PingAsync(cancellationToken).ConfigureAwait(false)
                ? HealthCheckResult.Healthy("the state store (" + sources.StoreDescription + ") answers")
                : HealthCheckResult.Unhealthy("the state store (" + sources.StoreDescription + ") does not answer a PING");
        }
    }

    private sealed class RegistryCheck(WebSources sources) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var what = "the model registry (" + sources.RegistryDescription + ")";
            switch (sources.Registry)
            {
                case null:
                    return HealthCheckResult.Healthy("no model registry configured");
                case DirectoryModelRegistry directory:
                    return Directory.Exists(directory.Root)
                        ? HealthCheckResult.Healthy(what + " is there")
                        : HealthCheckResult.Unhealthy(what + " is not there any more");
            }

            if (sources.RegistryConnection is not { } connection)
            {
                return HealthCheckResult.Healthy(what + " has no connection to check");
            }

            if (!connection.IsConnected)
            {
                return HealthCheckResult.Unhealthy(what + " is not connected (reconnecting in the background)");
            }

            try
            {
                await connection.GetDatabase().PingAsync().WaitAsync(s_timeout, cancellationToken).ConfigureAwait(false);
                return HealthCheckResult.Healthy(what + " answers");
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy(what + " does not answer a PING");
            }
        }
    }
}

/// <summary>Registered by <c>AddAlertBrokerWebStandalone</c>: <c>MapAlertBrokerWeb</c> then maps serve's health endpoints.</summary>
internal sealed class StandaloneHealthEndpoints;
