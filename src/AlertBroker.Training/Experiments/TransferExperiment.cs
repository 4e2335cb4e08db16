using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Experiments;

/// <summary>One data set the base model is transferred to.</summary>
/// <param name="Name">Short name ("ztf-bts").</param>
/// <param name="Description">What it is, for the report.</param>
/// <param name="Path">CSV pair (file or directory).</param>
/// <param name="Survey">Survey of its bands (ztf, lsst, des).</param>
/// <param name="Classes">Classes used, in order.</param>
/// <param name="MaxPool">Cap on the training pool (objects outside the test set); 0 = no cap.</param>
/// <param name="TestIds">File of held-out object ids (<see cref="HoldoutIds"/>) used as the fixed test part instead of the seeded 30% split.</param>
public sealed record TransferTarget(string Name, string Description, string Path, string Survey, IReadOnlyList<string> Classes, int MaxPool = 0, string? TestIds = null);

/// <summary>
/// Puts a package in place: runs <paramref name="write"/> on a directory, which writes the package's files there, and
/// makes what it wrote <paramref name="target"/>.
/// </summary>
public delegate ModelManifest PackageWriter(string target, Func<string, ModelManifest> write);

/// <summary>Settings of <see cref="TransferExperiment"/>.</summary>
public sealed record TransferExperimentOptions
{
    /// <summary>The base training set (ZTF simulations, CSV pair).</summary>
    public required string BaseData { get; init; }

    /// <summary>Existing base package to reuse instead of training one (must use <see cref="BaseClasses"/>).</summary>
    public string? BaseModel { get; init; }

    public IReadOnlyList<string> BaseClasses { get; init; } = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];

    /// <summary>Base objects used (0 = all).</summary>
    public int BaseObjects { get; init; }

    public int BaseMaxEpochs { get; init; } = 25;

    public required IReadOnlyList<TransferTarget> Targets { get; init; }

    public int Seeds { get; init; } = 3;

    /// <summary>Training-set sizes as fractions of each target's pool; sizes below 1 are absolute counts when ≥ 1.</summary>
    public IReadOnlyList<double> Sizes { get; init; } = [100, 200, 0.3, 0.6, 1.0];

    public int MaxEpochs { get; init; } = 60;

    /// <summary>Which runs to make per size and seed (see the mode constants of <see cref="TransferExperiment"/>).</summary>
    public IReadOnlyList<string> Modes { get; init; } = [TransferExperiment.Scratch, TransferExperiment.Head, TransferExperiment.All];

    /// <summary>Epochs of the <see cref="TransferExperiment.ScratchLong"/> runs (no early stopping, last weights).</summary>
    public int LongEpochs { get; init; } = 50;

    /// <summary>Mini-batch size of the target runs (small sets need more steps per epoch than batch 128 gives).</summary>
    public int TargetBatchSize { get; init; } = 32;

    public int Patience { get; init; } = 5;

    /// <summary>Held-out share of each target, fixed across runs.</summary>
    public double TestFraction { get; init; } = 0.3;

    /// <summary>Share of each training subset used for early stopping.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    public int MaxSteps { get; init; } = 100;

    /// <summary>Use only detections (S/N ≥ 5) of every set, as alert photometry is.</summary>
    public bool DetectionsOnly { get; init; } = true;

    public float ScratchLearningRate { get; init; } = 1e-3f;

    public float HeadLearningRate { get; init; } = 1e-3f;

    public float AllLearningRate { get; init; } = 1e-4f;

    /// <summary>Learning rate of the <see cref="TransferExperiment.AllFast"/> runs (all layers at the scratch rate).</summary>
    public float AllFastLearningRate { get; init; } = 1e-3f;

    public int Threads { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 2);

    public required string OutputDirectory { get; init; }

    /// <summary>Where to export the base and the model fine-tuned on the first target (null = do not export).</summary>
    public string? ModelsDirectory { get; init; }

    public string ModelVersion { get; init; } = "1.0.0";

    /// <summary>
    /// How the packages under <see cref="ModelsDirectory"/> are put in place. The CLI passes its staged writer (as
    /// <c>train</c> and <c>finetune</c> use), so that a run stopped or failing while it exports leaves no half-written
    /// package; null writes into the target directory itself.
    /// </summary>
    [JsonIgnore]
    public PackageWriter? WritePackage { get; init; }

    /// <summary>Which steps carry the loss in every run (base and targets).</summary>
    public StepLoss StepLoss { get; init; } = StepLoss.AllSteps;

    /// <summary>
    /// The conditions every run is made in: <see cref="TransferExperiment.Stream"/> (networks without the metadata branch,
    /// data without redshift or E(B−V): what alerts carry) and/or <see cref="TransferExperiment.Redshift"/> (with the data's
    /// redshift and E(B−V)). Each has its own base (<see cref="BaseModel"/>, <see cref="RedshiftBaseModel"/>).
    /// </summary>
    public IReadOnlyList<string> Conditions { get; init; } = [TransferExperiment.Stream];

    /// <summary>Base package for the <see cref="TransferExperiment.Redshift"/> condition (needs the metadata branch); null: <see cref="BaseModel"/>, else one is trained.</summary>
    public string? RedshiftBaseModel { get; init; }

    /// <summary>Seeds a point needs before it can carry a headline claim (<see cref="TransferClaims"/>).</summary>
    public int MinSeedsForClaim { get; init; } = TransferClaims.DefaultMinSeeds;
}

/// <summary>One training run of the experiment; <see cref="EarlyMacroAuroc"/> holds the test macro AUROC at <see cref="EarlyCurve.Days"/>.</summary>
public sealed record TransferRun(string Target, string Mode, int Size, int Seed, double TestMacroAuroc, double TestAccuracy, int BestEpoch, int Epochs, double Seconds, IReadOnlyList<double>? EarlyMacroAuroc = null, string Condition = TransferExperiment.Stream);

