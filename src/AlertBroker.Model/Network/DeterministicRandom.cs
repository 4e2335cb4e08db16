namespace AlertBroker.Model.Network;

// SplitMix64: a tiny generator whose sequence is fixed by this code alone, so a seed gives the same weights on every
// runtime and platform (System.Random's seeded sequence is an implementation detail).
internal sealed class DeterministicRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 bits, exactly representable as float.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    public float NextUniform(float low, float high) => low + ((high - low) * NextFloat());

    public void FillUniform(Span<float> target, float bound)
    {
        for (var i = 0; i < target.Length; i++)
        {
            target[i] = NextUniform(-bound, bound);
        }
    }
}
