using System.Runtime.InteropServices;

namespace AlertBroker.Model.Onnx.Protobuf;

// Field numbers below are those of onnx/onnx.proto (proto2). Repeated scalar fields that the schema does not mark
// packed (dims, ints) are written unpacked, the canonical proto2 encoding.

// AttributeProto.AttributeType values used by the exporter.
internal enum OnnxAttributeType
{
    Float = 1,
    Int = 2,
    String = 3,
    Floats = 6,
    Ints = 7,
}

internal sealed record OnnxAttribute(string Name, OnnxAttributeType Type, long Int = 0, float Float = 0, string? Text = null, long[]? Ints = null)
{
    public static OnnxAttribute Of(string name, long value) => new(name, OnnxAttributeType.Int, Int: value);

    public static OnnxAttribute Of(string name, float value) => new(name, OnnxAttributeType.Float, Float: value);

    public static OnnxAttribute Of(string name, string value) => new(name, OnnxAttributeType.String, Text: value);

    public static OnnxAttribute Of(string name, long[] values) => new(name, OnnxAttributeType.Ints, Ints: values);
}

internal sealed record OnnxNode(string OpType, string Name, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes);

// A graph input/output dimension: a fixed size, or a named dynamic one (dim_param).
internal readonly record struct OnnxDimension(long Value, string? Parameter)
{
    public static OnnxDimension Fixed(long value) => new(value, null);

    public static OnnxDimension Dynamic(string name) => new(-1, name);
}

internal sealed record OnnxValueInfo(string Name, OnnxElementType ElementType, OnnxDimension[] Shape);

internal sealed record OnnxInitializer(string Name, OnnxElementType ElementType, long[] Dims, byte[] RawData)
{
    /// <summary>
    /// Written as external data (the values in this file beside the model, as exporters do for large models; not what a
    /// package may hold) instead of <see cref="RawData"/>; null writes the values inside.
    /// </summary>
    public string? ExternalLocation { get; init; }

    public static OnnxInitializer Float(string name, ReadOnlySpan<float> values, params long[] dims) =>
        new(name, OnnxElementType.Float, dims, MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxInitializer Int64(string name, ReadOnlySpan<long> values, params long[] dims) =>
        new(name, OnnxElementType.Int64, dims, MemoryMarshal.AsBytes(values).ToArray());
}

// Builds a single-graph ONNX ModelProto and serialises it.
internal sealed class OnnxModelBuilder
{
    // IR version 8 goes with opset 17 (ONNX 1.12); ONNX Runtime 1.30 reads both.
    public const long DefaultIrVersion = 8;
    public const int DefaultOpset = 17;

    private readonly List<OnnxNode> _nodes = [];
    private readonly List<OnnxInitializer> _initializers = [];
    private readonly List<OnnxValueInfo> _inputs = [];
    private readonly List<OnnxValueInfo> _outputs = [];
    private readonly List<KeyValuePair<string, string>> _metadata = [];

    public string GraphName { get; init; } = "graph";

    public string ProducerName { get; init; } = "AlertBroker";

    public string ProducerVersion { get; init; } = "";

    public int Opset { get; init; } = DefaultOpset;

    /// <summary>The IR version written: the one of the ONNX release that introduced <see cref="Opset"/> (7 for 13–14, 8 for 15–18).</summary>
    public long IrVersion => Opset >= 15 ? DefaultIrVersion : 7;

    public void AddInput(string name, OnnxElementType type, params OnnxDimension[] shape) => _inputs.Add(new(name, type, shape));

    public void AddOutput(string name, OnnxElementType type, params OnnxDimension[] shape) => _outputs.Add(new(name, type, shape));

    public void AddInitializer(OnnxInitializer initializer) => _initializers.Add(initializer);

    public void AddMetadata(string key, string value) => _metadata.Add(new(key, value));

    public void AddNode(string opType, string[] inputs, string[] outputs, params OnnxAttribute[] attributes) =>
        _nodes.Add(new(opType, $"{opType}_{_nodes.Count}", inputs, outputs, attributes));

    /// <summary>Adds a single-output node named after its output and returns that output.</summary>
    public string Add(string opType, string output, string[] inputs, params OnnxAttribute[] attributes)
    {
        AddNode(opType, inputs, [output], attributes);
        return output;
    }

