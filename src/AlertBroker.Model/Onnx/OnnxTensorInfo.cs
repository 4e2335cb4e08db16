namespace AlertBroker.Model.Onnx;

/// <summary>A session input or output: its name, element type and shape, where -1 marks a dynamic dimension.</summary>
public sealed record OnnxTensorInfo(string Name, OnnxElementType ElementType, IReadOnlyList<long> Shape)
{
    public override string ToString() =>
        $"{Name}: {OnnxElementTypeNames.ToName(ElementType)} [{string.Join(", ", Shape)}]";
}
