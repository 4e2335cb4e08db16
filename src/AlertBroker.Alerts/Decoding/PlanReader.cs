using System.Runtime.CompilerServices;
using AlertBroker.Avro;

namespace AlertBroker.Alerts.Decoding;

/// <summary>Walks a compiled <see cref="AlertPlan"/> over one encoded alert datum.</summary>
internal static class PlanReader
{
    public static void ReadAlert(ref AvroReader reader, AlertPlan plan, AlertBuilder builder)
    {
        builder.Reset();
        ReadRecord(ref reader, plan.Root, builder);
    }

    [SkipLocalsInit]
    private static void ReadRecord(ref AvroReader reader, RecordPlan plan, AlertBuilder builder)
    {
        Unsafe.SkipInit(out RecordValues values);
        values.Present = 0;
        var fields = plan.Fields;
        for (var i = 0; i < fields.Length; i++)
        {
            ref readonly var field = ref fields[i];
            if (field.Op.Kind == OpKind.Skip)
            {
                reader.Skip(field.Op.Schema);
            }
            else
            {
                ReadValue(ref reader, field.Op, field.Target, ref values, builder);
            }
        }

        builder.OnRecord(plan.Kind, ref values);
    }

    private static void ReadValue(ref AvroReader reader, ValueOp op, Target target, ref RecordValues values, AlertBuilder builder)
    {
        switch (op.Kind)
        {
            case OpKind.Null:
                return;
            case OpKind.Skip:
                reader.Skip(op.Schema);
                return;
            case OpKind.Union:
                var branch = reader.ReadUnionIndex(op.Branches.Length);
                ReadValue(ref reader, op.Branches[branch], target, ref values, builder);
                return;
            case OpKind.Boolean:
                values.SetLong(target, reader.ReadBoolean() ? 1 : 0);
                return;
            case OpKind.Int:
                values.SetLong(target, reader.ReadInt());
                return;
            case OpKind.Long:
                values.SetLong(target, reader.ReadLong());
                return;
            case OpKind.Float:
                values.SetDouble(target, reader.ReadFloat());
                return;
            case OpKind.Double:
                values.SetDouble(target, reader.ReadDouble());
                return;
            case OpKind.String:
                ReadString(ref reader, target, ref values, builder);
                return;
            case OpKind.Record:
                ReadRecord(ref reader, op.Record!, builder);
                return;
            case OpKind.Array:
                var items = op.Items!;
                long count;
                while ((count = reader.ReadBlockHeader(out var byteSize)) != 0)
                {
                    var itemsStart = reader.Position;
                    for (long j = 0; j < count; j++)
                    {
                        ReadValue(ref reader, items, target, ref values, builder);
                    }

                    reader.CheckBlockSize(byteSize, itemsStart);
                }

                return;
            default:
                throw new InvalidOperationException("unreachable op " + op.Kind);
        }
    }

    private static void ReadString(ref AvroReader reader, Target target, ref RecordValues values, AlertBuilder builder)
    {
        var utf8 = reader.ReadStringUtf8();
        switch (target)
        {
            case Target.ObjectIdString:
                builder.SetObjectId(utf8);
                break;
            case Target.SchemaVersionString:
                builder.SetSchemaVersion(utf8);
                break;
            case Target.IsDiffPos:
                // 't'/'1' positive, 'f'/'0' negative subtraction.
                if (utf8.Length > 0)
                {
                    values.SetLong(target, utf8[0] is (byte)'f' or (byte)'0' ? 0 : 1);
                }

                break;
            case Target.BandName:
                values.SetLong(target, (long)Passbands.FromLsstBand(utf8));
                break;
            default:
                break;
        }
    }
}