    public byte[] ToBytes()
    {
        var model = new ProtoWriter();
        model.WriteInt64(1, IrVersion);                       // ModelProto.ir_version
        model.WriteString(2, ProducerName);                    // ModelProto.producer_name
        model.WriteString(3, ProducerVersion);                 // ModelProto.producer_version
        model.WriteMessage(7, WriteGraph);                     // ModelProto.graph
        model.WriteMessage(8, opset =>                          // ModelProto.opset_import
        {
            opset.WriteString(1, string.Empty);                // OperatorSetIdProto.domain (default ONNX domain)
            opset.WriteInt64(2, Opset);                        // OperatorSetIdProto.version
        });
        foreach (var (key, value) in _metadata)
        {
            model.WriteMessage(14, entry =>                    // ModelProto.metadata_props
            {
                entry.WriteString(1, key);                     // StringStringEntryProto.key
                entry.WriteString(2, value);                   // StringStringEntryProto.value
            });
        }

        return model.ToArray();
    }

    private void WriteGraph(ProtoWriter graph)
    {
        foreach (var node in _nodes)
        {
            graph.WriteMessage(1, w => WriteNode(w, node));    // GraphProto.node
        }

        graph.WriteString(2, GraphName);                       // GraphProto.name
        foreach (var initializer in _initializers)
        {
            graph.WriteMessage(5, w => WriteTensor(w, initializer)); // GraphProto.initializer
        }

        foreach (var input in _inputs)
        {
            graph.WriteMessage(11, w => WriteValueInfo(w, input)); // GraphProto.input
        }

        foreach (var output in _outputs)
        {
            graph.WriteMessage(12, w => WriteValueInfo(w, output)); // GraphProto.output
        }
    }

    private static void WriteNode(ProtoWriter w, OnnxNode node)
    {
        foreach (var input in node.Inputs)
        {
            w.WriteString(1, input);                           // NodeProto.input
        }

        foreach (var output in node.Outputs)
        {
            w.WriteString(2, output);                          // NodeProto.output
        }

        w.WriteString(3, node.Name);                           // NodeProto.name
        w.WriteString(4, node.OpType);                         // NodeProto.op_type
        foreach (var attribute in node.Attributes)
        {
            w.WriteMessage(5, a => WriteAttribute(a, attribute)); // NodeProto.attribute
        }
    }

    private static void WriteAttribute(ProtoWriter w, OnnxAttribute attribute)
    {
        w.WriteString(1, attribute.Name);                      // AttributeProto.name
        switch (attribute.Type)
        {
            case OnnxAttributeType.Float:
                w.WriteFloat(2, attribute.Float);              // AttributeProto.f
                break;
            case OnnxAttributeType.Int:
                w.WriteInt64(3, attribute.Int);                // AttributeProto.i
                break;
            case OnnxAttributeType.String:
                w.WriteBytes(4, System.Text.Encoding.UTF8.GetBytes(attribute.Text ?? string.Empty)); // AttributeProto.s
                break;
            case OnnxAttributeType.Ints:
                foreach (var value in attribute.Ints ?? [])
                {
                    w.WriteInt64(8, value);                    // AttributeProto.ints
                }

                break;
            default:
                throw new NotSupportedException($"Attribute type {attribute.Type} is not written by this exporter.");
        }

        w.WriteInt64(20, (long)attribute.Type);                // AttributeProto.type
    }

    private static void WriteTensor(ProtoWriter w, OnnxInitializer tensor)
    {
        foreach (var dim in tensor.Dims)
        {
            w.WriteInt64(1, dim);                              // TensorProto.dims
        }

        w.WriteInt64(2, (long)tensor.ElementType);             // TensorProto.data_type
        w.WriteString(8, tensor.Name);                         // TensorProto.name
        if (tensor.ExternalLocation is { } location)
        {
            w.WriteMessage(13, e =>                            // TensorProto.external_data (StringStringEntryProto)
            {
                e.WriteString(1, "location");
                e.WriteString(2, location);
            });
            w.WriteInt64(14, 1);                               // TensorProto.data_location: EXTERNAL
            return;
        }

        w.WriteBytes(9, tensor.RawData);                       // TensorProto.raw_data (little-endian)
    }

    private static void WriteValueInfo(ProtoWriter w, OnnxValueInfo info)
    {
        w.WriteString(1, info.Name);                           // ValueInfoProto.name
        w.WriteMessage(2, type =>                               // ValueInfoProto.type (TypeProto)
            type.WriteMessage(1, tensor =>                      // TypeProto.tensor_type
            {
                tensor.WriteInt64(1, (long)info.ElementType);  // TypeProto.Tensor.elem_type
                tensor.WriteMessage(2, shape =>                 // TypeProto.Tensor.shape (TensorShapeProto)
                {
                    foreach (var dim in info.Shape)
                    {
                        shape.WriteMessage(1, d =>              // TensorShapeProto.dim
                        {
                            if (dim.Parameter is null)
                            {
                                d.WriteInt64(1, dim.Value);     // Dimension.dim_value
                            }
                            else
                            {
                                d.WriteString(2, dim.Parameter); // Dimension.dim_param
                            }
                        });
                    }
                });
            }));
    }
}
