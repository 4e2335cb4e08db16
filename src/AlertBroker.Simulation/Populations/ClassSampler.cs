namespace AlertBroker.Simulation.Populations;

/// <summary>
/// Draws objects of one class: the redshift from R(z) / (1 + z) · dV/dz (rate per unit observer time)
/// up to the redshift where even the brightest members are too faint to matter, then the parameters.
/// </summary>
internal sealed class ClassSampler
{
    private const int TableSize = 2048;
    private const double MinRedshift = 0.002;

    private readonly Cosmology _cosmology;
    private readonly double[] _z = new double[TableSize];
    private readonly double[] _cdf = new double[TableSize];

    public ClassSampler(TransientClassModel model, Cosmology cosmology, double acceptMag)
    {
        Model = model;
        _cosmology = cosmology;
        var stretchSpread = Math.Abs(model.StretchLuminosity) * model.TimeScaleScatter;
        var sigma = Math.Sqrt((model.PeakAbsMagSigma * model.PeakAbsMagSigma) + (stretchSpread * stretchSpread));
        var brightest = model.PeakAbsMag - (3 * sigma);

        // Blue objects at high redshift gain in f_ν from the (1 + z) term; allow a magnitude of slack.
        MaxRedshift = Math.Min(model.MaxRedshift, cosmology.RedshiftForDistanceModulus(acceptMag - brightest + 1.0));
        var total = 0.0;
        var observable = 0.0;
        var previous = 0.0;
        for (var i = 0; i < TableSize; i++)
        {
            var z = MinRedshift + ((MaxRedshift - MinRedshift) * i / (TableSize - 1));
            var density = model.RatePerMpc3Yr * Math.Pow(1 + z, model.RateEvolutionIndex) / (1 + z) * cosmology.ComovingVolumeElement(z);
            if (i > 0)
            {
                var dz = z - _z[i - 1];
                total += 0.5 * (density + previous) * dz;

                // Chance that the peak is brighter than the acceptance magnitude: a normal CDF in M.
                var apparent = model.PeakAbsMag + cosmology.DistanceModulus(z) - (2.5 * Math.Log10(1 + z));
                observable += density * dz * NormalCdf((acceptMag - apparent) / sigma);
            }

            _z[i] = z;
            _cdf[i] = total;
            previous = density;
        }

        for (var i = 0; i < TableSize; i++)
        {
            _cdf[i] /= total;
        }

        ObservableRate = observable;
    }

    public TransientClassModel Model { get; }

    public double MaxRedshift { get; }

    /// <summary>Events per year (whole sky) whose peak is brighter than the acceptance magnitude: the class's natural weight.</summary>
    public double ObservableRate { get; }

    public double DrawRedshift(SimRandom rng)
    {
        var u = rng.NextDouble();
        var index = Array.BinarySearch(_cdf, u);
        if (index >= 0)
        {
            return _z[index];
        }

        index = ~index;
        if (index <= 0)
        {
            return _z[0];
        }

        if (index >= TableSize)
        {
            return _z[TableSize - 1];
        }

        var f = (u - _cdf[index - 1]) / (_cdf[index] - _cdf[index - 1]);
        return _z[index - 1] + (f * (_z[index] - _z[index - 1]));
    }

    public Transient Draw(SimRandom rng, double peakMjd, double? redshift) => TryDraw(rng, peakMjd, redshift, double.PositiveInfinity)!;

    /// <summary>
    /// Draws an object, or returns null as soon as its luminosity and distance make it clearly fainter than
    /// <paramref name="faintestMag"/>: most draws from a volume-weighted redshift distribution are, and this
    /// check costs a fraction of building the model.
    /// </summary>
    public Transient? TryDraw(SimRandom rng, double peakMjd, double? redshift, double faintestMag)
    {
        var m = Model;
        var z = redshift ?? DrawRedshift(rng);
        var logStretch = m.TimeScaleScatter * rng.Normal();
        var peakAbs = rng.Normal(m.PeakAbsMag, m.PeakAbsMagSigma) + (m.StretchLuminosity * logStretch);
        var mu = _cosmology.DistanceModulus(z);

        // Colour and K-correction can make an observed band up to about 1.5 mag brighter than the reference band.
        if (peakAbs + mu - (2.5 * Math.Log10(1 + z)) - 1.5 > faintestMag)
        {
            return null;
        }

        var stretch = Math.Pow(10, logStretch);
        var rise = m.RiseDays * stretch * Math.Pow(10, m.TimeScaleScatter * 0.5 * rng.Normal());
        var decline = m.DeclineDays * stretch * Math.Pow(10, m.TimeScaleScatter * 0.5 * rng.Normal());
        var temperature = rng.TruncatedNormal(m.PeakTemperatureK, m.PeakTemperatureSigmaK, 4_000, 60_000);

        // Milky Way E(B−V): log-normal around 0.035 (median of the BTS A_V / 3.1), capped as surveys avoid the plane.
        var ebv = Math.Min(0.5, 0.035 * Math.Exp(0.8 * rng.Normal()));
        var hostAv = m.HostAvMean > 0 ? rng.Exponential(m.HostAvMean) : 0;
        var plateau = m.PlateauEndDays > 0 ? Math.Max(20, m.PlateauEndDays * (1 + (0.25 * rng.Normal()))) : 0;
        return new Transient(m, z, mu, peakMjd, peakAbs, rise, decline, temperature, ebv, hostAv, plateau);
    }

    private static double NormalCdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): ample for class weights.
    private static double Erf(double x)
    {
        var sign = Math.Sign(x);
        x = Math.Abs(x);
        var t = 1 / (1 + (0.3275911 * x));
        var y = 1 - ((((((1.061405429 * t) - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return sign * y;
    }
}
