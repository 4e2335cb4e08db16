using System.Buffers;
using System.Text;

namespace AlertBroker.Avro.Tests;

public class ContainerTests
{
    private static readonly RecordSchema s_schema = TestUtil.Record("""
        {"type":"record","name":"Row","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"blob","type":"bytes"}]}
        """);

    private static GenericRecord Row(long i) => new(s_schema) { ["id"] = i, ["name"] = "row-" + i, ["blob"] = new ReadOnlyMemory<byte>(new byte[i % 50]) };

    private static byte[] WriteFile(string codec, int rows, int blockSize, IReadOnlyDictionary<string, byte[]>? metadata = null)
    {
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, s_schema, codec, metadata, blockSize, leaveOpen: true))
        {
            for (var i = 0; i < rows; i++)
            {
                writer.Write(Row(i));
            }
        }

        return stream.ToArray();
    }

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    public void WriteThenRead_ManyBlocks_RoundTrips(string codec)
    {
        var file = WriteFile(codec, 500, 1024, new Dictionary<string, byte[]> { ["app.key"] = [7, 8] });
        var reader = AvroContainerReader.Open(file, new AvroSchemaCache());
        Assert.Equal(codec, reader.Header.Codec);
        Assert.Equal(new byte[] { 7, 8 }, reader.Header.Metadata["app.key"].ToArray());
        Assert.Equal(Encoding.UTF8.GetBytes(codec), reader.Header.Metadata["avro.codec"].ToArray());
        var rows = reader.ReadAll().Cast<GenericRecord>().ToList();
        Assert.Equal(500, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(Row(i), rows[i]);
        }

        var blocks = 0;
        var again = AvroContainerReader.Open(file);
        while (again.TryReadBlock(out _))
        {
            blocks++;
        }

        Assert.True(blocks > 5, $"expected several blocks, got {blocks}");
    }

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    public void StreamReader_ReadsSameDatumsAsInMemoryReader(string codec)
    {
        var file = WriteFile(codec, 300, 700);
        using var stream = new AvroContainerStreamReader(new MemoryStream(file), new AvroSchemaCache());
        Assert.Equal(codec, stream.Header.Codec);
        var datumReader = new GenericDatumReader(stream.Header.Schema);
        var count = 0;
        while (stream.TryReadBlock(out var block))
        {
            var position = 0;
            for (var i = 0; i < block.Count; i++)
            {
                Assert.Equal(Row(count++), datumReader.Read(block.Data, ref position));
            }

            Assert.Equal(block.Data.Length, position);
        }

        Assert.Equal(300, count);
    }

    [Fact]
    public void Open_CorruptSyncMarker_ThrowsFormatExceptionAtMarker()
    {
        var file = WriteFile("null", 3, 1 << 20);
        var header = AvroContainerReader.Open(file).Header;
        file[^1] ^= 0xFF;
        var reader = AvroContainerReader.Open(file);
        var ex = Assert.Throws<AvroFormatException>(() => reader.TryReadBlock(out _));
        Assert.Equal(file.Length - 16, ex.Offset);
        Assert.True(header.Length < file.Length);
    }

    [Fact]
    public void StreamReader_CorruptSyncMarker_Throws()
    {
        var file = WriteFile("deflate", 3, 1 << 20);
        file[^3] ^= 0x01;
        using var reader = new AvroContainerStreamReader(new MemoryStream(file));
        Assert.Throws<AvroFormatException>(() => reader.TryReadBlock(out _));
    }

    [Fact]
    public void Open_UnknownCodec_ErrorNamesCodec()
    {
        var file = WriteFile("null", 1, 1024);
        var text = Encoding.Latin1.GetString(file);
        var patched = Encoding.Latin1.GetBytes(text.Replace("\u0008null", "\u0008zzzz", StringComparison.Ordinal));
        var ex = Assert.Throws<AvroFormatException>(() => AvroContainerReader.Open(patched));
        Assert.Contains("unsupported codec 'zzzz'", ex.Message, StringComparison.Ordinal);
        Assert.Throws<AvroFormatException>(() => new AvroContainerStreamReader(new MemoryStream(patched)));
        Assert.Throws<AvroException>(() => new AvroContainerWriter(new MemoryStream(), s_schema, "zzzz"));
    }

    [Fact]
    public void Open_NotAContainer_Throws()
    {
        Assert.False(AvroContainerReader.IsContainer("Obj"u8));
        Assert.Throws<AvroFormatException>(() => AvroContainerReader.Open(new byte[] { 1, 2, 3, 4, 5 }));
    }

    [Fact]
    public void WriteEncoded_AppendsPreEncodedDatums()
    {
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, AvroSchema.Int, leaveOpen: true))
        {
            var buffer = new ArrayBufferWriter<byte>();
            new AvroWriter(buffer).WriteInt(42);
            writer.WriteEncoded(buffer.WrittenSpan);
            writer.Write(43);
            writer.Flush();
            writer.Write(44);
        }

        Assert.Equal(new object?[] { 42, 43, 44 }, AvroContainerReader.Open(stream.ToArray()).ReadAll().ToArray());
    }

    [Fact]
    public void Write_InvalidDatum_LeavesBlockIntact()
    {
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, s_schema, leaveOpen: true))
        {
            writer.Write(Row(1));
            var bad = new GenericRecord(s_schema) { ["id"] = 2L, ["name"] = 5 };
            Assert.Throws<AvroException>(() => writer.Write(bad));
            writer.Write(Row(3));
        }

        var rows = AvroContainerReader.Open(stream.ToArray()).ReadAll().ToList();
        Assert.Equal([Row(1), Row(3)], rows);
    }

    [Fact]
    public void Deflate_BlockBeyondLimit_IsRejected()
    {
        var schema = AvroSchema.Bytes;
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, schema, "deflate", leaveOpen: true))
        {
            writer.Write(new byte[200_000]);
        }

        var limits = AvroLimits.Default with { MaxBlockLength = 10_000 };
        var reader = AvroContainerReader.Open(stream.ToArray(), limits: limits);
        Assert.Equal(10_000, Assert.Throws<AvroLimitExceededException>(() => reader.TryReadBlock(out _)).Limit);
    }
}
