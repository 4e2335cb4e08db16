using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

namespace AlertBroker.Avro;

/// <summary>
/// Decodes Avro binary encoding from a span without copying. Every length and count is checked against the
/// remaining input and <see cref="AvroLimits"/> before use; every failure is an <see cref="AvroFormatException"/>
/// carrying the absolute offset.
/// </summary>
public ref struct AvroReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly long _baseOffset;
    private readonly AvroLimits _limits;
    private int _pos;
    private int _depth;

    /// <summary>Reads <paramref name="data"/>; <paramref name="baseOffset"/> is added to positions in error messages.</summary>
    public AvroReader(ReadOnlySpan<byte> data, AvroLimits? limits = null, long baseOffset = 0)
    {
        _data = data;
        _limits = limits ?? AvroLimits.Default;
        _baseOffset = baseOffset;
        _pos = 0;
        _depth = 0;
    }

    /// <summary>Position relative to the start of the data.</summary>
    public int Position
    {
        readonly get => _pos;
        set
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)value, (uint)_data.Length, nameof(value));
            _pos = value;
        }
    }

    /// <summary>Absolute offset: the base offset plus <see cref="Position"/>.</summary>
    public readonly long Offset => _baseOffset + _pos;

    public readonly int Remaining => _data.Length - _pos;

    public readonly bool IsAtEnd => _pos >= _data.Length;

    public readonly AvroLimits Limits => _limits;

    internal readonly ReadOnlySpan<byte> Data => _data;

    public bool ReadBoolean()
    {
        var pos = _pos;
        if ((uint)pos >= (uint)_data.Length)
        {
            ThrowEndOfData(1);
        }

        var b = _data[pos];
        if (b > 1)
        {
            ThrowFormat("invalid boolean byte " + b.ToString(System.Globalization.CultureInfo.InvariantCulture), pos);
        }

        _pos = pos + 1;
        return b != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadInt()
    {
        var pos = _pos;
        if ((uint)pos < (uint)_data.Length)
        {
            uint b = _data[pos];
            if (b < 0x80)
            {
                _pos = pos + 1;
                return (int)(b >> 1) ^ -(int)(b & 1);
            }
        }

        return ReadIntSlow();
    }

    private int ReadIntSlow()
    {
        var start = _pos;
        var pos = start;
        var data = _data;
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if ((uint)pos >= (uint)data.Length)
            {
                ThrowEndOfData(1);
            }

            uint b = data[pos++];
            if (shift == 28 && b > 0x0F)
            {
                ThrowFormat("int varint overflows 32 bits", start);
            }

            result |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                _pos = pos;
                return (int)(result >> 1) ^ -(int)(result & 1);
            }
        }

        ThrowFormat("int varint longer than 5 bytes", start);
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadLong()
    {
        var pos = _pos;
        if ((uint)pos < (uint)_data.Length)
        {
            ulong b = _data[pos];
            if (b < 0x80)
            {
                _pos = pos + 1;
                return (long)(b >> 1) ^ -(long)(b & 1);
            }
        }

        return ReadLongSlow();
    }

    private long ReadLongSlow()
    {
        var start = _pos;
        var pos = start;
        var data = _data;
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if ((uint)pos >= (uint)data.Length)
            {
                ThrowEndOfData(1);
            }

            ulong b = data[pos++];
            if (shift == 63 && b > 1)
            {
                ThrowFormat("long varint overflows 64 bits", start);
            }

            result |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                _pos = pos;
                return (long)(result >> 1) ^ -(long)(result & 1);
            }
        }

        ThrowFormat("long varint longer than 10 bytes", start);
        return 0;
    }

    public float ReadFloat()
    {
        var pos = _pos;
        if (_data.Length - pos < 4)
        {
            ThrowEndOfData(4);
        }

        _pos = pos + 4;
        return BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(pos, 4));
    }

    public double ReadDouble()
    {
        var pos = _pos;
        if (_data.Length - pos < 8)
        {
            ThrowEndOfData(8);
        }

        _pos = pos + 8;
        return BinaryPrimitives.ReadDoubleLittleEndian(_data.Slice(pos, 8));
    }

    /// <summary>Reads a bytes value as a slice of the input.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var (start, length) = ReadBytesRange();
        return _data.Slice(start, length);
    }

    /// <summary>Reads a bytes value and returns where it lies in the input, for zero-copy slicing of the caller's memory.</summary>
    public (int Start, int Length) ReadBytesRange() => ReadLengthPrefixed(_limits.MaxBytesLength, "bytes");

    /// <summary>Reads a string value as its UTF-8 bytes (a slice of the input).</summary>
    public ReadOnlySpan<byte> ReadStringUtf8()
    {
        var (start, length) = ReadLengthPrefixed(_limits.MaxStringLength, "string");
        return _data.Slice(start, length);
    }

    internal (int Start, int Length) ReadStringRange() => ReadLengthPrefixed(_limits.MaxStringLength, "string");

    /// <summary>Reads a string value (invalid UTF-8 sequences become U+FFFD).</summary>
    public string ReadString()
    {
        var (start, length) = ReadLengthPrefixed(_limits.MaxStringLength, "string");
        return length == 0 ? string.Empty : Encoding.UTF8.GetString(_data.Slice(start, length));
    }

    public ReadOnlySpan<byte> ReadFixed(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var pos = _pos;
        if (_data.Length - pos < size)
        {
            ThrowEndOfData(size);
        }

        _pos = pos + size;
        return _data.Slice(pos, size);
    }

    /// <summary>Reads an enum index, checked against the number of symbols.</summary>
    public int ReadEnum(int symbolCount)
    {
        var start = _pos;
        var index = ReadInt();
        if ((uint)index >= (uint)symbolCount)
        {
            ThrowFormat($"enum index {index} out of range (the enum has {symbolCount} symbols)", start);
        }

        return index;
    }

    /// <summary>Reads a union branch index, checked against the number of branches.</summary>
    public int ReadUnionIndex(int branchCount)
    {
        var start = _pos;
        var index = ReadLong();
        if ((ulong)index >= (ulong)branchCount)
        {
            ThrowFormat($"union branch index {index} out of range (the union has {branchCount} branches)", start);
        }

        return (int)index;
    }

    /// <summary>
    /// Reads an array/map block header: the item count of the next block (the absolute value of a negative count,
    /// whose byte size is consumed and validated), or 0 at the end.
    /// </summary>
    public long ReadBlockCount() => ReadBlockHeader(out _);

    /// <summary>
    /// Reads an array/map block header: the item count (0 at the end) and <paramref name="byteSize"/>, the byte size the
    /// block declares for its items (a negative count carries one), or -1 when it declares none. A reader that decodes
    /// the items calls <see cref="CheckBlockSize"/> after them.
    /// </summary>
    public long ReadBlockHeader(out long byteSize)
    {
        var start = _pos;
        var count = ReadLong();
        byteSize = -1;
        if (count < 0)
        {
            if (count == long.MinValue)
            {
                ThrowFormat("invalid block count", start);
            }

            count = -count;
            var sizeStart = _pos;
            byteSize = ReadLong();
            if (byteSize < 0 || byteSize > Remaining)
            {
                ThrowFormat($"block byte size {byteSize} is negative or exceeds the {Remaining} remaining bytes", sizeStart);
            }
        }

        if (count > _limits.MaxCollectionItems)
        {
            ThrowFormat($"block count {count} exceeds the limit of {_limits.MaxCollectionItems} items", start);
        }

        return count;
    }

    /// <summary>
    /// After decoding the items of a block read with <see cref="ReadBlockHeader"/>: throws when the block declared a byte
    /// size (<paramref name="byteSize"/> ≥ 0) other than the bytes its items took since <paramref name="itemsStart"/>.
    /// <see cref="Skip"/> jumps by the declared size, so a block whose size lies would decode differently when read and
    /// when skipped; refusing it keeps the two in step.
    /// </summary>
    public readonly void CheckBlockSize(long byteSize, int itemsStart)
    {
        if (byteSize >= 0 && _pos - itemsStart != byteSize)
        {
            ThrowFormat($"block byte size {byteSize} does not match the {_pos - itemsStart} bytes its items take", itemsStart);
        }
    }

    /// <summary>Skips one value of <paramref name="schema"/> without decoding it.</summary>
    public void Skip(AvroSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        SkipValue(schema);
    }

    internal void Advance(long count)
    {
        if ((ulong)count > (ulong)(_data.Length - _pos))
        {
            ThrowEndOfData(count);
        }

        _pos += (int)count;
    }

    private void SkipValue(AvroSchema schema)
    {
        var fixedSize = schema.FixedSize;
        if (fixedSize >= 0)
        {
            Advance(fixedSize);
            return;
        }

        switch (schema.Type)
        {
            case AvroType.Int:
            case AvroType.Enum:
                ReadInt();
                return;
            case AvroType.Long:
                ReadLong();
                return;
            case AvroType.Bytes:
                ReadBytesRange();
                return;
            case AvroType.String:
                ReadStringRange();
                return;
            case AvroType.Union:
                {
                    var union = (UnionSchema)schema;
                    var branch = ReadUnionIndex(union.BranchArray.Length);
                    SkipValue(union.BranchArray[branch]);
                    return;
                }

            case AvroType.Record:
                {
                    EnterNested();
                    var plan = ((RecordSchema)schema).SkipPlan;
                    if (plan is null)
                    {
                        foreach (var f in ((RecordSchema)schema).FieldArray)
                        {
                            SkipValue(f.Schema);
                        }
                    }
                    else
                    {
                        foreach (var segment in plan)
                        {
                            if (segment.FixedBytes != 0)
                            {
                                Advance(segment.FixedBytes);
                            }

                            if (segment.Variable is { } variable)
                            {
                                SkipVariable(variable);
                            }
                        }
                    }

                    ExitNested();
                    return;
                }

            case AvroType.Array:
                SkipBlocks(((ArraySchema)schema).Items, isMap: false);
                return;
            case AvroType.Map:
                SkipBlocks(((MapSchema)schema).Values, isMap: true);
                return;
            default:
                ThrowFormat("cannot skip schema type " + schema.Type, _pos);
                return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SkipVariable(AvroSchema schema)
    {
        switch (schema.SkipKind)
        {
            case SkipKind.SimpleUnion:
                {
                    var union = Unsafe.As<UnionSchema>(schema);
                    var index = ReadUnionIndex(union.BranchArray.Length);
                    SkipSimple(union.BranchSkipKinds![index], union.BranchSizes![index]);
                    return;
                }

            case SkipKind.Complex:
                SkipValue(schema);
                return;
            default:
                SkipSimple(schema.SkipKind, schema.FixedSize);
                return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SkipSimple(SkipKind kind, int fixedSize)
    {
        switch (kind)
        {
            case SkipKind.Fixed:
                if (fixedSize != 0)
                {
                    Advance(fixedSize);
                }

                return;
            case SkipKind.Int:
                ReadInt();
                return;
            case SkipKind.Long:
                ReadLong();
                return;
            case SkipKind.Bytes:
                ReadLengthPrefixed(_limits.MaxBytesLength, "bytes");
                return;
            default:
                ReadLengthPrefixed(_limits.MaxStringLength, "string");
                return;
        }
    }

    private void SkipBlocks(AvroSchema item, bool isMap)
    {
        EnterNested();
        long total = 0;
        while (true)
        {
            var start = _pos;
            var count = ReadBlockHeader(out var byteSize);
            if (count == 0)
            {
                break;
            }

            total += count;
            if (total > _limits.MaxCollectionItems)
            {
                ThrowFormat($"collection has more than {_limits.MaxCollectionItems} items", start);
            }

            if (byteSize >= 0)
            {
                Advance(byteSize);
            }
            else if (!isMap && item.FixedSize >= 0)
            {
                if (item.FixedSize > 0 && count > Remaining / item.FixedSize)
                {
                    ThrowFormat($"block of {count} items of {item.FixedSize} bytes exceeds the {Remaining} remaining bytes", start);
                }

                Advance(count * item.FixedSize);
            }
            else
            {
                if (!isMap && item.MinSize > 0 && count > Remaining / item.MinSize)
                {
                    ThrowFormat($"block count {count} cannot fit in the {Remaining} remaining bytes", start);
                }

                for (long i = 0; i < count; i++)
                {
                    if (isMap)
                    {
                        ReadStringRange();
                    }

                    SkipValue(item);
                }
            }
        }

        ExitNested();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void EnterNested()
    {
        if (++_depth > _limits.MaxDepth)
        {
            ThrowFormat($"nesting deeper than the limit of {_limits.MaxDepth}", _pos);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ExitNested() => _depth--;

    private (int Start, int Length) ReadLengthPrefixed(int limit, string what)
    {
        var start = _pos;
        var length = ReadLong();
        if ((ulong)length > (ulong)(_data.Length - _pos))
        {
            ThrowFormat(length < 0
                ? $"negative {what} length {length}"
                : $"{what} length {length} exceeds the {_data.Length - _pos} remaining bytes", start);
        }

        if (length > limit)
        {
            ThrowFormat($"{what} length {length} exceeds the limit of {limit}", start);
        }

        var begin = _pos;
        _pos = begin + (int)length;
        return (begin, (int)length);
    }

    [DoesNotReturn]
    internal readonly void ThrowFormat(string message, int position) =>
        throw new AvroFormatException(message, _baseOffset + position);

    [DoesNotReturn]
    private readonly void ThrowEndOfData(long needed) =>
        throw new AvroFormatException($"unexpected end of data: needed {needed} more bytes, {_data.Length - _pos} remain", _baseOffset + _pos);
}
