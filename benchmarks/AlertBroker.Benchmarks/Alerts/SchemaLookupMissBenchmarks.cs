using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Worker.Kafka;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Alerts;

/// <summary>
/// A flood of Confluent-wire messages whose schema id the schema directory (<c>--schema-dir</c>, the worker's
/// <c>SchemaDirectory</c>) does not hold: what each costs the decoder before it is dead-lettered as SchemaNotFound, beside
/// a message whose id it holds.
/// </summary>
[MemoryDiagnoser]
public class SchemaLookupMissBenchmarks
{
    private const int Messages = 100;
    private readonly List<Alert> _output = new(4);
    private string _directory = "";
    private AlertDecoder _decoder = null!;
    private ReadOnlyMemory<byte>[] _unknown = [];
    private ReadOnlyMemory<byte>[] _known = [];

    [GlobalSetup]
    public void Setup()
    {
        // The 100 real Rubin alerts as Confluent wire (SurveyWireFormat, as `replay --to-kafka` sends them), their schema
        // written as a schema directory; the unknown messages are the same with ids the directory lacks (4 ids, the same
        // on every invocation: a producer with an unregistered schema).
        var wire = new SurveyWireFormat();
        var messages = BenchmarkData.ReadAll("alert-samples/lsst-real-v7_4").SelectMany(m => wire.ToWire(m)).ToArray();
        _directory = Path.Combine(Path.GetTempPath(), "ab-schema-miss-" + Guid.NewGuid().ToString("N")[..8]);
        wire.WriteSchemaDirectory(_directory);
        _decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = new DirectorySchemaLookup(_directory) });
        _known = Enumerable.Range(0, Messages).Select(i => (ReadOnlyMemory<byte>)messages[i % messages.Length]).ToArray();
        _unknown = Enumerable.Range(0, Messages).Select(i =>
        {
            var copy = messages[i % messages.Length].ToArray();
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(1), 900_000 + (i % 4));
            return (ReadOnlyMemory<byte>)copy;
        }).ToArray();
        if (KnownId().Result != Messages || UnknownId().Result != Messages)
        {
            throw new InvalidOperationException("the sample messages do not decode as expected");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    /// <summary>100 messages with 4 ids the directory lacks; divide by 100.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task<int> UnknownId()
    {
        var refused = 0;
        foreach (var m in _unknown)
        {
            try
            {
                _output.Clear();
                await _decoder.DecodeAsync(m, _output);
            }
            catch (AlertFormatException e) when (e.Kind == AlertErrorKind.SchemaNotFound)
            {
                refused++;
            }
        }

        return refused == Messages ? refused : throw new InvalidOperationException($"{Messages - refused} unknown ids were decoded");
    }

    /// <summary>100 messages with the id the directory holds; divide by 100.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public async Task<int> KnownId()
    {
        var n = 0;
        foreach (var m in _known)
        {
            _output.Clear();
            n += await _decoder.DecodeAsync(m, _output);
        }

        return n;
    }
}
