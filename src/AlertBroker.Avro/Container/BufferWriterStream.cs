namespace AlertBroker.Avro;

/// <summary>A write-only stream over a <see cref="PooledBufferWriter"/>, for compressors that only write to streams.</summary>
internal sealed class BufferWriterStream(PooledBufferWriter destination) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => destination.WrittenCount;

    public override long Position
    {
        get => destination.WrittenCount;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        buffer.CopyTo(destination.GetSpan(buffer.Length));
        destination.Advance(buffer.Length);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