/// <summary>Median and spread over seeds of one (target, condition, mode, size); the early figures at <see cref="EarlyCurve.Days"/>.</summary>
public sealed record TransferPoint(string Target, string Mode, int Size, double Median, double Min, double Max, double MedianBestEpoch, int Runs, IReadOnlyList<double>? EarlyMedian = null, IReadOnlyList<double>? EarlyMin = null, IReadOnlyList<double>? EarlyMax = null, string Condition = TransferExperiment.Stream, double MinBestEpoch = double.NaN, double MaxBestEpoch = double.NaN)
{
    /// <summary>The whole-light-curve macro AUROC over seeds.</summary>
    public SeedRange Whole() => new(Median, Min, Max, Runs);

    /// <summary>The macro AUROC over seeds <paramref name="days"/> after first detection (<see cref="SeedRange.None"/> when not measured).</summary>
    public SeedRange AtDay(double days)
    {
        var i = EarlyCurve.Days.ToList().IndexOf(days);
        return i < 0 || EarlyMedian is null || EarlyMin is null || EarlyMax is null ? SeedRange.None : new(EarlyMedian[i], EarlyMin[i], EarlyMax[i], Runs);
    }

    /// <summary>Epochs to the best validation over seeds.</summary>
    public SeedRange BestEpochs() => new(MedianBestEpoch, MinBestEpoch, MaxBestEpoch, Runs);
}

/// <summary>
/// The comparison of one way of transferring with scratch, for one target and condition, on which the headline claims
/// rest (<see cref="TransferClaims"/>): both with all data (whole light curve, 10 days, best epochs), the smallest size
/// from which transfer is above scratch-on-all on every seed (whole, 10 days), the sizes where it is above/below
/// scratch at the same size, the share of epochs saved where supported, and its own AUROC at 30% of the pool over its
/// AUROC with all of it (a median ratio: descriptive, not a claim). <see cref="Claims"/>: the sentences.
/// </summary>
public sealed record TransferHeadline(
    string Target,
    string Condition,
    string Mode,
    int Pool,
    int SmallestSize,
    SeedRange ScratchAll,
    SeedRange ModeAll,
    SeedRange ScratchAllDay10,
    SeedRange ModeAllDay10,
    int? SizeBeatingScratchAll,
    int? SizeBeatingScratchAllDay10,
    IReadOnlyList<int> BetterAtSizes,
    IReadOnlyList<int> WorseAtSizes,
    SeedRange ScratchEpochs,
    SeedRange ModeEpochs,
    double? FewerEpochs,
    double OwnShareAt30)
{
    public IReadOnlyList<string> Claims { get; init; } = [];
}

/// <summary>Everything the experiment measured.</summary>
public sealed record TransferResults(
    string Started,
    TransferExperimentOptions Options,
    JsonObject Base,
    IReadOnlyList<TransferRun> Runs,
    IReadOnlyList<TransferPoint> Points,
    IReadOnlyList<TransferHeadline> Headlines,
    IReadOnlyDictionary<string, double> ZeroShot,
    IReadOnlyDictionary<string, int> PoolSizes,
    IReadOnlyDictionary<string, int> TestSizes);

/// <summary>
/// The paper's experiment (Muthukrishna &amp; Gupta 2025) with our data: a base model trained on simulated ZTF light
/// curves, then, for each target set, condition (no redshift / with redshift), training size and seed, a model from
/// scratch against the base fine-tuned (latent + output, and all layers), scored by macro AUROC on a fixed held-out
/// part of the target, on whole light curves and at days after first detection. Headline claims follow
/// <see cref="TransferClaims"/>: only where the seeds' ranges do not overlap.
/// </summary>
public static class TransferExperiment
{
    public const string Scratch = "scratch";
    public const string Head = "transfer latent+output";
    public const string All = "transfer all layers";

    /// <summary>All layers fine-tuned at the from-scratch learning rate (a sensitivity check of <see cref="All"/>).</summary>
    public const string AllFast = "transfer all layers, lr 1e-3";

    /// <summary>A sanity baseline: from scratch for a fixed number of epochs, no early stopping, last weights.</summary>
    public const string ScratchLong = "scratch, fixed epochs";

    /// <summary>Stream conditions: no metadata branch, no redshift or E(B−V) (what alerts carry).</summary>
    public const string Stream = "stream";

    /// <summary>With the data's redshift and Milky Way E(B−V) (networks with the metadata branch).</summary>
    public const string Redshift = "redshift";

    /// <summary>How a condition is named in tables.</summary>
    public static string ConditionLabel(string condition) => condition == Redshift ? "with redshift" : "no redshift";

    /// <summary>The key of <see cref="TransferResults.ZeroShot"/>: target and condition.</summary>
    public static string Key(string target, string condition) => target + "/" + condition;

    public static TransferResults Run(TransferExperimentOptions options, Action<string> log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (options.Conditions.Count == 0 || options.Conditions.Any(c => c is not (Stream or Redshift)))
        {
            throw new ArgumentException($"Conditions must be '{Stream}' and/or '{Redshift}'.");
        }

        var started = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture);
        var csv = new CsvReadOptions { DetectionsOnly = options.DetectionsOnly };

        // 1. A base model per condition: reused, or trained on the ZTF simulations. Every set of a condition is encoded
        // with its base's feature encoding, the scratch runs included, so that both start from the same features: the
        // targets were encoded with alertbroker-lc whatever the base's, and a muthukrishna2025 base (4 features per step)
        // read the first 4 of every 6-feature step.
        var bases = new Dictionary<string, TrainedModel>(StringComparer.Ordinal);
        var encodings = new Dictionary<string, IStepEncoding>(StringComparer.Ordinal);
        var baseInfo = new JsonObject();
        foreach (var condition in options.Conditions)
        {
            var info = new JsonObject();
            bases[condition] = BaseFor(options, condition, condition == options.Conditions[0], csv, info, log, cancellationToken);
            encodings[condition] = ModelIo.EncodingOf(bases[condition].Manifest);
            info["encoding"] = encodings[condition].Id.ToString();
            baseInfo[condition] = info;
        }

