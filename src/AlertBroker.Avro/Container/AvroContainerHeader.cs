using System.Collections.Frozen;
using System.Text;

namespace AlertBroker.Avro;

/// <summary>The header of an Avro object container file.</summary>
public sealed class AvroContainerHeader
{
    private readonly ReadOnlyMemory<byte> _file;
    private readonly int _metadataStart;
    private readonly AvroLimits _limits = AvroLimits.Default;
    private IReadOnlyDictionary<string, ReadOnlyMemory<byte>>? _metadata;

    internal AvroContainerHeader(AvroSchema schema, string codec, ReadOnlyMemory<byte> syncMarker, ReadOnlyMemory<byte> schemaJson, int length, ReadOnlyMemory<byte> file, int metadataStart, AvroLimits limits)
    {
        _limits = limits;
        Schema = schema;
        Codec = codec;
        SyncMarker = syncMarker;
        SchemaJson = schemaJson;
        Length = length;
        _file = file;
        _metadataStart = metadataStart;
    }

    internal AvroContainerHeader(AvroSchema schema, string codec, ReadOnlyMemory<byte> syncMarker, ReadOnlyMemory<byte> schemaJson, int length, IReadOnlyDictionary<string, ReadOnlyMemory<byte>> metadata)
    {
        Schema = schema;
        Codec = codec;
        SyncMarker = syncMarker;
        SchemaJson = schemaJson;
        Length = length;
        _metadata = metadata;
    }

    /// <summary>The writer schema (<c>avro.schema</c>).</summary>
    public AvroSchema Schema { get; }

    /// <summary>The codec (<c>avro.codec</c>): "null", "deflate", "snappy", "zstandard", "bzip2" or "xz".</summary>
    public string Codec { get; }

    /// <summary>The 16-byte sync marker that follows every block.</summary>
    public ReadOnlyMemory<byte> SyncMarker { get; }

    /// <summary>All metadata entries (decoded on first access; values are slices of the file for in-memory readers).</summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>> Metadata => _metadata ??= DecodeMetadata();

    /// <summary>Length of the header in bytes; the first block starts there.</summary>
    public int Length { get; }

    /// <summary>The raw <c>avro.schema</c> JSON bytes.</summary>
    public ReadOnlyMemory<byte> SchemaJson { get; }

    private FrozenDictionary<string, ReadOnlyMemory<byte>> DecodeMetadata()
    {
        // The header was fully validated when the file was opened, so this walk cannot fail.
        var result = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        var r = new AvroReader(_file.Span, _limits);
        r.Position = _metadataStart;
        long count;
        while ((count = r.ReadBlockCount()) != 0)
        {
            for (long i = 0; i < count; i++)
            {
                var key = Encoding.UTF8.GetString(r.ReadStringUtf8());
                var (start, length) = r.ReadBytesRange();
                result[key] = _file.Slice(start, length);
            }
        }

        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>One block of a container file: <paramref name="Count"/> datums in <paramref name="Data"/> (decompressed), which starts at file offset <paramref name="Offset"/>.</summary>
public readonly record struct AvroBlock(long Count, ReadOnlyMemory<byte> Data, long Offset);
