using System.CommandLine;
using System.Text.Json.Nodes;
using AlertBroker.Cli.Training;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// Packages made from other packages without training (<c>models average</c>, <c>models priors</c>): reading a source
/// package checked as a worker would (manifest, hash, graph) without needing ONNX Runtime, and the new package's
/// <c>MODEL_CARD.md</c>: what was done, how to evaluate it, then the card of the package it was made from.
/// </summary>
internal static class DerivedPackages
{
    public const string FileName = ModelCard.FileName;

    /// <summary>
    /// The weights and manifest of a trainer-written package, after <see cref="ModelPackage.Check"/> (hash, manifest,
    /// graph); throws <see cref="InvalidDataException"/> naming the first problem of a package that is not sound.
    /// </summary>
    public static TrainedModel Load(string directory) => ModelIo.LoadPackage(directory);

    /// <summary>
    /// One line for a source package a worker would refuse ("COMMAND: model unusable (invalid model package): …") and
    /// <see cref="ModelCli.ModelUnusableExitCode"/> (3), as for every command that loads a model.
    /// </summary>
    public static int ReportUnusable(string command, ModelPackageException e, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        stderr.WriteLine($"{command}: model unusable ({ModelCli.Kind(e)}): {ModelCli.OneLine(e)}");
        return ModelCli.ModelUnusableExitCode;
    }

    /// <summary>The failures of reading, checking or combining source packages that are the user's input, not a bug.</summary>
    public static bool IsInputProblem(Exception e) =>
        e is ArgumentException or IOException or UnauthorizedAccessException or InvalidDataException or FormatException or KeyNotFoundException or ModelPackageException or System.Text.Json.JsonException;

