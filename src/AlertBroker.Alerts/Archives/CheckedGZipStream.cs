using System.Buffers.Binary;
using System.IO.Compression;

namespace AlertBroker.Alerts.Archives;

/// <summary>
/// A gzip file decompressed and, at its end, checked against its trailer (the labelled light-curve readers of training and of `simulate compare`). .NET's <see cref="GZipStream"/> ends quietly
/// where a truncated file ends (a half-copied download, a <c>simulate lightcurves</c> stopped with Ctrl-C): read through
/// it, a cut <c>*_lightcurves.csv.gz</c> was a smaller labelled set that split, trained and evaluated without a word.
/// </summary>
/// <remarks>
/// The last four bytes of a gzip file are the size of its last member's data (mod 2³²). A whole single-member file
/// decompresses to exactly that; a file of several members (concatenated, bgzip) to more; a cut file ends in compressed
/// bytes, which almost always read as a size above what was decompressed: that alone is refused.
/// </remarks>
public sealed class CheckedGZipStream : ReadOnlyStream
{
    private readonly string _path;
    private readonly GZipStream _gzip;
    private readonly uint? _recordedSize;
    private long _decompressed;

    public CheckedGZipStream(string path)
    {
        _path = path;
        var file = File.OpenRead(path);
        if (file.Length >= 18)
        {
            // Header (10 bytes) + trailer (8 bytes) at the least; anything shorter is left to the decompressor.
            Span<byte> trailer = stackalloc byte[4];
            file.Seek(-4, SeekOrigin.End);
            file.ReadExactly(trailer);
            file.Seek(0, SeekOrigin.Begin);
            _recordedSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        }

        _gzip = new GZipStream(file, CompressionMode.Decompress);
    }

    public override long Position
    {
        get => _decompressed;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = _gzip.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            // .NET's message names no file ("The archive entry was compressed using an unsupported compression method.").
            throw new InvalidDataException($"{_path} is not readable gzip data ({_decompressed:N0} bytes decompressed before): {e.Message}", e);
        }

        _decompressed += n;
        if (n == 0 && buffer.Length > 0 && _recordedSize is { } size && _decompressed < (1L << 32) && size > _decompressed)
        {
            throw new InvalidDataException($"{_path} is cut short: it ends before the end of its gzip data ({_decompressed:N0} bytes decompressed, its last bytes say {size:N0}); copy or download it again.");
        }

        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gzip.Dispose();
        }

        base.Dispose(disposing);
    }
}
