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

    // Model metadata key holding the number of side-by-side members when the graph has one GRU stack and head per member.
    internal const string MembersMetadataKey = "alertbroker.gru.members";

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

        // A network of several members side by side (models ensemble) is written as one GRU stack and head per member
        // when its weights are block-diagonal — K times the arithmetic of one member instead of K² — else as one network.
        GruClassifierWeights[] members = c.Members > 1 && weights.IsBlockDiagonal()
            ? [.. Enumerable.Range(0, c.Members).Select(weights.Block)]
            : [weights];
        if (members.Length > 1)
        {
            b.AddMetadata(MembersMetadataKey, members.Length.ToString(CultureInfo.InvariantCulture));
        }

        b.AddInitializer(OnnxInitializer.Int64("axes_0", [0L], 1));
        b.AddInitializer(OnnxInitializer.Int64("axes_1", [1L], 1));

        // GRU stack, time-major [steps, batch, features].
        var sequence = b.Add("Transpose", "x_time_major", [names.X], OnnxAttribute.Of("perm", [1L, 0L, 2L]));
        if (members.Length == 1)
        {
            var logits = AddNetwork(b, weights, options, sequence, member: -1, out _);
            b.AddNode("Softmax", [logits], [names.Probs], OnnxAttribute.Of("axis", -1L));
            return b.ToBytes();
        }

        b.AddInitializer(OnnxInitializer.Int64("axes_0_2", [0L, 2L], 2));
        var memberLogits = new string[members.Length];
        var memberStates = new string[members.Length][];
        for (var k = 0; k < members.Length; k++)
        {
            memberLogits[k] = AddNetwork(b, members[k], options, sequence, k, out memberStates[k]);
        }

        // The members' logits add up to the network's (each member carries 1/K of the output bias).
        var sum = memberLogits[0];
        for (var k = 1; k < members.Length; k++)
        {
            sum = b.Add("Add", $"logits_sum_{k}", [sum, memberLogits[k]]);
        }

        b.AddNode("Softmax", [sum], [names.Probs], OnnxAttribute.Of("axis", -1L));
        if (options.State)
        {
            // Each layer's final state: the members' side by side on the hidden axis; then the layers stacked.
            var layerStates = new string[layers];
            for (var l = 0; l < layers; l++)
            {
                var parts = memberStates.Select(m => m[l]).ToArray();
                layerStates[l] = layers == 1 ? names.Hn : $"gru_l{l}_hn";
                b.AddNode("Concat", parts, [layerStates[l]], OnnxAttribute.Of("axis", 2L));
            }

            if (layers > 1)
            {
                b.AddNode("Concat", layerStates, [names.Hn], OnnxAttribute.Of("axis", 0L));
            }
        }

        return b.ToBytes();
    }

    // One network's GRU stack and head; returns its logits. member −1: the whole graph's only network (names and layout as
    // always: h0 sliced by layer, the final states concatenated into hn here). member k ≥ 0: member k of several, its
    // tensors named "m{k}." and its h0 the k-th slice of the hidden axis; its final states are returned for the caller.
    private static string AddNetwork(OnnxModelBuilder b, GruClassifierWeights weights, GruClassifierExportOptions options, string sequence, int member, out string[] finalStates)
    {
        var c = weights.Config;
        var names = options.Names;
        int h = c.HiddenSize, layers = c.Layers;
        var p = member < 0 ? string.Empty : $"m{member}.";
        finalStates = new string[layers];
        for (var l = 0; l < layers; l++)
        {
            var layer = weights.GruLayers[l];
            b.AddInitializer(OnnxInitializer.Float($"{p}gru_l{l}.W", ReorderGates(layer.WeightIh), 1, 3 * h, layer.InputSize));
            b.AddInitializer(OnnxInitializer.Float($"{p}gru_l{l}.R", ReorderGates(layer.WeightHh), 1, 3 * h, h));
            var bias = new float[6 * h];
            ReorderGates(layer.BiasIh).CopyTo(bias, 0);
            ReorderGates(layer.BiasHh).CopyTo(bias, 3 * h);
            b.AddInitializer(OnnxInitializer.Float($"{p}gru_l{l}.B", bias, 1, 6 * h));
            if (member < 0)
            {
                b.AddInitializer(OnnxInitializer.Int64($"gru_l{l}.start", [l], 1));
                b.AddInitializer(OnnxInitializer.Int64($"gru_l{l}.end", [l + 1], 1));
            }
            else
            {
                b.AddInitializer(OnnxInitializer.Int64($"{p}gru_l{l}.start", [l, (long)member * h], 2));
                b.AddInitializer(OnnxInitializer.Int64($"{p}gru_l{l}.end", [l + 1, ((long)member + 1) * h], 2));
            }

            // Without a state input the optional initial_h is left empty (zeros); without a lengths input (or with one that
            // is ignored) sequence_lens is left empty and every row runs over all steps.
            var initial = options.State && !options.IgnoreStateInput
                ? b.Add("Slice", $"{p}h0_l{l}", [names.H0, $"{p}gru_l{l}.start", $"{p}gru_l{l}.end", member < 0 ? "axes_0" : "axes_0_2"])
                : string.Empty;
            var y = $"{p}gru_l{l}_y";
            finalStates[l] = member < 0 && layers == 1 && options.State ? names.Hn : $"{p}gru_l{l}_hn";
            b.AddNode(
                "GRU",
                [sequence, $"{p}gru_l{l}.W", $"{p}gru_l{l}.R", $"{p}gru_l{l}.B", options.Lengths && !options.IgnoreLengths ? names.Lengths : string.Empty, initial],
                [y, finalStates[l]],
                OnnxAttribute.Of("hidden_size", (long)h),
                OnnxAttribute.Of("linear_before_reset", 1L),
                OnnxAttribute.Of("direction", "forward"));

            // Y is [steps, num_directions = 1, batch, hidden].
            sequence = b.Add("Squeeze", $"{p}gru_l{l}_out", [y, "axes_1"]);
        }

        if (member < 0 && layers > 1 && options.State)
        {
            b.AddNode("Concat", finalStates, [names.Hn], OnnxAttribute.Of("axis", 0L));
        }

        var top = b.Add("Transpose", $"{p}gru_out", [sequence], OnnxAttribute.Of("perm", [1L, 0L, 2L]));

        // Head on [batch, steps, *]; weights are stored transposed ([in, out]) for MatMul.
        var stepDense = Linear(b, $"{p}step_dense", top, weights.StepDense.Weight, weights.StepDense.Bias, weights.StepDense.InputSize, weights.StepDense.OutputSize);
        stepDense = b.Add("Tanh", $"{p}step_dense_tanh", [stepDense]);

        var merge = weights.Merge;
        var stepColumns = new float[c.DenseSize * c.MergeSize];
        TransposeColumns(merge.Weight, merge.InputSize, 0, c.DenseSize, c.MergeSize, stepColumns);
        b.AddInitializer(OnnxInitializer.Float($"{p}merge.weight_step_t", stepColumns, c.DenseSize, c.MergeSize));
        b.AddInitializer(OnnxInitializer.Float($"{p}merge.bias", merge.Bias, c.MergeSize));
        var merged = b.Add("MatMul", $"{p}merge_step", [stepDense, $"{p}merge.weight_step_t"]);
        merged = b.Add("Add", $"{p}merge_biased", [merged, $"{p}merge.bias"]);
        if (c.MetaFeatures > 0)
        {
            var metaDense = Linear(b, $"{p}meta_dense", names.Meta, weights.MetaDense!.Weight, weights.MetaDense.Bias, c.MetaFeatures, c.MetaDenseSize);
            metaDense = b.Add("Tanh", $"{p}meta_dense_tanh", [metaDense]);
            var metaColumns = new float[c.MetaDenseSize * c.MergeSize];
            TransposeColumns(merge.Weight, merge.InputSize, c.DenseSize, c.MetaDenseSize, c.MergeSize, metaColumns);
            b.AddInitializer(OnnxInitializer.Float($"{p}merge.weight_meta_t", metaColumns, c.MetaDenseSize, c.MergeSize));
            var metaMerge = b.Add("MatMul", $"{p}merge_meta", [metaDense, $"{p}merge.weight_meta_t"]);
            metaMerge = b.Add("Unsqueeze", $"{p}merge_meta_per_step", [metaMerge, "axes_1"]);
            merged = b.Add("Add", $"{p}merge_sum", [merged, metaMerge]);
        }

        merged = b.Add("Relu", $"{p}merge_relu", [merged]);
        var latent = Linear(b, $"{p}latent", merged, weights.Latent.Weight, weights.Latent.Bias, c.MergeSize, c.LatentSize);
        latent = b.Add("Relu", $"{p}latent_relu", [latent]);
        return Linear(b, $"{p}output", latent, weights.Output.Weight, weights.Output.Bias, c.LatentSize, c.Classes);
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

        var members = 1;
        if (model.Metadata.TryGetValue(MembersMetadataKey, out var membersText)
            && (!int.TryParse(membersText, NumberStyles.Integer, CultureInfo.InvariantCulture, out members) || members < 2))
        {
            throw new FormatException($"Metadata '{MembersMetadataKey}' must be a member count of at least 2, found '{membersText}'.");
        }

        GruClassifierConfig memberConfig;
        try
        {
            var config = GruClassifierWeights.ConfigFromSizes(sizes) with { Members = members };
            config.Validate();
            memberConfig = config.MemberConfig();

            // The sizes come from the file: every parameter must be present in its initializers before we allocate.
            long available = 0;
            foreach (var tensor in model.Initializers.Values)
            {
                available += tensor.Floats.Length;
            }

            if (GruClassifierWeights.CountParameters(memberConfig) * members > available)
            {
                throw new FormatException($"Metadata '{SizesMetadataKey}' describes more parameters than the file's initializers hold.");
            }
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Metadata '{SizesMetadataKey}' describes an invalid network: {e.Message}", e);
        }

        if (members == 1)
        {
            return ReadNetwork(model, string.Empty, new GruClassifierWeights(memberConfig));
        }

        // One GRU stack and head per member: read each, then put them side by side again.
        return GruClassifierWeights.SideBySide([.. Enumerable.Range(0, members).Select(k => ReadNetwork(model, $"m{k}.", new GruClassifierWeights(memberConfig)))]);
    }

    // Fills one network's weights from the initializers written by AddNetwork with the same prefix.
    private static GruClassifierWeights ReadNetwork(OnnxModelReader model, string p, GruClassifierWeights weights)
    {
        var c = weights.Config;
        var h = c.HiddenSize;
        for (var l = 0; l < c.Layers; l++)
        {
            var layer = weights.GruLayers[l];
            ReorderGates(Floats(model, $"{p}gru_l{l}.W", layer.WeightIh.Length)).CopyTo(layer.WeightIh, 0);
            ReorderGates(Floats(model, $"{p}gru_l{l}.R", layer.WeightHh.Length)).CopyTo(layer.WeightHh, 0);
            var bias = Floats(model, $"{p}gru_l{l}.B", 6 * h);
            ReorderGates(bias.AsSpan(0, 3 * h)).CopyTo(layer.BiasIh, 0);
            ReorderGates(bias.AsSpan(3 * h, 3 * h)).CopyTo(layer.BiasHh, 0);
        }

        ReadLinear(model, $"{p}step_dense", weights.StepDense);
        if (weights.MetaDense is not null)
        {
            ReadLinear(model, $"{p}meta_dense", weights.MetaDense);
        }

        var merge = weights.Merge;
        var stepColumns = Floats(model, $"{p}merge.weight_step_t", c.DenseSize * c.MergeSize);
        UntransposeColumns(stepColumns, c.DenseSize, c.MergeSize, merge.Weight, merge.InputSize, 0);
        if (c.MetaFeatures > 0)
        {
            var metaColumns = Floats(model, $"{p}merge.weight_meta_t", c.MetaDenseSize * c.MergeSize);
            UntransposeColumns(metaColumns, c.MetaDenseSize, c.MergeSize, merge.Weight, merge.InputSize, c.DenseSize);
        }

        Floats(model, $"{p}merge.bias", c.MergeSize).CopyTo(merge.Bias, 0);
        ReadLinear(model, $"{p}latent", weights.Latent);
        ReadLinear(model, $"{p}output", weights.Output);
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
