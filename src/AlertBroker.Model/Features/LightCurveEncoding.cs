using AlertBroker.Alerts;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Features;

/// <summary>
/// The feature encoding shared by the trainer and the worker ("alertbroker-lc" version 1): one GRU step per
/// observation in time order, plus a metadata vector. Every constant is fixed — there is no per-object
/// normalisation — so a step's features never change when later observations arrive, which is what makes
/// incremental scoring (run only the new steps from the stored hidden state) exact.
/// </summary>
/// <remarks>
/// Step features:
/// <list type="number">
/// <item><c>wavelength_um</c>: the passband's central wavelength in µm, so ZTF and LSST bands share one input layer.</item>
/// <item><c>time_rest</c>: (t − t₀)/(1 + z) / 100 d, t₀ the first detection; z = 0 when the redshift is unknown.</item>
/// <item><c>dt_prev</c>: log10(1 + Δt rest-frame days since the previous step) / 2; 0 for the first step.</item>
/// <item><c>flux</c>: asinh(flux / 10 µJy) / 5. The asinh keeps four decades of flux (a 10 µJy point to a 10 mJy
/// peak) inside the range where tanh/sigmoid gates still have gradient, and is linear near zero so negative
/// difference fluxes keep their meaning.</item>
/// <item><c>flux_err</c>: asinh(σ / 10 µJy) / 5.</item>
/// <item><c>detected</c>: 1 for a detection, 0 for forced photometry or a non-detection.</item>
/// </list>
/// Metadata: <c>redshift</c>, <c>redshift_known</c>, <c>mw_ebv</c>, <c>mw_ebv_known</c> — a missing value is 0 with its
/// flag 0, so "unknown" is never confused with "zero".
/// </remarks>
public static class LightCurveEncoding
{
    public const string Name = "alertbroker-lc";
    public const int Version = 1;
    public const int StepFeatureCount = 6;
    public const int MetaFeatureCount = 4;

    public const float TimeScaleDays = 100f;
    public const float FluxSofteningMicroJy = 10f;
    public const float FluxDivisor = 5f;
    public const float DtPrevDivisor = 2f;

    private static readonly Passband[] s_bands =
    [
        Passband.ZtfG, Passband.ZtfR, Passband.ZtfI,
        Passband.LsstU, Passband.LsstG, Passband.LsstR, Passband.LsstI, Passband.LsstZ, Passband.LsstY,
        Passband.DesG, Passband.DesR, Passband.DesI, Passband.DesZ,
    ];

    /// <summary>The encoding's identity, as recorded in <c>model.json</c>.</summary>
    public static EncodingId Id { get; } = new(Name, Version);

    /// <summary>
    /// Every encoding this build implements (<see cref="StepEncodings.Ids"/>; kept for callers written before the registry):
    /// a worker refuses models with any other.
    /// </summary>
    public static IReadOnlyCollection<EncodingId> Supported => StepEncodings.Ids;

    /// <summary>This encoding behind the <see cref="IStepEncoding"/> abstraction.</summary>
    public static IStepEncoding Instance { get; } = new StepEncoding();

    public static IReadOnlyList<string> StepFeatureNames { get; } = ["wavelength_um", "time_rest", "dt_prev", "flux", "flux_err", "detected"];

    public static IReadOnlyList<string> MetaFeatureNames { get; } = ["redshift", "redshift_known", "mw_ebv", "mw_ebv_known"];

    /// <summary>
    /// The metadata declaration (<c>model.json</c> <c>metadata</c>) of a model on this encoding: host redshift (with time
    /// dilation of the step times) and Milky Way E(B−V), or nothing for a model without the metadata branch.
    /// </summary>
    public static IReadOnlyList<MetadataRequirement> MetadataRequirements(bool metadata = true) =>
        metadata ? [MetadataRequirement.Redshift, MetadataRequirement.MilkyWayEbv] : [];

