using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Schemas;
using Microsoft.Extensions.Time.Testing;

namespace AlertBroker.Worker.Tests;

/// <summary>Confluent-wire schema ids resolved through Confluent's registry client against an in-process fake registry.</summary>
public sealed class SchemaRegistryLookupTests
{
    private const string RecordS = """{"type":"record","name":"S","fields":[{"name":"a","type":"int"}]}""";

    [Fact]
    public async Task GetSchemaAsync_ConcurrentMisses_FetchOnceAndReturnOneInstance()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync();
        var id = registry.Add("s-value", RecordS);
        registry.LookupDelay = TimeSpan.FromMilliseconds(200);
        using var lookup = ConfluentSchemaRegistryLookup.Create(registry.Url);

        var schemas = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => lookup.GetSchemaAsync(id).AsTask()));

        Assert.All(schemas, s => Assert.Same(schemas[0], s));
        Assert.Equal("S", ((RecordSchema)schemas[0]).FullName);
        Assert.Same(schemas[0], await lookup.GetSchemaAsync(id));
        Assert.Equal(1, registry.CountRequests("GET", "/schemas/ids/" + id));
    }

    [Fact]
    public async Task GetSchemaAsync_UnknownId_ThrowsWithRegistryMessageAndAsksAgainAfterTheRefusalTtl()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync();
        var clock = new FakeTimeProvider();
        using var lookup = new ConfluentSchemaRegistryLookup(SchemaRegistryClients.Create(registry.Url), ownsClient: true, clock);

        var e = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(1));
        Assert.Contains("404", e.Message, StringComparison.Ordinal);
        Assert.Contains("40403", e.Message, StringComparison.Ordinal);

        // A stream of messages with the unregistered id: the registry is asked once, every message still refused with its answer.
        for (var i = 0; i < 200; i++)
        {
            var again = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(1));
            Assert.Equal(e.Message, again.Message);
        }

        Assert.Equal(1, registry.CountRequests("GET", "/schemas/ids/1"));

        // Registered meanwhile: found once the refusal has been remembered for its time, not before.
        Assert.Equal(1, registry.Add("late-value", RecordS));
        clock.Advance(ConfluentSchemaRegistryLookup.DefaultRefusalTtl - TimeSpan.FromMilliseconds(10));
        await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(1));
        Assert.Equal(1, registry.CountRequests("GET", "/schemas/ids/1"));
        clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal("S", ((RecordSchema)await lookup.GetSchemaAsync(1)).FullName);
        Assert.Equal(2, registry.CountRequests("GET", "/schemas/ids/1"));
    }

    [Fact]
    public async Task GetSchemaAsync_RefusalTtlZero_AsksEveryTime()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync();
        using var lookup = new ConfluentSchemaRegistryLookup(SchemaRegistryClients.Create(registry.Url), ownsClient: true) { RefusalTtl = TimeSpan.Zero };
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(77));
        }

        Assert.Equal(3, registry.CountRequests("GET", "/schemas/ids/77"));
    }

    [Fact]
    public async Task GetSchemaAsync_RegistryWithBasicAuth_SendsTheCredentials()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync("reader", "s3cret:with-colon");
        var id = registry.Add("s-value", RecordS);
        using var lookup = ConfluentSchemaRegistryLookup.Create(registry.Url, "reader", "s3cret:with-colon");

        var schema = await lookup.GetSchemaAsync(id);

        Assert.Equal("S", ((RecordSchema)schema).FullName);
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("reader:s3cret:with-colon"));
        Assert.Contains(registry.Requests, r => r.Path == "/schemas/ids/" + id && r.Authorization == expected);
    }

    [Fact]
    public async Task GetSchemaAsync_WrongPassword_ThrowsUnavailableNaming401()
    {
        // Refused credentials say nothing about the schema id: the message is retried, not dead-lettered.
        await using var registry = await FakeSchemaRegistry.StartAsync("reader", "right");
        var id = registry.Add("s-value", RecordS);
        using var lookup = ConfluentSchemaRegistryLookup.Create(registry.Url, "reader", "wrong");

        var e = await Assert.ThrowsAsync<SchemaLookupUnavailableException>(async () => await lookup.GetSchemaAsync(id));

        Assert.Contains("401", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetSchemaAsync_UnreachableRegistry_ThrowsUnavailable()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        using var lookup = ConfluentSchemaRegistryLookup.Create("http://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var e = await Assert.ThrowsAsync<SchemaLookupUnavailableException>(async () => await lookup.GetSchemaAsync(1));
        Assert.Contains("schema id 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetSchemaAsync_RegistryFailingThenBack_UnavailableThenResolves()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync();
        var id = registry.Add("s-value", RecordS);
        using var lookup = ConfluentSchemaRegistryLookup.Create(registry.Url);
        registry.FailStatus = 503;

        var e = await Assert.ThrowsAsync<SchemaLookupUnavailableException>(async () => await lookup.GetSchemaAsync(id));
        Assert.Contains("503", e.Message, StringComparison.Ordinal);

        registry.FailStatus = null;
        Assert.Equal("S", ((RecordSchema)await lookup.GetSchemaAsync(id)).FullName);
    }

    [Fact]
    public async Task GetSchemaAsync_SchemaWithReferences_ResolvesTheReferencedTypes()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync();
        registry.Add("point", """{"type":"record","name":"Point","namespace":"geo","fields":[{"name":"ra","type":"double"},{"name":"dec","type":"double"}]}""");
        var references = new JsonArray { new JsonObject { ["name"] = "geo.Point", ["subject"] = "point", ["version"] = 1 } };
        var id = registry.Add("source-value", """{"type":"record","name":"Source","namespace":"geo","fields":[{"name":"id","type":"long"},{"name":"where","type":"Point"}]}""", references: references);
        using var lookup = ConfluentSchemaRegistryLookup.Create(registry.Url);

        var schema = (RecordSchema)await lookup.GetSchemaAsync(id);

        Assert.Equal("geo.Source", schema.FullName);
        Assert.Equal("geo.Point", ((RecordSchema)schema.Fields[1].Schema).FullName);
    }

    [Fact]
    public async Task GetSchemaAsync_ProtobufSchema_IsRefused()
    {
        await using var registry = await FakeSchemaRegistry.StartAsync();
        var id = registry.Add("p-value", "syntax = \"proto3\"; message M { int32 a = 1; }", schemaType: "PROTOBUF");
        using var lookup = ConfluentSchemaRegistryLookup.Create(registry.Url);

        var e = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(id));
        Assert.Contains("not Avro", e.Message, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public async Task Decoder_RubinWireMessage_DecodesThroughAuthenticatedRegistry()
    {
        // A real Rubin alert in Confluent wire format, its schema registered in the registry under whatever id it gives.
        var wire = new SurveyWireFormat();
        var file = SharedData.AvroFiles("lsst-real-v7_4").First();
        var message = wire.ToWire(File.ReadAllBytes(file)).First();
        Assert.True(ConfluentWireFormat.TryReadHeader(message, out var originalId));
        await using var registry = await FakeSchemaRegistry.StartAsync("alerts", "pw");
        var id = registry.Add("lsst-alerts-value", wire.Schemas[originalId].ToString());
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
        using var lookup = ConfluentSchemaRegistryLookup.Create(registry.Url, "alerts", "pw");
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = lookup });
        var expected = new AlertDecoder().DecodeSingle(File.ReadAllBytes(file));
        var alerts = new List<Alert>();

        var count = await decoder.DecodeAsync(message, alerts);

        Assert.Equal(1, count);
        var alert = Assert.Single(alerts);
        Assert.Equal(Survey.Lsst, alert.Survey);
        Assert.Equal(expected.SourceId, alert.SourceId);
        Assert.Equal(expected.ObjectId, alert.ObjectId);
    }
}
