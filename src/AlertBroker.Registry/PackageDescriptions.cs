using AlertBroker.Model.Packaging;

namespace AlertBroker.Registry;

internal static class PackageDescriptions
{
    /// <summary>Reads model.json and checks the ONNX bytes against its SHA-256 before anything is stored.</summary>
    public static RegisteredModel Describe(ModelPackageBytes package, string pushedBy, DateTimeOffset now)
    {
        ModelManifest manifest;
        try
        {
            manifest = ModelPackage.ParseManifest(package.Manifest);
        }
        catch (ModelPackageException e)
        {
            throw new RegistryException("model.json is invalid: " + e.Message, e);
        }

        if (string.IsNullOrWhiteSpace(manifest.Name) || string.IsNullOrWhiteSpace(manifest.Version) || manifest.Name.Contains('@', StringComparison.Ordinal))
        {
            throw new RegistryException($"model.json needs a name (without '@') and a version; got '{manifest.Name}' '{manifest.Version}'");
        }

        var sha = ModelPackage.ComputeSha256(package.Onnx);
        if (!string.Equals(sha, manifest.Onnx.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException($"model.onnx has SHA-256 {sha} but model.json says {manifest.Onnx.Sha256}: refusing a tampered or truncated package");
        }

        return new RegisteredModel
        {
            Name = manifest.Name,
            Version = manifest.Version,
            Sha256 = sha,
            Encoding = manifest.Encoding.Id.ToString(),
            Classes = manifest.Classes,
            Metrics = manifest.Training.Metrics,
            PushedBy = pushedBy,
            PushedUtc = now,
        };
    }

    /// <summary>Checks stored bytes against the hash recorded at push time.</summary>
    public static ModelPackageBytes Verify(RegisteredModel model, ModelPackageBytes package)
    {
        var sha = ModelPackage.ComputeSha256(package.Onnx);
        return string.Equals(sha, model.Sha256, StringComparison.OrdinalIgnoreCase)
            ? package
            : throw new RegistryException($"{model.Ref}: stored model.onnx has SHA-256 {sha}, registered as {model.Sha256}");
    }

    /// <summary>"name@version#sha256": what compare-and-set compares.</summary>
    public static string Identity(ActivePointer? active) => active is null ? string.Empty : $"{active.Name}@{active.Version}#{active.Sha256}";
}
