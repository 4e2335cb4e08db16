using AlertBroker.Alerts;
using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation;

/// <summary>
/// Draws labelled light curves: a class, a redshift from the class's volumetric rate in flat ΛCDM, the
/// object's parameters, a survey schedule (season, weather, cadence, depth) and noisy photometry.
/// Object <c>i</c> of a run depends only on (seed, i), so runs are reproducible and can be generated in
/// parallel in any order. Thread-safe.
/// </summary>
public sealed class LightCurveSimulator
{
    private const int MaxAttempts = 10_000;
    private const double MoonSynodicDays = 29.530589;
    private const double NewMoonMjd = 51549.76;

    private readonly SimulationOptions _options;
    private readonly SurveyModel _survey;
    private readonly ClassSampler[] _samplers;
    private readonly double[] _cumulativeFractions;
    private readonly double _acceptMag;
    private readonly double _startMjd;

    public LightCurveSimulator(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Classes.Count == 0)
        {
            throw new ArgumentException("no classes to simulate", nameof(options));
        }

        if (RealismProblem(options.Realism) is { } realism)
        {
            throw new ArgumentException(realism, nameof(options));
        }

        _options = options;
        _survey = options.Survey;
        _startMjd = options.StartMjd ?? _survey.DefaultStartMjd;

        // Objects whose noise-free peak is fainter than this can never pass: they are redrawn before any photometry is made.
        _acceptMag = options.Selection is { } s ? s.LimitMag + 0.4 : _survey.DeepestMedianLimit + 0.4;
        _samplers = new ClassSampler[options.Classes.Count];
        for (var i = 0; i < _samplers.Length; i++)
        {
            _samplers[i] = new ClassSampler(options.Classes[i], options.Cosmology, _acceptMag);
        }

        var weights = new double[_samplers.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = options.ClassMix switch
            {
                ClassMixKind.Equal => 1.0,
                ClassMixKind.Natural => _samplers[i].ObservableRate,
                _ => options.ClassFractions is { } f && f.Count == weights.Length
                    ? f[i]
                    : throw new ArgumentException("explicit class fractions need one weight per class", nameof(options)),
            };
        }

