namespace AlertBroker.Avro;

/// <summary>
/// Precomputes, per schema, the encoded size when it is constant and the smallest possible encoding,
/// so readers can skip fixed-size values in one step and reject impossible collection counts up front.
/// </summary>
internal static class SchemaSizes
{
    private const byte Computing = 1;
    private const byte Done = 2;

    public static void Compute(AvroSchema schema)
    {
        if (schema.SizeState == Done)
        {
            return;
        }

        ComputeSizes(schema);
        if (schema.SizeState == Done)
        {
            schema.SkipKind = KindOf(schema);
            if (schema is UnionSchema union)
            {
                var kinds = new SkipKind[union.BranchArray.Length];
                var sizes = new int[kinds.Length];
                var simple = true;
                for (var i = 0; i < kinds.Length; i++)
                {
                    kinds[i] = KindOf(union.BranchArray[i]);
                    sizes[i] = Math.Max(union.BranchArray[i].FixedSize, 0);
                    simple &= kinds[i] is not (SkipKind.Complex or SkipKind.SimpleUnion);
                }

                if (simple)
                {
                    union.BranchSkipKinds = kinds;
                    union.BranchSizes = sizes;
                    union.SkipKind = SkipKind.SimpleUnion;
                }
            }
        }
    }

    private static SkipKind KindOf(AvroSchema s) => s.FixedSize >= 0 && s.SizeState == Done
        ? SkipKind.Fixed
        : s.Type switch
        {
            AvroType.Int or AvroType.Enum => SkipKind.Int,
            AvroType.Long => SkipKind.Long,
            AvroType.Bytes => SkipKind.Bytes,
            AvroType.String => SkipKind.String,
            AvroType.Union when s is UnionSchema { BranchSkipKinds: not null } => SkipKind.SimpleUnion,
            _ => SkipKind.Complex,
        };

    private static void ComputeSizes(AvroSchema schema)
    {
        switch (schema)
        {
            case RecordSchema record:
                ComputeRecord(record);
                break;
            case ArraySchema array:
                Compute(array.Items);
                schema.FixedSize = -1;
                schema.MinSize = 1;
                schema.SizeState = Done;
                break;
            case MapSchema map:
                Compute(map.Values);
                schema.FixedSize = -1;
                schema.MinSize = 1;
                schema.SizeState = Done;
                break;
            case UnionSchema union:
                {
                    var min = int.MaxValue;
                    foreach (var b in union.BranchArray)
                    {
                        Compute(b);
                        min = Math.Min(min, b.MinSize);
                    }

                    schema.FixedSize = -1;
                    schema.MinSize = union.BranchArray.Length == 0 ? 1 : (int)Math.Min((long)min + 1, int.MaxValue);
                    schema.SizeState = Done;
                    break;
                }

            default:
                schema.SizeState = Done;
                break;
        }
    }

    private static void ComputeRecord(RecordSchema record)
    {
        if (record.SizeState == Computing)
        {
            return;
        }

        // A record met again while its own fields are being measured is recursive: it is variable-size,
        // and 0 is a safe (if loose) lower bound for the enclosing computation.
        record.SizeState = Computing;
        record.FixedSize = -1;
        record.MinSize = 0;

        long fixedTotal = 0;
        long minTotal = 0;
        var allFixed = true;
        var segments = new List<SkipSegment>();
        long run = 0;
        foreach (var field in record.FieldArray)
        {
            var s = field.Schema;
            Compute(s);
            if (s.SizeState == Computing || s.FixedSize < 0)
            {
                allFixed = false;
                segments.Add(new SkipSegment((int)Math.Min(run, int.MaxValue), s));
                run = 0;
            }
            else
            {
                fixedTotal += s.FixedSize;
                run += s.FixedSize;
                if (run > int.MaxValue)
                {
                    // Too big to express as one bump; split so every segment stays an int.
                    segments.Add(new SkipSegment(int.MaxValue, null));
                    run -= int.MaxValue;
                }
            }

            minTotal += s.SizeState == Computing ? 0 : s.MinSize;
        }

        if (run > 0 || segments.Count == 0)
        {
            segments.Add(new SkipSegment((int)run, null));
        }

        record.SkipPlan = [.. segments];
        record.FixedSize = allFixed && fixedTotal <= int.MaxValue ? (int)fixedTotal : -1;
        record.MinSize = (int)Math.Min(minTotal, int.MaxValue);
        record.SizeState = Done;
    }
}
