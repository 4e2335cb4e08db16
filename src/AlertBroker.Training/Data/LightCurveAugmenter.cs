using AlertBroker.Model.Features;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Data;

/// <summary>
/// Random changes to training light curves that keep them light curves a survey could have delivered (see
/// <see cref="LightCurveAugmenter"/>). All zero: no augmentation.
/// </summary>
public sealed record AugmentationOptions
{
    /// <summary>Probability that each point is dropped (at least one point always stays): missed visits, bad subtractions.</summary>
    public double DropProbability { get; init; }

    /// <summary>Flux noise in units of each point's own error: flux + s·σ·N(0, 1) (0 = none).</summary>
    public double NoiseScale { get; init; }

    /// <summary>
    /// Probability that a light curve starts later than it did: the points of its first δ days are removed,
    /// δ uniform in [0, <see cref="LateStartDays"/>], and times are counted from the new first detection.
    /// </summary>
    public double LateStartProbability { get; init; }

    /// <summary>The longest late start, in observer-frame days after the first detection.</summary>
    public double LateStartDays { get; init; } = 10;

    /// <summary>
    /// Brightness shift: every point of a light curve is made Δm magnitudes fainter (flux and error × 10^(−0.4·Δm), so
    /// each point's S/N and detection flag stay), Δm uniform in [−s, s], one draw per light curve (0 = none): the same
    /// object seen nearer or farther, against a training set whose survey selected it by brightness.
    /// </summary>
    public double MagnitudeShift { get; init; }

    /// <summary>Whether any change is switched on.</summary>
    public bool IsActive => DropProbability > 0 || NoiseScale > 0 || LateStartProbability > 0 || MagnitudeShift > 0;

    /// <summary>Throws for values outside their ranges.</summary>
    public void Validate()
    {
        if (!(DropProbability is >= 0 and < 1))
        {
            throw new ArgumentException($"The drop probability must be in [0, 1), not {DropProbability}.");
        }

        if (!(NoiseScale is >= 0 and <= 10))
        {
            throw new ArgumentException($"The noise scale must be in [0, 10], not {NoiseScale}.");
        }

        if (!(LateStartProbability is >= 0 and <= 1))
        {
            throw new ArgumentException($"The late-start probability must be in [0, 1], not {LateStartProbability}.");
        }

        if (!(LateStartDays is > 0 and <= 1000))
        {
            throw new ArgumentException($"The late-start span must be in (0, 1000] days, not {LateStartDays}.");
        }

        if (!(MagnitudeShift is >= 0 and <= 5))
        {
            throw new ArgumentException($"The magnitude shift must be in [0, 5] mag, not {MagnitudeShift}.");
        }
    }
}

/// <summary>
/// Augments encoded light curves (<see cref="LightCurveEncoding"/> steps) without going back to the observations:
/// a late start (the first δ days removed), dropped points, flux noise within each point's error, and a brightness shift
/// of the whole light curve. Times are then
/// counted from the first remaining detection and <c>dt_prev</c> recomputed, so an augmented light curve is encoded
/// exactly as the serving code would encode the same points (tested against <see cref="LightCurveEncoding.EncodeSteps"/>).
/// The detection flag is kept as it was. Deterministic for a seed.
/// </summary>
public sealed class LightCurveAugmenter
{
    private const int F = LightCurveEncoding.StepFeatureCount;
    private const int Time = 1;
    private const int DtPrev = 2;
    private const int Flux = 3;
    private const int FluxErr = 4;
    private const int Detected = 5;

    private readonly AugmentationOptions _options;
    private readonly SplitMix _random;

    public LightCurveAugmenter(AugmentationOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _random = new SplitMix(seed);
    }

    /// <summary>A new data set with every object augmented (ids, labels, metadata and object weights kept).</summary>
    public EncodedDataset Augment(EncodedDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.StepFeatures != LightCurveEncoding.StepFeatureCount)
        {
            throw new ArgumentException($"Augmentation re-encodes alertbroker-lc steps ({LightCurveEncoding.StepFeatureCount} features); this data has {data.StepFeatures} per step.", nameof(data));
        }

