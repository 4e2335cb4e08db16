using System.Collections.Concurrent;

namespace AlertBroker.Avro;

/// <summary>
/// Thread-safe, bounded cache of parsed schemas keyed by the exact schema JSON bytes (a hit allocates nothing)
/// and by CRC-64-AVRO fingerprint. When full, the oldest entries are evicted first.
/// </summary>
public sealed class AvroSchemaCache
{
    private readonly ConcurrentDictionary<byte[], AvroSchema> _byBytes;
    private readonly ConcurrentDictionary<byte[], AvroSchema>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly ConcurrentDictionary<ulong, AvroSchema> _byFingerprint = new();
    private readonly ConcurrentQueue<byte[]> _bytesOrder = new();
    private readonly ConcurrentQueue<ulong> _fingerprintOrder = new();
    private long _parseCount;

    /// <summary>Creates a cache holding at most <paramref name="capacity"/> entries per key kind.</summary>
    public AvroSchemaCache(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _byBytes = new ConcurrentDictionary<byte[], AvroSchema>(SchemaBytesComparer.Instance);
        _lookup = _byBytes.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>A process-wide cache (used by container readers when none is given).</summary>
    public static AvroSchemaCache Shared { get; } = new();

    public int Capacity { get; }

    /// <summary>Number of schemas cached by their JSON bytes.</summary>
    public int Count => _byBytes.Count;

    /// <summary>How many times this cache has parsed schema JSON (misses).</summary>
    public long ParseCount => Interlocked.Read(ref _parseCount);

    /// <summary>The schema for these exact JSON bytes, parsed on the first request only.</summary>
    public AvroSchema GetOrParse(ReadOnlySpan<byte> schemaJsonUtf8)
    {
        if (_lookup.TryGetValue(schemaJsonUtf8, out var schema))
        {
            return schema;
        }

        return AddParsed(schemaJsonUtf8);
    }

    private AvroSchema AddParsed(ReadOnlySpan<byte> json)
    {
        Interlocked.Increment(ref _parseCount);
        var parsed = AvroSchema.Parse(json);
        var key = json.ToArray();
        var winner = _byBytes.GetOrAdd(key, parsed);
        if (ReferenceEquals(winner, parsed))
        {
            _bytesOrder.Enqueue(key);
            AddFingerprint(parsed);
            while (_byBytes.Count > Capacity && _bytesOrder.TryDequeue(out var oldest))
            {
                _byBytes.TryRemove(oldest, out _);
            }
        }

        return winner;
    }

    /// <summary>Finds a schema by its CRC-64-AVRO fingerprint.</summary>
    public bool TryGetByFingerprint(ulong fingerprint, out AvroSchema schema) => _byFingerprint.TryGetValue(fingerprint, out schema!);

    /// <summary>Makes a schema findable by fingerprint.</summary>
    public void Add(AvroSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        AddFingerprint(schema);
    }

    private void AddFingerprint(AvroSchema schema)
    {
        var fp = schema.Fingerprint;
        if (_byFingerprint.TryAdd(fp, schema))
        {
            _fingerprintOrder.Enqueue(fp);
            while (_byFingerprint.Count > Capacity && _fingerprintOrder.TryDequeue(out var oldest))
            {
                _byFingerprint.TryRemove(oldest, out _);
            }
        }
    }

    /// <summary>Compares schema bytes exactly; hashes a sample so hashing an 8 KB schema on every hit stays cheap.</summary>
    private sealed class SchemaBytesComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly SchemaBytesComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(byte[] obj) => Hash(obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        private static int Hash(ReadOnlySpan<byte> data)
        {
            var h = default(HashCode);
            h.Add(data.Length);
            if (data.Length <= 512)
            {
                h.AddBytes(data);
            }
            else
            {
                h.AddBytes(data[..128]);
                h.AddBytes(data[^128..]);
                var step = data.Length / 9;
                for (var i = 1; i <= 8; i++)
                {
                    h.AddBytes(data.Slice(i * step, 32));
                }
            }

            return h.ToHashCode();
        }
    }
}
