using System.Globalization;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Onnx.Protobuf;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Network;

/// <summary>
/// Exports a <see cref="GruClassifierWeights"/> network to ONNX (opset 17, ONNX <c>GRU</c> with
/// <c>linear_before_reset=1</c>) with the model contract's tensors, and reads such a file back into weights.
/// </summary>
public static class GruClassifierExporter
{
    public const int Opset = OnnxModelBuilder.DefaultOpset;
    public const int MinimumOpset = 13;
    public const int MaximumOpset = 17;
    public const string ProducerName = "AlertBroker";

    // Model metadata key holding the nine network sizes, so an exported file describes itself.
    internal const string SizesMetadataKey = "alertbroker.gru.sizes";

    public static string ProducerVersion { get; } =
        typeof(GruClassifierExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The manifest's <c>network</c> section for a configuration.</summary>
    public static NetworkDescriptor Describe(GruClassifierConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new NetworkDescriptor
        {
            Type = "gru",
            Layers = config.Layers,
            Hidden = config.HiddenSize,
            Dense = config.DenseSize,
            MetaDense = config.MetaFeatures > 0 ? config.MetaDenseSize : 0,
            Merge = config.MergeSize,
            Latent = config.LatentSize,
            InputFeatures = config.InputFeatures,
            MetaFeatures = config.MetaFeatures,
            Classes = config.Classes,
        };
    }

    /// <summary>
    /// Builds the ONNX model. Graph: Transpose x to time-major → per layer Slice h0 → GRU (gate blocks reordered from
    /// PyTorch's r,z,n to ONNX's z,r,h; <c>sequence_lens</c> = lengths) → Squeeze the direction axis → Transpose back →
    /// MatMul/Add/Tanh (step dense) → merge → ReLU → latent → ReLU → logits → Softmax(axis −1).
    /// The merge layer on concat(step, meta) is written as MatMul(step, W_step) + Unsqueeze(MatMul(meta, W_meta)) + b,
    /// the same function without materialising the metadata tiled over every step.
    /// </summary>
    public static byte[] ToOnnx(GruClassifierWeights weights) => ToOnnx(weights, GruClassifierExportOptions.Default);

    /// <summary>
    /// Builds the ONNX model with <paramref name="options"/>: the opset, the tensor names, whether the graph has a
    /// <c>lengths</c> input (without it, every row runs to the end of the steps dimension, as a plain PyTorch export does) and
    /// whether it describes itself (<c>alertbroker.gru.sizes</c>, which <see cref="FromOnnx"/> needs).
    /// </summary>
    public static byte[] ToOnnx(GruClassifierWeights weights, GruClassifierExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var c = weights.Config;
        int h = c.HiddenSize, layers = c.Layers;
        var b = new OnnxModelBuilder
        {
            GraphName = options.GraphName,
            ProducerName = options.ProducerName,
            ProducerVersion = options.ProducerVersion ?? ProducerVersion,
            Opset = options.Opset,
        };
        var names = options.Names;
        var batch = OnnxDimension.Dynamic("batch");
        var steps = OnnxDimension.Dynamic("steps");
        b.AddInput(names.X, OnnxElementType.Float, batch, steps, OnnxDimension.Fixed(c.InputFeatures));
        if (c.MetaFeatures > 0)
        {
            b.AddInput(names.Meta, OnnxElementType.Float, batch, OnnxDimension.Fixed(c.MetaFeatures));
        }

        if (options.State)
        {
            b.AddInput(names.H0, OnnxElementType.Float, OnnxDimension.Fixed(layers), batch, OnnxDimension.Fixed(h));
        }

        if (options.Lengths)
        {
            b.AddInput(names.Lengths, OnnxElementType.Int32, batch);
        }

        b.AddOutput(names.Probs, OnnxElementType.Float, batch, steps, OnnxDimension.Fixed(c.Classes));
        if (options.State)
        {
            b.AddOutput(names.Hn, OnnxElementType.Float, OnnxDimension.Fixed(layers), batch, OnnxDimension.Fixed(h));
        }

        if (options.SelfDescribing)
        {
            b.AddMetadata(SizesMetadataKey, string.Join(',', GruClassifierWeights.ConfigSizes(c)));
        }

        b.AddInitializer(OnnxInitializer.Int64("axes_0", [0L], 1));
        b.AddInitializer(OnnxInitializer.Int64("axes_1", [1L], 1));

        // GRU stack, time-major [steps, batch, features].
        var sequence = b.Add("Transpose", "x_time_major", [names.X], OnnxAttribute.Of("perm", [1L, 0L, 2L]));
        var finalStates = new string[layers];
        for (var l = 0; l < layers; l++)
        {
            var layer = weights.GruLayers[l];
            b.AddInitializer(OnnxInitializer.Float($"gru_l{l}.W", ReorderGates(layer.WeightIh), 1, 3 * h, layer.InputSize));
            b.AddInitializer(OnnxInitializer.Float($"gru_l{l}.R", ReorderGates(layer.WeightHh), 1, 3 * h, h));
            var bias = new float[6 * h];
            ReorderGates(layer.BiasIh).CopyTo(bias, 0);
            ReorderGates(layer.BiasHh).CopyTo(bias, 3 * h);
            b.AddInitializer(OnnxInitializer.Float($"gru_l{l}.B", bias, 1, 6 * h));
            b.AddInitializer(OnnxInitializer.Int64($"gru_l{l}.start", [l], 1));
            b.AddInitializer(OnnxInitializer.Int64($"gru_l{l}.end", [l + 1], 1));

            // Without a state input the optional initial_h is left empty (zeros); without a lengths input (or with one that
            // is ignored) sequence_lens is left empty and every row runs over all steps.
            var initial = options.State && !options.IgnoreStateInput ? b.Add("Slice", $"h0_l{l}", [names.H0, $"gru_l{l}.start", $"gru_l{l}.end", "axes_0"]) : string.Empty;
            var y = $"gru_l{l}_y";
            finalStates[l] = layers == 1 && options.State ? names.Hn : $"gru_l{l}_hn";
            b.AddNode(
                "GRU",
                [sequence, $"gru_l{l}.W", $"gru_l{l}.R", $"gru_l{l}.B", options.Lengths && !options.IgnoreLengths ? names.Lengths : string.Empty, initial],
                [y, finalStates[l]],
                OnnxAttribute.Of("hidden_size", (long)h),
                OnnxAttribute.Of("linear_before_reset", 1L),
                OnnxAttribute.Of("direction", "forward"));

            // Y is [steps, num_directions = 1, batch, hidden].
            sequence = b.Add("Squeeze", $"gru_l{l}_out", [y, "axes_1"]);
        }

        if (layers > 1 && options.State)
        {
            b.AddNode("Concat", finalStates, [names.Hn], OnnxAttribute.Of("axis", 0L));
        }

        var top = b.Add("Transpose", "gru_out", [sequence], OnnxAttribute.Of("perm", [1L, 0L, 2L]));

        // Head on [batch, steps, *]; weights are stored transposed ([in, out]) for MatMul.
        var stepDense = Linear(b, "step_dense", top, weights.StepDense.Weight, weights.StepDense.Bias, weights.StepDense.InputSize, weights.StepDense.OutputSize);
        stepDense = b.Add("Tanh", "step_dense_tanh", [stepDense]);

        var merge = weights.Merge;
        var stepColumns = new float[c.DenseSize * c.MergeSize];
        TransposeColumns(merge.Weight, merge.InputSize, 0, c.DenseSize, c.MergeSize, stepColumns);
        b.AddInitializer(OnnxInitializer.Float("merge.weight_step_t", stepColumns, c.DenseSize, c.MergeSize));
        b.AddInitializer(OnnxInitializer.Float("merge.bias", merge.Bias, c.MergeSize));
        var merged = b.Add("MatMul", "merge_step", [stepDense, "merge.weight_step_t"]);
        merged = b.Add("Add", "merge_biased", [merged, "merge.bias"]);
        if (c.MetaFeatures > 0)
        {
            var metaDense = Linear(b, "meta_dense", names.Meta, weights.MetaDense!.Weight, weights.MetaDense.Bias, c.MetaFeatures, c.MetaDenseSize);
            metaDense = b.Add("Tanh", "meta_dense_tanh", [metaDense]);
            var metaColumns = new float[c.MetaDenseSize * c.MergeSize];
            TransposeColumns(merge.Weight, merge.InputSize, c.DenseSize, c.MetaDenseSize, c.MergeSize, metaColumns);
            b.AddInitializer(OnnxInitializer.Float("merge.weight_meta_t", metaColumns, c.MetaDenseSize, c.MergeSize));
            var metaMerge = b.Add("MatMul", "merge_meta", [metaDense, "merge.weight_meta_t"]);
            metaMerge = b.Add("Unsqueeze", "merge_meta_per_step", [metaMerge, "axes_1"]);
            merged = b.Add("Add", "merge_sum", [merged, metaMerge]);
        }

        merged = b.Add("Relu", "merge_relu", [merged]);
        var latent = Linear(b, "latent", merged, weights.Latent.Weight, weights.Latent.Bias, c.MergeSize, c.LatentSize);
        latent = b.Add("Relu", "latent_relu", [latent]);
        var logits = Linear(b, "output", latent, weights.Output.Weight, weights.Output.Bias, c.LatentSize, c.Classes);
        b.AddNode("Softmax", [logits], [names.Probs], OnnxAttribute.Of("axis", -1L));
        return b.ToBytes();
    }

    /// <summary>
    /// Reads weights back from an ONNX file written by <see cref="ToOnnx(GruClassifierWeights, GruClassifierExportOptions)"/> with <see cref="GruClassifierExportOptions.SelfDescribing"/> (e.g. a package's <c>model.onnx</c>, to
    /// fine-tune it). Throws <see cref="FormatException"/> for any other file; a network exported by another tool
    /// carries other initializer names and cannot be read this way.
    /// </summary>
    public static GruClassifierWeights FromOnnx(ReadOnlySpan<byte> onnx)
    {
        var model = OnnxModelReader.Parse(onnx);
        if (!model.Metadata.TryGetValue(SizesMetadataKey, out var sizesText))
        {
            throw new FormatException($"Not an AlertBroker GRU export: metadata '{SizesMetadataKey}' is missing.");
        }

        var parts = sizesText.Split(',');
        var sizes = new int[9];
        if (parts.Length != sizes.Length)
        {
            throw new FormatException($"Metadata '{SizesMetadataKey}' must hold nine sizes, found '{sizesText}'.");
        }

        for (var i = 0; i < sizes.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out sizes[i]))
            {
                throw new FormatException($"Metadata '{SizesMetadataKey}' has a bad size '{parts[i]}'.");
            }
        }