    /// <summary>
    /// A package's <c>--name</c> or <c>--version</c>, when given, must be what <c>model.json</c> accepts: one path segment
    /// (not empty, no '/', '\', '.' or '..', no control character) — a usage error naming the option (exit 2), not
    /// the manifest check's exception after the work ("unexpected error", exit 70).
    /// </summary>
    public static Option<string?> PathSegment(this Option<string?> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.NotBlank();
        option.Validators.Add(result =>
        {
            // The manifest's rule (ModelPackage.IsModelName): '@' or a control character made a package that push refused
            // or that could never be promoted.
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? value) && !string.IsNullOrWhiteSpace(value)
                && !ModelPackage.IsModelName(value))
            {
                result.AddError($"{option.Name} must be one path segment (no '/', '\\', '.' or '..') without '@', control characters or white space at either end, {ModelPackage.ModelNameLengthRule}, not '{Shown(value)}'.");
            }
        });
        return option;
    }

    /// <summary>
    /// The name and version a package written to <paramref name="output"/> gets: <paramref name="name"/> and
    /// <paramref name="version"/> when given, otherwise the two last folders of <paramref name="output"/>
    /// (models/&lt;name&gt;/&lt;version&gt;).
    /// </summary>
    public static (string Name, string Version) NamesFor(string output, string? name, string? version)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        return (name ?? Path.GetFileName(Path.GetDirectoryName(full)) ?? "model", version ?? Path.GetFileName(full));
    }

    /// <summary>
    /// Why the name or version taken from <c>--out</c> (when <c>--name</c> or <c>--version</c> is not given) cannot be a
    /// model's, as one usage line naming <c>--out</c>; null when both can. Checked before any work: <c>--out m@x/1</c> was
    /// refused by <c>models package</c> as a graph that "does not fit the scoring contract" (exit 1), and by
    /// <c>models priors</c>/<c>average</c>/<c>ensemble</c> with a message naming the hidden staging directory, after
    /// making <c>--out</c>'s parent folders, which stayed behind.
    /// </summary>
    public static string? OutNamesProblem(string? output, string? name, string? version)
    {
        if (string.IsNullOrWhiteSpace(output) || CliHelpers.IsFileSystemRoot(output))
        {
            // Said by --out's own validation.
            return null;
        }

        var (derivedName, derivedVersion) = NamesFor(output, name, version);
        return name is null && !ModelPackage.IsModelName(derivedName)
            ? $"--out {output}: the model name is taken from its parent folder, '{Shown(derivedName)}', which must be {ModelPackage.ModelNameRule}; give --name, or write to models/<name>/<version>"
            : version is null && !ModelPackage.IsModelName(derivedVersion)
            ? $"--out {output}: the version is taken from its last folder, '{Shown(derivedVersion)}', which must be {ModelPackage.ModelNameRule}; give --version, or write to models/<name>/<version>"
            : null;
    }

    private static string Shown(string value) => string.Concat(value.Select(c => char.IsControl(c) ? '?' : c));

    /// <summary>True (after one line on <paramref name="stderr"/>) when <paramref name="output"/> already holds a package.</summary>
    public static bool AlreadyHoldsAPackage(string command, string output, TextWriter stderr)
    {
        var full = Path.GetFullPath(output);
        if (!File.Exists(Path.Combine(full, ModelPackage.ManifestFileName)))
        {
            return false;
        }

        stderr.WriteLine($"{command}: {full} already holds a package (model.json); write a new version directory");
        return true;
    }

    /// <summary>
    /// Writes the derived package into <paramref name="output"/>: the classes, surveys, encoding and point selection of
    /// <paramref name="source"/>, name and version from the options or from the path (models/&lt;name&gt;/&lt;version&gt;), no metrics,
    /// and its <c>MODEL_CARD.md</c> (<paramref name="whatWasDone"/>, then the cards of <paramref name="sources"/>). Everything
    /// goes through <see cref="StagedPackage"/> (written beside the target, put in place in one step): a run that fails or
    /// is stopped while it writes leaves no package (before, <c>model.json</c> and <c>model.onnx</c> were written straight
    /// into <c>--out</c> and the card after them, so a failure writing the card left a package that looked whole).
    /// </summary>
    public static ModelManifest Write(GruClassifierWeights weights, ModelManifest source, JsonObject data, string output, string? name, string? version, Func<ModelManifest, string> whatWasDone, params IReadOnlyList<string> sources)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(whatWasDone);
        var full = Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar);
        (name, version) = NamesFor(output, name, version);
        return StagedPackage.Write(full, staging =>
        {
            var manifest = ModelIo.Export(
                weights,
                source.Classes,
                name,
                version,
                staging,
                data,
                new Dictionary<string, double>(),
                surveys: source.EffectiveSurveys,
                encoding: ModelIo.EncodingOf(source),
                // The source's selection, also when only encoding.detectionsOnly says it (what `models package
                // --detections-only` writes): until 2026-12-07 only training.data's record was carried, and a
                // detections-only network's derived package was fed forced photometry.
                detectionsOnly: source.EffectiveDetectionsOnly);
            WriteCard(staging, output, manifest.Name, manifest.Version, whatWasDone(manifest), sources);
            return manifest;
        });
    }

    /// <summary>Writes the card into <paramref name="directory"/>; <paramref name="shownAs"/> is the package's path the card tells the reader to evaluate.</summary>
    private static void WriteCard(string directory, string shownAs, string name, string version, string whatWasDone, IReadOnlyList<string> sources)
    {
        var card = new System.Text.StringBuilder();
        card.Append("# Model card: ").Append(name).Append(' ').Append(version).Append("\n\n");
        card.Append(whatWasDone.TrimEnd()).Append("\n\n");
        card.Append("This command trains nothing and evaluates nothing: `model.json` has no test metrics. Evaluate the package with ")
            .Append("`alertbroker evaluate --model ").Append(shownAs).Append(" --data … --split test --report ").Append(shownAs)
            .Append("` (writes `evaluation.html` and `evaluation.json` beside it).\n");
        foreach (var source in sources)
        {
            var sourceCard = Path.Combine(source, FileName);
            if (File.Exists(sourceCard))
            {
                card.Append("\n## Made from: ").Append(source).Append("\n\n");
                foreach (var line in File.ReadAllLines(sourceCard))
                {
                    // The source's headings one level down, so that its card nests under this one.
                    card.Append(line.StartsWith('#') ? "#" + line : line).Append('\n');
                }
            }
        }

        File.WriteAllText(Path.Combine(Path.GetFullPath(directory), FileName), card.ToString());
    }
}
