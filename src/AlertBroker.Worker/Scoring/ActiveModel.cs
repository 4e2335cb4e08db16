using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;

namespace AlertBroker.Worker.Scoring;

/// <summary>
/// A loaded model ready to score: its package, its feature encoding (from <c>model.json</c>, looked up in
/// <see cref="StepEncodings"/>), a batched scorer and the identity stored beside each object's hidden state
/// (<c>name/version/sha256[..12]</c>), so a state computed by another model is never continued.
/// </summary>
public sealed class ActiveModel : IDisposable
{
    private readonly bool _ownsScorer;
    private readonly int[][] _metaIndex;

    public ActiveModel(ModelPackage package, BatchScorerOptions? options = null)
        : this(package, new BatchScorer(package ?? throw new ArgumentNullException(nameof(package)), options), ownsScorer: true)
    {
    }

    /// <summary>Wraps a package and a scorer someone else owns (a registry-loaded model): disposing this wrapper disposes neither.</summary>
    public ActiveModel(ModelPackage package, BatchScorer scorer)
        : this(package, scorer, ownsScorer: false)
    {
    }

    private ActiveModel(ModelPackage package, BatchScorer scorer, bool ownsScorer)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(scorer);
        Package = package;
        Scorer = scorer;
        _ownsScorer = ownsScorer;
        var id = package.Manifest.Encoding.Id;
        // Detections only for a model trained on detections only (model.json): forced photometry is not fed to it.
        var encoding = StepEncodings.ForModel(package.Manifest);
        if (encoding is null)
        {
            DisposeOwnedScorer();
            throw new ModelPackageException(package.Source, [new(ModelPackageProblemKind.UnsupportedEncoding, $"feature encoding {id} is not implemented here (implemented: {StepEncodings.Describe()})")]);
        }

        Encoding = encoding;
        var d = Scorer.Dimensions;
        if (d.InputFeatures != Encoding.StepFeatureCount)
        {
            DisposeOwnedScorer();
            throw new ModelPackageException(package.Source, [new(ModelPackageProblemKind.EncodingMismatch, $"the network takes {d.InputFeatures} step features; {Encoding.Id} has {Encoding.StepFeatureCount}")]);
        }

        if (d.MetaFeatures != 0 && d.MetaFeatures != Encoding.MetaFeatureCount)
        {
            DisposeOwnedScorer();
            throw new ModelPackageException(package.Source, [new(ModelPackageProblemKind.EncodingMismatch, $"the network takes {d.MetaFeatures} metadata features; {Encoding.Id} has {Encoding.MetaFeatureCount}")]);
        }

        Classes = [.. package.Manifest.Classes];
        var sha12 = package.Sha256[..Math.Min(12, package.Sha256.Length)];
        Id = string.Concat(package.Manifest.Name, "/", package.Manifest.Version, "/", sha12);
        ShortIdentity = string.Concat(package.Manifest.Name, "@", package.Manifest.Version, "#", sha12);
        Surveys = package.Manifest.EffectiveSurveys;
        Metadata = package.Manifest.EffectiveMetadata;
        MetadataSources = [.. Metadata.Select(m => m.Source).Distinct(StringComparer.Ordinal)];
        MetadataRequired = package.Manifest.EffectiveRequiresMetadata;
        var metaFeatures = package.Manifest.Encoding.MetaFeatures;
        _metaIndex = new int[Metadata.Count][];
        for (var e = 0; e < Metadata.Count; e++)
        {
            _metaIndex[e] = [.. Metadata[e].Features.Select(f => IndexOf(metaFeatures, f))];
        }

