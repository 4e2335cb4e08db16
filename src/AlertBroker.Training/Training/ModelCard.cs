using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;

namespace AlertBroker.Training.Training;

/// <summary>
/// The <c>MODEL_CARD.md</c> of a package a training run wrote (<c>train</c>, <c>finetune</c>, <c>experiment transfer</c>):
/// architecture, data, split, settings and the held-out scores. Here rather than in the CLI so that the experiment's
/// packages get the same card (they had none).
/// </summary>
public static class ModelCard
{
    public const string FileName = "MODEL_CARD.md";

    /// <summary>"SNIa 40, SNII 12": objects per class of <paramref name="data"/>.</summary>
    public static string Counts(EncodedDataset data)
    {
        var counts = data.ClassCounts();
        var parts = new string[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            parts[i] = $"{data.Classes[i]} {counts[i]}";
        }

        return string.Join(", ", parts);
    }

    /// <summary>The card of the package <paramref name="manifest"/> describes, trained on <paramref name="train"/> with <paramref name="options"/>.</summary>
    public static string Text(ModelManifest manifest, IReadOnlyList<string> classes, string source, EncodedDataset train, EncodedDataset? validation, EncodedDataset? test, TrainingOptions options, TrainingResult result, EvaluationReport? report, HoldoutIds? holdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var meta = manifest.EffectiveMetadata.Count > 0;
        sb.Append(inv, $"# Model card: {manifest.Name} {manifest.Version}\n\n");
        sb.Append(meta
            ? "GRU classifier (two GRU layers of 100 → dense 100 tanh; metadata → dense 10 tanh; merge 100 ReLU → latent 100 ReLU → softmax), "
            : "GRU classifier (two GRU layers of 100 → dense 100 tanh → dense 100 ReLU → latent 100 ReLU → softmax; no metadata branch, no `meta` input), ");
        sb.Append(inv, $"feature encoding `{manifest.Encoding.Name}` v{manifest.Encoding.Version}, trained by `AlertBroker.Training`.\n\n");
        sb.Append(inv, $"- surveys: {string.Join(", ", manifest.EffectiveSurveys)}\n");
        sb.Append(meta
            ? manifest.EffectiveRequiresMetadata
                ? $"- needs metadata: {string.Join(", ", manifest.EffectiveMetadata.Select(m => $"{m.Name} (from {m.Source})"))}; alerts do not carry it, so the model is for places where a source supplies it\n"
                : $"- uses metadata where a source supplies it (optional; unknown elsewhere): {string.Join(", ", manifest.EffectiveMetadata.Select(m => $"{m.Name} (from {m.Source})"))}\n"
            : "- needs no metadata: uses only what alerts carry (time, band, flux and its error of each detection); step times are observer-frame\n");
        sb.Append(inv, $"- classes: {string.Join(", ", classes)}\n");
        sb.Append(inv, $"- data: `{source}`\n");
        if (manifest.Training.Data?["base"] is JsonObject { } baseModel)
        {
            sb.Append(inv, $"- fine-tuned from `{baseModel["name"]}` {baseModel["version"]}{((string?)baseModel["sha256"] is { Length: >= 12 } sha ? $" (ONNX sha256 {sha[..12]}…)" : string.Empty)}\n");
        }

        sb.Append(inv, $"- objects: train {train.Count} ({Counts(train)}), validation {validation?.Count ?? 0}, test {test?.Count ?? 0}{(holdout is null ? string.Empty : $" (the ids in `{holdout.Source}`, sha256 {holdout.Sha256[..12]}…)")}\n");
        sb.Append(inv, $"- training: layers `{options.Trainable}`, Adam lr {options.LearningRate}{(options.GruLearningRateScale != 1 ? $" (GRU layers × {options.GruLearningRateScale})" : string.Empty)}, batch {options.BatchSize}, step loss {options.StepLoss}, selection by validation {options.Selection}, class weights {ClassWeightText(options)}{(options.L2SpAlpha > 0 ? $", L2-SP α {options.L2SpAlpha}" : string.Empty)}, seed {options.Seed}, best epoch {result.BestEpoch} of {result.History.Count}{(result.StoppedEarly ? " (early stopping, patience " + options.Patience + ")" : string.Empty)}\n");
        if (options.Replay is { } r)
        {
            sb.Append(inv, $"- replay: {r.Ratio} objects per training object mixed into every epoch, drawn from {r.Pool.Count} ({Counts(r.Pool)}), each weighted {r.Weight} × the mean training object\n");
        }

        if (options.Augmentation is { } a)
        {
            sb.Append(inv, $"- augmentation (every epoch): late start with probability {a.LateStartProbability} (up to {a.LateStartDays} d), points dropped with probability {a.DropProbability}, flux noise {a.NoiseScale} σ, brightness shift up to ±{a.MagnitudeShift} mag\n");
        }

        if (options.DistillationWeight > 0 && manifest.Training.Data?["distillation"]?["teacher"] is { } teacher)
        {
            sb.Append(inv, $"- distillation: each step's target (1 − {options.DistillationWeight})·label + {options.DistillationWeight}·the probabilities of teacher `{teacher["name"]}` {teacher["version"]} (sha256 {((string?)teacher["sha256"])?[..12]}…; it saw its own metadata, this model did not), temperature {manifest.Training.Data["distillation"]!["temperature"]}\n");
        }

        if (report is not null)
        {
            sb.Append(inv, $"- test (held-out, full light curves): macro AUROC {ReportWriter.N(report.MacroAuroc)}, macro F1 {ReportWriter.N(report.MacroF1)}, accuracy {ReportWriter.N(report.Accuracy)}{(report.ClassesWithoutObjects() is { Count: > 0 } absent ? $" (no test object of class {string.Join(", ", absent)}: the macro figures average the other {report.PerClass.Count - absent.Count} classes)" : string.Empty)}\n\n");
            sb.Append("| class | support | precision | recall | AUROC |\n|---|---:|---:|---:|---:|\n");
            foreach (var c in report.PerClass)
            {
                sb.Append(inv, $"| {c.Class} | {c.Support} | {ReportWriter.N(c.Precision)} | {ReportWriter.N(c.Recall)} | {ReportWriter.N(c.Auroc)} |\n");
            }

            sb.Append("\nMacro AUROC against days after first detection (probabilities after the last observation up to then):\n\n| days |");
            foreach (var p in report.Early)
            {
                sb.Append(inv, $" {p.Days:0} |");
            }

            sb.Append(" whole |\n|---|");
            foreach (var unused in report.Early)
            {
                sb.Append("---:|");
            }

            sb.Append("---:|\n| macro AUROC |");
            foreach (var p in report.Early)
            {
                sb.Append(inv, $" {ReportWriter.N(p.MacroAuroc)} |");
            }

            sb.Append(inv, $" {ReportWriter.N(report.MacroAuroc)} |\n");
            sb.Append("\nThe full report with ROC curves, confusion matrix, learning curves and the early-classification curve is `evaluation.html` (numbers in `evaluation.json`).\n");
        }

        sb.Append('\n').Append(Limits(train, test)).Append('\n');
        return sb.ToString();
    }

