namespace AlertBroker.Avro;

/// <summary>
/// Reads an Avro object container file held in memory (a Kafka message, a small file) without copying:
/// null-codec blocks are slices of the input.
/// </summary>
public sealed class AvroContainerReader
{
    private readonly ReadOnlyMemory<byte> _file;
    private readonly AvroLimits _limits;
    private int _position;
    private long _inflated;

    private AvroContainerReader(ReadOnlyMemory<byte> file, AvroContainerHeader header, AvroLimits limits)
    {
        _file = file;
        Header = header;
        _limits = limits;
        _position = header.Length;
    }

    /// <summary>The codecs the container readers read: the spec's six (null, deflate, snappy, zstandard, bzip2, xz).</summary>
    public static IReadOnlyList<string> Codecs { get; } = [.. ContainerFormat.ReadableCodecNames.Select(c => c.Name)];

    public AvroContainerHeader Header { get; }

    /// <summary>Offset of the next block.</summary>
    public int Position => _position;

    /// <summary>True when the data starts with the container magic <c>Obj\x01</c>.</summary>
    public static bool IsContainer(ReadOnlySpan<byte> data) => data.StartsWith(ContainerFormat.Magic);

    /// <summary>
    /// Parses the header. The schema comes from <paramref name="cache"/> (or <see cref="AvroSchemaCache.Shared"/>),
    /// so a schema seen before is not parsed again.
    /// </summary>
    public static AvroContainerReader Open(ReadOnlyMemory<byte> file, AvroSchemaCache? cache = null, AvroLimits? limits = null)
    {
        limits ??= AvroLimits.Default;
        var header = ParseHeader(file, cache ?? AvroSchemaCache.Shared, limits);
        return new AvroContainerReader(file, header, limits);
    }

    private static AvroContainerHeader ParseHeader(ReadOnlyMemory<byte> file, AvroSchemaCache cache, AvroLimits limits)
    {
        var span = file.Span;
        if (!span.StartsWith(ContainerFormat.Magic))
        {
            throw new AvroFormatException("not an Avro object container file (missing magic 'Obj\\x01')", 0);
        }

        var r = new AvroReader(span, limits);
        r.Position = ContainerFormat.Magic.Length;
        var metadataStart = r.Position;
        int schemaStart = -1, schemaLength = 0;
        var codec = ContainerFormat.NullCodec;
        long total = 0;
        while (true)
        {
            var blockStart = r.Position;
            var count = r.ReadBlockHeader(out var byteSize);
            if (count == 0)
            {
                break;
            }

            total += count;
            if (total > limits.MaxCollectionItems || count > r.Remaining / 2)
            {
                throw new AvroFormatException($"header metadata block of {count} entries cannot fit in the file", blockStart);
            }

            var entriesStart = r.Position;
            for (long i = 0; i < count; i++)
            {
                var key = r.ReadStringUtf8();
                var valueOffset = r.Position;
                var (start, length) = r.ReadBytesRange();
                if (key.SequenceEqual(ContainerFormat.SchemaKey))
                {
                    schemaStart = start;
                    schemaLength = length;
                }
                else if (key.SequenceEqual(ContainerFormat.CodecKey))
                {
                    codec = ContainerFormat.ResolveCodec(span.Slice(start, length), valueOffset);
                }
            }

            r.CheckBlockSize(byteSize, entriesStart);
        }

        if (schemaStart < 0)
        {
            throw new AvroFormatException("container header has no 'avro.schema' entry", r.Position);
        }

        var syncStart = r.Position;
        r.ReadFixed(ContainerFormat.SyncLength);
        AvroSchema schema;
        try
        {
            schema = cache.GetOrParse(span.Slice(schemaStart, schemaLength));
        }
        catch (AvroSchemaException ex)
        {
            throw new AvroSchemaException($"the container's avro.schema (at byte offset {schemaStart}) is invalid: {ex.Message}", ex);
        }

        return new AvroContainerHeader(schema, codec, file.Slice(syncStart, ContainerFormat.SyncLength), file.Slice(schemaStart, schemaLength), r.Position, file, metadataStart, limits);
    }

    /// <summary>Reads the next block and checks its sync marker; false at the end of the file.</summary>
    public bool TryReadBlock(out AvroBlock block)
    {
        if (_position >= _file.Length)
        {
            block = default;
            return false;
        }

        var span = _file.Span;
        var r = new AvroReader(span, _limits);
        r.Position = _position;
        var start = _position;
        var count = r.ReadLong();
        if (count < 0 || count > _limits.MaxCollectionItems)
        {
            throw new AvroFormatException($"invalid block object count {count}", start);
        }

        var sizeOffset = r.Position;
        var size = r.ReadLong();
        if (size < 0 || size > r.Remaining - ContainerFormat.SyncLength)
        {
            throw new AvroFormatException($"block size {size} is negative or runs past the end of the file", sizeOffset);
        }

        var dataStart = r.Position;
        r.Advance(size);
        var syncOffset = r.Position;
        var sync = r.ReadFixed(ContainerFormat.SyncLength);
        if (!sync.SequenceEqual(Header.SyncMarker.Span))
        {
            throw new AvroFormatException("block sync marker does not match the header's (corrupt or truncated file)", syncOffset);
        }

        _position = r.Position;
        var data = _file.Slice(dataStart, (int)size);
        if (!ReferenceEquals(Header.Codec, ContainerFormat.NullCodec))
        {
            using var output = new PooledBufferWriter((int)Math.Clamp(size * 4L, 1024, 1 << 20));
            ContainerFormat.InflateBlockInto(Header.Codec, data, output, _limits, ref _inflated, dataStart);
            data = output.WrittenSpan.ToArray();
        }

        block = new AvroBlock(count, data, dataStart);
        return true;
    }

    /// <summary>Reads every datum of the remaining blocks with the generic reader (resolved to <paramref name="readerSchema"/> when given).</summary>
    public IEnumerable<object?> ReadAll(AvroSchema? readerSchema = null)
    {
        var datumReader = readerSchema is null && ReferenceEquals(_limits, AvroLimits.Default)
            ? GenericDatumReader.ForSchema(Header.Schema)
            : new GenericDatumReader(Header.Schema, readerSchema, _limits);
        return ReadAll(datumReader);
    }

    /// <summary>Reads every datum of the remaining blocks with the given datum reader.</summary>
    public IEnumerable<object?> ReadAll(GenericDatumReader datumReader)
    {
        ArgumentNullException.ThrowIfNull(datumReader);
        while (TryReadBlock(out var block))
        {
            var position = 0;
            for (long i = 0; i < block.Count; i++)
            {
                yield return datumReader.Read(block.Data, ref position, block.Offset);
            }

            if (position != block.Data.Length)
            {
                throw new AvroFormatException($"block holds {block.Data.Length - position} bytes beyond its {block.Count} datums", block.Offset + position);
            }
        }
    }
}