        GruClassifierWeights weights;
        try
        {
            var config = GruClassifierWeights.ConfigFromSizes(sizes);
            config.Validate();

            // The sizes come from the file: every parameter must be present in its initializers before we allocate.
            long available = 0;
            foreach (var tensor in model.Initializers.Values)
            {
                available += tensor.Floats.Length;
            }

            if (GruClassifierWeights.CountParameters(config) > available)
            {
                throw new FormatException($"Metadata '{SizesMetadataKey}' describes more parameters than the file's initializers hold.");
            }

            weights = new GruClassifierWeights(config);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Metadata '{SizesMetadataKey}' describes an invalid network: {e.Message}", e);
        }

        var c = weights.Config;
        var h = c.HiddenSize;
        for (var l = 0; l < c.Layers; l++)
        {
            var layer = weights.GruLayers[l];
            ReorderGates(Floats(model, $"gru_l{l}.W", layer.WeightIh.Length)).CopyTo(layer.WeightIh, 0);
            ReorderGates(Floats(model, $"gru_l{l}.R", layer.WeightHh.Length)).CopyTo(layer.WeightHh, 0);
            var bias = Floats(model, $"gru_l{l}.B", 6 * h);
            ReorderGates(bias.AsSpan(0, 3 * h)).CopyTo(layer.BiasIh, 0);
            ReorderGates(bias.AsSpan(3 * h, 3 * h)).CopyTo(layer.BiasHh, 0);
        }

