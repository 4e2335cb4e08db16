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
    public ActiveModel(ModelPackage package, BatchScorerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        Package = package;
        var id = package.Manifest.Encoding.Id;
        Encoding = StepEncodings.Find(id)
            ?? throw new ModelPackageException(package.Source, [new(ModelPackageProblemKind.UnsupportedEncoding, $"feature encoding {id} is not implemented here (implemented: {StepEncodings.Describe()})")]);
        Scorer = new BatchScorer(package, options);
        var d = Scorer.Dimensions;
        if (d.InputFeatures != Encoding.StepFeatureCount)
        {
            Scorer.Dispose();
            throw new ModelPackageException(package.Source, [new(ModelPackageProblemKind.EncodingMismatch, $"the network takes {d.InputFeatures} step features; {Encoding.Id} has {Encoding.StepFeatureCount}")]);
        }

        if (d.MetaFeatures != 0 && d.MetaFeatures != Encoding.MetaFeatureCount)
        {
            Scorer.Dispose();
            throw new ModelPackageException(package.Source, [new(ModelPackageProblemKind.EncodingMismatch, $"the network takes {d.MetaFeatures} metadata features; {Encoding.Id} has {Encoding.MetaFeatureCount}")]);
        }

        Classes = [.. package.Manifest.Classes];
        Id = string.Concat(package.Manifest.Name, "/", package.Manifest.Version, "/", package.Sha256[..Math.Min(12, package.Sha256.Length)]);
        Meta = new float[d.MetaFeatures];
        if (d.MetaFeatures > 0)
        {
            // Alerts carry neither host redshift nor MW extinction yet: both unknown, flagged as such.
            Encoding.EncodeMeta(double.NaN, double.NaN, Meta);
        }
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

    /// <summary>Loads a package directory; <paramref name="sessionOptions"/> chooses threads and the execution provider (CPU by default).</summary>
    public static ActiveModel Load(string directory, OnnxSessionOptions? sessionOptions = null)
    {
        var package = ModelPackage.Load(directory, StepEncodings.Ids, sessionOptions);
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
    public static ActiveModel CreateRandom(string directory, IReadOnlyList<string>? classes = null, long seed = 42, int hiddenSize = 100, OnnxSessionOptions? sessionOptions = null)
    {
        classes ??= DefaultDemoClasses;
        var config = new GruClassifierConfig
        {
            InputFeatures = LightCurveEncoding.StepFeatureCount,
            MetaFeatures = LightCurveEncoding.MetaFeatureCount,
            Classes = classes.Count,
            HiddenSize = hiddenSize,
        };
        var weights = GruClassifierWeights.Random(config, seed);
        GruClassifierExporter.ExportPackage(weights, new ModelManifest
        {
            Name = "random-gru",
            Version = "0.0.0-random",
            Classes = [.. classes],
            Encoding = LightCurveEncoding.Descriptor(),
        }, directory);
        return Load(directory, sessionOptions);
    }

    /// <summary>Class names of the random demo model.</summary>
    public static IReadOnlyList<string> DefaultDemoClasses { get; } = ["SN Ia", "SN II", "SN Ibc", "SLSN", "TDE", "AGN", "Variable star"];

    public void Dispose()
    {
        Scorer.Dispose();
        Package.Dispose();
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
