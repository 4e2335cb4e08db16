using AlertBroker.Avro;

namespace AlertBroker.Simulation.Output;

/// <summary>The writer schemas of simulated alerts (<c>schemas/ztf</c>, <c>schemas/lsst</c>, embedded in the assembly).</summary>
public static class AlertSchemas
{
    private static readonly Lazy<RecordSchema> s_ztf = new(() => Load("schemas.ztf.alertbroker-sim-ztf.avsc"));
    private static readonly Lazy<RecordSchema> s_lsst = new(() => Load("schemas.lsst.alertbroker-sim-lsst.avsc"));

    /// <summary>ZTF alert writer schema (a field-compatible subset of ZTF 4.02).</summary>
    public static RecordSchema Ztf => s_ztf.Value;

    /// <summary>Rubin alert writer schema (readable as lsst.v7_4 and lsst.v11_0).</summary>
    public static RecordSchema Lsst => s_lsst.Value;

    /// <summary>The schema JSON as embedded, e.g. to publish it in a schema registry.</summary>
    public static string Json(AlertBroker.Alerts.Survey survey) => ReadResource(survey == AlertBroker.Alerts.Survey.Ztf
        ? "schemas.ztf.alertbroker-sim-ztf.avsc"
        : "schemas.lsst.alertbroker-sim-lsst.avsc");

    /// <summary>The record schema inside a field's type: through unions with null and arrays.</summary>
    internal static RecordSchema RecordOf(AvroSchema schema)
    {
        while (true)
        {
            switch (schema)
            {
                case RecordSchema r:
                    return r;
                case ArraySchema a:
                    schema = a.Items;
                    break;
                case UnionSchema u:
                    schema = u.Branches[u.NullBranchIndex == 0 ? 1 : 0];
                    break;
                default:
                    throw new InvalidOperationException($"expected a record, found {schema.Type}");
            }
        }
    }

    private static RecordSchema Load(string name) => (RecordSchema)AvroSchema.Parse(ReadResource(name));

    private static string ReadResource(string name)
    {
        using var stream = typeof(AlertSchemas).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded schema {name} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
