using System.Numerics;
using static AlertBroker.Avro.Tests.TestUtil;

namespace AlertBroker.Avro.Tests;

public class GenericDataTests
{
    [Fact]
    public void ReadBytes_IsSliceOfCallerMemory()
    {
        var bytes = Encode(AvroSchema.Bytes, new byte[] { 1, 2, 3 });
        var position = 0;
        var value = (ReadOnlyMemory<byte>)new GenericDatumReader(AvroSchema.Bytes).Read(bytes, ref position)!;
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(value, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(1, segment.Offset);
    }

    [Fact]
    public void LogicalTypes_RoundTripAsClrTypes()
    {
        var schema = Record("""
            {"type":"record","name":"L","fields":[
              {"name":"date","type":{"type":"int","logicalType":"date"}},
              {"name":"tms","type":{"type":"int","logicalType":"time-millis"}},
              {"name":"tus","type":{"type":"long","logicalType":"time-micros"}},
              {"name":"tsms","type":{"type":"long","logicalType":"timestamp-millis"}},
              {"name":"tsus","type":{"type":"long","logicalType":"timestamp-micros"}},
              {"name":"ltms","type":{"type":"long","logicalType":"local-timestamp-millis"}},
              {"name":"ltus","type":{"type":"long","logicalType":"local-timestamp-micros"}},
              {"name":"uuid","type":{"type":"string","logicalType":"uuid"}},
              {"name":"fuuid","type":{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}},
              {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}},
              {"name":"fdec","type":{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":12,"scale":2}}
            ]}
            """);
        var guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var record = new GenericRecord(schema)
        {
            ["date"] = new DateOnly(2024, 2, 29),
            ["tms"] = new TimeOnly(13, 14, 15, 16),
            ["tus"] = new TimeOnly(1, 2, 3, 4, 5),
            ["tsms"] = new DateTimeOffset(2019, 1, 10, 3, 4, 5, 6, TimeSpan.Zero),
            ["tsus"] = new DateTimeOffset(1960, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1230),
            ["ltms"] = new DateTime(2000, 1, 1, 0, 0, 0, 1, DateTimeKind.Unspecified),
            ["ltus"] = new DateTime(1999, 12, 31, 23, 59, 59, DateTimeKind.Unspecified).AddTicks(10),
            ["uuid"] = guid,
            ["fuuid"] = guid,
            ["dec"] = new AvroDecimal(new BigInteger(-123456), 3, 10),
            ["fdec"] = 12345.67m,
        };
        var bytes = Encode(schema, record);
        var read = (GenericRecord)Decode(schema, bytes)!;
        Assert.Equal(new DateOnly(2024, 2, 29), read["date"]);
        Assert.Equal(new TimeOnly(13, 14, 15, 16), read["tms"]);
        Assert.Equal(new TimeOnly(1, 2, 3, 4, 5), read["tus"]);
        Assert.Equal(record["tsms"], read["tsms"]);
        Assert.Equal(record["tsus"], read["tsus"]);
        Assert.Equal(TimeSpan.Zero, ((DateTimeOffset)read["tsms"]!).Offset);
        Assert.Equal(record["ltms"], read["ltms"]);
        Assert.Equal(DateTimeKind.Unspecified, ((DateTime)read["ltus"]!).Kind);
        Assert.Equal(record["ltus"], read["ltus"]);
        Assert.Equal(guid, read["uuid"]);
        Assert.Equal(guid, read["fuuid"]);
        var dec = (AvroDecimal)read["dec"]!;
        Assert.Equal(-123.456m, dec.ToDecimal());
        Assert.Equal(3, dec.Scale);
        Assert.Equal(10, dec.Precision);
        Assert.Equal("-123.456", dec.ToString());
        Assert.Equal(12345.67m, ((AvroDecimal)read["fdec"]!).ToDecimal());
    }

    [Theory]
    [InlineData("79228162514264337593543950335", 28, "7.9228162514264337593543950335")]
    [InlineData("-12345", 2, "-123.45")]
    [InlineData("5", 0, "5")]
    [InlineData("1", 28, "0.0000000000000000000000000001")]
    public void AvroDecimal_ToDecimal_IsExact(string unscaled, int scale, string expected)
    {
        var value = new AvroDecimal(BigInteger.Parse(unscaled, System.Globalization.CultureInfo.InvariantCulture), scale, 29);
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value.ToDecimal());
        Assert.Equal(expected, value.ToString());
    }

    [Fact]
    public void LogicalTimestamp_OutOfRange_ThrowsFormatException()
    {
        var schema = AvroSchema.Parse("""{"type":"long","logicalType":"timestamp-millis"}""");
        var bytes = Encode(AvroSchema.Long, long.MaxValue);
        Assert.Throws<AvroFormatException>(() => Decode(schema, bytes));
    }

    [Fact]
    public void Write_MismatchedDatum_ThrowsNamingFieldPath()
    {
        var schema = Record("""{"type":"record","name":"alert","fields":[{"name":"candidate","type":{"type":"record","name":"c","fields":[{"name":"magpsf","type":"float"}]}}]}""");
        var candidate = new GenericRecord((RecordSchema)schema.Fields[0].Schema) { ["magpsf"] = "oops" };
        var alert = new GenericRecord(schema) { ["candidate"] = candidate };
        var ex = Assert.Throws<AvroException>(() => Encode(schema, alert));
        Assert.Contains("alert.candidate.magpsf", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_UnionPicksBranchByClrType()
    {
        var schema = AvroSchema.Parse("""["null","int","long","double","string","bytes",{"type":"array","items":"int"},{"type":"map","values":"int"}]""");
        object?[] values = [null, 1, 2L, 3.5, "s", new ReadOnlyMemory<byte>([1]), new List<object?> { 1 }, new Dictionary<string, object?> { ["k"] = 1 }];
        for (var i = 0; i < values.Length; i++)
        {
            var bytes = Encode(schema, values[i]);
            Assert.Equal(i, new AvroReader(bytes).ReadUnionIndex(8));
            Assert.True(GenericEquality.DeepEquals(values[i], Decode(schema, bytes)));
        }
    }

    [Fact]
    public void AvroJson_WritesPlainValues()
    {
        var schema = Record("""
            {"type":"record","name":"R","fields":[
              {"name":"u","type":["null","double"]},{"name":"n","type":"float"},{"name":"b","type":"bytes"},
              {"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"d","type":{"type":"int","logicalType":"date"}},
              {"name":"m","type":{"type":"map","values":"string"}},{"name":"a","type":{"type":"array","items":"int"}}]}
            """);
        var record = new GenericRecord(schema)
        {
            ["u"] = 1.25,
            ["n"] = float.NaN,
            ["b"] = new ReadOnlyMemory<byte>([1, 2, 3]),
            ["e"] = new GenericEnum((EnumSchema)schema.Fields[3].Schema, 0),
            ["d"] = new DateOnly(2020, 1, 2),
            ["m"] = new Dictionary<string, object?> { ["k"] = "v" },
            ["a"] = new List<object?> { 1, 2 },
        };
        Assert.Equal("""{"u":1.25,"n":"NaN","b":3,"e":"X","d":"2020-01-02","m":{"k":"v"},"a":[1,2]}""", AvroJson.ToJson(record));
        Assert.Contains("\"b\":\"AQID\"", AvroJson.ToJson(record, new AvroJsonOptions { BytesAsLength = false }), StringComparison.Ordinal);
        Assert.Equal("\"-Infinity\"", AvroJson.ToJson(double.NegativeInfinity));
    }
}
