using System.Text.Json;

namespace AlertBroker.Avro.Tests;

public class SchemaParsingTests
{
    [Theory]
    [InlineData("\"null\"", AvroType.Null)]
    [InlineData("\"boolean\"", AvroType.Boolean)]
    [InlineData("\"int\"", AvroType.Int)]
    [InlineData("\"long\"", AvroType.Long)]
    [InlineData("\"float\"", AvroType.Float)]
    [InlineData("\"double\"", AvroType.Double)]
    [InlineData("\"bytes\"", AvroType.Bytes)]
    [InlineData("\"string\"", AvroType.String)]
    [InlineData("{\"type\":\"string\"}", AvroType.String)]
    public void Parse_Primitive_ReturnsSingleton(string json, AvroType type)
    {
        var schema = AvroSchema.Parse(json);
        Assert.Equal(type, schema.Type);
        Assert.IsType<PrimitiveSchema>(schema);
        Assert.Same(AvroSchema.PrimitiveByName(AvroSchema.TypeName(type)), schema);
    }

    [Fact]
    public void Parse_RecordWithNestedTypes_InheritsNamespaces()
    {
        var schema = (RecordSchema)AvroSchema.Parse("""
            {"type":"record","name":"Outer","namespace":"a.b","fields":[
              {"name":"inner","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}},
              {"name":"other","type":{"type":"record","name":"c.Other","fields":[
                 {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]}},
              {"name":"again","type":"Inner"},
              {"name":"e2","type":"c.E"},
              {"name":"f","type":{"type":"fixed","name":"F","namespace":"","size":4}},
              {"name":"f2","type":"F"}
            ]}
            """);
        Assert.Equal("a.b.Outer", schema.FullName);
        Assert.Equal("a.b.Inner", ((NamedSchema)schema.Fields[0].Schema).FullName);
        Assert.Equal("c.Other", ((NamedSchema)schema.Fields[1].Schema).FullName);
        var e = (EnumSchema)((RecordSchema)schema.Fields[1].Schema).Fields[0].Schema;
        Assert.Equal("c.E", e.FullName);
        Assert.Same(schema.Fields[0].Schema, schema.Fields[2].Schema);
        Assert.Same(e, schema.Fields[3].Schema);
        var f = (FixedSchema)schema.Fields[4].Schema;
        Assert.Null(f.Namespace);
        Assert.Equal("F", f.FullName);
        Assert.Same(f, schema.Fields[5].Schema);
    }

    [Fact]
    public void Parse_AliasesAndDefaultsAndProperties_AreExposed()
    {
        var schema = (RecordSchema)AvroSchema.Parse("""
            {"type":"record","name":"R","namespace":"ns","aliases":["Old","other.Older"],"version":"4.02","fields":[
              {"name":"a","type":"int","default":7,"aliases":["alpha"],"doc":"the a"},
              {"name":"b","type":["null","string"],"default":null}
            ]}
            """);
        Assert.Equal(["ns.Old", "other.Older"], schema.Aliases);
        Assert.Equal("4.02", schema.Properties["version"].GetString());
        var a = schema.GetField("a")!;
        Assert.True(a.HasDefault);
        Assert.Equal(7, a.Default!.Value.GetInt32());
        Assert.Equal(["alpha"], a.Aliases);
        Assert.Equal("the a", a.Doc);
        Assert.True(schema.TryGetField("b", out var b));
        Assert.Equal(JsonValueKind.Null, b.Default!.Value.ValueKind);
        Assert.Equal(0, ((UnionSchema)b.Schema).NullBranchIndex);
        Assert.Null(schema.GetField("zzz"));
    }

