using System.Buffers.Binary;

namespace AlertBroker.Model.Onnx.Protobuf;

// An initializer read back from a model: float or int64 data, whatever field the writer used.
internal sealed record OnnxInitializerData(string Name, OnnxElementType ElementType, long[] Dims, float[] Floats, long[] Int64s);

// The facts AlertBroker reads from an ONNX file: header, opsets, metadata, initializers and operator types.
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
            else
            {
                reader.Skip(wire);
            }
        }
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
        while (reader.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
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

        return new OnnxInitializerData(name, type, [.. dims], [.. floats], [.. longs]);
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
