using System.Diagnostics.Tracing;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// An OTLP endpoint that never answered was silent: the exporter reports failures only to its event source. The monitor
/// logs the first at once, then at most one line a minute with the count, and counts each; a URL with credentials is refused.
/// </summary>
public sealed class OtlpExportMonitorTests
{
    [Fact]
    public void ExporterFailures_FirstLoggedAtOnce_ThenCountedQuietly()
    {
        using var source = new FakeExporterSource();
        using var metrics = new WorkerMetrics();
        var errors = RoutingTests.CountMeasurements("alertbroker.errors", out var listener, metrics, "kind");
        var log = new LogCapture();
        using (listener)
        using (var monitor = new OtlpExportMonitor(log, "http://collector:4317/", metrics, FakeExporterSource.SourceName))
        {
            source.FailedToReachCollector("http://collector:4317/v1/metrics", "Connection refused (collector:4317)");
            source.FailedToReachCollector("http://collector:4317/v1/traces", "Connection refused (collector:4317)");
            source.Verbose("exported 10 points");
            Assert.Equal(2, monitor.Failures);
        }

        Assert.Equal(2, errors.GetValueOrDefault("otlp_export"));
        var line = Assert.Single(log.Entries).Message;
        Assert.StartsWith("OTLP export to http://collector:4317/ failed (1 failures since the last such line;", line, StringComparison.Ordinal);
        Assert.Contains("Connection refused (collector:4317)", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://user:secret@collector:4317", false)]
    [InlineData("https://token@collector:4317", false)]
    [InlineData("http://collector:4317", true)]
    public void Endpoint_WithCredentials_IsRefused(string endpoint, bool valid)
    {
        var result = new TelemetryOptionsValidator().Validate(null, new TelemetryOptions { OtlpEndpoint = endpoint });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("OTEL_EXPORTER_OTLP_HEADERS", result.FailureMessage, StringComparison.Ordinal);
            Assert.DoesNotContain(endpoint[(endpoint.IndexOf("//", StringComparison.Ordinal) + 2)..endpoint.IndexOf('@', StringComparison.Ordinal)], result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [EventSource(Name = SourceName)]
    private sealed class FakeExporterSource : EventSource
    {
        public const string SourceName = "AlertBroker-Tests-FakeOtlpExporter";

        [Event(1, Message = "Exporter failed send data to collector to {0} endpoint. Data will not be sent. Exception: {1}", Level = EventLevel.Error)]
        public void FailedToReachCollector(string endpoint, string exception) => WriteEvent(1, endpoint, exception);

        [Event(2, Message = "{0}", Level = EventLevel.Verbose)]
        public void Verbose(string text) => WriteEvent(2, text);
    }
}
