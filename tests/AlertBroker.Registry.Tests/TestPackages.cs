using AlertBroker.Model.Packaging;

namespace AlertBroker.Registry.Tests;

/// <summary>Small model packages with random weights, and broken variants of them.</summary>
internal static class TestPackages
{
    public static ModelPackageBytes Valid(string name, string version, int seed = 1, IReadOnlyList<string>? surveys = null, bool metadata = false, bool metadataOptional = false)
    {
        var dir = Directory.CreateTempSubdirectory("ab-pkg-").FullName;
        try
        {
            TestModelPackages.Export(dir, name, version, seed, metadata: metadata, surveys: surveys, metadataOptional: metadataOptional);
            return new ModelPackageBytes(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A package whose model.json matches its bytes, but the bytes are not an ONNX model.</summary>
    public static ModelPackageBytes CorruptOnnx(string name, string version)
    {
        var valid = Valid(name, version);
        var garbage = valid.Onnx[..(valid.Onnx.Length / 3)];
        return WithManifest(valid, m => m with { Onnx = m.Onnx with { Sha256 = ModelPackage.ComputeSha256(garbage) } }, garbage);
    }

    public static ModelPackageBytes UnknownEncoding(string name, string version) =>
        WithManifest(Valid(name, version), m => m with { Encoding = m.Encoding with { Name = "someone-elses-encoding" } });

    public static ModelPackageBytes Renamed(string name, string version) =>
        WithManifest(Valid("m", "1"), m => m with { Name = name, Version = version });

    /// <summary>A package as written before model.json had <c>surveys</c> (the field removed).</summary>
    public static ModelPackageBytes WithoutSurveys(string name, string version, int seed = 1)
    {
        var valid = Valid(name, version, seed);
        var json = System.Text.Json.Nodes.JsonNode.Parse(valid.Manifest)!.AsObject();
        json.Remove("surveys");
        return new ModelPackageBytes(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), valid.Onnx);
    }

    public static ModelPackageBytes WrongShapes(string name, string version) =>
        WithManifest(Valid(name, version), m => m with { Network = m.Network with { Hidden = 16 } });

    public static ModelPackageBytes WithManifest(ModelPackageBytes package, Func<ModelManifest, ModelManifest> change, byte[]? onnx = null) =>
        new(ModelPackage.SerializeManifest(change(ModelPackage.ParseManifest(package.Manifest))), onnx ?? package.Onnx);
}
