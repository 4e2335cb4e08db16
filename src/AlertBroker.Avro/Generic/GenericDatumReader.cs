using System.Runtime.CompilerServices;

namespace AlertBroker.Avro;

/// <summary>
/// Reads binary datums written with <see cref="WriterSchema"/> into the generic data model shaped by
/// <see cref="ReaderSchema"/>. The writer→reader resolution plan is compiled once, in the constructor.
/// Thread-safe: one instance can serve many threads.
/// </summary>
public sealed class GenericDatumReader
{
    private static readonly ConditionalWeakTable<AvroSchema, GenericDatumReader> s_identityReaders = new();

    private readonly Decoder _root;
    private readonly AvroLimits _limits;

    /// <summary>Compiles the resolution plan; throws <see cref="AvroResolutionException"/> when the schemas cannot be resolved.</summary>
    public GenericDatumReader(AvroSchema writerSchema, AvroSchema? readerSchema = null, AvroLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(writerSchema);
        WriterSchema = writerSchema;
        ReaderSchema = readerSchema ?? writerSchema;
        _limits = limits ?? AvroLimits.Default;
        _root = new ResolutionCompiler().Compile(writerSchema, ReaderSchema, RootPath(ReaderSchema));
    }

    public AvroSchema WriterSchema { get; }

    public AvroSchema ReaderSchema { get; }

    public AvroLimits Limits => _limits;

    /// <summary>A shared reader for datums read with their own schema and default limits (plans are compiled once per schema).</summary>
    internal static GenericDatumReader ForSchema(AvroSchema schema) =>
        s_identityReaders.GetValue(schema, static s => new GenericDatumReader(s));

    /// <summary>Reads one datum at <paramref name="position"/> and advances it.</summary>
    public object? Read(ReadOnlyMemory<byte> source, ref int position) => Read(source, ref position, 0);

    /// <summary>Reads one datum; <paramref name="baseOffset"/> is added to offsets reported in errors.</summary>
    public object? Read(ReadOnlyMemory<byte> source, ref int position, long baseOffset)
    {
        var reader = new AvroReader(source.Span, _limits, baseOffset);
        reader.Position = position;
        var value = _root.Read(ref reader, source);
        position = reader.Position;
        return value;
    }

    /// <summary>Reads one datum that must occupy all of <paramref name="source"/>.</summary>
    public object? Read(ReadOnlyMemory<byte> source)
    {
        var position = 0;
        var value = Read(source, ref position);
        if (position != source.Length)
        {
            throw new AvroFormatException($"{source.Length - position} bytes left after the datum", position);
        }

        return value;
    }

    internal object? Read(ref AvroReader reader, ReadOnlyMemory<byte> source) => _root.Read(ref reader, source);

    private static string RootPath(AvroSchema schema) => schema switch
    {
        NamedSchema n => n.Name,
        _ => AvroSchema.TypeName(schema.Type),
    };
}
