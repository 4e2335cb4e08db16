using AlertBroker.Alerts;
using AlertBroker.Avro;
using BenchmarkDotNet.Attributes;
using ApacheBinaryDecoder = global::Avro.IO.BinaryDecoder;
using ApacheGenericReader = global::Avro.Generic.GenericDatumReader<global::Avro.Generic.GenericRecord>;
using ApacheRecord = global::Avro.Generic.GenericRecord;
using ApacheSchema = global::Avro.Schema;

namespace AlertBroker.Benchmarks.Avro;

/// <summary>
/// Why the project keeps its own Avro decoder (docs/dependencies.md): the 50 real ZTF messages (one container file
/// each, as they come from Kafka) decoded by ours (the alert fast path and the generic reader) and by Apache.Avro
/// 1.12.2 (its <c>DataFileReader</c>, and its generic datum reader with the best caching its API allows). Divide by
/// 50 for per-alert costs.
/// </summary>
[MemoryDiagnoser]
public class ApacheAvroComparisonBenchmarks
{
    private static readonly byte[] s_magic = "Obj\u0001"u8.ToArray();
    private readonly AlertDecoder _decoder = new();
    private readonly List<Alert> _alerts = new(4);
    private readonly AvroSchemaCache _cache = new();
    private readonly Dictionary<byte[], ApacheGenericReader> _apacheReaders = new(ByteArrayComparer.Instance);
    private readonly byte[] _magicBuffer = new byte[4];
    private readonly byte[] _syncBuffer = new byte[16];
    private byte[][] _ztf = [];
    private ApacheRecord? _reuse;

    [GlobalSetup]
    public void Setup()
    {
        _ztf = BenchmarkData.ReadAll("alert-samples/ztf-real-50");

        // Every variant must read the same alerts: check the candid sums agree before measuring.
        var expected = OursFastAlertPath();
        if (OursGenericReader() != expected || ApacheDataFileReader() != expected || ApacheCachedSchema() != expected || ApacheCachedSchemaReuse() != expected)
        {
            throw new InvalidOperationException("the decoders disagree on the sample alerts");
        }
    }

    /// <summary>Ours, as the worker runs it: message → normalised <see cref="Alert"/> (cutouts skipped, plan cached per schema).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 50)]
    public long OursFastAlertPath()
    {
        long sum = 0;
        foreach (var message in _ztf)
        {
            _alerts.Clear();
            _decoder.Decode(message, _alerts);
            sum += _alerts[0].SourceId;
        }

        return sum;
    }

    /// <summary>Ours, the whole record into the generic data model (schema cached by its bytes; cutouts are zero-copy slices).</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public long OursGenericReader()
    {
        long sum = 0;
        foreach (var message in _ztf)
        {
            foreach (var datum in AvroContainerReader.Open(message, _cache).ReadAll())
            {
                sum += (long)((GenericRecord)datum!)["candid"]!;
            }
        }

        return sum;
    }

    /// <summary>Apache's own container API: <c>DataFileReader</c> parses each message's schema JSON again.</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public long ApacheDataFileReader()
    {
        long sum = 0;
        foreach (var message in _ztf)
        {
            using var reader = global::Avro.File.DataFileReader<ApacheRecord>.OpenReader(new MemoryStream(message, writable: false));
            while (reader.HasNext())
            {
                sum += (long)reader.Next()["candid"];
            }
        }

        return sum;
    }

    /// <summary>
    /// Apache's generic datum reader with the best caching its API allows: one reader per schema, found by comparing the
    /// header's schema bytes in place (no JSON parse, no copy of the schema), the datum read straight from the message.
    /// </summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public long ApacheCachedSchema() => ApacheCached(reuse: false);

    /// <summary>As <see cref="ApacheCachedSchema"/>, also reusing the previous record object (Apache's object reuse).</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public long ApacheCachedSchemaReuse() => ApacheCached(reuse: true);

