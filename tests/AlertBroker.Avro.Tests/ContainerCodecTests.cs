using System.Diagnostics;

namespace AlertBroker.Avro.Tests;

/// <summary>
/// The container codecs beyond deflate (snappy, zstandard, bzip2, xz), each against an independent implementation:
/// Apache Avro's Python library (Debian's python3-avro with python3-snappy and python3-zstandard; xz through Python's
/// lzma, the library having none) writes files our readers must read, and reads files our writer wrote
/// (Oracle/recodec.py). Apache.Avro for .NET, the oracle of the rest of this suite, reads only null and deflate.
/// </summary>
public class ContainerCodecTests
{
    public const string Python = "/usr/bin/python3";

    private static readonly RecordSchema s_schema = TestUtil.Record("""
        {"type":"record","name":"Row","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},
         {"name":"flux","type":["null","double"]},{"name":"blob","type":"bytes"}]}
        """);

    public static TheoryData<string> WritableCodecs => new() { "null", "deflate", "snappy", "zstandard", "bzip2" };

    public static TheoryData<string> CompressedCodecs => new() { "deflate", "snappy", "zstandard", "bzip2", "xz" };

    public static TheoryData<string> CompressedWritableCodecs => new() { "deflate", "snappy", "zstandard", "bzip2" };

    private static GenericRecord Row(long i) => new(s_schema)
    {
        ["id"] = i,
        ["name"] = "row-" + i,
        ["flux"] = i % 3 == 0 ? null : i * 0.5,
        ["blob"] = new ReadOnlyMemory<byte>(Enumerable.Range(0, (int)(i % 70)).Select(b => (byte)(b * i)).ToArray()),
    };

