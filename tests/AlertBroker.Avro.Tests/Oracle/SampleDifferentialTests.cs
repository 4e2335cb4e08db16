using System.Text;
using ApacheSchema = global::Avro.Schema;

namespace AlertBroker.Avro.Tests.Oracle;

/// <summary>
/// Every real alert sample, decoded by our container reader and generic reader and by Apache.Avro 1.12.2: the two
/// must agree field by field (see <see cref="OracleComparer"/> for the value mapping).
/// </summary>
public class SampleDifferentialTests
{
    private static readonly string[] s_folders = ["ztf", "ztf-real-50", Path.Combine("lsst", "v7_4"), Path.Combine("lsst", "v11_0"), "lsst-real-v7_4"];

    [SharedDataFact]
    public void EverySample_WriterSchema_BothDecodersAgreeFieldByField()
    {
        var cache = new AvroSchemaCache();
        int files = 0, datums = 0, leaves = 0;
        var versions = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var folder in s_folders)
        {
            foreach (var file in SharedData.AvroFiles(folder))
            {
                var bytes = File.ReadAllBytes(file);
                var container = AvroContainerReader.Open(bytes, cache);
                var ours = container.ReadAll().ToList();
                var apache = ApacheOracle.ReadContainer(bytes);
                Assert.True(ours.Count == apache.Count, $"{file}: {ours.Count} datums in ours, {apache.Count} in Apache");
                for (var i = 0; i < ours.Count; i++)
                {
                    OracleComparer.AssertSame(ours[i], apache[i], $"{Path.GetFileName(file)}#{i}");
                    leaves += OracleComparer.CountLeaves(ours[i]);
                }

                versions.Add(((NamedSchema)container.Header.Schema).FullName + " " + (container.Header.Schema.Properties.TryGetValue("version", out var v) ? v.GetString() : string.Empty));
                files++;
                datums += ours.Count;
            }
        }

