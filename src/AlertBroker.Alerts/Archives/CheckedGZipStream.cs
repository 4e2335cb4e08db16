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
/// bytes, which almost always read as a size above what was decompressed: that alone is refused. The compressed bytes'
/// last four are kept as they pass (nothing seeks), so a named pipe is read and checked as a file is.
/// </remarks>
public sealed class CheckedGZipStream : ReadOnlyStream
{
    private readonly string _path;
    private readonly TailKeeper _compressed;
    private readonly GZipStream _gzip;
    private long _decompressed;

    public CheckedGZipStream(string path)
        : this(path, File.OpenRead(path))
    {
    }

    /// <summary>The gzip data of <paramref name="file"/> (opened from <paramref name="path"/>, which errors name), which this stream then owns.</summary>
    public CheckedGZipStream(string path, Stream file)
    {
        _path = path;
        _compressed = new TailKeeper(file);
        _gzip = new GZipStream(_compressed, CompressionMode.Decompress);
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

        // Fewer bytes than a gzip header (10) and trailer (8), but some: cut inside them (the decompressor ended quietly
        // and the file read as "is empty").
        if (n == 0 && buffer.Length > 0 && _compressed.Ended && _compressed.Total is > 0 and < 18)
        {
            throw new InvalidDataException($"{_path} is cut short: {_compressed.Total} bytes, fewer than a gzip file's header and trailer (18); copy or download it again.");
        }

        // Header (10 bytes) + trailer (8 bytes) at the least; anything shorter is refused above. The check is
        // made once the compressed bytes have all been read (the decompressor reads on to the end, looking for a further
        // member), with the size their last four bytes record.
        if (n == 0 && buffer.Length > 0 && _compressed.Ended && _compressed.Total >= 18 && _decompressed < (1L << 32)
            && _compressed.LastFour is var size && size > _decompressed)
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

    // The compressed stream, passing its bytes through and keeping the last four of them.
    private sealed class TailKeeper(Stream inner) : ReadOnlyStream
    {
        private readonly byte[] _tail = new byte[4];

        public long Total { get; private set; }

        public bool Ended { get; private set; }

        public uint LastFour => BinaryPrimitives.ReadUInt32LittleEndian(_tail);

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            if (n == 0)
            {
                Ended |= buffer.Length > 0;
                return 0;
            }

            var read = buffer[..n];
            if (n >= _tail.Length)
            {
                read[^_tail.Length..].CopyTo(_tail);
            }
            else
            {
                _tail.AsSpan(n).CopyTo(_tail);
                read.CopyTo(_tail.AsSpan(_tail.Length - n));
            }

            Total += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
