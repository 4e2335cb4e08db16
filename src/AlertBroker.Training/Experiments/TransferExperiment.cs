using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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

    /// <summary>Which steps carry the loss in every run (base and targets).</summary>
    public StepLoss StepLoss { get; init; } = StepLoss.AllSteps;

    /// <summary>False: networks without the metadata branch and data without metadata (stream conditions); a reused base with the branch loses it (<see cref="ModelIo.WithoutMetadata"/>).</summary>
    public bool UseMetadata { get; init; } = true;
}

/// <summary>One training run of the experiment; <see cref="EarlyMacroAuroc"/> holds the test macro AUROC at <see cref="EarlyCurve.Days"/>.</summary>
public sealed record TransferRun(string Target, string Mode, int Size, int Seed, double TestMacroAuroc, double TestAccuracy, int BestEpoch, int Epochs, double Seconds, IReadOnlyList<double>? EarlyMacroAuroc = null);

/// <summary>Median and spread over seeds of one (target, mode, size); the early figures at <see cref="EarlyCurve.Days"/>.</summary>
public sealed record TransferPoint(string Target, string Mode, int Size, double Median, double Min, double Max, double MedianBestEpoch, int Runs, IReadOnlyList<double>? EarlyMedian = null, IReadOnlyList<double>? EarlyMin = null, IReadOnlyList<double>? EarlyMax = null);

