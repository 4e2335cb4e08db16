using AlertBroker.Alerts;
using AlertBroker.Simulation.Output;

namespace AlertBroker.Simulation.Validation;

/// <summary>
/// Summary quantities of one light curve, computed the same way for real and simulated data from its
/// detections only (the survey's flag, or S/N ≥ 5 for flux tables without one; every row of a magnitude table).
/// NaN where a quantity cannot be measured.
/// </summary>
/// <param name="ClassName">Class label.</param>
/// <param name="PeakMag">Magnitude of the brightest detection.</param>
/// <param name="Detections">Number of detections.</param>
/// <param name="RiseDays">Days from the first detection to the brightest.</param>
/// <param name="DeclineDays">Days from the brightest detection until the same band is 1 mag fainter (interpolated).</param>
/// <param name="DurationDays">Days from the first to the last detection.</param>
/// <param name="GMinusR">g − r from the g and r detections nearest the peak, each within 3 days of it.</param>
/// <param name="Redshift">Redshift from the metadata.</param>
/// <param name="FirstMag">Magnitude of the first detection.</param>
/// <param name="EarlyGMinusR">g − r of the first g and r detections less than a day apart within 5 days of the first detection.</param>
/// <param name="EarlyRiseRate">Magnitudes per day between the first and last r detections within 5 days of the first detection (negative: brightening), when they are more than a day apart.</param>
public sealed record LightCurveFeatures(
    string ClassName,
    double PeakMag,
    int Detections,
    double RiseDays,
    double DeclineDays,
    double DurationDays,
    double GMinusR,
    double Redshift,
    double FirstMag = double.NaN,
    double EarlyGMinusR = double.NaN,
    double EarlyRiseRate = double.NaN)
{
    /// <summary>The quantity names, in <see cref="Get"/> order: seven of the whole light curve, three of its first days.</summary>
    public static IReadOnlyList<string> Quantities { get; } = ["peak_mag", "n_det", "rise_days", "decline_1mag_days", "duration_days", "g_minus_r", "redshift", "first_mag", "g_minus_r_first_5d", "r_rise_rate_first_5d"];

    public double Get(int quantity) => quantity switch
    {
        0 => PeakMag,
        1 => Detections,
        2 => RiseDays,
        3 => DeclineDays,
        4 => DurationDays,
        5 => GMinusR,
        6 => Redshift,
        7 => FirstMag,
        8 => EarlyGMinusR,
        9 => EarlyRiseRate,
        _ => throw new ArgumentOutOfRangeException(nameof(quantity)),
    };

    /// <summary>Features of a simulated light curve (its detections as the survey flagged them).</summary>
    public static LightCurveFeatures From(SimulatedLightCurve curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        var detections = new List<(double Mjd, char Band, double Mag)>();
        foreach (var p in curve.Points)
        {
            if (p.Detected)
            {
                detections.Add((p.Mjd, Passbands.Letter(p.Band)[0], Photometry.MicroJyToMag(p.FluxMicroJy)));
            }
        }

        return Compute(curve.ClassName, curve.Redshift, detections);
    }

    /// <summary>Features of a light curve read from CSV, from the points flagged as detections.</summary>
    public static LightCurveFeatures From(LabelledLightCurve curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        var detections = new List<(double Mjd, char Band, double Mag)>();
        foreach (var p in curve.Points)
        {
            if (p.Detected && p.FluxMicroJy > 0)
            {
                detections.Add((p.Mjd, p.Band, p.Magnitude));
            }
        }

        return Compute(curve.ClassName, curve.Redshift, detections);
    }

    private static LightCurveFeatures Compute(string className, double redshift, List<(double Mjd, char Band, double Mag)> d)
    {
        if (d.Count == 0)
        {
            return new LightCurveFeatures(className, double.NaN, 0, double.NaN, double.NaN, double.NaN, double.NaN, redshift);
        }

        var peak = 0;
        for (var i = 1; i < d.Count; i++)
        {
            if (d[i].Mag < d[peak].Mag)
            {
                peak = i;
            }
        }

        var (tPeak, peakBand, peakMag) = d[peak];
        var decline = double.NaN;
        var previous = (Mjd: tPeak, Mag: peakMag);
        for (var i = peak + 1; i < d.Count; i++)
        {
            if (d[i].Band != peakBand)
            {
                continue;
            }

            if (d[i].Mag >= peakMag + 1)
            {
                var f = (peakMag + 1 - previous.Mag) / (d[i].Mag - previous.Mag);
                decline = previous.Mjd + (Math.Clamp(f, 0, 1) * (d[i].Mjd - previous.Mjd)) - tPeak;
                break;
            }

            previous = (d[i].Mjd, d[i].Mag);
        }

        double g = double.NaN, r = double.NaN, dg = 3, dr = 3;
        foreach (var (mjd, band, mag) in d)
        {
            var dt = Math.Abs(mjd - tPeak);
            if (band == 'g' && dt <= dg)
            {
                g = mag;
                dg = dt;
            }
            else if (band == 'r' && dt <= dr)
            {
                r = mag;
                dr = dt;
            }
        }

        // The first days: colour from the first g and r less than a day apart, r-band brightening rate.
        var t0 = d[0].Mjd;
        var early = double.NaN;
        for (var i = 0; i < d.Count && d[i].Mjd - t0 <= 5 && double.IsNaN(early); i++)
        {
            if (d[i].Band != 'g')
            {
                continue;
            }

            for (var j = 0; j < d.Count && d[j].Mjd - t0 <= 5; j++)
            {
                if (d[j].Band == 'r' && Math.Abs(d[j].Mjd - d[i].Mjd) < 1.0)
                {
                    early = d[i].Mag - d[j].Mag;
                    break;
                }
            }
        }

        (double Mjd, double Mag)? firstR = null, lastR = null;
        foreach (var (mjd, band, mag) in d)
        {
            if (mjd - t0 > 5)
            {
                break;
            }

            if (band == 'r')
            {
                firstR ??= (mjd, mag);
                lastR = (mjd, mag);
            }
        }

        var rate = firstR is { } a && lastR is { } b && b.Mjd - a.Mjd > 1.0 ? (b.Mag - a.Mag) / (b.Mjd - a.Mjd) : double.NaN;
        return new LightCurveFeatures(className, peakMag, d.Count, tPeak - d[0].Mjd, decline, d[^1].Mjd - d[0].Mjd, g - r, redshift, d[0].Mag, early, rate);
    }
}
