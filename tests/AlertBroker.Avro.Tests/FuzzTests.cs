using System.Buffers;
using System.Text;

namespace AlertBroker.Avro.Tests;

/// <summary>
/// Hostile input: the only acceptable outcomes are success or an <see cref="AvroException"/> subtype. Any other
/// exception type fails the test (xunit reports it), as would a hang or an out-of-memory.
/// </summary>
public class FuzzTests
{
    private static readonly AvroSchema s_ztfLikeSchema = AvroSchema.Parse("""
        {"type":"record","name":"A","fields":[
          {"name":"id","type":"long"},{"name":"s","type":"string"},
          {"name":"arr","type":["null",{"type":"array","items":{"type":"record","name":"P","fields":[{"name":"x","type":["null","float"]},{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}]}}]},
          {"name":"m","type":{"type":"map","values":"bytes"}},
          {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
          {"name":"f","type":{"type":"fixed","name":"F","size":3}},
          {"name":"d","type":{"type":"int","logicalType":"date"}}]}
        """);

    /// <summary>Opens and fully decodes a container; returns true on success, false on an AvroException.</summary>
    private static bool TryDecodeContainer(byte[] data, AvroSchemaCache cache)
    {
        try
        {
            var reader = AvroContainerReader.Open(data, cache);
            foreach (var datum in reader.ReadAll())
            {
                GC.KeepAlive(datum);
            }

            var skipper = AvroContainerReader.Open(data, cache);
            while (skipper.TryReadBlock(out var block))
            {
                var r = new AvroReader(block.Data.Span);
                for (long i = 0; i < block.Count && !r.IsAtEnd; i++)
                {
                    r.Skip(skipper.Header.Schema);
                }
            }

            return true;
        }
        catch (AvroException)
        {
            return false;
        }
    }

    private static bool TryDecode(AvroSchema schema, byte[] data)
    {
        try
        {
            var position = 0;
            new GenericDatumReader(schema).Read(data, ref position);
            var r = new AvroReader(data);
            r.Skip(schema);
            return true;
        }
        catch (AvroException)
        {
            return false;
        }
    }

    [Fact]
    public void RandomBytes_ContainerReader_OnlyAvroExceptions()
    {
        var random = new Random(1234);
        var cache = new AvroSchemaCache(16);
        var header = BuildContainer(s_ztfLikeSchema, 0);
        for (var i = 0; i < 3000; i++)
        {
            var data = new byte[random.Next(0, 300)];
            random.NextBytes(data);
            switch (i % 3)
            {
                case 1 when data.Length >= 4:
                    "Obj\u0001"u8.CopyTo(data);
                    break;
                case 2:
                    data = [.. header, .. data];
                    break;
            }

            TryDecodeContainer(data, cache);
        }
    }

    [Fact]
    public void RandomBytes_GenericReader_OnlyAvroExceptions()
    {
        var random = new Random(99);
        var decoded = 0;
        for (var i = 0; i < 5000; i++)
        {
            var data = new byte[random.Next(0, 100)];
            random.NextBytes(data);
            if (TryDecode(s_ztfLikeSchema, data))
            {
                decoded++;
            }
        }

        Assert.True(decoded < 5000);
    }

    [Fact]
    public void RandomBytes_SchemaParser_OnlyAvroSchemaExceptions()
    {
        var random = new Random(7);
        const string alphabet = "{}[]\":,. abcdefnrstuyilpmxgAZ_0123456789";
        string[] tokens = ["{", "}", "[", "]", ",", ":", "\"type\"", "\"record\"", "\"fields\"", "\"name\"", "\"R\"", "\"int\"", "\"array\"", "\"items\"", "\"map\"", "\"values\"", "\"enum\"", "\"symbols\"", "\"fixed\"", "\"size\"", "16", "-1", "\"logicalType\"", "\"decimal\"", "\"precision\"", "null", "\"default\""];
        for (var i = 0; i < 4000; i++)
        {
            byte[] data;
            if (i % 2 == 0)
            {
                data = new byte[random.Next(0, 80)];
                for (var j = 0; j < data.Length; j++)
                {
                    data[j] = i % 4 == 0 ? (byte)random.Next(256) : (byte)alphabet[random.Next(alphabet.Length)];
                }
            }
            else
            {
                var sb = new StringBuilder();
                for (var j = random.Next(1, 40); j > 0; j--)
                {
                    sb.Append(tokens[random.Next(tokens.Length)]);
                }

                data = Encoding.UTF8.GetBytes(sb.ToString());
            }

            try
            {
                AvroSchema.Parse(data);
            }
            catch (AvroSchemaException)
            {
            }
        }
    }

