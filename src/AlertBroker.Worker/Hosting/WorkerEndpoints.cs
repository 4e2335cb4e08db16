using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AlertBroker.Worker.Hosting;

/// <summary>
/// The worker's HTTP endpoints, mapped onto any <see cref="IEndpointRouteBuilder"/> (the <c>run</c> command's
/// <c>WebApplication</c>; more endpoints, such as a web view, are mapped beside them the same way).
/// </summary>
public static class WorkerEndpoints
{
    private static readonly string[] s_readMethods = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>
    /// Maps <c>/healthz</c> (liveness checks, tag <see cref="WorkerHealthChecks.LiveTag"/>), <c>/readyz</c> (readiness,
    /// tag <see cref="WorkerHealthChecks.ReadyTag"/>): 200 when all pass, 503 otherwise, a JSON body listing each check;
    /// and <c>/metrics</c> (OpenTelemetry's Prometheus exporter). Needs the services of
    /// <see cref="ServiceCollectionExtensions.AddAlertBrokerWorker"/> (or at least health checks and a meter provider with
    /// the Prometheus exporter). Each answers GET and HEAD only (405 otherwise): the health-check and exporter middleware
    /// would otherwise answer every method, a DELETE included, with 200.
    /// </summary>
    public static IEndpointRouteBuilder MapAlertBrokerWorkerEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapAlertBrokerHealthEndpoints();
        endpoints.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(new HttpMethodMetadata(s_readMethods)).Add(NoSniffNoStore);
        return endpoints;
    }

    /// <summary>
    /// <c>/healthz</c> and <c>/readyz</c> only, over whatever checks the application registered with the tags
    /// <see cref="WorkerHealthChecks.LiveTag"/> and <see cref="WorkerHealthChecks.ReadyTag"/> (the worker's, or
    /// <c>serve</c>'s).
    /// </summary>
    public static IEndpointRouteBuilder MapAlertBrokerHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(WorkerHealthChecks.LiveTag),
            ResponseWriter = WorkerHealthChecks.WriteJsonAsync,
        }).WithMetadata(new HttpMethodMetadata(s_readMethods)).Add(NoSniffNoStore);
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(WorkerHealthChecks.ReadyTag),
            ResponseWriter = WorkerHealthChecks.WriteJsonAsync,
        }).WithMetadata(new HttpMethodMetadata(s_readMethods)).Add(NoSniffNoStore);
        return endpoints;
    }

    /// <summary>
    /// The headers the web view's API sends, set before the endpoint runs (the health-check and exporter middleware take
    /// no filters): no browser sniffs a scrape or a health answer as something else, and no cache keeps a stale one.
    /// </summary>
    private static void NoSniffNoStore(EndpointBuilder endpoint)
    {
        var next = endpoint.RequestDelegate ?? throw new InvalidOperationException("the endpoint " + endpoint.DisplayName + " has no request delegate");
        endpoint.RequestDelegate = context =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.CacheControl = "no-store";
            return next(context);
        };
    }
}
