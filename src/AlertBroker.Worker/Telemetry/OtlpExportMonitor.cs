using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker.Telemetry;

/// <summary>
/// Says in the worker's log what the OTLP exporter reports only to its own event source: a collector that does not answer
/// or refuses the export. The first failure is logged when it happens, then at most one line a minute with how many
/// followed; <c>alertbroker_errors_total{kind="otlp_export"}</c> counts each. Until 2026-12-07 an OTLP endpoint that
/// never answered was silent: the worker ran on, and nothing said that no metric or trace reached the collector.
/// </summary>
public sealed class OtlpExportMonitor : EventListener
{
    /// <summary>The event source of OpenTelemetry's OTLP exporter.</summary>
    public const string ExporterEventSource = "OpenTelemetry-Exporter-OpenTelemetryProtocol";

    private readonly ILogger _logger;
    private readonly WorkerMetrics? _metrics;
    private readonly string _sourceName;
    private readonly string _endpoint;
    private readonly FailureLogThrottle _throttle;

    public OtlpExportMonitor(ILogger logger, string endpoint, WorkerMetrics? metrics = null, string sourceName = ExporterEventSource, TimeProvider? time = null)
        : base()
    {
        _logger = logger;
        _metrics = metrics;
        _sourceName = sourceName;
        _endpoint = endpoint;
        _throttle = new FailureLogThrottle(LogInterval, time);

        // EventListener's base constructor calls OnEventSourceCreated for existing sources before this one's fields are
        // set: those are enabled again here.
        foreach (var source in EventSource.GetSources())
        {
            if (source.Name == _sourceName)
            {
                EnableEvents(source, EventLevel.Warning);
            }
        }
    }

    /// <summary>How often, at most, a lasting failure is logged again.</summary>
    public static TimeSpan LogInterval { get; } = TimeSpan.FromMinutes(1);

    /// <summary>Failures reported so far.</summary>
    public long Failures => _throttle.Failures;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        ArgumentNullException.ThrowIfNull(eventSource);
        if (_sourceName is not null && eventSource.Name == _sourceName)
        {
            EnableEvents(eventSource, EventLevel.Warning);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        if (_sourceName is null || eventData.EventSource.Name != _sourceName || eventData.Level > EventLevel.Warning)
        {
            return;
        }

        var message = Format(eventData);
        _metrics?.Error(WorkerError.OtlpExport);
        _throttle.Failed(since => _logger.LogWarning(
            "OTLP export to {Endpoint} failed ({Count} failures since the last such line; metrics and traces that did not go out are lost, /metrics is unaffected): {Error}",
            _endpoint,
            since,
            message));
    }

    private static string Format(EventWrittenEventArgs e)
    {
        var payload = e.Payload?.ToArray() ?? [];
        string text;
        try
        {
            text = e.Message is { Length: > 0 } m ? string.Format(CultureInfo.InvariantCulture, m, payload) : e.EventName + " " + string.Join(", ", payload);
        }
        catch (FormatException)
        {
            text = e.EventName + " " + string.Join(", ", payload);
        }

        // One line, bounded: an exception's text can hold a stack trace.
        var line = text.ReplaceLineEndings(" ");
        return line.Length > 500 ? line[..500] + "…" : line;
    }
}

/// <summary>Runs an <see cref="OtlpExportMonitor"/> while the host runs (registered only with an OTLP endpoint).</summary>
internal sealed class OtlpExportMonitorService(ILogger<OtlpExportMonitor> logger, WorkerMetrics metrics, string endpoint) : IHostedService, IDisposable
{
    private OtlpExportMonitor? _monitor;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _monitor = new OtlpExportMonitor(logger, endpoint, metrics);
        logger.LogInformation("OTLP export of metrics and traces to {Endpoint} (credentials, if the collector needs them, from OTEL_EXPORTER_OTLP_HEADERS)", endpoint);
        return Task.CompletedTask;
    }

    // Disposed only when the host is: the exporter flushes at its shutdown, after the hosted services stop.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _monitor?.Dispose();
}
