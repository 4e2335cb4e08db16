namespace AlertBroker.Simulation;

/// <summary>
/// A small, fast, seedable generator (xoshiro256**) with the distributions the simulator needs. Every
/// object gets its own stream derived from (seed, stream id), so results do not depend on thread count
/// or on the order in which objects are generated.
/// </summary>
public sealed class SimRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private double _spareNormal;
    private bool _hasSpare;

    /// <summary>Creates the stream <paramref name="stream"/> of the run seeded with <paramref name="seed"/>.</summary>
    public SimRandom(long seed, long stream = 0)
    {
        var x = unchecked(((ulong)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)stream * 0xD1B54A32D192ED03UL) ^ 0x2545F4914F6CDD1DUL);
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>A hash of (seed, a, b) in [0, 1): the same for every object, e.g. the weather of a night.</summary>
    public static double Hash01(long seed, long a, long b = 0)
    {
        var x = unchecked(((ulong)seed * 0x9E3779B97F4A7C15UL) + ((ulong)a * 0xBF58476D1CE4E5B9UL) + ((ulong)b * 0x94D049BB133111EBUL));
        return (SplitMix(ref x) >> 11) * (1.0 / (1UL << 53));
    }

    public ulong NextULong()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((NextULong() >> 33) * (ulong)n >> 31);

    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>Standard normal (Marsaglia polar method, both variates used).</summary>
    public double Normal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareNormal;
        }

        double u, v, s;
        do
        {
            u = (2.0 * NextDouble()) - 1.0;
            v = (2.0 * NextDouble()) - 1.0;
            s = (u * u) + (v * v);
        }
        while (s >= 1.0 || s == 0.0);

        var m = Math.Sqrt(-2.0 * Math.Log(s) / s);
        _spareNormal = v * m;
        _hasSpare = true;
        return u * m;
    }

    public double Normal(double mean, double sigma) => mean + (sigma * Normal());

    /// <summary>Normal truncated to [min, max] by redrawing (the bounds are a few sigma out in practice).</summary>
    public double TruncatedNormal(double mean, double sigma, double min, double max)
    {
        for (var i = 0; i < 64; i++)
        {
            var x = Normal(mean, sigma);
            if (x >= min && x <= max)
            {
                return x;
            }
        }

        return Math.Clamp(mean, min, max);
    }

    public double Exponential(double mean) => -mean * Math.Log(1.0 - NextDouble());

    /// <summary>Poisson variate (multiplication method for small means, normal approximation above 50).</summary>
    public int Poisson(double mean)
    {
        if (mean <= 0)
        {
            return 0;
        }

        if (mean > 50)
        {
            return Math.Max(0, (int)Math.Round(Normal(mean, Math.Sqrt(mean))));
        }

        var limit = Math.Exp(-mean);
        var k = 0;
        var p = NextDouble();
        while (p > limit)
        {
            k++;
            p *= NextDouble();
        }

        return k;
    }

    public void NextBytes(Span<byte> destination)
    {
        var i = 0;
        for (; i + 8 <= destination.Length; i += 8)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], NextULong());
        }

        if (i < destination.Length)
        {
            var last = NextULong();
            for (; i < destination.Length; i++)
            {
                destination[i] = (byte)last;
                last >>= 8;
            }
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        x = unchecked(x + 0x9E3779B97F4A7C15UL);
        var z = x;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
