using AlertBroker.Avro;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Avro;

/// <summary>
/// The Avro layer under the alert decoder: opening a per-message container (schema cached), skipping every
/// record, and full generic decoding, over the 50 real ZTF messages. Divide by 50 for per-alert costs.
/// </summary>
[MemoryDiagnoser]
public class AvroBenchmarks
{
    private readonly AvroSchemaCache _cache = new();
    private byte[][] _ztf = [];
    private byte[] _rubin = [];
    private GenericDatumReader? _reader;
    private AvroSchema? _schema;

    [GlobalSetup]
    public void Setup()
    {
        _ztf = BenchmarkData.ReadAll("alert-samples/ztf-real-50");
        _rubin = BenchmarkData.ReadAll("alert-samples/lsst-real-v7_4")[0];
        _schema = AvroContainerReader.Open(_ztf[0], _cache).Header.Schema;
        _reader = new GenericDatumReader(_schema);
    }

    /// <summary>Header parse with a cached schema: no JSON parsing, one small allocation.</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public int OpenContainerZtf50()
    {
        var n = 0;
        foreach (var message in _ztf)
        {
            n += AvroContainerReader.Open(message, _cache).Header.Length;
        }

        return n;
    }

    /// <summary>Open and skip every record: the floor for any decoder that reads a subset of fields.</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public int OpenAndSkipZtf50() => OpenAndSkip(_ztf, _cache);

    /// <summary>Opens each message (decompressing its blocks) and skips every record; the bytes skipped.</summary>
    internal static int OpenAndSkip(byte[][] messages, AvroSchemaCache cache)
    {
        var n = 0;
        foreach (var message in messages)
        {
            var container = AvroContainerReader.Open(message, cache);
            while (container.TryReadBlock(out var block))
            {
                var reader = new AvroReader(block.Data.Span);
                for (long i = 0; i < block.Count; i++)
                {
                    reader.Skip(container.Header.Schema);
                }

                n += reader.Position;
            }
        }

        return n;
    }

    /// <summary>Open and decode every record into the generic model (cutouts stay zero-copy slices).</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public int OpenAndGenericReadZtf50()
    {
        var n = 0;
        foreach (var message in _ztf)
        {
            var container = AvroContainerReader.Open(message, _cache);
            while (container.TryReadBlock(out var block))
            {
                var position = 0;
                for (long i = 0; i < block.Count; i++)
                {
                    n += ((GenericRecord)_reader!.Read(block.Data, ref position)!).Schema.Fields.Count;
                }
            }
        }

        return n;
    }

    /// <summary>One Rubin alert (Fink re-write, ~190 KB with history) decoded generically, schema cached.</summary>
    [Benchmark]
    public int GenericReadRubin()
    {
        var n = 0;
        foreach (var datum in AvroContainerReader.Open(_rubin, _cache).ReadAll())
        {
            n += ((GenericRecord)datum!).Schema.Fields.Count;
        }

        return n;
    }

    /// <summary>Schema JSON parse of the ZTF alert schema (the cost a cache miss pays).</summary>
    [Benchmark]
    public ulong ParseZtfSchema() => AvroSchema.Parse(AvroContainerReader.Open(_ztf[0], _cache).Header.SchemaJson.Span).Fingerprint;
}
