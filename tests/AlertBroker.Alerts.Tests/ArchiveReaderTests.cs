using System.Formats.Tar;
using System.IO.Compression;
using AlertBroker.Alerts.Archives;

namespace AlertBroker.Alerts.Tests;

public sealed class ArchiveReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ab-archive-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedDataFact]
    public void Read_NightlyTarGz_StreamsEveryAvroEntry()
    {
        var sources = SharedData.Files("alert-samples/ztf-real-50").Take(12).ToArray();
        var archive = Path.Combine(_dir, "ztf_public_20210101.tar.gz");
        using (var gz = new GZipStream(File.Create(archive), CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Gnu))
        {
            tar.WriteEntry(new GnuTarEntry(TarEntryType.Directory, "night/"));
            tar.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "night/README.txt") { DataStream = new MemoryStream("not an alert"u8.ToArray()) });
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

    // A pipe has no length: `score <(zcat alert.avro.gz)` (or /dev/stdin, a FIFO) ended in "Stream does not support
    // seeking" (exit 70). It is read to its end, past the first buffer.
    [Fact]
    public async Task Read_Pipe_ReadsItToItsEnd()
    {
        var fifo = Path.Combine(_dir, "alert.avro");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        var writer = Task.Run(() =>
        {
            using var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            pipe.Write(bytes);
        });

        var inputs = AlertArchiveReader.Read([fifo]).Select(i => (Bytes: i.Payload.ToArray(), i.Error)).ToList();
        await writer.WaitAsync(TimeSpan.FromSeconds(30));

        var input = Assert.Single(inputs);
        Assert.Null(input.Error);
        Assert.Equal(bytes, input.Bytes);
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
    }
}
