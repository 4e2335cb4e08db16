using System.Buffers;

namespace AlertBroker.Avro.Tests;

public sealed class WireFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("avro-dir-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ConfluentHeader_RoundTrips()
    {
        var buffer = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(buffer, 0x01020304);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, buffer.WrittenSpan.ToArray());
        Assert.True(ConfluentWireFormat.TryReadHeader(buffer.WrittenSpan, out var id));
        Assert.Equal(0x01020304, id);
        Assert.False(ConfluentWireFormat.TryReadHeader(new byte[] { 1, 0, 0, 0, 1 }, out _));
        Assert.False(ConfluentWireFormat.TryReadHeader(new byte[] { 0, 0, 0 }, out _));
    }

    [Fact]
    public void SingleObjectEncoding_RoundTripsAndUsesFingerprint()
    {
        var schema = TestUtil.Record("""{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}""");
        var datum = new GenericRecord(schema) { ["x"] = 5 };
        var bytes = SingleObjectEncoding.Encode(schema, datum);
        Assert.Equal(0xC3, bytes[0]);
        Assert.Equal(0x01, bytes[1]);
        Assert.True(SingleObjectEncoding.TryReadHeader(bytes, out var fp));
        Assert.Equal(schema.Fingerprint, fp);
        Assert.Equal(datum, SingleObjectEncoding.Decode(bytes, f => f == schema.Fingerprint ? schema : null));
        Assert.Throws<AvroSchemaLookupException>(() => SingleObjectEncoding.Decode(bytes, _ => null));

        var intHeader = new ArrayBufferWriter<byte>();
        SingleObjectEncoding.WriteHeader(intHeader, AvroSchema.Int.Fingerprint);
        Assert.Equal(new byte[] { 0xC3, 0x01, 0x8F, 0x5C, 0x39, 0x3F, 0x1A, 0xD5, 0x75, 0x72 }, intHeader.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task DirectoryLookup_FindsIdFilesAndSharedTypes()
    {
        File.WriteAllText(Path.Combine(_dir, "types.avsc"), """{"type":"fixed","name":"q.Hash","size":4}""");
        File.WriteAllText(Path.Combine(_dir, "1.avsc"), """{"type":"record","name":"q.A","fields":[{"name":"h","type":"q.Hash"}]}""");
        File.WriteAllText(Path.Combine(_dir, "2-alert-v2.avsc"), """{"type":"record","name":"q.A","fields":[{"name":"h","type":"q.Hash"},{"name":"n","type":"int"}]}""");
        var lookup = new DirectorySchemaLookup(_dir);
        var one = (RecordSchema)await lookup.GetSchemaAsync(1);
        var two = (RecordSchema)await lookup.GetSchemaAsync(2);
        Assert.Single(one.Fields);
        Assert.Equal(2, two.Fields.Count);
        Assert.Same(one.Fields[0].Schema, two.Fields[0].Schema);
        Assert.Same(one, await lookup.GetSchemaAsync(1));
        var ex = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(3));
        Assert.Contains("3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DirectoryLookup_MissingId_RememberedForTheMissTtlThenFound()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var lookup = new DirectorySchemaLookup(_dir, clock);
        var first = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(7));
        Assert.Contains("7.avsc", first.Message, StringComparison.Ordinal);

        // The file appears: a stream of messages with that id is still refused, with the same message, until the
        // miss has been remembered for its time; then the file is read.
        File.WriteAllText(Path.Combine(_dir, "7-late.avsc"), """{"type":"record","name":"q.L","fields":[{"name":"x","type":"int"}]}""");
        for (var i = 0; i < 100; i++)
        {
            var again = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(7));
            Assert.Equal(first.Message, again.Message);
        }

        clock.Advance(DirectorySchemaLookup.DefaultMissTtl - TimeSpan.FromMilliseconds(10));
        await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(7));
        clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal("q.L", ((RecordSchema)await lookup.GetSchemaAsync(7)).FullName);

        // An invalid file is refused and remembered the same way; mended, it is read once the time has passed.
        File.WriteAllText(Path.Combine(_dir, "8.avsc"), "{not json");
        var invalid = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(8));
        Assert.Contains("invalid", invalid.Message, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "8.avsc"), """{"type":"record","name":"q.M","fields":[]}""");
        await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(8));
        clock.Advance(DirectorySchemaLookup.DefaultMissTtl);
        Assert.Equal("q.M", ((RecordSchema)await lookup.GetSchemaAsync(8)).FullName);

        // With MissTtl zero a file added after a miss is found at once.
        var eager = new DirectorySchemaLookup(_dir, clock) { MissTtl = TimeSpan.Zero };
        await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await eager.GetSchemaAsync(9));
        File.WriteAllText(Path.Combine(_dir, "9.avsc"), """{"type":"record","name":"q.N","fields":[]}""");
        Assert.Equal("q.N", ((RecordSchema)await eager.GetSchemaAsync(9)).FullName);
    }

    [Fact]
    public async Task DirectoryLookup_BrokenSharedTypesFile_RefusedUntilMendedThenRead()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        File.WriteAllText(Path.Combine(_dir, "types.avsc"), """{"type":"fixed","name":"q.Hash","size":""");
        File.WriteAllText(Path.Combine(_dir, "1.avsc"), """{"type":"record","name":"q.A","fields":[{"name":"h","type":"q.Hash"}]}""");
        var lookup = new DirectorySchemaLookup(_dir, clock);
        var broken = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(1));
        Assert.Contains("shared schema files", broken.Message, StringComparison.Ordinal);

        // Mended: read once the miss has been remembered for its time, without a restart.
        File.WriteAllText(Path.Combine(_dir, "types.avsc"), """{"type":"fixed","name":"q.Hash","size":4}""");
        clock.Advance(DirectorySchemaLookup.DefaultMissTtl);
        var schema = (RecordSchema)await lookup.GetSchemaAsync(1);
        Assert.Equal("q.Hash", ((NamedSchema)schema.Fields[0].Schema).FullName);
    }

    [Fact]
    public async Task DirectoryLookup_SharedTypeAddedLater_UsedByTheNewIdWithoutARestart()
    {
        File.WriteAllText(Path.Combine(_dir, "types.avsc"), """{"type":"fixed","name":"q.Hash","size":4}""");
        File.WriteAllText(Path.Combine(_dir, "1.avsc"), """{"type":"record","name":"q.A","fields":[{"name":"h","type":"q.Hash"}]}""");
        var lookup = new DirectorySchemaLookup(_dir) { MissTtl = TimeSpan.Zero };
        var one = (RecordSchema)await lookup.GetSchemaAsync(1);

        // A new schema version arrives with a new shared type (the shared types were read once, for id 1: it was refused
        // until the process restarted).
        File.WriteAllText(Path.Combine(_dir, "2.avsc"), """{"type":"record","name":"q.B","fields":[{"name":"h","type":"q.Hash"},{"name":"c","type":"q.Cutout"}]}""");
        File.WriteAllText(Path.Combine(_dir, "cutout.avsc"), """{"type":"record","name":"q.Cutout","fields":[{"name":"data","type":"bytes"}]}""");
        var two = (RecordSchema)await lookup.GetSchemaAsync(2);
        Assert.Equal("q.Cutout", ((NamedSchema)two.Fields[1].Schema).FullName);

        // Id 1 keeps the schema it was loaded with; unchanged files are not read again (the same types for the next id).
        Assert.Same(one, await lookup.GetSchemaAsync(1));
        File.WriteAllText(Path.Combine(_dir, "3.avsc"), """{"type":"record","name":"q.C","fields":[{"name":"c","type":"q.Cutout"}]}""");
        var three = (RecordSchema)await lookup.GetSchemaAsync(3);
        Assert.Same(two.Fields[1].Schema, three.Fields[0].Schema);

        // A shared type removed: a new id that needs it is refused naming the type; the loaded ones still decode.
        File.Delete(Path.Combine(_dir, "cutout.avsc"));
        File.WriteAllText(Path.Combine(_dir, "4.avsc"), """{"type":"record","name":"q.D","fields":[{"name":"c","type":"q.Cutout"}]}""");
        var gone = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(4));
        Assert.Contains("q.Cutout", gone.Message, StringComparison.Ordinal);
        Assert.Same(two, await lookup.GetSchemaAsync(2));
    }

    [Fact]
    public async Task DirectoryLookup_ManyUnknownIds_TheRememberedMissesStayBounded()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var lookup = new DirectorySchemaLookup(_dir, clock);
        for (var id = 0; id < SchemaRefusals.MaxRemembered + 50; id++)
        {
            await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(id));
        }

        Assert.True(lookup.RememberedMisses <= SchemaRefusals.MaxRemembered, $"{lookup.RememberedMisses} misses remembered");
    }
}