        // The metadata vector of an object none of whose metadata is known: each value 0 with its known-flag 0.
        Meta = new float[d.MetaFeatures];
        EncodeMetadata(static _ => double.NaN, Meta, out _);
    }

    /// <summary>"name@version#sha256[..12]", as shadow statistics and the registry name the model.</summary>
    public string ShortIdentity { get; }

    /// <summary>The surveys the model declares (<c>model.json</c> <c>surveys</c>; <c>["ztf"]</c> when absent).</summary>
    public IReadOnlyList<string> Surveys { get; }

    /// <summary>The metadata the model needs (empty for a model that uses only what alerts carry).</summary>
    public IReadOnlyList<MetadataRequirement> Metadata { get; }

    /// <summary>The distinct <c>metadata[].source</c> names the model needs.</summary>
    public IReadOnlyList<string> MetadataSources { get; }

    public bool RequiresMetadata => Metadata.Count > 0;

    /// <summary>
    /// <c>model.json</c> says the metadata is required (<c>requiresMetadata</c>, by default whenever <c>metadata</c> lists
    /// anything): the model may serve a survey only where every source it needs is supplied. A model whose metadata is
    /// optional (<c>requiresMetadata: false</c>) is scored with the "unknown" encoding where a value is missing.
    /// </summary>
    public bool MetadataRequired { get; }

    /// <summary>
    /// Fills an object's metadata vector from its source values (NaN, or a value the source cannot take by
    /// <see cref="MetadataValues.IsUsable"/>: unknown) by the manifest's declaration: each entry's
    /// value features get the value (0 when unknown), features named <c>…_known</c> get 1 or 0 — the encoding's rule, so an
    /// unknown value is never confused with zero. <paramref name="redshift"/> receives the value of an entry with
    /// <c>timeDilation</c> when known (the step times become rest-frame), else NaN. Returns whether any value was known.
    /// </summary>
    public bool EncodeMetadata(Func<string, double> valueOfSource, Span<float> meta, out double redshift)
    {
        ArgumentNullException.ThrowIfNull(valueOfSource);
        redshift = double.NaN;
        var anyKnown = false;
        meta.Clear();
        for (var e = 0; e < Metadata.Count; e++)
        {
            var entry = Metadata[e];
            var value = valueOfSource(entry.Source);
            var known = MetadataValues.IsUsable(entry.Source, value);
            anyKnown |= known;
            if (known && entry.TimeDilation)
            {
                redshift = value;
            }

            for (var f = 0; f < entry.Features.Count; f++)
            {
                var index = _metaIndex[e][f];
                if (index >= 0 && index < meta.Length)
                {
                    meta[index] = entry.Features[f].EndsWith("_known", StringComparison.Ordinal) ? (known ? 1f : 0f) : (known ? (float)value : 0f);
                }
            }
        }

        return anyKnown;
    }

    /// <summary>Whether the model declares <paramref name="survey"/>.</summary>
    public bool Serves(string survey) => Surveys.Contains(survey, StringComparer.Ordinal);

    private static int IndexOf(IReadOnlyList<string> list, string name)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    public ModelPackage Package { get; }

    public BatchScorer Scorer { get; }

    /// <summary>The feature encoding the model was trained with: which points become steps, t₀, the features.</summary>
    public IStepEncoding Encoding { get; }

    /// <summary>
    /// Whether an object's stored state can be continued with only its new steps: the graph has a recurrent state and the
    /// encoding is incremental-exact. Otherwise every update re-runs the object's whole light curve.
    /// </summary>
    public bool IsIncremental => Scorer.HasState && Encoding.IncrementalExact;

    public string Name => Package.Manifest.Name;

    public string Version => Package.Manifest.Version;

    /// <summary>Identity stored with hidden states.</summary>
    public string Id { get; }

    public string[] Classes { get; }

    /// <summary>The metadata vector every request carries (empty when the model has no metadata branch).</summary>
    public float[] Meta { get; }

    /// <summary>
    /// Loads a package directory and runs the smoke batch on it (<see cref="ModelPackager.Verify"/>: a package whose output is
    /// not a probability distribution is refused as <see cref="ModelPackageProblemKind.InvalidOutput"/>, as the promotion gate
    /// refuses it); <paramref name="sessionOptions"/> chooses threads and the execution provider (CPU by default).
    /// </summary>
    public static ActiveModel Load(string directory, OnnxSessionOptions? sessionOptions = null)
    {
        var package = ModelPackager.Verified(ModelPackage.Load(directory, StepEncodings.Ids, sessionOptions), directory);
        try
        {
            return new ActiveModel(package);
        }
        catch
        {
            package.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Exports a model with random weights (the default network shape) into <paramref name="directory"/> and loads it: for the
    /// demo, tests and benchmarks until trained models ship in <c>models/</c>. Its probabilities mean nothing.
    /// </summary>
    /// <remarks>
    /// The model declares <paramref name="surveys"/> (default ZTF and LSST, so it serves every alert) and has the metadata
    /// branch only when <paramref name="metadata"/> is true (it then needs host redshift and E(B−V)); with
    /// <paramref name="detectionsOnly"/> its <c>model.json</c> says it was trained on detections only.
    /// </remarks>
    public static ActiveModel CreateRandom(string directory, IReadOnlyList<string>? classes = null, long seed = 42, int hiddenSize = 100, OnnxSessionOptions? sessionOptions = null, IReadOnlyList<string>? surveys = null, bool metadata = false, string name = "random-gru", bool detectionsOnly = false)
    {
        classes ??= DefaultDemoClasses;
        var config = new GruClassifierConfig
        {
            InputFeatures = LightCurveEncoding.StepFeatureCount,
            MetaFeatures = metadata ? LightCurveEncoding.MetaFeatureCount : 0,
            MetaDenseSize = metadata ? 10 : 0,
            Classes = classes.Count,
            HiddenSize = hiddenSize,
        };
        var weights = GruClassifierWeights.Random(config, seed);
        GruClassifierExporter.ExportPackage(weights, new ModelManifest
        {
            Name = name,
            Version = "0.0.0-random",
            Classes = [.. classes],
            Surveys = surveys ?? [SurveyNames.Ztf, SurveyNames.Lsst],
            Encoding = LightCurveEncoding.Descriptor(metadata) with { DetectionsOnly = detectionsOnly ? true : null },
        }, directory);
        return Load(directory, sessionOptions);
    }

    /// <summary>Class names of the random demo model.</summary>
    public static IReadOnlyList<string> DefaultDemoClasses { get; } = ["SN Ia", "SN II", "SN Ibc", "SLSN", "TDE", "AGN", "Variable star"];

    private void DisposeOwnedScorer()
    {
        if (_ownsScorer)
        {
            Scorer.Dispose();
        }
    }

    public void Dispose()
    {
        if (_ownsScorer)
        {
            Scorer.Dispose();
            Package.Dispose();
        }
    }
}

/// <summary>The worker has no model it can use (e.g. the registry's active model is refused); the worker exits with code 3.</summary>
public sealed class ModelUnavailableException : Exception
{
    public ModelUnavailableException()
    {
    }

    public ModelUnavailableException(string message)
        : base(message)
    {
    }

    public ModelUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
