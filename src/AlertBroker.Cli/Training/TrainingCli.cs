using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;
using AlertBroker.Training.Training;
using Spectre.Console;

namespace AlertBroker.Cli.Training;

/// <summary>Options and the shared train → evaluate → export flow of <c>train</c> and <c>finetune</c>.</summary>
internal sealed class TrainingCli
{
    public Option<string[]> Data { get; } = new("--data") { Description = "Light-curve CSV pairs (a *_lightcurves.csv[.gz] file or a directory holding one), or alert files/directories/archives with --labels.", AllowMultipleArgumentsPerToken = true };

    public Option<string?> Labels { get; } = new("--labels") { Description = "Labels CSV (object_id,class[,redshift,mwebv]): --data are then alert files, directories or archives." };

    public Option<string?> Survey { get; } = new("--survey") { Description = "Survey of the CSV bands: ztf, lsst or des (default: from the file name)." };

    public Option<string?> ClassMap { get; } = new("--class-map") { Description = "Class-mapping file: lines 'from,to' (merge) or 'from,-' (drop); '*,-' drops unnamed classes." };

    public Option<string?> Classes { get; } = new("--classes") { Description = "Comma-separated class list and order (default: by frequency, or the base model's)." };

    public Option<int> MaxSteps { get; } = new("--max-steps") { Description = "Keep at most the first N observations of each light curve.", DefaultValueFactory = _ => 100 };

    public Option<bool> DetectionsOnly { get; } = new("--detections-only") { Description = "Drop points below the detection threshold (S/N 5), as in alert photometry." };

    public Option<string> RedshiftColumn { get; } = new("--redshift-column") { Description = "Metadata column used as redshift (redshift, host_photoz or none).", DefaultValueFactory = _ => "redshift" };

    public Option<bool> NoMeta { get; } = new("--no-meta") { Description = "Train without the metadata branch (redshift, MW E(B−V))." };

    public Option<double> Validation { get; } = new("--val") { Description = "Validation fraction (stratified by class, by object).", DefaultValueFactory = _ => 0.15 };

    public Option<double> Test { get; } = new("--test") { Description = "Test fraction held out for the final evaluation.", DefaultValueFactory = _ => 0.15 };

    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of splits, initial weights and shuffling.", DefaultValueFactory = _ => 1UL };

    public Option<int> Epochs { get; } = new("--epochs") { Description = "Maximum epochs.", DefaultValueFactory = _ => 50 };

    public Option<int> Batch { get; } = new("--batch") { Description = "Mini-batch size.", DefaultValueFactory = _ => 128 };

    public Option<float?> LearningRate { get; } = new("--lr") { Description = "Adam learning rate (default 1e-3; finetune 1e-4)." };

    public Option<int> Patience { get; } = new("--patience") { Description = "Early-stopping patience in epochs (validation loss); 0 = off.", DefaultValueFactory = _ => 5 };

