using System.Security.Cryptography;

namespace AlertBroker.Avro;

/// <summary>Writes an Avro object container file to a stream; blocks are cut once they reach the configured size.</summary>
public sealed class AvroContainerWriter : IDisposable
{
    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly string _codec;
    private readonly int _blockSizeBytes;
    private readonly byte[] _sync = new byte[ContainerFormat.SyncLength];
    private readonly PooledBufferWriter _block = new(64 * 1024);
    private readonly AvroWriter _blockWriter;
    private readonly GenericDatumWriter _datumWriter;
    private PooledBufferWriter? _compressed;
    private long _count;
    private bool _disposed;

    /// <summary>
    /// A writer whose header is written at once. <paramref name="syncMarker"/> is the file's 16-byte sync marker, random
    /// when null (the spec's way); a writer that must give the same bytes for the same input (a seeded simulation) passes
    /// one derived from its seed.
    /// </summary>
    public AvroContainerWriter(Stream output, AvroSchema schema, string codec = "null", IReadOnlyDictionary<string, byte[]>? metadata = null, int blockSizeBytes = 64 * 1024, bool leaveOpen = false, byte[]? syncMarker = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSizeBytes, 1);
        ContainerFormat.CheckNotReserved(metadata);
        _output = output;
        _leaveOpen = leaveOpen;
        _codec = ContainerFormat.ValidateCodecName(codec);
        _blockSizeBytes = blockSizeBytes;
        Schema = schema;
        _datumWriter = new GenericDatumWriter(schema);
        _blockWriter = new AvroWriter(_block);
        if (syncMarker is null)
        {
            RandomNumberGenerator.Fill(_sync);
        }
        else
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(syncMarker.Length, ContainerFormat.SyncLength, nameof(syncMarker));
            syncMarker.CopyTo(_sync, 0);
        }

        WriteHeader(metadata);
    }

    /// <summary>The codecs this writer writes: null, deflate, snappy, zstandard and bzip2 (xz is read, not written).</summary>
    public static IReadOnlyList<string> Codecs { get; } = ContainerFormat.WritableCodecNames.AsReadOnly();

    public AvroSchema Schema { get; }

    /// <summary>The file's 16-byte sync marker.</summary>
    public ReadOnlyMemory<byte> SyncMarker => _sync;

    /// <summary>Encodes and appends a generic datum. On error nothing of the datum is kept.</summary>
    public void Write(object? datum)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var mark = _block.WrittenCount;
        try
        {
            _datumWriter.Write(_blockWriter, datum);
        }
        catch
        {
            _block.Truncate(mark);
            throw;
        }

        Appended();
    }

    /// <summary>Appends an already-encoded datum (the fast path); the caller vouches that it matches <see cref="Schema"/>.</summary>
    public void WriteEncoded(ReadOnlySpan<byte> encodedDatum)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _blockWriter.WriteRaw(encodedDatum);
        Appended();
    }

    /// <summary>Ends the current block (if it holds anything) and flushes the stream.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WriteBlock();
        _output.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            WriteBlock();
            _output.Flush();
        }
        finally
        {
            _disposed = true;
            _block.Dispose();
            _compressed?.Dispose();
            if (!_leaveOpen)
            {
                _output.Dispose();
            }
        }
    }

    private void Appended()
    {
        _count++;
        if (_block.WrittenCount >= _blockSizeBytes)
        {
            WriteBlock();
        }
    }

    private void WriteHeader(IReadOnlyDictionary<string, byte[]>? metadata)
    {
        using var header = new PooledBufferWriter(4096);
        var w = new AvroWriter(header);
        w.WriteRaw(ContainerFormat.Magic);
        var entries = 2 + (metadata?.Count ?? 0);
        w.WriteBlockCount(entries);
        w.WriteString("avro.schema");
        w.WriteBytes(Schema.JsonUtf8);
        w.WriteString("avro.codec");
        w.WriteBytes(System.Text.Encoding.UTF8.GetBytes(_codec));
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                w.WriteString(key);
                w.WriteBytes(value);
            }
        }

        w.WriteBlockEnd();
        w.WriteFixed(_sync);
        _output.Write(header.WrittenSpan);
    }

    private void WriteBlock()
    {
        if (_count == 0)
        {
            return;
        }

        ReadOnlySpan<byte> payload = _block.WrittenSpan;
        if (!ReferenceEquals(_codec, ContainerFormat.NullCodec))
        {
            _compressed ??= new PooledBufferWriter(64 * 1024);
            ContainerFormat.Compress(_codec, payload, _compressed);
            payload = _compressed.WrittenSpan;
        }

        Span<byte> prefix = stackalloc byte[20];
        var n = WriteVarLong(prefix, _count);
        n += WriteVarLong(prefix[n..], payload.Length);
        _output.Write(prefix[..n]);
        _output.Write(payload);
        _output.Write(_sync);
        _block.Clear();
        _count = 0;
    }

    private static int WriteVarLong(Span<byte> span, long value)
    {
        var n = (ulong)((value << 1) ^ (value >> 63));
        var i = 0;
        while (n >= 0x80)
        {
            span[i++] = (byte)(n | 0x80);
            n >>= 7;
        }

        span[i++] = (byte)n;
        return i;
    }
}
