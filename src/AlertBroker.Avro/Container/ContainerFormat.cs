using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace AlertBroker.Avro;

/// <summary>Constants and codec helpers shared by the container readers and writer.</summary>
internal static class ContainerFormat
{
    public const string NullCodec = "null";
    public const string DeflateCodec = "deflate";
    public const string SnappyCodec = "snappy";
    public const string ZstandardCodec = "zstandard";
    public const string Bzip2Codec = "bzip2";
    public const string XzCodec = "xz";
    public const int SyncLength = 16;

    /// <summary>zstd level of the writer: the default of the Java implementation's codec factory.</summary>
    public const int ZstandardLevel = 3;

    [ThreadStatic]
    private static ZstdSharp.Compressor? t_zstd;

    private static ZstdSharp.Compressor NewZstdCompressor()
    {
        var compressor = new ZstdSharp.Compressor(ZstandardLevel);
        compressor.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
        return compressor;
    }

    public static ReadOnlySpan<byte> Magic => "Obj\u0001"u8;

    public static ReadOnlySpan<byte> SchemaKey => "avro.schema"u8;

    public static ReadOnlySpan<byte> CodecKey => "avro.codec"u8;

    /// <summary>The codecs the readers know, each with its name's UTF-8 bytes, as the header spells it.</summary>
    public static readonly (string Name, byte[] Utf8)[] ReadableCodecNames =
        [.. new[] { NullCodec, DeflateCodec, SnappyCodec, ZstandardCodec, Bzip2Codec, XzCodec }.Select(c => (c, System.Text.Encoding.UTF8.GetBytes(c)))];

    /// <summary>The codecs the writer writes: all but xz (SharpCompress decompresses xz only).</summary>
    public static readonly string[] WritableCodecNames = [NullCodec, DeflateCodec, SnappyCodec, ZstandardCodec, Bzip2Codec];

    /// <summary>Maps codec name bytes to the interned codec string, without allocating for the known ones.</summary>
    public static string ResolveCodec(ReadOnlySpan<byte> name, long offset)
    {
        foreach (var (codec, utf8) in ReadableCodecNames)
        {
            if (name.SequenceEqual(utf8))
            {
                return codec;
            }
        }

        var text = System.Text.Encoding.UTF8.GetString(name[..Math.Min(name.Length, 64)]);
        throw new AvroFormatException($"unsupported codec '{text}' (this reader supports {Quoted(ReadableCodecNames.Select(c => c.Name))})", offset);
    }

    /// <summary>The interned name of a codec the writer can write; xz is read-only here (no managed xz encoder).</summary>
    public static string ValidateCodecName(string codec) =>
        Array.Find(WritableCodecNames, c => c == codec)
        ?? throw new AvroException(codec == XzCodec
            ? $"this writer cannot write codec 'xz' (it reads it; write {Quoted(WritableCodecNames)})"
            : $"unsupported codec '{codec}' (this writer supports {Quoted(WritableCodecNames)})");

    private static string Quoted(IEnumerable<string> codecs) => string.Join(", ", codecs.Select(c => $"'{c}'"));

    /// <summary>
    /// Decompresses one block of a container as <see cref="DecompressInto"/>, within both of <paramref name="limits"/>'
    /// bounds: <see cref="AvroLimits.MaxBlockLength"/> for the block and what is left of
    /// <see cref="AvroLimits.MaxInflatedBytes"/> after the <paramref name="inflated"/> bytes of the blocks before it
    /// (which grows by this block's length).
    /// </summary>
    public static void InflateBlockInto(string codec, ReadOnlyMemory<byte> compressed, PooledBufferWriter output, AvroLimits limits, ref long inflated, long offset)
    {
        var left = Math.Max(0, limits.MaxInflatedBytes - inflated);
        try
        {
            DecompressInto(codec, compressed, output, (int)Math.Min(limits.MaxBlockLength, left), offset);
        }
        catch (AvroLimitExceededException) when (left < limits.MaxBlockLength)
        {
            throw new AvroLimitExceededException($"the container's {codec} blocks inflate beyond the limit of {limits.MaxInflatedBytes} bytes in all", offset, limits.MaxInflatedBytes);
        }

        inflated += output.WrittenCount;
    }

    /// <summary>
    /// Decompresses one block of a container file written with <paramref name="codec"/> (not "null") into
    /// <paramref name="output"/> (cleared first). Corrupt data, a failed checksum and output beyond
    /// <paramref name="maxLength"/> are <see cref="AvroFormatException"/>s at <paramref name="offset"/>, whatever the
    /// decompressor threw.
    /// </summary>
    public static void DecompressInto(string codec, ReadOnlyMemory<byte> compressed, PooledBufferWriter output, int maxLength, long offset)
    {
        output.Clear();
        try
        {
            switch (codec)
            {
                case SnappyCodec:
                    UnsnappyInto(compressed.Span, output, maxLength, offset);
                    break;
                case DeflateCodec:
                    DecompressStreamInto(codec, compressed, static s => new DeflateStream(s, CompressionMode.Decompress), output, maxLength, offset);
                    break;
                case ZstandardCodec:
                    DecompressStreamInto(codec, compressed, static s => new ZstdSharp.DecompressionStream(s, leaveOpen: false), output, maxLength, offset);
                    break;
                case Bzip2Codec:
                    DecompressStreamInto(codec, compressed, static s => SharpCompress.Compressors.BZip2.BZip2Stream.Create(s, SharpCompress.Compressors.CompressionMode.Decompress, decompressConcatenated: true), output, maxLength, offset);
                    break;
                case XzCodec:
                    DecompressStreamInto(codec, compressed, static s => new SharpCompress.Compressors.Xz.XZStream(s), output, maxLength, offset);
                    break;
                default:
                    throw new AvroFormatException($"codec '{codec}' has no decompressor", offset);
            }
        }
        catch (Exception ex) when (ex is not AvroException and not OutOfMemoryException)
        {
            // Third-party decompressors fed untrusted bytes throw many types (InvalidDataException, ZstdException,
            // SharpCompress's format exceptions, index errors on truncated input): to the caller all mean one thing.
            throw new AvroFormatException($"corrupt {codec} block: {ex.Message}", offset, ex);
        }
    }

