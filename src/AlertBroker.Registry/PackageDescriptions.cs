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
            ManifestSha256 = ModelPackage.ComputeSha256(package.Manifest),
            Encoding = manifest.Encoding.Id.ToString(),
            Classes = manifest.Classes,
            Metrics = manifest.Training.Metrics,
            Surveys = manifest.EffectiveSurveys,
            MetadataSources = [.. manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal)],
            PushedBy = pushedBy,
            PushedUtc = now,
        };
    }

    /// <summary>Checks stored bytes against the hashes recorded at push time (model.onnx, and model.json: <see cref="VerifyManifest"/>).</summary>
    public static ModelPackageBytes Verify(RegisteredModel model, ModelPackageBytes package)
    {
        var sha = ModelPackage.ComputeSha256(package.Onnx);
        if (!string.Equals(sha, model.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException($"{model.Ref}: stored model.onnx has SHA-256 {sha}, registered as {model.Sha256}");
        }

        _ = VerifyManifest(model, package.Manifest);
        return package;
    }

    /// <summary>
    /// The stored model.json, parsed, after checking it is the one pushed: its SHA-256 against the record's, or for a record
    /// pushed before the record kept that hash, its name, version, classes and surveys against the record's.
    /// </summary>
    public static ModelManifest VerifyManifest(RegisteredModel model, byte[] manifest)
    {
        if (model.ManifestSha256 is { } recorded)
        {
            var sha = ModelPackage.ComputeSha256(manifest);
            if (!string.Equals(sha, recorded, StringComparison.OrdinalIgnoreCase))
            {
                throw new RegistryException($"{model.Ref}: stored model.json has SHA-256 {sha}, registered as {recorded}: it was changed after the push; push the package again to restore it, or push a new version");
            }
        }

        var parsed = ParseManifest(model.Ref, manifest);
        var differs = parsed.Name != model.Name ? "name"
            : parsed.Version != model.Version ? "version"
            : !parsed.Classes.SequenceEqual(model.Classes, StringComparer.Ordinal) ? "classes"
            : model.Surveys is { } surveys && !parsed.EffectiveSurveys.SequenceEqual(surveys, StringComparer.Ordinal) ? "surveys"
            : null;
        return differs is null ? parsed
            : throw new RegistryException($"{model.Ref}: stored model.json does not match its registry record ({differs} differ): it was changed after the push; push the package again to restore it, or push a new version");
    }

    /// <summary>
    /// Why <paramref name="pushed"/> may not be pushed again over <paramref name="existing"/> (null: it is the same model):
    /// other ONNX bytes, or a model.json that says other things a worker serves by (name, version, encoding, classes,
    /// surveys, metadata sources: changing them under the same version was ignored, "pushed"). A model.json exported again
    /// (another creation time) is the same model.
    /// </summary>
    public static string? RepushProblem(RegisteredModel existing, RegisteredModel pushed)
    {
        if (!string.Equals(existing.Sha256, pushed.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return $"{pushed.Ref} is already registered with other bytes; push a new version instead";
        }

        var differs = existing.Encoding != pushed.Encoding ? "encoding"
            : !existing.Classes.SequenceEqual(pushed.Classes, StringComparer.Ordinal) ? "classes"
            : existing.Surveys is { } surveys && !surveys.SequenceEqual(pushed.Surveys ?? [], StringComparer.Ordinal) ? "surveys"
            : existing.MetadataSources is { } sources && !sources.SequenceEqual(pushed.MetadataSources ?? [], StringComparer.Ordinal) ? "metadata sources"
            : null;
        return differs is null ? null : $"{pushed.Ref} is already registered with another model.json (its {differs} differ); push a new version instead";
    }

    /// <summary>
    /// The record to write back when the stored package of a model pushed again no longer verifies (<paramref name="stored"/>
    /// null: missing), its files then rewritten from the push; null when the stored package is sound (nothing to do).
    /// </summary>
    public static RegisteredModel? Repair(RegisteredModel existing, RegisteredModel pushed, ModelPackageBytes? stored)
    {
        if (stored is not null)
        {
            try
            {
                _ = Verify(existing, stored);
                return null;
            }
            catch (RegistryException)
            {
                // damaged: restored below
            }
        }

        return existing with { ManifestSha256 = pushed.ManifestSha256 };
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
