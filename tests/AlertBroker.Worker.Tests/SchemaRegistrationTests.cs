using System.Buffers.Binary;
using System.Text;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Output;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Tests;

/// <summary>With a schema registry configured, the output schema is registered and classifications use Confluent wire format.</summary>
public sealed class SchemaRegistrationTests
{
    private static IHost Host(string url, string? username = null, string? password = null)
    {
        var hostBuilder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        hostBuilder.Logging.ClearProviders();
        hostBuilder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = "127.0.0.1:1",
            ["AlertBroker:Kafka:Topics:0"] = "alerts",
            ["AlertBroker:Kafka:OutputTopic"] = "classes",
            ["AlertBroker:Schemas:RegistryUrl"] = url,
            ["AlertBroker:Schemas:RegistryUsername"] = username,
            ["AlertBroker:Schemas:RegistryPassword"] = password,
        });
        hostBuilder.AddAlertBrokerWorker();
        return hostBuilder.Build();
    }

    [Fact]
    public async Task Worker_WithAuthenticatedRegistry_RegistersOutputSchemaWithCredentialsAndFramesWithItsId()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync("writer", "pw");
        registry.Add("other-value", """{"type":"record","name":"Other","fields":[]}""");
        using var host = Host(registry.Url, "writer", "pw");

        var codec = host.Services.GetRequiredService<ClassificationCodec>();

        Assert.Equal(OutputFraming.ConfluentWire, codec.Framing);
        var expectedAuth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("writer:pw"));
        Assert.Contains(registry.Requests, r => r.Method == "POST" && r.Path == "/subjects/classes-value/versions" && r.Authorization == expectedAuth);
        Assert.DoesNotContain(registry.Requests, r => r.Authorization != expectedAuth);

        // The id the registry gave the schema (2: one schema was there before) frames every classification.
        var (id, schema) = registry.Latest("classes-value") ?? throw new InvalidOperationException("nothing registered under classes-value");
        Assert.Equal(2, id);
        Assert.Equal(ClassificationCodec.Schema.Fingerprint, AlertBroker.Avro.AvroSchema.Parse(schema).Fingerprint);
        var c = new Classification("o", 1, 1, AlertBroker.Alerts.Survey.Lsst, 60000, "m", "1", ["A"], [1f], 1, 1, ScoringPath.Full, null, 0, 0);
        var bytes = codec.Encode(c);
        Assert.Equal(0, bytes[0]);
        Assert.Equal(id, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(1)));
        Assert.Equal("o", ClassificationCodec.Decode(bytes).ObjectId);
    }

    [Fact]
    public async Task Worker_RegistryRefusesCredentials_StartFailsWithSchemaRegistrationException()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync("writer", "pw");
        using var host = Host(registry.Url, "writer", "not-the-password");

        var e = Assert.Throws<SchemaRegistrationException>(() => host.Services.GetRequiredService<ClassificationCodec>());

        Assert.Contains("401", e.Message, StringComparison.Ordinal);
        Assert.Contains("classes-value", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("registry:8081", null, null, "RegistryUrl")]
    [InlineData("ftp://registry", null, null, "RegistryUrl")]
    [InlineData("http://registry:8081", null, "pw", "RegistryPassword")]
    [InlineData(null, "user", "pw", "RegistryUsername")]
    public void Options_InvalidRegistrySettings_FailValidationNamingTheKey(string? url, string? username, string? password, string key)
    {
        using var host = Host(url!, username, password);

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<SchemaOptions>>().Value);

        Assert.Contains(e.Failures, f => f.Contains("AlertBroker:Schemas:" + key, StringComparison.Ordinal));
    }

    [Fact]
    public void Options_SeveralHttpsUrls_AreValid()
    {
        using var host = Host("https://a.example:8081, https://b.example:8081", "u", "p");

        var o = host.Services.GetRequiredService<IOptions<SchemaOptions>>().Value;

        Assert.Equal("u", o.RegistryUsername);
    }
}