    private long ApacheCached(bool reuse)
    {
        long sum = 0;
        foreach (var message in _ztf)
        {
            using var stream = new MemoryStream(message, 0, message.Length, writable: false, publiclyVisible: true);
            var decoder = new ApacheBinaryDecoder(stream);
            decoder.ReadFixed(_magicBuffer);
            if (!_magicBuffer.AsSpan().SequenceEqual(s_magic))
            {
                throw new InvalidOperationException("not a container");
            }

            ApacheGenericReader? reader = null;
            for (var n = decoder.ReadMapStart(); n != 0; n = decoder.ReadMapNext())
            {
                for (long i = 0; i < n; i++)
                {
                    var key = decoder.ReadString();
                    var length = (int)decoder.ReadLong();
                    if (key == "avro.schema")
                    {
                        reader = ReaderFor(message.AsMemory((int)stream.Position, length));
                    }

                    stream.Seek(length, SeekOrigin.Current);
                }
            }

            decoder.ReadFixed(_syncBuffer);
            while (stream.Position < stream.Length)
            {
                var count = decoder.ReadLong();
                decoder.ReadLong();
                for (long i = 0; i < count; i++)
                {
                    var record = reader!.Read(reuse ? _reuse! : null!, decoder);
                    _reuse = record;
                    sum += (long)record["candid"];
                }

                decoder.ReadFixed(_syncBuffer);
            }
        }

        return sum;
    }

    /// <summary>
    /// The same five decoders measured round-robin (one pass over the 50 messages each, in turn, <paramref name="rounds"/>
    /// times) with process CPU time beside wall time. On a machine shared with other jobs, wall time swings with the
    /// load; interleaving exposes every decoder to the same load, and CPU time is far less affected by it. Prints the
    /// median per alert of each. Run: <c>dotnet run -c Release --project benchmarks/AlertBroker.Benchmarks -- --interleaved-cpu 40</c>.
    /// </summary>
    public static void RunInterleaved(int rounds)
    {
        var b = new ApacheAvroComparisonBenchmarks();
        b.Setup();
        (string Name, Func<long> Run)[] variants =
        [
            (nameof(OursFastAlertPath), b.OursFastAlertPath),
            (nameof(OursGenericReader), b.OursGenericReader),
            (nameof(ApacheDataFileReader), b.ApacheDataFileReader),
            (nameof(ApacheCachedSchema), b.ApacheCachedSchema),
            (nameof(ApacheCachedSchemaReuse), b.ApacheCachedSchemaReuse),
        ];
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var cpu = variants.Select(_ => new List<double>()).ToArray();
        var wall = variants.Select(_ => new List<double>()).ToArray();
        for (var round = -3; round < rounds; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                // Enough passes for about 20 ms of work per sample (the DataFileReader one is ~100× slower).
                var passes = v == 2 ? 1 : 40;
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var wall0 = System.Diagnostics.Stopwatch.GetTimestamp();
                for (var p = 0; p < passes; p++)
                {
                    variants[v].Run();
                }

                var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(wall0);
                process.Refresh();
                if (round >= 0)
                {
                    var alerts = passes * 50.0;
                    cpu[v].Add((process.TotalProcessorTime - cpu0).TotalMicroseconds / alerts);
                    wall[v].Add(elapsed.TotalMicroseconds / alerts);
                }
            }
        }

        static double Median(List<double> xs)
        {
            var sorted = xs.Order().ToArray();
            return sorted[sorted.Length / 2];
        }

        Console.WriteLine($"{rounds} interleaved rounds; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("| decoder | CPU µs/alert (median) | wall µs/alert (median) | CPU vs ours (fast path) |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        var baseline = Median(cpu[0]);
        for (var v = 0; v < variants.Length; v++)
        {
            Console.WriteLine(FormattableString.Invariant($"| {variants[v].Name} | {Median(cpu[v]):F2} | {Median(wall[v]):F2} | {Median(cpu[v]) / baseline:F1}× |"));
        }
    }

    private ApacheGenericReader ReaderFor(ReadOnlyMemory<byte> schemaJson)
    {
        // Looked up by the bytes in place; a miss parses the schema and copies its bytes once.
        if (_apacheReaders.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(schemaJson.Span, out var reader))
        {
            return reader;
        }

        var schema = ApacheSchema.Parse(System.Text.Encoding.UTF8.GetString(schemaJson.Span));
        reader = new ApacheGenericReader(schema, schema);
        _apacheReaders.Add(schemaJson.ToArray(), reader);
        return reader;
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
