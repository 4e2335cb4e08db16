using System.Text.Json;

namespace AlertBroker.Avro.Tests;

public class RealAlertTests
{
    public static TheoryData<string> SampleFolders => new() { "ztf", "ztf-real-50", "lsst/v7_4", "lsst/v11_0", "lsst-real-v7_4" };

    [SharedDataFact]
    public void EveryAlertFile_OpensDecodesAndSkipsExactly()
    {
        var cache = new AvroSchemaCache();
        var files = 0;
        foreach (var folder in new[] { "ztf", "ztf-real-50", Path.Combine("lsst", "v7_4"), Path.Combine("lsst", "v11_0"), "lsst-real-v7_4" })
        {
            foreach (var file in SharedData.AvroFiles(folder))
            {
                files++;
                var bytes = File.ReadAllBytes(file);
                var container = AvroContainerReader.Open(bytes, cache);
                var datums = container.ReadAll().ToList();
                Assert.NotEmpty(datums);
                Assert.All(datums, d => Assert.IsType<GenericRecord>(d));

                // Skipping must land exactly where decoding does.
                var again = AvroContainerReader.Open(bytes, cache);
                while (again.TryReadBlock(out var block))
                {
                    var r = new AvroReader(block.Data.Span);
                    for (long i = 0; i < block.Count; i++)
                    {
                        r.Skip(again.Header.Schema);
                    }

                    Assert.True(r.IsAtEnd, $"{file}: skip did not land at the block end");
                }
            }
        }

        Assert.True(files >= 150, $"expected the full sample set, found {files} files");
    }

    [SharedDataFact]
    public void ZtfSamples_ReadWithV402ReaderSchema_ResolveOnlyWhereSpecAllows()
    {
        var readerSchema = AvroSchemaSet.LoadDirectory(SharedData.Sample("ztf", "schema"))["ztf.alert"];
        var cache = new AvroSchemaCache();
        var resolved = 0;
        foreach (var file in SharedData.AvroFiles("ztf").Concat(SharedData.AvroFiles("ztf-real-50")))
        {
            var container = AvroContainerReader.Open(File.ReadAllBytes(file), cache);
            var version = container.Header.Schema.Properties["version"].GetString();
            if (version == "3.3")
            {
                // v3.3 → v4.02 only adds fields with defaults (fp_hists) so every alert resolves.
                var identity = (GenericRecord)container.ReadAll().Single()!;
                var reopened = AvroContainerReader.Open(File.ReadAllBytes(file), cache);
                var alert = (GenericRecord)reopened.ReadAll(readerSchema).Single()!;
                Assert.Same(readerSchema, alert.Schema);
                Assert.Null(alert["fp_hists"]);
                Assert.Equal(identity["candid"], alert["candid"]);
                var c1 = (GenericRecord)identity["candidate"]!;
                var c2 = (GenericRecord)alert["candidate"]!;
                foreach (var field in c2.Schema.Fields)
                {
                    if (c1.TryGetValue(field.Name, out var original))
                    {
                        Assert.True(GenericEquality.DeepEquals(original, c2[field.Name]), $"{file}: candidate.{field.Name} differs");
                    }
                }

                Assert.True(GenericEquality.DeepEquals(identity["cutoutScience"], alert["cutoutScience"]));
                resolved++;
            }
            else
            {
                // Older versions lack v4.02 fields that have no default: the spec makes that a resolution error.
                var ex = Assert.Throws<AvroResolutionException>(() => new GenericDatumReader(container.Header.Schema, readerSchema));
                Assert.StartsWith("alert.", ex.Message, StringComparison.Ordinal);
                Assert.Contains("no default", ex.Message, StringComparison.Ordinal);
            }
        }

        Assert.Equal(51, resolved);
    }

    [SharedDataFact]
    public void ZtfSample_OlderVersion_ErrorNamesMissingFieldPath()
    {
        var readerSchema = AvroSchemaSet.LoadDirectory(SharedData.Sample("ztf", "schema"))["ztf.alert"];
        var container = AvroContainerReader.Open(File.ReadAllBytes(SharedData.Sample("ztf", "396522680015040000_c24d6ba.avro")), new AvroSchemaCache());
        Assert.Equal("1.8", container.Header.Schema.Properties["version"].GetString());
        var ex = Assert.Throws<AvroResolutionException>(() => new GenericDatumReader(container.Header.Schema, readerSchema));
        Assert.Contains("alert.candidate.rbversion", ex.Message, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public void RubinFakeAlerts_MatchAlertJson()
    {
        foreach (var version in new[] { "v7_4", "v11_0" })
        {
            var container = AvroContainerReader.Open(File.ReadAllBytes(SharedData.Sample("lsst", version, "fakeAlert.avro")), new AvroSchemaCache());
            var alert = (GenericRecord)container.ReadAll().Single()!;
            using var json = JsonDocument.Parse(File.ReadAllText(SharedData.Sample("lsst", version, "alert.json")));
            var root = json.RootElement;

            var diaSource = (GenericRecord)alert["diaSource"]!;
            var jsonSource = root.GetProperty("diaSource");
            Assert.Equal(jsonSource.GetProperty("diaSourceId").GetInt64(), diaSource["diaSourceId"]);
            Assert.Equal(jsonSource.GetProperty("band").GetString(), diaSource["band"]);
            Assert.Equal((float)jsonSource.GetProperty("psfFlux").GetDouble(), Convert.ToSingle(diaSource["psfFlux"], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(root.GetProperty("prvDiaSources").GetArrayLength(), ((List<object?>)alert["prvDiaSources"]!).Count);
            if (version == "v7_4")
            {
                Assert.Equal(root.GetProperty("alertId").GetInt64(), alert["alertId"]);
            }
            else
            {
                Assert.Equal(root.GetProperty("diaSourceId").GetInt64(), alert["diaSourceId"]);
            }

            var compared = TestUtil.AssertMatchesJson(root, alert, "alert");
            Assert.True(compared > 40, $"{version}: only {compared} values compared");
        }
    }

    [SharedDataFact]
    public void RubinRealAlerts_ResolveAgainstDirectorySchema()
    {
        var readerSchema = AvroSchemaSet.LoadDirectory(SharedData.Sample("lsst", "v7_4"))["lsst.v7_4.alert"];
        var cache = new AvroSchemaCache();
        foreach (var file in SharedData.AvroFiles("lsst-real-v7_4"))
        {
            var container = AvroContainerReader.Open(File.ReadAllBytes(file), cache);
            var alert = (GenericRecord)container.ReadAll(readerSchema).Single()!;
            Assert.IsType<long>(alert["alertId"]);
            Assert.IsType<GenericRecord>(alert["diaSource"]);
        }
    }
}
