using System.Collections.Frozen;
using AlertBroker.Alerts;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Features;

/// <summary>
/// The per-observation features of Muthukrishna &amp; Gupta 2025 (arXiv 2502.18558) and their code ("muthukrishna2025"
/// version 1): four features per step, no metadata vector.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><c>wavelength_um</c>: the passband's wavelength in µm from the table in <see cref="BandWavelengthsMicron"/>.</item>
/// <item><c>time_trigger</c>: (t − t₀ + 30 d) / 100 d, t₀ the first detection (the "trigger"), observer frame.</item>
/// <item><c>flux</c>: flux / 500 µJy.</item>
/// <item><c>flux_err</c>: flux error / 500 µJy.</item>
/// </list>
/// Steps are the detections and forced-photometry points with a finite flux, a positive finite error and a band in the
/// table, time-ordered, with −30 d &lt; t − t₀ &lt; +70 d (points outside are never fed). No clipping. What the authors'
/// code does and where this encoding had to choose is in docs/model-package.md.
/// </remarks>
public sealed class Muthukrishna2025Encoding : IStepEncoding
{
    public const string Name = "muthukrishna2025";
    public const int Version = 1;
    public const int StepFeatureCount = 4;

    /// <summary>Days before t₀ whose points are fed (exclusive), and the offset added to t − t₀.</summary>
    public const double WindowBeforeDays = 30;

    /// <summary>Days after t₀ whose points are fed (exclusive).</summary>
    public const double WindowAfterDays = 70;

    /// <summary>The time scale: (t − t₀ + 30) / 100, so the window maps onto (0, 1).</summary>
    public const double TimeScaleDays = 100;

    /// <summary>Flux and flux error are divided by this (µJy).</summary>
    public const float FluxDivisorMicroJy = 500f;

    private static readonly FrozenDictionary<Passband, double> s_wavelengths = new Dictionary<Passband, double>
    {
        // ZTF g and r: the band medians of the authors' ZTF simulation pipeline (0.4827, 0.6223 µm), assigned to the band
        // whose wavelength they are (their notebook maps them the other way round; see docs/model-package.md). ZTF i: no
        // value in their code; the same table's i.
        [Passband.ZtfG] = 0.4827,
        [Passband.ZtfR] = 0.6223,
        [Passband.ZtfI] = 0.7545,

        // LSST: the midpoints of the filter edges in their load_lsst_data.py.
        [Passband.LsstU] = 0.360,
        [Passband.LsstG] = 0.476,
        [Passband.LsstR] = 0.6215,
        [Passband.LsstI] = 0.7545,
        [Passband.LsstZ] = 0.870,
        [Passband.LsstY] = 1.015,
    }.ToFrozenDictionary();

    private Muthukrishna2025Encoding()
    {
        var bands = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (band, micron) in s_wavelengths)
        {
            bands[LightCurveEncoding.BandKey(band)] = micron;
        }

        BandWavelengthsMicron = bands;
    }

    public static Muthukrishna2025Encoding Instance { get; } = new();

    public static EncodingId EncodingId { get; } = new(Name, Version);

    public EncodingId Id => EncodingId;

    int IStepEncoding.StepFeatureCount => StepFeatureCount;

    public IReadOnlyList<string> StepFeatureNames { get; } = ["wavelength_um", "time_trigger", "flux", "flux_err"];

    public int MetaFeatureCount => 0;

    public IReadOnlyList<string> MetaFeatureNames { get; } = [];

    public bool IncrementalExact => true;

    public TimeZeroRule TimeZero => TimeZeroRule.FirstDetection;

    public StepWindow? Window { get; } = new StepWindow(WindowBeforeDays, WindowAfterDays);

    public IReadOnlyDictionary<string, double> BandWavelengthsMicron { get; }

    /// <summary>The wavelength (µm) the encoding uses for a band, NaN for a band it does not know.</summary>
    public static double WavelengthMicron(Passband band) => s_wavelengths.TryGetValue(band, out var micron) ? micron : double.NaN;

    public bool IsCandidate(in Observation observation) =>
        observation.Kind != ObservationKind.UpperLimit
        && float.IsFinite(observation.FluxMicroJy)
        && float.IsFinite(observation.FluxErrMicroJy)
        && observation.FluxErrMicroJy > 0
        && double.IsFinite(observation.Mjd)
        && s_wavelengths.ContainsKey(observation.Band);

    public Observation[] SelectOrderedSteps(Observation[] timeOrdered, out double referenceMjd)
    {
        ArgumentNullException.ThrowIfNull(timeOrdered);
        var candidates = StepEncodings.Filter(timeOrdered, this, static (o, e) => e.IsCandidate(o));
        var t0 = StepEncodings.FirstDetection(candidates);
        referenceMjd = t0;
        if (double.IsNaN(t0))
        {
            return candidates;
        }

        var window = Window!.Value;
        return StepEncodings.Filter(candidates, (window, t0), static (o, s) => s.window.Contains(o.Mjd - s.t0));
    }

    public void EncodeSteps(ReadOnlySpan<Observation> steps, int start, double referenceMjd, double redshift, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        var count = steps.Length - start;
        if (destination.Length < count * StepFeatureCount)
        {
            throw new ArgumentException($"destination holds {destination.Length} floats; {count * StepFeatureCount} needed", nameof(destination));
        }

        for (var i = start; i < steps.Length; i++)
        {
            ref readonly var p = ref steps[i];
            var row = destination.Slice((i - start) * StepFeatureCount, StepFeatureCount);
            row[0] = (float)WavelengthMicron(p.Band);
            row[1] = (float)((p.Mjd - referenceMjd + WindowBeforeDays) / TimeScaleDays);
            row[2] = p.FluxMicroJy / FluxDivisorMicroJy;
            row[3] = p.FluxErrMicroJy / FluxDivisorMicroJy;
        }
    }

    /// <summary>The encoding has no metadata vector; writes nothing.</summary>
    public void EncodeMeta(double redshift, double mwEbv, Span<float> destination)
    {
    }

    /// <summary>The descriptor; the encoding has no metadata features whatever <paramref name="metadata"/> says.</summary>
    public FeatureEncodingDescriptor Descriptor(bool metadata = true) => new()
    {
        Name = Name,
        Version = Version,
        StepFeatures = StepFeatureNames,
        MetaFeatures = [],
        BandWavelengthsMicron = new Dictionary<string, double>(BandWavelengthsMicron, StringComparer.Ordinal),
        Scaling = new Dictionary<string, float>(StringComparer.Ordinal)
        {
            ["timeOffsetDays"] = (float)WindowBeforeDays,
            ["timeScaleDays"] = (float)TimeScaleDays,
            ["fluxDivisorMicroJy"] = FluxDivisorMicroJy,
            ["windowBeforeDays"] = (float)WindowBeforeDays,
            ["windowAfterDays"] = (float)WindowAfterDays,
        },
    };

    public IReadOnlyList<MetadataRequirement> MetadataRequirements(bool metadata = true) => [];

    public override string ToString() => Id.ToString();
}
