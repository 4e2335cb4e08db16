namespace AlertBroker.Avro;

/// <summary>
/// Builds the decoder tree that resolves a writer schema against a reader schema, following the specification's
/// resolution rules. Mismatches that make every datum unreadable fail here, as <see cref="AvroResolutionException"/>;
/// mismatches that only some datums hit (a writer union branch or enum symbol with no counterpart) fail when read.
/// </summary>
internal sealed class ResolutionCompiler
{
    private readonly Dictionary<(AvroSchema Writer, AvroSchema Reader), RecordDecoder> _records = [];

    public Decoder Compile(AvroSchema w, AvroSchema r, string path)
    {
        if (w is UnionSchema wu)
        {
            var decoders = new Decoder?[wu.BranchArray.Length];
            var names = new string[wu.BranchArray.Length];
            for (var i = 0; i < decoders.Length; i++)
            {
                var wb = wu.BranchArray[i];
                names[i] = wb.DisplayName;
                var rb = r is UnionSchema ru ? FindBranch(wb, ru) : (Matches(wb, r, allowPromotion: true) || (wb.Type == r.Type && wb is NamedSchema) ? r : null);
                decoders[i] = rb is null ? null : Compile(wb, rb, path);
            }

            return new WriterUnionDecoder(decoders, names, path);
        }

        if (r is UnionSchema readerUnion)
        {
            var rb = FindBranch(w, readerUnion)
                ?? throw new AvroResolutionException($"{path}: writer type {w.DisplayName} matches no branch of the reader union [{BranchList(readerUnion)}]");
            return Compile(w, rb, path);
        }

        // Outside unions a record, enum or fixed is not required to carry the reader's name: files written by
        // Spark-based brokers rename every record ("topLevelRecord.diaSource") and are still meant to be read
        // with the official schema. Names decide only which union branch a value belongs to.
        if (!Matches(w, r, allowPromotion: true) && !(w.Type == r.Type && w is NamedSchema))
        {
            throw new AvroResolutionException($"{path}: writer type {w.DisplayName} cannot be read as {r.DisplayName}");
        }

        switch (r.Type)
        {
            case AvroType.Null:
                return NullDecoder.Instance;
            case AvroType.Boolean:
                return BooleanDecoder.Instance;
            case AvroType.Int:
                return (Decoder?)Temporal(w, r) ?? IntDecoder.Instance;
            case AvroType.Long:
                return (Decoder?)Temporal(w, r) ?? (w.Type == AvroType.Int ? LongDecoder.FromInt : LongDecoder.Instance);
            case AvroType.Float:
                return new FloatDecoder(w.Type);
            case AvroType.Double:
                return new DoubleDecoder(w.Type);
            case AvroType.Bytes:
                if (r.Logical == LogicalKind.Decimal && LogicalApplies(w, r))
                {
                    return new DecimalBytesDecoder(r.DecimalPrecision, r.DecimalScale, w.Type == AvroType.String);
                }

                return new BytesDecoder(w.Type == AvroType.String);
            case AvroType.String:
                if (r.Logical == LogicalKind.Uuid && LogicalApplies(w, r))
                {
                    return new UuidStringDecoder(w.Type == AvroType.Bytes);
                }

                return new StringDecoder(w.Type == AvroType.Bytes);
            case AvroType.Fixed:
                {
                    var rf = (FixedSchema)r;
                    if (((FixedSchema)w).Size != rf.Size)
                    {
                        throw new AvroResolutionException($"{path}: fixed {rf.FullName} has size {rf.Size} but the writer's has {((FixedSchema)w).Size}");
                    }

                    return new FixedDecoder(rf, LogicalApplies(w, r));
                }

            case AvroType.Enum:
                // Symbols the reader lacks fail only when a datum uses them, so the decoder reports that at read time.
                return new EnumDecoder((EnumSchema)w, (EnumSchema)r);

            case AvroType.Array:
                {
                    var wi = ((ArraySchema)w).Items;
                    return new ArrayDecoder(Compile(wi, ((ArraySchema)r).Items, path + "[]"), wi.MinSize);
                }

            case AvroType.Map:
                {
                    var wv = ((MapSchema)w).Values;
                    return new MapDecoder(Compile(wv, ((MapSchema)r).Values, path + "{}"), wv.MinSize);
                }

            case AvroType.Record:
                return CompileRecord((RecordSchema)w, (RecordSchema)r, path);
            default:
                throw new AvroResolutionException($"{path}: unsupported reader type {r.DisplayName}");
        }
    }

