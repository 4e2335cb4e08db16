namespace AlertBroker.Avro;

/// <summary>A record value of the generic data model: one slot per field of its schema.</summary>
public sealed class GenericRecord : IEquatable<GenericRecord>
{
    private readonly object?[] _values;

    /// <summary>Creates a record with every field null.</summary>
    public GenericRecord(RecordSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Schema = schema;
        _values = schema.FieldArray.Length == 0 ? [] : new object?[schema.FieldArray.Length];
    }

    public RecordSchema Schema { get; }

    internal object?[] Values => _values;

    /// <summary>The value of the field at that position.</summary>
    public object? this[int position]
    {
        get => _values[position];
        set => _values[position] = value;
    }

    /// <summary>The value of the named field; throws <see cref="KeyNotFoundException"/> for an unknown name.</summary>
    public object? this[string name]
    {
        get => Schema.TryGetField(name, out var f) ? _values[f.Position] : throw new KeyNotFoundException($"record {Schema.FullName} has no field '{name}'");
        set
        {
            if (!Schema.TryGetField(name, out var f))
            {
                throw new KeyNotFoundException($"record {Schema.FullName} has no field '{name}'");
            }

            _values[f.Position] = value;
        }
    }

    /// <summary>Gets the value of the named field, false when the schema has no such field.</summary>
    public bool TryGetValue(string name, out object? value)
    {
        if (Schema.TryGetField(name, out var f))
        {
            value = _values[f.Position];
            return true;
        }

        value = null;
        return false;
    }

    public bool Equals(GenericRecord? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.Schema.FullName != Schema.FullName || other._values.Length != _values.Length)
        {
            return false;
        }

        for (var i = 0; i < _values.Length; i++)
        {
            if (!GenericEquality.DeepEquals(_values[i], other._values[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as GenericRecord);

    public override int GetHashCode() => HashCode.Combine(Schema.FullName, _values.Length);

    public override string ToString() => AvroJson.ToJson(this);
}

/// <summary>An enum value of the generic data model.</summary>
public sealed class GenericEnum : IEquatable<GenericEnum>
{
    public GenericEnum(EnumSchema schema, int index)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, schema.SymbolArray.Length);
        Schema = schema;
        Index = index;
    }

    public GenericEnum(EnumSchema schema, string symbol)
        : this(schema, schema?.IndexOf(symbol) ?? -1)
    {
    }

    public EnumSchema Schema { get; }

    public int Index { get; }

    public string Symbol => Schema.SymbolArray[Index];

    public bool Equals(GenericEnum? other) => other is not null && other.Schema.FullName == Schema.FullName && other.Symbol == Symbol;

    public override bool Equals(object? obj) => Equals(obj as GenericEnum);

    public override int GetHashCode() => HashCode.Combine(Schema.FullName, Index);

    public override string ToString() => Symbol;
}

/// <summary>A fixed value of the generic data model.</summary>
public sealed class GenericFixed : IEquatable<GenericFixed>
{
    public GenericFixed(FixedSchema schema, ReadOnlyMemory<byte> value)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (value.Length != schema.Size)
        {
            throw new ArgumentException($"fixed {schema.FullName} holds {schema.Size} bytes, not {value.Length}", nameof(value));
        }

        Schema = schema;
        Value = value;
    }

    public FixedSchema Schema { get; }

    /// <summary>The bytes; when produced by a reader, a slice of the input (not copied).</summary>
    public ReadOnlyMemory<byte> Value { get; }

    public bool Equals(GenericFixed? other) => other is not null && other.Schema.FullName == Schema.FullName && other.Value.Span.SequenceEqual(Value.Span);

    public override bool Equals(object? obj) => Equals(obj as GenericFixed);

    public override int GetHashCode() => HashCode.Combine(Schema.FullName, Value.Length);

    public override string ToString() => Convert.ToHexString(Value.Span);
}
