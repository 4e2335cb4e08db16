using System.Text.Json;
using AlertBroker.Avro;

namespace AlertBroker.Alerts.Decoding;

/// <summary>
/// Recognises a writer schema as a ZTF or Rubin alert (by its name and namespace, falling back to its
/// structure for re-written schemas such as Spark's "topLevelRecord") and compiles a plan that reads
/// only what <see cref="Alert"/> needs; everything else, cutouts included, is skipped without copying.
/// </summary>
internal static class PlanCompiler
{
    private static readonly Dictionary<string, Target> s_ztfAlert = new(StringComparer.Ordinal)
    {
        ["objectId"] = Target.ObjectIdString,
        ["candid"] = Target.Candid,
        ["schemavsn"] = Target.SchemaVersionString,
    };

    private static readonly Dictionary<string, RecordKind> s_ztfChildren = new(StringComparer.Ordinal)
    {
        ["candidate"] = RecordKind.ZtfCandidate,
        ["prv_candidates"] = RecordKind.ZtfPrvCandidate,
        ["fp_hists"] = RecordKind.ZtfForcedPhotometry,
    };

    // The photometry every ZTF detection record carries; the triggering candidate adds context for the classifier.
    private static readonly Dictionary<string, Target> s_ztfPrvCandidate = new(StringComparer.Ordinal)
    {
        ["jd"] = Target.Jd,
        ["fid"] = Target.FilterId,
        ["pid"] = Target.Pid,
        ["candid"] = Target.Candid,
        ["isdiffpos"] = Target.IsDiffPos,
        ["magpsf"] = Target.MagPsf,
        ["sigmapsf"] = Target.SigmaPsf,
        ["diffmaglim"] = Target.DiffMagLim,
    };

    private static readonly Dictionary<string, Target> s_ztfCandidate = new(s_ztfPrvCandidate, StringComparer.Ordinal)
    {
        ["ra"] = Target.Ra,
        ["dec"] = Target.Dec,
        ["sgscore1"] = Target.SgScore1,
        ["distpsnr1"] = Target.DistPsNr1,
        ["drb"] = Target.Drb,
        ["rb"] = Target.Rb,
        ["ssdistnr"] = Target.SsDistNr,
        ["ndethist"] = Target.NDetHist,
        ["magnr"] = Target.MagNr,
        ["distnr"] = Target.DistNr,
    };

    private static readonly Dictionary<string, Target> s_ztfForced = new(StringComparer.Ordinal)
    {
        ["jd"] = Target.Jd,
        ["fid"] = Target.FilterId,
        ["pid"] = Target.Pid,
        ["forcediffimflux"] = Target.ForcedFlux,
        ["forcediffimfluxunc"] = Target.ForcedFluxErr,
        ["magzpsci"] = Target.MagZpSci,
        ["diffmaglim"] = Target.DiffMagLim,
    };

    private static readonly Dictionary<string, Target> s_rubinAlert = new(StringComparer.Ordinal)
    {
        ["alertId"] = Target.AlertId,
        ["diaSourceId"] = Target.DiaSourceId,
    };

    private static readonly Dictionary<string, RecordKind> s_rubinChildren = new(StringComparer.Ordinal)
    {
        ["diaSource"] = RecordKind.RubinTriggerSource,
        ["prvDiaSources"] = RecordKind.RubinPreviousSource,
        ["prvDiaForcedSources"] = RecordKind.RubinForcedSource,
        ["prvDiaNondetectionLimits"] = RecordKind.RubinNondetection,
        ["diaObject"] = RecordKind.RubinObject,
    };

    // Time, flux and band of every Rubin photometry record. Older schemas (lsst.v4–v6) spelled them
    // differently; all spellings map.
    private static readonly (string Name, Target Target)[] s_rubinPhotometry =
    [
        ("midpointMjdTai", Target.Mjd), ("midPointTai", Target.Mjd), ("midpointTai", Target.Mjd),
        ("psfFlux", Target.Flux), ("psfFluxErr", Target.FluxErr), ("psFlux", Target.Flux), ("psFluxErr", Target.FluxErr),
        ("band", Target.BandName), ("filterName", Target.BandName),
    ];