    public Option<int> Threads { get; } = new("--threads") { Description = "Threads (batch shards).", DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 1, 2) };

    public Option<string?> Checkpoints { get; } = new("--checkpoints") { Description = "Directory for per-epoch checkpoints (last.weights, best.weights)." };

    public Option<string?> Out { get; } = new("--out") { Description = "Package directory to write (models/<name>/<version>)." };

    public Option<string?> Name { get; } = new("--name") { Description = "Model name (default: from --out)." };

    public Option<string?> Version { get; } = new("--version") { Description = "Model version (default: from --out)." };

    public Option<bool> Unweighted { get; } = new("--unweighted") { Description = "Plain cross-entropy instead of the class-weighted one (weight N/N_c)." };

    public Option<bool> Quiet { get; } = new("--quiet") { Description = "No progress display (one line per epoch on stderr)." };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Data, Labels, Survey, ClassMap, Classes, MaxSteps, DetectionsOnly, RedshiftColumn, NoMeta, Validation, Test, Seed, Epochs, Batch, LearningRate, Patience, Threads, Checkpoints, Out, Name, Version, Unweighted, Quiet })
        {
            command.Options.Add(o);
        }
    }

    public LabelledDataset LoadData(ParseResult parse, CancellationToken ct, bool? detectionsOnly = null)
    {
        var paths = parse.GetValue(Data) ?? [];
        if (paths.Length == 0)
        {
            throw new ArgumentException("--data is required.");
        }

        var mapFile = parse.GetValue(ClassMap);
        var options = new CsvReadOptions
        {
            Survey = parse.GetValue(Survey),
            DetectionsOnly = detectionsOnly ?? parse.GetValue(DetectionsOnly),
            RedshiftColumn = parse.GetValue(RedshiftColumn) ?? "redshift",
        };
        return DatasetLoader.Load(paths, parse.GetValue(Labels), options, mapFile is null ? null : ClassMapping.Load(mapFile), ct);
    }

    public EncodingOptions Encoding(ParseResult parse) => new() { MaxSteps = parse.GetValue(MaxSteps), UseMetadata = !parse.GetValue(NoMeta) };

    /// <summary>
    /// Encodes, splits, trains from <paramref name="initial"/>, evaluates on the test part and exports the package.
    /// </summary>
    public int Run(ParseResult parse, LabelledDataset data, IReadOnlyList<string> classes, Func<IReadOnlyList<string>, GruClassifierWeights> initial, TrainableLayers trainable, float defaultLearningRate, JsonObject provenance, CancellationToken ct)
    {
        var console = CliHelpers.Stderr;
        var encoded = EncodedDataset.Encode(data, classes, Encoding(parse));
        if (encoded.Count == 0)
        {
            console.MarkupLine("[red]no objects of the chosen classes have observations[/]");
            return 1;
        }

        var seed = parse.GetValue(Seed);
        var split = DatasetSplit.Stratified(encoded.Labels, parse.GetValue(Validation), parse.GetValue(Test), seed);
        var train = encoded.Subset(split.Train);
        var validation = split.Validation.Length > 0 ? encoded.Subset(split.Validation) : null;
        var test = split.Test.Length > 0 ? encoded.Subset(split.Test) : null;
        console.MarkupLine($"[grey]{encoded.Count} objects ({Counts(encoded)}); train {train.Count}, validation {validation?.Count ?? 0}, test {test?.Count ?? 0}; {encoded.TotalSteps} steps[/]");

        var weights = initial(classes);
        var options = new TrainingOptions
        {
            MaxEpochs = parse.GetValue(Epochs),
            BatchSize = parse.GetValue(Batch),
            LearningRate = parse.GetValue(LearningRate) ?? defaultLearningRate,
            Patience = parse.GetValue(Patience),
            Seed = seed,
            Threads = parse.GetValue(Threads),
            Trainable = trainable,
            CheckpointDirectory = parse.GetValue(Checkpoints),
            WeightClasses = !parse.GetValue(Unweighted),
        };
        console.MarkupLine($"[grey]training {Markup.Escape(trainable.ToString())} of {weights.ParameterCount} parameters, lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {options.BatchSize}, {options.Threads} thread(s)[/]");
        var result = TrainWithProgress(weights, train, validation, options, parse.GetValue(Quiet), ct);
        console.MarkupLine($"[green]best epoch {result.BestEpoch}[/] of {result.History.Count}{(result.StoppedEarly ? " (early stop)" : string.Empty)}");

        var report = test is not null ? EvaluationReport.Evaluate(result.Weights, test, options.Threads) : null;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal) { ["bestEpoch"] = result.BestEpoch, ["epochs"] = result.History.Count };
        if (report is not null)
        {
            metrics["testMacroAuroc"] = report.MacroAuroc;
            metrics["testMacroF1"] = report.MacroF1;
            metrics["testAccuracy"] = report.Accuracy;
            console.MarkupLine($"test: macro AUROC [bold]{report.MacroAuroc:0.000}[/], macro F1 {report.MacroF1:0.000}, accuracy {report.Accuracy:0.000} ({test!.Count} objects)");
        }

        var outDir = parse.GetValue(Out);
        if (outDir is null)
        {
            console.MarkupLine("[yellow]no --out: nothing exported[/]");
            return 0;
        }

        var full = Path.GetFullPath(outDir);
        var version = parse.GetValue(Version) ?? Path.GetFileName(full);
        var name = parse.GetValue(Name) ?? Path.GetFileName(Path.GetDirectoryName(full)) ?? "model";
        provenance["split"] = new JsonObject
        {
            ["seed"] = seed,
            ["validationFraction"] = parse.GetValue(Validation),
            ["testFraction"] = parse.GetValue(Test),
            ["train"] = train.Count,
            ["validation"] = validation?.Count ?? 0,
            ["test"] = test?.Count ?? 0,
        };
        provenance["encoding"] = new JsonObject { ["maxSteps"] = parse.GetValue(MaxSteps), ["metadata"] = !parse.GetValue(NoMeta), ["detectionsOnly"] = parse.GetValue(DetectionsOnly) };
        provenance["trainable"] = trainable.ToString();
        provenance["learningRate"] = options.LearningRate;
        provenance["classCounts"] = ModelIo.Describe(data.Name, encoded, "all")["classCounts"]!.DeepClone();
        var manifest = ModelIo.Export(result.Weights, classes, name, version, full, provenance, metrics, result.History);
        if (report is not null)
        {
            ReportWriter.Write(report with { Model = $"{name} {version}", Data = data.Name + " (test split)", History = result.History }, full);
        }

        File.WriteAllText(Path.Combine(full, "MODEL_CARD.md"), ModelCard(manifest.Name, manifest.Version, classes, data.Name, train, validation, test, options, result, report));
        console.MarkupLine($"[green]exported[/] {Markup.Escape(full)} (sha256 {manifest.Onnx.Sha256[..12]}…)");
        return 0;
    }

    public static TrainingResult TrainWithProgress(GruClassifierWeights weights, EncodedDataset train, EncodedDataset? validation, TrainingOptions options, bool quiet, CancellationToken ct)
    {
        var console = CliHelpers.Stderr;
        if (quiet || !console.Profile.Capabilities.Interactive)
        {
            return GruTrainer.Train(weights, train, validation, options, new LineProgress(console), ct);
        }

        TrainingResult? result = null;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("epoch 1", maxValue: options.MaxEpochs);
                result = GruTrainer.Train(weights, train, validation, options, new SpectreProgress(task, options.MaxEpochs), ct);
                task.Value = task.MaxValue;
            });
        return result!;
    }

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

    private static string ModelCard(string name, string version, IReadOnlyList<string> classes, string source, EncodedDataset train, EncodedDataset? validation, EncodedDataset? test, TrainingOptions options, TrainingResult result, EvaluationReport? report)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"# Model card: {name} {version}\n\n");
        sb.Append("GRU classifier (two GRU layers of 100 → dense 100 tanh; metadata → dense 10 tanh; merge 100 ReLU → latent 100 ReLU → softmax), ");
        sb.Append("feature encoding `alertbroker-lc` v1, trained by `AlertBroker.Training`.\n\n");
        sb.Append(inv, $"- classes: {string.Join(", ", classes)}\n");
        sb.Append(inv, $"- data: `{source}`\n");
        sb.Append(inv, $"- objects: train {train.Count} ({Counts(train)}), validation {validation?.Count ?? 0}, test {test?.Count ?? 0}\n");
        sb.Append(inv, $"- training: layers `{options.Trainable}`, Adam lr {options.LearningRate}, batch {options.BatchSize}, seed {options.Seed}, best epoch {result.BestEpoch} of {result.History.Count}{(result.StoppedEarly ? " (early stopping, patience " + options.Patience + ")" : string.Empty)}\n");
        if (report is not null)
        {
            sb.Append(inv, $"- test (held-out, full light curves): macro AUROC {report.MacroAuroc:0.000}, macro F1 {report.MacroF1:0.000}, accuracy {report.Accuracy:0.000}\n\n");
            sb.Append("| class | support | precision | recall | AUROC |\n|---|---:|---:|---:|---:|\n");
            foreach (var c in report.PerClass)
            {
                sb.Append(inv, $"| {c.Class} | {c.Support} | {c.Precision:0.000} | {c.Recall:0.000} | {c.Auroc:0.000} |\n");
            }

            sb.Append("\nThe full report with ROC curves, confusion matrix, learning curves and the early-classification curve is `evaluation.html` (numbers in `evaluation.json`).\n");
        }

        sb.Append("\nLimits: classes with few training objects (SLSN-I, TDE) have unstable scores; the test split is small. Scores are per light curve as observed, not calibrated probabilities.\n");
        return sb.ToString();
    }

    private sealed class SpectreProgress(ProgressTask task, int maxEpochs) : ITrainingProgress
    {
        private string _last = string.Empty;

        public void OnBatch(int epoch, int batch, int batches, double loss)
        {
            task.Description = $"epoch {epoch}/{maxEpochs} batch {batch}/{batches} loss {loss:0.000}{_last}";
            task.Value = epoch - 1 + ((double)batch / batches);
        }

        public void OnEpoch(EpochRecord record)
        {
            _last = double.IsNaN(record.ValidationLoss) ? string.Empty : $" | val loss {record.ValidationLoss:0.000} AUROC {record.ValidationMacroAuroc:0.000}";
            task.Value = record.Epoch;
        }
    }

    private sealed class LineProgress(IAnsiConsole console) : ITrainingProgress
    {
        public void OnBatch(int epoch, int batch, int batches, double loss)
        {
        }

        public void OnEpoch(EpochRecord r) =>
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch}: train loss {r.TrainLoss:0.0000}, val loss {r.ValidationLoss:0.0000}, val acc {r.ValidationAccuracy:0.000}, val macro AUROC {r.ValidationMacroAuroc:0.000}, {r.Seconds:0.0} s"));
    }
}
