namespace AlertBroker.Avro;

/// <summary>The CRC-64-AVRO (Rabin) fingerprint defined by the Avro specification.</summary>
public static class Crc64Avro
{
    /// <summary>The fingerprint of the empty input; also the polynomial the table is built from.</summary>
    public const ulong Empty = 0xc15d213aa4d7a795UL;

    private static readonly ulong[] s_table = BuildTable();

    /// <summary>Fingerprint of the given bytes (for schemas: the UTF-8 Parsing Canonical Form).</summary>
    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        var table = s_table;
        var fp = Empty;
        foreach (var b in data)
        {
            fp = (fp >> 8) ^ table[(int)((fp ^ b) & 0xff)];
        }

        return fp;
    }

    private static ulong[] BuildTable()
    {
        var table = new ulong[256];
        for (var i = 0; i < 256; i++)
        {
            var fp = (ulong)i;
            for (var j = 0; j < 8; j++)
            {
                fp = (fp >> 1) ^ (Empty & (0UL - (fp & 1)));
            }

            table[i] = fp;
        }

        return table;
    }
}
