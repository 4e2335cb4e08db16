namespace AlertBroker.Simulation;

/// <summary>
/// Flat ΛCDM distances, tabulated once: luminosity distance, distance modulus and the comoving volume
/// element that turns a volumetric rate into a redshift distribution.
/// </summary>
public sealed class Cosmology
{
    private const double SpeedOfLightKmS = 299792.458;
    private const double TableStep = 0.0005;
    private const double TableMax = 5.0;

    private readonly double[] _comovingMpc;

    public Cosmology(double hubbleConstant = 70.0, double omegaMatter = 0.3)
    {
        if (hubbleConstant <= 0 || omegaMatter is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(hubbleConstant), "need H0 > 0 and 0 < Ωm < 1");
        }

        HubbleConstant = hubbleConstant;
        OmegaMatter = omegaMatter;
        var n = (int)(TableMax / TableStep) + 2;
        _comovingMpc = new double[n];
        var hubbleDistance = SpeedOfLightKmS / hubbleConstant;
        var sum = 0.0;
        var previous = 1.0;
        for (var i = 1; i < n; i++)
        {
            // Trapezoid rule on 1/E(z); the step is fine enough for 1e-6 relative accuracy.
            var z = i * TableStep;
            var inverseE = 1.0 / Math.Sqrt((omegaMatter * Math.Pow(1 + z, 3)) + (1 - omegaMatter));
            sum += 0.5 * (previous + inverseE) * TableStep;
            previous = inverseE;
            _comovingMpc[i] = hubbleDistance * sum;
        }
    }

    /// <summary>The cosmology of the simulator: H0 = 70 km/s/Mpc, Ωm = 0.3, flat.</summary>
    public static Cosmology Default { get; } = new();

    public double HubbleConstant { get; }

    public double OmegaMatter { get; }

    /// <summary>Line-of-sight comoving distance, Mpc.</summary>
    public double ComovingDistanceMpc(double z)
    {
        if (z <= 0)
        {
            return 0;
        }

        var x = Math.Min(z, TableMax) / TableStep;
        var i = (int)x;
        var f = x - i;
        return (_comovingMpc[i] * (1 - f)) + (_comovingMpc[i + 1] * f);
    }

    /// <summary>Luminosity distance, Mpc.</summary>
    public double LuminosityDistanceMpc(double z) => (1 + z) * ComovingDistanceMpc(z);

    /// <summary>Distance modulus μ = 5 log10(d_L / 10 pc).</summary>
    public double DistanceModulus(double z) => z <= 0 ? 0 : (5.0 * Math.Log10(LuminosityDistanceMpc(z))) + 25.0;

    /// <summary>Comoving volume per unit redshift over the whole sky, Mpc³.</summary>
    public double ComovingVolumeElement(double z)
    {
        var dc = ComovingDistanceMpc(z);
        var e = Math.Sqrt((OmegaMatter * Math.Pow(1 + z, 3)) + (1 - OmegaMatter));
        return 4.0 * Math.PI * dc * dc * (SpeedOfLightKmS / HubbleConstant) / e;
    }

    /// <summary>The redshift at which the distance modulus reaches <paramref name="mu"/> (bisection).</summary>
    public double RedshiftForDistanceModulus(double mu)
    {
        double lo = 1e-5, hi = TableMax;
        if (DistanceModulus(hi) <= mu)
        {
            return hi;
        }

        for (var i = 0; i < 60; i++)
        {
            var mid = 0.5 * (lo + hi);
            if (DistanceModulus(mid) < mu)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return 0.5 * (lo + hi);
    }
}
