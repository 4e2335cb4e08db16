using AlertBroker.Avro;

namespace AlertBroker.Alerts.Decoding;

internal enum OpKind : byte
{
    Skip,
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    String,
    Record,
    Array,
    Union,
}

/// <summary>How to read one writer value: compiled once per writer schema, walked for every alert.</summary>
internal sealed class ValueOp
{
    public static readonly ValueOp NullOp = new(OpKind.Null, AvroSchema.Null);

    public ValueOp(OpKind kind, AvroSchema schema)
    {
        Kind = kind;
        Schema = schema;
    }

    public OpKind Kind { get; }

    public AvroSchema Schema { get; }

    public ValueOp[] Branches { get; init; } = [];

    public ValueOp? Items { get; init; }

    public RecordPlan? Record { get; init; }
}

internal readonly record struct FieldOp(Target Target, ValueOp Op);

internal sealed class RecordPlan(RecordKind kind, FieldOp[] fields)
{
    public RecordKind Kind { get; } = kind;

    public FieldOp[] Fields { get; } = fields;
}

/// <summary>A writer schema recognised as a survey alert, compiled for decoding.</summary>
internal sealed class AlertPlan(Survey survey, string? schemaVersion, RecordPlan root)
{
    public Survey Survey { get; } = survey;

    /// <summary>The version from the schema itself; null when each record carries it (ZTF <c>schemavsn</c>).</summary>
    public string? SchemaVersion { get; } = schemaVersion;

    public RecordPlan Root { get; } = root;
}
