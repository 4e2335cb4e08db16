namespace AlertBroker.Simulation;

/// <summary>Spectral shapes and Milky Way extinction used by the light-curve models.</summary>
public static class Physics
{
    /// <summary>hc/k in µm·K: the exponent of the Planck function is this over (λ T).</summary>
    private const double HcOverK = 14387.77;

    /// <summary>
    /// Blackbody f_ν up to a constant: ν³/(exp(hν/kT) − 1), written in λ (µm) as λ⁻³/(exp(hc/λkT) − 1).
    /// </summary>
    public static double BlackbodyFnu(double wavelengthMicron, double temperatureK)
    {
        var x = HcOverK / (wavelengthMicron * temperatureK);
        return 1.0 / (wavelengthMicron * wavelengthMicron * wavelengthMicron * Expm1Safe(x));
    }

    /// <summary>
    /// Milky Way extinction A_λ / E(B−V) for R_V = 3.1 from the Cardelli, Clayton &amp; Mathis (1989)
    /// parametrisation (published coefficients), valid 0.125–3.3 µm.
    /// </summary>
    public static double ExtinctionPerEbv(double wavelengthMicron, double rv = 3.1)
    {
        var x = 1.0 / wavelengthMicron;
        double a, b;
        if (x < 1.1)
        {
            var p = Math.Pow(x, 1.61);
            a = 0.574 * p;
            b = -0.527 * p;
        }
        else if (x < 3.3)
        {
            var y = x - 1.82;
            a = 1 + (0.17699 * y) - (0.50447 * y * y) - (0.02427 * Math.Pow(y, 3)) + (0.72085 * Math.Pow(y, 4))
                + (0.01979 * Math.Pow(y, 5)) - (0.77530 * Math.Pow(y, 6)) + (0.32999 * Math.Pow(y, 7));
            b = (1.41338 * y) + (2.28305 * y * y) + (1.07233 * Math.Pow(y, 3)) - (5.38434 * Math.Pow(y, 4))
                - (0.62251 * Math.Pow(y, 5)) + (5.30260 * Math.Pow(y, 6)) - (2.09002 * Math.Pow(y, 7));
        }
        else
        {
            var xc = Math.Min(x, 8.0);
            a = 1.752 - (0.316 * xc) - (0.104 / (((xc - 4.67) * (xc - 4.67)) + 0.341));
            b = -3.090 + (1.825 * xc) + (1.206 / (((xc - 4.62) * (xc - 4.62)) + 0.263));
        }

        return (a * rv) + b;
    }

    private static double Expm1Safe(double x) => x < 1e-5 ? x : x > 700 ? double.MaxValue : Math.Exp(x) - 1.0;
}
