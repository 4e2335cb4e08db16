using AlertBroker.Avro;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Avro;

/// <summary>
/// The container codecs on the 50 real ZTF alerts (one alert and its three cutouts per container, as a Kafka
/// message): opening each message and skipping its record (decompression included), and writing it again with the
/// codec. xz is not measured: this library reads it but cannot write it. Divide by 50 for per-alert costs.
/// </summary>
[MemoryDiagnoser]
public class ContainerCodecBenchmarks
{
    private readonly AvroSchemaCache _cache = new();
    private readonly MemoryStream _output = new(1 << 20);
    private byte[][] _messages = [];
    private byte[][] _datums = [];
    private AvroSchema? _schema;

    [Params("null", "deflate", "snappy", "zstandard", "bzip2")]
    public string Codec { get; set; } = "null";

    [GlobalSetup]
    public void Setup()
    {
        var originals = BenchmarkData.ReadAll("alert-samples/ztf-real-50");
        _schema = AvroContainerReader.Open(originals[0], _cache).Header.Schema;
        _datums = originals.Select(m =>
        {
            var reader = AvroContainerReader.Open(m, _cache);
            reader.TryReadBlock(out var block);
            return block.Data.ToArray();
        }).ToArray();
        _messages = _datums.Select(d =>
        {
            using var stream = new MemoryStream();
            using (var writer = new AvroContainerWriter(stream, _schema, Codec, leaveOpen: true))
            {
                writer.WriteEncoded(d);
            }

            return stream.ToArray();
        }).ToArray();
        Console.WriteLine($"// {Codec}: {_messages.Sum(m => (long)m.Length) / 50} bytes a message on average ({_datums.Sum(d => (long)d.Length) / 50} uncompressed)");
    }

    /// <summary>Open, decompress and skip every record: the decoder's floor with this codec.</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public int OpenDecompressAndSkip() => AvroBenchmarks.OpenAndSkip(_messages, _cache);

    /// <summary>One container per alert, compressed with the codec (what simulate alerts --codec writes).</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public long WriteMessage()
    {
        long n = 0;
        foreach (var datum in _datums)
        {
            _output.SetLength(0);
            using (var writer = new AvroContainerWriter(_output, _schema!, Codec, leaveOpen: true))
            {
                writer.WriteEncoded(datum);
            }

            n += _output.Length;
        }

        return n;
    }
}
