using System.Buffers.Binary;
using System.Text;

namespace AlertBroker.Model.Network;

/// <summary>
/// One GRU layer in PyTorch's layout (<c>torch.nn.GRU</c> parameters <c>weight_ih_l{k}</c> etc.): gate blocks are
/// stacked in the order r (reset), z (update), n (new); matrices are row-major [rows, columns].
/// </summary>
public sealed class GruLayerWeights
{
    public GruLayerWeights(int inputSize, int hiddenSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        WeightIh = new float[3 * hiddenSize * inputSize];
        WeightHh = new float[3 * hiddenSize * hiddenSize];
        BiasIh = new float[3 * hiddenSize];
        BiasHh = new float[3 * hiddenSize];
    }

    public int InputSize { get; }

    public int HiddenSize { get; }

    /// <summary>[3H, InputSize], gate blocks r, z, n.</summary>
    public float[] WeightIh { get; }

    /// <summary>[3H, H], gate blocks r, z, n.</summary>
    public float[] WeightHh { get; }

    /// <summary>[3H], gate blocks r, z, n.</summary>
    public float[] BiasIh { get; }

    /// <summary>[3H], gate blocks r, z, n; the n block is applied inside the reset product (linear_before_reset).</summary>
    public float[] BiasHh { get; }
}

/// <summary>A fully connected layer in PyTorch's <c>nn.Linear</c> layout: y = W x + b with W as [OutputSize, InputSize].</summary>
public sealed class DenseLayerWeights
{
    public DenseLayerWeights(int inputSize, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        InputSize = inputSize;
        OutputSize = outputSize;
        Weight = new float[outputSize * inputSize];
        Bias = new float[outputSize];
    }

    public int InputSize { get; }

    public int OutputSize { get; }

    /// <summary>[OutputSize, InputSize], row-major.</summary>
    public float[] Weight { get; }

    /// <summary>[OutputSize].</summary>
    public float[] Bias { get; }
}

/// <summary>A named parameter array and its shape; the array is the live storage, so writing to it changes the network.</summary>
public sealed record WeightTensor(string Name, float[] Values, IReadOnlyList<int> Shape);

/// <summary>
/// All parameters of a <see cref="GruClassifierConfig"/> network, as plain float arrays a trainer can update in place.
/// Parameter names (see <see cref="Parameters"/>) follow PyTorch's <c>state_dict</c> convention so that weights move
/// between the two by name.
/// </summary>
public sealed class GruClassifierWeights
{
    private static ReadOnlySpan<byte> Magic => "ABGRUW\0\u0001"u8;

    private const int FormatVersion = 1;

    public GruClassifierWeights(GruClassifierConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var layers = new GruLayerWeights[config.Layers];
        for (var l = 0; l < layers.Length; l++)
        {
            layers[l] = new GruLayerWeights(l == 0 ? config.InputFeatures : config.HiddenSize, config.HiddenSize);
        }

        GruLayers = layers;
        StepDense = new DenseLayerWeights(config.HiddenSize, config.DenseSize);
        MetaDense = config.MetaFeatures > 0 ? new DenseLayerWeights(config.MetaFeatures, config.MetaDenseSize) : null;
        Merge = new DenseLayerWeights(config.ConcatSize, config.MergeSize);
        Latent = new DenseLayerWeights(config.MergeSize, config.LatentSize);
        Output = new DenseLayerWeights(config.LatentSize, config.Classes);
        Parameters = BuildParameterList();
    }

    public GruClassifierConfig Config { get; }

    public IReadOnlyList<GruLayerWeights> GruLayers { get; }

    /// <summary>Dense tanh layer on each step's top GRU output: [DenseSize, HiddenSize].</summary>
    public DenseLayerWeights StepDense { get; }

    /// <summary>Dense tanh layer on the metadata vector: [MetaDenseSize, MetaFeatures]; null without a metadata branch.</summary>
    public DenseLayerWeights? MetaDense { get; }

    /// <summary>Dense ReLU layer on concat(step dense, meta dense): [MergeSize, DenseSize + MetaDenseSize]; step columns first.</summary>
    public DenseLayerWeights Merge { get; }

