using System.Buffers;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace AlertBroker.Avro;

/// <summary>Constants and codec helpers shared by the container readers and writer.</summary>
internal static class ContainerFormat
{
    public const string NullCodec = "null";
    public const string DeflateCodec = "deflate";
    public const int SyncLength = 16;

    public static ReadOnlySpan<byte> Magic => "Obj\u0001"u8;

    public static ReadOnlySpan<byte> SchemaKey => "avro.schema"u8;

    public static ReadOnlySpan<byte> CodecKey => "avro.codec"u8;

    /// <summary>Maps codec name bytes to the interned codec string, without allocating for the known ones.</summary>
    public static string ResolveCodec(ReadOnlySpan<byte> name, long offset)
    {
        if (name.SequenceEqual("null"u8))
        {
            return NullCodec;
        }

        if (name.SequenceEqual("deflate"u8))
        {
            return DeflateCodec;
        }

        var text = System.Text.Encoding.UTF8.GetString(name[..Math.Min(name.Length, 64)]);
        throw new AvroFormatException($"unsupported codec '{text}' (this reader supports 'null' and 'deflate')", offset);
    }

    public static string ValidateCodecName(string codec) => codec switch
    {
        NullCodec => NullCodec,
        DeflateCodec => DeflateCodec,
        _ => throw new AvroException($"unsupported codec '{codec}' (this writer supports 'null' and 'deflate')"),
    };

    /// <summary>Inflates a raw RFC 1951 block into a new array, refusing output beyond <paramref name="maxLength"/>.</summary>
    public static byte[] Inflate(ReadOnlyMemory<byte> compressed, int maxLength, long offset)
    {
        using var output = new PooledBufferWriter(Math.Max(compressed.Length * 4, 1024));
        InflateInto(compressed, output, maxLength, offset);
        return output.WrittenSpan.ToArray();
    }

    public static void InflateInto(ReadOnlyMemory<byte> compressed, PooledBufferWriter output, int maxLength, long offset)
    {
        output.Clear();
        Stream input = MemoryMarshal.TryGetArray(compressed, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(compressed.ToArray(), writable: false);
        try
        {
            using var inflater = new DeflateStream(input, CompressionMode.Decompress);
            while (true)
            {
                var span = output.GetSpan(Math.Min(64 * 1024, Math.Max(1, maxLength - output.WrittenCount + 1)));
                var n = inflater.Read(span);
                if (n == 0)
                {
                    break;
                }

                output.Advance(n);
                if (output.WrittenCount > maxLength)
                {
                    throw new AvroFormatException($"deflate block inflates beyond the limit of {maxLength} bytes", offset);
                }
            }
        }
        catch (InvalidDataException ex)
        {
            throw new AvroFormatException("corrupt deflate block: " + ex.Message, offset, ex);
        }
        finally
        {
            input.Dispose();
        }
    }

    public static void Deflate(ReadOnlySpan<byte> data, Stream destination)
    {
        using var deflater = new DeflateStream(destination, CompressionLevel.Optimal, leaveOpen: true);
        deflater.Write(data);
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
