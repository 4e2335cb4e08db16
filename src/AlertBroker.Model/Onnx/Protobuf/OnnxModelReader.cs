using System.Buffers.Binary;

namespace AlertBroker.Model.Onnx.Protobuf;

// An initializer read back from a model: float or int64 data, whatever field the writer used.
internal sealed record OnnxInitializerData(string Name, OnnxElementType ElementType, long[] Dims, float[] Floats, long[] Int64s)
{
    /// <summary>
    /// Where the tensor's values are when the file does not hold them (TensorProto.data_location EXTERNAL: its
    /// <c>external_data</c> "location", a path relative to the model file; "?" when none is named); null when the file holds them.
    /// </summary>
    public string? ExternalLocation { get; init; }
}

// The facts AlertBroker reads from an ONNX file: header, opsets, metadata, initializers, operator types and the graph's
// declared inputs and outputs.
internal sealed class OnnxModelReader
{
    public long IrVersion { get; private set; }

    public string ProducerName { get; private set; } = string.Empty;

    public string ProducerVersion { get; private set; } = string.Empty;

    /// <summary>Opset version per domain ("" is the default ONNX domain).</summary>
    public Dictionary<string, long> Opsets { get; } = [];

    public Dictionary<string, string> Metadata { get; } = [];

    public Dictionary<string, OnnxInitializerData> Initializers { get; } = [];

    public List<string> OperatorTypes { get; } = [];

    /// <summary>The graph's inputs that are fed (declared inputs that are not also initializers, as older exporters list them).</summary>
    public List<OnnxGraphTensor> Inputs { get; } = [];

    public List<OnnxGraphTensor> Outputs { get; } = [];

    /// <summary>The default-domain opset, or 0 when the model imports none.</summary>
    public long DefaultOpset => Opsets.TryGetValue(string.Empty, out var v) ? v : Opsets.TryGetValue("ai.onnx", out v) ? v : 0;

    /// <summary>Parses a ModelProto; throws <see cref="FormatException"/> when the bytes are not one.</summary>
    public static OnnxModelReader Parse(ReadOnlySpan<byte> model)
    {
        var result = new OnnxModelReader();
        var reader = new ProtoReader(model);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.Varint:
                    result.IrVersion = reader.ReadInt64();
                    break;
                case 2 when wire == WireType.LengthDelimited:
                    result.ProducerName = reader.ReadString();
                    break;
                case 3 when wire == WireType.LengthDelimited:
                    result.ProducerVersion = reader.ReadString();
                    break;
                case 7 when wire == WireType.LengthDelimited:
                    result.ReadGraph(reader.ReadBytes());
                    break;
                case 8 when wire == WireType.LengthDelimited:
                    ReadOpset(reader.ReadBytes(), result.Opsets);
                    break;
                case 14 when wire == WireType.LengthDelimited:
                    ReadEntry(reader.ReadBytes(), result.Metadata);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return result;
    }

