using System.Net;
using System.Text;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker.Tests;

/// <summary><c>AlertBroker:Telemetry:OtlpEndpoint</c>: the worker's metrics reach an OTLP (gRPC) collector.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task OtlpEndpoint_Set_MetricsAreExportedToTheCollectorOnShutdown()
    {
        var received = new List<byte[]>();
        var port = TestPorts.Free();

        // A minimal OTLP/gRPC collector: HTTP/2 without TLS, one unary method that answers an empty response.
        var collectorBuilder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        collectorBuilder.Logging.ClearProviders();
        collectorBuilder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        await using var collector = collectorBuilder.Build();
        collector.MapPost("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            lock (received)
            {
                received.Add(body.ToArray());
            }

            context.Response.ContentType = "application/grpc";
            context.Response.AppendTrailer("grpc-status", "0");
            await context.Response.Body.WriteAsync(new byte[5]);
        });
        await collector.StartAsync();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Telemetry:OtlpEndpoint"] = "http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Services.AddSingleton(sp => new WorkerMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        WorkerTelemetry.Add(builder.Services, builder.Configuration);
        using (var host = builder.Build())
        {
            await host.StartAsync();
            host.Services.GetRequiredService<WorkerMetrics>().MessagesReceived(3);
            await host.StopAsync();
        }

        await collector.StopAsync();
        byte[][] requests;
        lock (received)
        {
            requests = [.. received];
        }

        Assert.NotEmpty(requests);
        // Protobuf keeps strings as UTF-8 bytes: the metric's name and the service name are in the request.
        var text = string.Join("\n", requests.Select(r => Encoding.UTF8.GetString(r)));
        Assert.Contains("alertbroker.messages.received", text, StringComparison.Ordinal);
        Assert.Contains("alertbroker-worker", text, StringComparison.Ordinal);
    }
}