        _cumulativeFractions = Cumulative(weights);
    }

    public SimulationOptions Options => _options;

    /// <summary>Fraction of each class (in <see cref="SimulationOptions.Classes"/> order) that this run draws.</summary>
    public IReadOnlyList<double> ClassFractions
    {
        get
        {
            var result = new double[_cumulativeFractions.Length];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = _cumulativeFractions[i] - (i == 0 ? 0 : _cumulativeFractions[i - 1]);
            }

            return result;
        }
    }

    /// <summary>Simulates objects <paramref name="firstIndex"/> … <paramref name="firstIndex"/> + <paramref name="count"/> − 1, in order, generated in parallel in batches (memory stays bounded).</summary>
    public IEnumerable<SimulatedLightCurve> Simulate(long count, long firstIndex = 0, CancellationToken cancellationToken = default)
    {
        const int batchSize = 2048;
        var batch = new SimulatedLightCurve[batchSize];
        for (var start = 0L; start < count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = (int)Math.Min(batchSize, count - start);
            var offset = firstIndex + start;
            RunParallel(n, i => batch[i] = SimulateOne(offset + i));
            for (var i = 0; i < n; i++)
            {
                // Per curve, not only per batch: a consumer that writes each curve stops within one curve of a stop request.
                cancellationToken.ThrowIfCancellationRequested();
                yield return batch[i];
                batch[i] = null!;
            }
        }
    }

    /// <summary>Object <paramref name="index"/> of the run, peaking at a random time within the survey duration.</summary>
    public SimulatedLightCurve SimulateOne(long index)
    {
        var rng = new SimRandom(_options.Seed, index);
        var classIndex = PickClass(rng);
        return SimulateCore(index, rng, classIndex, peakMjd: null);
    }

    /// <summary>
    /// The latest (and, negated, the earliest) peak a light curve is simulated at, MJD: about the year 29,000, far beyond
    /// any survey and far inside the range where a double still counts nights one by one (2^53).
    /// </summary>
    public const double MaxPeakMjd = 10_000_000;

    /// <summary>Object <paramref name="index"/> of the run with its reference-band peak at <paramref name="peakMjd"/> (alert streams).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="peakMjd"/> is not finite or beyond ±<see cref="MaxPeakMjd"/>.</exception>
    public SimulatedLightCurve SimulateAt(long index, double peakMjd, TransientClassModel? model = null)
    {
        // A peak beyond MJD 2^53 (an alert stream at 1e-14 objects a night) made a schedule whose night never advanced: a
        // simulation that spun for ever.
        if (!(Math.Abs(peakMjd) <= MaxPeakMjd))
        {
            throw new ArgumentOutOfRangeException(nameof(peakMjd), peakMjd, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"a light curve's peak must be within MJD ±{MaxPeakMjd:0}"));
        }

        var rng = new SimRandom(_options.Seed, index);
        var classIndex = model is null ? PickClass(rng) : IndexOfClass(model);
        return SimulateCore(index, rng, classIndex, peakMjd);
    }

    /// <summary>
    /// Draws the parameters of one object of a class (no photometry). <paramref name="redshift"/> fixes the
    /// redshift instead of drawing it; used by tests and by callers that want a grid.
    /// </summary>
    public Transient DrawTransient(SimRandom rng, TransientClassModel model, double peakMjd, double? redshift = null)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(model);
        var sampler = _samplers[IndexOfClass(model)];
        return sampler.Draw(rng, peakMjd, redshift);
    }

    private SimulatedLightCurve SimulateCore(long index, SimRandom rng, int classIndex, double? peakMjd)
    {
        var sampler = _samplers[classIndex];
        var points = new List<SimulatedPoint>(128);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var peak = peakMjd ?? (_startMjd + rng.Uniform(0, _options.DurationDays));
            var transient = sampler.TryDraw(rng, peak, null, _acceptMag);
            if (transient is null || BrightestModelMag(transient) > _acceptMag)
            {
                continue;
            }

            var seasonPhase = rng.Uniform(0, 365.25);
            MakeSchedule(transient, rng, seasonPhase, points);
            if (_survey.FirstDetectionSigma > _survey.DetectionSigma)
            {
                RequireFirstDetectionSigma(points, _survey.FirstDetectionSigma);
            }

            var first = -1;
            var last = -1;
            var detections = 0;
            var brightest = double.PositiveInfinity;
            for (var i = 0; i < points.Count; i++)
            {
                if (!points[i].Detected)
                {
                    continue;
                }

                detections++;
                if (first < 0)
                {
                    first = i;
                }

                last = i;
                brightest = Math.Min(brightest, Photometry.MicroJyToMag(points[i].FluxMicroJy));
            }

            if (detections < Math.Max(1, _options.MinDetections))
            {
                continue;
            }

            if (_options.Selection is { } selection && !rng.Bernoulli(selection.Completeness(brightest)))
            {
                continue;
            }

            var trimmed = Trim(points, points[first].Mjd - _options.PaddingDays, points[last].Mjd + _options.PaddingDays);
            var (photoZ, photoZErr) = DrawPhotoZ(rng, transient.Redshift);
            var (dmin, dmax) = _survey.DeclinationRangeDeg;
            var sinDec = rng.Uniform(Math.Sin(dmin * Math.PI / 180), Math.Sin(dmax * Math.PI / 180));
            return new SimulatedLightCurve
            {
                ObjectId = (_options.ObjectIdPrefix ?? (_survey.Name + "_sim_")) + index.ToString("D7", System.Globalization.CultureInfo.InvariantCulture),
                Index = index,
                Transient = transient,
                HostPhotoZ = photoZ,
                HostPhotoZErr = photoZErr,
                Ra = rng.Uniform(0, 360),
                Dec = Math.Asin(sinDec) * 180 / Math.PI,
                ObservedPeakMag = brightest,
                DetectionCount = detections,
                Points = trimmed,
            };
        }

        throw new SimulationSelectionException($"object {index}: no {sampler.Model.Name} passed the selection in {MaxAttempts} attempts; the selection (or the dropped epochs) is too strict for this survey");
    }

    private double BrightestModelMag(Transient transient)
    {
        var brightest = double.PositiveInfinity;
        foreach (var band in _survey.Bands)
        {
            brightest = Math.Min(brightest, transient.ObservedMagnitude(band.Band, transient.PeakMjd));
        }

        return brightest;
    }

    /// <summary>
    /// Whether the weather leaves the night of <paramref name="night"/> (MJD) open: weather and conditions are shared by
    /// every object on the same night (hashed from the seed), as on the sky.
    /// </summary>
    public bool IsClear(double night)
    {
        night = Math.Floor(night);
        return SimRandom.Hash01(_options.Seed, (long)night, 0) < _survey.ClearNightFraction
            && !(_survey.LostSpells.Probability > 0 && SimRandom.Hash01(_options.Seed, (long)Math.Floor(night / _survey.LostSpells.LengthNights), 3) < _survey.LostSpells.Probability);
    }

    private void MakeSchedule(Transient transient, SimRandom rng, double seasonPhase, List<SimulatedPoint> points)
    {
        points.Clear();
        var dilation = 1 + transient.Redshift;
        var start = transient.PeakMjd - (transient.RestDaysBeforePeak * dilation) - _options.PaddingDays;
        var fade = _survey.DeepestMedianLimit + 1.0 - (transient.PeakAbsMag + transient.DistanceModulus);
        var end = transient.PeakMjd + (Math.Min(600, transient.RestDaysToFade(Math.Max(1.0, fade))) * dilation) + _options.PaddingDays;
        var realism = _options.Realism;
        var seed = _options.Seed;
        var (pairMin, pairMax) = _survey.PairSeparationDays;
        // Nights counted from the first: a double stepped by one stops advancing beyond 2^53, and the loop then never
        // ended. Such dates are refused by SimulateAt; this guards anything else that gets here (and a span of ten million
        // nights, some 27,000 years, far beyond any light curve the class ranges allow).
        var firstNight = Math.Floor(start);
        if (!(firstNight + 1 > firstNight) || !(end - firstNight < 10_000_000))
        {
            throw new ArgumentOutOfRangeException(nameof(transient), string.Create(System.Globalization.CultureInfo.InvariantCulture, $"nights from MJD {start} to {end} cannot be counted"));
        }

        for (var k = 0L; firstNight + k <= end; k++)
        {
            var night = firstNight + k;
            var sincePhase = (night - seasonPhase) % 365.25;
            if (sincePhase < 0)
            {
                sincePhase += 365.25;
            }

            if (sincePhase >= _survey.SeasonLengthDays)
            {
                continue;
            }

            var nightId = (long)night;

            if (!IsClear(night))
            {
                continue;
            }

            var conditionLoss = SimRandom.Hash01(seed, nightId, 1) < _survey.BadConditions.Probability
                ? -_survey.BadConditions.MeanLossMag * Math.Log(1 - SimRandom.Hash01(seed, nightId, 2))
                : 0.0;
            if (_survey.FieldNightProbability < 1 && !rng.Bernoulli(_survey.FieldNightProbability))
            {
                continue;
            }

            var moonPhase = (night - NewMoonMjd) / MoonSynodicDays;
            var illumination = 0.5 * (1 - Math.Cos(2 * Math.PI * (moonPhase - Math.Floor(moonPhase))));
            foreach (var band in _survey.Bands)
            {
                if (!rng.Bernoulli(band.VisitProbability))
                {
                    continue;
                }

                var t = night + _survey.NightStartFraction + rng.Uniform(0, _survey.NightLengthDays - pairMax);
                var exposures = rng.Bernoulli(band.PairProbability) ? 2 : 1;
                for (var e = 0; e < exposures; e++)
                {
                    var mjd = e == 0 ? t : t + rng.Uniform(pairMin, pairMax);
                    if (mjd < start || mjd > end || (realism.MissingEpochFraction > 0 && rng.Bernoulli(realism.MissingEpochFraction)))
                    {
                        continue;
                    }

                    var median = band.MedianLimitingMag + _survey.LimitingMagOffset;
                    var limit = Math.Clamp(
                        median + (band.LimitingMagSigma * rng.Normal()) - conditionLoss - (band.MoonBrightening * (illumination - 0.5)),
                        median - 3.0,
                        median + 1.0);
                    points.Add(Measure(transient, band.Band, mjd, limit, rng));
                }
            }
        }

        // Bands are visited in a random order within a night, so sort; lists are short.
        points.Sort(static (a, b) => a.Mjd.CompareTo(b.Mjd));
    }

    /// <summary>Points before the first one measured at S/N ≥ <paramref name="sigma"/> stop being detections.</summary>
    private static void RequireFirstDetectionSigma(List<SimulatedPoint> points, double sigma)
    {
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            if (p.Detected && p.FluxMicroJy >= sigma * p.FluxErrMicroJy)
            {
                return;
            }

            if (p.Detected)
            {
                points[i] = p with { Detected = false };
            }
        }
    }

    private SimulatedPoint Measure(Transient transient, Passband band, double mjd, double limitMag, SimRandom rng)
    {
        var realism = _options.Realism;
        var trueFlux = transient.ObservedFluxMicroJy(band, mjd);
        var skySigma = Photometry.MagToMicroJy(limitMag) / _survey.DetectionSigma;
        var scattered = realism.ExtraScatterMag > 0 ? trueFlux * Math.Pow(10, -0.4 * realism.ExtraScatterMag * rng.Normal()) : trueFlux;
        var variance = (skySigma * skySigma * (1 + (Math.Max(0, scattered) / (_survey.SourceNoiseScale * skySigma))))
            + (_survey.CalibrationFloor * scattered * _survey.CalibrationFloor * scattered);
        var sigma = Math.Sqrt(variance);
        var measured = scattered + (sigma * rng.Normal());
        if (realism.OutlierFraction > 0 && rng.Bernoulli(realism.OutlierFraction))
        {
            measured += realism.OutlierSigma * sigma * rng.Normal();
        }

        var reported = sigma / realism.ErrorUnderestimate;
        var detected = measured >= _survey.DetectionSigma * reported;
        if (detected && _survey.DetectionEfficiencyMag > 0)
        {
            // Drawn only when the efficiency is on, so that without it every simulation is as before.
            var above = 2.5 * Math.Log10(measured / (_survey.DetectionSigma * reported));
            detected = rng.Bernoulli(1 - Math.Exp(-above / _survey.DetectionEfficiencyMag));
        }

        return new SimulatedPoint(
            mjd,
            band,
            (float)measured,
            (float)reported,
            (float)trueFlux,
            (float)limitMag,
            detected);
    }

    private (double PhotoZ, double Error) DrawPhotoZ(SimRandom rng, double z)
    {
        var (sigma, outliers) = _survey.HostPhotoZ;
        var photoZ = rng.Bernoulli(outliers) ? rng.Uniform(0.01, Math.Max(0.3, 3 * z)) : z + (sigma * (1 + z) * rng.Normal());
        photoZ = Math.Max(0.001, photoZ);
        return (photoZ, sigma * (1 + photoZ));
    }

    private static SimulatedPoint[] Trim(List<SimulatedPoint> points, double from, double to)
    {
        var first = 0;
        while (first < points.Count && points[first].Mjd < from)
        {
            first++;
        }

        var last = points.Count - 1;
        while (last >= first && points[last].Mjd > to)
        {
            last--;
        }

        var result = new SimulatedPoint[last - first + 1];
        points.CopyTo(first, result, 0, result.Length);
        return result;
    }

    private int PickClass(SimRandom rng)
    {
        var u = rng.NextDouble();
        for (var i = 0; i < _cumulativeFractions.Length - 1; i++)
        {
            if (u < _cumulativeFractions[i])
            {
                return i;
            }
        }

        return _cumulativeFractions.Length - 1;
    }

    private int IndexOfClass(TransientClassModel model)
    {
        for (var i = 0; i < _samplers.Length; i++)
        {
            if (ReferenceEquals(_samplers[i].Model, model) || _samplers[i].Model.Name == model.Name)
            {
                return i;
            }
        }

        throw new ArgumentException($"class {model.Name} is not part of this simulation", nameof(model));
    }

    /// <summary>
    /// Why <paramref name="realism"/> cannot be simulated (null: it can): every knob finite; scatter 0–5 mag; outlier
    /// fraction 0–1; missing-epoch fraction 0 up to but not 1 (every epoch dropped leaves nothing to detect).
    /// </summary>
    public static string? RealismProblem(RealismOptions realism)
    {
        ArgumentNullException.ThrowIfNull(realism);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return realism switch
        {
            { ExtraScatterMag: not (>= 0 and <= 5) } => string.Create(inv, $"the extra scatter must be in [0, 5] mag, not {realism.ExtraScatterMag}"),
            { OutlierFraction: not (>= 0 and <= 1) } => string.Create(inv, $"the outlier fraction must be in [0, 1], not {realism.OutlierFraction}"),
            { OutlierSigma: not (>= 0 and <= 1000) } => string.Create(inv, $"the outlier size must be in [0, 1000] σ, not {realism.OutlierSigma}"),
            { MissingEpochFraction: not (>= 0 and < 1) } => string.Create(inv, $"the missing-epoch fraction must be in [0, 1), not {realism.MissingEpochFraction}"),
            { ErrorUnderestimate: not (> 0 and <= 1000) } => string.Create(inv, $"the error underestimate must be in (0, 1000], not {realism.ErrorUnderestimate}"),
            _ => null,
        };
    }

    // What the body throws for the lowest index that fails, whichever worker got there first: Break(i) lets every lower
    // index run and stops the higher ones, so a failing run says the same thing every time (it named whichever object a
    // worker failed on first, another class from run to run).
    internal static void RunParallel(int count, Action<int> body)
    {
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<int, Exception>();
        Parallel.For(0, count, (i, state) =>
        {
            try
            {
                body(i);
            }
            catch (Exception e)
            {
                failures[i] = e;
                state.Break();
            }
        });
        if (!failures.IsEmpty)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failures[failures.Keys.Min()]).Throw();
        }
    }

    // Weights are divided by the largest before they are summed: two weights of 1e308 summed to infinity, every
    // cumulative fraction became 0 and every object the last class.
    private static double[] Cumulative(double[] weights)
    {
        var largest = 0.0;
        foreach (var w in weights)
        {
            if (!(w >= 0) || double.IsInfinity(w))
            {
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"class fractions must be finite and non-negative, not {w}"), nameof(weights));
            }

            largest = Math.Max(largest, w);
        }

        if (!(largest > 0))
        {
            throw new ArgumentException("class fractions sum to zero", nameof(weights));
        }

        var total = 0.0;
        foreach (var w in weights)
        {
            total += w / largest;
        }

        var result = new double[weights.Length];
        var sum = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            sum += weights[i] / largest;
            result[i] = sum / total;
        }

        return result;
    }
}

/// <summary>No object of a class passed the selection (or kept enough detections) in the attempts allowed: the options ask for what the survey cannot deliver.</summary>
public sealed class SimulationSelectionException : InvalidOperationException
{
    public SimulationSelectionException()
    {
    }

    public SimulationSelectionException(string message)
        : base(message)
    {
    }

    public SimulationSelectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
