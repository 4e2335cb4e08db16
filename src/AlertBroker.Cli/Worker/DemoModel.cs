using AlertBroker.Model.Packaging;
using AlertBroker.Worker.Scoring;

namespace AlertBroker.Cli.Worker;

/// <summary>Finds the model the demo and benchmarks use: the given package, else the most recently created package under <c>models/</c>, else a random-weight model.</summary>
internal static class DemoModel
{
    /// <summary>
    /// <see cref="Load"/>, or null after reporting in one line why the model cannot be used (the caller exits with
    /// <see cref="ModelCli.ModelUnusableExitCode"/>).
    /// </summary>
    public static ActiveModel? TryLoad(string? directory, out string description)
    {
        description = directory ?? "(none)";
        try
        {
            return Load(directory, out description);
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e))
        {
            ModelCli.ReportModelUnusable(e);
            return null;
        }
    }

    public static ActiveModel Load(string? directory, out string description)
    {
        if (directory is not null)
        {
            description = directory;
            return ActiveModel.Load(directory);
        }

        if (FindNewestPackage() is { } package)
        {
            description = package;
            return ActiveModel.Load(package);
        }

        var temp = Path.Combine(Path.GetTempPath(), "alertbroker-demo-random-model-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        description = "RANDOM WEIGHTS (no trained model in models/ yet), exported to " + temp + " — the class probabilities below mean nothing";
        return ActiveModel.CreateRandom(temp);
    }

    /// <summary>The most recently created package under the checkout's <c>models/</c>, or null.</summary>
    public static string? FindNewestPackage()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var models = Path.Combine(dir.FullName, "models");
                if (!Directory.Exists(models) || !File.Exists(Path.Combine(dir.FullName, "AlertBroker.sln")))
                {
                    continue;
                }

                string? newest = null;
                var newestTime = DateTimeOffset.MinValue;
                foreach (var manifest in Directory.GetFiles(models, "model.json", SearchOption.AllDirectories))
                {
                    try
                    {
                        var created = ModelPackage.ParseManifest(File.ReadAllBytes(manifest)).CreatedUtc;
                        if (newest is null || created > newestTime)
                        {
                            newest = manifest;
                            newestTime = created;
                        }
                    }
                    catch (Exception e) when (e is IOException or ModelPackageException or System.Text.Json.JsonException)
                    {
                    }
                }

                if (newest is not null)
                {
                    return Path.GetDirectoryName(newest)!;
                }
            }
        }

        return null;
    }
}
