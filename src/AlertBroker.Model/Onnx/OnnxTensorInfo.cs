namespace AlertBroker.Model.Onnx;

/// <summary>A session input or output: its name, element type and shape, where -1 marks a dynamic dimension.</summary>
public sealed record OnnxTensorInfo(string Name, OnnxElementType ElementType, IReadOnlyList<long> Shape)
{
    public override string ToString() =>
        $"{Name}: {OnnxElementTypeNames.ToName(ElementType)} [{string.Join(", ", Shape)}]";
}

/// <summary>An input for <see cref="OnnxSession.Evaluate"/>: its name, data (<c>float[]</c>, <c>int[]</c> or <c>long[]</c>) and shape.</summary>
public sealed record OnnxInputValue(string Name, Array Data, long[] Shape);

/// <summary>An output of <see cref="OnnxSession.Evaluate"/>: name, element type, shape and values (as doubles; empty for types other than float, double, int32, int64).</summary>
public sealed record OnnxOutputValue(string Name, OnnxElementType ElementType, long[] Shape, double[] Values);
