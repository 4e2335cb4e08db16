using System.Globalization;
using System.Text.Json;

namespace AlertBroker.Avro;

/// <summary>Turns schema JSON into the schema model, resolving names against the parse's own definitions and an optional known set.</summary>
internal sealed class SchemaParser
{
    private const int MaxJsonDepth = 256;

    private static readonly JsonDocumentOptions s_jsonOptions = new()
    {
        MaxDepth = MaxJsonDepth,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Skip,
    };

    private readonly AvroSchemaSet? _known;
    private readonly Dictionary<string, NamedSchema> _defined = new(StringComparer.Ordinal);
    private readonly List<NamedSchema> _definedOrder = [];
    private readonly List<AvroField> _fieldsWithDefaults = [];
    private readonly List<(EnumSchema Schema, string Symbol)> _enumDefaults = [];

    private SchemaParser(AvroSchemaSet? known) => _known = known;

    public static AvroSchema Parse(ReadOnlySpan<byte> utf8Json, AvroSchemaSet? known, out List<NamedSchema> defined)
    {
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            throw new AvroSchemaException("schema JSON is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions
            {
                MaxDepth = MaxJsonDepth,
                CommentHandling = JsonCommentHandling.Skip,
            });
            doc = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                doc.Dispose();
                throw new AvroSchemaException("invalid schema JSON: unexpected content after the schema");
            }
        }
        catch (JsonException ex)
        {
            throw new AvroSchemaException("invalid schema JSON: " + ex.Message, ex);
        }

        using (doc)
        {
            try
            {
                var parser = new SchemaParser(known);
                var schema = parser.ParseNode(doc.RootElement, null);
                parser.Finish(schema);
                defined = parser._definedOrder;
                return schema;
            }
            catch (InvalidOperationException ex)
            {
                // System.Text.Json defers some string validation (e.g. escaped lone surrogates) to GetString().
                throw new AvroSchemaException("invalid schema JSON: " + ex.Message, ex);
            }
        }
    }

    /// <summary>Parses a JSON document already in memory (used by sets that retry files).</summary>
    public static AvroSchema Parse(JsonElement root, AvroSchemaSet? known, out List<NamedSchema> defined)
    {
        var parser = new SchemaParser(known);
        var schema = parser.ParseNode(root, null);
        parser.Finish(schema);
        defined = parser._definedOrder;
        return schema;
    }

    private void Finish(AvroSchema root)
    {
        SchemaSizes.Compute(root);
        foreach (var named in _definedOrder)
        {
            SchemaSizes.Compute(named);
        }

        // Field defaults are not rejected here: schemas in the wild carry invalid ones (e.g. "true" as a string for a
        // boolean) that never matter unless a reader needs that default; resolution reports them when it does.
        foreach (var field in _fieldsWithDefaults)
        {
            field.DefaultIsValid = DefaultValues.IsValid(field.Default!.Value, field.Schema, 0);
        }

        foreach (var (schema, symbol) in _enumDefaults)
        {
            if (schema.IndexOf(symbol) < 0)
            {
                throw new AvroSchemaException($"enum {schema.FullName}: default '{symbol}' is not one of its symbols");
            }
        }
    }

    private AvroSchema ParseNode(JsonElement e, string? enclosingNs)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return ResolveName(e.GetString()!, enclosingNs);
            case JsonValueKind.Array:
                return ParseUnion(e, enclosingNs);
            case JsonValueKind.Object:
                return ParseObject(e, enclosingNs);
            default:
                throw new AvroSchemaException($"a schema must be a string, object or array, not {e.ValueKind}: {Excerpt(e)}");
        }
    }

    private AvroSchema ResolveName(string name, string? enclosingNs)
    {
        var primitive = AvroSchema.PrimitiveByName(name);
        if (primitive is not null)
        {
            return primitive;
        }

        if (name.Length == 0)
        {
            throw new AvroSchemaException("empty type name");
        }

        if (!name.Contains('.', StringComparison.Ordinal) && enclosingNs is not null && TryLookup(enclosingNs + "." + name, out var qualified))
        {
            return qualified;
        }

        if (TryLookup(name, out var found))
        {
            return found;
        }

        var full = name.Contains('.', StringComparison.Ordinal) || enclosingNs is null ? name : enclosingNs + "." + name;
        throw new AvroSchemaException($"unknown type name '{full}'");
    }

    private bool TryLookup(string fullName, out NamedSchema schema)
    {
        if (_defined.TryGetValue(fullName, out schema!))
        {
            return true;
        }

        return _known is not null && _known.TryGet(fullName, out schema!);
    }

    private UnionSchema ParseUnion(JsonElement e, string? enclosingNs)
    {
        var branches = new AvroSchema[e.GetArrayLength()];
        var i = 0;
        foreach (var item in e.EnumerateArray())
        {
            var branch = ParseNode(item, enclosingNs);
            if (branch.Type == AvroType.Union)
            {
                throw new AvroSchemaException("unions may not immediately contain other unions");
            }

            for (var j = 0; j < i; j++)
            {
                var other = branches[j];
                if (other.Type != branch.Type)
                {
                    continue;
                }

                if (branch is NamedSchema bn && other is NamedSchema on)
                {
                    if (bn.FullName == on.FullName)
                    {
                        throw new AvroSchemaException($"union contains {bn.FullName} twice");
                    }
                }
                else
                {
                    throw new AvroSchemaException($"union contains more than one {AvroSchema.TypeName(branch.Type)}");
                }
            }

            branches[i++] = branch;
        }

        return new UnionSchema(branches);
    }

    private AvroSchema ParseObject(JsonElement e, string? enclosingNs)
    {
        if (!e.TryGetProperty("type", out var typeEl))
        {
            throw new AvroSchemaException($"schema object has no 'type': {Excerpt(e)}");
        }

        if (typeEl.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            // {"type": {...}} wraps a schema; the wrapper's own attributes carry nothing the model keeps.
            return ParseNode(typeEl, enclosingNs);
        }

        if (typeEl.ValueKind != JsonValueKind.String)
        {
            throw new AvroSchemaException($"'type' must be a string, object or array: {Excerpt(e)}");
        }

        var type = typeEl.GetString()!;
        switch (type)
        {
            case "null":
            case "boolean":
            case "int":
            case "long":
            case "float":
            case "double":
            case "bytes":
            case "string":
                return ParsePrimitive(e, AvroSchema.PrimitiveByName(type)!.Type);
            case "record":
            case "error":
                return ParseRecord(e, enclosingNs);
            case "enum":
                return ParseEnum(e, enclosingNs);
            case "fixed":
                return ParseFixed(e, enclosingNs);
            case "array":
                {
                    if (!e.TryGetProperty("items", out var items))
                    {
                        throw new AvroSchemaException("array schema has no 'items'");
                    }

                    return new ArraySchema(ParseNode(items, enclosingNs), CollectProperties(e, s_arrayReserved));
                }

            case "map":
                {
                    if (!e.TryGetProperty("values", out var values))
                    {
                        throw new AvroSchemaException("map schema has no 'values'");
                    }

                    return new MapSchema(ParseNode(values, enclosingNs), CollectProperties(e, s_mapReserved));
                }

            default:
                // A reference to a named type written as {"type": "Name"}.
                return ResolveName(type, enclosingNs);
        }
    }

    private static readonly string[] s_primitiveReserved = ["type", "logicalType"];
    private static readonly string[] s_arrayReserved = ["type", "items"];
    private static readonly string[] s_mapReserved = ["type", "values"];
    private static readonly string[] s_recordReserved = ["type", "name", "namespace", "fields", "doc", "aliases"];
    private static readonly string[] s_enumReserved = ["type", "name", "namespace", "symbols", "doc", "aliases", "default"];
    private static readonly string[] s_fixedReserved = ["type", "name", "namespace", "size", "doc", "aliases", "logicalType"];
    private static readonly string[] s_fieldReserved = ["type", "name", "doc", "aliases", "default", "order"];

    private static AvroSchema ParsePrimitive(JsonElement e, AvroType type)
    {
        var props = CollectProperties(e, s_primitiveReserved);
        string? raw = null;
        if (e.TryGetProperty("logicalType", out var lt) && lt.ValueKind == JsonValueKind.String)
        {
            raw = lt.GetString();
        }

        if (raw is null && props is null)
        {
            return AvroSchema.PrimitiveByName(AvroSchema.TypeName(type))!;
        }

        var kind = LogicalKind.None;
        int precision = 0, scale = 0;
        if (raw is not null)
        {
            kind = raw switch
            {
                "decimal" when type == AvroType.Bytes && TryDecimalParams(e, int.MaxValue, out precision, out scale) => LogicalKind.Decimal,
                "big-decimal" when type == AvroType.Bytes => LogicalKind.BigDecimal,
                "uuid" when type == AvroType.String => LogicalKind.Uuid,
                "date" when type == AvroType.Int => LogicalKind.Date,
                "time-millis" when type == AvroType.Int => LogicalKind.TimeMillis,
                "time-micros" when type == AvroType.Long => LogicalKind.TimeMicros,
                "timestamp-millis" when type == AvroType.Long => LogicalKind.TimestampMillis,
                "timestamp-micros" when type == AvroType.Long => LogicalKind.TimestampMicros,
                "timestamp-nanos" when type == AvroType.Long => LogicalKind.TimestampNanos,
                "local-timestamp-millis" when type == AvroType.Long => LogicalKind.LocalTimestampMillis,
                "local-timestamp-micros" when type == AvroType.Long => LogicalKind.LocalTimestampMicros,
                "local-timestamp-nanos" when type == AvroType.Long => LogicalKind.LocalTimestampNanos,
                "decimal" or "big-decimal" or "uuid" or "date" or "time-millis" or "time-micros" or "timestamp-millis"
                    or "timestamp-micros" or "timestamp-nanos" or "local-timestamp-millis" or "local-timestamp-micros"
                    or "local-timestamp-nanos" or "duration" => LogicalKind.None,
                _ => LogicalKind.Unknown,
            };
        }

        return new PrimitiveSchema(type, raw, kind, precision, scale, props);
    }

    private static bool TryDecimalParams(JsonElement e, long maxPrecision, out int precision, out int scale)
    {
        precision = 0;
        scale = 0;
        if (!e.TryGetProperty("precision", out var p) || p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out precision) || precision <= 0 || precision > maxPrecision)
        {
            precision = 0;
            return false;
        }

        if (e.TryGetProperty("scale", out var s))
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt32(out scale) || scale < 0 || scale > precision)
            {
                precision = 0;
                scale = 0;
                return false;
            }
        }

        return true;
    }

    private RecordSchema ParseRecord(JsonElement e, string? enclosingNs)
    {
        var (name, ns) = ParseFullName(e, enclosingNs);
        var aliases = ParseAliases(e, ns);
        var record = new RecordSchema(name, ns, aliases, GetDoc(e), CollectProperties(e, s_recordReserved));
        Define(record);

        if (!e.TryGetProperty("fields", out var fieldsEl) || fieldsEl.ValueKind != JsonValueKind.Array)
        {
            throw new AvroSchemaException($"record {record.FullName} has no 'fields' array");
        }

        var fields = new AvroField[fieldsEl.GetArrayLength()];
        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var f in fieldsEl.EnumerateArray())
        {
            if (f.ValueKind != JsonValueKind.Object)
            {
                throw new AvroSchemaException($"record {record.FullName}: a field must be a JSON object");
            }

            var fieldName = RequireString(f, "name", $"a field of record {record.FullName}");
            ValidateName(fieldName, $"field name in record {record.FullName}");
            if (!names.Add(fieldName))
            {
                throw new AvroSchemaException($"record {record.FullName} has two fields named '{fieldName}'");
            }

            if (!f.TryGetProperty("type", out var fieldType))
            {
                throw new AvroSchemaException($"field {record.FullName}.{fieldName} has no 'type'");
            }

            AvroSchema schema;
            try
            {
                schema = ParseNode(fieldType, ns);
            }
            catch (AvroSchemaException ex) when (!ex.Message.StartsWith("field ", StringComparison.Ordinal))
            {
                throw new AvroSchemaException($"field {record.FullName}.{fieldName}: {ex.Message}", ex);
            }

            JsonElement? defaultValue = f.TryGetProperty("default", out var d) ? d.Clone() : null;
            string? order = null;
            if (f.TryGetProperty("order", out var o))
            {
                order = o.ValueKind == JsonValueKind.String ? o.GetString() : null;
                if (order is not ("ascending" or "descending" or "ignore"))
                {
                    throw new AvroSchemaException($"field {record.FullName}.{fieldName}: order must be ascending, descending or ignore");
                }
            }

            var fieldAliases = ParseFieldAliases(f, record.FullName, fieldName);
            var field = new AvroField(fieldName, i, schema, fieldAliases, GetDoc(f), defaultValue, order, CollectProperties(f, s_fieldReserved) ?? AvroSchema.EmptyProperties);
            if (defaultValue.HasValue)
            {
                _fieldsWithDefaults.Add(field);
            }

            fields[i++] = field;
        }

        record.SetFields(fields);
        return record;
    }

    private EnumSchema ParseEnum(JsonElement e, string? enclosingNs)
    {
        var (name, ns) = ParseFullName(e, enclosingNs);
        var aliases = ParseAliases(e, ns);
        var full = ns is null ? name : ns + "." + name;
        if (!e.TryGetProperty("symbols", out var symbolsEl) || symbolsEl.ValueKind != JsonValueKind.Array)
        {
            throw new AvroSchemaException($"enum {full} has no 'symbols' array");
        }

        var symbols = new string[symbolsEl.GetArrayLength()];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var s in symbolsEl.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.String)
            {
                throw new AvroSchemaException($"enum {full}: symbols must be strings");
            }

            var symbol = s.GetString()!;
            ValidateName(symbol, $"symbol of enum {full}");
            if (!seen.Add(symbol))
            {
                throw new AvroSchemaException($"enum {full} has the symbol '{symbol}' twice");
            }

            symbols[i++] = symbol;
        }

        string? defaultSymbol = null;
        if (e.TryGetProperty("default", out var d))
        {
            if (d.ValueKind != JsonValueKind.String)
            {
                throw new AvroSchemaException($"enum {full}: default must be a string");
            }

            defaultSymbol = d.GetString();
        }

        var schema = new EnumSchema(name, ns, aliases, GetDoc(e), symbols, defaultSymbol, CollectProperties(e, s_enumReserved));
        if (defaultSymbol is not null)
        {
            _enumDefaults.Add((schema, defaultSymbol));
        }

        Define(schema);
        return schema;
    }

    private FixedSchema ParseFixed(JsonElement e, string? enclosingNs)
    {
        var (name, ns) = ParseFullName(e, enclosingNs);
        var aliases = ParseAliases(e, ns);
        var full = ns is null ? name : ns + "." + name;
        if (!e.TryGetProperty("size", out var sizeEl) || sizeEl.ValueKind != JsonValueKind.Number || !sizeEl.TryGetInt32(out var size) || size < 0)
        {
            throw new AvroSchemaException($"fixed {full} needs a non-negative integer 'size'");
        }

        var schema = new FixedSchema(name, ns, aliases, GetDoc(e), size, CollectProperties(e, s_fixedReserved));
        if (e.TryGetProperty("logicalType", out var lt) && lt.ValueKind == JsonValueKind.String)
        {
            var raw = lt.GetString()!;
            int precision = 0, scale = 0;
            var kind = raw switch
            {
                "decimal" when TryDecimalParams(e, MaxDecimalPrecision(size), out precision, out scale) => LogicalKind.Decimal,
                "duration" when size == 12 => LogicalKind.Duration,
                "uuid" when size == 16 => LogicalKind.Uuid,
                "decimal" or "big-decimal" or "uuid" or "date" or "time-millis" or "time-micros" or "timestamp-millis"
                    or "timestamp-micros" or "timestamp-nanos" or "local-timestamp-millis" or "local-timestamp-micros"
                    or "local-timestamp-nanos" or "duration" => LogicalKind.None,
                _ => LogicalKind.Unknown,
            };
            schema.SetLogical(raw, kind, precision, scale);
        }

        Define(schema);
        return schema;
    }

    /// <summary>Largest decimal precision a two's-complement fixed of that many bytes can hold: floor(log10(2^(8n-1) - 1)).</summary>
    private static long MaxDecimalPrecision(int size)
    {
        if (size == 0)
        {
            return 0;
        }

        if (size > 1024)
        {
            return int.MaxValue;
        }

        var max = System.Numerics.BigInteger.Pow(2, (8 * size) - 1) - 1;
        return (long)Math.Floor(System.Numerics.BigInteger.Log10(max));
    }

    private void Define(NamedSchema schema)
    {
        if (AvroSchema.PrimitiveByName(schema.FullName) is not null)
        {
            throw new AvroSchemaException($"a named type may not be called '{schema.FullName}'");
        }

        if (_defined.ContainsKey(schema.FullName) || (_known is not null && _known.TryGet(schema.FullName, out _)))
        {
            throw new AvroSchemaException($"the type {schema.FullName} is defined twice");
        }

        _defined.Add(schema.FullName, schema);
        _definedOrder.Add(schema);
    }

    private static (string Name, string? Namespace) ParseFullName(JsonElement e, string? enclosingNs)
    {
        var name = RequireString(e, "name", "a named type");
        string? ns;
        var dot = name.LastIndexOf('.');
        if (dot >= 0)
        {
            ns = name[..dot];
            name = name[(dot + 1)..];
        }
        else if (e.TryGetProperty("namespace", out var nsEl) && nsEl.ValueKind != JsonValueKind.Null)
        {
            if (nsEl.ValueKind != JsonValueKind.String)
            {
                throw new AvroSchemaException($"namespace of {name} must be a string");
            }

            ns = nsEl.GetString();
        }
        else
        {
            ns = enclosingNs;
        }

        if (ns is { Length: 0 })
        {
            ns = null;
        }

        ValidateName(name, "type name");
        if (ns is not null)
        {
            foreach (var part in ns.Split('.'))
            {
                ValidateName(part, $"namespace '{ns}'");
            }
        }

        return (name, ns);
    }

    private static string[] ParseAliases(JsonElement e, string? ns)
    {
        if (!e.TryGetProperty("aliases", out var a))
        {
            return [];
        }

        if (a.ValueKind != JsonValueKind.Array)
        {
            throw new AvroSchemaException("'aliases' must be an array of strings");
        }

        var result = new string[a.GetArrayLength()];
        var i = 0;
        foreach (var item in a.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new AvroSchemaException("'aliases' must be an array of strings");
            }

            var alias = item.GetString()!;
            foreach (var part in alias.Split('.'))
            {
                ValidateName(part, $"alias '{alias}'");
            }

            result[i++] = alias.Contains('.', StringComparison.Ordinal) || ns is null ? alias : ns + "." + alias;
        }

        return result;
    }

    private static string[] ParseFieldAliases(JsonElement f, string record, string field)
    {
        if (!f.TryGetProperty("aliases", out var a))
        {
            return [];
        }

        if (a.ValueKind != JsonValueKind.Array)
        {
            throw new AvroSchemaException($"field {record}.{field}: 'aliases' must be an array of strings");
        }

        var result = new string[a.GetArrayLength()];
        var i = 0;
        foreach (var item in a.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new AvroSchemaException($"field {record}.{field}: 'aliases' must be an array of strings");
            }

            result[i++] = item.GetString()!;
        }

        return result;
    }

    private static string? GetDoc(JsonElement e) =>
        e.TryGetProperty("doc", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;

    private static string RequireString(JsonElement e, string property, string what)
    {
        if (!e.TryGetProperty(property, out var v) || v.ValueKind != JsonValueKind.String)
        {
            throw new AvroSchemaException($"{what} needs a string '{property}': {Excerpt(e)}");
        }

        return v.GetString()!;
    }

    internal static void ValidateName(string name, string what)
    {
        if (!IsValidName(name))
        {
            throw new AvroSchemaException($"invalid {what}: '{name}' (names start with [A-Za-z_] followed by [A-Za-z0-9_])");
        }
    }

    internal static bool IsValidName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        var c0 = name[0];
        if (!(char.IsAsciiLetter(c0) || c0 == '_'))
        {
            return false;
        }

        foreach (var c in name[1..])
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static Dictionary<string, JsonElement>? CollectProperties(JsonElement e, string[] reserved)
    {
        Dictionary<string, JsonElement>? props = null;
        foreach (var p in e.EnumerateObject())
        {
            if (Array.IndexOf(reserved, p.Name) >= 0)
            {
                continue;
            }

            props ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            props.TryAdd(p.Name, p.Value.Clone());
        }

        return props;
    }

    private static string Excerpt(JsonElement e)
    {
        var text = e.GetRawText();
        return text.Length <= 120 ? text : string.Concat(text.AsSpan(0, 120), "…");
    }

    internal static string FormatInvariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
