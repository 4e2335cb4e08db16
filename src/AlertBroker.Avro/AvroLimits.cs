namespace AlertBroker.Avro;

/// <summary>
/// Bounds applied while decoding untrusted input. Every declared length or count is checked against
/// the remaining input and these limits before anything is allocated.
/// </summary>
public sealed record AvroLimits
{
    /// <summary>Largest accepted string, in UTF-8 bytes (default 16 MiB).</summary>
    public int MaxStringLength { get; init; } = 16 * 1024 * 1024;

    /// <summary>Largest accepted bytes value (default 64 MiB).</summary>
    public int MaxBytesLength { get; init; } = 64 * 1024 * 1024;

    /// <summary>Most items in one array or map value, summed over its blocks (default 10,000,000).</summary>
    public long MaxCollectionItems { get; init; } = 10_000_000;

    /// <summary>Deepest nesting of records, arrays, maps and unions while decoding (default 64).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Largest decompressed container block (default 256 MiB); guards against compression bombs.</summary>
    public int MaxBlockLength { get; init; } = 256 * 1024 * 1024;

    /// <summary>
    /// Most bytes the compressed blocks of one container may inflate to, in total (default: no limit beyond
    /// <see cref="MaxBlockLength"/> per block). A reader of Kafka messages, each one alert, sets it far lower: one small
    /// message then costs at most this much memory and decompression work, however many blocks it claims.
    /// </summary>
    public long MaxInflatedBytes { get; init; } = long.MaxValue;

    /// <summary>The defaults above.</summary>
    public static AvroLimits Default { get; } = new();
}
