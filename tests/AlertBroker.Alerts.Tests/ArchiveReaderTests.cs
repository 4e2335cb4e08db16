using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using AlertBroker.Alerts.Archives;

namespace AlertBroker.Alerts.Tests;

public sealed class ArchiveReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ab-archive-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // PAX is Python's tarfile default: a long name is a `path` record of an extended header, and the hand-written reader
    // used before 2026-12-05 read such an entry's truncated ustar name instead, leaving half of these alerts out.
    [SharedDataTheory]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Pax)]
    public void Read_NightlyTarGz_StreamsEveryAvroEntry(TarEntryFormat format)
    {
        var sources = SharedData.Files("alert-samples/ztf-real-50").Take(12).ToArray();
        var archive = Path.Combine(_dir, "ztf_public_20210101.tar.gz");
        using (var gz = new GZipStream(File.Create(archive), CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, format))
        {
            tar.WriteEntry(format == TarEntryFormat.Gnu ? new GnuTarEntry(TarEntryType.Directory, "night/") : new PaxTarEntry(TarEntryType.Directory, "night/"));
            var readme = format == TarEntryFormat.Gnu ? (TarEntry)new GnuTarEntry(TarEntryType.RegularFile, "night/README.txt") : new PaxTarEntry(TarEntryType.RegularFile, "night/README.txt");
            readme.DataStream = new MemoryStream("not an alert"u8.ToArray());
            tar.WriteEntry(readme);
            foreach (var (file, i) in sources.Select((f, i) => (f, i)))
            {
                // Alternate short and very long names (GNU long-name entries).
                var name = i % 2 == 0 ? Path.GetFileName(file) : "night/" + new string('x', 150) + "/" + Path.GetFileName(file);
                tar.WriteEntryAsync(file, name).GetAwaiter().GetResult();
            }
        }

        var inputs = AlertArchiveReader.Read([archive]).Select(i => (i.Source, Bytes: i.Payload.ToArray(), i.Error)).ToList();

        Assert.Equal(sources.Length, inputs.Count);
        Assert.All(inputs, i => Assert.Null(i.Error));
        for (var i = 0; i < sources.Length; i++)
        {
            Assert.EndsWith(Path.GetFileName(sources[i]), inputs[i].Source, StringComparison.Ordinal);
            Assert.Equal(File.ReadAllBytes(sources[i]), inputs[i].Bytes);
        }
    }

    [SharedDataFact]
    public void Read_Directory_IsRecursiveAndOrdered()
    {
        var sub = Directory.CreateDirectory(Path.Combine(_dir, "a", "b")).FullName;
        var files = SharedData.Files("alert-samples/ztf").ToArray();
        File.Copy(files[0], Path.Combine(_dir, "z.avro"));
        File.Copy(files[1], Path.Combine(sub, "y.avro"));
        File.WriteAllText(Path.Combine(sub, "notes.txt"), "ignored");

        var inputs = AlertArchiveReader.Read([_dir]).Select(i => i.Source).ToList();
        Assert.Equal([Path.Combine(sub, "y.avro"), Path.Combine(_dir, "z.avro")], inputs);
    }

    // An alert stored gzip-compressed (alert.avro.gz) was skipped without a word inside a directory, and named alone it
    // was "gzip-compressed data, not an Avro message": it is read decompressed, as through a pipe; a corrupt one is an
    // archive error and the files after it are read.
    // A link loop was followed until the system refused the path: one alert and a link to its own directory replayed 41
    // times (replay said "alerts 41, objects 1", exit 0).
    [SharedDataFact]
    public void Read_Directory_LinksToDirectoriesAreFollowedButEachDirectoryIsReadOnce()
    {
        var files = SharedData.Files("alert-samples/ztf").ToArray();
        var root = Directory.CreateDirectory(Path.Combine(_dir, "root")).FullName;
        var sub = Directory.CreateDirectory(Path.Combine(root, "sub")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        File.Copy(files[0], Path.Combine(root, "a.avro"));
        File.Copy(files[1], Path.Combine(sub, "b.avro"));
        File.Copy(files[2], Path.Combine(outside, "c.avro"));
        Directory.CreateSymbolicLink(Path.Combine(root, "self"), root);             // a loop
        Directory.CreateSymbolicLink(Path.Combine(sub, "up"), "..");                // a relative loop through the parent
        Directory.CreateSymbolicLink(Path.Combine(root, "sub-again"), sub);         // a second way to one directory
        Directory.CreateSymbolicLink(Path.Combine(root, "ext"), outside);           // a directory kept elsewhere

        var inputs = AlertArchiveReader.Read([root]).Select(i => i.Source).ToList();

        Assert.Equal([Path.Combine(root, "a.avro"), Path.Combine(root, "ext", "c.avro"), Path.Combine(sub, "b.avro")], inputs);

        // Given through a link to it, the loop inside still ends at the first turn.
        var link = Path.Combine(_dir, "link-to-root");
        Directory.CreateSymbolicLink(link, root);
        Assert.Equal(3, AlertArchiveReader.Read([link]).Count());
    }

    [SharedDataFact]
    public void Read_AvroGzFiles_AreDecompressedInADirectoryAndAlone()
    {
        var files = SharedData.Files("alert-samples/ztf-real-50").Take(3).ToArray();
        File.Copy(files[0], Path.Combine(_dir, "a.avro"));
        using (var gz = new GZipStream(File.Create(Path.Combine(_dir, "b.avro.gz")), CompressionLevel.Fastest))
        {
            gz.Write(File.ReadAllBytes(files[1]));
        }

        File.WriteAllBytes(Path.Combine(_dir, "c.avro.gz"), [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        File.Copy(files[2], Path.Combine(_dir, "d.avro"));

        var inputs = AlertArchiveReader.Read([_dir]).Select(i => (i.Source, Bytes: i.Payload.ToArray(), i.Error)).ToList();

        Assert.Equal(["a.avro", "b.avro.gz", "c.avro.gz", "d.avro"], inputs.Select(i => Path.GetFileName(i.Source)));
        Assert.Equal(File.ReadAllBytes(files[0]), inputs[0].Bytes);
        Assert.Null(inputs[1].Error);
        Assert.Equal(File.ReadAllBytes(files[1]), inputs[1].Bytes);
        Assert.Equal(AlertErrorKind.Archive, inputs[2].Error?.Kind);
        Assert.Equal(File.ReadAllBytes(files[2]), inputs[3].Bytes);
        var alone = Assert.Single(AlertArchiveReader.Read([Path.Combine(_dir, "b.avro.gz")]));
        Assert.Null(alone.Error);
        Assert.Equal(File.ReadAllBytes(files[1]), alone.Payload.ToArray());
    }

    // Found by the CLI hunt (2026-12-07): an archive of .avro.gz entries replayed as 0 alerts, exit 0 (the same files in a
    // directory were read); a damaged one is that entry's error, and the archive reads on.
    [SharedDataFact]
    public void Read_AvroGzEntriesInATar_AreDecompressed_ADamagedOneIsItsOwnError()
    {
        var files = SharedData.Files("alert-samples/ztf-real-50").Take(3).ToArray();
        var archive = Path.Combine(_dir, "mixed.tar.gz");
        using (var gz = new GZipStream(File.Create(archive), CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            void Entry(string name, byte[] data) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            Entry("a.avro.gz", Gzip(File.ReadAllBytes(files[0])));
            Entry("b.avro.gz", [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
            Entry("c.avro", File.ReadAllBytes(files[1]));
            Entry("d.AVRO.GZ", Gzip(File.ReadAllBytes(files[2])));
        }

        var inputs = AlertArchiveReader.Read([archive]).Select(i => (i.Source, Bytes: i.Payload.ToArray(), i.Error)).ToList();

        Assert.Equal(["a.avro.gz", "b.avro.gz", "c.avro", "d.AVRO.GZ"], inputs.Select(i => i.Source[(i.Source.IndexOf('!', StringComparison.Ordinal) + 1)..]));
        Assert.Equal(File.ReadAllBytes(files[0]), inputs[0].Bytes);
        Assert.Equal(AlertErrorKind.Archive, inputs[1].Error?.Kind);
        Assert.StartsWith("entry is not valid gzip", inputs[1].Error!.Message, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(files[1]), inputs[2].Bytes);
        Assert.Equal(File.ReadAllBytes(files[2]), inputs[3].Bytes);
    }

    // A file is an archive by its name, compressed or not by its first bytes: a gzip tar named .tar was "Unable to parse
    // number.", a plain tar named .tgz "unsupported compression method" (the same bytes through a pipe read whole).
    [SharedDataTheory]
    [InlineData(true, "night.tar")]
    [InlineData(false, "night.tgz")]
    [InlineData(false, "night.tar.gz")]
    public void Read_ArchiveCompressedOrNotWhateverItsName_IsReadWhole(bool gzip, string name)
    {
        var files = SharedData.Files("alert-samples/ztf-real-50").Take(2).ToArray();
        var tarBytes = new MemoryStream();
        using (var tar = new TarWriter(tarBytes, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var f in files)
            {
                tar.WriteEntry(f, Path.GetFileName(f));
            }
        }

        var archive = Path.Combine(_dir, name);
        File.WriteAllBytes(archive, gzip ? Gzip(tarBytes.ToArray()) : tarBytes.ToArray());

        var inputs = AlertArchiveReader.Read([archive]).ToList();

        Assert.Equal(2, inputs.Count);
        Assert.All(inputs, i => Assert.Null(i.Error));
        Assert.Equal(File.ReadAllBytes(files[1]), inputs[1].Payload.ToArray());
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return output.ToArray();
    }

    [Fact]
    public void Read_CorruptGzip_YieldsAnErrorAndContinues()
    {
        var bad = Path.Combine(_dir, "bad.tar.gz");
        File.WriteAllBytes(bad, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var good = Path.Combine(_dir, "good.avro");
        File.WriteAllBytes(good, [1, 2, 3]);
        var missing = Path.Combine(_dir, "missing.avro");

        var inputs = AlertArchiveReader.Read([bad, missing, good]).ToList();
        Assert.Equal(3, inputs.Count);
        Assert.Equal(AlertErrorKind.Archive, inputs[0].Error!.Kind);
        Assert.Equal(AlertErrorKind.Archive, inputs[1].Error!.Kind);
        Assert.Null(inputs[2].Error);
        Assert.Equal(3, inputs[2].Payload.Length);
    }

    [Fact]
    public void Read_TruncatedTar_YieldsAnError()
    {
        var archive = Path.Combine(_dir, "cut.tar");
        using (var stream = File.Create(archive))
        using (var tar = new TarWriter(stream, TarEntryFormat.Ustar))
        {
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "a.avro") { DataStream = new MemoryStream(new byte[5000]) });
        }

        var bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(archive, bytes[..2000]);
        var inputs = AlertArchiveReader.Read([archive]).ToList();
        Assert.Single(inputs);
        Assert.Equal(AlertErrorKind.Archive, inputs[0].Error!.Kind);

        // The source is named once, by whoever reports it ("cut.tar: cut.tar: corrupt archive …" before).
        Assert.Equal(archive, inputs[0].Source);
        Assert.StartsWith("corrupt archive after 0 whole entries", inputs[0].Error!.Message, StringComparison.Ordinal);
    }

    // A .tar.gz cut inside its last bytes (the gzip trailer; the tar's end blocks whole) read as whole, without a word:
    // .NET's GZipStream ends quietly where the file does. Its alerts are still read; the cut is an error after them.
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(10)]
    public void Read_TarGzCutInItsTrailer_YieldsTheAlertsThenAnError(int cut)
    {
        var archive = Path.Combine(_dir, "cut.tar.gz");
        using (var stream = File.Create(archive))
        using (var gzip = new System.IO.Compression.GZipStream(stream, System.IO.Compression.CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "a.avro") { DataStream = new MemoryStream(new byte[] { 1, 2, 3 }) });
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "b.avro") { DataStream = new MemoryStream(new byte[] { 4, 5 }) });
        }

        var whole = AlertArchiveReader.Read([archive]).ToList();
        var bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(archive, bytes[..^cut]);
        var inputs = AlertArchiveReader.Read([archive]).ToList();

        Assert.Equal(2, whole.Count);
        Assert.All(whole, i => Assert.Null(i.Error));
        Assert.Equal(3, inputs.Count);
        Assert.Null(inputs[0].Error);
        Assert.Null(inputs[1].Error);
        Assert.Equal(AlertErrorKind.Archive, inputs[2].Error!.Kind);
        Assert.Contains("cut short", inputs[2].Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_Pipe_IsReadToItsEnd()
    {
        // `inspect /dev/stdin`, a shell's `<(zcat …)`: a FIFO has no length and cannot seek ("Stream does not support
        // seeking" ended the command as an unexpected error).
        var fifo = Path.Combine(_dir, "alerts.fifo");
        Assert.Equal(0, MakeFifo(fifo, 0b110_000_000));
        var payload = new byte[300_000]; // larger than the reader's first buffer and than one pipe write
        new Random(7).NextBytes(payload);
        var writer = Task.Run(() =>
        {
            using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            for (var offset = 0; offset < payload.Length; offset += 10_000)
            {
                stream.Write(payload, offset, Math.Min(10_000, payload.Length - offset));
                stream.Flush();
            }
        });

        var inputs = AlertArchiveReader.Read([fifo]).Select(i => (Bytes: i.Payload.ToArray(), i.Error)).ToList();
        await writer;

        var input = Assert.Single(inputs);
        Assert.Null(input.Error);
        Assert.Equal(payload, input.Bytes);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CheckedGZipStream_ThroughAPipe_IsReadAndCheckedAsAFileIs(bool cut)
    {
        // It sought to the gzip trailer, which a pipe cannot: "Stream does not support seeking" for a FIFO named
        // x_lightcurves.csv.gz. The trailer is now kept as the bytes pass, so a cut stream is still told from a whole one.
        var text = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"ZTF{i},{58000 + (i * 0.37)},g,{18 + (i % 7 * 0.1)},0.05\n"));
        var compressed = new MemoryStream();
        using (var gz = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }

        var bytes = cut ? compressed.ToArray()[..(int)(compressed.Length / 2)] : compressed.ToArray();
        var fifo = Path.Combine(_dir, "pipe_lightcurves.csv.gz");
        Assert.Equal(0, MakeFifo(fifo, 0b110_000_000));
        var writer = Task.Run(() =>
        {
            using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            stream.Write(bytes);
        });

        Exception? error = null;
        string? read = null;
        try
        {
            using var reader = new StreamReader(new CheckedGZipStream(fifo));
            read = await reader.ReadToEndAsync();
        }
        catch (InvalidDataException e)
        {
            error = e;
        }

        await writer;
        if (cut)
        {
            Assert.Contains(fifo + " is cut short", error?.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Null(error);
            Assert.Equal(text, read);
        }
    }

    [Fact]
    public void Read_APipeInsideADirectory_IsAnUnreadableFileNotAWaitForAWriter()
    {
        // Opening a FIFO waits until a writer comes: one named like an alert file inside a directory hung replay/score of the
        // whole directory. It is now one unreadable input; the regular files around it are read.
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "night")).FullName;
        File.WriteAllBytes(Path.Combine(dir, "a.avro"), [1, 2, 3]);
        Assert.Equal(0, MakeFifo(Path.Combine(dir, "b.avro"), 0b110_000_000));
        File.WriteAllBytes(Path.Combine(dir, "c.avro"), [4, 5]);

        var inputs = AlertArchiveReader.Read([dir]).Select(i => (i.Source, Bytes: i.Payload.ToArray(), i.Error)).ToList();

        Assert.Equal(["a.avro", "b.avro", "c.avro"], inputs.Select(i => Path.GetFileName(i.Source)));
        Assert.Equal([1, 2, 3], inputs[0].Bytes);
        Assert.Equal(AlertErrorKind.Archive, inputs[1].Error?.Kind);
        Assert.Equal("a named pipe, not a regular file: inside a directory only regular files are read", inputs[1].Error?.Message);
        Assert.Equal([4, 5], inputs[2].Bytes);
        Assert.Equal(FileKind.NamedPipe, FileType.Of(Path.Combine(dir, "b.avro")));
        Assert.Equal(FileKind.Regular, FileType.Of(Path.Combine(dir, "a.avro")));
        Assert.Equal(FileKind.Directory, FileType.Of(dir));
        Assert.Equal(FileKind.CharacterDevice, FileType.Of("/dev/null"));
        Assert.Equal(FileKind.Unknown, FileType.Of(Path.Combine(dir, "missing.avro")));
    }

    [SharedDataTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Read_ArchiveThroughAPipe_IsReadEntryByEntry(bool gzip)
    {
        // `curl …/ztf_public_20210101.tar.gz | alertbroker replay /dev/stdin`: a pipe has no name to go by; its bytes say it
        // is gzip and, inside, a tar archive (ustar magic), read entry by entry as a named archive is.
        var sources = SharedData.Files("alert-samples/ztf-real-50").Take(5).ToArray();
        var archive = new MemoryStream();
        using (Stream outer = gzip ? new GZipStream(archive, CompressionLevel.Fastest, leaveOpen: true) : archive)
        using (var tar = new TarWriter(outer, TarEntryFormat.Pax, leaveOpen: gzip ? false : true))
        {
            foreach (var file in sources)
            {
                await tar.WriteEntryAsync(file, "night/" + Path.GetFileName(file));
            }
        }

        var inputs = await ReadThroughFifo(archive.ToArray());

        Assert.Equal(sources.Length, inputs.Count);
        Assert.All(inputs, i => Assert.Null(i.Error));
        for (var i = 0; i < sources.Length; i++)
        {
            Assert.EndsWith("!night/" + Path.GetFileName(sources[i]), inputs[i].Source, StringComparison.Ordinal);
            Assert.Equal(await File.ReadAllBytesAsync(sources[i]), inputs[i].Bytes);
        }
    }

    [SharedDataFact]
    public async Task Read_GzipMessageThroughAPipe_IsDecompressed()
    {
        // `alertbroker inspect <(cat alert.avro.gz)`: one gzip-compressed message, not an archive.
        var file = SharedData.Files("alert-samples/ztf-real-50")[0];
        var compressed = new MemoryStream();
        using (var gz = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(await File.ReadAllBytesAsync(file));
        }

        var input = Assert.Single(await ReadThroughFifo(compressed.ToArray()));

        Assert.Null(input.Error);
        Assert.Equal(await File.ReadAllBytesAsync(file), input.Bytes);
    }

    [Fact]
    public async Task Read_CorruptGzipThroughAPipe_IsAnArchiveError()
    {
        var input = Assert.Single(await ReadThroughFifo([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));

        Assert.Equal(AlertErrorKind.Archive, input.Error?.Kind);
        Assert.Empty(input.Bytes);
    }

    // Writes the bytes into a FIFO from another task while AlertArchiveReader reads it.
    private async Task<List<(string Source, byte[] Bytes, AlertFormatException? Error)>> ReadThroughFifo(byte[] bytes)
    {
        var fifo = Path.Combine(_dir, "in-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(0, MakeFifo(fifo, 0b110_000_000));
        var writer = Task.Run(() =>
        {
            using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            try
            {
                stream.Write(bytes);
            }
            catch (IOException)
            {
                // The reader stopped early (a corrupt stream): a closed pipe.
            }
        });
        var inputs = AlertArchiveReader.Read([fifo]).Select(i => (i.Source, i.Payload.ToArray(), i.Error)).ToList();
        await writer;
        return inputs;
    }

    [Fact]
    public void Read_DeviceWithoutEnd_StopsAtTheMessageLimit()
    {
        // A character device says its length is 0 and seeks: /dev/zero is read up to one byte past the limit, then refused.
        var inputs = AlertArchiveReader.Read(["/dev/zero", "/dev/null"]).Select(i => (i.Source, Length: i.Payload.Length, i.Error)).ToList();

        Assert.Equal(2, inputs.Count);
        Assert.Equal(AlertErrorKind.Archive, inputs[0].Error?.Kind);
        Assert.Contains("message limit", inputs[0].Error!.Message, StringComparison.Ordinal);
        Assert.Null(inputs[1].Error); // empty: the decoder says so, as for an empty file
        Assert.Equal(0, inputs[1].Length);
    }

    // A container file of many alerts (a night of `simulate alerts`, a concatenated archive) was read whole, and one over
    // 256 MiB was refused: a large one is cut at block boundaries into messages that each start with the file's header.
    [SharedDataFact]
    public void Read_LargeContainer_IsCutAtBlockBoundariesIntoContainersOfTheSameAlerts()
    {
        var (header, block) = HeaderAndBlock();
        var file = Path.Combine(_dir, "night.avro");
        WriteContainer(file, header, block, 200);

        var inputs = Copy(AlertArchiveReader.Read([file], new AlertArchiveReader.ContainerSplit(0, 3 * block.Length)));

        Assert.Equal(67, inputs.Count); // 66 messages of three blocks, one of two
        Assert.All(inputs, i => Assert.Null(i.Error));
        Assert.All(inputs, i => Assert.Equal(file, i.Source));
        for (var i = 0; i < inputs.Count; i++)
        {
            Assert.Equal(Concat(header, block, i < 66 ? 3 : 2), inputs[i].Bytes);
        }

        var alerts = Decode(inputs);
        Assert.Equal(200, alerts.Count);
        var original = Assert.Single(Decode([(file, File.ReadAllBytes(SharedData.Files("alert-samples/ztf-real-50")[0]), null)]));
        Assert.All(alerts, a => Assert.Equal((original.ObjectId, original.SourceId, original.Detections.Length), (a.ObjectId, a.SourceId, a.Detections.Length)));
    }

    [SharedDataFact]
    public void Read_ContainerOverTheSplitSize_IsCutWithTheDefaults_AndASmallerOneIsReadWhole()
    {
        var (header, block) = HeaderAndBlock();
        var copies = (int)(AlertArchiveReader.SplitContainersAbove / block.Length) + 40; // just over 16 MiB
        var large = Path.Combine(_dir, "large.avro");
        var small = Path.Combine(_dir, "small.avro");
        WriteContainer(large, header, block, copies);
        WriteContainer(small, header, block, 10);

        var inputs = Copy(AlertArchiveReader.Read([large, small]));

        Assert.Equal(3, inputs.Count);
        Assert.All(inputs, i => Assert.Null(i.Error));
        Assert.True(inputs[0].Bytes.Length - header.Length <= AlertArchiveReader.ContainerChunkBytes);
        Assert.Equal(copies, Decode(inputs.Take(2)).Count);
        Assert.Equal(File.ReadAllBytes(small), inputs[2].Bytes);
    }

    [SharedDataFact]
    public void Read_CorruptOrTruncatedLargeContainer_GivesTheBlocksBeforeTheFaultThenAnError()
    {
        var (header, block) = HeaderAndBlock();
        var split = new AlertArchiveReader.ContainerSplit(0, 4 * block.Length);

        var corrupt = Path.Combine(_dir, "corrupt.avro");
        var bytes = Concat(header, block, 20);
        bytes[header.Length + (11 * block.Length) - 1] ^= 0xff; // the 11th block's sync marker
        File.WriteAllBytes(corrupt, bytes);
        var inputs = Copy(AlertArchiveReader.Read([corrupt], split));
        Assert.Equal(10, Decode(inputs.Where(i => i.Error is null)).Count);
        var error = Assert.Single(inputs, i => i.Error is not null).Error!;
        Assert.Equal(AlertErrorKind.CorruptAvro, error.Kind);
        Assert.Equal($"container block 11: its sync marker does not match the header's; the 10 blocks before it were read (at byte {header.Length + (10 * block.Length)})", error.Message);
        Assert.Null(inputs[^2].Error);

        var truncated = Path.Combine(_dir, "truncated.avro");
        File.WriteAllBytes(truncated, Concat(header, block, 20)[..^100]);
        inputs = Copy(AlertArchiveReader.Read([truncated], split));
        Assert.Equal(19, Decode(inputs.Where(i => i.Error is null)).Count);
        Assert.Contains("container block 20", inputs[^1].Error!.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", inputs[^1].Error!.Message, StringComparison.Ordinal);

        // A block that says it holds more than a message may: refused by its size, nothing allocated for it.
        var absurd = Path.Combine(_dir, "absurd.avro");
        File.WriteAllBytes(absurd, [.. Concat(header, block, 2), 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]); // 1 object, 2^34 bytes
        inputs = Copy(AlertArchiveReader.Read([absurd], split));
        Assert.Equal(2, Decode(inputs.Where(i => i.Error is null)).Count);
        Assert.Equal(AlertErrorKind.TooLarge, inputs[^1].Error!.Kind);
        Assert.Contains("over the 268435456-byte message limit", inputs[^1].Error!.Message, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public async Task Read_ContainerThroughAPipeOrGzipped_IsCutAsAFileIs()
    {
        var (header, block) = HeaderAndBlock();
        var split = new AlertArchiveReader.ContainerSplit(long.MaxValue, 5 * block.Length); // files are never cut: pipes and .avro.gz are
        var gz = Path.Combine(_dir, "night.avro.gz");
        using (var stream = new GZipStream(File.Create(gz), CompressionLevel.Fastest))
        {
            stream.Write(Concat(header, block, 12));
        }

        var inputs = Copy(AlertArchiveReader.Read([gz], split));
        Assert.Equal([5, 5, 2], inputs.Select(i => (i.Bytes.Length - header.Length) / block.Length));
        Assert.Equal(12, Decode(inputs).Count);

        var fifo = Path.Combine(_dir, "alerts.fifo");
        Assert.Equal(0, MakeFifo(fifo, 0b110_000_000));
        var writer = Task.Run(() =>
        {
            using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            stream.Write(Concat(header, block, 7));
        });
        inputs = Copy(AlertArchiveReader.Read([fifo], split));
        await writer;
        Assert.Equal([5, 2], inputs.Select(i => (i.Bytes.Length - header.Length) / block.Length));
        Assert.Equal(7, Decode(inputs).Count);

        // Corrupt gzip data around a container: the blocks before the fault come out, then one error; nothing is thrown.
        var corrupt = File.ReadAllBytes(gz);
        corrupt[corrupt.Length / 2] ^= 0x55;
        corrupt[(corrupt.Length / 2) + 1] ^= 0x55;
        var corruptGz = Path.Combine(_dir, "corrupt.avro.gz");
        File.WriteAllBytes(corruptGz, corrupt);
        inputs = Copy(AlertArchiveReader.Read([corruptGz], split));
        Assert.NotNull(inputs[^1].Error);
        Assert.All(inputs[..^1], i => Assert.Null(i.Error));
        Assert.True(Decode(inputs[..^1]).Count < 12);

        // A piped container that is whole but not readable is passed on as it is, for the decoder to say why.
        var broken = Path.Combine(_dir, "broken.avro.gz");
        using (var stream = new GZipStream(File.Create(broken), CompressionLevel.Fastest))
        {
            stream.Write("Obj\u0001 not a header"u8);
        }

        var one = Assert.Single(Copy(AlertArchiveReader.Read([broken], split)));
        Assert.Null(one.Error);
        Assert.Equal("Obj\u0001 not a header"u8.ToArray(), one.Bytes);
        Assert.Throws<AlertFormatException>(() => new AlertDecoder().Decode(one.Bytes, new List<Alert>()));
    }

    // A real ZTF alert file's header and its one block (count, size, data, sync marker), as bytes.
    private static (byte[] Header, byte[] Block) HeaderAndBlock()
    {
        var bytes = File.ReadAllBytes(SharedData.Files("alert-samples/ztf-real-50")[0]);
        var length = AlertBroker.Avro.AvroContainerReader.Open(bytes).Header.Length;
        return (bytes[..length], bytes[length..]);
    }

    private static byte[] Concat(byte[] header, byte[] block, int blocks)
    {
        var bytes = new byte[header.Length + (blocks * block.Length)];
        header.CopyTo(bytes, 0);
        for (var i = 0; i < blocks; i++)
        {
            block.CopyTo(bytes, header.Length + (i * block.Length));
        }

        return bytes;
    }

    private static void WriteContainer(string path, byte[] header, byte[] block, int blocks) => File.WriteAllBytes(path, Concat(header, block, blocks));

    private static List<(string Source, byte[] Bytes, AlertFormatException? Error)> Copy(IEnumerable<AlertInput> inputs) =>
        [.. inputs.Select(i => (i.Source, i.Payload.ToArray(), i.Error))];

    private static List<Alert> Decode(IEnumerable<(string Source, byte[] Bytes, AlertFormatException? Error)> inputs)
    {
        var decoder = new AlertDecoder();
        var alerts = new List<Alert>();
        foreach (var input in inputs)
        {
            decoder.Decode(input.Bytes, alerts);
        }

        return alerts;
    }

    [DllImport("libc.so.6", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, uint mode);
}
