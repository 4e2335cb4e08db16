using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AlertBroker.Model.Packaging;

/// <summary>
/// <c>model.json</c>: everything a worker needs to know about a <c>model.onnx</c> before it scores with it.
/// Serialised as camelCase JSON; see docs/model-package.md for every field.
/// </summary>
public sealed record ModelManifest
{
    /// <summary>Model name (a path segment: <c>models/&lt;name&gt;/&lt;version&gt;</c>).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Model version (a path segment).</summary>
    public string Version { get; init; } = string.Empty;

    public DateTimeOffset CreatedUtc { get; init; }

    /// <summary>Class names in the order of the <c>probs</c> output's last dimension.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    public FeatureEncodingDescriptor Encoding { get; init; } = new();

    public NetworkDescriptor Network { get; init; } = new();

    public TensorContract Tensors { get; init; } = new();

    public TrainingSummary Training { get; init; } = new();

    public OnnxFileDescriptor Onnx { get; init; } = new();
}

/// <summary>
/// The feature encoding the network was trained with. A worker refuses a model whose (name, version) it does not implement,
/// because the same numbers would mean different things.
/// </summary>
public sealed record FeatureEncodingDescriptor
{
    public string Name { get; init; } = string.Empty;

    public int Version { get; init; }

    /// <summary>Names of the per-step features, in the order of <c>x</c>'s last dimension.</summary>
    public IReadOnlyList<string> StepFeatures { get; init; } = [];

    /// <summary>Names of the metadata features, in the order of <c>meta</c>'s last dimension (empty without metadata).</summary>
    public IReadOnlyList<string> MetaFeatures { get; init; } = [];

    /// <summary>Central wavelength (µm) per passband name, e.g. "ztf:g" → 0.4746.</summary>
    public IReadOnlyDictionary<string, double> BandWavelengthsMicron { get; init; } = new Dictionary<string, double>();

    /// <summary>Fixed scaling constants of the encoding (e.g. flux divisor); no per-object normalisation.</summary>
    public IReadOnlyDictionary<string, float> Scaling { get; init; } = new Dictionary<string, float>();

    [JsonIgnore]
    public EncodingId Id => new(Name, Version);
}

/// <summary>A feature-encoding name and version, e.g. ("alertbroker-lc", 1).</summary>
public readonly record struct EncodingId(string Name, int Version)
{
    public override string ToString() => $"{Name} v{Version}";
}

/// <summary>The network's architecture, as far as the serving contract needs it.</summary>
public sealed record NetworkDescriptor
{
    /// <summary>Always "gru" for now.</summary>
    public string Type { get; init; } = "gru";

    public int Layers { get; init; }

    public int Hidden { get; init; }

    /// <summary>Width of the per-step dense layer (informational).</summary>
    public int Dense { get; init; }

    /// <summary>Width of the metadata dense layer (informational; 0 without metadata).</summary>
    public int MetaDense { get; init; }

    /// <summary>Width of the merge layer (informational).</summary>
    public int Merge { get; init; }

    /// <summary>Width of the latent layer (informational).</summary>
    public int Latent { get; init; }

    public int InputFeatures { get; init; }

    public int MetaFeatures { get; init; }

    public int Classes { get; init; }
}

/// <summary>The ONNX graph's input and output tensors.</summary>
public sealed record TensorContract
{
    public IReadOnlyList<TensorSpec> Inputs { get; init; } = [];

    public IReadOnlyList<TensorSpec> Outputs { get; init; } = [];

    /// <summary>
    /// The standard contract: inputs <c>x</c> [-1, -1, F], <c>meta</c> [-1, M] (only when M &gt; 0), <c>h0</c> [L, -1, H],
    /// <c>lengths</c> int32 [-1]; outputs <c>probs</c> [-1, -1, C] and <c>hn</c> [L, -1, H].
    /// </summary>
    public static TensorContract Standard(int layers, int hidden, int inputFeatures, int metaFeatures, int classes)
    {
        var inputs = new List<TensorSpec> { new(ModelTensorNames.X, "float32", [-1, -1, inputFeatures]) };
        if (metaFeatures > 0)
        {
            inputs.Add(new(ModelTensorNames.Meta, "float32", [-1, metaFeatures]));
        }

        inputs.Add(new(ModelTensorNames.H0, "float32", [layers, -1, hidden]));
        inputs.Add(new(ModelTensorNames.Lengths, "int32", [-1]));
        return new TensorContract
        {
            Inputs = inputs,
            Outputs =
            [
                new(ModelTensorNames.Probs, "float32", [-1, -1, classes]),
                new(ModelTensorNames.Hn, "float32", [layers, -1, hidden]),
            ],
        };
    }
}

/// <summary>One graph tensor: name, element type ("float32", "int32", …) and shape with -1 for a dynamic dimension.</summary>
public sealed record TensorSpec(string Name, string ElementType, IReadOnlyList<long> Shape);

/// <summary>What the model was trained on and how well it did.</summary>
public sealed record TrainingSummary
{
    /// <summary>Free-form description of the training data (sources, counts, splits).</summary>
    public JsonObject? Data { get; init; }

    /// <summary>Named evaluation metrics, e.g. "macroAuroc" → 0.93.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
}

/// <summary>The ONNX file of the package.</summary>
public sealed record OnnxFileDescriptor
{
    public string File { get; init; } = ModelPackage.OnnxFileName;

    /// <summary>Lower-case hex SHA-256 of the file's bytes.</summary>
    public string Sha256 { get; init; } = string.Empty;

    /// <summary>Default-domain opset the graph imports.</summary>
    public int Opset { get; init; }

    /// <summary>The graph's producer (name and version), e.g. "AlertBroker 1.0.0" or "pytorch 2.3.0".</summary>
    public string Producer { get; init; } = string.Empty;
}
