using System.Globalization;
using System.Text.Json;
using AlertBroker.State;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AlertBroker.Worker.Hosting;

/// <summary>
/// The worker's health checks (<c>Microsoft.Extensions.Diagnostics.HealthChecks</c>). Liveness (tag <see cref="LiveTag"/>,
/// served at <c>/healthz</c>): the consume loop is alive. Readiness (tag <see cref="ReadyTag"/>, <c>/readyz</c>): the
/// consumer is a member of its group (with partitions, or standing by with none when the group has more members than
/// partitions and that has lasted <see cref="WorkerHealth.StandByAfter"/>), the state store (Redis) answers a ping, the schema registry (when one is used) answered the last lookup,
/// a model is loaded. Each failing check says why and since when. Other parts may add checks with these tags; they then
/// count in the same endpoints.
/// </summary>
public static class WorkerHealthChecks
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public const string ConsumeLoop = "consume_loop";
    public const string KafkaPartitions = "kafka_partitions";
    public const string Redis = "redis";
    public const string SchemaRegistry = "schema_registry";
    public const string Model = "model";

    /// <summary>Registers the five checks.</summary>
    public static IHealthChecksBuilder AddAlertBrokerWorkerChecks(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .AddCheck<ConsumeLoopCheck>(ConsumeLoop, HealthStatus.Unhealthy, [LiveTag])
            .AddCheck<PartitionsAssignedCheck>(KafkaPartitions, HealthStatus.Unhealthy, [ReadyTag])
            .AddCheck<StateStoreCheck>(Redis, HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(6))
            .AddCheck<SchemaRegistryCheck>(SchemaRegistry, HealthStatus.Unhealthy, [ReadyTag])
            .AddCheck<ModelLoadedCheck>(Model, HealthStatus.Unhealthy, [ReadyTag]);
    }

    /// <summary>
    /// Writes a report as JSON: <c>{"status":"Unhealthy","checks":[{"name":"redis","status":"Unhealthy",
    /// "description":"…","durationMs":1.2}, …]}</c>.
    /// </summary>
    public static async Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        context.Response.ContentType = "application/json; charset=utf-8";
        var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 2));
            json.WriteStartArray("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                json.WriteString("status", entry.Status.ToString());
                json.WriteString("description", entry.Description ?? entry.Exception?.Message ?? string.Empty);
                json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 2));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        buffer.Position = 0;
        await buffer.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private sealed class ConsumeLoopCheck(WorkerHealth health) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(health.Running
                ? HealthCheckResult.Healthy("the Kafka consume loop is running")
                : HealthCheckResult.Unhealthy("the Kafka consume loop is not running"));
    }

    // A member with no partition (more members than partitions) is ready: it is doing what it should — standing by to take
    // partitions at the next rebalance — and marking it unready would only stall rollouts and autoscalers. But a member
    // that has just joined holds no partition either: a cooperative rebalance gives it an empty assignment first and its
    // partitions a round later. Until 2026-12-07 that was called standing by and ready at once (for 7–45 s on the mock
    // cluster, with 2 members for 4 partitions), so a rolling update stopped the next old worker mid-rebalance. Only an
    // empty assignment that lasted WorkerHealth.StandByAfter is standing by now. Not ready: not (yet, or any more) a member.
    private sealed class PartitionsAssignedCheck(WorkerHealth health) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            // Since the worker stops before the web server (2026-12-08), /readyz answers during its drain: not ready then.
            if (health.Stopping)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("stopping: finishing the batch in hand, committing its offsets and leaving the consumer group"));
            }

            var n = health.AssignedPartitions;
            if (n > 0)
            {
                return Task.FromResult(HealthCheckResult.Healthy(n.ToString(CultureInfo.InvariantCulture) + " partition(s) assigned"));
            }

            if (!health.InGroup)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("not a member of the consumer group yet: no assignment received (joining, or the group coordinator is unreachable)"));
            }

            var empty = health.EmptyAssignmentFor ?? TimeSpan.Zero;
            var seconds = Math.Floor(empty.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return Task.FromResult(empty >= health.StandByAfter
                ? HealthCheckResult.Healthy($"0 partitions assigned for {seconds} s: a member of the consumer group standing by (the group has more members than partitions)")
                : HealthCheckResult.Unhealthy($"0 partitions assigned for {seconds} s: a member of the consumer group waiting for partitions (a rebalance in progress, or more members than partitions); ready, standing by, once that has lasted {health.StandByAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"));
        }
    }

    private sealed class StateStoreCheck(IServiceProvider services, WorkerHealth health) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var store = services.GetRequiredService<IObjectStateStore>();
            if (store is InMemoryObjectStateStore)
            {
                return HealthCheckResult.Healthy("state in process memory (no Redis)");
            }

            var problem = store is RedisObjectStateStore redis
                ? await redis.ProbeAsync(cancellationToken).ConfigureAwait(false)
                : await store.PingAsync(cancellationToken).ConfigureAwait(false) ? null : new StateStoreProblem("no answer to PING");
            health.StateProbed(problem);
            return health.StateOutage switch
            {
                null => HealthCheckResult.Healthy("Redis answers and takes writes"),
                { WritesRefused: true } outage => HealthCheckResult.Unhealthy("Redis refuses the worker's writes " + outage.Describe(DateTimeOffset.UtcNow) + "; consumption is paused until a write goes through"),
                var outage => HealthCheckResult.Unhealthy("Redis does not answer " + outage.Describe(DateTimeOffset.UtcNow) + "; consumption is paused until it does"),
            };
        }
    }

    private sealed class SchemaRegistryCheck(WorkerHealth health) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(health.RegistryOutage is { } outage
                ? HealthCheckResult.Unhealthy("the schema registry does not answer lookups " + outage.Describe(DateTimeOffset.UtcNow) + "; the batch in hand is retried")
                : HealthCheckResult.Healthy("no schema-registry lookup failing"));
    }

    private sealed class ModelLoadedCheck(WorkerHealth health) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(health.ModelLoaded ? HealthCheckResult.Healthy("a model is loaded") : HealthCheckResult.Unhealthy("no model loaded"));
    }
}
