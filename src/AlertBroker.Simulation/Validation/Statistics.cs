namespace AlertBroker.Simulation.Validation;

/// <summary>Two-sample statistics for comparing simulated and real distributions.</summary>
public static class Statistics
{
    /// <summary>
    /// Two-sample Kolmogorov–Smirnov statistic D (largest gap between the empirical CDFs) and its
    /// asymptotic p-value. NaN entries are ignored; (NaN, NaN) when either sample is empty.
    /// </summary>
    public static (double D, double PValue) KolmogorovSmirnov(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var x = Finite(a);
        var y = Finite(b);
        if (x.Length == 0 || y.Length == 0)
        {
            return (double.NaN, double.NaN);
        }

        Array.Sort(x);
        Array.Sort(y);
        int i = 0, j = 0;
        var d = 0.0;
        while (i < x.Length && j < y.Length)
        {
            var v = Math.Min(x[i], y[j]);
            while (i < x.Length && x[i] <= v)
            {
                i++;
            }

            while (j < y.Length && y[j] <= v)
            {
                j++;
            }

            d = Math.Max(d, Math.Abs(((double)i / x.Length) - ((double)j / y.Length)));
        }

        var ne = (double)x.Length * y.Length / (x.Length + y.Length);
        var sqrtNe = Math.Sqrt(ne);
        return (d, KolmogorovQ((sqrtNe + 0.12 + (0.11 / sqrtNe)) * d));
    }

    /// <summary>Median of the finite values (NaN if none).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var x = Finite(values);
        if (x.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(x);
        return x.Length % 2 == 1 ? x[x.Length / 2] : 0.5 * (x[(x.Length / 2) - 1] + x[x.Length / 2]);
    }

    public static double Mean(IReadOnlyList<double> values)
    {
        var sum = 0.0;
        var n = 0;
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                sum += v;
                n++;
            }
        }

        return n == 0 ? double.NaN : sum / n;
    }

    internal static double[] Finite(IReadOnlyList<double> values)
    {
        var n = 0;
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                n++;
            }
        }

        var result = new double[n];
        n = 0;
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                result[n++] = v;
            }
        }

        return result;
    }

    // Survival function of the Kolmogorov distribution, Q(λ) = 2 Σ (−1)^(k−1) exp(−2 k² λ²).
    private static double KolmogorovQ(double lambda)
    {
        if (lambda < 0.2)
        {
            return 1.0;
        }

        var sum = 0.0;
        var sign = 1.0;
        for (var k = 1; k <= 100; k++)
        {
            var term = sign * Math.Exp(-2.0 * k * k * lambda * lambda);
            sum += term;
            if (Math.Abs(term) < 1e-12)
            {
                break;
            }

            sign = -sign;
        }

        return Math.Clamp(2 * sum, 0, 1);
    }
}