    private static readonly Dictionary<string, Target> s_rubinSource = RubinTable(
        ("diaSourceId", Target.DiaSourceId),
        ("diaObjectId", Target.DiaObjectId),
        ("ssObjectId", Target.SsObjectId),
        ("ra", Target.Ra),
        ("dec", Target.Dec),
        ("reliability", Target.Reliability),
        ("extendedness", Target.Extendedness));

    private static readonly Dictionary<string, Target> s_rubinForced = RubinTable(("diaForcedSourceId", Target.DiaForcedSourceId));

    // Non-detection limits carry a noise level, not a flux; the flux spellings never occur there.
    private static readonly Dictionary<string, Target> s_rubinNondetection = RubinTable(("ccdVisitId", Target.CcdVisitId), ("diaNoise", Target.DiaNoise));

    private static readonly Dictionary<string, Target> s_rubinObject = new(StringComparer.Ordinal)
    {
        ["diaObjectId"] = Target.DiaObjectId,
        ["nDiaSources"] = Target.NDiaSources,
    };

    private static readonly Dictionary<string, RecordKind> s_noChildren = new(StringComparer.Ordinal);

    private static Dictionary<string, Target> RubinTable(params (string Name, Target Target)[] own)
    {
        var table = new Dictionary<string, Target>(StringComparer.Ordinal);
        foreach (var (name, target) in s_rubinPhotometry)
        {
            table[name] = target;
        }

        foreach (var (name, target) in own)
        {
            table[name] = target;
        }

        return table;
    }

    public static AlertPlan Compile(AvroSchema writer)
    {
        if (writer is not RecordSchema root)
        {
            throw new AlertFormatException(AlertErrorKind.UnknownFormat, $"alert schema must be a record, not {writer.Type}");
        }

        var survey = Recognise(root);
        return survey switch
        {
            Survey.Ztf => new AlertPlan(Survey.Ztf, ZtfVersion(root), CompileRecord(root, RecordKind.ZtfAlert)),
            Survey.Lsst => new AlertPlan(Survey.Lsst, RubinVersion(root), CompileRecord(root, RecordKind.RubinAlert)),
            _ => throw new AlertFormatException(
                AlertErrorKind.UnknownFormat,
                $"schema '{root.FullName}' is neither a ZTF alert (ztf.alert with candidate) nor a Rubin alert (lsst.vN_M.alert with diaSource)"),
        };
    }

    internal static Survey Recognise(RecordSchema root)
    {
        var ns = root.Namespace ?? string.Empty;
        if (ns.Equals("ztf", StringComparison.Ordinal) || ns.StartsWith("ztf.", StringComparison.Ordinal))
        {
            return root.GetField("candidate") is not null ? Survey.Ztf : Survey.Unknown;
        }

        if (ns.StartsWith("lsst", StringComparison.Ordinal))
        {
            return root.GetField("diaSource") is not null ? Survey.Lsst : Survey.Unknown;
        }

        // Schemas re-written by other tools lose the namespace (e.g. Spark's "topLevelRecord"): fall back to structure.
        if (root.GetField("candidate") is not null && root.GetField("objectId") is not null)
        {
            return Survey.Ztf;
        }

        return root.GetField("diaSource") is not null ? Survey.Lsst : Survey.Unknown;
    }

    private static string? ZtfVersion(RecordSchema root) =>
        root.Properties.TryGetValue("version", out var v) && v.ValueKind == JsonValueKind.String ? "ztf " + v.GetString() : null;

    private static string RubinVersion(RecordSchema root)
    {
        var ns = root.Namespace ?? string.Empty;
        return ns.StartsWith("lsst", StringComparison.Ordinal) ? ns : "lsst (" + root.FullName + ")";
    }