    private void ReadGraph(ReadOnlySpan<byte> graph)
    {
        var reader = new ProtoReader(graph);
        var inputs = new List<OnnxGraphTensor>();
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited)
            {
                OperatorTypes.Add(ReadOpType(reader.ReadBytes()));
            }
            else if (field == 5 && wire == WireType.LengthDelimited)
            {
                var tensor = ReadTensor(reader.ReadBytes());
                Initializers[tensor.Name] = tensor;
            }
            else if (field == 11 && wire == WireType.LengthDelimited)
            {
                inputs.Add(ReadValueInfo(reader.ReadBytes()));        // GraphProto.input
            }
            else if (field == 12 && wire == WireType.LengthDelimited)
            {
                Outputs.Add(ReadValueInfo(reader.ReadBytes()));       // GraphProto.output
            }
            else
            {
                reader.Skip(wire);
            }
        }

        foreach (var input in inputs)
        {
            if (!Initializers.ContainsKey(input.Name))
            {
                Inputs.Add(input);
            }
        }
    }

    // ValueInfoProto: name (1), type (2: TypeProto, tensor_type 1: elem_type 1, shape 2: TensorShapeProto, dim 1:
    // dim_value 1 | dim_param 2).
    private static OnnxGraphTensor ReadValueInfo(ReadOnlySpan<byte> info)
    {
        var reader = new ProtoReader(info);
        var name = string.Empty;
        var type = OnnxElementType.Undefined;
        var dims = new List<OnnxGraphDimension>();
        var hasShape = false;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited)
            {
                name = reader.ReadString();
            }
            else if (field == 2 && wire == WireType.LengthDelimited)
            {
                var typeReader = new ProtoReader(reader.ReadBytes());
                while (typeReader.TryReadTag(out var tf, out var tw))
                {
                    if (tf != 1 || tw != WireType.LengthDelimited)
                    {
                        typeReader.Skip(tw);
                        continue;
                    }

                    var tensor = new ProtoReader(typeReader.ReadBytes());
                    while (tensor.TryReadTag(out var f, out var w))
                    {
                        if (f == 1 && w == WireType.Varint)
                        {
                            type = (OnnxElementType)tensor.ReadInt64();
                        }
                        else if (f == 2 && w == WireType.LengthDelimited)
                        {
                            hasShape = true;
                            var shape = new ProtoReader(tensor.ReadBytes());
                            while (shape.TryReadTag(out var sf, out var sw))
                            {
                                if (sf == 1 && sw == WireType.LengthDelimited)
                                {
                                    dims.Add(ReadDimension(shape.ReadBytes()));
                                }
                                else
                                {
                                    shape.Skip(sw);
                                }
                            }
                        }
                        else
                        {
                            tensor.Skip(w);
                        }
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return new OnnxGraphTensor(name, type, dims, hasShape);
    }

    private static OnnxGraphDimension ReadDimension(ReadOnlySpan<byte> dimension)
    {
        var reader = new ProtoReader(dimension);
        long? value = null;
        string? parameter = null;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.Varint)
            {
                value = reader.ReadInt64();
            }
            else if (field == 2 && wire == WireType.LengthDelimited)
            {
                parameter = reader.ReadString();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        // A negative dim_value is not valid ONNX; treat it as dynamic rather than as a size.
        return value is >= 0 ? new OnnxGraphDimension(value, null) : new OnnxGraphDimension(null, parameter);
    }

    private static string ReadOpType(ReadOnlySpan<byte> node)
    {
        var reader = new ProtoReader(node);
        var opType = string.Empty;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 4 && wire == WireType.LengthDelimited)
            {
                opType = reader.ReadString();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return opType;
    }

    private static OnnxInitializerData ReadTensor(ReadOnlySpan<byte> tensor)
    {
        var reader = new ProtoReader(tensor);
        var dims = new List<long>();
        var type = OnnxElementType.Undefined;
        var name = string.Empty;
        byte[]? raw = null;
        var floats = new List<float>();
        var longs = new List<long>();
        var external = false;
        var externalData = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 13 when wire == WireType.LengthDelimited:
                    ReadEntry(reader.ReadBytes(), externalData); // TensorProto.external_data: "location" names the file
                    break;
                case 14 when wire == WireType.Varint:
                    external = reader.ReadInt64() == 1; // TensorProto.data_location: DEFAULT 0, EXTERNAL 1
                    break;
                case 1 when wire == WireType.Varint:
                    dims.Add(reader.ReadInt64());
                    break;
                case 1 when wire == WireType.LengthDelimited:
                    ReadPackedVarints(reader.ReadBytes(), dims);
                    break;
                case 2 when wire == WireType.Varint:
                    type = (OnnxElementType)reader.ReadInt64();
                    break;
                case 4 when wire == WireType.Fixed32:
                    floats.Add(reader.ReadFloat());
                    break;
                case 4 when wire == WireType.LengthDelimited:
                    var packed = reader.ReadBytes();
                    for (var i = 0; i + 4 <= packed.Length; i += 4)
                    {
                        floats.Add(BinaryPrimitives.ReadSingleLittleEndian(packed[i..]));
                    }

                    break;
                case 7 when wire == WireType.Varint:
                    longs.Add(reader.ReadInt64());
                    break;
                case 7 when wire == WireType.LengthDelimited:
                    ReadPackedVarints(reader.ReadBytes(), longs);
                    break;
                case 8 when wire == WireType.LengthDelimited:
                    name = reader.ReadString();
                    break;
                case 9 when wire == WireType.LengthDelimited:
                    raw = reader.ReadBytes().ToArray();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (raw is not null)
        {
            if (type == OnnxElementType.Float)
            {
                floats.Clear();
                for (var i = 0; i + 4 <= raw.Length; i += 4)
                {
                    floats.Add(BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i)));
                }
            }
            else if (type == OnnxElementType.Int64)
            {
                longs.Clear();
                for (var i = 0; i + 8 <= raw.Length; i += 8)
                {
                    longs.Add(BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i)));
                }
            }
        }

        return new OnnxInitializerData(name, type, [.. dims], [.. floats], [.. longs]) { ExternalLocation = external ? externalData.GetValueOrDefault("location", "?") : null };
    }

    private static void ReadPackedVarints(ReadOnlySpan<byte> packed, List<long> target)
    {
        var reader = new ProtoReader(packed);
        while (!reader.End)
        {
            target.Add(reader.ReadInt64());
        }
    }

    private static void ReadOpset(ReadOnlySpan<byte> opset, Dictionary<string, long> target)
    {
        var reader = new ProtoReader(opset);
        var domain = string.Empty;
        long version = 0;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited)
            {
                domain = reader.ReadString();
            }
            else if (field == 2 && wire == WireType.Varint)
            {
                version = reader.ReadInt64();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        target[domain] = version;
    }

    private static void ReadEntry(ReadOnlySpan<byte> entry, Dictionary<string, string> target)
    {
        var reader = new ProtoReader(entry);
        string key = string.Empty, value = string.Empty;
        while (reader.TryReadTag(out var field, out var wire))
        {
            if (field == 1 && wire == WireType.LengthDelimited)
            {
                key = reader.ReadString();
            }
            else if (field == 2 && wire == WireType.LengthDelimited)
            {
                value = reader.ReadString();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        target[key] = value;
    }
}