        ReadLinear(model, "step_dense", weights.StepDense);
        if (weights.MetaDense is not null)
        {
            ReadLinear(model, "meta_dense", weights.MetaDense);
        }

        var merge = weights.Merge;
        var stepColumns = Floats(model, "merge.weight_step_t", c.DenseSize * c.MergeSize);
        UntransposeColumns(stepColumns, c.DenseSize, c.MergeSize, merge.Weight, merge.InputSize, 0);
        if (c.MetaFeatures > 0)
        {
            var metaColumns = Floats(model, "merge.weight_meta_t", c.MetaDenseSize * c.MergeSize);
            UntransposeColumns(metaColumns, c.MetaDenseSize, c.MergeSize, merge.Weight, merge.InputSize, c.DenseSize);
        }

        Floats(model, "merge.bias", c.MergeSize).CopyTo(merge.Bias, 0);
        ReadLinear(model, "latent", weights.Latent);
        ReadLinear(model, "output", weights.Output);
        return weights;
    }

    /// <summary>
    /// Exports weights as a package in <paramref name="directory"/> (usually <c>models/&lt;name&gt;/&lt;version&gt;</c>).
    /// <paramref name="manifest"/> supplies name, version, classes, encoding and training; this fills in
    /// <c>network</c>, <c>tensors</c>, <c>onnx</c> (file, hash, opset, producer), and when unset <c>createdUtc</c>,
    /// <c>surveys</c> (<see cref="ModelManifest.DefaultSurveys"/>), <c>metadata</c> (inferred from
    /// <c>encoding.metaFeatures</c>) and <c>requiresMetadata</c>.
    /// </summary>
    public static ModelManifest ExportPackage(GruClassifierWeights weights, ModelManifest manifest, string directory) =>
        ExportPackage(weights, manifest, directory, GruClassifierExportOptions.Default);

    /// <summary>
    /// As <see cref="ExportPackage(GruClassifierWeights, ModelManifest, string)"/>, exporting with <paramref name="options"/>;
    /// <c>tensors.roles</c> is written when the names or the lengths input differ from the standard contract.
    /// </summary>
    public static ModelManifest ExportPackage(GruClassifierWeights weights, ModelManifest manifest, string directory, GruClassifierExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(options);
        var c = weights.Config;
        var metadata = manifest.Metadata ?? MetadataRequirement.Infer(manifest.Encoding?.MetaFeatures ?? []);
        var full = manifest with
        {
            CreatedUtc = manifest.CreatedUtc == default ? DateTimeOffset.UtcNow : manifest.CreatedUtc,
            Surveys = manifest.Surveys ?? ModelManifest.DefaultSurveys,
            Metadata = metadata,
            RequiresMetadata = manifest.RequiresMetadata ?? metadata.Count > 0,
            Network = Describe(c),
            Tensors = Contract(c, options),
            Onnx = new OnnxFileDescriptor
            {
                File = ModelPackage.OnnxFileName,
                Opset = options.Opset,
                Producer = $"{options.ProducerName} {options.ProducerVersion ?? ProducerVersion}",
            },
        };
        return ModelPackage.Save(directory, full, ToOnnx(weights, options));
    }

    /// <summary>The <c>tensors</c> section of a graph exported with <paramref name="options"/>.</summary>
    public static TensorContract Contract(GruClassifierConfig config, GruClassifierExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        var c = config;
        var n = options.Names;
        var inputs = new List<TensorSpec> { new(n.X, "float32", [-1, -1, c.InputFeatures]) };
        if (c.MetaFeatures > 0)
        {
            inputs.Add(new(n.Meta, "float32", [-1, c.MetaFeatures]));
        }

        if (options.State)
        {
            inputs.Add(new(n.H0, "float32", [c.Layers, -1, c.HiddenSize]));
        }

        if (options.Lengths)
        {
            inputs.Add(new(n.Lengths, "int32", [-1]));
        }

        var roles = new TensorRoles
        {
            Steps = n.X,
            Metadata = c.MetaFeatures > 0 ? n.Meta : null,
            StateIn = options.State ? n.H0 : null,
            StateOut = options.State ? n.Hn : null,
            Lengths = options.Lengths ? n.Lengths : null,
            Probabilities = n.Probs,
        };
        List<TensorSpec> outputs = [new(n.Probs, "float32", [-1, -1, c.Classes])];
        if (options.State)
        {
            outputs.Add(new(n.Hn, "float32", [c.Layers, -1, c.HiddenSize]));
        }

        return new TensorContract
        {
            Inputs = inputs,
            Outputs = outputs,
            Roles = roles == TensorRoles.Standard(c.MetaFeatures > 0) ? null : roles,
        };
    }

    // Swaps the first two gate blocks: PyTorch's (r, z, n) ↔ ONNX's (z, r, h). The swap is its own inverse.
    internal static float[] ReorderGates(ReadOnlySpan<float> source)
    {
        var block = source.Length / 3;
        var result = new float[source.Length];
        source.Slice(block, block).CopyTo(result.AsSpan(0, block));
        source[..block].CopyTo(result.AsSpan(block, block));
        source.Slice(2 * block, block).CopyTo(result.AsSpan(2 * block, block));
        return result;
    }

    private static string Linear(OnnxModelBuilder b, string name, string input, float[] weight, float[] bias, int inputSize, int outputSize)
    {
        var transposed = new float[inputSize * outputSize];
        TransposeColumns(weight, inputSize, 0, inputSize, outputSize, transposed);
        b.AddInitializer(OnnxInitializer.Float($"{name}.weight_t", transposed, inputSize, outputSize));
        b.AddInitializer(OnnxInitializer.Float($"{name}.bias", bias, outputSize));
        var product = b.Add("MatMul", $"{name}_matmul", [input, $"{name}.weight_t"]);
        return b.Add("Add", $"{name}_out", [product, $"{name}.bias"]);
    }

    // Writes columns [first, first + count) of a row-major [rows, stride] matrix as a row-major [count, rows] matrix.
    private static void TransposeColumns(float[] weight, int stride, int first, int count, int rows, float[] target)
    {
        for (var i = 0; i < count; i++)
        {
            for (var r = 0; r < rows; r++)
            {
                target[(i * rows) + r] = weight[(r * stride) + first + i];
            }
        }
    }

    private static void UntransposeColumns(float[] source, int count, int rows, float[] weight, int stride, int first)
    {
        for (var i = 0; i < count; i++)
        {
            for (var r = 0; r < rows; r++)
            {
                weight[(r * stride) + first + i] = source[(i * rows) + r];
            }
        }
    }

    private static void ReadLinear(OnnxModelReader model, string name, DenseLayerWeights layer)
    {
        var transposed = Floats(model, $"{name}.weight_t", layer.Weight.Length);
        UntransposeColumns(transposed, layer.InputSize, layer.OutputSize, layer.Weight, layer.InputSize, 0);
        Floats(model, $"{name}.bias", layer.Bias.Length).CopyTo(layer.Bias, 0);
    }

    private static float[] Floats(OnnxModelReader model, string name, int expected)
    {
        if (!model.Initializers.TryGetValue(name, out var tensor) || tensor.ElementType != OnnxElementType.Float)
        {
            throw new FormatException($"Initializer '{name}' (float) is missing.");
        }

        if (tensor.Floats.Length != expected)
        {
            throw new FormatException($"Initializer '{name}' has {tensor.Floats.Length} values, expected {expected}.");
        }

        return tensor.Floats;
    }
}
