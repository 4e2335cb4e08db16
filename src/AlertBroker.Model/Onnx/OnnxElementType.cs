namespace AlertBroker.Model.Onnx;

/// <summary>Tensor element types, numbered as ONNX's <c>TensorProto.DataType</c>.</summary>
public enum OnnxElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

/// <summary>Names used for element types in <c>model.json</c>.</summary>
public static class OnnxElementTypeNames
{
    public static string ToName(OnnxElementType type) => type switch
    {
        OnnxElementType.Float => "float32",
        OnnxElementType.Double => "float64",
        OnnxElementType.Float16 => "float16",
        OnnxElementType.BFloat16 => "bfloat16",
        OnnxElementType.Int8 => "int8",
        OnnxElementType.Int16 => "int16",
        OnnxElementType.Int32 => "int32",
        OnnxElementType.Int64 => "int64",
        OnnxElementType.UInt8 => "uint8",
        OnnxElementType.UInt16 => "uint16",
        OnnxElementType.UInt32 => "uint32",
        OnnxElementType.UInt64 => "uint64",
        OnnxElementType.Bool => "bool",
        OnnxElementType.String => "string",
        _ => type.ToString().ToLowerInvariant(),
    };

    public static bool TryParse(string? name, out OnnxElementType type)
    {
        type = name switch
        {
            "float32" or "float" => OnnxElementType.Float,
            "float64" or "double" => OnnxElementType.Double,
            "float16" => OnnxElementType.Float16,
            "bfloat16" => OnnxElementType.BFloat16,
            "int8" => OnnxElementType.Int8,
            "int16" => OnnxElementType.Int16,
            "int32" => OnnxElementType.Int32,
            "int64" => OnnxElementType.Int64,
            "uint8" => OnnxElementType.UInt8,
            "uint16" => OnnxElementType.UInt16,
            "uint32" => OnnxElementType.UInt32,
            "uint64" => OnnxElementType.UInt64,
            "bool" => OnnxElementType.Bool,
            "string" => OnnxElementType.String,
            _ => OnnxElementType.Undefined,
        };
        return type != OnnxElementType.Undefined;
    }
}
