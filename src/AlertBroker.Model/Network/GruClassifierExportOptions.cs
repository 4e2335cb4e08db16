using System.Globalization;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Network;

/// <summary>The names <see cref="GruClassifierExporter"/> gives the graph's inputs and outputs.</summary>
public sealed record GruTensorNames
{
    public string X { get; init; } = ModelTensorNames.X;

    public string Meta { get; init; } = ModelTensorNames.Meta;

    public string H0 { get; init; } = ModelTensorNames.H0;

    public string Lengths { get; init; } = ModelTensorNames.Lengths;

    public string Probs { get; init; } = ModelTensorNames.Probs;

    public string Hn { get; init; } = ModelTensorNames.Hn;
}

/// <summary>How <see cref="GruClassifierExporter"/> writes a graph.</summary>
public sealed record GruClassifierExportOptions
{
    /// <summary>The project's own export: opset 17, standard names, a <c>lengths</c> input, self-describing.</summary>
    public static GruClassifierExportOptions Default { get; } = new();

    /// <summary>
    /// The graph a PyTorch user gets from <c>torch.onnx.export</c> of the paper's network (docs/model-package.md): opset 14,
    /// inputs <c>x</c> and <c>h0</c>, outputs <c>probs</c> and <c>hn</c>, no <c>lengths</c> input, no AlertBroker metadata,
    /// producer "pytorch".
    /// </summary>
    public static GruClassifierExportOptions PyTorchStyle { get; } = new()
    {
        Opset = 14,
        Lengths = false,
        SelfDescribing = false,
        ProducerName = "pytorch",
        ProducerVersion = "2.3.0",
        GraphName = "main_graph",
    };

    /// <summary>Default-domain opset, <see cref="GruClassifierExporter.MinimumOpset"/>–<see cref="GruClassifierExporter.MaximumOpset"/>.</summary>
    public int Opset { get; init; } = GruClassifierExporter.Opset;

    /// <summary>Whether the graph has the int32 <c>lengths</c> input (GRU <c>sequence_lens</c>).</summary>
    public bool Lengths { get; init; } = true;

    /// <summary>
    /// Whether the graph has the recurrent state input <c>h0</c> and output <c>hn</c>. Without them every row starts from
    /// zeros and nothing can be continued: the worker re-runs the whole light curve on every update.
    /// </summary>
    public bool State { get; init; } = true;

    /// <summary>
    /// Test hook: declare the lengths input but do not wire it into the GRU (what "adding a dummy lengths input" to a
    /// PyTorch export gives): the graph then runs over padding. Never set by the project's own exports.
    /// </summary>
    internal bool IgnoreLengths { get; init; }

    /// <summary>Test hook: declare the state input but start every row from zeros (a graph whose state cannot be continued).</summary>
    internal bool IgnoreStateInput { get; init; }

    /// <summary>Whether to write the <c>alertbroker.gru.sizes</c> metadata property that lets <see cref="GruClassifierExporter.FromOnnx"/> read the weights back.</summary>
    public bool SelfDescribing { get; init; } = true;

    public GruTensorNames Names { get; init; } = new();

    public string ProducerName { get; init; } = GruClassifierExporter.ProducerName;

    /// <summary>Null: this assembly's version.</summary>
    public string? ProducerVersion { get; init; }

    public string GraphName { get; init; } = "alertbroker_gru_classifier";

    /// <summary>Throws <see cref="ArgumentException"/> for an opset outside the supported range or duplicate/empty names.</summary>
    public void Validate()
    {
        if (Opset is < GruClassifierExporter.MinimumOpset or > GruClassifierExporter.MaximumOpset)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"opset {Opset} is not written by this exporter ({GruClassifierExporter.MinimumOpset}–{GruClassifierExporter.MaximumOpset})"));
        }

        string[] names = [Names.X, Names.Meta, Names.H0, Names.Lengths, Names.Probs, Names.Hn];
        if (names.Any(string.IsNullOrWhiteSpace) || names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            throw new ArgumentException($"tensor names must be non-empty and distinct: {string.Join(", ", names)}");
        }
    }
}