    /// <summary>Dense ReLU "latent" layer: [LatentSize, MergeSize].</summary>
    public DenseLayerWeights Latent { get; }

    /// <summary>Class logits: [Classes, LatentSize]; softmax follows.</summary>
    public DenseLayerWeights Output { get; }

    /// <summary>
    /// Every parameter in a fixed order: <c>gru.weight_ih_l{k}</c>, <c>gru.weight_hh_l{k}</c>, <c>gru.bias_ih_l{k}</c>,
    /// <c>gru.bias_hh_l{k}</c> per layer, then <c>step_dense</c>, <c>meta_dense</c> (when present), <c>merge</c>,
    /// <c>latent</c>, <c>output</c>, each <c>.weight</c> and <c>.bias</c>.
    /// </summary>
    public IReadOnlyList<WeightTensor> Parameters { get; }

    /// <summary>Total number of scalar parameters.</summary>
    public long ParameterCount
    {
        get
        {
            long total = 0;
            foreach (var p in Parameters)
            {
                total += p.Values.Length;
            }

            return total;
        }
    }

    /// <summary>
    /// Seeded initialisation after PyTorch's defaults: GRU weights and biases uniform in ±1/√H, dense weights and biases
    /// uniform in ±1/√fan_in. The same seed gives the same weights everywhere.
    /// </summary>
    public static GruClassifierWeights Random(GruClassifierConfig config, long seed)
    {
        var weights = new GruClassifierWeights(config);
        var random = new DeterministicRandom(unchecked((ulong)seed));
        foreach (var layer in weights.GruLayers)
        {
            var bound = 1f / MathF.Sqrt(layer.HiddenSize);
            random.FillUniform(layer.WeightIh, bound);
            random.FillUniform(layer.WeightHh, bound);
            random.FillUniform(layer.BiasIh, bound);
            random.FillUniform(layer.BiasHh, bound);
        }

        foreach (var dense in weights.DenseLayers())
        {
            var bound = 1f / MathF.Sqrt(dense.InputSize);
            random.FillUniform(dense.Weight, bound);
            random.FillUniform(dense.Bias, bound);
        }

        return weights;
    }

    /// <summary>
    /// Networks of one shape side by side as one network of <see cref="GruClassifierConfig.Members"/> = the members'
    /// total: every layer block-diagonal (member k's units see only member k's units; the step features and the metadata
    /// vector are shared inputs), and an output layer whose columns are the members' side by side with the sum of their
    /// biases, so its logits are the sum of the members' logits. <see cref="Block"/> is the inverse.
    /// </summary>
    public static GruClassifierWeights SideBySide(IReadOnlyList<GruClassifierWeights> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            throw new ArgumentException("no members", nameof(members));
        }

        var c = members[0].Config;
        if (members.Any(m => m.Config != c))
        {
            throw new ArgumentException("members of different shapes cannot be put side by side", nameof(members));
        }

        var k = members.Count;
        var meta = c.MetaFeatures > 0;
        var wide = new GruClassifierWeights(c with
        {
            HiddenSize = checked(c.HiddenSize * k),
            DenseSize = checked(c.DenseSize * k),
            MetaDenseSize = meta ? checked(c.MetaDenseSize * k) : c.MetaDenseSize,
            MergeSize = checked(c.MergeSize * k),
            LatentSize = checked(c.LatentSize * k),
            Members = checked(c.Members * k),
        });
        for (var m = 0; m < k; m++)
        {
            MapBlock(members[m], wide, m, toWide: true);
        }

