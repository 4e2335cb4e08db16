using AlertBroker.Alerts;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Features;

/// <summary>
/// An encoding restricted to detections: the same features, time zero and window as <see cref="Inner"/>, over an
/// object's detections of positive flux only — what a model trained on detection-only light curves (the BTS alert photometry, simulations
/// made with <c>--detections-only</c>) must be fed, so that an alert's forced photometry (Rubin <c>diaForcedSource</c>,
/// ZTF 4.x <c>fp_hists</c>) does not reach it as points it never saw in training. Made by
/// <see cref="StepEncodings.ForModel"/> from <c>model.json</c>.
/// </summary>
public sealed class DetectionsOnlyEncoding : IStepEncoding
{
    internal DetectionsOnlyEncoding(IStepEncoding inner) => Inner = inner;

    /// <summary>The encoding over every point.</summary>
    public IStepEncoding Inner { get; }

    public EncodingId Id => Inner.Id;

    public int StepFeatureCount => Inner.StepFeatureCount;

    public IReadOnlyList<string> StepFeatureNames => Inner.StepFeatureNames;

    public int MetaFeatureCount => Inner.MetaFeatureCount;

    public IReadOnlyList<string> MetaFeatureNames => Inner.MetaFeatureNames;

    // Dropping points of other kinds keeps step i a function of detections 0..i.
    public bool IncrementalExact => Inner.IncrementalExact;

    public TimeZeroRule TimeZero => Inner.TimeZero;

    public StepWindow? Window => Inner.Window;

    public IReadOnlyDictionary<string, double> BandWavelengthsMicron => Inner.BandWavelengthsMicron;

    // Detections of positive flux only (Observation.IsPositiveDetection): until 2026-12-07 a negative one was fed too, a point
    // no training light curve has (on the 100 real Rubin alerts lsst-sim 1.1.0's probabilities moved by up to 0.6).
    public bool IsCandidate(in Observation observation) => observation.IsPositiveDetection && Inner.IsCandidate(observation);

    public Observation[] SelectOrderedSteps(Observation[] timeOrdered, out double referenceMjd)
    {
        ArgumentNullException.ThrowIfNull(timeOrdered);
        return Inner.SelectOrderedSteps(StepEncodings.Filter(timeOrdered, 0, static (o, _) => o.IsPositiveDetection), out referenceMjd);
    }

    public void EncodeSteps(ReadOnlySpan<Observation> steps, int start, double referenceMjd, double redshift, Span<float> destination) =>
        Inner.EncodeSteps(steps, start, referenceMjd, redshift, destination);

    public void EncodeMeta(double redshift, double mwEbv, Span<float> destination) => Inner.EncodeMeta(redshift, mwEbv, destination);

    public FeatureEncodingDescriptor Descriptor(bool metadata = true) => Inner.Descriptor(metadata) with { DetectionsOnly = true };

    public IReadOnlyList<MetadataRequirement> MetadataRequirements(bool metadata = true) => Inner.MetadataRequirements(metadata);

    public override string ToString() => Inner + " (detections only)";
}
