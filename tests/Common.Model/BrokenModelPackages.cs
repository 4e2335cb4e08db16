using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Tests.Common;

/// <summary>Model packages whose files are in order (manifest, hash, tensors) but whose network cannot give probabilities.</summary>
internal static class BrokenModelPackages
{
    /// <summary>
    /// <see cref="TestModelPackages.Export"/>'s small ZTF network ("nan-model") with one weight set to <paramref name="value"/>:
    /// the first output bias (NaN or +∞ there makes every step's output NaN, as after a diverged training run), or with
    /// <paramref name="recurrent"/> the first recurrent weight of the second GRU layer (a NaN there comes out of ONNX
    /// Runtime's clamped activations as finite, wrong probabilities).
    /// </summary>
    public static string Export(string directory, float value, bool recurrent = false, long seed = 5)
    {
        var weights = GruClassifierWeights.Random(TestModelPackages.Config(8, TestModelPackages.Classes.Length, metadata: false), seed);
        if (recurrent)
        {
            weights.GruLayers[1].WeightHh[0] = value;
        }
        else
        {
            weights.Output.Bias[0] = value;
        }

        GruClassifierExporter.ExportPackage(
            weights,
            new ModelManifest { Name = "nan-model", Version = "1.0.0", Classes = [.. TestModelPackages.Classes], Surveys = ["ztf"], Encoding = LightCurveEncoding.Descriptor(false) },
            directory);
        return directory;
    }
}
