using System.Text;
using System.Text.Json.Nodes;
using ApacheDecoder = global::Avro.IO.Decoder;
using ApacheSchema = global::Avro.Schema;

namespace AlertBroker.Avro.Tests.Oracle;

/// <summary>
/// Apache.Avro 1.12.2 as an independent oracle: its own schema parser (Newtonsoft.Json), its own binary decoder and
/// its own generic datum reader. Nothing of ours is used on this side except the guard described in
/// <see cref="GuardedDecoder"/>.
/// </summary>
internal static class ApacheOracle
{
    /// <summary>Reads every datum of a container file with Apache's <c>DataFileReader</c> and generic datum reader.</summary>
    public static List<object?> ReadContainer(byte[] file, ApacheSchema? readerSchema = null)
    {
        using var reader = global::Avro.File.DataFileReader<object>.OpenReader(
            new MemoryStream(file, writable: false),
            readerSchema,
            (writer, reader) => new GuardedDatumReader(writer, reader, file.Length));
        var datums = new List<object?>();
        while (reader.HasNext())
        {
            datums.Add(reader.Next());
        }

        return datums;
    }

    /// <summary>Reads one datum from <paramref name="data"/>; returns it and the number of bytes Apache consumed.</summary>
    public static (object? Value, long Consumed) ReadDatum(global::Avro.Generic.GenericDatumReader<object> reader, byte[] data)
    {
        using var stream = new MemoryStream(data, writable: false);
        var value = reader.Read(null!, new GuardedDecoder(new global::Avro.IO.BinaryDecoder(stream), data.Length));
        return (value, stream.Position);
    }

    /// <summary>
    /// Apache's <c>Schema.Parse</c> has no set of known types, so a top-level schema that names types defined in
    /// other files (ZTF's <c>alert.avsc</c> → <c>ztf.alert.candidate</c>, Rubin's <c>lsst.v7_4.alert</c> →
    /// <c>lsst.v7_4.diaSource</c>) must have them inlined first: each named type's definition replaces its first
    /// reference (in Avro's depth-first parse order); later references stay names.
    /// </summary>
    public static string InlineDirectory(string directory, string rootFullName)
    {
        var definitions = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(directory, "*.avsc"))
        {
            var node = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            definitions[FullName(node, null)] = node;
        }

        var defined = new HashSet<string>(StringComparer.Ordinal);
        var root = definitions[rootFullName].DeepClone();
        return Inline(root, null, definitions, defined).ToJsonString();
    }

    private static readonly HashSet<string> s_primitives = new(StringComparer.Ordinal)
    {
        "null", "boolean", "int", "long", "float", "double", "bytes", "string",
    };

    private static string FullName(JsonObject named, string? enclosingNamespace)
    {
        var name = named["name"]!.GetValue<string>();
        if (name.Contains('.', StringComparison.Ordinal))
        {
            return name;
        }

        var ns = named["namespace"]?.GetValue<string>() ?? enclosingNamespace;
        return string.IsNullOrEmpty(ns) ? name : ns + "." + name;
    }

    private static string Namespace(string fullName)
    {
        var dot = fullName.LastIndexOf('.');
        return dot < 0 ? string.Empty : fullName[..dot];
    }

    private static JsonNode Inline(JsonNode node, string? ns, Dictionary<string, JsonObject> definitions, HashSet<string> defined)
    {
        switch (node)
        {
            case JsonValue value when value.TryGetValue(out string? name):
                {
                    if (s_primitives.Contains(name))
                    {
                        return node;
                    }

                    var full = name.Contains('.', StringComparison.Ordinal) || string.IsNullOrEmpty(ns) ? name : ns + "." + name;
                    if (!definitions.TryGetValue(full, out var definition) || defined.Contains(full))
                    {
                        return node;
                    }

                    var copy = definition.DeepClone().AsObject();
                    // The definition keeps its own namespace wherever it lands.
                    copy["namespace"] = Namespace(full);
                    return Inline(copy, ns, definitions, defined);
                }

            case JsonArray union:
                for (var i = 0; i < union.Count; i++)
                {
                    var replaced = Inline(union[i]!, ns, definitions, defined);
                    if (!ReferenceEquals(replaced, union[i]))
                    {
                        union[i] = replaced;
                    }
                }

                return union;
            case JsonObject obj:
                {
                    var type = obj["type"];
                    if (type is JsonValue t && t.TryGetValue(out string? kind))
                    {
                        switch (kind)
                        {
                            case "record" or "error":
                                {
                                    var full = FullName(obj, ns);
                                    defined.Add(full);
                                    foreach (var field in obj["fields"]!.AsArray())
                                    {
                                        Replace(field!.AsObject(), "type", Namespace(full), definitions, defined);
                                    }

                                    return obj;
                                }

                            case "enum" or "fixed":
                                defined.Add(FullName(obj, ns));
                                return obj;
                            case "array":
                                Replace(obj, "items", ns, definitions, defined);
                                return obj;
                            case "map":
                                Replace(obj, "values", ns, definitions, defined);
                                return obj;
                        }
                    }

                    Replace(obj, "type", ns, definitions, defined);
                    return obj;
                }

            default:
                return node;
        }
    }

    private static void Replace(JsonObject owner, string property, string? ns, Dictionary<string, JsonObject> definitions, HashSet<string> defined)
    {
        var child = owner[property]!;
        var replaced = Inline(child, ns, definitions, defined);
        if (!ReferenceEquals(replaced, child))
        {
            owner[property] = replaced;
        }
    }
}

