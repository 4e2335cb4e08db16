using static AlertBroker.Avro.Tests.TestUtil;

namespace AlertBroker.Avro.Tests;

public class ResolutionTests
{
    private static readonly RecordSchema s_writer = Record("""
        {"type":"record","name":"R","namespace":"ns","fields":[
          {"name":"a","type":"int"},
          {"name":"b","type":"string"},
          {"name":"c","type":{"type":"array","items":"long"}},
          {"name":"d","type":["null","float"]}
        ]}
        """);

    private static GenericRecord WriterDatum()
    {
        var r = new GenericRecord(s_writer);
        r["a"] = 5;
        r["b"] = "bee";
        r["c"] = new List<object?> { 1L, 2L };
        r["d"] = 1.5f;
        return r;
    }

    [Fact]
    public void Read_ReaderDropsAndReordersFields_ProjectsByName()
    {
        var reader = Record("""{"type":"record","name":"R","namespace":"ns","fields":[{"name":"d","type":["null","float"]},{"name":"a","type":"int"}]}""");
        var result = (GenericRecord)Decode(s_writer, Encode(s_writer, WriterDatum()), reader)!;
        Assert.Equal(1.5f, result["d"]);
        Assert.Equal(5, result["a"]);
        Assert.False(result.TryGetValue("b", out _));
    }

    [Fact]
    public void Read_ReaderFieldAlias_MatchesWriterField()
    {
        var reader = Record("""{"type":"record","name":"R","namespace":"ns","fields":[{"name":"alpha","aliases":["a"],"type":"long"}]}""");
        var result = (GenericRecord)Decode(s_writer, Encode(s_writer, WriterDatum()), reader)!;
        Assert.Equal(5L, result["alpha"]);
    }

    [Fact]
    public void Read_MissingReaderFieldWithDefault_UsesDecodedDefault()
    {
        var reader = Record("""
            {"type":"record","name":"R","namespace":"ns","fields":[
              {"name":"a","type":"int"},
              {"name":"x","type":"string","default":"dflt"},
              {"name":"y","type":{"type":"array","items":"int"},"default":[1,2,3]},
              {"name":"z","type":{"type":"record","name":"Z","fields":[{"name":"q","type":"double","default":2.5},{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]},"default":{"e":"B"}},
              {"name":"u","type":["null","int"],"default":null},
              {"name":"bts","type":"bytes","default":"\u00ff\u0001"},
              {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"},"default":86400000}
            ]}
            """);
        var bytes = Encode(s_writer, WriterDatum());
        var first = (GenericRecord)Decode(s_writer, bytes, reader)!;
        Assert.Equal(5, first["a"]);
        Assert.Equal("dflt", first["x"]);
        Assert.Equal(new List<object?> { 1, 2, 3 }, (List<object?>)first["y"]!);
        var z = (GenericRecord)first["z"]!;
        Assert.Equal(2.5, z["q"]);
        Assert.Equal("B", ((GenericEnum)z["e"]!).Symbol);
        Assert.Null(first["u"]);
        Assert.Equal(new byte[] { 0xFF, 0x01 }, ((ReadOnlyMemory<byte>)first["bts"]!).ToArray());
        Assert.Equal(new DateTimeOffset(1970, 1, 2, 0, 0, 0, TimeSpan.Zero), first["ts"]);

        // Mutable defaults are not shared between datums.
        var second = (GenericRecord)Decode(s_writer, bytes, reader)!;
        Assert.NotSame(first["y"], second["y"]);
        Assert.NotSame(first["z"], second["z"]);
    }

