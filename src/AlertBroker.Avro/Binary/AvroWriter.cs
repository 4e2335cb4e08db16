using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace AlertBroker.Avro;

/// <summary>Writes Avro binary encoding to an <see cref="IBufferWriter{T}"/>.</summary>
public sealed class AvroWriter
{
    private readonly IBufferWriter<byte> _output;

    public AvroWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Bytes written through this writer so far.</summary>
    public long BytesWritten { get; private set; }

    public IBufferWriter<byte> Output => _output;

#pragma warning disable CA1822 // Instance member for symmetry with the other Write methods.
    /// <summary>Null is encoded as zero bytes.</summary>
    public void WriteNull()
    {
    }
#pragma warning restore CA1822

    public void WriteBoolean(bool value)
    {
        var span = _output.GetSpan(1);
        span[0] = value ? (byte)1 : (byte)0;
        Commit(1);
    }

    public void WriteInt(int value) => WriteLong(value);

    public void WriteLong(long value)
    {
        var span = _output.GetSpan(10);
        var n = (ulong)((value << 1) ^ (value >> 63));
        var i = 0;
        while (n >= 0x80)
        {
            span[i++] = (byte)(n | 0x80);
            n >>= 7;
        }

        span[i++] = (byte)n;
        Commit(i);
    }

    public void WriteFloat(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(_output.GetSpan(4), value);
        Commit(4);
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(_output.GetSpan(8), value);
        Commit(8);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteLong(value.Length);
        WriteRaw(value);
    }

    public void WriteStringUtf8(ReadOnlySpan<byte> utf8) => WriteBytes(utf8);

    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var count = Encoding.UTF8.GetByteCount(value);
        WriteLong(count);
        if (count > 0)
        {
            var written = Encoding.UTF8.GetBytes(value, _output.GetSpan(count));
            Commit(written);
        }
    }

    public void WriteFixed(ReadOnlySpan<byte> value) => WriteRaw(value);

    public void WriteEnum(int index) => WriteLong(index);

    public void WriteUnionIndex(int index) => WriteLong(index);

    /// <summary>Starts an array: writes the item count of its single block (nothing for an empty array); finish with <see cref="WriteBlockEnd"/>.</summary>
    public void WriteArrayStart(long count)
    {
        if (count > 0)
        {
            WriteBlockCount(count);
        }
    }

    /// <summary>Starts a map: writes the entry count of its single block (nothing for an empty map); finish with <see cref="WriteBlockEnd"/>.</summary>
    public void WriteMapStart(long count) => WriteArrayStart(count);

    /// <summary>Writes a block header with <paramref name="count"/> items.</summary>
    public void WriteBlockCount(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteLong(count);
    }

    /// <summary>Ends an array or map (a zero count).</summary>
    public void WriteBlockEnd() => WriteLong(0);

    /// <summary>Copies already-encoded bytes.</summary>
    public void WriteRaw(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty)
        {
            return;
        }

        _output.Write(encoded);
        BytesWritten += encoded.Length;
    }

    private void Commit(int count)
    {
        _output.Advance(count);
        BytesWritten += count;
    }
}
