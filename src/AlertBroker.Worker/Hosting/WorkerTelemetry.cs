using System.Diagnostics.Metrics;
using AlertBroker.Worker.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AlertBroker.Worker.Hosting;

/// <summary>
/// OpenTelemetry through its hosting extension: the worker's meter (<see cref="WorkerMetrics.MeterName"/>) feeds the
/// Prometheus exporter behind <c>/metrics</c> and, when <c>AlertBroker:Telemetry:OtlpEndpoint</c> is set, an OTLP exporter
/// (metrics and the per-batch traces). The providers start and stop with the host, which flushes OTLP on shutdown.
/// </summary>
public static class WorkerTelemetry
{
    /// <summary>Histogram buckets for durations in seconds (0.5 ms … 60 s).</summary>
    private static readonly double[] s_secondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Histogram buckets for counts (messages per batch).</summary>
    private static readonly double[] s_countBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

    /// <summary>The runtime's built-in meter (.NET 9 and later): process-wide, so every host in a process exports the same series.</summary>
    internal const string RuntimeMeterName = "System.Runtime";

    internal static void Add(IServiceCollection services, IConfiguration configuration)
    {
        // Read here, not from IOptions: exporters are chosen while services are registered. A malformed value is left to
        // TelemetryOptionsValidator, which stops the start with a message.
        var otlp = configuration[TelemetryOptions.Section + ":" + nameof(TelemetryOptions.OtlpEndpoint)];
        Uri? otlpUri = !string.IsNullOrWhiteSpace(otlp) && Uri.TryCreate(otlp, UriKind.Absolute, out var u) ? u : null;

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("alertbroker-worker"))
            .WithMetrics(metrics =>
            {
                // .NET's own "System.Runtime" meter: GC heap and collections, working set, CPU time, thread pool, exceptions
                // (dotnet_* series), for memory and starvation on the same dashboard; collected only when scraped.
                metrics.AddMeter(WorkerMetrics.MeterName, RuntimeMeterName);
                metrics.AddPrometheusExporter(o =>
                    {
                        // The series keep the labels they always had (no otel_scope_* labels on every line).
                        o.ScopeInfoEnabled = false;
                    });
                if (otlpUri is not null)
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = otlpUri);
                }
            });
        services.ConfigureOpenTelemetryMeterProvider(AddViews);
        if (otlpUri is not null)
        {
            services.AddHostedService(sp => new OtlpExportMonitorService(
                sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<OtlpExportMonitor>>(),
                sp.GetRequiredService<WorkerMetrics>(),
                otlpUri.GetLeftPart(UriPartial.Path)));
            telemetry.WithTracing(tracing => tracing.AddSource(WorkerMetrics.MeterName).AddOtlpExporter(o => o.Endpoint = otlpUri));
        }
    }

    // Only this host's meters (made by its IMeterFactory) are exported, and the runtime's: another host, or a WorkerMetrics
    // created without the factory, in the same process must not add to these series.
    private static void AddViews(IServiceProvider services, MeterProviderBuilder builder)
    {
        var factory = services.GetService<IMeterFactory>();
        builder.AddView(instrument => instrument.Meter.Name != RuntimeMeterName && factory is not null && !ReferenceEquals(instrument.Meter.Scope, factory) ? MetricStreamConfiguration.Drop : BucketsFor(instrument));
    }

    // The SDK's default histogram buckets (0 … 10000) suit milliseconds; the worker records seconds and counts.
    private static MetricStreamConfiguration? BucketsFor(Instrument instrument)
    {
        if (instrument.Meter.Name != WorkerMetrics.MeterName || !instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal))
        {
            return null;
        }

        return new ExplicitBucketHistogramConfiguration { Boundaries = instrument.Unit == "s" ? s_secondsBuckets : s_countBuckets };
    }
}