    private static RecordPlan CompileRecord(RecordSchema record, RecordKind kind)
    {
        var (targets, children) = kind switch
        {
            RecordKind.ZtfAlert => (s_ztfAlert, s_ztfChildren),
            RecordKind.ZtfCandidate => (s_ztfCandidate, s_noChildren),
            RecordKind.ZtfPrvCandidate => (s_ztfPrvCandidate, s_noChildren),
            RecordKind.ZtfForcedPhotometry => (s_ztfForced, s_noChildren),
            RecordKind.RubinAlert => (s_rubinAlert, s_rubinChildren),
            RecordKind.RubinTriggerSource or RecordKind.RubinPreviousSource => (s_rubinSource, s_noChildren),
            RecordKind.RubinForcedSource => (s_rubinForced, s_noChildren),
            RecordKind.RubinNondetection => (s_rubinNondetection, s_noChildren),
            RecordKind.RubinObject => (s_rubinObject, s_noChildren),
            _ => (s_ztfCandidate, s_noChildren),
        };

        var fields = new FieldOp[record.Fields.Count];
        for (var i = 0; i < fields.Length; i++)
        {
            var field = record.Fields[i];
            if (targets.TryGetValue(field.Name, out var target))
            {
                fields[i] = new FieldOp(target, CompileScalar(field.Schema, target, record.FullName + "." + field.Name));
            }
            else if (children.TryGetValue(field.Name, out var childKind))
            {
                fields[i] = new FieldOp(Target.None, CompileChild(field.Schema, childKind, record.FullName + "." + field.Name));
            }
            else
            {
                fields[i] = new FieldOp(Target.None, new ValueOp(OpKind.Skip, field.Schema));
            }
        }

        return new RecordPlan(kind, fields);
    }

    private static ValueOp CompileScalar(AvroSchema schema, Target target, string path)
    {
        switch (schema.Type)
        {
            case AvroType.Null:
                return ValueOp.NullOp;
            case AvroType.Boolean:
                return new ValueOp(OpKind.Boolean, schema);
            case AvroType.Int:
                return new ValueOp(OpKind.Int, schema);
            case AvroType.Long:
                return new ValueOp(OpKind.Long, schema);
            case AvroType.Float:
                return new ValueOp(OpKind.Float, schema);
            case AvroType.Double:
                return new ValueOp(OpKind.Double, schema);
            case AvroType.String:
                return IsStringTarget(target)
                    ? new ValueOp(OpKind.String, schema)
                    : throw Mismatch(path, schema, "a number");
            case AvroType.Union:
                var union = (UnionSchema)schema;
                var branches = new ValueOp[union.Branches.Count];
                for (var i = 0; i < branches.Length; i++)
                {
                    branches[i] = CompileScalar(union.Branches[i], target, path);
                }

                return new ValueOp(OpKind.Union, schema) { Branches = branches };
            default:
                throw Mismatch(path, schema, IsStringTarget(target) ? "a string" : "a number");
        }
    }

    private static bool IsStringTarget(Target target) =>
        target is Target.ObjectIdString or Target.SchemaVersionString or Target.IsDiffPos or Target.BandName;

    private static ValueOp CompileChild(AvroSchema schema, RecordKind kind, string path)
    {
        switch (schema.Type)
        {
            case AvroType.Null:
                return ValueOp.NullOp;
            case AvroType.Record:
                var record = (RecordSchema)schema;

                // The ZTF 3.5 sample carries forced-photometry records (fp_hist fields) under prv_candidates.
                if (kind == RecordKind.ZtfPrvCandidate && record.GetField("magpsf") is null && record.GetField("forcediffimflux") is not null)
                {
                    kind = RecordKind.ZtfForcedPhotometry;
                }

                return new ValueOp(OpKind.Record, schema) { Record = CompileRecord(record, kind) };
            case AvroType.Array:
                var items = ((ArraySchema)schema).Items;
                return new ValueOp(OpKind.Array, schema) { Items = CompileChild(items, kind, path + "[]") };
            case AvroType.Union:
                var union = (UnionSchema)schema;
                var branches = new ValueOp[union.Branches.Count];
                for (var i = 0; i < branches.Length; i++)
                {
                    branches[i] = CompileChild(union.Branches[i], kind, path);
                }

                return new ValueOp(OpKind.Union, schema) { Branches = branches };
            default:
                throw Mismatch(path, schema, "a record or an array of records");
        }
    }

    private static AlertFormatException Mismatch(string path, AvroSchema schema, string expected) =>
        new(AlertErrorKind.UnknownFormat, $"field '{path}' has type {schema.Type}; expected {expected}");
}
