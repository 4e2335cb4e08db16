using System.Globalization;
using System.Numerics;

namespace AlertBroker.Avro;

/// <summary>A value of the <c>decimal</c> logical type: <see cref="Unscaled"/> × 10^-<see cref="Scale"/>.</summary>
public readonly record struct AvroDecimal(BigInteger Unscaled, int Scale, int Precision)
{
    /// <summary>Converts to <see cref="decimal"/>; throws <see cref="OverflowException"/> when it does not fit.</summary>
    public decimal ToDecimal()
    {
        var magnitude = BigInteger.Abs(Unscaled);
        if (Scale is >= 0 and <= 28 && magnitude <= s_maxDecimalMantissa)
        {
            // Exact: the 96-bit mantissa and the scale go straight into the decimal.
            Span<byte> bytes = stackalloc byte[16];
            bytes.Clear();
            magnitude.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false);
            var lo = BitConverter.ToInt32(bytes);
            var mid = BitConverter.ToInt32(bytes[4..]);
            var hi = BitConverter.ToInt32(bytes[8..]);
            return new decimal(lo, mid, hi, Unscaled.Sign < 0, (byte)Scale);
        }

        return decimal.Parse(ToString(), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var digits = BigInteger.Abs(Unscaled).ToString(CultureInfo.InvariantCulture);
        var sign = Unscaled.Sign < 0 ? "-" : string.Empty;
        if (Scale <= 0)
        {
            return sign + digits + new string('0', -Scale);
        }

        if (digits.Length <= Scale)
        {
            digits = new string('0', Scale - digits.Length + 1) + digits;
        }

        return sign + digits[..^Scale] + "." + digits[^Scale..];
    }

    private static readonly BigInteger s_maxDecimalMantissa = new(decimal.MaxValue);
}
