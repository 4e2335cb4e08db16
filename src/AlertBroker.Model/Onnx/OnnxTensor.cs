using System.Buffers;
using System.Runtime.CompilerServices;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// A tensor argument for <see cref="OnnxSession.Run"/>: caller-owned memory plus a shape. The memory is pinned for
/// the duration of the call and handed to ONNX Runtime without a copy; outputs are written straight into it.
/// The shape is copied into the struct, so a collection expression (<c>[batch, steps, features]</c>) costs nothing.
/// </summary>
public readonly struct OnnxTensor : IEquatable<OnnxTensor>
{
    /// <summary>The largest rank a tensor argument may have.</summary>
    public const int MaxRank = 8;

    private readonly Memory<float> _float;
    private readonly Memory<int> _int32;
    private readonly Memory<long> _int64;
    private readonly ShapeBuffer _shape;

    private OnnxTensor(OnnxElementType type, Memory<float> f, Memory<int> i, Memory<long> l, ReadOnlySpan<long> shape)
    {
        if (shape.Length > MaxRank)
        {
            throw new ArgumentOutOfRangeException(nameof(shape), shape.Length, $"Tensor rank is limited to {MaxRank}.");
        }

        ElementType = type;
        _float = f;
        _int32 = i;
        _int64 = l;
        Rank = shape.Length;
        long count = 1;
        for (var d = 0; d < shape.Length; d++)
        {
            if (shape[d] < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(shape), shape[d], "Tensor dimensions must be zero or positive.");
            }

            _shape[d] = shape[d];
            count *= shape[d];
        }

        ElementCount = count;
        if (DataLength < count)
        {
            throw new ArgumentException($"The buffer holds {DataLength} elements but shape [{string.Join(", ", shape.ToArray())}] needs {count}.", nameof(shape));
        }
    }

    public OnnxElementType ElementType { get; }

    public int Rank { get; }

    /// <summary>The product of the dimensions.</summary>
    public long ElementCount { get; }

    internal int DataLength => ElementType switch
    {
        OnnxElementType.Float => _float.Length,
        OnnxElementType.Int32 => _int32.Length,
        OnnxElementType.Int64 => _int64.Length,
        _ => 0,
    };

    public static OnnxTensor Create(Memory<float> data, ReadOnlySpan<long> shape) => new(OnnxElementType.Float, data, default, default, shape);

    public static OnnxTensor Create(Memory<int> data, ReadOnlySpan<long> shape) => new(OnnxElementType.Int32, default, data, default, shape);

    public static OnnxTensor Create(Memory<long> data, ReadOnlySpan<long> shape) => new(OnnxElementType.Int64, default, default, data, shape);

    public long GetDimension(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Rank);
        return _shape[index];
    }

    internal void CopyShape(Span<long> destination)
    {
        for (var d = 0; d < Rank; d++)
        {
            destination[d] = _shape[d];
        }
    }

    // Pins the data; the byte length covers exactly ElementCount elements.
    internal MemoryHandle Pin(out nuint byteLength)
    {
        switch (ElementType)
        {
            case OnnxElementType.Float:
                byteLength = (nuint)(ElementCount * sizeof(float));
                return _float.Pin();
            case OnnxElementType.Int32:
                byteLength = (nuint)(ElementCount * sizeof(int));
                return _int32.Pin();
            case OnnxElementType.Int64:
                byteLength = (nuint)(ElementCount * sizeof(long));
                return _int64.Pin();
            default:
                throw new InvalidOperationException("An OnnxTensor must be created with OnnxTensor.Create.");
        }
    }

    public bool Equals(OnnxTensor other)
    {
        if (ElementType != other.ElementType || Rank != other.Rank || !_float.Equals(other._float)
            || !_int32.Equals(other._int32) || !_int64.Equals(other._int64))
        {
            return false;
        }

        for (var d = 0; d < Rank; d++)
        {
            if (_shape[d] != other._shape[d])
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is OnnxTensor other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(ElementType, Rank, ElementCount, _float, _int32, _int64);

    public static bool operator ==(OnnxTensor left, OnnxTensor right) => left.Equals(right);

    public static bool operator !=(OnnxTensor left, OnnxTensor right) => !left.Equals(right);

    [InlineArray(MaxRank)]
    private struct ShapeBuffer
    {
        private long _element0;
    }
}
