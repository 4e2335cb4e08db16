using System.Buffers;

namespace AlertBroker.Avro.Tests;

public class ReaderWriterTests
{
    private static byte[] Encode(Action<AvroWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new AvroWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    [Theory]
    [InlineData(0L, new byte[] { 0x00 })]
    [InlineData(-1L, new byte[] { 0x01 })]
    [InlineData(1L, new byte[] { 0x02 })]
    [InlineData(-64L, new byte[] { 0x7F })]
    [InlineData(64L, new byte[] { 0x80, 0x01 })]
    [InlineData(long.MaxValue, new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    [InlineData(long.MinValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void WriteLong_KnownValues_MatchSpecZigZag(long value, byte[] expected)
    {
        var bytes = Encode(w => w.WriteLong(value));
        Assert.Equal(expected, bytes);
        var r = new AvroReader(bytes);
        Assert.Equal(value, r.ReadLong());
        Assert.True(r.IsAtEnd);
    }

    [Fact]
    public void Primitives_RoundTrip()
    {
        var bytes = Encode(w =>
        {
            w.WriteBoolean(true);
            w.WriteInt(int.MinValue);
            w.WriteInt(int.MaxValue);
            w.WriteFloat(1.5f);
            w.WriteDouble(-2.25);
            w.WriteString("héllo");
            w.WriteBytes([1, 2, 3]);
            w.WriteFixed([9, 9]);
            w.WriteEnum(2);
            w.WriteUnionIndex(1);
        });
        var r = new AvroReader(bytes);
        Assert.True(r.ReadBoolean());
        Assert.Equal(int.MinValue, r.ReadInt());
        Assert.Equal(int.MaxValue, r.ReadInt());
        Assert.Equal(1.5f, r.ReadFloat());
        Assert.Equal(-2.25, r.ReadDouble());
        Assert.Equal("héllo", r.ReadString());
        Assert.Equal([1, 2, 3], r.ReadBytes().ToArray());
        Assert.Equal([9, 9], r.ReadFixed(2).ToArray());
        Assert.Equal(2, r.ReadEnum(3));
        Assert.Equal(1, r.ReadUnionIndex(2));
        Assert.True(r.IsAtEnd);
    }

    [Fact]
    public void ReadInt_ValueBeyond32Bits_Throws()
    {
        var bytes = Encode(w => w.WriteLong((long)int.MaxValue + 1));
        var ex = Assert.Throws<AvroFormatException>(() => new AvroReader(bytes, baseOffset: 100).ReadInt());
        Assert.Equal(100, ex.Offset);
    }

    [Fact]
    public void ReadLong_ElevenByteVarint_Throws()
    {
        byte[] bytes = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        Assert.Throws<AvroFormatException>(() => new AvroReader(bytes).ReadLong());
    }

    [Fact]
    public void ReadBytes_LengthBeyondInput_ThrowsWithOffset()
    {
        var bytes = Encode(w => w.WriteLong(10));
        var ex = Assert.Throws<AvroFormatException>(() => new AvroReader(bytes, baseOffset: 5).ReadBytes());
        Assert.Equal(5, ex.Offset);
        Assert.Contains("byte offset 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadBoolean_InvalidByte_Throws()
    {
        Assert.Throws<AvroFormatException>(() => new AvroReader(new byte[] { 2 }).ReadBoolean());
    }

    [Fact]
    public void ReadBlockCount_NegativeCount_ReturnsAbsoluteAndConsumesSize()
    {
        var bytes = Encode(w =>
        {
            w.WriteLong(-2);
            w.WriteLong(2);
            w.WriteInt(1);
            w.WriteInt(2);
            w.WriteBlockEnd();
        });
        var r = new AvroReader(bytes);
        Assert.Equal(2, r.ReadBlockCount());
        Assert.Equal(1, r.ReadInt());
        Assert.Equal(2, r.ReadInt());
        Assert.Equal(0, r.ReadBlockCount());
        Assert.True(r.IsAtEnd);
    }

    [Fact]
    public void Skip_RecordOfAllKinds_LandsAfterValue()
    {
        var schema = AvroSchema.Parse("""
            {"type":"record","name":"R","fields":[
              {"name":"a","type":"int"},{"name":"b","type":"double"},{"name":"c","type":"string"},
              {"name":"d","type":{"type":"array","items":"float"}},
              {"name":"e","type":{"type":"map","values":["null","long"]}},
              {"name":"f","type":{"type":"fixed","name":"F","size":3}},
              {"name":"g","type":{"type":"enum","name":"E","symbols":["X","Y"]}},
              {"name":"h","type":"bytes"},{"name":"i","type":"boolean"}
            ]}
            """);
        var bytes = Encode(w =>
        {
            w.WriteInt(300);
            w.WriteDouble(1);
            w.WriteString("abc");
            w.WriteArrayStart(2);
            w.WriteFloat(1);
            w.WriteFloat(2);
            w.WriteBlockEnd();
            w.WriteMapStart(1);
            w.WriteString("k");
            w.WriteUnionIndex(1);
            w.WriteLong(99);
            w.WriteBlockEnd();
            w.WriteFixed([1, 2, 3]);
            w.WriteEnum(1);
            w.WriteBytes(new byte[1000]);
            w.WriteBoolean(true);
            w.WriteInt(42);
        });
        var r = new AvroReader(bytes);
        r.Skip(schema);
        Assert.Equal(42, r.ReadInt());
    }

    [Fact]
    public void Skip_FixedSizeRecord_IsOneStep()
    {
        var schema = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"P","fields":[{"name":"x","type":"double"},{"name":"y","type":"float"},{"name":"f","type":{"type":"fixed","name":"F","size":5}},{"name":"n","type":"null"},{"name":"b","type":"boolean"}]}""");
        Assert.Equal(18, schema.FixedSize);
        var data = new byte[18 + 1];
        var r = new AvroReader(data);
        r.Skip(schema);
        Assert.Equal(18, r.Position);
        var arraySchema = AvroSchema.Parse("""{"type":"array","items":{"type":"record","name":"P","fields":[{"name":"x","type":"double"}]}}""");
        var arrayBytes = Encode(w =>
        {
            w.WriteArrayStart(3);
            w.WriteRaw(new byte[24]);
            w.WriteBlockEnd();
        });
        var r2 = new AvroReader(arrayBytes);
        r2.Skip(arraySchema);
        Assert.True(r2.IsAtEnd);
    }
}
