using System.Text;

namespace AlertBroker.Avro.Tests;

public class SchemaCacheTests
{
    private static byte[] SchemaBytes(int i) => Encoding.UTF8.GetBytes($$"""{"type":"record","name":"R{{i}}","fields":[{"name":"a","type":"int"}]}""");

    [Fact]
    public void GetOrParse_SameBytes_ParsesOnce()
    {
        var cache = new AvroSchemaCache();
        var first = cache.GetOrParse(SchemaBytes(1));
        var second = cache.GetOrParse(SchemaBytes(1));
        Assert.Same(first, second);
        Assert.Equal(1, cache.ParseCount);
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGetByFingerprint(first.Fingerprint, out var byFingerprint));
        Assert.Same(first, byFingerprint);
    }

    [Fact]
    public void GetOrParse_DifferentBytes_DifferentEntries()
    {
        var cache = new AvroSchemaCache();
        var a = cache.GetOrParse(SchemaBytes(1));
        var b = cache.GetOrParse(SchemaBytes(2));
        var spaced = cache.GetOrParse(Encoding.UTF8.GetBytes("""{"type":"record", "name":"R1","fields":[{"name":"a","type":"int"}]}"""));
        Assert.NotSame(a, b);
        Assert.NotSame(a, spaced);
        Assert.Equal(a.Fingerprint, spaced.Fingerprint);
        Assert.Equal(3, cache.Count);
        Assert.Equal(3, cache.ParseCount);
    }

    [Fact]
    public void GetOrParse_BeyondCapacity_EvictsOldest()
    {
        var cache = new AvroSchemaCache(capacity: 4);
        for (var i = 0; i < 10; i++)
        {
            cache.GetOrParse(SchemaBytes(i));
        }

        Assert.True(cache.Count <= 4);
        cache.GetOrParse(SchemaBytes(9));
        Assert.Equal(10, cache.ParseCount);
        cache.GetOrParse(SchemaBytes(0));
        Assert.Equal(11, cache.ParseCount);
    }

    [Fact]
    public void GetOrParse_Hit_DoesNotAllocate()
    {
        var cache = new AvroSchemaCache();
        var json = Encoding.UTF8.GetBytes(new string(' ', 10_000) + "\"int\"");
        cache.GetOrParse(json);
        cache.GetOrParse(json);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            cache.GetOrParse(json);
        }

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1000);
    }

    [Fact]
    public void GetOrParse_ConcurrentCallers_AgreeOnInstance()
    {
        var cache = new AvroSchemaCache();
        var results = new AvroSchema[16];
        Parallel.For(0, results.Length, i => results[i] = cache.GetOrParse(SchemaBytes(7)));
        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.Equal(1, cache.Count);
    }

    [SharedDataFact]
    public void ContainerOpen_SeenSchema_ReusesParsedSchemaAndAllocatesLittle()
    {
        var file = File.ReadAllBytes(SharedData.Sample("ztf-real-50", "1095578115815010001.avro"));
        var cache = new AvroSchemaCache();
        var first = AvroContainerReader.Open(file, cache);
        AvroContainerReader.Open(file, cache);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var second = AvroContainerReader.Open(file, cache);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Same(first.Header.Schema, second.Header.Schema);
        Assert.Equal(1, cache.ParseCount);
        Assert.True(allocated < 400, $"opening a container with a cached schema allocated {allocated} bytes");
    }
}