        return wide;
    }

    /// <summary>
    /// Member <paramref name="k"/> of a network of <see cref="GruClassifierConfig.Members"/> side-by-side members, as a
    /// network of its own: its rows and columns of every block-diagonal layer, its columns of the output layer and
    /// 1/Members of the output bias (so that the members' logits add up to this network's). Weights outside the diagonal
    /// blocks are not part of any member (<see cref="IsBlockDiagonal"/> says whether there are any).
    /// </summary>
    public GruClassifierWeights Block(int k)
    {
        var c = Config;
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, c.Members);
        var n = c.Members;
        var member = new GruClassifierWeights(c.MemberConfig());
        MapBlock(member, this, k, toWide: false);
        for (var i = 0; i < member.Output.Bias.Length; i++)
        {
            member.Output.Bias[i] = Output.Bias[i] / n;
        }

        return member;
    }

    /// <summary>True when every weight outside the <see cref="GruClassifierConfig.Members"/> diagonal blocks is zero (always for one member).</summary>
    public bool IsBlockDiagonal()
    {
        if (Config.Members == 1)
        {
            return true;
        }

        var rebuilt = SideBySide([.. Enumerable.Range(0, Config.Members).Select(Block)]);
        for (var p = 0; p < Parameters.Count; p++)
        {
            // The output layer is not block-diagonal by construction (a sum over members), and its bias is split and re-added.
            if (Parameters[p].Name.StartsWith("output.", StringComparison.Ordinal))
            {
                continue;
            }

            if (!Parameters[p].Values.AsSpan().SequenceEqual(rebuilt.Parameters[p].Values))
            {
                return false;
            }
        }

        return true;
    }

    // Copies member m's block between a member network and the wide one (toWide: member → wide; else wide → member).
    // Output layer: member m's columns; its bias is summed into the wide one (toWide) and left to the caller otherwise.
    private static void MapBlock(GruClassifierWeights member, GruClassifierWeights wide, int m, bool toWide)
    {
        var c = member.Config;
        var w = wide.Config;
        var h = c.HiddenSize;
        void Copy(float[] small, int smallColumns, int smallRow, int smallColumn, int rows, int columns, float[] large, int largeColumns, int largeRow, int largeColumn)
        {
            for (var r = 0; r < rows; r++)
            {
                var a = ((smallRow + r) * smallColumns) + smallColumn;
                var b = ((largeRow + r) * largeColumns) + largeColumn;
                if (toWide)
                {
                    Array.Copy(small, a, large, b, columns);
                }
                else
                {
                    Array.Copy(large, b, small, a, columns);
                }
            }
        }

        void Dense(DenseLayerWeights small, DenseLayerWeights large, int columnOffset)
        {
            Copy(small.Weight, small.InputSize, 0, 0, small.OutputSize, small.InputSize, large.Weight, large.InputSize, m * small.OutputSize, columnOffset);
            Copy(small.Bias, 1, 0, 0, small.OutputSize, 1, large.Bias, 1, m * small.OutputSize, 0);
        }

        for (var l = 0; l < c.Layers; l++)
        {
            var small = member.GruLayers[l];
            var large = wide.GruLayers[l];
            var inputOffset = l == 0 ? 0 : m * h; // the first layer's input (the step features) is shared
            for (var gate = 0; gate < 3; gate++)
            {
                var smallRow = gate * h;
                var largeRow = (gate * w.HiddenSize) + (m * h);
                Copy(small.WeightIh, small.InputSize, smallRow, 0, h, small.InputSize, large.WeightIh, large.InputSize, largeRow, inputOffset);
                Copy(small.WeightHh, h, smallRow, 0, h, h, large.WeightHh, w.HiddenSize, largeRow, m * h);
                Copy(small.BiasIh, 1, smallRow, 0, h, 1, large.BiasIh, 1, largeRow, 0);
                Copy(small.BiasHh, 1, smallRow, 0, h, 1, large.BiasHh, 1, largeRow, 0);
            }
        }

        Dense(member.StepDense, wide.StepDense, m * h);
        if (c.MetaFeatures > 0)
        {
            Dense(member.MetaDense!, wide.MetaDense!, 0); // the metadata vector is shared
        }

        // Merge reads concat(step dense, meta dense): member m's step columns and, after all step columns, its meta columns.
        var merge = member.Merge;
        Copy(merge.Weight, merge.InputSize, 0, 0, c.MergeSize, c.DenseSize, wide.Merge.Weight, w.ConcatSize, m * c.MergeSize, m * c.DenseSize);
        if (c.MetaFeatures > 0)
        {
            Copy(merge.Weight, merge.InputSize, 0, c.DenseSize, c.MergeSize, c.MetaDenseSize, wide.Merge.Weight, w.ConcatSize, m * c.MergeSize, w.DenseSize + (m * c.MetaDenseSize));
        }

        Copy(merge.Bias, 1, 0, 0, c.MergeSize, 1, wide.Merge.Bias, 1, m * c.MergeSize, 0);
        Dense(member.Latent, wide.Latent, m * c.MergeSize);
        Copy(member.Output.Weight, c.LatentSize, 0, 0, c.Classes, c.LatentSize, wide.Output.Weight, w.LatentSize, 0, m * c.LatentSize);
        if (toWide)
        {
            for (var i = 0; i < c.Classes; i++)
            {
                wide.Output.Bias[i] += member.Output.Bias[i];
            }
        }
    }

    public WeightTensor GetParameter(string name)
    {
        foreach (var p in Parameters)
        {
            if (p.Name == name)
            {
                return p;
            }
        }

        throw new KeyNotFoundException($"No parameter named '{name}'.");
    }

    public GruClassifierWeights Clone()
    {
        var copy = new GruClassifierWeights(Config);
        for (var i = 0; i < Parameters.Count; i++)
        {
            Parameters[i].Values.CopyTo(copy.Parameters[i].Values, 0);
        }

        return copy;
    }

    /// <summary>
    /// Writes the binary weights format: magic <c>"ABGRUW\0\x01"</c>, int32 format version, nine int32 config sizes
    /// (input, meta, hidden, layers, dense, metaDense, merge, latent, classes), int32 parameter count, then per
    /// parameter a UTF-8 name (int32 length + bytes), int32 element count and little-endian float32 values.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        foreach (var size in ConfigSizes(Config))
        {
            writer.Write(size);
        }

        writer.Write(Parameters.Count);
        Span<byte> buffer = stackalloc byte[4];
        foreach (var p in Parameters)
        {
            var name = Encoding.UTF8.GetBytes(p.Name);
            writer.Write(name.Length);
            writer.Write(name);
            writer.Write(p.Values.Length);
            foreach (var v in p.Values)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer, v);
                writer.Write(buffer);
            }
        }
    }

    public void Save(string path)
    {
        using var stream = File.Create(path);
        Save(stream);
    }

    /// <summary>Reads the format <see cref="Save(Stream)"/> writes; throws <see cref="InvalidDataException"/> when it does not match.</summary>
    public static GruClassifierWeights Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            {
                throw new InvalidDataException("Not an AlertBroker GRU weights file (bad magic).");
            }

            var version = reader.ReadInt32();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"Unsupported GRU weights format version {version}.");
            }

            var sizes = new int[9];
            for (var i = 0; i < sizes.Length; i++)
            {
                sizes[i] = reader.ReadInt32();
            }

            GruClassifierWeights weights;
            try
            {
                var config = ConfigFromSizes(sizes);
                config.Validate();

                // Sizes come from the file: refuse a network larger than the stream before allocating it.
                var needed = CountParameters(config) * sizeof(float);
                if (needed > MaxParameters * sizeof(float) || (stream.CanSeek && needed > stream.Length - stream.Position))
                {
                    throw new InvalidDataException($"Network sizes in weights file need {needed} bytes of parameters, more than the file holds.");
                }

                weights = new GruClassifierWeights(config);
            }
            catch (Exception e) when (e is ArgumentException or OverflowException)
            {
                throw new InvalidDataException($"Invalid network sizes in weights file: {e.Message}", e);
            }

            var count = reader.ReadInt32();
            if (count != weights.Parameters.Count)
            {
                throw new InvalidDataException($"Weights file has {count} parameters, the network needs {weights.Parameters.Count}.");
            }

            foreach (var p in weights.Parameters)
            {
                var nameLength = reader.ReadInt32();
                if (nameLength is < 0 or > 1024)
                {
                    throw new InvalidDataException($"Invalid parameter name length {nameLength}.");
                }

                var name = Encoding.UTF8.GetString(reader.ReadBytes(nameLength));
                var length = reader.ReadInt32();
                if (name != p.Name || length != p.Values.Length)
                {
                    throw new InvalidDataException($"Expected parameter '{p.Name}' with {p.Values.Length} values, found '{name}' with {length}.");
                }

                var bytes = reader.ReadBytes(length * sizeof(float));
                if (bytes.Length != length * sizeof(float))
                {
                    throw new InvalidDataException($"Weights file is truncated inside '{name}'.");
                }

                for (var i = 0; i < length; i++)
                {
                    p.Values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
                }
            }

            return weights;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Weights file is truncated.", e);
        }
    }

    public static GruClassifierWeights Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    internal IEnumerable<DenseLayerWeights> DenseLayers()
    {
        yield return StepDense;
        if (MetaDense is not null)
        {
            yield return MetaDense;
        }

        yield return Merge;
        yield return Latent;
        yield return Output;
    }

    // The most parameters a file may declare (1 GiB of float32), a guard against corrupt sizes.
    internal const long MaxParameters = 1L << 28;

    /// <summary>Parameter count of a configuration, in 64-bit arithmetic so that absurd sizes cannot overflow.</summary>
    /// <exception cref="OverflowException">The sizes (e.g. read from a damaged file) count more than a long holds.</exception>
    public static long CountParameters(GruClassifierConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        checked
        {
            long h = config.HiddenSize, total = 0;
            for (var l = 0; l < config.Layers; l++)
            {
                long input = l == 0 ? config.InputFeatures : h;
                total += (3 * h * input) + (3 * h * h) + (6 * h);
            }

            static long Dense(long input, long output) => checked((input * output) + output);
            total += Dense(h, config.DenseSize);
            if (config.MetaFeatures > 0)
            {
                total += Dense(config.MetaFeatures, config.MetaDenseSize);
            }

            total += Dense(config.ConcatSize, config.MergeSize) + Dense(config.MergeSize, config.LatentSize) + Dense(config.LatentSize, config.Classes);
            return total;
        }
    }

    internal static int[] ConfigSizes(GruClassifierConfig c) =>
        [c.InputFeatures, c.MetaFeatures, c.HiddenSize, c.Layers, c.DenseSize, c.MetaDenseSize, c.MergeSize, c.LatentSize, c.Classes];

    internal static GruClassifierConfig ConfigFromSizes(int[] s) => new()
    {
        InputFeatures = s[0],
        MetaFeatures = s[1],
        HiddenSize = s[2],
        Layers = s[3],
        DenseSize = s[4],
        MetaDenseSize = s[5],
        MergeSize = s[6],
        LatentSize = s[7],
        Classes = s[8],
    };

    private WeightTensor[] BuildParameterList()
    {
        var list = new List<WeightTensor>();
        for (var l = 0; l < GruLayers.Count; l++)
        {
            var layer = GruLayers[l];
            var h3 = 3 * layer.HiddenSize;
            list.Add(new($"gru.weight_ih_l{l}", layer.WeightIh, [h3, layer.InputSize]));
            list.Add(new($"gru.weight_hh_l{l}", layer.WeightHh, [h3, layer.HiddenSize]));
            list.Add(new($"gru.bias_ih_l{l}", layer.BiasIh, [h3]));
            list.Add(new($"gru.bias_hh_l{l}", layer.BiasHh, [h3]));
        }

        AddDense(list, "step_dense", StepDense);
        if (MetaDense is not null)
        {
            AddDense(list, "meta_dense", MetaDense);
        }

        AddDense(list, "merge", Merge);
        AddDense(list, "latent", Latent);
        AddDense(list, "output", Output);
        return [.. list];
    }

    private static void AddDense(List<WeightTensor> list, string name, DenseLayerWeights dense)
    {
        list.Add(new($"{name}.weight", dense.Weight, [dense.OutputSize, dense.InputSize]));
        list.Add(new($"{name}.bias", dense.Bias, [dense.OutputSize]));
    }
}