    [Theory]
    [InlineData("{\"type\":\"int\",\"logicalType\":\"date\"}", "date")]
    [InlineData("{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}", "timestamp-micros")]
    [InlineData("{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":5,\"scale\":2}", "decimal")]
    [InlineData("{\"type\":\"string\",\"logicalType\":\"uuid\"}", "uuid")]
    [InlineData("{\"type\":\"fixed\",\"name\":\"D\",\"size\":12,\"logicalType\":\"duration\"}", "duration")]
    [InlineData("{\"type\":\"string\",\"logicalType\":\"date\"}", null)]
    [InlineData("{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":2,\"scale\":3}", null)]
    [InlineData("{\"type\":\"fixed\",\"name\":\"D\",\"size\":2,\"logicalType\":\"decimal\",\"precision\":5}", null)]
    public void Parse_LogicalType_ValidKeptInvalidIgnored(string json, string? expected)
    {
        Assert.Equal(expected, AvroSchema.Parse(json).LogicalTypeName);
    }

    [Theory]
    [InlineData("\"nosuch\"")]
    [InlineData("{\"type\":\"record\",\"name\":\"R\"}")]
    [InlineData("{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}")]
    [InlineData("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"a\",\"type\":\"int\"}]}")]
    [InlineData("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}")]
    [InlineData("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"B\"}")]
    [InlineData("[\"int\",\"int\"]")]
    [InlineData("[\"null\",[\"int\"]]")]
    [InlineData("{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}")]
    [InlineData("{\"type\":\"array\"}")]
    [InlineData("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}}]}")]
    [InlineData("{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}")]
    [InlineData("{not json")]
    [InlineData("\"int\" \"int\"")]
    [InlineData("42")]
    public void Parse_InvalidSchema_ThrowsAvroSchemaException(string json)
    {
        Assert.Throws<AvroSchemaException>(() => AvroSchema.Parse(json));
    }

    [Fact]
    public void Parse_InvalidFieldDefault_IsKeptButMarkedInvalid()
    {
        var schema = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"R","fields":[{"name":"a","type":"boolean","default":"true"}]}""");
        Assert.True(schema.Fields[0].HasDefault);
        Assert.False(schema.Fields[0].DefaultIsValid);
    }

    [Fact]
    public void Parse_UnionDefaultMatchingLaterBranch_IsAccepted()
    {
        var schema = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"R","fields":[{"name":"a","type":["null","int"],"default":3}]}""");
        Assert.Equal(3, schema.Fields[0].Default!.Value.GetInt32());
    }

    [Fact]
    public void Parse_RecursiveRecord_ResolvesSelfReference()
    {
        var schema = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}""");
        Assert.Same(schema, ((UnionSchema)schema.Fields[1].Schema).Branches[1]);
    }

    [Fact]
    public void ToJson_ReparsesToSameCanonicalForm()
    {
        const string json = """
            {"type":"record","name":"R","namespace":"n","doc":"d","fields":[
              {"name":"a","type":{"type":"long","logicalType":"timestamp-millis"},"default":0},
              {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"],"default":"Y"}},
              {"name":"m","type":{"type":"map","values":{"type":"array","items":"E"}}},
              {"name":"inner","type":{"type":"record","name":"I","namespace":"","fields":[{"name":"z","type":"string"}]}},
              {"name":"i2","type":"I"}
            ]}
            """;
        var schema = AvroSchema.Parse(json);
        var reparsed = AvroSchema.Parse(schema.ToJson());
        Assert.Equal(schema.ToCanonicalForm(), reparsed.ToCanonicalForm());
        Assert.Equal("timestamp-millis", ((RecordSchema)reparsed).Fields[0].Schema.LogicalTypeName);
        Assert.Equal("Y", ((EnumSchema)((RecordSchema)reparsed).Fields[1].Schema).Default);
    }

    [Fact]
    public void ToJson_NullNamespaceInsideNamespace_IsPreserved()
    {
        var schema = AvroSchema.Parse("""{"type":"record","name":"O","namespace":"a","fields":[{"name":"i","type":{"type":"record","name":"I","namespace":"","fields":[]}}]}""");
        var reparsed = (RecordSchema)AvroSchema.Parse(schema.ToJson());
        Assert.Equal("I", ((NamedSchema)reparsed.Fields[0].Schema).FullName);
    }
}