/// <summary>Thrown by <see cref="GuardedDecoder"/> instead of letting Apache allocate for a length that cannot be satisfied.</summary>
internal sealed class OracleGuardException(string message) : Exception(message)
{
    [ThreadStatic]
    private static int s_count;

    /// <summary>Guard refusals on this thread so far (tests report it, so a guard that fires too often is visible).</summary>
    public static int Count => s_count;

    public static OracleGuardException Raise(string message)
    {
        s_count++;
        return new OracleGuardException(message);
    }
}

/// <summary>
/// Apache.Avro 1.12.2 allocates before it reads: <c>ReadBytes</c> does <c>new byte[length]</c>, <c>ReadString</c>
/// allocates the declared length above 4 KiB, and the generic reader resizes an <c>object[]</c> to each array
/// block's declared count. A corrupt varint in a mutated alert can therefore ask it for gigabytes. This decoder
/// wraps Apache's <c>BinaryDecoder</c> and refuses, before any allocation, a length or array count larger than the
/// whole input (for array counts: 16 times it, as items of zero bytes are legal): such a value can never be
/// satisfied (every array item of the alert schemas takes at least one byte), so Apache would throw "End of stream
/// reached" after the allocation anyway. The verdict is the same; only the allocation is skipped. Below the bound, <see cref="ReadBytes"/> and <see cref="ReadString"/> do what
/// Apache 1.12.2's do (length from Apache's own <c>ReadLong</c>/<c>ReadInt</c>, negative lengths refused, then
/// Apache's <c>ReadFixed</c>); everything else is Apache's code unchanged.
/// </summary>
internal sealed class GuardedDecoder(ApacheDecoder inner, long bound) : ApacheDecoder
{
    public void ReadNull() => inner.ReadNull();

    public bool ReadBoolean() => inner.ReadBoolean();

    public int ReadInt() => inner.ReadInt();

    public long ReadLong() => inner.ReadLong();

    public float ReadFloat() => inner.ReadFloat();

    public double ReadDouble() => inner.ReadDouble();

    public byte[] ReadBytes()
    {
        var length = inner.ReadLong();
        if (length < 0)
        {
            throw new global::Avro.AvroException($"Can not read a negative number of bytes: {length}");
        }

        if (length > bound)
        {
            throw OracleGuardException.Raise($"bytes length {length} exceeds the whole input ({bound} bytes)");
        }

        var buffer = new byte[length];
        inner.ReadFixed(buffer);
        return buffer;
    }

    public string ReadString()
    {
        var length = inner.ReadInt();
        if (length < 0)
        {
            throw new global::Avro.AvroException("Can not deserialize a string with negative length!");
        }

        if (length > bound)
        {
            throw OracleGuardException.Raise($"string length {length} exceeds the whole input ({bound} bytes)");
        }

        var buffer = new byte[length];
        inner.ReadFixed(buffer);
        return Encoding.UTF8.GetString(buffer);
    }

    public int ReadEnum() => inner.ReadEnum();

    public long ReadArrayStart() => Count(inner.ReadArrayStart());

    public long ReadArrayNext() => Count(inner.ReadArrayNext());

    public long ReadMapStart() => inner.ReadMapStart();

    public long ReadMapNext() => inner.ReadMapNext();

    public int ReadUnionIndex() => inner.ReadUnionIndex();

    public void ReadFixed(byte[] buffer) => inner.ReadFixed(buffer);

    public void ReadFixed(byte[] buffer, int start, int length) => inner.ReadFixed(buffer, start, length);

    public void SkipNull() => inner.SkipNull();

    public void SkipBoolean() => inner.SkipBoolean();

    public void SkipInt() => inner.SkipInt();

    public void SkipLong() => inner.SkipLong();

    public void SkipFloat() => inner.SkipFloat();

    public void SkipDouble() => inner.SkipDouble();

    public void SkipBytes() => inner.SkipBytes();

    public void SkipString() => inner.SkipString();

    public void SkipEnum() => inner.SkipEnum();

    public void SkipUnionIndex() => inner.SkipUnionIndex();

    public void SkipFixed(int len) => inner.SkipFixed(len);

    private long Count(long count)
    {
        // The generic reader casts the count to int before it resizes its array; guard what it will use. Items of
        // zero bytes (null, an empty record or fixed) are legal in any number, so the bound leaves room for them in
        // the tests' own data while still stopping the gigabyte arrays a corrupt count asks for.
        if ((int)count > (16 * bound) + 1024)
        {
            throw OracleGuardException.Raise($"array block count {count} is far beyond the whole input ({bound} bytes)");
        }

        return count;
    }
}

/// <summary>Apache's generic datum reader, fed through <see cref="GuardedDecoder"/>.</summary>
internal sealed class GuardedDatumReader(ApacheSchema writer, ApacheSchema reader, long bound) : global::Avro.Generic.DatumReader<object>
{
    private readonly global::Avro.Generic.GenericDatumReader<object> _inner = new(writer, reader);

    public ApacheSchema ReaderSchema => _inner.ReaderSchema;

    public ApacheSchema WriterSchema => _inner.WriterSchema;

    public object Read(object reuse, ApacheDecoder decoder) => _inner.Read(reuse, new GuardedDecoder(decoder, bound));
}
