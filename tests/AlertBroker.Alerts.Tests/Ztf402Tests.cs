using AlertBroker.Avro;

namespace AlertBroker.Alerts.Tests;

/// <summary>
/// No official ZTF 4.02 sample alert exists, so these tests write one with the official 4.02 schema
/// (../shared/alert-samples/ztf/schema) and decode it: candidate, detections and limits in prv_candidates,
/// and the forced photometry (fp_hists) that 4.x added.
/// </summary>
public class Ztf402Tests
{
    [SharedDataFact]
    public void Decode_Ztf402AlertWithForcedPhotometry_NormalisesEveryPart()
    {
        var schemas = AvroSchemaSet.LoadDirectory(SharedData.Sample("ztf", "schema"));
        var alertSchema = (RecordSchema)schemas["ztf.alert"];
        var alert = Filled(alertSchema);
        alert["schemavsn"] = "4.02";
        alert["objectId"] = "ZTF24abcdefg";
        alert["candid"] = 2500000000015015001L;

        var candidate = Filled(Record(alertSchema, "candidate"));
        candidate["jd"] = 2460400.75;
        candidate["fid"] = 2;
        candidate["pid"] = 2500000000015L;
        candidate["candid"] = 2500000000015015001L;
        candidate["isdiffpos"] = "t";
        candidate["magpsf"] = 18.25f;
        candidate["sigmapsf"] = 0.04f;
        candidate["diffmaglim"] = 20.6f;
        candidate["ra"] = 150.5;
        candidate["dec"] = 2.25;
        candidate["sgscore1"] = 0.02f;
        candidate["distpsnr1"] = 0.7f;
        candidate["drb"] = 0.998f;
        candidate["ssdistnr"] = -999f;
        alert["candidate"] = candidate;

        var prvSchema = ItemRecord(alertSchema, "prv_candidates");
        var detection = Filled(prvSchema);
        detection["jd"] = 2460398.70;
        detection["fid"] = 1;
        detection["pid"] = 2480000000015L;
        detection["candid"] = 2480000000015015002L;
        detection["isdiffpos"] = "f";
        detection["magpsf"] = 19.5f;
        detection["sigmapsf"] = 0.1f;
        detection["diffmaglim"] = 20.4f;
        var limit = Filled(prvSchema);
        limit["jd"] = 2460390.66;
        limit["fid"] = 2;
        limit["pid"] = 2400000000015L;
        limit["diffmaglim"] = 20.1f;
        alert["prv_candidates"] = new List<object?> { limit, detection };

        var fpSchema = ItemRecord(alertSchema, "fp_hists");
        var forced = Filled(fpSchema);
        forced["jd"] = 2460395.5;
        forced["fid"] = 1;
        forced["pid"] = 2450000000015L;
        forced["forcediffimflux"] = 150f;
        forced["forcediffimfluxunc"] = 20f;
        forced["magzpsci"] = 26.3f;
        forced["diffmaglim"] = 20.5f;
        var missing = Filled(fpSchema);
        missing["jd"] = 2460396.5;
        missing["fid"] = 2;
        missing["pid"] = 2460000000015L;
        missing["forcediffimflux"] = -99999f;
        missing["forcediffimfluxunc"] = -99999f;
        missing["magzpsci"] = 26.1f;
        alert["fp_hists"] = new List<object?> { missing, forced };

        using var stream = new MemoryStream();
        using (var writer = new AvroContainerWriter(stream, alertSchema, "deflate", leaveOpen: true))
        {
            writer.Write(alert);
        }

        var decoded = new AlertDecoder().DecodeSingle(stream.ToArray());

        Assert.Equal("ztf 4.02", decoded.SchemaVersion);
        Assert.Equal("ZTF24abcdefg", decoded.ObjectId);
        Assert.Equal(2500000000015015001L, decoded.SourceId);
        Assert.Equal(60400.25, decoded.Mjd, 1e-9);
        Assert.Equal(Passband.ZtfR, decoded.Band);
        Assert.Equal(Math.Pow(10, (23.9 - 18.25) / 2.5), decoded.Candidate.FluxMicroJy, 1e-3);
        Assert.Equal(0.998f, decoded.Metadata.RealBogus);
        Assert.True(float.IsNaN(decoded.Metadata.SolarSystemDistanceArcsec)); // -999 means "none"

        Assert.Equal([2480000000015015002L, 2500000000015015001L], decoded.Detections.Select(d => d.SourceId).ToArray());
        Assert.True(decoded.Detections[0].FluxMicroJy < 0); // isdiffpos 'f'
        Assert.Equal(Passband.ZtfG, decoded.Detections[0].Band);

        var l = Assert.Single(decoded.UpperLimits);
        Assert.Equal(2400000000015L, l.SourceId);
        Assert.Equal(Math.Pow(10, (23.9 - 20.1) / 2.5) / 5, l.FluxErrMicroJy, 1e-3);

        Assert.Equal(2, decoded.ForcedPhotometry.Length);
        var f = decoded.ForcedPhotometry[0];
        Assert.Equal(2450000000015L, f.SourceId);
        Assert.Equal(150 * Math.Pow(10, (23.9 - 26.3) / 2.5), f.FluxMicroJy, 1e-3); // counts × 10^((23.9 − ZP)/2.5)
        Assert.Equal(20 * Math.Pow(10, (23.9 - 26.3) / 2.5), f.FluxErrMicroJy, 1e-3);
        Assert.True(float.IsNaN(decoded.ForcedPhotometry[1].FluxMicroJy)); // -99999: no measurement
    }

    private static RecordSchema Record(RecordSchema parent, string field) => (RecordSchema)Unwrap(parent.GetField(field)!.Schema);

    private static RecordSchema ItemRecord(RecordSchema parent, string field) => (RecordSchema)((ArraySchema)Unwrap(parent.GetField(field)!.Schema)).Items;

    private static AvroSchema Unwrap(AvroSchema schema) =>
        schema is UnionSchema u ? u.Branches.First(b => b.Type != AvroType.Null) : schema;

    /// <summary>A record with every field set to a neutral value of its type (null where the type allows it).</summary>
    private static GenericRecord Filled(RecordSchema schema)
    {
        var record = new GenericRecord(schema);
        foreach (var field in schema.Fields)
        {
            record[field.Position] = field.Schema.Type switch
            {
                AvroType.Union => null,
                AvroType.Int => 0,
                AvroType.Long => 0L,
                AvroType.Float => 0f,
                AvroType.Double => 0.0,
                AvroType.String => string.Empty,
                AvroType.Boolean => false,
                AvroType.Bytes => ReadOnlyMemory<byte>.Empty,
                AvroType.Record => Filled((RecordSchema)field.Schema),
                _ => null,
            };
        }

        return record;
    }
}
