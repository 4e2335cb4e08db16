using System.Numerics;

namespace AlertBroker.Avro;

/// <summary>Conversions between the encoded representation of logical types and their CLR surface.</summary>
internal static class LogicalValues
{
    private const long TicksPerMillisecond = TimeSpan.TicksPerMillisecond;
    private const long MillisPerDay = 86_400_000L;
    private const long MicrosPerDay = 86_400_000_000L;
    private static readonly long s_epochTicks = DateTime.UnixEpoch.Ticks;
    private static readonly int s_epochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
    private static readonly long s_minMillis = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / TicksPerMillisecond;
    private static readonly long s_maxMillis = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / TicksPerMillisecond;

    /// <summary>True for logical kinds that change the CLR type a reader returns.</summary>
    public static bool IsSurfaced(LogicalKind kind) => kind is LogicalKind.Decimal or LogicalKind.Uuid or LogicalKind.Date
        or LogicalKind.TimeMillis or LogicalKind.TimeMicros or LogicalKind.TimestampMillis or LogicalKind.TimestampMicros
        or LogicalKind.LocalTimestampMillis or LogicalKind.LocalTimestampMicros;

    /// <summary>Converts an encoded int/long; returns an error message instead of throwing so callers attach offsets.</summary>
    public static object? FromLong(LogicalKind kind, long v, out string? error)
    {
        error = null;
        switch (kind)
        {
            case LogicalKind.Date:
                {
                    var day = s_epochDayNumber + v;
                    if (day < DateOnly.MinValue.DayNumber || day > DateOnly.MaxValue.DayNumber)
                    {
                        error = $"date {v} days from the epoch is out of range";
                        return null;
                    }

                    return DateOnly.FromDayNumber((int)day);
                }

            case LogicalKind.TimeMillis:
                if ((ulong)v >= MillisPerDay)
                {
                    error = $"time-millis {v} is not within a day";
                    return null;
                }

                return new TimeOnly(v * TicksPerMillisecond);
            case LogicalKind.TimeMicros:
                if ((ulong)v >= MicrosPerDay)
                {
                    error = $"time-micros {v} is not within a day";
                    return null;
                }

                return new TimeOnly(v * 10);
            case LogicalKind.TimestampMillis:
            case LogicalKind.LocalTimestampMillis:
                {
                    if (v < s_minMillis || v > s_maxMillis)
                    {
                        error = $"timestamp {v} ms is out of range";
                        return null;
                    }

                    var ticks = s_epochTicks + (v * TicksPerMillisecond);
                    return kind == LogicalKind.TimestampMillis
                        ? (object)new DateTimeOffset(ticks, TimeSpan.Zero)
                        : (object)new DateTime(ticks, DateTimeKind.Unspecified);
                }

            case LogicalKind.TimestampMicros:
            case LogicalKind.LocalTimestampMicros:
                {
                    if (v < s_minMillis * 1000 || v > (s_maxMillis * 1000) + 999)
                    {
                        error = $"timestamp {v} µs is out of range";
                        return null;
                    }

                    var ticks = s_epochTicks + (v * 10);
                    return kind == LogicalKind.TimestampMicros
                        ? (object)new DateTimeOffset(ticks, TimeSpan.Zero)
                        : (object)new DateTime(ticks, DateTimeKind.Unspecified);
                }

            default:
                return null;
        }
    }

    public static AvroDecimal DecimalFromBytes(ReadOnlySpan<byte> twosComplementBigEndian, int precision, int scale) =>
        new(twosComplementBigEndian.IsEmpty ? BigInteger.Zero : new BigInteger(twosComplementBigEndian, isUnsigned: false, isBigEndian: true), scale, precision);

    public static Guid? UuidFromString(string text) => Guid.TryParse(text, out var g) ? g : null;

    public static Guid UuidFromFixed(ReadOnlySpan<byte> bytes) => new(bytes, bigEndian: true);

    // The reverse direction, for writers.
    public static long ToEncoded(LogicalKind kind, object value) => (kind, value) switch
    {
        (LogicalKind.Date, DateOnly d) => d.DayNumber - s_epochDayNumber,
        (LogicalKind.TimeMillis, TimeOnly t) => t.Ticks / TicksPerMillisecond,
        (LogicalKind.TimeMicros, TimeOnly t) => t.Ticks / 10,
        (LogicalKind.TimestampMillis, DateTimeOffset o) => FloorDiv(o.UtcTicks - s_epochTicks, TicksPerMillisecond),
        (LogicalKind.TimestampMicros, DateTimeOffset o) => FloorDiv(o.UtcTicks - s_epochTicks, 10),
        (LogicalKind.TimestampMillis, DateTime dt) => FloorDiv(ToUtcTicks(dt) - s_epochTicks, TicksPerMillisecond),
        (LogicalKind.TimestampMicros, DateTime dt) => FloorDiv(ToUtcTicks(dt) - s_epochTicks, 10),
        (LogicalKind.LocalTimestampMillis, DateTime dt) => FloorDiv(dt.Ticks - s_epochTicks, TicksPerMillisecond),
        (LogicalKind.LocalTimestampMicros, DateTime dt) => FloorDiv(dt.Ticks - s_epochTicks, 10),
        _ => throw new AvroException($"cannot encode a {value.GetType().Name} as {kind}"),
    };

    public static byte[] DecimalToBytes(AvroDecimal value, int scale)
    {
        var unscaled = value.Unscaled;
        if (value.Scale != scale)
        {
            unscaled = value.Scale < scale
                ? unscaled * BigInteger.Pow(10, scale - value.Scale)
                : throw new AvroException($"decimal with scale {value.Scale} does not fit scale {scale} without rounding");
        }

        return unscaled.ToByteArray(isUnsigned: false, isBigEndian: true);
    }

    public static AvroDecimal DecimalFromClr(decimal value, int precision, int scale)
    {
        var bits = decimal.GetBits(value);
        var clrScale = (bits[3] >> 16) & 0xFF;
        var mantissa = new BigInteger((uint)bits[0]) | (new BigInteger((uint)bits[1]) << 32) | (new BigInteger((uint)bits[2]) << 64);
        if (value < 0)
        {
            mantissa = -mantissa;
        }

        return new AvroDecimal(mantissa, clrScale, precision).Rescale(scale);
    }

    private static AvroDecimal Rescale(this AvroDecimal d, int scale)
    {
        if (d.Scale == scale)
        {
            return d;
        }

        if (d.Scale < scale)
        {
            return d with { Unscaled = d.Unscaled * BigInteger.Pow(10, scale - d.Scale), Scale = scale };
        }

        var divisor = BigInteger.Pow(10, d.Scale - scale);
        var q = BigInteger.DivRem(d.Unscaled, divisor, out var rem);
        if (!rem.IsZero)
        {
            throw new AvroException($"decimal {d} does not fit scale {scale} without rounding");
        }

        return d with { Unscaled = q, Scale = scale };
    }

    private static long ToUtcTicks(DateTime dt) => dt.Kind == DateTimeKind.Local ? dt.ToUniversalTime().Ticks : dt.Ticks;

    private static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }
}
