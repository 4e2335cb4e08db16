using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Tests.Common;

/// <summary>Small model packages with random weights for tests that need a real package on disk.</summary>
internal static class TestModelPackages
{
    public static readonly string[] Classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];

    /// <summary>
    /// Exports a package with the project's feature encoding and a small network into <paramref name="directory"/>: by default
    /// one that uses only what alerts carry (no metadata branch) and declares ZTF; <paramref name="metadata"/> adds the
    /// metadata branch (host redshift and E(B−V), which then must be supplied by a source, or with <paramref name="metadataOptional"/>
    /// are used where a source supplies them: <c>"requiresMetadata": false</c>).
    /// </summary>
    public static string Export(string directory, string name, string version, long seed, int hidden = 8, IReadOnlyList<string>? classes = null, bool metadata = false, IReadOnlyList<string>? surveys = null, bool metadataOptional = false)
    {
        classes ??= Classes;
        var config = Config(hidden, classes.Count, metadata);
        GruClassifierExporter.ExportPackage(
            GruClassifierWeights.Random(config, seed),
            new ModelManifest { Name = name, Version = version, Classes = [.. classes], Surveys = surveys, Encoding = LightCurveEncoding.Descriptor(metadata), RequiresMetadata = metadata && metadataOptional ? false : null },
            directory);
        return directory;
    }

    /// <summary>The network shape <see cref="Export"/> uses.</summary>
    public static GruClassifierConfig Config(int hidden, int classes, bool metadata) => new()
    {
        InputFeatures = LightCurveEncoding.StepFeatureCount,
        MetaFeatures = metadata ? LightCurveEncoding.MetaFeatureCount : 0,
        HiddenSize = hidden,
        Layers = 2,
        DenseSize = hidden,
        MetaDenseSize = 4,
        MergeSize = hidden,
        LatentSize = hidden,
        Classes = classes,
    };
}
