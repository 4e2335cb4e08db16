using AlertBroker.Alerts;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation;

/// <summary>One alert of a simulated stream: detection <see cref="PointIndex"/> of <see cref="Curve"/>.</summary>
public readonly record struct SimulatedAlert(SimulatedLightCurve Curve, int PointIndex)
{
    public double Mjd => Curve.Points[PointIndex].Mjd;
}

/// <summary>Options of a simulated alert stream.</summary>
public sealed record AlertStreamOptions
{
    /// <summary>Survey, seed, classes, realism. Selection is ignored (a stream carries every detection); class mix defaults to natural.</summary>
    public SimulationOptions Simulation { get; init; } = new() { ClassMix = ClassMixKind.Natural, MinDetections = 1 };

    /// <summary>Number of nights of alerts.</summary>
    public int Nights { get; init; } = 1;

    /// <summary>First night, MJD (integer part); null for the survey's default.</summary>
    public double? StartMjd { get; init; }

    /// <summary>Detectable transients peaking per night; sets the alert rate.</summary>
    public double ObjectsPerNight { get; init; } = 20;

    /// <summary>How long before (and after) a night objects may peak and still be detected in it, days.</summary>
    public double LeadDays { get; init; } = 250;
}

/// <summary>
/// Generates a time-ordered alert stream night by night. Objects are created in order of peak time as
/// the stream advances and dropped once their last epoch has passed, so memory is bounded by the
/// number of objects alive at once, not by the number of nights. Same options, same stream.
/// </summary>
public sealed class AlertStreamSimulator
{
    private readonly AlertStreamOptions _options;
    private readonly LightCurveSimulator _simulator;
    private readonly double _start;

    public AlertStreamSimulator(AlertStreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // An infinite (or astronomically large) rate brought objects in for ever: the stream never reached its first night.
        // A tiny one (1e-14) placed the objects' peaks beyond MJD 2^53, where a night could no longer be stepped: the
        // stream hung for ever.
        if (options.Nights < 1 || !(options.ObjectsPerNight >= MinObjectsPerNight && options.ObjectsPerNight <= MaxObjectsPerNight))
        {
            throw new ArgumentOutOfRangeException(nameof(options), string.Create(System.Globalization.CultureInfo.InvariantCulture, $"need at least one night and an object rate from {MinObjectsPerNight} to {MaxObjectsPerNight:0} per night, not {options.ObjectsPerNight}"));
        }

        var survey = options.Simulation.Survey;
        var (first, last) = StartMjdRange(survey, options.Nights);
        var start = options.StartMjd ?? survey.DefaultStartMjd;
        if (last < first)
        {
            throw new ArgumentException(string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"{options.Nights} nights of {survey.Name} alerts do not fit in the window the decoder accepts (MJD {first:0} to {last + options.Nights:0}, after {survey.AlertHistoryDays:0} days of history)"),
                nameof(options));
        }