        var n = data.Count;
        var steps = new float[n][];
        var days = new float[n][];
        var lengths = new int[n];
        for (var i = 0; i < n; i++)
        {
            (steps[i], days[i]) = Augment(data.StepsInternal[i], data.DaysInternal[i], data.LengthsInternal[i]);
            lengths[i] = days[i].Length;
        }

        return new EncodedDataset(data.Classes, data.ObjectIdsInternal, steps, days, lengths, data.MetaInternal, data.LabelsInternal, data.MetaFeatures, data.StepFeatures, data.ObjectWeightsInternal);
    }

    /// <summary>One light curve: <paramref name="x"/> [length × 6] encoded steps, <paramref name="d"/> observer-frame days since the first detection.</summary>
    internal (float[] Steps, float[] Days) Augment(float[] x, float[] d, int length)
    {
        var keep = new bool[length];
        Array.Fill(keep, true);
        if (_options.LateStartProbability > 0 && _random.NextDouble() < _options.LateStartProbability)
        {
            var cut = _random.NextDouble() * _options.LateStartDays;
            for (var t = 0; t < length; t++)
            {
                keep[t] = d[t] >= cut;
            }
        }

        if (_options.DropProbability > 0)
        {
            for (var t = 0; t < length; t++)
            {
                if (keep[t] && _random.NextDouble() < _options.DropProbability)
                {
                    keep[t] = false;
                }
            }
        }

        var kept = 0;
        for (var t = 0; t < length; t++)
        {
            kept += keep[t] ? 1 : 0;
        }

        if (kept == 0)
        {
            // Everything fell away: keep the last point (a late start never removes the last one in reality either).
            keep[length - 1] = true;
            kept = 1;
        }

        // The new reference: the first kept detection, else the first kept point (as LightCurveEncoding.ReferenceTime).
        var reference = -1;
        for (var t = 0; t < length && reference < 0; t++)
        {
            if (keep[t] && x[(t * F) + Detected] > 0.5f)
            {
                reference = t;
            }
        }

        if (reference < 0)
        {
            reference = Array.IndexOf(keep, true);
        }

        // One brightness factor per light curve; drawn only when switched on, so the other changes' draws are as before.
        var scale = _options.MagnitudeShift > 0 ? Math.Pow(10, -0.4 * _options.MagnitudeShift * ((2 * _random.NextDouble()) - 1)) : 1.0;
        var timeOffset = x[(reference * F) + Time];
        var dayOffset = d[reference];
        var steps = new float[kept * F];
        var days = new float[kept];
        var j = 0;
        var previousTime = 0f;
        for (var t = 0; t < length; t++)
        {
            if (!keep[t])
            {
                continue;
            }

            var row = steps.AsSpan(j * F, F);
            x.AsSpan(t * F, F).CopyTo(row);
            row[Time] = x[(t * F) + Time] - timeOffset;
            row[DtPrev] = j == 0 ? 0f : (float)(Math.Log10(1.0 + (Math.Max(0.0, (double)row[Time] - previousTime) * LightCurveEncoding.TimeScaleDays)) / LightCurveEncoding.DtPrevDivisor);
            previousTime = row[Time];
            if (_options.NoiseScale > 0 || scale != 1.0)
            {
                var flux = scale * LightCurveEncoding.FluxSofteningMicroJy * Math.Sinh(row[Flux] * LightCurveEncoding.FluxDivisor);
                var error = scale * LightCurveEncoding.FluxSofteningMicroJy * Math.Sinh(row[FluxErr] * LightCurveEncoding.FluxDivisor);
                if (_options.NoiseScale > 0)
                {
                    flux += _options.NoiseScale * error * Gaussian();
                }

                row[Flux] = (float)(Math.Asinh(flux / LightCurveEncoding.FluxSofteningMicroJy) / LightCurveEncoding.FluxDivisor);
                if (scale != 1.0)
                {
                    row[FluxErr] = (float)(Math.Asinh(error / LightCurveEncoding.FluxSofteningMicroJy) / LightCurveEncoding.FluxDivisor);
                }
            }

            days[j] = d[t] - dayOffset;
            j++;
        }

        return (steps, days);
    }

    // Box–Muller from the seeded stream.
    private double Gaussian()
    {
        var u1 = Math.Max(_random.NextDouble(), 1e-300);
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
