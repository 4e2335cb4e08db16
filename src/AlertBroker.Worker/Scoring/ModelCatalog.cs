using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using AlertBroker.Worker.Enrichment;

namespace AlertBroker.Worker.Scoring;

/// <summary>A package found under a models directory.</summary>
public sealed record CatalogPackage(string Directory, ModelManifest Manifest);

/// <summary>The package chosen for one survey, and the metadata sources it needs that nothing supplies (scored as unknown).</summary>
public sealed record SurveyChoice(string Survey, CatalogPackage Package, IReadOnlyList<string> MissingMetadata);

/// <summary>
/// The packages under a models directory (<c>models/&lt;name&gt;/&lt;version&gt;/model.json</c>) and the default choice per
/// survey: the newest (<c>createdUtc</c>) package declaring the survey whose metadata sources are all supplied; when no
/// such package exists, the newest declaring the survey, with the missing metadata scored as unknown (reported in
/// <see cref="SurveyChoice.MissingMetadata"/>).
/// </summary>
public static class ModelCatalog
{
    /// <summary>Every package whose <c>model.json</c> parses, newest first. Unreadable manifests are skipped.</summary>
    public static IReadOnlyList<CatalogPackage> Scan(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var list = new List<CatalogPackage>();
        if (!Directory.Exists(root))
        {
            return list;
        }

        foreach (var manifest in Directory.GetFiles(root, ModelPackage.ManifestFileName, SearchOption.AllDirectories))
        {
            // Hidden directories are not packages: the registry's own files (.registry), and a hidden staging directory
            // (.VERSION.staging-…) left by a train or finetune that was killed, which holds a model.json once the run had
            // written it and, being the newest, was picked over the real packages.
            if (InHiddenDirectory(root, manifest))
            {
                continue;
            }

            try
            {
                list.Add(new CatalogPackage(Path.GetDirectoryName(manifest)!, ModelPackage.ParseManifest(File.ReadAllBytes(manifest))));
            }
            catch (Exception e) when (e is IOException or ModelPackageException or System.Text.Json.JsonException or UnauthorizedAccessException)
            {
            }
        }

        list.Sort(static (a, b) => b.Manifest.CreatedUtc.CompareTo(a.Manifest.CreatedUtc));
        return list;
    }

    private static bool InHiddenDirectory(string root, string manifest)
    {
        var relative = Path.GetRelativePath(root, Path.GetDirectoryName(manifest)!);
        foreach (var segment in relative.Split(Path.DirectorySeparatorChar))
        {
            if (segment.StartsWith('.') && segment is not "." and not "..")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The choice for every survey some package declares, sorted by survey.</summary>
    /// <param name="packages">Candidates, newest first (<see cref="Scan"/>).</param>
    /// <param name="supplies">Whether a (survey, metadata source) is supplied here.</param>
    public static IReadOnlyList<SurveyChoice> PickPerSurvey(IReadOnlyList<CatalogPackage> packages, Func<string, string, bool> supplies)
    {
        ArgumentNullException.ThrowIfNull(packages);
        ArgumentNullException.ThrowIfNull(supplies);
        var surveys = packages.SelectMany(p => p.Manifest.EffectiveSurveys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var choices = new List<SurveyChoice>();
        foreach (var survey in surveys)
        {
            SurveyChoice? fallback = null;
            SurveyChoice? chosen = null;
            foreach (var p in packages)
            {
                if (!p.Manifest.IsForSurvey(survey))
                {
                    continue;
                }

                var missing = p.Manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal).Where(s => !supplies(survey, s)).ToList();
                if (missing.Count == 0)
                {
                    chosen = new SurveyChoice(survey, p, []);
                    break;
                }

                // A model whose metadata is optional may serve without it (scored as unknown); one that requires it may not.
                if (!p.Manifest.EffectiveRequiresMetadata)
                {
                    fallback ??= new SurveyChoice(survey, p, missing);
                }
            }

            if ((chosen ?? fallback) is { } choice)
            {
                choices.Add(choice);
            }
        }

        return choices;
    }

    /// <summary>Loads the chosen packages (each directory once) into a set: survey → its chosen model.</summary>
    public static ModelSet Load(IReadOnlyList<SurveyChoice> choices, OnnxSessionOptions? sessionOptions = null, MetadataSourceSet? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(choices);
        var loaded = new Dictionary<string, ActiveModel>(StringComparer.Ordinal);
        var active = new Dictionary<string, ActiveModel>(StringComparer.Ordinal);
        try
        {
            foreach (var c in choices)
            {
                if (!loaded.TryGetValue(c.Package.Directory, out var model))
                {
                    model = ActiveModel.Load(c.Package.Directory, sessionOptions);
                    loaded[c.Package.Directory] = model;
                }

                active[c.Survey] = model;
            }
        }
        catch
        {
            foreach (var m in loaded.Values)
            {
                m.Dispose();
            }

            throw;
        }

        return ModelSet.Create(active, metadata: metadata);
    }

    /// <summary>The checkout's <c>models/</c> directory (looked for upwards from the working directory and the program), or null.</summary>
    public static string? FindModelsDirectory()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var models = Path.Combine(dir.FullName, "models");
                if (Directory.Exists(models) && File.Exists(Path.Combine(dir.FullName, "AlertBroker.sln")))
                {
                    return models;
                }
            }
        }

        return null;
    }
}
