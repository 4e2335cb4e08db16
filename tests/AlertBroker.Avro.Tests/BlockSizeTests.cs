namespace AlertBroker.Avro.Tests;

/// <summary>
/// Array and map blocks with a negative count carry the byte size of their items, which readers use to skip the
/// block without decoding it. A block whose declared size differs from what its items take decodes differently
/// when read and when skipped, so it is refused wherever its items are read (found by the Apache.Avro
/// differential suite: Apache and ours both ignored the size when reading).
/// </summary>
public class BlockSizeTests
{
    private static readonly AvroSchema s_arraySchema = AvroSchema.Parse("""
        {"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"long"}},{"name":"b","type":"long"}]}
        """);

    private static readonly AvroSchema s_mapSchema = AvroSchema.Parse("""
        {"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"long"}},{"name":"b","type":"long"}]}
        """);

    // a: one block of count -1 with byte size <size>, holding the long 1 (1 byte); then the end; then b = 3.
    private static byte[] ArrayDatum(byte sizeZigzag) => [0x01, sizeZigzag, 0x02, 0x00, 0x06];

    // m: one block of count -1 with byte size <size>, holding "k" → 1 (3 bytes); then the end; then b = 3.
    private static byte[] MapDatum(byte sizeZigzag) => [0x01, sizeZigzag, 0x02, (byte)'k', 0x02, 0x00, 0x06];

    [Fact]
    public void Read_NegativeCountWithTrueByteSize_ReadsAndSkipsAlike()
    {
        foreach (var (schema, bytes) in new[] { (s_arraySchema, ArrayDatum(0x02)), (s_mapSchema, MapDatum(0x06)) })
        {
            var record = Assert.IsType<GenericRecord>(TestUtil.Decode(schema, bytes));
            Assert.Equal(3L, record["b"]);
            var skipper = new AvroReader(bytes);
            skipper.Skip(schema);
            Assert.True(skipper.IsAtEnd);
        }

        Assert.Equal([1L], (List<object?>)((GenericRecord)TestUtil.Decode(s_arraySchema, ArrayDatum(0x02))!)["a"]!);
    }

    [Theory]
    [InlineData((byte)0x00)] // declares 0 bytes
    [InlineData((byte)0x04)] // declares 2 bytes, the item takes 1
    public void Read_ArrayBlockByteSizeDisagreesWithItems_ThrowsFormatException(byte sizeZigzag)
    {
        var bytes = ArrayDatum(sizeZigzag);
        var ex = Assert.Throws<AvroFormatException>(() => new GenericDatumReader(s_arraySchema).Read(bytes));
        Assert.Contains("does not match", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.Offset);
    }

    [Fact]
    public void Read_MapBlockByteSizeDisagreesWithEntries_ThrowsFormatException()
    {
        var ex = Assert.Throws<AvroFormatException>(() => new GenericDatumReader(s_mapSchema).Read(MapDatum(0x04)));
        Assert.Contains("does not match", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadBlockHeader_ThenCheckBlockSize_RefusesAMismatchAndAcceptsTheTruth()
    {
        var good = ArrayDatum(0x02);
        var r = new AvroReader(good);
        Assert.Equal(1, r.ReadBlockHeader(out var size));
        Assert.Equal(1, size);
        var itemsStart = r.Position;
        Assert.Equal(1, r.ReadLong());
        r.CheckBlockSize(size, itemsStart);
        Assert.Equal(0, r.ReadBlockHeader(out size));
        Assert.Equal(-1, size);

        var bad = ArrayDatum(0x04);
        var caught = false;
        var r2 = new AvroReader(bad);
        r2.ReadBlockHeader(out var badSize);
        var start = r2.Position;
        r2.ReadLong();
        try
        {
            r2.CheckBlockSize(badSize, start);
        }
        catch (AvroFormatException)
        {
            caught = true;
        }

        Assert.True(caught);
    }

    [Fact]
    public void ContainerHeader_MetadataBlockByteSizeDisagrees_BothReadersRefuse()
    {
        // A valid container whose metadata map is re-encoded as one block of count -2 with a wrong byte size.
        var schema = AvroSchema.Parse("\"long\"");
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, schema, leaveOpen: true))
        {
            writer.Write(7L);
        }

        var file = stream.ToArray();
        var header = AvroContainerReader.Open(file, new AvroSchemaCache()).Header;
        var metadataStart = 4;
        var r = new AvroReader(file);
        r.Position = metadataStart;
        var count = r.ReadBlockHeader(out _);
        var entriesStart = r.Position;
        for (var i = 0; i < count; i++)
        {
            r.ReadStringUtf8();
            r.ReadBytes();
        }

        var entriesLength = r.Position - entriesStart;
        byte[] Reframe(long declared) =>
        [
            .. file.AsSpan(0, metadataStart), .. Oracle.MutationCorpus.Zigzag(-count), .. Oracle.MutationCorpus.Zigzag(declared),
            .. file.AsSpan(entriesStart, header.Length - entriesStart),
            .. file.AsSpan(header.Length),
        ];

        Assert.Equal([7L], AvroContainerReader.Open(Reframe(entriesLength), new AvroSchemaCache()).ReadAll().ToList());
        using (var ok = new AvroContainerStreamReader(new MemoryStream(Reframe(entriesLength))))
        {
            Assert.Equal(header.SchemaJson.ToArray(), ok.Header.SchemaJson.ToArray());
        }

        var lying = Reframe(entriesLength - 1);
        Assert.Throws<AvroFormatException>(() => AvroContainerReader.Open(lying, new AvroSchemaCache()));
        Assert.Throws<AvroFormatException>(() => new AvroContainerStreamReader(new MemoryStream(lying)).Dispose());
    }
}
