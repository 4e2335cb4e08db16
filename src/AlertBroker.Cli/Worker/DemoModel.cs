using AlertBroker.Model.Onnx;
using AlertBroker.Worker.Scoring;

namespace AlertBroker.Cli.Worker;

/// <summary>
/// The models the demo and benchmarks use: the given packages (each serving the surveys its model.json declares), else per
/// survey the newest package under <c>models/</c> that declares it, else a random-weight model for every survey.
/// </summary>
internal static class DemoModel
{
    /// <summary>
    /// <see cref="Load"/>, or null after reporting in one line why a model cannot be used (the caller exits with
    /// <see cref="ModelCli.ModelUnusableExitCode"/>).
    /// </summary>
    public static ModelSet? TryLoad(IReadOnlyList<string> directories, out string description, OnnxSessionOptions? sessionOptions = null)
    {
        description = "(none)";
        try
        {
            return Load(directories, out description, sessionOptions);
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e))
        {
            ModelCli.ReportModelUnusable(e);
            return null;
        }
    }

    /// <param name="directories">The packages given (none: per survey the newest under <c>models/</c>).</param>
    /// <param name="description">What was loaded, in one line.</param>
    /// <param name="sessionOptions">Threads and execution provider of every session (CPU by default).</param>
    public static ModelSet Load(IReadOnlyList<string> directories, out string description, OnnxSessionOptions? sessionOptions = null)
    {
        ArgumentNullException.ThrowIfNull(directories);
        if (directories.Count > 0)
        {
            var models = new List<ActiveModel>();
            try
            {
                foreach (var d in directories)
                {
                    models.Add(ActiveModel.Load(d, sessionOptions));
                }

                var set = ModelSet.Of(models);
                description = Describe(set, directories);
                return set;
            }
            catch
            {
                models.ForEach(m => m.Dispose());
                throw;
            }
        }

        var root = ModelCatalog.FindModelsDirectory();
        if (root is not null)
        {
            // The demo and benchmarks have no metadata sources: a package that needs metadata is used only when no other
            // declares the survey, and its metadata is scored as unknown (said below).
            var choices = ModelCatalog.PickPerSurvey(ModelCatalog.Scan(root), static (_, _) => false);
            if (choices.Count > 0)
            {
                var set = ModelCatalog.Load(choices, sessionOptions);
                description = string.Join("; ", choices.Select(c => $"{c.Survey}: {c.Package.Directory}"
                    + (c.MissingMetadata.Count > 0 ? $" (needs {string.Join(", ", c.MissingMetadata)}: no source here, scored as unknown)" : string.Empty)));
                return set;
            }
        }

        var temp = TemporaryModelDirectory.ForThisProcess("alertbroker-demo-random-model");
        var why = root is null
            ? $"no checkout's models/ found from {Environment.CurrentDirectory} or {AppContext.BaseDirectory}: run it in the checkout or give --model models/<name>/<version>"
            : $"no trained model in {root} yet";
        description = $"RANDOM WEIGHTS for every survey ({why}), exported to {temp} — the class probabilities below mean nothing";
        return ModelSet.Of(ActiveModel.CreateRandom(temp, sessionOptions: sessionOptions));
    }

    /// <summary>Disposes the models a <see cref="Load"/> created.</summary>
    public static void Dispose(ModelSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        foreach (var m in set.Distinct)
        {
            m.Dispose();
        }
    }

    // A given model that requires metadata is said to score it as unknown, as the default pick says (it went without a word).
    private static string Describe(ModelSet set, IReadOnlyList<string> directories) =>
        string.Join("; ", set.Active.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value.Name} {kv.Value.Version}"
            + (kv.Value.MetadataRequired && kv.Value.MetadataSources.Count > 0 ? $" (needs {string.Join(", ", kv.Value.MetadataSources)}: no source here, scored as unknown)" : string.Empty))) + " from " + string.Join(", ", directories);
}
