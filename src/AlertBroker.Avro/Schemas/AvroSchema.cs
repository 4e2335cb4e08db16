using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace AlertBroker.Avro;

/// <summary>
/// An Avro schema. Instances are immutable once parsed and safe to share between threads.
/// </summary>
public abstract class AvroSchema
{
    internal static readonly IReadOnlyDictionary<string, JsonElement> EmptyProperties =
        FrozenDictionary<string, JsonElement>.Empty;

    private string? _canonicalForm;
    private byte[]? _jsonUtf8;
    private ulong _fingerprint;
    private volatile bool _hasFingerprint;

    private protected AvroSchema(AvroType type, IReadOnlyDictionary<string, JsonElement>? properties)
    {
        Type = type;
        Properties = properties ?? EmptyProperties;
    }

    /// <summary>The schema type.</summary>
    public AvroType Type { get; }

    /// <summary>The <c>logicalType</c> attribute when it is valid for this schema; null otherwise (invalid logical types are ignored, as the spec requires).</summary>
    public string? LogicalTypeName { get; private protected set; }

    /// <summary>Attributes not defined by the specification (for example ZTF's <c>"version"</c>).</summary>
    public IReadOnlyDictionary<string, JsonElement> Properties { get; }

    /// <summary>Precision of a <c>decimal</c> logical type; 0 when the schema is not a decimal.</summary>
    public int DecimalPrecision { get; private protected set; }

    /// <summary>Scale of a <c>decimal</c> logical type; 0 when absent.</summary>
    public int DecimalScale { get; private protected set; }

    internal LogicalKind Logical { get; private protected set; }

    /// <summary>The raw logicalType attribute, kept even when invalid so ToJson reproduces the input.</summary>
    internal string? RawLogicalType { get; private protected set; }

    // Encoded-size facts, precomputed once after parsing so Skip and the readers can bound work without walking the schema.
    internal int FixedSize { get; set; } = -1;

    internal int MinSize { get; set; }

    internal byte SizeState { get; set; }

    /// <summary>How <see cref="AvroReader.Skip"/> steps over a value of this schema without recursing, when it can.</summary>
    internal SkipKind SkipKind { get; set; } = SkipKind.Complex;

    public static AvroSchema Null { get; } = new PrimitiveSchema(AvroType.Null);

    public static AvroSchema Boolean { get; } = new PrimitiveSchema(AvroType.Boolean);

    public static AvroSchema Int { get; } = new PrimitiveSchema(AvroType.Int);

    public static AvroSchema Long { get; } = new PrimitiveSchema(AvroType.Long);

    public static AvroSchema Float { get; } = new PrimitiveSchema(AvroType.Float);

    public static AvroSchema Double { get; } = new PrimitiveSchema(AvroType.Double);

    public static AvroSchema Bytes { get; } = new PrimitiveSchema(AvroType.Bytes);

    public static AvroSchema String { get; } = new PrimitiveSchema(AvroType.String);

    /// <summary>Parses a schema from its JSON text.</summary>
    public static AvroSchema Parse(string json) => Parse(json, null);

    /// <summary>Parses a schema from UTF-8 JSON.</summary>
    public static AvroSchema Parse(ReadOnlySpan<byte> utf8Json) => Parse(utf8Json, null);

