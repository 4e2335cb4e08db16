using System.IO.Compression;
using System.Text;

namespace AlertBroker.Simulation.Output;

/// <summary>
/// Cutout stamps of realistic size: a FITS header and a square of 32-bit noise pixels, gzip-compressed for
/// ZTF (≈ 20 KB each, as real ZTF stamps) or raw for Rubin. Noise hardly compresses, so message sizes and
/// I/O match the real streams. A small pool is made once from the seed and reused; the pixels carry no
/// information about the light curve.
/// </summary>
internal sealed class CutoutFactory
{
    private const int PoolSize = 16;
    private const int FitsBlock = 2880;

    private readonly byte[][] _pool;

    public CutoutFactory(long seed, int sidePixels, bool gzip)
    {
        _pool = new byte[PoolSize][];
        var rng = new SimRandom(seed, -7);
        for (var i = 0; i < PoolSize; i++)
        {
            var fits = MakeFits(rng, sidePixels);
            _pool[i] = gzip ? Gzip(fits) : fits;
        }
    }

    /// <summary>ZTF: gzip-compressed FITS stamps of about 20 KB (real ones are 63 × 63 pixels with more structure, which compresses less than this noise).</summary>
    public static CutoutFactory Ztf(long seed) => new(seed, 76, gzip: true);

    /// <summary>Rubin: uncompressed FITS stamps of about 40 KB.</summary>
    public static CutoutFactory Lsst(long seed) => new(seed, 96, gzip: false);

    public ReadOnlyMemory<byte> Get(long key) => _pool[(int)((ulong)key % PoolSize)];

    private static byte[] MakeFits(SimRandom rng, int side)
    {
        var header = new StringBuilder();
        Card(header, "SIMPLE  =                    T");
        Card(header, "BITPIX  =                  -32");
        Card(header, "NAXIS   =                    2");
        Card(header, $"NAXIS1  = {side,20}");
        Card(header, $"NAXIS2  = {side,20}");
        Card(header, "COMMENT simulated by AlertBroker.Simulation: noise only");
        Card(header, "END");
        var headerBytes = Encoding.ASCII.GetBytes(header.ToString());
        var dataBytes = side * side * 4;
        var total = RoundUp(headerBytes.Length) + RoundUp(dataBytes);
        var fits = new byte[total];
        headerBytes.CopyTo(fits, 0);
        fits.AsSpan(headerBytes.Length, RoundUp(headerBytes.Length) - headerBytes.Length).Fill((byte)' ');
        var data = fits.AsSpan(RoundUp(headerBytes.Length), dataBytes);
        for (var i = 0; i < side * side; i++)
        {
            // Sky level plus Gaussian noise, big-endian as FITS requires.
            var value = (float)(100 + (10 * rng.Normal()));
            System.Buffers.Binary.BinaryPrimitives.WriteSingleBigEndian(data[(i * 4)..], value);
        }

        return fits;
    }

    private static void Card(StringBuilder header, string card) => header.Append(card.PadRight(80));

    private static int RoundUp(int n) => (n + FitsBlock - 1) / FitsBlock * FitsBlock;

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
