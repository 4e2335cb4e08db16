using AlertBroker.Model.Onnx.Protobuf;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// What an ONNX file declares, read from its protobuf without ONNX Runtime: producer, IR version, the default-domain
/// opset, metadata properties and the graph's fed inputs and outputs with their element types and (symbolic) shapes.
/// </summary>
public sealed record OnnxGraphInfo(
    string ProducerName,
    string ProducerVersion,
    long IrVersion,
    long DefaultOpset,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<OnnxGraphTensor> Inputs,
    IReadOnlyList<OnnxGraphTensor> Outputs)
{
    /// <summary>"pytorch 2.3.0", or the name alone.</summary>
    public string Producer => $"{ProducerName} {ProducerVersion}".Trim();

    /// <summary>The first float initializer element that is NaN, as "NAME[INDEX]"; null when there is none.</summary>
    public string? NaNWeight { get; init; }

    /// <summary>The first initializer whose values the file does not hold, as "NAME (in LOCATION)"; null when it holds them all.</summary>
    public string? ExternalWeight { get; init; }

    /// <summary>Reads the file's declarations; throws <see cref="FormatException"/> when the bytes are not an ONNX ModelProto.</summary>
    public static OnnxGraphInfo Read(ReadOnlySpan<byte> model)
    {
        var reader = OnnxModelReader.Parse(model);
        return new OnnxGraphInfo(reader.ProducerName, reader.ProducerVersion, reader.IrVersion, reader.DefaultOpset, reader.Metadata, reader.Inputs, reader.Outputs)
        {
            NaNWeight = FindNaN(reader),
            ExternalWeight = FindExternal(reader),
        };
    }

    /// <summary>
    /// A NaN weight is never meant (an infinite one may be: a mask), and ONNX Runtime's clamped activations can turn it into
    /// finite, plausible and wrong probabilities (a NaN recurrent weight in one GRU layer of <c>ztf-bts</c> 2.7.0 moved the
    /// top probability of a real alert from 0.68 to 0.51 and no output was NaN), so the smoke batch cannot be relied on to see it.
    /// </summary>
    internal static string? FindNaN(OnnxModelReader reader)
    {
        foreach (var (name, tensor) in reader.Initializers)
        {
            var i = Array.FindIndex(tensor.Floats, float.IsNaN);
            if (i >= 0)
            {
                return $"{name}[{i}]";
            }
        }

        return null;
    }

    /// <summary>
    /// Weights kept beside the file ("external data", which exporters write for large models) are not part of a package's one
    /// <c>model.onnx</c>: ONNX Runtime, loading the package's bytes, looked for them relative to the working directory, so a
    /// package made beside its weights loaded there and nowhere else (and their NaNs were never seen).
    /// </summary>
    internal static string? FindExternal(OnnxModelReader reader)
    {
        foreach (var (name, tensor) in reader.Initializers)
        {
            if (tensor.ExternalLocation is { } location)
            {
                return $"{name} (in {location})";
            }
        }

        return null;
    }

    /// <summary>The package problem for weights kept outside the ONNX file.</summary>
    internal static string ExternalWeightProblem(string where) =>
        $"the weights of {where} are stored outside the ONNX file (external data); a package is one self-contained model.onnx: export the model with its weights inside (PyTorch: torch.onnx.export(..., external_data=False); onnx: onnx.save_model(model, path, save_as_external_data=False); both need the model under 2 GB)";

    /// <summary>The package problem for a NaN weight.</summary>
    internal static string NaNWeightProblem(string where) =>
        $"the weight {where} is NaN: a network with a NaN weight gives no probabilities (or, through clamped activations, plausible wrong ones)";
}

/// <summary>A graph input or output as the file declares it: name, element type and dimensions (a size, or a named/unnamed dynamic one).</summary>
public sealed record OnnxGraphTensor(string Name, OnnxElementType ElementType, IReadOnlyList<OnnxGraphDimension> Shape, bool HasShape)
{
    /// <summary>The shape with -1 for every dynamic dimension.</summary>
    public long[] Sizes => [.. Shape.Select(d => d.Value ?? -1)];

    public override string ToString() =>
        $"{Name}: {OnnxElementTypeNames.ToName(ElementType)} {(HasShape ? "[" + string.Join(", ", Shape) + "]" : "(no shape)")}";
}

/// <summary>A dimension of a declared tensor: <see cref="Value"/> when fixed, else dynamic with an optional <see cref="Parameter"/> name (e.g. "batch").</summary>
public readonly record struct OnnxGraphDimension(long? Value, string? Parameter)
{
    public bool IsDynamic => Value is null;

    public override string ToString() => Value is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : Parameter is { Length: > 0 } p ? p : "?";
}