    private RecordDecoder CompileRecord(RecordSchema w, RecordSchema r, string path)
    {
        if (_records.TryGetValue((w, r), out var existing))
        {
            return existing;
        }

        var decoder = new RecordDecoder(r);
        _records.Add((w, r), decoder);

        var readerFieldForWriter = new AvroField?[w.FieldArray.Length];
        var matched = new bool[r.FieldArray.Length];
        foreach (var rf in r.FieldArray)
        {
            var wf = FindWriterField(w, rf);
            if (wf is not null)
            {
                if (readerFieldForWriter[wf.Position] is not null)
                {
                    throw new AvroResolutionException($"{path}.{rf.Name}: writer field '{wf.Name}' matches two reader fields");
                }

                readerFieldForWriter[wf.Position] = rf;
                matched[rf.Position] = true;
            }
        }

        var steps = new FieldStep[w.FieldArray.Length];
        for (var i = 0; i < steps.Length; i++)
        {
            var wf = w.FieldArray[i];
            var rf = readerFieldForWriter[i];
            steps[i] = rf is null
                ? new FieldStep(-1, null, wf.Schema)
                : new FieldStep(rf.Position, Compile(wf.Schema, rf.Schema, path + "." + rf.Name), wf.Schema);
        }

        var defaults = new List<FieldDefault>();
        foreach (var rf in r.FieldArray)
        {
            if (matched[rf.Position])
            {
                continue;
            }

            if (rf.Default is not { } json)
            {
                throw new AvroResolutionException($"{path}.{rf.Name}: the reader field is missing from the writer schema and has no default");
            }

            if (!rf.DefaultIsValid)
            {
                throw new AvroResolutionException($"{path}.{rf.Name}: the reader field is missing from the writer schema and its default {json.GetRawText()} is not a valid {rf.Schema.DisplayName}");
            }

            object? value;
            try
            {
                value = DefaultValues.Decode(json, rf.Schema);
            }
            catch (AvroResolutionException ex)
            {
                throw new AvroResolutionException($"{path}.{rf.Name}: {ex.Message}", ex);
            }

            defaults.Add(new FieldDefault(rf.Position, value, DefaultValues.IsImmutable(value)));
        }

        decoder.Steps = steps;
        decoder.Defaults = [.. defaults];
        return decoder;
    }

    private static AvroField? FindWriterField(RecordSchema w, AvroField rf)
    {
        if (w.TryGetField(rf.Name, out var f))
        {
            return f;
        }

        foreach (var alias in rf.Aliases)
        {
            if (w.TryGetField(alias, out f))
            {
                return f;
            }
        }

        return null;
    }

    /// <summary>First reader branch matching the writer type exactly, else the first that it promotes to.</summary>
    internal static AvroSchema? FindBranch(AvroSchema w, UnionSchema r)
    {
        foreach (var b in r.BranchArray)
        {
            if (Matches(w, b, allowPromotion: false))
            {
                return b;
            }
        }

        foreach (var b in r.BranchArray)
        {
            if (Matches(w, b, allowPromotion: true))
            {
                return b;
            }
        }

        // No branch carries the writer's name: accept the reader's only branch of that named kind, if there is exactly one.
        if (w is NamedSchema)
        {
            AvroSchema? only = null;
            foreach (var b in r.BranchArray)
            {
                if (b.Type == w.Type)
                {
                    if (only is not null)
                    {
                        return null;
                    }

                    only = b;
                }
            }

            return only;
        }

        return null;
    }

    /// <summary>Shallow match per the specification: same type (and name for named types), or a permitted promotion.</summary>
    internal static bool Matches(AvroSchema w, AvroSchema r, bool allowPromotion)
    {
        if (w.Type == r.Type)
        {
            return r switch
            {
                NamedSchema rn => rn.MatchesName((NamedSchema)w),
                _ => true,
            };
        }

        if (!allowPromotion)
        {
            return false;
        }

        return (w.Type, r.Type) switch
        {
            (AvroType.Int, AvroType.Long or AvroType.Float or AvroType.Double) => true,
            (AvroType.Long, AvroType.Float or AvroType.Double) => true,
            (AvroType.Float, AvroType.Double) => true,
            (AvroType.String, AvroType.Bytes) => true,
            (AvroType.Bytes, AvroType.String) => true,
            _ => false,
        };
    }

    /// <summary>The reader's logical type applies unless the writer declared a different known one (then the spec says ignore it).</summary>
    private static bool LogicalApplies(AvroSchema w, AvroSchema r)
    {
        if (w.Logical is LogicalKind.None or LogicalKind.Unknown)
        {
            return true;
        }

        if (w.Logical != r.Logical)
        {
            return false;
        }

        return r.Logical != LogicalKind.Decimal || (w.DecimalPrecision == r.DecimalPrecision && w.DecimalScale == r.DecimalScale);
    }

    private static TemporalDecoder? Temporal(AvroSchema w, AvroSchema r) =>
        r.Logical is LogicalKind.Date or LogicalKind.TimeMillis or LogicalKind.TimeMicros or LogicalKind.TimestampMillis
            or LogicalKind.TimestampMicros or LogicalKind.LocalTimestampMillis or LogicalKind.LocalTimestampMicros
        && LogicalApplies(w, r)
            ? new TemporalDecoder(w.Type, r.Logical)
            : null;

    private static string BranchList(UnionSchema u) => string.Join(", ", u.BranchArray.Select(b => b.DisplayName));
}