        // 2. Each target: conditions × seeds × sizes × modes.
        var runs = new List<TransferRun>();
        var zeroShot = new Dictionary<string, double>(StringComparer.Ordinal);
        var pools = new Dictionary<string, int>(StringComparer.Ordinal);
        var tests = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var ti = 0; ti < options.Targets.Count; ti++)
        {
            var target = options.Targets[ti];
            var raw = LightCurveCsvReader.Read(target.Path, csv with { Survey = target.Survey });
            LogReading(target.Name, raw, log);
            foreach (var condition in options.Conditions)
            {
                var useMeta = condition == Redshift;
                var baseModel = bases[condition];
                var encoding = encodings[condition];
                var encoded = EncodedDataset.Encode(raw, target.Classes, new EncodingOptions { MaxSteps = options.MaxSteps, Metadata = useMeta ? MetadataUse.Known : MetadataUse.None, Encoding = encoding });
                if (condition == options.Conditions[0] && encoded.LeftOut.Total > 0)
                {
                    log($"{target.Name}: {encoded.LeftOut.Describe(encoded.Classes)}");
                }

                // One class has nothing to tell apart (the runs reported AUROC NaN, exit 0), and none was "macro AUROC NaN"
                // before "The training set is empty": refused as train refuses it, before anything is trained.
                if (encoded.Labels.Distinct().Count() is var present and < 2)
                {
                    var held = present == 0 ? "no object of its classes" : $"objects of one class only ({encoded.Classes[encoded.Labels[0]]} {encoded.Count})";
                    throw new InvalidDataException($"{target.Name}: a classifier needs at least two classes; {target.Path} holds {held}: give data with objects of at least two of {string.Join(", ", target.Classes)}");
                }

                var (test, pool) = TestAndPool(options, target, encoded);
                pools[target.Name] = pool.Length;
                tests[target.Name] = test.Count;
                var sizes = Sizes(options.Sizes, pool.Length, out var dropped);
                log($"{target.Name} ({ConditionLabel(condition)}): {encoded.Count} objects, test {test.Count}, pool {pool.Length}; sizes {string.Join(", ", sizes)}{(dropped.Count > 0 ? $" (not run: {string.Join("; ", dropped)})" : string.Empty)}");
                var zero = ModelIo.AdaptHead(baseModel, target.Classes, replaceHead: false, seed: 1);
                var zeroReport = EvaluationReport.Evaluate(zero, test, options.Threads);
                zeroShot[Key(target.Name, condition)] = zeroReport.MacroAuroc;
                log($"{target.Name} ({ConditionLabel(condition)}): base model without fine-tuning: macro AUROC {zeroReport.MacroAuroc:0.000}");

                for (var seed = 0; seed < options.Seeds; seed++)
                {
                    foreach (var size in sizes)
                    {
                        var subset = DatasetSplit.Subsample(pool, encoded.LabelsInternal, size, (ulong)(1000 + seed));
                        var subsetLabels = new int[subset.Length];
                        for (var i = 0; i < subset.Length; i++)
                        {
                            subsetLabels[i] = encoded.LabelsInternal[subset[i]];
                        }

                        var inner = DatasetSplit.Stratified(subsetLabels, options.ValidationFraction, 0, (ulong)(2000 + seed));
                        var fit = encoded.Subset(Pick(subset, inner.Train));
                        var val = encoded.Subset(Pick(subset, inner.Validation));
                        foreach (var mode in options.Modes)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            var (initial, trainable, lr) = mode switch
                            {
                                Scratch or ScratchLong => (GruClassifierWeights.Random(ModelIo.DefaultConfig(target.Classes.Count, useMeta, encoding), 100 + seed), TrainableLayers.All, options.ScratchLearningRate),
                                Head => (ModelIo.AdaptHead(baseModel, target.Classes, false, (ulong)(100 + seed)), TrainableLayers.Parse("latent,output"), options.HeadLearningRate),
                                AllFast => (ModelIo.AdaptHead(baseModel, target.Classes, false, (ulong)(100 + seed)), TrainableLayers.All, options.AllFastLearningRate),
                                _ => (ModelIo.AdaptHead(baseModel, target.Classes, false, (ulong)(100 + seed)), TrainableLayers.All, options.AllLearningRate),
                            };
                            var clock = Stopwatch.StartNew();
                            var longRun = mode == ScratchLong;
                            var training = new TrainingOptions
                            {
                                MaxEpochs = longRun ? options.LongEpochs : options.MaxEpochs,
                                Patience = longRun ? 0 : options.Patience,
                                RestoreBest = !longRun,
                                BatchSize = options.TargetBatchSize,
                                LearningRate = lr,
                                Seed = (ulong)(3000 + seed),
                                Trainable = trainable,
                                Threads = options.Threads,
                                StepLoss = options.StepLoss,
                            };
                            var result = GruTrainer.Train(initial, fit, val, training, null, cancellationToken);
                            var report = EvaluationReport.Evaluate(result.Weights, test, options.Threads);
                            var run = new TransferRun(target.Name, mode, size, seed, report.MacroAuroc, report.Accuracy, result.BestEpoch, result.History.Count, clock.Elapsed.TotalSeconds, [.. report.Early.Select(p => p.MacroAuroc)], condition);
                            runs.Add(run);
                            log(string.Create(CultureInfo.InvariantCulture, $"{target.Name} {condition} seed {seed} size {size,5} {mode,-24} AUROC {run.TestMacroAuroc:0.000} (10 d {report.Early.FirstOrDefault(p => p.Days == 10)?.MacroAuroc ?? double.NaN:0.000}) acc {run.TestAccuracy:0.000} best epoch {run.BestEpoch,3}/{run.Epochs,3} {run.Seconds,6:0.0} s"));

                            if (ti == 0 && seed == 0 && size == pool.Length && mode == All && condition == options.Conditions[0] && options.ModelsDirectory is not null)
                            {
                                // The base, split and class weights as finetune records them: the base was named "ztf-sim-base
                                // VERSION" whatever --base gave (and as a string, which models average cannot tie members by), the
                                // validation fraction was 0 although a validation part was drawn, and no class weights were said.
                                var dir = System.IO.Path.Combine(options.ModelsDirectory, target.Name, options.ModelVersion);
                                var holdout = target.TestIds is not null ? HoldoutIds.Read(target.TestIds) : null;
                                var data = ModelIo.Describe(target.Path, fit, "fit");
                                data["mode"] = "finetune";
                                data["base"] = BaseReference(baseModel, options);
                                data["baseMetadataDropped"] = baseInfo[condition]?["metadataDropped"] is not null;
                                data["trainable"] = "all";
                                data["learningRate"] = lr;
                                data["batch"] = options.TargetBatchSize;
                                data["classWeights"] = ModelCard.ClassWeightText(training);
                                data["validation"] = val.Count;
                                data["test"] = test.Count;
                                data["split"] = new JsonObject
                                {
                                    ["seed"] = holdout is null ? 12345 : null,
                                    ["testFraction"] = holdout is null ? options.TestFraction : null,
                                    ["testIds"] = holdout?.Source,
                                    ["testIdsSha256"] = holdout?.Sha256,
                                    ["validationFraction"] = options.ValidationFraction,
                                    ["validationSeed"] = 2000 + seed,
                                    ["train"] = fit.Count,
                                    ["validation"] = val.Count,
                                    ["test"] = test.Count,
                                };
                                data["encoding"] = new JsonObject { ["name"] = encoding.Id.Name, ["version"] = encoding.Id.Version, ["maxSteps"] = options.MaxSteps, ["metadata"] = useMeta, ["detectionsOnly"] = options.DetectionsOnly };
                                data["stepLoss"] = options.StepLoss.ToString();
                                ExportPackage(options, dir, staging =>
                                {
                                    var written = ModelIo.Export(result.Weights, target.Classes, target.Name, options.ModelVersion, staging, data, new Dictionary<string, double> { ["testMacroAuroc"] = report.MacroAuroc, ["testMacroF1"] = report.MacroF1, ["testAccuracy"] = report.Accuracy, ["bestEpoch"] = result.BestEpoch }, result.History, [target.Survey], encoding);
                                    ReportWriter.Write(report with { Model = target.Name + " " + options.ModelVersion, Data = target.Path + " (held-out test part)", History = result.History }, staging);
                                    File.WriteAllText(System.IO.Path.Combine(staging, ModelCard.FileName), ModelCard.Text(written, target.Classes, target.Path, fit, val, test, training, result, report, holdout));
                                    return written;
                                });
                                log($"{target.Name}: exported the fine-tuned model to {dir}");
                            }
                        }
                    }

                    // Partial results after every seed, so a long run that is stopped still leaves numbers.
                    var partial = Summarise(started, options, baseInfo, runs, zeroShot, pools, tests);
                    Write(partial, options.OutputDirectory);
                }
            }
        }

        var results = Summarise(started, options, baseInfo, runs, zeroShot, pools, tests);
        Write(results, options.OutputDirectory);
        return results;
    }

    private static TrainedModel BaseFor(TransferExperimentOptions options, string condition, bool export, CsvReadOptions csv, JsonObject info, Action<string> log, CancellationToken cancellationToken)
    {
        var useMeta = condition == Redshift;
        var path = useMeta ? options.RedshiftBaseModel ?? options.BaseModel : options.BaseModel;
        if (path is not null && !File.Exists(System.IO.Path.Combine(path, "model.json")))
        {
            // It fell back to training a new base: a given base that is not a package is a mistake, not a request.
            throw new ArgumentException($"{path} is not a model package: a base needs a NAME/VERSION directory holding model.json.");
        }

        if (path is not null)
        {
            var model = ModelIo.LoadPackage(path);
            if (!useMeta && model.Weights.Config.MetaFeatures > 0)
            {
                model = model with { Weights = ModelIo.WithoutMetadata(model.Weights) };
                info["metadataDropped"] = true;
            }
            else if (useMeta && model.Weights.Config.MetaFeatures == 0)
            {
                throw new ArgumentException($"{path} has no metadata branch: the '{Redshift}' condition needs a base with one (--base-redshift).");
            }

            info["reused"] = path;
            info["metrics"] = JsonSerializer.SerializeToNode(model.Manifest?.Training.Metrics, ReportWriter.JsonOptions);
            log($"base ({ConditionLabel(condition)}): reusing {path} (feature encoding {ModelIo.EncodingOf(model.Manifest).Id}; the targets are encoded with it)");
            if (model.Manifest is { } manifest && manifest.EffectiveDetectionsOnly != options.DetectionsOnly)
            {
                // Not a misalignment (the features are the same), but the base saw other points than the targets give it.
                log($"base ({ConditionLabel(condition)}): {path} was trained on {(manifest.EffectiveDetectionsOnly ? "detections only" : "every point")}; the experiment reads {(options.DetectionsOnly ? "detections only" : "every point")}");
            }

            return model;
        }

        var sim = LightCurveCsvReader.Read(options.BaseData, csv with { Survey = "ztf" });
        LogReading("base", sim, log);
        var encoded = EncodedDataset.Encode(sim, options.BaseClasses, new EncodingOptions { MaxSteps = options.MaxSteps, Metadata = useMeta ? MetadataUse.Known : MetadataUse.None });
        if (encoded.LeftOut.Total > 0)
        {
            log($"base: {encoded.LeftOut.Describe(encoded.Classes)}");
        }

        if (options.BaseObjects > 0 && options.BaseObjects < encoded.Count)
        {
            var all = Enumerable.Range(0, encoded.Count).ToArray();
            encoded = encoded.Subset(DatasetSplit.Subsample(all, encoded.LabelsInternal, options.BaseObjects, 99));
        }

        const double BaseValidation = 0.1, BaseTest = 0.1;
        var split = DatasetSplit.Stratified(encoded.Labels, BaseValidation, BaseTest, 1);
        var train = encoded.Subset(split.Train);
        var val = encoded.Subset(split.Validation);
        var test = encoded.Subset(split.Test);
        log($"base ({ConditionLabel(condition)}): training on {train.Count} simulated ZTF objects ({encoded.TotalSteps} steps in all)");
        var clock = Stopwatch.StartNew();
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(options.BaseClasses.Count, useMeta), 1);
        var training = new TrainingOptions { MaxEpochs = options.BaseMaxEpochs, Patience = options.Patience, Seed = 1, Threads = options.Threads, StepLoss = options.StepLoss };
        var result = GruTrainer.Train(weights, train, val, training, new LogProgress(log, "base"), cancellationToken);
        var report = EvaluationReport.Evaluate(result.Weights, test, options.Threads);
        info["objects"] = encoded.Count;
        info["train"] = train.Count;
        info["bestEpoch"] = result.BestEpoch;
        info["epochs"] = result.History.Count;
        info["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        info["testMacroAuroc"] = Math.Round(report.MacroAuroc, 4);
        log($"base ({ConditionLabel(condition)}): best epoch {result.BestEpoch}, simulated test macro AUROC {report.MacroAuroc:0.000} ({clock.Elapsed.TotalMinutes:0.0} min)");
        ModelManifest? exported = null;
        if (export && options.ModelsDirectory is not null)
        {
            var dir = System.IO.Path.Combine(options.ModelsDirectory, BaseName, options.ModelVersion);
            var data = ModelIo.Describe(options.BaseData, encoded, "all");
            data["mode"] = "train";
            data["learningRate"] = training.LearningRate;
            data["batch"] = training.BatchSize;
            data["classWeights"] = ModelCard.ClassWeightText(training);
            data["split"] = new JsonObject { ["seed"] = 1, ["validationFraction"] = BaseValidation, ["testFraction"] = BaseTest, ["train"] = train.Count, ["validation"] = val.Count, ["test"] = test.Count };
            data["encoding"] = new JsonObject { ["name"] = StepEncodings.Default.Id.Name, ["version"] = StepEncodings.Default.Id.Version, ["maxSteps"] = options.MaxSteps, ["metadata"] = useMeta, ["detectionsOnly"] = options.DetectionsOnly };
            data["stepLoss"] = options.StepLoss.ToString();
            exported = ExportPackage(options, dir, staging =>
            {
                var written = ModelIo.Export(result.Weights, options.BaseClasses, BaseName, options.ModelVersion, staging, data, new Dictionary<string, double> { ["testMacroAuroc"] = report.MacroAuroc, ["testAccuracy"] = report.Accuracy, ["bestEpoch"] = result.BestEpoch }, result.History, [SurveyNames.Ztf]);
                ReportWriter.Write(report with { Model = BaseName + " " + options.ModelVersion, Data = options.BaseData + " (simulated test split)", History = result.History }, staging);
                File.WriteAllText(System.IO.Path.Combine(staging, ModelCard.FileName), ModelCard.Text(written, options.BaseClasses, options.BaseData, train, val, test, training, result, report, null));
                return written;
            });
            info["exported"] = dir;
        }

        // With its manifest when exported, so that the fine-tuned package names the base it came from by its hash.
        return new TrainedModel(result.Weights, options.BaseClasses, exported);
    }

    /// <summary>The name of the base the experiment trains and exports.</summary>
    public const string BaseName = "ztf-sim-base";

    /// <summary>The base as <c>finetune</c> records it in <c>model.json</c> (name, version, ONNX sha256), which <c>models average</c> ties members to.</summary>
    private static JsonObject BaseReference(TrainedModel baseModel, TransferExperimentOptions options) => new()
    {
        ["name"] = baseModel.Manifest?.Name ?? BaseName,
        ["version"] = baseModel.Manifest?.Version ?? options.ModelVersion,
        ["sha256"] = baseModel.Manifest?.Onnx.Sha256,
    };

    private static ModelManifest ExportPackage(TransferExperimentOptions options, string directory, Func<string, ModelManifest> write)
    {
        if (options.WritePackage is { } writer)
        {
            return writer(directory, write);
        }

        Directory.CreateDirectory(directory);
        return write(directory);
    }

    private static (EncodedDataset Test, int[] Pool) TestAndPool(TransferExperimentOptions options, TransferTarget target, EncodedDataset encoded)
    {
        EncodedDataset test;
        int[] pool;
        if (target.TestIds is not null)
        {
            var holdout = HoldoutIds.Read(target.TestIds);
            test = encoded.Subset(holdout.Select(encoded, inside: true));
            pool = holdout.Select(encoded, inside: false);
            if (test.Count == 0)
            {
                throw new ArgumentException($"{target.Name}: none of the {holdout.Count} ids in {target.TestIds} is in the data.");
            }
        }
        else
        {
            var split = DatasetSplit.Stratified(encoded.Labels, 0, options.TestFraction, 12345);
            test = encoded.Subset(split.Test);
            pool = split.Train;
        }

        if (target.MaxPool > 0 && pool.Length > target.MaxPool)
        {
            pool = DatasetSplit.Subsample(pool, encoded.LabelsInternal, target.MaxPool, 777);
        }

        return (test, pool);
    }

    /// <summary>The fewest objects a run is trained on: a training size below it is not run.</summary>
    public const int MinimumSize = 20;

    internal static int[] Sizes(IReadOnlyList<double> spec, int pool) => Sizes(spec, pool, out _);

    /// <summary>
    /// The training sizes of <paramref name="spec"/> (counts, or fractions of the pool) for a pool of <paramref name="pool"/>,
    /// and the whole pool; <paramref name="dropped"/> says which were not run and why (below <see cref="MinimumSize"/>,
    /// above the pool): they were left out without a word.
    /// </summary>
    internal static int[] Sizes(IReadOnlyList<double> spec, int pool, out List<string> dropped)
    {
        var set = new SortedSet<int>();
        dropped = [];
        foreach (var s in spec)
        {
            var n = s > 1 ? (int)s : (int)Math.Round(s * pool);
            var given = s.ToString(System.Globalization.CultureInfo.InvariantCulture) + (s > 1 ? string.Empty : $" ({n} objects)");
            if (n < MinimumSize)
            {
                dropped.Add($"{given}: below {MinimumSize}");
            }
            else if (n > pool)
            {
                dropped.Add($"{given}: above the pool of {pool}");
            }
            else
            {
                set.Add(n);
            }
        }

        set.Add(pool);
        return [.. set];
    }

    private static int[] Pick(int[] subset, int[] positions)
    {
        var result = new int[positions.Length];
        for (var i = 0; i < positions.Length; i++)
        {
            result[i] = subset[positions[i]];
        }

        return result;
    }

    /// <summary>Recomputes medians and headline figures from runs (e.g. runs of several invocations merged).</summary>
    public static TransferResults Summarise(TransferResults results, IReadOnlyList<TransferRun> runs, TransferExperimentOptions options)
    {
        ArgumentNullException.ThrowIfNull(results);
        return Summarise(results.Started, options, results.Base, [.. runs], new(results.ZeroShot), new(results.PoolSizes), new(results.TestSizes));
    }

    private static TransferResults Summarise(string started, TransferExperimentOptions options, JsonObject baseInfo, List<TransferRun> runs, Dictionary<string, double> zeroShot, Dictionary<string, int> pools, Dictionary<string, int> tests)
    {
        var points = new List<TransferPoint>();
        var headlines = new List<TransferHeadline>();
        foreach (var target in options.Targets)
        {
            if (!pools.TryGetValue(target.Name, out var pool))
            {
                continue;
            }

            var sizes = Sizes(options.Sizes, pool);
            foreach (var condition in options.Conditions)
            {
                foreach (var mode in options.Modes)
                {
                    foreach (var size in sizes)
                    {
                        var selected = runs.Where(r => r.Target == target.Name && r.Condition == condition && r.Mode == mode && r.Size == size && double.IsFinite(r.TestMacroAuroc)).ToList();
                        if (selected.Count > 0)
                        {
                            points.Add(Point(target.Name, condition, mode, size, selected));
                        }
                    }
                }

                headlines.AddRange(Headlines(options, target.Name, condition, pool, sizes, points));
            }
        }

        return new TransferResults(started, options, baseInfo, runs, points, headlines, zeroShot, pools, tests);
    }

    private static TransferPoint Point(string target, string condition, string mode, int size, List<TransferRun> selected)
    {
        var aucs = selected.Select(r => r.TestMacroAuroc).ToList();
        var epochs = selected.Select(r => (double)r.BestEpoch).ToList();
        var early = new List<double>[EarlyCurve.Days.Count];
        for (var d = 0; d < early.Length; d++)
        {
            early[d] = [.. selected.Where(r => r.EarlyMacroAuroc is { } e && d < e.Count && double.IsFinite(e[d])).Select(r => r.EarlyMacroAuroc![d])];
        }

        // Early figures only when every run has them, so that the early range covers the same seeds as the whole one.
        var hasEarly = early.All(e => e.Count == aucs.Count);
        return new TransferPoint(
            target, mode, size, Median(aucs), aucs.Min(), aucs.Max(), Median(epochs), aucs.Count,
            hasEarly ? [.. early.Select(Median)] : null,
            hasEarly ? [.. early.Select(e => e.Min())] : null,
            hasEarly ? [.. early.Select(e => e.Max())] : null,
            condition,
            epochs.Min(),
            epochs.Max());
    }

    private static List<TransferHeadline> Headlines(TransferExperimentOptions options, string target, string condition, int pool, int[] sizes, List<TransferPoint> points)
    {
        var list = new List<TransferHeadline>();
        var scratch = points.Where(p => p.Target == target && p.Condition == condition && p.Mode == Scratch).ToDictionary(p => p.Size);
        if (!scratch.TryGetValue(pool, out var scratchAll))
        {
            return list;
        }

        var size30 = (int)Math.Round(0.3 * pool);
        foreach (var mode in options.Modes)
        {
            if (mode is Scratch or ScratchLong)
            {
                continue;
            }

            var curve = points.Where(p => p.Target == target && p.Condition == condition && p.Mode == mode).OrderBy(p => p.Size).ToList();
            var modeAll = curve.FirstOrDefault(p => p.Size == pool);
            if (modeAll is null)
            {
                continue;
            }

            var better = new List<int>();
            var worse = new List<int>();
            foreach (var p in curve)
            {
                if (scratch.TryGetValue(p.Size, out var s))
                {
                    switch (TransferClaims.Compare(p.Whole(), s.Whole(), options.MinSeedsForClaim))
                    {
                        case 1:
                            better.Add(p.Size);
                            break;
                        case -1:
                            worse.Add(p.Size);
                            break;
                    }
                }
            }

            var at30 = curve.FirstOrDefault(p => p.Size == size30);
            var headline = new TransferHeadline(
                target,
                condition,
                mode,
                pool,
                sizes[0],
                scratchAll.Whole(),
                modeAll.Whole(),
                scratchAll.AtDay(10),
                modeAll.AtDay(10),
                TransferClaims.SmallestSizeAbove([.. curve.Select(p => (p.Size, p.Whole()))], scratchAll.Whole(), options.MinSeedsForClaim),
                TransferClaims.SmallestSizeAbove([.. curve.Select(p => (p.Size, p.AtDay(10)))], scratchAll.AtDay(10), options.MinSeedsForClaim),
                better,
                worse,
                scratchAll.BestEpochs(),
                modeAll.BestEpochs(),
                TransferClaims.FewerEpochs(modeAll.BestEpochs(), scratchAll.BestEpochs(), options.MinSeedsForClaim),
                at30 is null ? double.NaN : at30.Median / modeAll.Median);
            list.Add(headline with { Claims = TransferClaims.Describe(headline, options.MinSeedsForClaim) });
        }

        return list;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        var n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Writes <c>transfer-results.json</c>, <c>transfer-summary.md</c> and two SVGs per target.</summary>
    public static void Write(TransferResults results, string directory)
    {
        ArgumentNullException.ThrowIfNull(results);
        Directory.CreateDirectory(directory);
        File.WriteAllText(System.IO.Path.Combine(directory, "transfer-results.json"), JsonSerializer.Serialize(results, ReportWriter.JsonOptions));
        var inv = CultureInfo.InvariantCulture;
        var options = results.Options;
        var series = options.Conditions.SelectMany(c => options.Modes.Select(m => (Condition: c, Mode: m))).ToList();
        var several = options.Conditions.Count > 1;
        string Label((string Condition, string Mode) s) => several ? $"{s.Mode}, {ConditionLabel(s.Condition)}" : s.Mode;
        var md = new StringBuilder();
        md.Append(inv, $"<!-- written by `alertbroker experiment transfer` (started {results.Started}) -->\n\n");
        md.Append(inv, $"Cells: median over seeds [min, max]; {options.Seeds} seed(s) per point unless a cell says otherwise. Conditions: {string.Join(", ", options.Conditions.Select(ConditionLabel))}.\n\n");
        foreach (var target in options.Targets)
        {
            if (!results.PoolSizes.TryGetValue(target.Name, out var pool))
            {
                continue;
            }

            var sizes = Sizes(options.Sizes, pool);
            TransferPoint? Find((string Condition, string Mode) s, int size) =>
                results.Points.FirstOrDefault(x => x.Target == target.Name && x.Condition == s.Condition && x.Mode == s.Mode && x.Size == size);

            // Plots: AUROC against size, and the early-classification curve with all data.
            var chart = new List<ChartSeries>();
            foreach (var s in series)
            {
                var pts = sizes.Select(n => Find(s, n)).OfType<TransferPoint>().ToList();
                if (pts.Count > 0)
                {
                    chart.Add(new ChartSeries(Label(s), [.. pts.Select(p => (double)p.Size)], [.. pts.Select(p => p.Median)], [.. pts.Select(p => p.Min)], [.. pts.Select(p => p.Max)]));
                }
            }

            foreach (var condition in options.Conditions)
            {
                if (results.ZeroShot.TryGetValue(Key(target.Name, condition), out var zero) && double.IsFinite(zero) && chart.Count > 0)
                {
                    var xs = chart[0].X;
                    chart.Add(new ChartSeries(several ? $"base, no fine-tuning, {ConditionLabel(condition)}" : "base, no fine-tuning", [xs[0], xs[^1]], [zero, zero], Dashed: true));
                }
            }

            File.WriteAllText(System.IO.Path.Combine(directory, $"transfer-{target.Name}.svg"), SvgChart.Lines($"{target.Name}: macro AUROC vs training size", "training objects (log scale)", "macro AUROC (held-out test)", chart, null, 1.0, logX: true));
            var full = series.Select(s => (s, p: Find(s, pool))).Where(x => x.p?.EarlyMedian is not null).ToList();
            if (full.Count > 0)
            {
                File.WriteAllText(
                    System.IO.Path.Combine(directory, $"transfer-{target.Name}-early.svg"),
                    SvgChart.Lines($"{target.Name}: early classification, all {pool} training objects", "days after first detection", "macro AUROC (held-out test)", [.. full.Select(x => new ChartSeries(Label(x.s), [.. EarlyCurve.Days], [.. x.p!.EarlyMedian!], [.. x.p.EarlyMin!], [.. x.p.EarlyMax!]))], null, 1.0));
            }

            md.Append(inv, $"### {target.Name}\n\n{target.Description}. Test {results.TestSizes[target.Name]} objects (fixed), training pool {pool}. Base model without fine-tuning: macro AUROC ");
            md.Append(string.Join(", ", options.Conditions.Select(c => (several ? ConditionLabel(c) + " " : string.Empty) + F(results.ZeroShot.GetValueOrDefault(Key(target.Name, c), double.NaN)))));
            md.Append(inv, $".\n\n![{target.Name}](transfer-{target.Name}.svg)\n\n");

            void Table(string caption, Func<TransferPoint, SeedRange> figure, string format)
            {
                md.Append(caption).Append("\n\n| training objects |");
                foreach (var s in series)
                {
                    md.Append(' ').Append(Label(s)).Append(" |");
                }

                md.Append("\n|---:|").Append(string.Concat(Enumerable.Repeat("---|", series.Count))).Append('\n');
                foreach (var size in sizes)
                {
                    md.Append(inv, $"| {size} |");
                    foreach (var s in series)
                    {
                        var p = Find(s, size);
                        var r = p is null ? SeedRange.None : figure(p);
                        md.Append(!r.IsKnown ? " – |" : string.Create(inv, $" {r.Median.ToString(format, inv)} [{r.Min.ToString(format, inv)}, {r.Max.ToString(format, inv)}]{(r.Runs != options.Seeds ? $" ({r.Runs} runs)" : string.Empty)} |"));
                    }

                    md.Append('\n');
                }

                md.Append('\n');
            }

            Table("Macro AUROC, whole light curve:", p => p.Whole(), "0.000");
            Table("Macro AUROC 10 days after first detection (probabilities after the last observation up to then):", p => p.AtDay(10), "0.000");
            Table("Epochs to the best validation loss (the restored epoch):", p => p.BestEpochs(), "0");
            if (full.Count > 0)
            {
                md.Append(inv, $"Early classification with all {pool} training objects: macro AUROC at d days after first detection and on the whole light curve.\n\n![{target.Name} early](transfer-{target.Name}-early.svg)\n\n| run |");
                foreach (var d in EarlyCurve.Days)
                {
                    md.Append(inv, $" {d:0} d |");
                }

                md.Append(" whole |\n|---|").Append(string.Concat(Enumerable.Repeat("---|", EarlyCurve.Days.Count + 1))).Append('\n');
                foreach (var (s, p) in full)
                {
                    md.Append(inv, $"| {Label(s)} |");
                    for (var d = 0; d < EarlyCurve.Days.Count; d++)
                    {
                        md.Append(inv, $" {p!.EarlyMedian![d]:0.000} [{p.EarlyMin![d]:0.000}, {p.EarlyMax![d]:0.000}] |");
                    }

                    md.Append(inv, $" {p!.Median:0.000} [{p.Min:0.000}, {p.Max:0.000}] |\n");
                }

                md.Append('\n');
            }
        }

        md.Append(inv, $"### Headline figures\n\nA claim is made only where the ranges over seeds do not overlap (every seed of one above every seed of the other) and every point involved has at least {options.MinSeedsForClaim} seeds; \"smallest share\" is the smallest training size from which transfer is above scratch-on-all at that and every larger size. Medians alone are never claimed on. \"own 30%/100%\" is transfer's median AUROC at 30% of the pool over its median with all of it (descriptive).\n\n");
        md.Append("| target | condition | transfer | seeds | scratch, all data | transfer, all data | smallest share beating scratch-on-all: whole | same: 10 d | same size as scratch: better at / worse at | best epoch, all data: scratch → transfer | own 30%/100% |\n|---|---|---|---:|---|---|---|---|---|---|---:|\n");
        foreach (var h in results.Headlines)
        {
            string Share(int? n) => n is { } v ? string.Create(inv, $"{(v == h.SmallestSize ? "≤ " : string.Empty)}{100.0 * v / h.Pool:0}% ({v})") : "no claim";
            string R(SeedRange r, string f) => r.IsKnown ? string.Create(inv, $"{r.Median.ToString(f, inv)} [{r.Min.ToString(f, inv)}, {r.Max.ToString(f, inv)}]") : "–";
            var seeds = Math.Min(h.ScratchAll.Runs, h.ModeAll.Runs);
            md.Append(inv, $"| {h.Target} | {ConditionLabel(h.Condition)} | {h.Mode} | {seeds} | {R(h.ScratchAll, "0.000")} | {R(h.ModeAll, "0.000")} | {Share(h.SizeBeatingScratchAll)} | {Share(h.SizeBeatingScratchAllDay10)} | {(h.BetterAtSizes.Count == 0 ? "–" : string.Join(", ", h.BetterAtSizes))} / {(h.WorseAtSizes.Count == 0 ? "–" : string.Join(", ", h.WorseAtSizes))} | {R(h.ScratchEpochs, "0")} → {R(h.ModeEpochs, "0")}{(h.FewerEpochs is { } f ? string.Create(inv, $" ({f * 100:0}% fewer)") : string.Empty)} | {P(h.OwnShareAt30)} |\n");
        }

        md.Append("\nClaims:\n\n");
        foreach (var h in results.Headlines)
        {
            md.Append(inv, $"- **{h.Target}, {ConditionLabel(h.Condition)}, {h.Mode}**: {string.Join("; ", h.Claims)}.\n");
        }

        File.WriteAllText(System.IO.Path.Combine(directory, "transfer-summary.md"), md.ToString());
    }

    private static string F(double v) => double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–";

    private static string P(double v) => double.IsFinite(v) ? (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "–";

    // Rows left out and metadata read as unknown while reading a set, as train and evaluate say them (they were not said).
    private static void LogReading(string name, LabelledDataset data, Action<string> log)
    {
        if (data.Rejected.Total > 0)
        {
            log($"{name}: {data.Rejected}");
        }

        if (data.UnknownMetadata.Total > 0)
        {
            log($"{name}: {data.UnknownMetadata}");
        }
    }

    private sealed class LogProgress(Action<string> log, string name) : ITrainingProgress
    {
        public void OnBatch(int epoch, int batch, int batches, double loss)
        {
        }

        public void OnEpoch(EpochRecord r) =>
            log(string.Create(CultureInfo.InvariantCulture, $"{name} epoch {r.Epoch}: train loss {r.TrainLoss:0.000}, val loss {r.ValidationLoss:0.000}, val macro AUROC {(double.IsNaN(r.ValidationMacroAuroc) ? "n/a (one class)" : r.ValidationMacroAuroc.ToString("0.000", CultureInfo.InvariantCulture))}, {r.Seconds:0.0} s"));
    }
}