    [SharedDataFact]
    public void TruncatedAlert_EveryPrefix_OnlyAvroExceptions()
    {
        var file = SharedData.AvroFiles("ztf-real-50").Select(f => new FileInfo(f)).MinBy(f => f.Length)!;
        var data = File.ReadAllBytes(file.FullName);
        var cache = new AvroSchemaCache(8);
        Assert.True(TryDecodeContainer(data, cache));

        // A file cut exactly after the header or after a block is itself a valid container; any other cut is not.
        var boundaries = new HashSet<int>();
        var reader = AvroContainerReader.Open(data, cache);
        boundaries.Add(reader.Header.Length);
        while (reader.TryReadBlock(out _))
        {
            boundaries.Add(reader.Position);
        }

        for (var length = 0; length < data.Length; length++)
        {
            Assert.Equal(boundaries.Contains(length), TryDecodeContainer(data[..length], cache));
        }
    }

    [SharedDataFact]
    public void TruncatedRubinAlert_SampledPrefixes_OnlyAvroExceptions()
    {
        var data = File.ReadAllBytes(SharedData.Sample("lsst", "v7_4", "fakeAlert.avro"));
        var cache = new AvroSchemaCache(8);
        for (var length = 0; length < data.Length; length += 7)
        {
            TryDecodeContainer(data[..length], cache);
        }
    }