    private static byte[] WriteRows(string codec, int rows, int blockSize, AvroSchema? schema = null, Func<long, object?>? row = null)
    {
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, schema ?? s_schema, codec, null, blockSize, leaveOpen: true))
        {
            for (var i = 0; i < rows; i++)
            {
                writer.Write((row ?? Row)(i));
            }
        }

        return stream.ToArray();
    }

    [Theory]
    [MemberData(nameof(WritableCodecs))]
    public void EachWritableCodec_RoundTripsThroughBothReaders(string codec)
    {
        var file = WriteRows(codec, 2_000, 4_096);
        var reader = AvroContainerReader.Open(file);
        Assert.Equal(codec, reader.Header.Codec);
        Assert.Equal(Enumerable.Range(0, 2_000).Select(i => (object?)Row(i)), reader.ReadAll());

        using var stream = new AvroContainerStreamReader(new MemoryStream(file));
        Assert.Equal(codec, stream.Header.Codec);
        var blocks = 0;
        var rows = 0;
        var datumReader = GenericDatumReader.ForSchema(stream.Header.Schema);
        while (stream.TryReadBlock(out var block))
        {
            blocks++;
            var position = 0;
            for (var i = 0; i < block.Count; i++)
            {
                // Compared at once: a block's bytes (which "bytes" values slice) are valid until the next block.
                Assert.Equal(Row(rows), datumReader.Read(block.Data, ref position, block.Offset));
                rows++;
            }
        }

        Assert.True(blocks > 10, $"expected many blocks, got {blocks}");
        Assert.Equal(2_000, rows);
    }

    [Theory]
    [MemberData(nameof(CompressedWritableCodecs))]
    public void CompressedCodecs_ShrinkRepetitiveBlocks(string codec)
    {
        var plain = WriteRows("null", 2_000, 64 * 1024);
        var compressed = WriteRows(codec, 2_000, 64 * 1024);
        Assert.True(compressed.Length < plain.Length * 3 / 4, $"{codec}: {compressed.Length} bytes against {plain.Length} uncompressed");
    }

    [Fact]
    public void Writer_RefusesXzAndUnknownCodecs_NamingThem()
    {
        var xz = Assert.Throws<AvroException>(() => new AvroContainerWriter(new MemoryStream(), s_schema, "xz"));
        Assert.Contains("cannot write codec 'xz'", xz.Message, StringComparison.Ordinal);
        var lz4 = Assert.Throws<AvroException>(() => new AvroContainerWriter(new MemoryStream(), s_schema, "lz4"));
        Assert.Contains("unsupported codec 'lz4'", lz4.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(CompressedCodecs))]
    public void BlockBeyondTheLimit_IsRejectedWithoutInflatingIt(string codec)
    {
        var file = codec == "xz" ? Recode([WriteRows("null", 1, 1 << 20, AvroSchema.Bytes, _ => new byte[200_000])], "xz")[0] : WriteRows(codec, 1, 1 << 20, AvroSchema.Bytes, _ => new byte[200_000]);
        var limits = AvroLimits.Default with { MaxBlockLength = 10_000 };
        var reader = AvroContainerReader.Open(file, limits: limits);
        var ex = Assert.Throws<AvroLimitExceededException>(() => reader.TryReadBlock(out _));
        Assert.Contains("beyond the limit", ex.Message, StringComparison.Ordinal);
        Assert.Equal(10_000, ex.Limit);
        using var stream = new AvroContainerStreamReader(new MemoryStream(file), limits: limits);
        Assert.Equal(10_000, Assert.Throws<AvroLimitExceededException>(() => stream.TryReadBlock(out _)).Limit);
    }

    // Ten blocks of 20,003 inflated bytes each (a 20,000-byte value and its length) under a limit of 50,000 in all: the
    // first two are read, the third is refused as it inflates past what is left (at most 9,988 bytes of it are inflated).
    [Theory]
    [MemberData(nameof(CompressedWritableCodecs))]
    public void BlocksBeyondTheTotalLimit_TheFirstOverItIsRefused_InBothReaders(string codec)
    {
        var file = WriteRows(codec, 10, 1, AvroSchema.Bytes, i => Enumerable.Repeat((byte)i, 20_000).ToArray());
        Assert.True(file.Length < 10 * 20_000 / 4, $"{codec}: {file.Length} bytes");
        var limits = AvroLimits.Default with { MaxInflatedBytes = 50_000 };

        var reader = AvroContainerReader.Open(file, limits: limits);
        Assert.True(reader.TryReadBlock(out var first));
        Assert.Equal(20_003, first.Data.Length);
        Assert.True(reader.TryReadBlock(out _));
        var ex = Assert.Throws<AvroLimitExceededException>(() => reader.TryReadBlock(out _));
        Assert.Equal(50_000, ex.Limit);
        Assert.Contains("beyond the limit of 50000 bytes in all", ex.Message, StringComparison.Ordinal);

        using var stream = new AvroContainerStreamReader(new MemoryStream(file), limits: limits);
        Assert.True(stream.TryReadBlock(out _));
        Assert.True(stream.TryReadBlock(out _));
        Assert.Equal(50_000, Assert.Throws<AvroLimitExceededException>(() => stream.TryReadBlock(out _)).Limit);

        // A limit that holds them all reads them all; uncompressed blocks are not counted (they cost no inflation).
        Assert.Equal(10, AvroContainerReader.Open(file, limits: limits with { MaxInflatedBytes = 200_030 }).ReadAll().Count());
        Assert.Equal(10, AvroContainerReader.Open(WriteRows("null", 10, 1, AvroSchema.Bytes, _ => new byte[20_000]), limits: limits).ReadAll().Count());
    }

    [Theory]
    [MemberData(nameof(CompressedCodecs))]
    public void GarbageInACompressedBlock_IsAFormatErrorAtTheBlock(string codec)
    {
        var file = codec == "xz" ? Recode([WriteRows("null", 300, 1 << 20)], "xz")[0] : WriteRows(codec, 300, 1 << 20);
        var header = AvroContainerReader.Open(file).Header;
        var blockStart = header.Length;
        var dataStart = blockStart + VarLongLength(file, blockStart);
        dataStart += VarLongLength(file, dataStart);
        var random = new Random(17);
        for (var trial = 0; trial < 20; trial++)
        {
            var corrupt = (byte[])file.Clone();
            random.NextBytes(corrupt.AsSpan(dataStart, 24));
            var reader = AvroContainerReader.Open(corrupt);
            var ex = Assert.Throws<AvroFormatException>(() => reader.ReadAll().ToList());
            Assert.True(ex.Offset >= blockStart, $"{codec}: error at {ex.Offset}, before the block at {blockStart}");
        }
    }

    [Fact]
    public void Snappy_ChecksumMismatch_IsNamed()
    {
        // One block: its last four bytes, just before the file's final sync marker, are the CRC-32 of the datums.
        var file = WriteRows("snappy", 50, 1 << 20);
        Assert.Single(BlocksOf(file));
        file[^(ContainerFormat.SyncLength + 1)] ^= 0x5a;
        var ex = Assert.Throws<AvroFormatException>(() => AvroContainerReader.Open(file).ReadAll().ToList());
        Assert.Contains("snappy block fails its CRC-32", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("snappy")]
    [InlineData("bzip2")]
    [InlineData("xz")]
    [InlineData("zstandard")]
    public void CodecsWithAChecksum_ABitFlippedInIncompressibleData_IsCaught(string codec)
    {
        // Random bytes do not compress: the codecs store them nearly as they are, so a flipped bit there decompresses
        // cleanly to one wrong bit, and only the codec's own check (snappy's CRC-32, bzip2's block CRC, xz's CRC-64,
        // zstd's content checksum, which our writer sets) can tell. deflate carries none, nor do zstandard blocks from
        // writers that leave the checksum out (the Java and Python defaults): a flip there reaches the datum, as it
        // would in any Avro reader (checked when this test was written).
        var payload = new byte[100_000];
        new Random(5).NextBytes(payload);
        var plain = WriteRows("null", 1, 1 << 20, AvroSchema.Bytes, _ => payload);
        var file = codec == "xz" ? Recode([plain], "xz")[0] : WriteRows(codec, 1, 1 << 20, AvroSchema.Bytes, _ => payload);
        Assert.Equal(payload, ((ReadOnlyMemory<byte>)AvroContainerReader.Open(file).ReadAll().Single()!).ToArray());

        var corrupt = (byte[])file.Clone();
        corrupt[AvroContainerReader.Open(file).Header.Length + 50_000] ^= 0x10;
        var ex = Assert.Throws<AvroFormatException>(() => AvroContainerReader.Open(corrupt).ReadAll().ToList());
        Assert.Contains(codec, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Zstandard_EveryBlockOfAFile_CarriesItsContentChecksum()
    {
        // The writer reuses one zstd compressor a thread: each block is a frame of its own with the checksum still set,
        // so a flipped bit in the last of three blocks is caught as in the first, and the blocks read back whole.
        var rows = Enumerable.Range(0, 3).Select(i =>
        {
            var bytes = new byte[60_000];
            new Random(10 + i).NextBytes(bytes);
            return bytes;
        }).ToArray();
        var file = WriteRows("zstandard", 3, 1024, AvroSchema.Bytes, i => rows[i]);
        Assert.Equal([1L, 1L, 1L], BlocksOf(file));
        var read = AvroContainerReader.Open(file).ReadAll().Select(d => ((ReadOnlyMemory<byte>)d!).ToArray()).ToList();
        Assert.Equal(rows, read);

        var corrupt = (byte[])file.Clone();
        corrupt[file.Length - 16 - 30_000] ^= 0x10;
        var ex = Assert.Throws<AvroFormatException>(() => AvroContainerReader.Open(corrupt).ReadAll().ToList());
        Assert.Contains("zstandard", ex.Message, StringComparison.Ordinal);
    }

    private static List<long> BlocksOf(byte[] file)
    {
        var reader = AvroContainerReader.Open(file);
        var counts = new List<long>();
        while (reader.TryReadBlock(out var block))
        {
            counts.Add(block.Count);
        }

        return counts;
    }

    [Theory]
    [MemberData(nameof(CompressedCodecs))]
    public void ApachePythonWrites_WeRead(string codec)
    {
        var original = WriteRows("null", 3_000, 1 << 20);
        var theirs = Recode([original], codec)[0];
        var reader = AvroContainerReader.Open(theirs);
        Assert.Equal(codec, reader.Header.Codec);
        Assert.Equal(AvroContainerReader.Open(original).ReadAll(), reader.ReadAll());
    }

    [Theory]
    [MemberData(nameof(CompressedWritableCodecs))]
    public void WeWrite_ApachePythonReads(string codec)
    {
        var ours = WriteRows(codec, 3_000, 8_192);
        var back = Recode([ours], "null")[0];
        Assert.Equal(AvroContainerReader.Open(ours).ReadAll(), AvroContainerReader.Open(back).ReadAll());
    }

    [SharedDataFact]
    public void RealAlerts_EveryCodec_BothDirections()
    {
        var files = new[] { "ztf", "ztf-real-50", "lsst-real-v7_4" }.SelectMany(SharedData.AvroFiles).ToArray();
        var originals = files.Select(File.ReadAllBytes).ToArray();
        var expected = originals.Select(b => AvroContainerReader.Open(b).ReadAll().ToList()).ToArray();
        foreach (var codec in new[] { "deflate", "snappy", "zstandard", "bzip2", "xz" })
        {
            var theirs = Recode(originals, codec);
            for (var i = 0; i < files.Length; i++)
            {
                Assert.Equal(expected[i], AvroContainerReader.Open(theirs[i]).ReadAll());
            }

            if (codec == "xz")
            {
                continue;
            }

            var ours = originals.Select(b => Rewrite(b, codec)).ToArray();
            var back = Recode(ours, "null");
            for (var i = 0; i < files.Length; i++)
            {
                Assert.Equal(expected[i], AvroContainerReader.Open(back[i]).ReadAll());
            }
        }
    }

    /// <summary>Our writer, given a file's encoded datums and schema, with another codec.</summary>
    private static byte[] Rewrite(byte[] file, string codec)
    {
        var reader = AvroContainerReader.Open(file);
        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, reader.Header.Schema, codec, leaveOpen: true))
        {
            foreach (var datum in reader.ReadAll())
            {
                writer.Write(datum);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Apache Avro's Python implementation rewrites each file with <paramref name="codec"/>.</summary>
    private static byte[][] Recode(byte[][] files, string codec)
    {
        Assert.True(File.Exists(Python), $"{Python} is not installed (run eng/setup.sh)");
        var dir = Directory.CreateTempSubdirectory("recodec-");
        try
        {
            var inputs = new List<string>();
            for (var i = 0; i < files.Length; i++)
            {
                var path = Path.Combine(dir.FullName, $"in-{i:D4}.avro");
                File.WriteAllBytes(path, files[i]);
                inputs.Add(path);
            }

            var output = Path.Combine(dir.FullName, "out");
            var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Oracle", "recodec.py"));
            start.ArgumentList.Add(codec);
            start.ArgumentList.Add(output);
            foreach (var input in inputs)
            {
                start.ArgumentList.Add(input);
            }

            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(120_000), "recodec.py did not finish in 120 s");
            Assert.True(process.ExitCode == 0, $"recodec.py {codec} failed (exit {process.ExitCode}; python3-avro, python3-snappy and python3-zstandard come from eng/setup.sh): {stderr.Result}");
            Assert.Equal(files.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), stdout.Trim());
            return inputs.Select(p => File.ReadAllBytes(Path.Combine(output, Path.GetFileName(p)))).ToArray();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static int VarLongLength(byte[] bytes, int offset)
    {
        var n = 0;
        while ((bytes[offset + n] & 0x80) != 0)
        {
            n++;
        }

        return n + 1;
    }
}