        if (!(start >= first && start <= last))
        {
            // NaN made 0 alerts and exit 0; an MJD far outside the window made alerts the broker refuses, or overflowed a
            // date ("Value to add was out of range").
            throw new ArgumentException(string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"the first night must be MJD {first:0} to {last:0} for {options.Nights} night(s) of {survey.Name} alerts (the {survey.Name} window the decoder accepts, after {survey.AlertHistoryDays:0} days of history), not {start}"),
                nameof(options));
        }

        _options = options;
        _simulator = new LightCurveSimulator(options.Simulation with { Selection = null });
        _start = Math.Floor(start);

        // Without a first night given, nights that the weather closes every one of (for this seed) start instead on the
        // first night after the survey's default that it leaves open: every default LSST run (seed 1, MJD 61000) was one
        // clouded night, no alert and exit 1. A default window with an open night stays where it was (its stream unchanged).
        if (options.StartMjd is null && !Enumerable.Range(0, options.Nights).Any(n => _simulator.IsClear(_start + n)))
        {
            for (var night = _start + options.Nights; night <= last && night <= survey.DefaultStartMjd + MaxDefaultStartShiftNights; night++)
            {
                if (_simulator.IsClear(night))
                {
                    _start = night;
                    break;
                }
            }
        }
    }

    /// <summary>How far past the survey's default the default first night moves to find a night the weather leaves open.</summary>
    public const int MaxDefaultStartShiftNights = 60;

    /// <summary>
    /// The first nights (MJD) a stream of <paramref name="nights"/> nights may start on: every alert, its history
    /// included, inside the time window the decoder accepts for the survey (<see cref="AlertValidation"/>).
    /// </summary>
    public static (double First, double Last) StartMjdRange(SurveyModel survey, int nights)
    {
        ArgumentNullException.ThrowIfNull(survey);
        var (min, max) = AlertValidation.Default.WindowOf(survey.Survey);
        return (Math.Ceiling(min + survey.AlertHistoryDays), Math.Floor(max - Math.Max(1, nights)));
    }

    /// <summary>The most transients peaking per night a stream is made with (about 100 times Rubin's).</summary>
    public const double MaxObjectsPerNight = 1_000_000;

    /// <summary>
    /// The fewest transients peaking per night a stream is made with: one every 1,000 nights, so that several still peak
    /// within the time window the decoder accepts (5,000 nights for ZTF, 6,000 for Rubin). Objects are placed 1/rate
    /// nights apart: at far lower rates their peaks lay beyond any date a light curve is simulated at
    /// (<see cref="LightCurveSimulator.MaxPeakMjd"/>).
    /// </summary>
    public const double MinObjectsPerNight = 0.001;

    public SurveyModel Survey => _options.Simulation.Survey;

    public double StartMjd => _start;

    /// <summary>How many of the stream's nights the weather leaves open (the rest are clouded out for every object).</summary>
    public int ClearNights
    {
        get
        {
            var clear = 0;
            for (var n = 0; n < _options.Nights; n++)
            {
                clear += _simulator.IsClear(_start + n) ? 1 : 0;
            }

            return clear;
        }
    }

    /// <summary>The alerts of each night, in time order (ties broken by object), one list per night.</summary>
    public IEnumerable<(double NightMjd, IReadOnlyList<SimulatedAlert> Alerts)> Nights(CancellationToken cancellationToken = default)
    {
        var active = new List<SimulatedLightCurve>();
        var rate = _options.ObjectsPerNight;
        var firstPeak = _start - _options.LeadDays;
        long next = 0;
        const int batch = 256;
        var pending = new SimulatedLightCurve[batch];
        for (var n = 0; n < _options.Nights; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var night = _start + n;

            // Bring in every object that peaks before the look-ahead horizon (generated in parallel, kept in order).
            while (firstPeak + (next / rate) <= night + 1 + _options.LeadDays)
            {
                // At a high rate the first night's look-back alone is minutes of simulation: a stop is seen between batches.
                cancellationToken.ThrowIfCancellationRequested();
                var first = next;
                LightCurveSimulator.RunParallel(batch, i =>
                {
                    var index = first + i;
                    var jitter = SimRandom.Hash01(_options.Simulation.Seed, index, 99);
                    pending[i] = _simulator.SimulateAt(index, firstPeak + ((index + jitter) / rate));
                });
                // Objects with no detection inside the stream's nights never raise an alert: do not keep them.
                foreach (var curve in pending)
                {
                    if (HasDetectionFrom(curve, _start, _start + _options.Nights))
                    {
                        active.Add(curve);
                    }
                }

                next += batch;
            }

            var alerts = new List<SimulatedAlert>();
            var kept = 0;
            for (var a = 0; a < active.Count; a++)
            {
                var curve = active[a];
                var points = curve.Points;
                if (points.Length == 0 || points[^1].Mjd < night)
                {
                    continue;
                }

                active[kept++] = curve;
                for (var i = 0; i < points.Length; i++)
                {
                    if (points[i].Detected && points[i].Mjd >= night && points[i].Mjd < night + 1)
                    {
                        alerts.Add(new SimulatedAlert(curve, i));
                    }
                }
            }

            active.RemoveRange(kept, active.Count - kept);
            alerts.Sort(static (x, y) =>
            {
                var c = x.Mjd.CompareTo(y.Mjd);
                return c != 0 ? c : x.Curve.Index.CompareTo(y.Curve.Index);
            });
            yield return (night, alerts);
        }
    }

    private static bool HasDetectionFrom(SimulatedLightCurve curve, double from, double to)
    {
        foreach (var p in curve.Points)
        {
            if (p.Detected && p.Mjd >= from && p.Mjd < to)
            {
                return true;
            }
        }

        return false;
    }
}
