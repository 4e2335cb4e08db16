namespace AlertBroker.Avro.Tests;

public class SchemaSetTests
{
    [SharedDataFact]
    public void LoadDirectory_ZtfSchemas_ResolvesCrossFileReferences()
    {
        var set = AvroSchemaSet.LoadDirectory(SharedData.Sample("ztf", "schema"));
        var alert = (RecordSchema)set["ztf.alert"];
        var candidate = (RecordSchema)set["ztf.alert.candidate"];
        Assert.Same(candidate, alert.GetField("candidate")!.Schema);
        Assert.Equal("4.02", alert.Properties["version"].GetString());
        Assert.True(set.TryGet("ztf.alert.cutout", out var cutout));
        Assert.Equal(AvroType.Record, cutout.Type);
        Assert.Equal(5, set.Schemas.Count());
    }

    [SharedDataFact]
    public void LoadDirectory_RubinSchemas_ResolvesAlert()
    {
        foreach (var version in new[] { "v7_4", "v11_0" })
        {
            var set = AvroSchemaSet.LoadDirectory(SharedData.Sample("lsst", version));
            var alert = (RecordSchema)set[$"lsst.{version}.alert"];
            Assert.Equal(AvroType.Record, alert.GetField("diaSource")!.Schema.Type);
        }
    }

    [Fact]
    public void LoadDirectory_MissingType_ThrowsNamingIt()
    {
        var dir = Directory.CreateTempSubdirectory("avro-set-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "a.avsc"), """{"type":"record","name":"x.A","fields":[{"name":"b","type":"x.B"}]}""");
            File.WriteAllText(Path.Combine(dir.FullName, "c.avsc"), """{"type":"record","name":"x.C","fields":[{"name":"a","type":"x.A"}]}""");
            var ex = Assert.Throws<AvroSchemaException>(() => AvroSchemaSet.LoadDirectory(dir.FullName));
            Assert.Contains("x.B", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Add_ReferencesEarlierType_AndParseWithSetDoesNotMutate()
    {
        var set = new AvroSchemaSet();
        set.Add("""{"type":"fixed","name":"q.Hash","size":4}""");
        var r = (RecordSchema)set.Add("""{"type":"record","name":"q.R","fields":[{"name":"h","type":"Hash"}]}""");
        Assert.Same(set["q.Hash"], r.Fields[0].Schema);

        var other = AvroSchema.Parse("""{"type":"record","name":"q.S","fields":[{"name":"h","type":"q.Hash"}]}""", set);
        Assert.Same(set["q.Hash"], ((RecordSchema)other).Fields[0].Schema);
        Assert.False(set.TryGet("q.S", out _));
        Assert.Throws<AvroSchemaException>(() => set.Add("""{"type":"fixed","name":"q.Hash","size":8}"""));
    }
}
