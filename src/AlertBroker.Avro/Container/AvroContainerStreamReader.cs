using System.Buffers;
using System.Text;

namespace AlertBroker.Avro;

/// <summary>
/// Reads an Avro object container file from a <see cref="Stream"/>, one block at a time, with pooled buffers:
/// a block's <see cref="AvroBlock.Data"/> is valid until the next call to <see cref="TryReadBlock"/>.
/// </summary>
public sealed class AvroContainerStreamReader : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly AvroLimits _limits;
    private readonly byte[] _sync = new byte[ContainerFormat.SyncLength];
    private byte[] _buffer;
    private int _start;
    private int _end;
    private long _consumed;
    private bool _eof;
    private PooledBufferWriter? _inflated;
    private long _inflatedBytes;

    public AvroContainerStreamReader(Stream stream, AvroSchemaCache? cache = null, AvroLimits? limits = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _limits = limits ?? AvroLimits.Default;
        _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            Header = ReadHeader(cache ?? AvroSchemaCache.Shared);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public AvroContainerHeader Header { get; }

    private AvroContainerHeader ReadHeader(AvroSchemaCache cache)
    {
        var magic = ReadExactly(ContainerFormat.Magic.Length, "magic");
        if (!magic.SequenceEqual(ContainerFormat.Magic))
        {
            throw new AvroFormatException("not an Avro object container file (missing magic 'Obj\\x01')", 0);
        }

        var metadata = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        byte[]? schemaJson = null;
        var codec = ContainerFormat.NullCodec;
        long total = 0;
        while (true)
        {
            var blockOffset = _consumed;
            var count = ReadVarLong();
            if (count == 0)
            {
                break;
            }

            long byteSize = -1;
            if (count < 0)
            {
                count = count == long.MinValue ? long.MaxValue : -count;
                byteSize = ReadVarLong();
            }

            total += count;
            if (total > _limits.MaxCollectionItems)
            {
                throw new AvroFormatException($"header metadata has more than {_limits.MaxCollectionItems} entries", blockOffset);
            }

            var entriesStart = _consumed;
            for (long i = 0; i < count; i++)
            {
                var key = Encoding.UTF8.GetString(ReadLengthPrefixed(_limits.MaxStringLength, "metadata key"));
                var valueOffset = _consumed;
                var value = ReadLengthPrefixed(_limits.MaxBytesLength, "metadata value").ToArray();
                metadata[key] = value;
                if (key == "avro.schema")
                {
                    schemaJson = value;
                }
                else if (key == "avro.codec")
                {
                    codec = ContainerFormat.ResolveCodec(value, valueOffset);
                }
            }

            // As for array and map blocks: a declared byte size must be the size of the entries.
            if (byteSize >= 0 && _consumed - entriesStart != byteSize)
            {
                throw new AvroFormatException($"header metadata block byte size {byteSize} does not match the {_consumed - entriesStart} bytes its entries take", entriesStart);
            }
        }

        if (schemaJson is null)
        {
            throw new AvroFormatException("container header has no 'avro.schema' entry", _consumed);
        }

        ReadExactly(ContainerFormat.SyncLength, "sync marker").CopyTo(_sync);
        var schema = cache.GetOrParse(schemaJson);
        return new AvroContainerHeader(schema, codec, _sync, schemaJson, (int)Math.Min(_consumed, int.MaxValue), metadata);
    }

    /// <summary>Reads the next block; false at the end of the stream. The data is valid until the next call.</summary>
    public bool TryReadBlock(out AvroBlock block)
    {
        if (!Fill(1))
        {
            block = default;
            return false;
        }

        var start = _consumed;
        var count = ReadVarLong();
        if (count < 0 || count > _limits.MaxCollectionItems)
        {
            throw new AvroFormatException($"invalid block object count {count}", start);
        }

        var sizeOffset = _consumed;
        var size = ReadVarLong();
        if (size < 0)
        {
            throw new AvroFormatException($"block size {size} is negative", sizeOffset);
        }

        if (size > _limits.MaxBlockLength)
        {
            throw new AvroLimitExceededException($"block size {size} exceeds the limit of {_limits.MaxBlockLength}", sizeOffset, _limits.MaxBlockLength);
        }

        var dataOffset = _consumed;
        if (!Fill((int)size + ContainerFormat.SyncLength))
        {
            throw new AvroFormatException("unexpected end of stream inside a block", _consumed);
        }

        var dataStart = _start;
        _start += (int)size;
        _consumed += size;
        var syncOffset = _consumed;
        if (!_buffer.AsSpan(_start, ContainerFormat.SyncLength).SequenceEqual(_sync))
        {
            throw new AvroFormatException("block sync marker does not match the header's (corrupt or truncated file)", syncOffset);
        }

        _start += ContainerFormat.SyncLength;
        _consumed += ContainerFormat.SyncLength;
        ReadOnlyMemory<byte> data = _buffer.AsMemory(dataStart, (int)size);
        if (!ReferenceEquals(Header.Codec, ContainerFormat.NullCodec))
        {
            _inflated ??= new PooledBufferWriter(64 * 1024);
            ContainerFormat.InflateBlockInto(Header.Codec, data, _inflated, _limits, ref _inflatedBytes, dataOffset);
            data = _inflated.WrittenMemory;
        }

        block = new AvroBlock(count, data, dataOffset);
        return true;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        _inflated?.Dispose();
        _inflated = null;
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private ReadOnlySpan<byte> ReadLengthPrefixed(int limit, string what)
    {
        var offset = _consumed;
        var length = ReadVarLong();
        if (length < 0 || length > limit)
        {
            throw new AvroFormatException($"{what} length {length} is negative or exceeds the limit of {limit}", offset);
        }

        return ReadExactly((int)length, what);
    }

    private ReadOnlySpan<byte> ReadExactly(int count, string what)
    {
        if (!Fill(count))
        {
            throw new AvroFormatException($"unexpected end of stream reading the {what}", _consumed);
        }

        var span = _buffer.AsSpan(_start, count);
        _start += count;
        _consumed += count;
        return span;
    }

    private long ReadVarLong()
    {
        var offset = _consumed;
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (!Fill(1))
            {
                throw new AvroFormatException("unexpected end of stream inside a varint", _consumed);
            }

            ulong b = _buffer[_start++];
            _consumed++;
            if (shift == 63 && b > 1)
            {
                break;
            }

            result |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return (long)(result >> 1) ^ -(long)(result & 1);
            }
        }

        throw new AvroFormatException("invalid long varint", offset);
    }

    /// <summary>Ensures <paramref name="count"/> bytes are buffered; false when the stream ends first.</summary>
    private bool Fill(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        while (_end - _start < count && !_eof)
        {
            if (_end == _buffer.Length)
            {
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                else
                {
                    // Grow geometrically, so a declared size that the stream never delivers costs at most twice what arrived.
                    var newSize = (int)Math.Min(Math.Max((long)_buffer.Length * 2, 4096), Math.Max(count, _buffer.Length + 1L));
                    var next = ArrayPool<byte>.Shared.Rent(newSize);
                    Buffer.BlockCopy(_buffer, 0, next, 0, _end);
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = next;
                }
            }

            var n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                _eof = true;
                break;
            }

            _end += n;
        }

        return _end - _start >= count;
    }
}
