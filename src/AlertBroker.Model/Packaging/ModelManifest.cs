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

    /// <summary>
    /// Surveys the model is meant for ("ztf", "lsst"; several allowed), as written; null when the package predates the
    /// field. Use <see cref="EffectiveSurveys"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Surveys { get; init; }

    /// <summary>
    /// Whether the model needs the metadata <see cref="Metadata"/> lists (which alerts do not carry): true, it may serve a
    /// survey only where a source supplies each entry; false with entries listed, the metadata is optional (scored as unknown
    /// where no source supplies it); as written, null in packages that predate the field. Use <see cref="EffectiveRequiresMetadata"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? RequiresMetadata { get; init; }

    /// <summary>
    /// The metadata the model needs, one entry per quantity, naming the <c>encoding.metaFeatures</c> it fills and what
    /// supplies it; empty for a model that uses only what alerts carry. Null in packages that predate the field: use
    /// <see cref="EffectiveMetadata"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<MetadataRequirement>? Metadata { get; init; }

    public FeatureEncodingDescriptor Encoding { get; init; } = new();

    public NetworkDescriptor Network { get; init; } = new();

    public TensorContract Tensors { get; init; } = new();

    public TrainingSummary Training { get; init; } = new();

    public OnnxFileDescriptor Onnx { get; init; } = new();

    /// <summary>What <see cref="EffectiveSurveys"/> is for a package without <c>surveys</c>: ZTF, the only survey models were made for before the field existed.</summary>
    public static IReadOnlyList<string> DefaultSurveys { get; } = [SurveyNames.Ztf];

    /// <summary><see cref="Surveys"/>, or <see cref="DefaultSurveys"/> when the manifest has none.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> EffectiveSurveys => Surveys is { Count: > 0 } surveys ? surveys : DefaultSurveys;

    /// <summary><see cref="Metadata"/>, or the declaration inferred from <c>encoding.metaFeatures</c> (<see cref="MetadataRequirement.Infer"/>).</summary>
    [JsonIgnore]
    public IReadOnlyList<MetadataRequirement> EffectiveMetadata => Metadata ?? MetadataRequirement.Infer(Encoding?.MetaFeatures ?? []);

    /// <summary>
    /// Which graph tensor plays which part of the scoring contract: <c>tensors.roles</c>, or for a package without it the
    /// standard names (<c>x</c>, <c>meta</c> when the network has metadata features, <c>h0</c>, <c>hn</c>, <c>lengths</c>,
    /// <c>probs</c>).
    /// </summary>
    [JsonIgnore]
    public TensorRoles EffectiveRoles => Tensors?.Roles ?? TensorRoles.Standard((Network?.MetaFeatures ?? 0) > 0);

    /// <summary><see cref="RequiresMetadata"/>, or whether <see cref="EffectiveMetadata"/> lists anything.</summary>
    [JsonIgnore]
    public bool EffectiveRequiresMetadata => RequiresMetadata ?? EffectiveMetadata.Count > 0;

    /// <summary>
    /// Whether the model is fed detections only: <c>encoding.detectionsOnly</c>, else what the trainer recorded
    /// (<c>training.data.encoding.detectionsOnly</c>), else false (every point, as before the field existed).
    /// </summary>
    [JsonIgnore]
    public bool EffectiveDetectionsOnly => Encoding?.DetectionsOnly ?? RecordedDetectionsOnly(Training?.Data) ?? false;

    /// <summary>What a trainer's data description records (<c>encoding.detectionsOnly</c>), null when it says nothing.</summary>
    public static bool? RecordedDetectionsOnly(JsonObject? trainingData) =>
        trainingData?["encoding"] is JsonObject e && e["detectionsOnly"] is JsonValue v && v.TryGetValue<bool>(out var recorded) ? recorded : null;

    /// <summary>Whether the model is meant for <paramref name="survey"/> (case-insensitive, e.g. "ztf").</summary>
    public bool IsForSurvey(string survey)
    {
        foreach (var s in EffectiveSurveys)
        {
            if (string.Equals(s, survey, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Survey names used in <see cref="ModelManifest.Surveys"/>.</summary>
public static class SurveyNames
{
    /// <summary>Zwicky Transient Facility alerts.</summary>
    public const string Ztf = "ztf";

    /// <summary>Vera C. Rubin Observatory (LSST) alerts.</summary>
    public const string Lsst = "lsst";
}

/// <summary>What supplies a metadata quantity (<see cref="MetadataRequirement.Source"/>): the worker needs a configured source of that kind.</summary>
public static class MetadataSources
{
    /// <summary>The host galaxy's redshift (spectroscopic or photometric), keyed by object; alerts do not carry it.</summary>
    public const string HostRedshift = "host-redshift";

    /// <summary>Milky Way dust reddening E(B−V) towards the object (e.g. from a dust map at its position).</summary>
    public const string MilkyWayEbv = "mw-ebv";

    /// <summary>The longest source name <see cref="IsName"/> accepts.</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// A well-formed source name: lower-case ASCII letters, digits, '-', '_' and '.', starting with a letter or digit
    /// (<c>host-redshift</c>, <c>mw-ebv</c>, <c>label</c>). A model's <c>metadata[].source</c> is matched exactly to the
    /// sources an operator declares (<c>models metadata set --source</c>), which must be such names: a model naming
    /// "Host Redshift" could never be given its source.
    /// </summary>
    public static bool IsName(string? source)
    {
        if (string.IsNullOrEmpty(source) || source.Length > MaxNameLength || source[0] is '-' or '_' or '.')
        {
            return false;
        }

        foreach (var c in source)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <paramref name="name"/> made a source name (<see cref="IsName"/>): lower-cased, each run of other characters
    /// (a space, '/', a non-ASCII letter) one '-', separators at either end dropped: <c>Host_Z</c> → <c>host_z</c>,
    /// <c>HOSTZ</c> → <c>hostz</c>, <c>Host Redshift</c> → <c>host-redshift</c>. Null when nothing is left or the result is
    /// longer than <see cref="MaxNameLength"/>. A name that already is one comes back unchanged.
    /// </summary>
    public static string? ToName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        if (IsName(name))
        {
            return name;
        }

        var text = new System.Text.StringBuilder(name.Length);
        foreach (var c in name)
        {
            var lower = char.ToLowerInvariant(c);
            if (lower is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.')
            {
                text.Append(lower);
            }
            else if (text.Length > 0 && text[^1] != '-')
            {
                text.Append('-');
            }
        }

        var result = text.ToString().Trim('-', '_', '.');
        return IsName(result) ? result : null;
    }
}

/// <summary>
/// One metadata quantity a model needs: its <see cref="Name"/>, the <c>encoding.metaFeatures</c> it fills
/// (<see cref="Features"/>), what supplies it (<see cref="Source"/>, one of <see cref="MetadataSources"/> or another
/// agreed name) and whether it also changes the step features (<see cref="TimeDilation"/>: step times divided by 1 + z).
/// </summary>
public sealed record MetadataRequirement
{
    public string Name { get; init; } = string.Empty;

    public IReadOnlyList<string> Features { get; init; } = [];

    public string Source { get; init; } = string.Empty;

    /// <summary>The redshift also makes the step times rest-frame ((t − t₀)/(1 + z)); unknown → observer frame.</summary>
    public bool TimeDilation { get; init; }

    public string? Description { get; init; }

    /// <summary>The host-redshift entry of the project's encoding: features <c>redshift</c>, <c>redshift_known</c>; time dilation.</summary>
    public static MetadataRequirement Redshift { get; } = new()
    {
        Name = "redshift",
        Features = ["redshift", "redshift_known"],
        Source = MetadataSources.HostRedshift,
        TimeDilation = true,
        Description = "host-galaxy redshift (spectroscopic or photometric); also makes the step times rest-frame",
    };

    /// <summary>The Milky Way reddening entry of the project's encoding: features <c>mw_ebv</c>, <c>mw_ebv_known</c>.</summary>
    public static MetadataRequirement MilkyWayEbv { get; } = new()
    {
        Name = "mw_ebv",
        Features = ["mw_ebv", "mw_ebv_known"],
        Source = MetadataSources.MilkyWayEbv,
        Description = "Milky Way dust reddening E(B−V) towards the object",
    };

    /// <summary>
    /// The declaration a package without <c>metadata</c> is read with: <see cref="Redshift"/> and <see cref="MilkyWayEbv"/>
    /// for their features, and for any other metadata feature an entry named after it whose source is its name made a
    /// source name (<see cref="MetadataSources.ToName"/>: an external model's <c>Host_Z</c> needs source <c>host_z</c>,
    /// the name <c>models metadata set --source</c> and the worker's <c>Metadata:Sources</c> settings can give; the
    /// feature's own name could never be given). A feature with no such name (nothing but punctuation, over 64
    /// characters) keeps its own name as the source, which no source can supply: such a package needs an explicit
    /// <c>metadata</c> list. An empty list for a model without metadata features.
    /// </summary>
    public static IReadOnlyList<MetadataRequirement> Infer(IReadOnlyList<string> metaFeatures)
    {
        ArgumentNullException.ThrowIfNull(metaFeatures);
        var list = new List<MetadataRequirement>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var standard in new[] { Redshift, MilkyWayEbv })
        {
            if (standard.Features.Any(metaFeatures.Contains))
            {
                list.Add(standard with { Features = [.. standard.Features.Where(metaFeatures.Contains)] });
                covered.UnionWith(standard.Features);
            }
        }

        foreach (var f in metaFeatures)
        {
            if (f is not null && covered.Add(f))
            {
                list.Add(new MetadataRequirement { Name = f, Features = [f], Source = MetadataSources.ToName(f) ?? f });
            }
        }

        return list;
    }
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

    /// <summary>
    /// Which points the model was trained on: true for detections only (the worker then leaves out an alert's forced
    /// photometry for this model), false for every point the encoding takes. Null in packages that predate the field:
    /// use <see cref="ModelManifest.EffectiveDetectionsOnly"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? DetectionsOnly { get; init; }

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

/// <summary>The ONNX graph's input and output tensors, and which of them plays which part of the scoring contract.</summary>
public sealed record TensorContract
{
    public IReadOnlyList<TensorSpec> Inputs { get; init; } = [];

    public IReadOnlyList<TensorSpec> Outputs { get; init; } = [];

    /// <summary>
    /// The role of each graph tensor; null (absent in packages written before the field, and in the standard contract) means
    /// the standard names (<see cref="TensorRoles.Standard"/>).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TensorRoles? Roles { get; init; }

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

/// <summary>
/// Which graph tensor plays which part of the scoring contract (<c>tensors.roles</c>); null marks a part the graph does not
/// have. <see cref="Steps"/> and <see cref="Probabilities"/> are required; <see cref="StateIn"/> and <see cref="StateOut"/>
/// come together or not at all (without them every update re-runs the whole light curve); without <see cref="Lengths"/>
/// rows of equal length are scored together and nothing is padded; <see cref="Metadata"/> only for a model with metadata
/// features.
/// </summary>
public sealed record TensorRoles
{
    /// <summary>Input, float32 [batch, steps, F]: the encoded steps.</summary>
    public string? Steps { get; init; }

    /// <summary>Input, float32 [batch, M]: the metadata vector.</summary>
    public string? Metadata { get; init; }

    /// <summary>Input, float32 [layers, batch, hidden]: the recurrent state before the first step.</summary>
    public string? StateIn { get; init; }

    /// <summary>Output, float32 [layers, batch, hidden]: the recurrent state after each row's last (valid) step.</summary>
    public string? StateOut { get; init; }

    /// <summary>Input, int32 or int64 [batch]: valid steps per row.</summary>
    public string? Lengths { get; init; }

    /// <summary>Output, float32 [batch, steps, C]: class probabilities after every step.</summary>
    public string? Probabilities { get; init; }

    /// <summary>Both state tensors are present: the model can continue from a stored state.</summary>
    [JsonIgnore]
    public bool HasState => StateIn is not null && StateOut is not null;

    /// <summary>The roles of the standard contract's names (what packages without <c>tensors.roles</c> mean).</summary>
    public static TensorRoles Standard(bool metadata) => new()
    {
        Steps = ModelTensorNames.X,
        Metadata = metadata ? ModelTensorNames.Meta : null,
        StateIn = ModelTensorNames.H0,
        StateOut = ModelTensorNames.Hn,
        Lengths = ModelTensorNames.Lengths,
        Probabilities = ModelTensorNames.Probs,
    };

    public override string ToString() =>
        $"steps={Steps ?? "-"}, metadata={Metadata ?? "-"}, stateIn={StateIn ?? "-"}, stateOut={StateOut ?? "-"}, lengths={Lengths ?? "-"}, probabilities={Probabilities ?? "-"}";
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