    /// <summary>A class with fewer training objects than this is named in the card's limits.</summary>
    public const int FewTrainingObjects = 50;

    /// <summary>
    /// The card's limits, from this run's counts: it named SLSN-I and TDE as the classes with few training objects and
    /// called the test part small whatever the classes and counts were (until 2026-12-07).
    /// </summary>
    public static string Limits(EncodedDataset train, EncodedDataset? test)
    {
        ArgumentNullException.ThrowIfNull(train);
        var inv = CultureInfo.InvariantCulture;
        var counts = train.ClassCounts();
        var few = new List<string>();
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] < FewTrainingObjects)
            {
                few.Add(string.Create(inv, $"{train.Classes[i]} {counts[i]}"));
            }
        }

        var sb = new StringBuilder("Limits: ");
        sb.Append(few.Count > 0
            ? string.Create(inv, $"classes with fewer than {FewTrainingObjects} training objects ({string.Join(", ", few)}) have unstable scores; ")
            : string.Create(inv, $"every class has {FewTrainingObjects} or more training objects; "));
        sb.Append(test is null
            ? "there is no test part, so no held-out scores. "
            : string.Create(inv, $"the test part holds {test.Count} objects ({Counts(test)}), and a class's scores rest on its test objects alone. "));
        sb.Append("Scores are per light curve as observed, not calibrated probabilities.");
        return sb.ToString();
    }

    /// <summary>How <c>model.json</c> and the card name the class weights: none, N/N_c, sqrt(N/N_c) or (N/N_c)^power.</summary>
    public static string ClassWeightText(TrainingOptions options) =>
        !options.WeightClasses || options.ClassWeightPower == 0 ? "none" : options.ClassWeightPower == 1 ? "N/N_c" : options.ClassWeightPower == 0.5 ? "sqrt(N/N_c)" : string.Create(CultureInfo.InvariantCulture, $"(N/N_c)^{options.ClassWeightPower}");
}
