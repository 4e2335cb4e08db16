namespace AlertBroker.Avro.Tests;

public class CanonicalFormTests
{
    // Canonical forms and fingerprints published with the Avro project's cross-language test vectors.
    [Theory]
    [InlineData("\"null\"", "\"null\"", 7195948357588979594L)]
    [InlineData("{\"type\":\"null\"}", "\"null\"", 7195948357588979594L)]
    [InlineData("\"boolean\"", "\"boolean\"", -6970731678124411036L)]
    [InlineData("\"int\"", "\"int\"", 8247732601305521295L)]
    [InlineData("{\"type\":\"int\"}", "\"int\"", 8247732601305521295L)]
    [InlineData("\"long\"", "\"long\"", -3434872931120570953L)]
    [InlineData("\"float\"", "\"float\"", 5583340709985441680L)]
    [InlineData("\"double\"", "\"double\"", -8181574048448539266L)]
    [InlineData("\"bytes\"", "\"bytes\"", 5746618253357095269L)]
    [InlineData("\"string\"", "\"string\"", -8142146995180207161L)]
    [InlineData("[  ]", "[]", -1241056759729112623L)]
    [InlineData("[ \"int\"  ]", "[\"int\"]", -5232228896498058493L)]
    [InlineData("[ \"int\" , {\"type\":\"boolean\"} ]", "[\"int\",\"boolean\"]", 5392556393470105090L)]
    [InlineData("{\"fields\":[], \"type\":\"record\", \"name\":\"foo\"}", "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922L)]
    [InlineData("{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"namespace\":\"x.y\"}", "{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}", 5916914534497305771L)]
    [InlineData("{\"fields\":[], \"type\":\"record\", \"name\":\"a.b.foo\", \"namespace\":\"x.y\"}", "{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}", -4616218487480524110L)]
    [InlineData("{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"foo\", \"aliases\":[\"foo\",\"bar\"]}", "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922L)]
    [InlineData("{\"fields\":[{\"type\":{\"type\":\"boolean\"}, \"name\":\"f1\"}], \"type\":\"record\", \"name\":\"foo\"}", "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"}]}", 7843277075252814651L)]
    [InlineData("{ \"fields\":[{\"type\":\"boolean\", \"aliases\":[], \"name\":\"f1\", \"default\":\"true\"},{\"order\":\"descending\",\"name\":\"f2\",\"doc\":\"Hello\",\"type\":\"int\"}], \"type\":\"record\", \"name\":\"foo\"}", "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"},{\"name\":\"f2\",\"type\":\"int\"}]}", -4860222112080293046L)]
    [InlineData("{\"type\":\"enum\", \"name\":\"foo\", \"symbols\":[\"A1\"]}", "{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}", -6342190197741309591L)]
    [InlineData("{\"namespace\":\"x.y.z\", \"type\":\"enum\", \"name\":\"foo\", \"doc\":\"foo bar\", \"symbols\":[\"A1\", \"A2\"]}", "{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\",\"A2\"]}", -4448647247586288245L)]
    [InlineData("{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", "{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", 1756455273707447556L)]
    [InlineData("{\"namespace\":\"x.y.z\", \"type\":\"fixed\", \"name\":\"foo\", \"doc\":\"foo bar\", \"size\":32}", "{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}", -3064184465700546786L)]
    [InlineData("{ \"items\":{\"type\":\"null\"}, \"type\":\"array\"}", "{\"type\":\"array\",\"items\":\"null\"}", -589620603366471059L)]
    [InlineData("{ \"values\":\"string\", \"type\":\"map\"}", "{\"type\":\"map\",\"values\":\"string\"}", -8732877298790414990L)]
    [InlineData("{\"name\":\"PigValue\",\"type\":\"record\", \"fields\":[{\"name\":\"value\", \"type\":[\"null\", \"int\", \"long\", \"PigValue\"]}]}", "{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":\"value\",\"type\":[\"null\",\"int\",\"long\",\"PigValue\"]}]}", -1759257747318642341L)]
    public void ToCanonicalForm_PublishedVectors_MatchFormAndFingerprint(string input, string canonical, long fingerprint)
    {
        var schema = AvroSchema.Parse(input);
        Assert.Equal(canonical, schema.ToCanonicalForm());
        Assert.Equal(unchecked((ulong)fingerprint), schema.Fingerprint);
    }

    [Fact]
    public void Fingerprint_Int_MatchesPublishedHex()
    {
        Assert.Equal(0x7275d51a3f395c8fUL, AvroSchema.Int.Fingerprint);
        Assert.Equal(0x8f014872634503c7UL, AvroSchema.String.Fingerprint);
        Assert.Equal(Crc64Avro.Empty, Crc64Avro.Compute([]));
    }

    [Fact]
    public void ToCanonicalForm_StripsLogicalTypesAndExtraAttributes()
    {
        var schema = AvroSchema.Parse("""
            {"type":"record","name":"R","namespace":"n","version":"1","fields":[
              {"name":"t","type":{"type":"long","logicalType":"timestamp-millis"},"default":0,"doc":"x"},
              {"name":"e","type":{"type":"enum","name":"E","symbols":["A"],"default":"A"}},
              {"name":"e2","type":"E"}]}
            """);
        Assert.Equal("""{"name":"n.R","type":"record","fields":[{"name":"t","type":"long"},{"name":"e","type":{"name":"n.E","type":"enum","symbols":["A"]}},{"name":"e2","type":"n.E"}]}""", schema.ToCanonicalForm());
    }

    [SharedDataFact]
    public void Fingerprint_ZtfEmbeddedSchemaVsDirectorySchema_DifferOnlyWhenStructureDiffers()
    {
        var set = AvroSchemaSet.LoadDirectory(SharedData.Sample("ztf", "schema"));
        var alert = set["ztf.alert"];
        var reparsed = AvroSchema.Parse(alert.ToCanonicalForm());
        Assert.Equal(alert.Fingerprint, reparsed.Fingerprint);
        Assert.Equal(alert.ToCanonicalForm(), reparsed.ToCanonicalForm());
    }
}
