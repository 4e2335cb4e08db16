using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Output;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker.Tests;

/// <summary>With a schema registry configured, the output schema is registered and classifications use Confluent wire format.</summary>
public sealed class SchemaRegistrationTests
{
    [Fact]
    public async Task Worker_WithRegistry_RegistersOutputSchemaAndFramesWithItsId()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        string? subject = null;
        string? schema = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        await using var registry = builder.Build();
        registry.MapPost("/subjects/{name}/versions", async (string name, HttpRequest request) =>
        {
            using var doc = await JsonDocument.ParseAsync(request.Body);
            subject = name;
            schema = doc.RootElement.GetProperty("schema").GetString();
            return Results.Json(new { id = 4242 });
        });
        await registry.StartAsync();

        var hostBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        hostBuilder.Logging.ClearProviders();
        hostBuilder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = "127.0.0.1:1",
            ["AlertBroker:Kafka:Topics:0"] = "alerts",
            ["AlertBroker:Kafka:OutputTopic"] = "classes",
            ["AlertBroker:Schemas:RegistryUrl"] = "http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        hostBuilder.AddAlertBrokerWorker();
        using var host = hostBuilder.Build();
        var codec = host.Services.GetRequiredService<ClassificationCodec>();

        Assert.Equal(OutputFraming.ConfluentWire, codec.Framing);
        Assert.Equal("classes-value", subject);
        Assert.Equal(ClassificationCodec.Schema.Fingerprint, AlertBroker.Avro.AvroSchema.Parse(schema!).Fingerprint);
        var c = new Classification("o", 1, 1, AlertBroker.Alerts.Survey.Lsst, 60000, "m", "1", ["A"], [1f], 1, 1, ScoringPath.Full, null, 0, 0);
        var bytes = codec.Encode(c);
        Assert.Equal(new byte[] { 0, 0, 0, 0x10, 0x92 }, bytes.AsSpan(0, 5).ToArray());
        Assert.Equal("o", ClassificationCodec.Decode(bytes).ObjectId);
        await registry.StopAsync();
    }
}