/// <summary>
/// The paper's three headline figures for one target and transfer mode: the share of the pool the transferred model
/// needs to match scratch trained on all of it; at 30% of the pool, its median AUROC over scratch-on-all
/// (<see cref="ShareAt30"/>), scratch's own (<see cref="ScratchShareAt30"/>) and over its own full-data AUROC
/// (<see cref="OwnShareAt30"/>); median best epochs at full size.
/// </summary>
public sealed record TransferHeadline(string Target, string Mode, double ScratchFullAuroc, double ModeFullAuroc, double? DataNeededFraction, double ShareAt30, double ScratchShareAt30, double OwnShareAt30, double MedianEpochsScratch, double MedianEpochsMode);

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
/// curves, then, for each target set and several training sizes and seeds, a model from scratch against the base
/// fine-tuned (latent + output, and all layers), scored by macro AUROC on a fixed held-out part of the target.
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

    public static TransferResults Run(TransferExperimentOptions options, Action<string> log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var started = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture);
        Directory.CreateDirectory(options.OutputDirectory);
        var csv = new CsvReadOptions { DetectionsOnly = options.DetectionsOnly };
        var encoding = new EncodingOptions { MaxSteps = options.MaxSteps, Metadata = options.UseMetadata ? MetadataUse.Known : MetadataUse.None };

        // 1. Base model on the ZTF simulations.
        TrainedModel baseModel;
        var baseInfo = new JsonObject();
        if (options.BaseModel is not null && File.Exists(System.IO.Path.Combine(options.BaseModel, "model.json")))
        {
            baseModel = ModelIo.LoadPackage(options.BaseModel);
            if (!options.UseMetadata && baseModel.Weights.Config.MetaFeatures > 0)
            {
                baseModel = baseModel with { Weights = ModelIo.WithoutMetadata(baseModel.Weights) };
                baseInfo["metadataDropped"] = true;
            }
            else if (options.UseMetadata && baseModel.Weights.Config.MetaFeatures == 0)
            {
                throw new ArgumentException($"{options.BaseModel} has no metadata branch; run the experiment without metadata.");
            }

            baseInfo["reused"] = options.BaseModel;
            baseInfo["metrics"] = JsonSerializer.SerializeToNode(baseModel.Manifest?.Training.Metrics);
            log($"base: reusing {options.BaseModel}");
        }
        else
        {
            var sim = LightCurveCsvReader.Read(options.BaseData, csv with { Survey = "ztf" });
            var encoded = EncodedDataset.Encode(sim, options.BaseClasses, encoding);
            if (options.BaseObjects > 0 && options.BaseObjects < encoded.Count)
            {
                var all = Enumerable.Range(0, encoded.Count).ToArray();
                encoded = encoded.Subset(DatasetSplit.Subsample(all, encoded.LabelsInternal, options.BaseObjects, 99));
            }

            var split = DatasetSplit.Stratified(encoded.Labels, 0.1, 0.1, 1);
            var train = encoded.Subset(split.Train);
            var val = encoded.Subset(split.Validation);
            var test = encoded.Subset(split.Test);
            log($"base: training on {train.Count} simulated ZTF objects ({encoded.TotalSteps} steps in all)");
            var clock = Stopwatch.StartNew();
            var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(options.BaseClasses.Count, options.UseMetadata), 1);
            var result = GruTrainer.Train(weights, train, val, new TrainingOptions { MaxEpochs = options.BaseMaxEpochs, Patience = options.Patience, Seed = 1, Threads = options.Threads, StepLoss = options.StepLoss }, new LogProgress(log, "base"), cancellationToken);
            var report = EvaluationReport.Evaluate(result.Weights, test, options.Threads);
            baseModel = new TrainedModel(result.Weights, options.BaseClasses, null);
            baseInfo["objects"] = encoded.Count;
            baseInfo["train"] = train.Count;
            baseInfo["bestEpoch"] = result.BestEpoch;
            baseInfo["epochs"] = result.History.Count;
            baseInfo["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
            baseInfo["testMacroAuroc"] = Math.Round(report.MacroAuroc, 4);
            log($"base: best epoch {result.BestEpoch}, simulated test macro AUROC {report.MacroAuroc:0.000} ({clock.Elapsed.TotalMinutes:0.0} min)");
            if (options.ModelsDirectory is not null)
            {
                var dir = System.IO.Path.Combine(options.ModelsDirectory, "ztf-sim-base", options.ModelVersion);
                var data = ModelIo.Describe(options.BaseData, encoded, "all");
                data["mode"] = "train";
                data["encoding"] = new JsonObject { ["maxSteps"] = options.MaxSteps, ["metadata"] = options.UseMetadata, ["detectionsOnly"] = options.DetectionsOnly };
                data["stepLoss"] = options.StepLoss.ToString();
                ModelIo.Export(result.Weights, options.BaseClasses, "ztf-sim-base", options.ModelVersion, dir, data, new Dictionary<string, double> { ["testMacroAuroc"] = report.MacroAuroc, ["testAccuracy"] = report.Accuracy, ["bestEpoch"] = result.BestEpoch }, result.History, [SurveyNames.Ztf]);
                ReportWriter.Write(report with { Model = "ztf-sim-base " + options.ModelVersion, Data = options.BaseData + " (simulated test split)", History = result.History }, dir);
                baseInfo["exported"] = dir;
            }
        }

        // 2. Each target: sizes × seeds × modes.
        var runs = new List<TransferRun>();
        var zeroShot = new Dictionary<string, double>(StringComparer.Ordinal);
        var pools = new Dictionary<string, int>(StringComparer.Ordinal);
        var tests = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var ti = 0; ti < options.Targets.Count; ti++)
        {
            var target = options.Targets[ti];
            var raw = LightCurveCsvReader.Read(target.Path, csv with { Survey = target.Survey });
            var encoded = EncodedDataset.Encode(raw, target.Classes, encoding);
            EncodedDataset test;
            int[] pool;
            if (target.TestIds is not null)
            {
                var holdout = HoldoutIds.Read(target.TestIds);
                test = encoded.Subset(holdout.Select(encoded, inside: true));
                pool = holdout.Select(encoded, inside: false);
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

            pools[target.Name] = pool.Length;
            tests[target.Name] = test.Count;
            var sizes = Sizes(options.Sizes, pool.Length);
            log($"{target.Name}: {encoded.Count} objects, test {test.Count}, pool {pool.Length}; sizes {string.Join(", ", sizes)}");
            var zero = ModelIo.AdaptHead(baseModel, target.Classes, replaceHead: false, seed: 1);
            var zeroReport = EvaluationReport.Evaluate(zero, test, options.Threads);
            zeroShot[target.Name] = zeroReport.MacroAuroc;
            log($"{target.Name}: base model without fine-tuning: macro AUROC {zeroReport.MacroAuroc:0.000}");

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
                    var batch = options.TargetBatchSize;
                    foreach (var mode in options.Modes)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var (initial, trainable, lr) = mode switch
                        {
                            Scratch or ScratchLong => (GruClassifierWeights.Random(ModelIo.DefaultConfig(target.Classes.Count, options.UseMetadata), 100 + seed), TrainableLayers.All, options.ScratchLearningRate),
                            Head => (ModelIo.AdaptHead(baseModel, target.Classes, false, (ulong)(100 + seed)), TrainableLayers.Parse("latent,output"), options.HeadLearningRate),
                            AllFast => (ModelIo.AdaptHead(baseModel, target.Classes, false, (ulong)(100 + seed)), TrainableLayers.All, options.AllFastLearningRate),
                            _ => (ModelIo.AdaptHead(baseModel, target.Classes, false, (ulong)(100 + seed)), TrainableLayers.All, options.AllLearningRate),
                        };
                        var clock = Stopwatch.StartNew();
                        var longRun = mode == ScratchLong;
                        var result = GruTrainer.Train(initial, fit, val, new TrainingOptions
                        {
                            MaxEpochs = longRun ? options.LongEpochs : options.MaxEpochs,
                            Patience = longRun ? 0 : options.Patience,
                            RestoreBest = !longRun,
                            BatchSize = batch,
                            LearningRate = lr,
                            Seed = (ulong)(3000 + seed),
                            Trainable = trainable,
                            Threads = options.Threads,
                            StepLoss = options.StepLoss,
                        }, null, cancellationToken);
                        var report = EvaluationReport.Evaluate(result.Weights, test, options.Threads);
                        var run = new TransferRun(target.Name, mode, size, seed, report.MacroAuroc, report.Accuracy, result.BestEpoch, result.History.Count, clock.Elapsed.TotalSeconds, [.. report.Early.Select(p => p.MacroAuroc)]);
                        runs.Add(run);
                        log(string.Create(CultureInfo.InvariantCulture, $"{target.Name} seed {seed} size {size,5} {mode,-24} AUROC {run.TestMacroAuroc:0.000} (10 d {report.Early.FirstOrDefault(p => p.Days == 10)?.MacroAuroc ?? double.NaN:0.000}) acc {run.TestAccuracy:0.000} best epoch {run.BestEpoch,3}/{run.Epochs,3} {run.Seconds,6:0.0} s"));

                        if (ti == 0 && seed == 0 && size == pool.Length && mode == All && options.ModelsDirectory is not null)
                        {
                            var dir = System.IO.Path.Combine(options.ModelsDirectory, target.Name, options.ModelVersion);
                            var data = ModelIo.Describe(target.Path, fit, "fit");
                            data["mode"] = "finetune";
                            data["base"] = "ztf-sim-base " + options.ModelVersion;
                            data["trainable"] = "all";
                            data["validation"] = val.Count;
                            data["test"] = test.Count;
                            data["split"] = target.TestIds is not null
                                ? new JsonObject { ["testIds"] = target.TestIds, ["testIdsSha256"] = HoldoutIds.Read(target.TestIds).Sha256, ["validationFraction"] = 0 }
                                : new JsonObject { ["seed"] = 12345, ["validationFraction"] = 0, ["testFraction"] = options.TestFraction };
                            data["encoding"] = new JsonObject { ["maxSteps"] = options.MaxSteps, ["metadata"] = options.UseMetadata, ["detectionsOnly"] = options.DetectionsOnly };
                            data["stepLoss"] = options.StepLoss.ToString();
                            ModelIo.Export(result.Weights, target.Classes, target.Name, options.ModelVersion, dir, data, new Dictionary<string, double> { ["testMacroAuroc"] = report.MacroAuroc, ["testMacroF1"] = report.MacroF1, ["testAccuracy"] = report.Accuracy, ["bestEpoch"] = result.BestEpoch }, result.History, [target.Survey]);
                            ReportWriter.Write(report with { Model = target.Name + " " + options.ModelVersion, Data = target.Path + " (held-out test part)", History = result.History }, dir);
                            log($"{target.Name}: exported the fine-tuned model to {dir}");
                        }
                    }
                }

                // Partial results after every seed, so a long run that is stopped still leaves numbers.
                var partial = Summarise(started, options, baseInfo, runs, zeroShot, pools, tests);
                Write(partial, options.OutputDirectory);
            }
        }

        var results = Summarise(started, options, baseInfo, runs, zeroShot, pools, tests);
        Write(results, options.OutputDirectory);
        return results;
    }

    internal static int[] Sizes(IReadOnlyList<double> spec, int pool)
    {
        var set = new SortedSet<int>();
        foreach (var s in spec)
        {
            var n = s > 1 ? (int)s : (int)Math.Round(s * pool);
            if (n >= 20 && n <= pool)
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

            foreach (var mode in options.Modes)
            {
                foreach (var size in Sizes(options.Sizes, pool))
                {
                    var aucs = new List<double>();
                    var epochs = new List<double>();
                    var early = new List<double>[EarlyCurve.Days.Count];
                    for (var d = 0; d < early.Length; d++)
                    {
                        early[d] = [];
                    }

                    foreach (var r in runs)
                    {
                        if (r.Target == target.Name && r.Mode == mode && r.Size == size && double.IsFinite(r.TestMacroAuroc))
                        {
                            aucs.Add(r.TestMacroAuroc);
                            epochs.Add(r.BestEpoch);
                            for (var d = 0; d < early.Length && r.EarlyMacroAuroc is { } e && d < e.Count; d++)
                            {
                                if (double.IsFinite(e[d]))
                                {
                                    early[d].Add(e[d]);
                                }
                            }
                        }
                    }

                    if (aucs.Count > 0)
                    {
                        var hasEarly = early.All(e => e.Count > 0);
                        points.Add(new TransferPoint(
                            target.Name, mode, size, Median(aucs), aucs.Min(), aucs.Max(), Median(epochs), aucs.Count,
                            hasEarly ? [.. early.Select(Median)] : null,
                            hasEarly ? [.. early.Select(e => e.Min())] : null,
                            hasEarly ? [.. early.Select(e => e.Max())] : null));
                    }
                }
            }

            var scratch = points.Where(p => p.Target == target.Name && p.Mode == Scratch).OrderBy(p => p.Size).ToList();
            var full = scratch.FirstOrDefault(p => p.Size == pool);
            if (full is null)
            {
                continue;
            }

            var size30 = (int)Math.Round(0.3 * pool);
            foreach (var mode in options.Modes)
            {
                if (mode is Scratch or ScratchLong)
                {
                    continue;
                }

                var curve = points.Where(p => p.Target == target.Name && p.Mode == mode).OrderBy(p => p.Size).ToList();
                var modeFull = curve.FirstOrDefault(p => p.Size == pool);
                if (modeFull is null)
                {
                    continue;
                }

                var at30 = curve.FirstOrDefault(p => p.Size == size30);
                var scratch30 = scratch.FirstOrDefault(p => p.Size == size30);
                headlines.Add(new TransferHeadline(
                    target.Name,
                    mode,
                    full.Median,
                    modeFull.Median,
                    SizeToMatch(curve, full.Median, pool),
                    at30 is null ? double.NaN : at30.Median / full.Median,
                    scratch30 is null ? double.NaN : scratch30.Median / full.Median,
                    at30 is null ? double.NaN : at30.Median / modeFull.Median,
                    full.MedianBestEpoch,
                    modeFull.MedianBestEpoch));
            }
        }

        return new TransferResults(started, options, baseInfo, runs, points, headlines, zeroShot, pools, tests);
    }

    // The smallest share of the pool at which the median curve reaches the reference (linear in log size between
    // grid points); null when it never does.
    private static double? SizeToMatch(List<TransferPoint> curve, double reference, int pool)
    {
        for (var i = 0; i < curve.Count; i++)
        {
            if (curve[i].Median >= reference)
            {
                if (i == 0)
                {
                    return (double)curve[0].Size / pool;
                }

                var (a, b) = (curve[i - 1], curve[i]);
                var f = (reference - a.Median) / (b.Median - a.Median);
                var logSize = Math.Log(a.Size) + (f * (Math.Log(b.Size) - Math.Log(a.Size)));
                return Math.Exp(logSize) / pool;
            }
        }

        return null;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        var n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Writes <c>transfer-results.json</c>, <c>transfer-summary.md</c> and one SVG per target.</summary>
    public static void Write(TransferResults results, string directory)
    {
        ArgumentNullException.ThrowIfNull(results);
        Directory.CreateDirectory(directory);
        File.WriteAllText(System.IO.Path.Combine(directory, "transfer-results.json"), JsonSerializer.Serialize(results, ReportWriter.JsonOptions));
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(inv, $"<!-- written by `alertbroker experiment transfer` (started {results.Started}) -->\n\n");
        foreach (var target in results.Options.Targets)
        {
            if (!results.PoolSizes.TryGetValue(target.Name, out var pool))
            {
                continue;
            }

            var series = new List<ChartSeries>();
            foreach (var mode in results.Options.Modes)
            {
                var pts = results.Points.Where(p => p.Target == target.Name && p.Mode == mode).OrderBy(p => p.Size).ToList();
                if (pts.Count > 0)
                {
                    series.Add(new ChartSeries(mode, [.. pts.Select(p => (double)p.Size)], [.. pts.Select(p => p.Median)], [.. pts.Select(p => p.Min)], [.. pts.Select(p => p.Max)]));
                }
            }

            if (results.ZeroShot.TryGetValue(target.Name, out var zero) && double.IsFinite(zero) && series.Count > 0)
            {
                var xs = series[0].X;
                series.Add(new ChartSeries("base, no fine-tuning", [xs[0], xs[^1]], [zero, zero], Dashed: true));
            }

            var svg = SvgChart.Lines($"{target.Name}: macro AUROC vs training size", "training objects (log scale)", "macro AUROC (held-out test)", series, null, 1.0, logX: true);
            File.WriteAllText(System.IO.Path.Combine(directory, $"transfer-{target.Name}.svg"), svg);
            var earlySeries = new List<ChartSeries>();
            foreach (var p in results.Points.Where(p => p.Target == target.Name && p.Size == pool && p.EarlyMedian is not null))
            {
                earlySeries.Add(new ChartSeries(p.Mode, [.. EarlyCurve.Days], [.. p.EarlyMedian!], [.. p.EarlyMin!], [.. p.EarlyMax!]));
            }

            if (earlySeries.Count > 0)
            {
                File.WriteAllText(
                    System.IO.Path.Combine(directory, $"transfer-{target.Name}-early.svg"),
                    SvgChart.Lines($"{target.Name}: early classification, all {pool} training objects", "days after first detection", "macro AUROC (held-out test)", earlySeries, null, 1.0));
            }

            md.Append(inv, $"### {target.Name}\n\n{target.Description}. Test {results.TestSizes[target.Name]} objects (fixed), training pool {pool}. ");
            md.Append(inv, $"Base model without fine-tuning: macro AUROC {F(results.ZeroShot.GetValueOrDefault(target.Name, double.NaN))}.\n\n");
            md.Append(inv, $"![{target.Name}](transfer-{target.Name}.svg)\n\n");
            md.Append("| training objects |");
            foreach (var mode in results.Options.Modes)
            {
                md.Append(inv, $" {mode} |");
            }

            md.Append("\n|---:|");
            foreach (var mode in results.Options.Modes)
            {
                md.Append("---|");
            }

            md.Append('\n');
            foreach (var size in Sizes(results.Options.Sizes, pool))
            {
                md.Append(inv, $"| {size} ");
                foreach (var mode in results.Options.Modes)
                {
                    var p = results.Points.FirstOrDefault(x => x.Target == target.Name && x.Mode == mode && x.Size == size);
                    md.Append(p is null ? "| – " : string.Create(inv, $"| {p.Median:0.000} [{p.Min:0.000}, {p.Max:0.000}] ({p.Runs} runs, best epoch {p.MedianBestEpoch:0}) "));
                }

                md.Append("|\n");
            }

            md.Append('\n');
            var last = results.Points.Where(p => p.Target == target.Name && p.Size == pool && p.EarlyMedian is not null).ToList();
            if (last.Count > 0)
            {
                md.Append(inv, $"Early classification with all {pool} training objects: median macro AUROC over seeds [min, max] at d days after first detection (probabilities after the last observation up to then) and on the whole light curve.\n\n![{target.Name} early](transfer-{target.Name}-early.svg)\n\n| mode |");
                foreach (var d in EarlyCurve.Days)
                {
                    md.Append(inv, $" {d:0} d |");
                }

                md.Append(" whole |\n|---|");
                foreach (var unused in EarlyCurve.Days)
                {
                    md.Append("---|");
                }

                md.Append("---|\n");
                foreach (var p in last)
                {
                    md.Append(inv, $"| {p.Mode} |");
                    for (var d = 0; d < EarlyCurve.Days.Count; d++)
                    {
                        md.Append(inv, $" {p.EarlyMedian![d]:0.000} [{p.EarlyMin![d]:0.000}, {p.EarlyMax![d]:0.000}] |");
                    }

                    md.Append(inv, $" {p.Median:0.000} [{p.Min:0.000}, {p.Max:0.000}] |\n");
                }

                md.Append('\n');
            }
        }

        md.Append("### Headline figures\n\n| target | transfer | scratch AUROC, all data | transfer AUROC, all data | data transfer needs to match scratch-on-all | AUROC at 30% data over scratch-on-all (transfer / scratch) | transfer at 30% over transfer at 100% | median best epoch, all data (scratch → transfer) |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (var h in results.Headlines)
        {
            var sizes = Sizes(results.Options.Sizes, results.PoolSizes[h.Target]);
            var need = h.DataNeededFraction is not { } f ? "not reached"
                : f <= (double)sizes[0] / results.PoolSizes[h.Target] + 1e-9 ? string.Create(inv, $"≤ {f * 100:0}% (≥ {(1 - f) * 100:0}% less; already at the smallest size)")
                : string.Create(inv, $"{f * 100:0}% ({(1 - f) * 100:0}% less)");
            md.Append(inv, $"| {h.Target} | {h.Mode} | {F(h.ScratchFullAuroc)} | {F(h.ModeFullAuroc)} | {need} | {P(h.ShareAt30)} / {P(h.ScratchShareAt30)} | {P(h.OwnShareAt30)} | {h.MedianEpochsScratch:0} → {h.MedianEpochsMode:0} |\n");
        }

        File.WriteAllText(System.IO.Path.Combine(directory, "transfer-summary.md"), md.ToString());
    }

    private static string F(double v) => double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–";

    private static string P(double v) => double.IsFinite(v) ? (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "–";

    private sealed class LogProgress(Action<string> log, string name) : ITrainingProgress
    {
        public void OnBatch(int epoch, int batch, int batches, double loss)
        {
        }

        public void OnEpoch(EpochRecord r) =>
            log(string.Create(CultureInfo.InvariantCulture, $"{name} epoch {r.Epoch}: train loss {r.TrainLoss:0.000}, val loss {r.ValidationLoss:0.000}, val macro AUROC {r.ValidationMacroAuroc:0.000}, {r.Seconds:0.0} s"));
    }
}