    /// <summary>
    /// The descriptor written into <c>model.json</c>; <paramref name="metadata"/> false lists no metadata features
    /// (a network without the metadata branch and without a <c>meta</c> input).
    /// </summary>
    public static FeatureEncodingDescriptor Descriptor(bool metadata = true)
    {
        var bands = BandTable();
        return new FeatureEncodingDescriptor
        {
            Name = Name,
            Version = Version,
            StepFeatures = StepFeatureNames,
            MetaFeatures = metadata ? MetaFeatureNames : [],
            BandWavelengthsMicron = bands,
            Scaling = new Dictionary<string, float>(StringComparer.Ordinal)
            {
                ["timeScaleDays"] = TimeScaleDays,
                ["fluxSofteningMicroJy"] = FluxSofteningMicroJy,
                ["fluxDivisor"] = FluxDivisor,
                ["dtPrevDivisor"] = DtPrevDivisor,
            },
        };
    }

    /// <summary>"ztf:g", "lsst:u", "des:z".</summary>
    public static string BandKey(Passband band) => Passbands.SurveyOf(band) switch
    {
        Survey.Ztf => "ztf:",
        Survey.Lsst => "lsst:",
        _ => band is >= Passband.DesG and <= Passband.DesZ ? "des:" : "unknown:",
    } + Passbands.Letter(band);

    /// <summary>
    /// Whether an observation becomes a step: detections and forced photometry with a finite flux, a positive
    /// finite error and a known band. Upper limits (no flux) are not steps in version 1.
    /// </summary>
    public static bool IsStep(in Observation o) =>
        o.Kind != ObservationKind.UpperLimit
        && float.IsFinite(o.FluxMicroJy)
        && float.IsFinite(o.FluxErrMicroJy)
        && o.FluxErrMicroJy > 0
        && double.IsFinite(o.Mjd)
        && !double.IsNaN(Passbands.CentralWavelengthMicron(o.Band));

    /// <summary>
    /// Encodes steps <paramref name="start"/>.. of a time-ordered light curve (already filtered by <see cref="IsStep"/>)
    /// into <paramref name="destination"/> (<see cref="StepFeatureCount"/> floats per step). Step i depends only on
    /// points 0..i, so encoding the new tail gives the same numbers as encoding everything.
    /// </summary>
    /// <param name="points">All step points of the object, time-ordered.</param>
    /// <param name="start">First step to encode.</param>
    /// <param name="referenceMjd">t₀: the time of the first detection.</param>
    /// <param name="redshift">Redshift, NaN when unknown.</param>
    /// <param name="destination">Receives (points.Length − start) × 6 floats.</param>
    public static void EncodeSteps(ReadOnlySpan<Observation> points, int start, double referenceMjd, double redshift, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        var count = points.Length - start;
        if (destination.Length < count * StepFeatureCount)
        {
            throw new ArgumentException($"destination holds {destination.Length} floats; {count * StepFeatureCount} needed", nameof(destination));
        }

        var stretch = 1.0 + (double.IsFinite(redshift) && redshift > -1 ? redshift : 0.0);
        for (var i = start; i < points.Length; i++)
        {
            ref readonly var p = ref points[i];
            var row = destination.Slice((i - start) * StepFeatureCount, StepFeatureCount);
            row[0] = (float)Passbands.CentralWavelengthMicron(p.Band);
            row[1] = (float)((p.Mjd - referenceMjd) / stretch / TimeScaleDays);
            row[2] = i == 0 ? 0f : (float)(Math.Log10(1.0 + (Math.Max(0.0, p.Mjd - points[i - 1].Mjd) / stretch)) / DtPrevDivisor);
            row[3] = MathF.Asinh(p.FluxMicroJy / FluxSofteningMicroJy) / FluxDivisor;
            row[4] = MathF.Asinh(p.FluxErrMicroJy / FluxSofteningMicroJy) / FluxDivisor;
            row[5] = p.Kind == ObservationKind.Detection ? 1f : 0f;
        }
    }