        Assert.Equal(157, files);
        Assert.Equal(157, datums);
        // Every schema version of the samples: ZTF 1.8, 2.0, 3.2, 3.3, 3.5; lsst.v7_4 (official and Fink's re-write); lsst.v11_0.
        Assert.True(versions.Count >= 7, string.Join(", ", versions));
        Assert.True(leaves > 75_000, $"only {leaves} values compared");
    }

    [SharedDataFact]
    public void EverySample_SchemaFingerprint_EqualsApacheParsingFingerprint()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var folder in s_folders)
        {
            foreach (var file in SharedData.AvroFiles(folder))
            {
                var container = AvroContainerReader.Open(File.ReadAllBytes(file), new AvroSchemaCache());
                var json = Encoding.UTF8.GetString(container.Header.SchemaJson.Span);
                if (!seen.Add(json))
                {
                    continue;
                }

                AssertSameCanonicalForm(container.Header.Schema, ApacheSchema.Parse(json), file);
            }
        }

        Assert.True(seen.Count >= 8, $"{seen.Count} distinct schemas");
    }

    [SharedDataFact]
    public void DirectorySchemas_InlinedForApache_SameCanonicalFormAsOurSchemaSet()
    {
        foreach (var (dir, root) in DirectorySchemas())
        {
            var ours = AvroSchemaSet.LoadDirectory(SharedData.Sample(dir))[root];
            var inlined = ApacheOracle.InlineDirectory(SharedData.Sample(dir), root);
            AssertSameCanonicalForm(ours, ApacheSchema.Parse(inlined), dir);

            // Without inlining Apache cannot parse the top-level schema at all: it has no notion of known types.
            var rootFile = Directory.GetFiles(SharedData.Sample(dir), "*.avsc").Single(f => Path.GetFileName(f) is "alert.avsc" or "lsst.v7_4.alert.avsc" or "lsst.v11_0.alert.avsc");
            Assert.ThrowsAny<Exception>(() => ApacheSchema.Parse(File.ReadAllText(rootFile)));
        }
    }

    [SharedDataFact]
    public void ZtfV33Samples_ReadWithV402ReaderSchema_BothResolveAndAgree()
    {
        var oursReader = AvroSchemaSet.LoadDirectory(SharedData.Sample("ztf", "schema"))["ztf.alert"];
        var apacheReader = ApacheSchema.Parse(ApacheOracle.InlineDirectory(SharedData.Sample("ztf", "schema"), "ztf.alert"));
        var cache = new AvroSchemaCache();
        var resolved = 0;
        foreach (var file in SharedData.AvroFiles("ztf").Concat(SharedData.AvroFiles("ztf-real-50")))
        {
            var bytes = File.ReadAllBytes(file);
            var container = AvroContainerReader.Open(bytes, cache);
            if (container.Header.Schema.Properties["version"].GetString() != "3.3")
            {
                // Older versions lack v4.02 fields without defaults: both refuse (ours when compiling the plan).
                Assert.Throws<AvroResolutionException>(() => new GenericDatumReader(container.Header.Schema, oursReader));
                Assert.ThrowsAny<Exception>(() => ApacheOracle.ReadContainer(bytes, apacheReader));
                continue;
            }

            var ours = container.ReadAll(oursReader).Single();
            var apache = ApacheOracle.ReadContainer(bytes, apacheReader).Single();
            OracleComparer.AssertSame(ours, apache, Path.GetFileName(file));
            resolved++;
        }

        Assert.Equal(51, resolved);
    }

    [SharedDataFact]
    public void FinkRubinSamples_ReadWithOfficialV74Schema_OursResolvesApacheRefusesOnRecordNames()
    {
        var oursReader = AvroSchemaSet.LoadDirectory(SharedData.Sample("lsst", "v7_4"))["lsst.v7_4.alert"];
        var apacheReader = ApacheSchema.Parse(ApacheOracle.InlineDirectory(SharedData.Sample("lsst", "v7_4"), "lsst.v7_4.alert"));
        var cache = new AvroSchemaCache();
        var files = 0;
        foreach (var file in SharedData.AvroFiles("lsst-real-v7_4"))
        {
            var bytes = File.ReadAllBytes(file);
            var container = AvroContainerReader.Open(bytes, cache);
            var ours = container.ReadAll(oursReader).Single();

            // Fink re-wrote these alerts with Spark, which names every record topLevelRecord.*. The spec matches
            // records by (unqualified) name, so Apache is right to refuse; ours deliberately ignores record names
            // outside unions (docs/avro.md, "Resolution rules" 2) so that these real alerts stay readable.
            var e = Assert.IsType<global::Avro.AvroException>(Assert.ThrowsAny<Exception>(() => ApacheOracle.ReadContainer(bytes, apacheReader)));
            Assert.StartsWith("Schema mismatch", e.Message, StringComparison.Ordinal);

            // What ours returns is still what Apache reads with the writer's own schema, field for field.
            OracleComparer.AssertSame(ours, ApacheOracle.ReadContainer(bytes).Single(), Path.GetFileName(file), projection: true);
            files++;
        }

        Assert.Equal(100, files);
    }

    internal static IEnumerable<(string Dir, string Root)> DirectorySchemas() =>
    [
        (Path.Combine("ztf", "schema"), "ztf.alert"),
        (Path.Combine("lsst", "v7_4"), "lsst.v7_4.alert"),
        (Path.Combine("lsst", "v11_0"), "lsst.v11_0.alert"),
    ];

    private static void AssertSameCanonicalForm(AvroSchema ours, ApacheSchema apache, string what)
    {
        var apacheForm = global::Avro.SchemaNormalization.ToParsingForm(apache);
        Assert.True(ours.ToCanonicalForm() == apacheForm, $"{what}: canonical forms differ\nours:   {Excerpt(ours.ToCanonicalForm())}\nApache: {Excerpt(apacheForm)}");
        Assert.Equal(unchecked((long)ours.Fingerprint), global::Avro.SchemaNormalization.ParsingFingerprint64(apache));
    }

    private static string Excerpt(string s) => s.Length <= 400 ? s : s[..400] + "…";
}
