using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Tests.Common;

/// <summary>Small model packages with random weights for tests that need a real package on disk.</summary>
internal static class TestModelPackages
{
    public static readonly string[] Classes = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];

    /// <summary>Exports a package with the project's feature encoding and a small network into <paramref name="directory"/>.</summary>
    public static string Export(string directory, string name, string version, long seed, int hidden = 8, IReadOnlyList<string>? classes = null)
    {
        classes ??= Classes;
        var config = new GruClassifierConfig
        {
            InputFeatures = LightCurveEncoding.StepFeatureCount,
            MetaFeatures = LightCurveEncoding.MetaFeatureCount,
            HiddenSize = hidden,
            Layers = 2,
            DenseSize = hidden,
            MetaDenseSize = 4,
            MergeSize = hidden,
            LatentSize = hidden,
            Classes = classes.Count,
        };
        GruClassifierExporter.ExportPackage(
            GruClassifierWeights.Random(config, seed),
            new ModelManifest { Name = name, Version = version, Classes = [.. classes], Encoding = LightCurveEncoding.Descriptor() },
            directory);
        return directory;
    }
}
