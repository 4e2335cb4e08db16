namespace AlertBroker.Avro.Tests;

public class ContainerBasicTests
{
    [SharedDataFact]
    public void Open_ZtfSample_ReadsHeaderAndOneAlert()
    {
        var bytes = File.ReadAllBytes(SharedData.Sample("ztf-real-50", "1095578115815010001.avro"));
        Assert.True(AvroContainerReader.IsContainer(bytes));
        var reader = AvroContainerReader.Open(bytes, new AvroSchemaCache());
        Assert.Equal("null", reader.Header.Codec);
        Assert.Equal(16, reader.Header.SyncMarker.Length);
        Assert.Equal("ztf.alert", ((RecordSchema)reader.Header.Schema).FullName);
        Assert.True(reader.Header.Metadata.ContainsKey("avro.schema"));
        var alerts = reader.ReadAll().ToList();
        var alert = Assert.IsType<GenericRecord>(Assert.Single(alerts));
        Assert.Equal(1095578115815010001L, alert["candid"]);
        var cutout = Assert.IsType<GenericRecord>(alert["cutoutScience"]);
        Assert.True(((ReadOnlyMemory<byte>)cutout["stampData"]!).Length > 1000);
    }
}
