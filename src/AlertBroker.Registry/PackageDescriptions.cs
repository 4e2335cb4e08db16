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
            Surveys = manifest.EffectiveSurveys,
            MetadataSources = [.. manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal)],
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

    /// <summary>The model.json bytes, parsed; a manifest that does not parse is a registry error.</summary>
    public static ModelManifest ParseManifest(ModelRef model, byte[] manifest)
    {
        try
        {
            return ModelPackage.ParseManifest(manifest);
        }
        catch (ModelPackageException e)
        {
            throw new RegistryException($"{model}: stored model.json is invalid: {e.Message}", e);
        }
    }

    /// <summary>The surveys a registered model declares: its record's, else its manifest's, else ["ztf"].</summary>
    public static async Task<IReadOnlyList<string>> SurveysOfAsync(IModelRegistry registry, ModelRef model, CancellationToken cancellationToken)
    {
        var info = await registry.GetAsync(model, cancellationToken).ConfigureAwait(false);
        if (info?.Surveys is { Count: > 0 } surveys)
        {
            return surveys;
        }

        var manifest = await registry.GetManifestAsync(model, cancellationToken).ConfigureAwait(false);
        return manifest?.EffectiveSurveys ?? [RegistryNames.DefaultSurvey];
    }

    /// <summary>The audit record of a migration from the single pointer to per-survey pointers.</summary>
    public static PromotionRecord MigrationRecord(ActivePointer legacy, IReadOnlyList<string> surveys) => new()
    {
        Action = "migrate",
        Utc = DateTimeOffset.UtcNow,
        To = legacy.Ref.ToString(),
        Reason = "the registry's single active pointer (and its history) became the pointer of " + string.Join(", ", surveys),
        By = "alertbroker",
    };

    /// <summary>"name@version#sha256": what compare-and-set compares.</summary>
    public static string Identity(ActivePointer? active) => active is null ? string.Empty : $"{active.Name}@{active.Version}#{active.Sha256}";
}