    /// <summary>Compresses one block's datums with <paramref name="codec"/> (not "null") into <paramref name="destination"/> (cleared first).</summary>
    public static void Compress(string codec, ReadOnlySpan<byte> data, PooledBufferWriter destination)
    {
        destination.Clear();
        switch (codec)
        {
            case SnappyCodec:
            {
                // The spec: the snappy block, then the big-endian CRC-32 of the uncompressed data.
                var span = destination.GetSpan(Snappier.Snappy.GetMaxCompressedLength(data.Length) + 4);
                var n = Snappier.Snappy.Compress(data, span);
                BinaryPrimitives.WriteUInt32BigEndian(span[n..], Crc32.HashToUInt32(data));
                destination.Advance(n + 4);
                break;
            }

            case ZstandardCodec:
            {
                // With zstd's content checksum (4 bytes a block; any zstd decoder checks it where present), which the
                // Java and Python codecs leave out: without it a damaged block can decompress to wrong bytes unseen.
                // One compressor a thread, reused: its context costs more to make than a block to compress, and each
                // Wrap (ZSTD_compress2) starts a new frame with the parameters kept.
                var compressor = t_zstd ??= NewZstdCompressor();
                var span = destination.GetSpan(ZstdSharp.Compressor.GetCompressBound(data.Length));
                destination.Advance(compressor.Wrap(data, span));
                break;
            }

            case DeflateCodec:
                CompressStream(data, destination, static s => new DeflateStream(s, CompressionLevel.Optimal, leaveOpen: true));
                break;
            case Bzip2Codec:
                CompressStream(data, destination, static s => SharpCompress.Compressors.BZip2.BZip2Stream.Create(s, SharpCompress.Compressors.CompressionMode.Compress, decompressConcatenated: false, leaveOpen: true));
                break;
            default:
                throw new AvroException($"codec '{codec}' has no compressor");
        }
    }

    private static void UnsnappyInto(ReadOnlySpan<byte> block, PooledBufferWriter output, int maxLength, long offset)
    {
        if (block.Length < 4)
        {
            throw new AvroFormatException($"snappy block of {block.Length} bytes has no room for its CRC-32", offset);
        }

        var body = block[..^4];
        var length = Snappier.Snappy.GetUncompressedLength(body);
        if (length < 0 || length > maxLength)
        {
            throw length < 0
                ? new AvroFormatException($"snappy block declares a negative length {length}", offset)
                : new AvroLimitExceededException($"snappy block inflates to {length} bytes, beyond the limit of {maxLength}", offset, maxLength);
        }

        var span = output.GetSpan(Math.Max(length, 1));
        var n = Snappier.Snappy.Decompress(body, span);
        var expected = BinaryPrimitives.ReadUInt32BigEndian(block[^4..]);
        var actual = Crc32.HashToUInt32(span[..n]);
        if (actual != expected)
        {
            throw new AvroFormatException($"snappy block fails its CRC-32 (stored {expected:x8}, computed {actual:x8})", offset);
        }

        output.Advance(n);
    }

    private static void DecompressStreamInto(string codec, ReadOnlyMemory<byte> compressed, Func<Stream, Stream> open, PooledBufferWriter output, int maxLength, long offset)
    {
        Stream input = MemoryMarshal.TryGetArray(compressed, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(compressed.ToArray(), writable: false);
        try
        {
            using var decompressor = open(input);
            while (true)
            {
                var span = output.GetSpan(Math.Min(64 * 1024, Math.Max(1, maxLength - output.WrittenCount + 1)));
                var n = decompressor.Read(span);
                if (n == 0)
                {
                    break;
                }

                output.Advance(n);
                if (output.WrittenCount > maxLength)
                {
                    throw new AvroLimitExceededException($"{codec} block inflates beyond the limit of {maxLength} bytes", offset, maxLength);
                }
            }
        }
        finally
        {
            input.Dispose();
        }
    }

    private static void CompressStream(ReadOnlySpan<byte> data, PooledBufferWriter destination, Func<Stream, Stream> open)
    {
        using var sink = new BufferWriterStream(destination);
        using (var compressor = open(sink))
        {
            compressor.Write(data);
        }
    }

    public static void CheckNotReserved(IReadOnlyDictionary<string, byte[]>? metadata)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (var key in metadata.Keys)
        {
            if (key is "avro.schema" or "avro.codec")
            {
                throw new ArgumentException($"metadata key '{key}' is written by the container writer itself", nameof(metadata));
            }
        }
    }

    public static ArrayPool<byte> Pool => ArrayPool<byte>.Shared;
}