    /// <summary>The metadata vector: redshift and Milky Way E(B−V), each with a known-flag; NaN means unknown.</summary>
    public static void EncodeMeta(double redshift, double mwEbv, Span<float> destination)
    {
        if (destination.Length < MetaFeatureCount)
        {
            throw new ArgumentException($"destination holds {destination.Length} floats; {MetaFeatureCount} needed", nameof(destination));
        }

        var zKnown = double.IsFinite(redshift);
        var ebvKnown = double.IsFinite(mwEbv);
        destination[0] = zKnown ? (float)redshift : 0f;
        destination[1] = zKnown ? 1f : 0f;
        destination[2] = ebvKnown ? (float)mwEbv : 0f;
        destination[3] = ebvKnown ? 1f : 0f;
    }

    /// <summary>
    /// The step points of a light curve assembled from observations of any kinds: filtered by <see cref="IsStep"/>,
    /// time-ordered, deduplicated by (source id, kind).
    /// </summary>
    public static Observation[] SelectSteps(IEnumerable<Observation> observations) => Instance.SelectSteps(observations, out _);

    /// <summary>t₀: the time of the first detection among the points, or of the first point when none is a detection.</summary>
    public static double ReferenceTime(ReadOnlySpan<Observation> points) => StepEncodings.FirstDetection(points);

    /// <summary>Wavelength per band key ("ztf:g" → 0.4746), as in <see cref="Descriptor"/>.</summary>
    private static Dictionary<string, double> BandTable()
    {
        var bands = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var b in s_bands)
        {
            bands[BandKey(b)] = Passbands.CentralWavelengthMicron(b);
        }

        return bands;
    }

    // alertbroker-lc v1 behind IStepEncoding: every call goes to the static members above.
    private sealed class StepEncoding : IStepEncoding
    {
        private readonly Lazy<IReadOnlyDictionary<string, double>> _bands = new(BandTable);

        public EncodingId Id => LightCurveEncoding.Id;

        public int StepFeatureCount => LightCurveEncoding.StepFeatureCount;

        public IReadOnlyList<string> StepFeatureNames => LightCurveEncoding.StepFeatureNames;

        public int MetaFeatureCount => LightCurveEncoding.MetaFeatureCount;

        public IReadOnlyList<string> MetaFeatureNames => LightCurveEncoding.MetaFeatureNames;

        public bool IncrementalExact => true;

        public TimeZeroRule TimeZero => TimeZeroRule.FirstDetection;

        public StepWindow? Window => null;

        public IReadOnlyDictionary<string, double> BandWavelengthsMicron => _bands.Value;

        public bool IsCandidate(in Observation observation) => IsStep(observation);

        public Observation[] SelectOrderedSteps(Observation[] timeOrdered, out double referenceMjd)
        {
            ArgumentNullException.ThrowIfNull(timeOrdered);
            var steps = StepEncodings.Filter(timeOrdered, 0, static (o, _) => IsStep(o));
            referenceMjd = ReferenceTime(steps);
            return steps;
        }

        public void EncodeSteps(ReadOnlySpan<Observation> steps, int start, double referenceMjd, double redshift, Span<float> destination) =>
            LightCurveEncoding.EncodeSteps(steps, start, referenceMjd, redshift, destination);

        public void EncodeMeta(double redshift, double mwEbv, Span<float> destination) => LightCurveEncoding.EncodeMeta(redshift, mwEbv, destination);

        public FeatureEncodingDescriptor Descriptor(bool metadata = true) => LightCurveEncoding.Descriptor(metadata);

        public IReadOnlyList<MetadataRequirement> MetadataRequirements(bool metadata = true) => LightCurveEncoding.MetadataRequirements(metadata);

        public override string ToString() => Id.ToString();
    }
}
