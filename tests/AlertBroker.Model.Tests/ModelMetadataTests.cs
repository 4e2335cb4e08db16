using System.Text.Json.Nodes;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;

namespace AlertBroker.Model.Tests;

/// <summary>The manifest's surveys and metadata declaration, and packages without metadata end to end.</summary>
public sealed class ModelMetadataTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-meta-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static GruClassifierConfig Config(bool metadata) => new()
    {
        InputFeatures = LightCurveEncoding.StepFeatureCount,
        MetaFeatures = metadata ? LightCurveEncoding.MetaFeatureCount : 0,
        HiddenSize = 8,
        Layers = 2,
        DenseSize = 7,
        MetaDenseSize = 3,
        MergeSize = 6,
        LatentSize = 5,
        Classes = 3,
    };

    private string Export(bool metadata, out GruClassifierWeights weights, IReadOnlyList<string>? surveys = null, string name = "m")
    {
        weights = GruClassifierWeights.Random(Config(metadata), 5);
        var dir = Path.Combine(_root, name, "1.0.0");
        GruClassifierExporter.ExportPackage(weights, new ModelManifest
        {
            Name = name,
            Version = "1.0.0",
            Classes = ["SNIa", "SNII", "TDE"],
            Surveys = surveys,
            Encoding = LightCurveEncoding.Descriptor(metadata),
        }, dir);
        return dir;
    }

    private static void EditJson(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, ModelPackage.ManifestFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private static ModelPackageException LoadFails(string dir) =>
        Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir, LightCurveEncoding.Supported));

    [Fact]
    public void Load_NoMetadataPackage_HasNoMetaInputAndDeclaresNoMetadata()
    {
        var dir = Export(metadata: false, out _, surveys: ["ztf"]);

        using var package = ModelPackage.Load(dir, LightCurveEncoding.Supported);

        Assert.Equal(["x", "h0", "lengths"], package.Session.Inputs.Select(i => i.Name));
        Assert.Empty(package.Manifest.Encoding.MetaFeatures);
        Assert.Equal(0, package.Manifest.Network.MetaFeatures);
        Assert.Equal(0, package.Manifest.Network.MetaDense);
        Assert.False(package.Manifest.RequiresMetadata);
        Assert.False(package.Manifest.EffectiveRequiresMetadata);
        Assert.Empty(package.Manifest.Metadata!);
        Assert.Equal(["ztf"], package.Manifest.Surveys);
        Assert.DoesNotContain(package.Manifest.Tensors.Inputs, t => t.Name == "meta");
        var json = File.ReadAllText(Path.Combine(dir, ModelPackage.ManifestFileName));
        Assert.Contains("\"requiresMetadata\": false", json, StringComparison.Ordinal);
        Assert.Contains("\"metadata\": []", json, StringComparison.Ordinal);
        Assert.Contains("\"metaFeatures\": []", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_NoMetadataPackage_OnnxRuntimeEqualsReferenceForward()
    {
        var dir = Export(metadata: false, out var weights);
        using var package = ModelPackage.Load(dir, LightCurveEncoding.Supported);
        var scorer = new BatchScorer(package);
        var reference = new GruClassifier(weights);
        var random = new Random(3);
        var requests = new ScoringRequest[7];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = new ScoringRequest(TestData.Uniform(random, random.Next(1, 9) * LightCurveEncoding.StepFeatureCount, 2f), ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty);
        }

        var results = scorer.Score(requests);
        for (var i = 0; i < requests.Length; i++)
        {
            var k = requests[i].Steps.Length / LightCurveEncoding.StepFeatureCount;
            var probs = new float[k * 3];
            var hn = new float[2 * 8];
            reference.Run(requests[i].Steps.Span, [], [], probs, hn);
            TestData.AssertClose(probs, results[i].Probabilities, what: $"object {i} probs");
            TestData.AssertClose(hn, results[i].HiddenState, what: $"object {i} state");
        }

        // A metadata vector for a model that has none is a caller error, not silently ignored.
        Assert.Throws<ArgumentException>(() => scorer.Score([new ScoringRequest(new float[6], new float[4], ReadOnlyMemory<float>.Empty)]));
    }

    [Fact]
    public void Load_MetadataPackage_DeclaresRedshiftAndExtinctionWithTheirSources()
    {
        var dir = Export(metadata: true, out _);

        using var package = ModelPackage.Load(dir, LightCurveEncoding.Supported);

        var m = package.Manifest;
        Assert.True(m.RequiresMetadata);
        Assert.Equal(["redshift", "mw_ebv"], m.Metadata!.Select(e => e.Name));
        Assert.Equal([MetadataSources.HostRedshift, MetadataSources.MilkyWayEbv], m.Metadata!.Select(e => e.Source));
        Assert.Equal(["redshift", "redshift_known"], m.Metadata![0].Features);
        Assert.True(m.Metadata![0].TimeDilation);
        Assert.False(m.Metadata![1].TimeDilation);
        Assert.Equal(["ztf"], m.Surveys);
        Assert.Contains("meta", package.Session.Inputs.Select(i => i.Name));
    }

    [Fact]
    public void Load_PackageWithoutNewFields_DefaultsToZtfAndInfersTheMetadata()
    {
        var withMeta = Export(metadata: true, out _, name: "old-meta");
        var noMeta = Export(metadata: false, out _, name: "old-plain");
        foreach (var dir in new[] { withMeta, noMeta })
        {
            EditJson(dir, j =>
            {
                j.Remove("surveys");
                j.Remove("metadata");
                j.Remove("requiresMetadata");
            });
        }

        using var a = ModelPackage.Load(withMeta, LightCurveEncoding.Supported);
        using var b = ModelPackage.Load(noMeta, LightCurveEncoding.Supported);

        Assert.Null(a.Manifest.Surveys);
        Assert.Equal(["ztf"], a.Manifest.EffectiveSurveys);
        Assert.True(a.Manifest.IsForSurvey("ZTF"));
        Assert.False(a.Manifest.IsForSurvey("lsst"));
        Assert.Null(a.Manifest.Metadata);
        Assert.True(a.Manifest.EffectiveRequiresMetadata);
        Assert.Equal(["redshift", "mw_ebv"], a.Manifest.EffectiveMetadata.Select(e => e.Name));
        Assert.Equal(["redshift", "redshift_known", "mw_ebv", "mw_ebv_known"], a.Manifest.EffectiveMetadata.SelectMany(e => e.Features));
        Assert.Equal([MetadataSources.HostRedshift, MetadataSources.MilkyWayEbv], a.Manifest.EffectiveMetadata.Select(e => e.Source));
        Assert.False(b.Manifest.EffectiveRequiresMetadata);
        Assert.Empty(b.Manifest.EffectiveMetadata);

        // Re-serialising an old manifest does not invent the fields.
        var json = System.Text.Encoding.UTF8.GetString(ModelPackage.SerializeManifest(a.Manifest));
        Assert.DoesNotContain("\"surveys\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"requiresMetadata\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SeveralSurveys_Kept()
    {
        var dir = Export(metadata: false, out _, surveys: ["ztf", "lsst"]);

        using var package = ModelPackage.Load(dir, LightCurveEncoding.Supported);

        Assert.Equal(["ztf", "lsst"], package.Manifest.EffectiveSurveys);
        Assert.True(package.Manifest.IsForSurvey("lsst"));
    }

    [Fact]
    public void MetadataRequirement_Infer_UnknownFeaturesGetTheirOwnEntry()
    {
        var inferred = MetadataRequirement.Infer(["redshift", "redshift_known", "host_mass"]);

        Assert.Equal(["redshift", "host_mass"], inferred.Select(e => e.Name));
        Assert.Equal("host_mass", inferred[1].Source);
        Assert.Empty(MetadataRequirement.Infer([]));
    }

    // The feature's own name was the source: Host_Z, which no source could ever be given (models metadata set --source
    // and model.json refuse it, the worker's configured names are lower-cased).
    [Fact]
    public void MetadataRequirement_Infer_UpperCaseFeatureNames_GetTheSourceNameTheyNormaliseTo()
    {
        var inferred = MetadataRequirement.Infer(["Host_Z", "HOSTZ", "Host Mass (dex)", "redshift"]);

        Assert.Equal(["redshift", "Host_Z", "HOSTZ", "Host Mass (dex)"], inferred.Select(e => e.Name));
        Assert.Equal([MetadataSources.HostRedshift, "host_z", "hostz", "host-mass-dex"], inferred.Select(e => e.Source));
        Assert.Equal(["Host_Z"], inferred[1].Features);
        Assert.All(inferred, e => Assert.True(MetadataSources.IsName(e.Source)));
    }

    [Theory]
    [InlineData("host_mass", "host_mass")]
    [InlineData("host-redshift", "host-redshift")]
    [InlineData("Host_Z", "host_z")]
    [InlineData("HOSTZ", "hostz")]
    [InlineData("Host Redshift", "host-redshift")]
    [InlineData("  _Host  Z / σ_ ", "host-z")]
    [InlineData("M*/L", "m-l")]
    [InlineData("Ĥost", "ost")]
    [InlineData("___", null)]
    [InlineData("σ", null)]
    [InlineData("", null)]
    public void MetadataSources_ToName_LowerCasesAndReplacesWhatASourceNameCannotHold(string name, string? expected)
    {
        var result = MetadataSources.ToName(name);

        Assert.Equal(expected, result);
        Assert.True(result is null || MetadataSources.IsName(result));
    }

    [Fact]
    public void MetadataRequirement_Infer_FeatureWithoutASourceName_KeepsItsOwnNameAsTheSource()
    {
        var tooLong = "Z" + new string('a', MetadataSources.MaxNameLength);

        var inferred = MetadataRequirement.Infer(["σ", tooLong]);

        Assert.Equal(["σ", tooLong], inferred.Select(e => e.Source));
        Assert.Null(MetadataSources.ToName(tooLong));
    }

    public static TheoryData<string, string> BadDeclarations => new()
    {
        { "surveys: []", "surveys is empty" },
        { "surveys: [\"ZTF\"]", "lower-case" },
        { "surveys: [\"ztf\", \"ztf\"]", "twice" },
        { "requiresMetadata: true, nothing listed", "requiresMetadata is true but metadata lists nothing" },
        { "metadata: []", "no metadata entry says what supplies it" },
        { "metadata-unknown-feature", "which encoding.metaFeatures does not list" },
        { "metadata-no-source", "does not say what supplies it" },
        { "metadata-source-not-a-name", "source 'Host Redshift' is not a source name" },
        { "metadata-twice", "filled by both" },
    };

    [Theory]
    [MemberData(nameof(BadDeclarations))]
    public void Load_InconsistentDeclaration_ReportsInvalidManifest(string change, string expected)
    {
        var dir = Export(metadata: true, out _, name: "bad" + Math.Abs(change.GetHashCode(StringComparison.Ordinal)));
        EditJson(dir, j =>
        {
            var metadata = j["metadata"]!.AsArray();
            switch (change)
            {
                case "surveys: []":
                    j["surveys"] = new JsonArray();
                    break;
                case "surveys: [\"ZTF\"]":
                    j["surveys"] = new JsonArray("ZTF");
                    break;
                case "surveys: [\"ztf\", \"ztf\"]":
                    j["surveys"] = new JsonArray("ztf", "ztf");
                    break;
                case "requiresMetadata: true, nothing listed":
                    j["requiresMetadata"] = true;
                    j["metadata"] = new JsonArray();
                    break;
                case "metadata: []":
                    j["metadata"] = new JsonArray();
                    j["requiresMetadata"] = false;
                    break;
                case "metadata-unknown-feature":
                    metadata[0]!["features"]!.AsArray().Add("host_mass");
                    break;
                case "metadata-no-source":
                    metadata[1]!["source"] = "";
                    break;
                case "metadata-source-not-a-name":
                    // No operator could declare it: models metadata set --source takes names only.
                    metadata[0]!["source"] = "Host Redshift";
                    break;
                case "metadata-twice":
                    metadata[1]!["features"]!.AsArray().Add("redshift");
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(change));
            }
        });

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.Contains(expected, StringComparison.Ordinal));
    }

    // "requiresMetadata": false with metadata listed was refused as inconsistent, so the optional metadata the worker, the
    // catalogue and the promotion gate support (scored as unknown where no source supplies it) could not be declared.
    [Fact]
    public void Load_OptionalMetadata_LoadsAndSaysItIsNotRequired()
    {
        var dir = Export(metadata: true, out _, name: "optional");
        EditJson(dir, j => j["requiresMetadata"] = false);

        using var package = ModelPackage.Load(dir, LightCurveEncoding.Supported);

        Assert.False(package.Manifest.EffectiveRequiresMetadata);
        Assert.Equal(["host-redshift", "mw-ebv"], package.Manifest.EffectiveMetadata.Select(m => m.Source).Distinct());
    }

    [Fact]
    public void Save_NoMetadataManifestListingMetaFeatures_IsRefused()
    {
        var weights = GruClassifierWeights.Random(Config(metadata: false), 1);

        // A network without the branch cannot be described by an encoding that lists metadata features.
        var e = Assert.Throws<ModelPackageException>(() => GruClassifierExporter.ExportPackage(weights, new ModelManifest
        {
            Name = "x",
            Version = "1",
            Classes = ["SNIa", "SNII", "TDE"],
            Encoding = LightCurveEncoding.Descriptor(metadata: true),
        }, Path.Combine(_root, "refused")));

        Assert.Contains(e.Problems, p => p.Message.Contains("encoding.metaFeatures lists 4 names but network.metaFeatures is 0", StringComparison.Ordinal));
    }
}
