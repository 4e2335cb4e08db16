using System.Globalization;
using System.Text;

namespace AlertBroker.Avro;

/// <summary>Writes the Parsing Canonical Form: full names, only the attributes that affect parsing, in a fixed order, no whitespace.</summary>
internal static class CanonicalForm
{
    public static string Write(AvroSchema schema)
    {
        var sb = new StringBuilder(256);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Write(sb, schema, seen);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, AvroSchema schema, HashSet<string> seen)
    {
        switch (schema)
        {
            case PrimitiveSchema:
                sb.Append('"').Append(AvroSchema.TypeName(schema.Type)).Append('"');
                break;
            case NamedSchema named when !seen.Add(named.FullName):
                sb.Append('"').Append(named.FullName).Append('"');
                break;
            case RecordSchema record:
                sb.Append("{\"name\":\"").Append(record.FullName).Append("\",\"type\":\"record\",\"fields\":[");
                for (var i = 0; i < record.FieldArray.Length; i++)
                {
                    var f = record.FieldArray[i];
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    sb.Append("{\"name\":\"").Append(f.Name).Append("\",\"type\":");
                    Write(sb, f.Schema, seen);
                    sb.Append('}');
                }

                sb.Append("]}");
                break;
            case EnumSchema e:
                sb.Append("{\"name\":\"").Append(e.FullName).Append("\",\"type\":\"enum\",\"symbols\":[");
                for (var i = 0; i < e.SymbolArray.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    sb.Append('"').Append(e.SymbolArray[i]).Append('"');
                }

                sb.Append("]}");
                break;
            case FixedSchema f:
                sb.Append("{\"name\":\"").Append(f.FullName).Append("\",\"type\":\"fixed\",\"size\":")
                    .Append(f.Size.ToString(CultureInfo.InvariantCulture)).Append('}');
                break;
            case ArraySchema a:
                sb.Append("{\"type\":\"array\",\"items\":");
                Write(sb, a.Items, seen);
                sb.Append('}');
                break;
            case MapSchema m:
                sb.Append("{\"type\":\"map\",\"values\":");
                Write(sb, m.Values, seen);
                sb.Append('}');
                break;
            case UnionSchema u:
                sb.Append('[');
                for (var i = 0; i < u.BranchArray.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    Write(sb, u.BranchArray[i], seen);
                }

                sb.Append(']');
                break;
        }
    }
}
