using AlertBroker.Alerts;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Features;

/// <summary>How an encoding fixes an object's time zero t₀, against which step times are measured.</summary>
public enum TimeZeroRule
{
    /// <summary>t₀ is the time of the first detection among the encoding's step points (of the first point when none is a detection).</summary>
    FirstDetection,
}

/// <summary>
/// The points an encoding feeds, relative to time zero: a point becomes a step only when
/// <see cref="AfterDays"/> &gt; t − t₀ &gt; −<see cref="BeforeDays"/> (both bounds exclusive, in days).
/// </summary>
public readonly record struct StepWindow(double BeforeDays, double AfterDays)
{
    /// <summary>Whether a point <paramref name="daysFromTimeZero"/> days after t₀ lies inside the window.</summary>
    public bool Contains(double daysFromTimeZero) => daysFromTimeZero > -BeforeDays && daysFromTimeZero < AfterDays;
}

/// <summary>
/// A feature encoding: how a light curve becomes the per-step feature vectors (and the metadata vector) of a network.
/// One implementation per (name, version), registered in <see cref="StepEncodings"/>; the trainer, the worker, <c>score</c>
/// and <c>evaluate</c> all encode through it, so training and serving cannot drift. Every implementation is fixed: no
/// per-object normalisation, no constant learned from data.
/// </summary>
public interface IStepEncoding
{
    /// <summary>The (name, version) recorded in <c>model.json</c> <c>encoding</c>.</summary>
    EncodingId Id { get; }

    /// <summary>Features per step: the size of the graph's step input's last dimension.</summary>
    int StepFeatureCount { get; }

    /// <summary>Names of the step features in order (<c>encoding.stepFeatures</c>).</summary>
    IReadOnlyList<string> StepFeatureNames { get; }

    /// <summary>Metadata features the encoding can fill (0 when it has no metadata vector).</summary>
    int MetaFeatureCount { get; }

    /// <summary>Names of the metadata features in order (empty when <see cref="MetaFeatureCount"/> is 0).</summary>
    IReadOnlyList<string> MetaFeatureNames { get; }

    /// <summary>
    /// True when step i depends only on points 0..i and on t₀: then, as long as t₀ and the points before the last scored
    /// step do not change, scoring only the new steps from the stored state gives exactly the full re-run's numbers. An
    /// encoding for which this is false is always re-run from the first step by the worker.
    /// </summary>
    bool IncrementalExact { get; }

    /// <summary>How t₀ is chosen. When a new point changes t₀ (an earlier detection arrives), the worker re-runs the object.</summary>
    TimeZeroRule TimeZero { get; }

    /// <summary>The time window around t₀ whose points become steps; null when every point does.</summary>
    StepWindow? Window { get; }

    /// <summary>Central wavelength in µm the encoding uses per passband key ("ztf:g", …); bands not listed never become steps.</summary>
    IReadOnlyDictionary<string, double> BandWavelengthsMicron { get; }

    /// <summary>Whether an observation can become a step at all (kind, finite values, known band), before the window.</summary>
    bool IsCandidate(in Observation observation);

    /// <summary>
    /// The steps of a light curve that is already time-ordered (by MJD, then source id) and deduplicated, and its t₀.
    /// Returns <paramref name="timeOrdered"/> itself when every point is a step. (For observations in any order, use the
    /// <see cref="StepEncodings.SelectSteps"/> extension, which sorts and deduplicates first.)
    /// </summary>
    Observation[] SelectOrderedSteps(Observation[] timeOrdered, out double referenceMjd);

    /// <summary>
    /// Encodes steps <paramref name="start"/>.. of <paramref name="steps"/> (the output of <see cref="SelectOrderedSteps"/>) into
    /// <paramref name="destination"/>, <see cref="StepFeatureCount"/> floats per step. <paramref name="redshift"/> is NaN
    /// when unknown; an encoding without time dilation ignores it.
    /// </summary>
    void EncodeSteps(ReadOnlySpan<Observation> steps, int start, double referenceMjd, double redshift, Span<float> destination);

    /// <summary>Writes the metadata vector (<see cref="MetaFeatureCount"/> floats); NaN means unknown.</summary>
    void EncodeMeta(double redshift, double mwEbv, Span<float> destination);

    /// <summary>The <c>encoding</c> section of <c>model.json</c>; <paramref name="metadata"/> false lists no metadata features.</summary>
    FeatureEncodingDescriptor Descriptor(bool metadata = true);

    /// <summary>The <c>metadata</c> declaration of a model on this encoding (empty without metadata).</summary>
    IReadOnlyList<MetadataRequirement> MetadataRequirements(bool metadata = true);
}