    [Fact]
    public void Compile_MissingReaderFieldWithoutDefault_ThrowsNamingPath()
    {
        var reader = Record("""{"type":"record","name":"R","namespace":"ns","fields":[{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"q","type":"int"}]},"default":{"q":1}},{"name":"a","type":{"type":"record","name":"J","fields":[{"name":"missing","type":"int"}]}}]}""");
        var writer = Record("""{"type":"record","name":"R","namespace":"ns","fields":[{"name":"a","type":{"type":"record","name":"J","fields":[{"name":"other","type":"int"}]}}]}""");
        var ex = Assert.Throws<AvroResolutionException>(() => new GenericDatumReader(writer, reader));
        Assert.Contains("R.a.missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_InvalidDefaultNeeded_ThrowsResolutionError()
    {
        var reader = Record("""{"type":"record","name":"R","namespace":"ns","fields":[{"name":"flag","type":"boolean","default":"true"}]}""");
        var ex = Assert.Throws<AvroResolutionException>(() => new GenericDatumReader(s_writer, reader));
        Assert.Contains("R.flag", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"int\"", "\"long\"", 7, 7L)]
    [InlineData("\"int\"", "\"float\"", 7, 7f)]
    [InlineData("\"int\"", "\"double\"", 7, 7d)]
    [InlineData("\"long\"", "\"float\"", 1L << 40, (float)(1L << 40))]
    [InlineData("\"long\"", "\"double\"", -3L, -3d)]
    [InlineData("\"float\"", "\"double\"", 0.5f, 0.5d)]
    public void Read_NumericPromotion_PreservesValue(string writerJson, string readerJson, object value, object expected)
    {
        var writer = AvroSchema.Parse(writerJson);
        Assert.Equal(expected, Decode(writer, Encode(writer, value), AvroSchema.Parse(readerJson)));
    }

    [Fact]
    public void Read_StringAndBytesPromotion_ConvertBothWays()
    {
        var asBytes = (ReadOnlyMemory<byte>)Decode(AvroSchema.String, Encode(AvroSchema.String, "héllo"), AvroSchema.Bytes)!;
        Assert.Equal("héllo"u8.ToArray(), asBytes.ToArray());
        Assert.Equal("abc", Decode(AvroSchema.Bytes, Encode(AvroSchema.Bytes, "abc"u8.ToArray()), AvroSchema.String));
    }

    [Theory]
    [InlineData("\"long\"", "\"int\"")]
    [InlineData("\"double\"", "\"float\"")]
    [InlineData("\"string\"", "\"int\"")]
    [InlineData("{\"type\":\"array\",\"items\":\"int\"}", "{\"type\":\"map\",\"values\":\"int\"}")]
    [InlineData("{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":8}")]
    [InlineData("\"int\"", "[\"null\",\"string\"]")]
    public void Compile_IncompatibleTypes_ThrowsResolutionException(string writerJson, string readerJson)
    {
        Assert.Throws<AvroResolutionException>(() => new GenericDatumReader(AvroSchema.Parse(writerJson), AvroSchema.Parse(readerJson)));
    }

    [Fact]
    public void Read_WriterNonUnionReaderUnion_PicksExactBranchBeforePromotion()
    {
        var reader = AvroSchema.Parse("""["null","long","int"]""");
        Assert.Equal(3, Decode(AvroSchema.Int, Encode(AvroSchema.Int, 3), reader));
        var promoting = AvroSchema.Parse("""["null","double","string"]""");
        Assert.Equal(3d, Decode(AvroSchema.Int, Encode(AvroSchema.Int, 3), promoting));
    }

    [Fact]
    public void Read_WriterUnionReaderNonUnion_ResolvesMatchingBranchAndFailsOthersAtRead()
    {
        var writer = AvroSchema.Parse("""["null","int","string"]""");
        Assert.Equal(9L, Decode(writer, Encode(writer, 9), AvroSchema.Long));
        var ex = Assert.Throws<AvroFormatException>(() => Decode(writer, Encode(writer, "s"), AvroSchema.Long));
        Assert.Contains("string", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, ex.Offset);
    }

    [Fact]
    public void Read_UnionToUnion_ResolvesEachBranchByFirstMatch()
    {
        var writer = AvroSchema.Parse("""["null","int",{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}]""");
        var reader = AvroSchema.Parse("""[{"type":"record","name":"P","fields":[{"name":"x","type":"long"},{"name":"y","type":"int","default":4}]},"double","null"]""");
        Assert.Null(Decode(writer, Encode(writer, null), reader));
        Assert.Equal(2d, Decode(writer, Encode(writer, 2), reader));
        var p = new GenericRecord((RecordSchema)((UnionSchema)writer).Branches[2]);
        p["x"] = 11;
        var read = (GenericRecord)Decode(writer, Encode(writer, p), reader)!;
        Assert.Equal(11L, read["x"]);
        Assert.Equal(4, read["y"]);
    }

    [Fact]
    public void Read_EnumSymbolMissingFromReader_UsesReaderDefaultOrFailsAtRead()
    {
        var writer = AvroSchema.Parse("""{"type":"enum","name":"E","symbols":["A","B","C"]}""");
        var withDefault = AvroSchema.Parse("""{"type":"enum","name":"E","symbols":["C","A","UNKNOWN"],"default":"UNKNOWN"}""");
        var without = AvroSchema.Parse("""{"type":"enum","name":"E","symbols":["A","C"]}""");
        Assert.Equal("A", ((GenericEnum)Decode(writer, Encode(writer, "A"), withDefault)!).Symbol);
        Assert.Equal("UNKNOWN", ((GenericEnum)Decode(writer, Encode(writer, "B"), withDefault)!).Symbol);
        Assert.Equal("C", ((GenericEnum)Decode(writer, Encode(writer, "C"), without)!).Symbol);
        var ex = Assert.Throws<AvroFormatException>(() => Decode(writer, Encode(writer, "B"), without));
        Assert.Contains("'B'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RecordRenamedWithAlias_MatchesUnionBranchByAlias()
    {
        var writer = AvroSchema.Parse("""["null",{"type":"record","name":"old.Thing","fields":[{"name":"v","type":"int"}]}]""");
        var reader = AvroSchema.Parse("""["null",{"type":"record","name":"Other","fields":[{"name":"w","type":"int","default":0}]},{"type":"record","name":"neu.Thing2","aliases":["old.Thing"],"fields":[{"name":"v","type":"int"}]}]""");
        var datum = new GenericRecord((RecordSchema)((UnionSchema)writer).Branches[1]);
        datum["v"] = 3;
        var read = (GenericRecord)Decode(writer, Encode(writer, datum), reader)!;
        Assert.Equal("neu.Thing2", read.Schema.FullName);
        Assert.Equal(3, read["v"]);
    }

    [Fact]
    public void Read_RecursiveSchemas_ResolveThroughCycle()
    {
        var writer = Record("""{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}""");
        var reader = Record("""{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]},{"name":"v","type":"long"},{"name":"tag","type":"string","default":"t"}]}""");
        var tail = new GenericRecord(writer) { ["v"] = 2 };
        var head = new GenericRecord(writer) { ["v"] = 1, ["next"] = tail };
        var read = (GenericRecord)Decode(writer, Encode(writer, head), reader)!;
        Assert.Equal(1L, read["v"]);
        var next = (GenericRecord)read["next"]!;
        Assert.Equal(2L, next["v"]);
        Assert.Equal("t", next["tag"]);
        Assert.Null(next["next"]);
    }
}