    /// <summary>Parses a schema that may reference named types already in <paramref name="knownTypes"/>; the set is not modified.</summary>
    public static AvroSchema Parse(string json, AvroSchemaSet? knownTypes)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json), knownTypes);
    }

    /// <summary>Parses UTF-8 schema JSON that may reference named types already in <paramref name="knownTypes"/>; the set is not modified.</summary>
    public static AvroSchema Parse(ReadOnlySpan<byte> utf8Json, AvroSchemaSet? knownTypes) =>
        SchemaParser.Parse(utf8Json, knownTypes, out _);

    /// <summary>The Parsing Canonical Form of this schema.</summary>
    public string ToCanonicalForm() => _canonicalForm ??= CanonicalForm.Write(this);

    /// <summary>CRC-64-AVRO fingerprint of the Parsing Canonical Form (computed once).</summary>
    public ulong Fingerprint
    {
        get
        {
            if (!_hasFingerprint)
            {
                _fingerprint = Crc64Avro.Compute(Encoding.UTF8.GetBytes(ToCanonicalForm()));
                _hasFingerprint = true;
            }

            return _fingerprint;
        }
    }

    /// <summary>The full schema as JSON (docs, aliases, defaults, logical types and extra attributes included).</summary>
    public string ToJson() => SchemaJsonWriter.Write(this);

    /// <summary><see cref="ToJson"/> as UTF-8, made once: what every container file written with this schema carries in its header.</summary>
    internal ReadOnlySpan<byte> JsonUtf8 => _jsonUtf8 ??= Encoding.UTF8.GetBytes(ToJson());

    /// <inheritdoc/>
    public override string ToString() => ToJson();

    internal static string TypeName(AvroType type) => type switch
    {
        AvroType.Null => "null",
        AvroType.Boolean => "boolean",
        AvroType.Int => "int",
        AvroType.Long => "long",
        AvroType.Float => "float",
        AvroType.Double => "double",
        AvroType.Bytes => "bytes",
        AvroType.String => "string",
        AvroType.Record => "record",
        AvroType.Enum => "enum",
        AvroType.Array => "array",
        AvroType.Map => "map",
        AvroType.Union => "union",
        _ => "fixed",
    };

    /// <summary>A short description for error messages: the full name for named types, else the type name.</summary>
    internal string DisplayName => this is NamedSchema n ? n.FullName : TypeName(Type);

    internal static AvroSchema? PrimitiveByName(string name) => name switch
    {
        "null" => Null,
        "boolean" => Boolean,
        "int" => Int,
        "long" => Long,
        "float" => Float,
        "double" => Double,
        "bytes" => Bytes,
        "string" => String,
        _ => null,
    };

    private protected void SetLogicalType(string? raw, LogicalKind kind, int precision = 0, int scale = 0)
    {
        RawLogicalType = raw;
        Logical = kind;
        LogicalTypeName = kind == LogicalKind.None ? null : raw;
        DecimalPrecision = precision;
        DecimalScale = scale;
    }
}

/// <summary>A primitive type, possibly annotated with a logical type.</summary>
public sealed class PrimitiveSchema : AvroSchema
{
    internal PrimitiveSchema(AvroType type)
        : base(type, null)
    {
        InitSizes(type);
    }

    internal PrimitiveSchema(AvroType type, string? rawLogicalType, LogicalKind kind, int precision, int scale, IReadOnlyDictionary<string, JsonElement>? properties)
        : base(type, properties)
    {
        SetLogicalType(rawLogicalType, kind, precision, scale);
        InitSizes(type);
    }

    // A primitive's encoded size is known from its type alone: precomputed so Skip needs no schema walk.
    private void InitSizes(AvroType type)
    {
        SizeState = 2;
        (FixedSize, MinSize) = type switch
        {
            AvroType.Null => (0, 0),
            AvroType.Boolean => (1, 1),
            AvroType.Float => (4, 4),
            AvroType.Double => (8, 8),
            _ => (-1, 1),
        };
        SkipKind = type switch
        {
            AvroType.Int => SkipKind.Int,
            AvroType.Long => SkipKind.Long,
            AvroType.Bytes => SkipKind.Bytes,
            AvroType.String => SkipKind.String,
            _ => SkipKind.Fixed,
        };
    }
}

