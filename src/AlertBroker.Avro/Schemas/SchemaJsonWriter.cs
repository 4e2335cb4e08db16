using System.Text;
using System.Text.Json;

namespace AlertBroker.Avro;

/// <summary>Writes a schema back to full JSON, each named type defined once and referenced by full name afterwards.</summary>
internal static class SchemaJsonWriter
{
    public static string Write(AvroSchema schema)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false }))
        {
            Write(writer, schema, null, new HashSet<string>(StringComparer.Ordinal));
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter w, AvroSchema schema, string? enclosingNs, HashSet<string> seen)
    {
        switch (schema)
        {
            case PrimitiveSchema p:
                if (p.RawLogicalType is null && p.Properties.Count == 0)
                {
                    w.WriteStringValue(AvroSchema.TypeName(p.Type));
                    return;
                }

                w.WriteStartObject();
                w.WriteString("type", AvroSchema.TypeName(p.Type));
                if (p.RawLogicalType is not null)
                {
                    w.WriteString("logicalType", p.RawLogicalType);
                }

                WriteProperties(w, p.Properties);
                w.WriteEndObject();
                return;
            case NamedSchema named when !seen.Add(named.FullName):
                w.WriteStringValue(named.FullName);
                return;
            case NamedSchema named:
                WriteNamed(w, named, enclosingNs, seen);
                return;
            case ArraySchema a:
                w.WriteStartObject();
                w.WriteString("type", "array");
                w.WritePropertyName("items");
                Write(w, a.Items, enclosingNs, seen);
                WriteProperties(w, a.Properties);
                w.WriteEndObject();
                return;
            case MapSchema m:
                w.WriteStartObject();
                w.WriteString("type", "map");
                w.WritePropertyName("values");
                Write(w, m.Values, enclosingNs, seen);
                WriteProperties(w, m.Properties);
                w.WriteEndObject();
                return;
            case UnionSchema u:
                w.WriteStartArray();
                foreach (var b in u.BranchArray)
                {
                    Write(w, b, enclosingNs, seen);
                }

                w.WriteEndArray();
                return;
        }
    }

    private static void WriteNamed(Utf8JsonWriter w, NamedSchema named, string? enclosingNs, HashSet<string> seen)
    {
        w.WriteStartObject();
        w.WriteString("type", AvroSchema.TypeName(named.Type));
        w.WriteString("name", named.Name);
        if (named.Namespace != enclosingNs)
        {
            w.WriteString("namespace", named.Namespace ?? string.Empty);
        }

        if (named.Doc is not null)
        {
            w.WriteString("doc", named.Doc);
        }

        if (named.Aliases.Count > 0)
        {
            w.WriteStartArray("aliases");
            foreach (var a in named.Aliases)
            {
                w.WriteStringValue(a);
            }

            w.WriteEndArray();
        }

        switch (named)
        {
            case RecordSchema r:
                w.WriteStartArray("fields");
                foreach (var f in r.FieldArray)
                {
                    w.WriteStartObject();
                    w.WriteString("name", f.Name);
                    w.WritePropertyName("type");
                    Write(w, f.Schema, r.Namespace, seen);
                    if (f.Doc is not null)
                    {
                        w.WriteString("doc", f.Doc);
                    }

                    if (f.Default is { } d)
                    {
                        w.WritePropertyName("default");
                        d.WriteTo(w);
                    }

                    if (f.Order is not null)
                    {
                        w.WriteString("order", f.Order);
                    }

                    if (f.Aliases.Count > 0)
                    {
                        w.WriteStartArray("aliases");
                        foreach (var a in f.Aliases)
                        {
                            w.WriteStringValue(a);
                        }

                        w.WriteEndArray();
                    }

                    WriteProperties(w, f.Properties);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                break;
            case EnumSchema e:
                w.WriteStartArray("symbols");
                foreach (var s in e.SymbolArray)
                {
                    w.WriteStringValue(s);
                }

                w.WriteEndArray();
                if (e.Default is not null)
                {
                    w.WriteString("default", e.Default);
                }

                break;
            case FixedSchema fx:
                w.WriteNumber("size", fx.Size);
                if (fx.RawLogicalType is not null)
                {
                    w.WriteString("logicalType", fx.RawLogicalType);
                }

                break;
        }

        WriteProperties(w, named.Properties);
        w.WriteEndObject();
    }

    private static void WriteProperties(Utf8JsonWriter w, IReadOnlyDictionary<string, JsonElement> props)
    {
        foreach (var (key, value) in props)
        {
            w.WritePropertyName(key);
            value.WriteTo(w);
        }
    }
}
