using System.Buffers;
using System.Buffers.Binary;
using AlertBroker.Avro;

namespace AlertBroker.Alerts.Tests;

public sealed class FramingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ab-framing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedDataFact]
    public void Decode_ConfluentWire_WithSchemaDirectory_EqualsContainerDecode()
    {
        var container = File.ReadAllBytes(SharedData.Path("alert-samples", "lsst", "v7_4", "fakeAlert.avro"));
        var (schemaJson, datum) = SingleDatum(container);
        File.WriteAllBytes(Path.Combine(_dir, "42.avsc"), schemaJson);

        var wire = new byte[5 + datum.Length];
        BinaryPrimitives.WriteInt32BigEndian(wire.AsSpan(1), 42);
        datum.CopyTo(wire.AsSpan(5));

        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = new DirectorySchemaLookup(_dir), Validation = AlertValidation.None });
        Assert.Equal(MessageFraming.ConfluentWire, AlertDecoder.DetectFraming(wire));
        var fromWire = decoder.DecodeSingle(wire);
        var fromContainer = decoder.DecodeSingle(container);
        Assert.Equal(AlertJson.ToJson(fromContainer), AlertJson.ToJson(fromWire));
    }

    // Found by the state/replay bug hunt: a Confluent-wire or single-object message with bytes after its datum (two
    // messages run together, or garbage appended) decoded as its first alert, "errors 0", the rest dropped without a
    // word; a container's block with bytes left over was already CorruptAvro.
    [SharedDataTheory]
    [InlineData("twice")]
    [InlineData("garbage")]
    public void Decode_ConfluentWireAndSingleObject_BytesAfterTheDatum_AreCorruptAvro(string extra)
    {
        var (schemaJson, datum) = SingleDatum(File.ReadAllBytes(SharedData.Path("alert-samples", "lsst", "v7_4", "fakeAlert.avro")));
        File.WriteAllBytes(Path.Combine(_dir, "42.avsc"), schemaJson);
        var tail = extra == "twice" ? datum : "garbage"u8.ToArray();
        var wire = new byte[5 + datum.Length + tail.Length];
        BinaryPrimitives.WriteInt32BigEndian(wire.AsSpan(1), 42);
        datum.CopyTo(wire.AsSpan(5));
        tail.CopyTo(wire.AsSpan(5 + datum.Length));
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = new DirectorySchemaLookup(_dir), Validation = AlertValidation.None });

        var e = Assert.Throws<AlertFormatException>(() => decoder.DecodeSingle(wire));
        Assert.Equal(AlertErrorKind.CorruptAvro, e.Kind);
        Assert.Contains($"{tail.Length} unread bytes after the alert", e.Message, StringComparison.Ordinal);

        var cache = new AvroSchemaCache();
        var buffer = new ArrayBufferWriter<byte>();
        SingleObjectEncoding.WriteHeader(buffer, cache.GetOrParse(schemaJson).Fingerprint);
        buffer.Write(datum);
        buffer.Write(tail);
        var single = Assert.Throws<AlertFormatException>(() => new AlertDecoder(new AlertDecoderOptions { SchemaCache = cache, Validation = AlertValidation.None }).DecodeSingle(buffer.WrittenMemory));
        Assert.Equal(AlertErrorKind.CorruptAvro, single.Kind);
    }

    [SharedDataFact]
    public void Decode_ConfluentWire_WithoutLookup_IsSchemaNotFound()
    {
        var (_, datum) = SingleDatum(File.ReadAllBytes(SharedData.Path("alert-samples", "lsst", "v7_4", "fakeAlert.avro")));
        var wire = new byte[5 + datum.Length];
        BinaryPrimitives.WriteInt32BigEndian(wire.AsSpan(1), 7);
        datum.CopyTo(wire.AsSpan(5));

        var e = Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(wire));
        Assert.Equal(AlertErrorKind.SchemaNotFound, e.Kind);
        Assert.Contains("7", e.Message, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public void Decode_SingleObjectEncoding_UsesSchemaCacheByFingerprint()
    {
        var (schemaJson, datum) = SingleDatum(File.ReadAllBytes(SharedData.Path("alert-samples", "lsst", "v11_0", "fakeAlert.avro")));
        var cache = new AvroSchemaCache();
        var schema = cache.GetOrParse(schemaJson);
        var buffer = new ArrayBufferWriter<byte>();
        SingleObjectEncoding.WriteHeader(buffer, schema.Fingerprint);
        buffer.Write(datum);

        var alert = new AlertDecoder(new AlertDecoderOptions { SchemaCache = cache }).DecodeSingle(buffer.WrittenMemory);
        Assert.Equal(281323062375219200, alert.SourceId);

        var unknown = Assert.Throws<AlertFormatException>(() => new AlertDecoder(new AlertDecoderOptions { SchemaCache = new AvroSchemaCache() }).DecodeSingle(buffer.WrittenMemory));
        Assert.Equal(AlertErrorKind.SchemaNotFound, unknown.Kind);
    }

    [Fact]
    public void Decode_NotAvro_IsTypedError()
    {
        var e = Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle("hello, world"u8.ToArray()));
        Assert.Equal(AlertErrorKind.NotAvro, e.Kind);
        Assert.Equal(AlertErrorKind.NotAvro, Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(Array.Empty<byte>())).Kind);

        // A nightly archive reached through a name without .tar.gz (a pipe: `replay <(cat night.tar.gz)`) says what it is.
        var gzip = Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(new byte[] { 0x1f, 0x8b, 8, 0, 0, 0 }));
        Assert.Equal(AlertErrorKind.NotAvro, gzip.Kind);
        Assert.Contains("gzip-compressed data", gzip.Message, StringComparison.Ordinal);
        Assert.Contains(".tar.gz", gzip.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_ValidAvroThatIsNotAnAlert_IsUnknownFormat()
    {
        var schema = AvroSchema.Parse("""{"type":"record","name":"Other","namespace":"acme","fields":[{"name":"x","type":"int"}]}""");
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, schema, leaveOpen: true))
        {
            var record = new GenericRecord((RecordSchema)schema);
            record[0] = 5;
            writer.Write(record);
        }

        var e = Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(stream.ToArray()));
        Assert.Equal(AlertErrorKind.UnknownFormat, e.Kind);
    }

    [Fact]
    public void Decode_ZtfAlertWithWrongFieldType_IsUnknownFormat()
    {
        var schema = AvroSchema.Parse("""
            {"type":"record","name":"alert","namespace":"ztf","fields":[
              {"name":"objectId","type":"string"},
              {"name":"candidate","type":{"type":"record","name":"candidate","fields":[{"name":"jd","type":"string"}]}}]}
            """);
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, schema, leaveOpen: true))
        {
            var candidate = new GenericRecord((RecordSchema)((RecordSchema)schema).Fields[1].Schema);
            candidate[0] = "yesterday";
            var record = new GenericRecord((RecordSchema)schema);
            record[0] = "ZTF21aaaaaaa";
            record[1] = candidate;
            writer.Write(record);
        }

        var e = Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(stream.ToArray()));
        Assert.Equal(AlertErrorKind.UnknownFormat, e.Kind);
        Assert.Contains("jd", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_ZtfAlertWithNaNTime_IsInvalidValue()
    {
        static byte[] Encode(double jd, float mag) => MinimalZtfAlert("ZTF21aaaaaaa", jd, mag);

        Assert.Equal(AlertErrorKind.InvalidValue, Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(Encode(double.NaN, 18f))).Kind);

        // A NaN magnitude on a detection is refused by the value checks; without them it is a NaN flux, never invented.
        Assert.Equal(AlertErrorKind.InvalidValue, Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(Encode(2459000.5, float.NaN))).Kind);
        var alert = new AlertDecoder(new AlertDecoderOptions { Validation = AlertValidation.None }).DecodeSingle(Encode(2459000.5, float.NaN));
        Assert.Equal(59000.0, alert.Mjd);
        Assert.True(float.IsNaN(alert.Candidate.FluxMicroJy));
        Assert.Equal(Passband.ZtfG, alert.Band);
        Assert.True(float.IsNaN(alert.Metadata.StarGalaxyScore));
    }

    // Until 2026-12-07 any objectId was taken: a 400 KB id became a 400 KB Redis key, output key and web-view entry, and one
    // holding an escape sequence and a newline printed a forged line through consume and inspect.
    [Theory]
    [InlineData("", "the objectId is empty")]
    [InlineData("ZTF\n\u001b[31mINJECTED warn: fake", "a control character (U+000A) at character 4")]
    [InlineData("ZTF21 aaaaaaa", "white space (U+0020) at character 6")]
    [InlineData(null, "characters long (at most 256)")]
    public void Decode_ZtfAlertWithAnUnusableObjectId_IsInvalidValueSayingWhy(string? objectId, string says)
    {
        objectId ??= "ZTF" + new string('a', 400_000);
        static byte[] Encode(string id) => MinimalZtfAlert(id, 2459000.5, 18f);

        var e = Assert.Throws<AlertFormatException>(() => new AlertDecoder().DecodeSingle(Encode(objectId)));
        Assert.Equal(AlertErrorKind.InvalidValue, e.Kind);
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("INJECTED", e.Message, StringComparison.Ordinal);

        // Without the value checks too: the id keys everything the worker stores and publishes.
        Assert.Equal(AlertErrorKind.InvalidValue, Assert.Throws<AlertFormatException>(() => new AlertDecoder(new AlertDecoderOptions { Validation = AlertValidation.None }).DecodeSingle(Encode(objectId))).Kind);

        // The longest id allowed, and a real one, decode.
        Assert.Equal(Alert.MaxObjectIdLength, new AlertDecoder().DecodeSingle(Encode(new string('Z', Alert.MaxObjectIdLength))).ObjectId.Length);
        Assert.Equal("ZTF21aaaaaaa", new AlertDecoder().DecodeSingle(Encode("ZTF21aaaaaaa")).ObjectId);
    }

    /// <summary>A one-alert container file of a minimal ZTF schema: object id, candid and a candidate (jd, fid, candid, magpsf, sigmapsf 0.1).</summary>
    private static byte[] MinimalZtfAlert(string objectId, double jd, float mag)
    {
        var schema = AvroSchema.Parse("""
            {"type":"record","name":"alert","namespace":"ztf","fields":[
              {"name":"objectId","type":"string"},
              {"name":"candid","type":"long"},
              {"name":"candidate","type":{"type":"record","name":"candidate","fields":[
                {"name":"jd","type":"double"},{"name":"fid","type":"int"},{"name":"candid","type":"long"},
                {"name":"magpsf","type":"float"},{"name":"sigmapsf","type":"float"}]}}]}
            """);
        var candidateSchema = (RecordSchema)((RecordSchema)schema).Fields[2].Schema;
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, schema, leaveOpen: true))
        {
            var candidate = new GenericRecord(candidateSchema);
            candidate[0] = jd;
            candidate[1] = 1;
            candidate[2] = 77L;
            candidate[3] = mag;
            candidate[4] = 0.1f;
            var record = new GenericRecord((RecordSchema)schema);
            record[0] = objectId;
            record[1] = 77L;
            record[2] = candidate;
            writer.Write(record);
        }

        return stream.ToArray();
    }

    /// <summary>The writer schema JSON and the single encoded datum of a one-record container file.</summary>
    internal static (byte[] SchemaJson, byte[] Datum) SingleDatum(byte[] container)
    {
        var reader = AvroContainerReader.Open(container);
        Assert.True(reader.TryReadBlock(out var block));
        Assert.Equal(1, block.Count);
        return (reader.Header.SchemaJson.ToArray(), block.Data.ToArray());
    }
}