/// <summary>A record, enum or fixed: a type with a (namespace-qualified) name.</summary>
public abstract class NamedSchema : AvroSchema
{
    private protected NamedSchema(AvroType type, string name, string? ns, IReadOnlyList<string> aliases, string? doc, IReadOnlyDictionary<string, JsonElement>? properties)
        : base(type, properties)
    {
        Name = name;
        Namespace = ns;
        FullName = ns is null ? name : ns + "." + name;
        Aliases = aliases;
        Doc = doc;
    }

    /// <summary>The unqualified name.</summary>
    public string Name { get; }

    /// <summary>The namespace, or null for the null namespace.</summary>
    public string? Namespace { get; }

    /// <summary>Namespace-qualified name.</summary>
    public string FullName { get; }

    /// <summary>Alternative full names, used by schema resolution.</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>Documentation, if any.</summary>
    public string? Doc { get; }

    internal bool MatchesName(NamedSchema writer)
    {
        if (FullName == writer.FullName || Name == writer.Name)
        {
            return true;
        }

        foreach (var alias in Aliases)
        {
            if (alias == writer.FullName)
            {
                return true;
            }

            var dot = alias.LastIndexOf('.');
            if (dot >= 0 && alias.AsSpan(dot + 1).SequenceEqual(writer.Name) && writer.Namespace is null)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A record schema.</summary>
public sealed class RecordSchema : NamedSchema
{
    private AvroField[] _fields = [];
    private FrozenDictionary<string, AvroField> _byName = FrozenDictionary<string, AvroField>.Empty;

    internal RecordSchema(string name, string? ns, IReadOnlyList<string> aliases, string? doc, IReadOnlyDictionary<string, JsonElement>? properties)
        : base(AvroType.Record, name, ns, aliases, doc, properties)
    {
    }

    /// <summary>The fields in declaration order.</summary>
    public IReadOnlyList<AvroField> Fields => _fields;

    internal AvroField[] FieldArray => _fields;

    internal SkipSegment[]? SkipPlan { get; set; }

    /// <summary>Finds a field by name.</summary>
    public bool TryGetField(string name, [MaybeNullWhen(false)] out AvroField field) => _byName.TryGetValue(name, out field);

    /// <summary>The field with that name, or null.</summary>
    public AvroField? GetField(string name) => _byName.GetValueOrDefault(name);

    internal void SetFields(AvroField[] fields)
    {
        _fields = fields;
        var byName = new Dictionary<string, AvroField>(fields.Length, StringComparer.Ordinal);
        foreach (var f in fields)
        {
            byName[f.Name] = f;
        }

        _byName = byName.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>One step of skipping a record: a run of fixed-size bytes followed by at most one variable-size field.</summary>
internal readonly record struct SkipSegment(int FixedBytes, AvroSchema? Variable);

/// <summary>A field of a record.</summary>
public sealed class AvroField
{
    internal AvroField(string name, int position, AvroSchema schema, IReadOnlyList<string> aliases, string? doc, JsonElement? defaultValue, string? order, IReadOnlyDictionary<string, JsonElement> properties)
    {
        Name = name;
        Position = position;
        Schema = schema;
        Aliases = aliases;
        Doc = doc;
        Default = defaultValue;
        Order = order;
        Properties = properties;
    }

    public string Name { get; }

    /// <summary>Zero-based position in the record.</summary>
    public int Position { get; }

    public AvroSchema Schema { get; internal set; }

    /// <summary>Alternative names, used by schema resolution.</summary>
    public IReadOnlyList<string> Aliases { get; }

    public string? Doc { get; }

    public bool HasDefault => Default.HasValue;

    /// <summary>The default as JSON, exactly as declared.</summary>
    public JsonElement? Default { get; }

    /// <summary>True when the field has a default that is valid for its schema (invalid defaults are kept but unusable).</summary>
    public bool DefaultIsValid { get; internal set; }

    /// <summary>The <c>order</c> attribute (ascending, descending, ignore) when declared.</summary>
    public string? Order { get; }

    /// <summary>Attributes not defined by the specification.</summary>
    public IReadOnlyDictionary<string, JsonElement> Properties { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Schema.DisplayName}";
}

/// <summary>An enum schema.</summary>
public sealed class EnumSchema : NamedSchema
{
    private readonly string[] _symbols;
    private readonly FrozenDictionary<string, int> _indexes;

    internal EnumSchema(string name, string? ns, IReadOnlyList<string> aliases, string? doc, string[] symbols, string? defaultSymbol, IReadOnlyDictionary<string, JsonElement>? properties)
        : base(AvroType.Enum, name, ns, aliases, doc, properties)
    {
        _symbols = symbols;
        Default = defaultSymbol;
        var map = new Dictionary<string, int>(symbols.Length, StringComparer.Ordinal);
        for (var i = 0; i < symbols.Length; i++)
        {
            map[symbols[i]] = i;
        }

        _indexes = map.ToFrozenDictionary(StringComparer.Ordinal);
        SizeState = 2;
        FixedSize = -1;
        MinSize = 1;
        SkipKind = SkipKind.Int;
    }

    public IReadOnlyList<string> Symbols => _symbols;

    internal string[] SymbolArray => _symbols;

    /// <summary>The symbol used when reading a writer symbol this enum lacks; null when none.</summary>
    public string? Default { get; }

    /// <summary>Index of the symbol, or -1.</summary>
    public int IndexOf(string symbol) => _indexes.TryGetValue(symbol, out var i) ? i : -1;
}

/// <summary>A fixed-size byte sequence.</summary>
public sealed class FixedSchema : NamedSchema
{
    internal FixedSchema(string name, string? ns, IReadOnlyList<string> aliases, string? doc, int size, IReadOnlyDictionary<string, JsonElement>? properties)
        : base(AvroType.Fixed, name, ns, aliases, doc, properties)
    {
        Size = size;
        SizeState = 2;
        FixedSize = size;
        MinSize = size;
        SkipKind = SkipKind.Fixed;
    }

    public int Size { get; }

    internal void SetLogical(string? raw, LogicalKind kind, int precision, int scale) => SetLogicalType(raw, kind, precision, scale);
}

/// <summary>An array schema.</summary>
public sealed class ArraySchema : AvroSchema
{
    internal ArraySchema(AvroSchema items, IReadOnlyDictionary<string, JsonElement>? properties)
        : base(AvroType.Array, properties)
    {
        Items = items;
        MinSize = 1;
    }

    public AvroSchema Items { get; }
}

/// <summary>A map schema (keys are strings).</summary>
public sealed class MapSchema : AvroSchema
{
    internal MapSchema(AvroSchema values, IReadOnlyDictionary<string, JsonElement>? properties)
        : base(AvroType.Map, properties)
    {
        Values = values;
        MinSize = 1;
    }

    public AvroSchema Values { get; }
}

/// <summary>A union of schemas.</summary>
public sealed class UnionSchema : AvroSchema
{
    private readonly AvroSchema[] _branches;

    internal UnionSchema(AvroSchema[] branches)
        : base(AvroType.Union, null)
    {
        _branches = branches;
        NullBranchIndex = Array.FindIndex(branches, b => b.Type == AvroType.Null);
    }

    public IReadOnlyList<AvroSchema> Branches => _branches;

    internal AvroSchema[] BranchArray => _branches;

    /// <summary>Index of the null branch, or -1.</summary>
    public int NullBranchIndex { get; }

    // Per-branch skip facts, set when every branch is simple (e.g. ["null","float"]) so a skip is one index read and one step.
    internal SkipKind[]? BranchSkipKinds { get; set; }

    internal int[]? BranchSizes { get; set; }
}

/// <summary>Skip strategies; everything but <see cref="Complex"/> is handled inline by the record skip loop.</summary>
internal enum SkipKind : byte
{
    Fixed,
    Int,
    Long,
    Bytes,
    String,
    SimpleUnion,
    Complex,
}