    [Theory]
    [InlineData("deflate")]
    [InlineData("snappy")]
    [InlineData("zstandard")]
    [InlineData("bzip2")]
    public void BitFlipsAndTruncations_CompressedBlocks_OnlyAvroExceptions(string codec)
    {
        // The third-party decompressors see the hostile bytes first; whatever they throw must reach the caller as an
        // AvroFormatException (ContainerFormat.DecompressInto), never as their own exception types.
        var random = new Random(7);
        var cache = new AvroSchemaCache(16);
        var schema = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"R","fields":[{"name":"id","type":"long"},{"name":"s","type":"string"},{"name":"b","type":"bytes"}]}""");
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, schema, codec, blockSizeBytes: 2048, leaveOpen: true))
        {
            for (var i = 0; i < 200; i++)
            {
                writer.Write(new GenericRecord(schema) { ["id"] = (long)i, ["s"] = "object-" + (i % 17), ["b"] = new ReadOnlyMemory<byte>(new byte[i % 40]) });
            }
        }

        var original = stream.ToArray();
        var headerLength = AvroContainerReader.Open(original, cache).Header.Length;
        Assert.True(TryDecodeContainer(original, cache));
        var failures = 0;
        for (var i = 0; i < 1500; i++)
        {
            var data = (byte[])original.Clone();
            if (i % 4 == 0)
            {
                data = data[..random.Next(headerLength, data.Length)];
            }
            else
            {
                for (var k = 0; k <= i % 3; k++)
                {
                    data[random.Next(headerLength, data.Length)] ^= (byte)(1 << random.Next(8));
                }
            }

            failures += TryDecodeContainer(data, cache) ? 0 : 1;
        }

        Assert.True(failures > 1000, $"{codec}: only {failures} of 1500 damaged files were refused");
    }

    [SharedDataFact]
    public void BitFlips_RealAlerts_OnlyAvroExceptions()
    {
        var random = new Random(42);
        var cache = new AvroSchemaCache(32);
        string[] files =
        [
            SharedData.AvroFiles("ztf-real-50").First(),
            SharedData.Sample("ztf", "396522680015040000_c24d6ba.avro"),
            SharedData.Sample("lsst", "v7_4", "fakeAlert.avro"),
            SharedData.Sample("lsst", "v11_0", "fakeAlert.avro"),
            SharedData.AvroFiles("lsst-real-v7_4").First(),
        ];
        foreach (var path in files)
        {
            var original = File.ReadAllBytes(path);
            var headerLength = AvroContainerReader.Open(original, cache).Header.Length;
            for (var i = 0; i < 700; i++)
            {
                var data = (byte[])original.Clone();

                // Most flips land in the datum: flips in the schema JSON mostly just fail to parse.
                var index = i % 5 == 0 ? random.Next(data.Length) : random.Next(headerLength, data.Length);
                data[index] ^= (byte)(1 << random.Next(8));
                TryDecodeContainer(data, cache);
            }
        }
    }

    [Fact]
    public void HugeStringLength_ThrowsImmediatelyWithoutAllocating()
    {
        AssertRejectsCheaply(AvroSchema.String, w => w.WriteLong(1L << 40));
        AssertRejectsCheaply(AvroSchema.Bytes, w => w.WriteLong(1L << 40));
        AssertRejectsCheaply(AvroSchema.String, w => w.WriteLong(-5));
        AssertRejectsCheaply(AvroSchema.String, w => w.WriteLong(1000));
    }

    [Fact]
    public void HugeCollectionCount_ThrowsImmediatelyWithoutAllocating()
    {
        AssertRejectsCheaply(AvroSchema.Parse("""{"type":"array","items":"long"}"""), w => w.WriteLong(1L << 40));
        AssertRejectsCheaply(AvroSchema.Parse("""{"type":"map","values":"long"}"""), w => w.WriteLong(1L << 40));
        AssertRejectsCheaply(AvroSchema.Parse("""{"type":"array","items":"null"}"""), w => w.WriteLong(1L << 40));

        // Within the item limit but impossible for the remaining input.
        AssertRejectsCheaply(AvroSchema.Parse("""{"type":"array","items":"double"}"""), w => w.WriteLong(5_000_000));
        AssertRejectsCheaply(AvroSchema.Parse("""{"type":"map","values":"null"}"""), w => w.WriteLong(5_000_000));
        AssertRejectsCheaply(AvroSchema.Parse("""{"type":"array","items":"string"}"""), w =>
        {
            w.WriteLong(-5_000_000);
            w.WriteLong(1L << 40);
        });

        // Blocks that together exceed the limit.
        var limits = AvroLimits.Default with { MaxCollectionItems = 10 };
        var bytes = Encode(w =>
        {
            for (var i = 0; i < 3; i++)
            {
                w.WriteLong(4);
                w.WriteRaw(new byte[4]);
            }

            w.WriteBlockEnd();
        });
        var schema = AvroSchema.Parse("""{"type":"array","items":"boolean"}""");
        Assert.Throws<AvroFormatException>(() =>
        {
            var position = 0;
            new GenericDatumReader(schema, null, limits).Read(bytes, ref position);
        });
        Assert.Throws<AvroFormatException>(() => new AvroReader(bytes, limits).Skip(schema));
    }

    [Fact]
    public void ContainerHeader_HugeMetadataLengths_Rejected()
    {
        var bytes = Encode(w =>
        {
            w.WriteRaw("Obj\u0001"u8);
            w.WriteLong(1);
            w.WriteLong(1L << 40);
        });
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<AvroFormatException>(() => AvroContainerReader.Open(bytes));
        Assert.Throws<AvroFormatException>(() => new AvroContainerStreamReader(new MemoryStream(bytes)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 300_000);
    }

    [Fact]
    public void NestingBeyondDepthLimit_Throws()
    {
        var json = new StringBuilder("\"int\"");
        for (var i = 0; i < 80; i++)
        {
            json.Insert(0, "{\"type\":\"array\",\"items\":").Append('}');
        }

        var schema = AvroSchema.Parse(json.ToString());
        var bytes = Encode(w =>
        {
            for (var i = 0; i < 80; i++)
            {
                w.WriteLong(1);
            }

            w.WriteInt(5);
            for (var i = 0; i < 80; i++)
            {
                w.WriteBlockEnd();
            }
        });
        var ex = Assert.Throws<AvroFormatException>(() => TestUtil.Decode(schema, bytes));
        Assert.Contains("nesting", ex.Message, StringComparison.Ordinal);
        Assert.Throws<AvroFormatException>(() => new AvroReader(bytes).Skip(schema));

        // Within a raised limit the same data decodes.
        var position = 0;
        Assert.NotNull(new GenericDatumReader(schema, null, AvroLimits.Default with { MaxDepth = 100 }).Read(bytes, ref position));
        Assert.Equal(bytes.Length, position);
    }

    [Fact]
    public void RecursiveRecordChain_BeyondDepthLimit_Throws()
    {
        var schema = TestUtil.Record("""{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}""");
        var bytes = Encode(w =>
        {
            for (var i = 0; i < 200; i++)
            {
                w.WriteUnionIndex(1);
            }

            w.WriteUnionIndex(0);
        });
        Assert.Throws<AvroFormatException>(() => TestUtil.Decode(schema, bytes));
        Assert.Throws<AvroFormatException>(() => new AvroReader(bytes).Skip(schema));
    }

    [Fact]
    public void SchemaJson_DeeplyNested_ThrowsSchemaException()
    {
        var json = new string('[', 5000) + new string(']', 5000);
        Assert.Throws<AvroSchemaException>(() => AvroSchema.Parse(json));
    }

    private static byte[] Encode(Action<AvroWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new AvroWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private static void AssertRejectsCheaply(AvroSchema schema, Action<AvroWriter> write)
    {
        var bytes = Encode(write).Concat(new byte[16]).ToArray();
        var reader = new GenericDatumReader(schema);
        var position = 0;

        // Warm up so JIT and first-use allocations are not measured.
        Assert.Throws<AvroFormatException>(() => reader.Read(bytes, ref position));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<AvroFormatException>(() => reader.Read(bytes, ref position));
        Assert.Throws<AvroFormatException>(() => new AvroReader(bytes).Skip(schema));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 32_000, $"rejecting the input allocated {allocated} bytes");
    }

    private static byte[] BuildContainer(AvroSchema schema, int rows)
    {
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, schema, leaveOpen: true))
        {
            for (var i = 0; i < rows; i++)
            {
                writer.Write(null);
            }
        }

        return stream.ToArray();
    }
}
