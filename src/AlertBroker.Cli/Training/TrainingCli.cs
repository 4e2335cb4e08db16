using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using AlertBroker.Cli.Commands;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;
using AlertBroker.Training.Training;
using Spectre.Console;

namespace AlertBroker.Cli.Training;

/// <summary>Options and the shared train → evaluate → export flow of <c>train</c> and <c>finetune</c>.</summary>
internal sealed class TrainingCli
{
    public Option<string[]> Data { get; } = new Option<string[]>("--data") { Description = "Light-curve CSV pairs (a *_lightcurves.csv[.gz] file or a directory holding one), or alert files/directories/archives with --labels.", AllowMultipleArgumentsPerToken = true }.MustExist(PathKind.FileOrDirectory);

    public Option<string?> Labels { get; } = new Option<string?>("--labels") { Description = "Labels CSV (object_id,class[,redshift,mwebv]): --data are then alert files, directories or archives." }.MustExist(PathKind.File);

    public Option<string?> Survey { get; } = KnownSurvey(new Option<string?>("--survey") { Description = "Survey of the CSV bands: ztf, lsst or des (default: from the file name)." });

    public Option<string?> ClassMap { get; } = new Option<string?>("--class-map") { Description = "Class-mapping file: lines 'from,to' (merge) or 'from,-' (drop); '*,-' drops unnamed classes." }.MustExist(PathKind.File);

    public Option<string?> Classes { get; } = ClassList(new Option<string?>("--classes") { Description = "Comma-separated class list and order (default: by frequency, or the base model's)." });

    public Option<int> MaxSteps { get; } = new("--max-steps") { Description = "Keep at most the first N observations of each light curve.", DefaultValueFactory = _ => 100 };

    public Option<bool> DetectionsOnly { get; } = new("--detections-only") { Description = "Drop points below the detection threshold (S/N 5), as in alert photometry." };

    public Option<string> RedshiftColumn { get; } = new Option<string>("--redshift-column") { Description = "Metadata column used as redshift (redshift, host_photoz or none): a numeric column.", DefaultValueFactory = _ => "redshift" };

    public Option<bool> NoMeta { get; } = new("--no-meta") { Description = "No metadata (redshift, MW E(B−V)): train a network without the metadata branch and without a 'meta' input, using only what alerts carry (finetune: drops the base's branch, folding its unknown-metadata output into the merge bias)." };

    public Option<string?> EncodingName { get; } = KnownEncoding(new Option<string?>("--encoding") { Description = $"Feature encoding, NAME or NAME@VERSION: {StepEncodings.Describe()} (default alertbroker-lc; finetune and evaluate: the model's own). muthukrishna2025 has no metadata features, so its networks have no metadata branch." });

    public Option<string?> TestIds { get; } = new Option<string?>("--test-ids") { Description = "File of held-out object ids (one per line, '#' comments; e.g. data/splits/ztf-bts-test-ids.txt): these are the test part, and --val is drawn from the rest (--test is then ignored)." }.MustExist(PathKind.File).HoldingIds();

    public Option<string?> ExcludeIds { get; } = new Option<string?>("--exclude-ids") { Description = "File of object ids to leave out of --data entirely (e.g. the held-out test ids while choosing settings by cross-validation on the rest)." }.MustExist(PathKind.File).HoldingIds();

    public Option<string> StepLoss { get; } = new("--step-loss") { Description = "Which steps carry the loss: all (every step weighs 1), object (every step 1/length: each light curve weighs 1), last (final step only, as Muthukrishna & Gupta's code), checkpoints (1/9 on each step current at 0, 2, 5, 10, 15, 20, 30, 50 days and on the last: weights time as the early-classification evaluation does).", DefaultValueFactory = _ => "all" };

    public Option<string> Select { get; } = new("--select") { Description = "Early stopping and the restored epoch go by: loss (validation loss), auroc (validation macro AUROC, whole light curves), early-auroc (mean validation macro AUROC at 0–50 days and whole).", DefaultValueFactory = _ => "loss" };

    public Option<string?> Surveys { get; } = SurveyList(new Option<string?>("--surveys") { Description = "Surveys the exported model is meant for (model.json 'surveys'), comma-separated, e.g. ztf or ztf,lsst (default: the surveys of the data's bands)." });

    public Option<double> Validation { get; } = new("--val") { Description = "Validation fraction (stratified by class, by object).", DefaultValueFactory = _ => 0.15 };

    public Option<double> Test { get; } = new("--test") { Description = "Test fraction held out for the final evaluation.", DefaultValueFactory = _ => 0.15 };

    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of splits, initial weights and shuffling.", DefaultValueFactory = _ => 1UL };

    public Option<int> Epochs { get; } = new("--epochs") { Description = "Maximum epochs.", DefaultValueFactory = _ => 50 };

    public Option<int> Batch { get; } = new("--batch") { Description = "Mini-batch size.", DefaultValueFactory = _ => 128 };

    public Option<float?> LearningRate { get; } = new("--lr") { Description = "Adam learning rate (default 1e-3; finetune 1e-4)." };

    public Option<int> Patience { get; } = new("--patience") { Description = "Early-stopping patience in epochs (validation loss); 0 = off.", DefaultValueFactory = _ => 5 };

    public Option<int> Threads { get; } = new("--threads") { Description = "Threads (batch shards).", DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 1, 2) };

    public Option<string?> Checkpoints { get; } = new Option<string?>("--checkpoints") { Description = "Directory for per-epoch checkpoints (last.weights, best.weights)." }.OutputDirectory();

    public Option<string?> Out { get; } = new Option<string?>("--out") { Description = "Package directory to write (models/<name>/<version>)." }.OutputDirectory();

    public Option<string?> Name { get; } = new Option<string?>("--name") { Description = "Model name (default: from --out)." }.PathSegment();

    public Option<string?> Version { get; } = new Option<string?>("--version") { Description = "Model version (default: from --out)." }.PathSegment();

    public Option<bool> Unweighted { get; } = new("--unweighted") { Description = "Plain cross-entropy instead of the class-weighted one (weight N/N_c)." };

    public Option<bool> Quiet { get; } = new("--quiet") { Description = "No progress display (one line per epoch on stderr)." };

    public Option<string> ClassWeights { get; } = new Option<string>("--class-weights") { Description = "Class weights of the loss: inverse (N/N_c), sqrt (√(N/N_c)) or none (as --unweighted).", DefaultValueFactory = _ => "inverse" }.AcceptOnlyFromAmong("inverse", "sqrt", "none");

    public Option<float> L2Sp { get; } = new Option<float>("--l2-sp") { Description = "L2-SP: add α/2·Σ(θ − θ₀)² over the trainable weights to the loss, θ₀ the starting (base) weights; 0 = off.", DefaultValueFactory = _ => 0f }.InRange(0f, 1e6f);

    public Option<float> GruLrScale { get; } = new Option<float>("--gru-lr-scale") { Description = "Learning-rate multiplier of the GRU layers (the head keeps --lr).", DefaultValueFactory = _ => 1f }.InRange(0f, 100f);

    public Option<string[]> MixData { get; } = new Option<string[]>("--mix-data") { Description = "Replay: light-curve CSV pairs (e.g. the simulations the base was trained on) of which --mix-ratio × N are mixed into every epoch; read with the same options as --data.", AllowMultipleArgumentsPerToken = true }.MustExist(PathKind.FileOrDirectory);

    public Option<double> MixRatio { get; } = Within(new Option<double>("--mix-ratio") { Description = "Replay objects per training object, per epoch, in (0, 100].", DefaultValueFactory = _ => 1.0 }, 0, 100, lowOpen: true);

    public Option<float> MixWeight { get; } = Within(new Option<float>("--mix-weight") { Description = "A replay object's loss weight relative to the mean (class-weighted) training object, in (0, 1000].", DefaultValueFactory = _ => 1f }, 0f, 1000f, lowOpen: true);

    public Option<string?> MixClasses { get; } = ClassList(new Option<string?>("--mix-classes") { Description = "Replay only these classes (comma-separated; default: all the model's classes)." });

    public Option<int> MixMax { get; } = new Option<int>("--mix-max") { Description = "Read at most this many replay objects per class (the first in the file); 0 = all.", DefaultValueFactory = _ => 0 }.AtLeast(0);

    public Option<double> AugmentDrop { get; } = Within(new Option<double>("--augment-drop") { Description = "Augmentation, drawn afresh every epoch: probability of dropping each point of a training light curve, in [0, 1).", DefaultValueFactory = _ => 0.0 }, 0, 1, highOpen: true);

    public Option<double> AugmentNoise { get; } = Within(new Option<double>("--augment-noise") { Description = "Augmentation: flux noise in units of each point's error (flux + s·σ·N(0,1)), in [0, 10].", DefaultValueFactory = _ => 0.0 }, 0, 10);

    public Option<double> AugmentLateStart { get; } = Within(new Option<double>("--augment-late-start") { Description = "Augmentation: probability that a light curve loses its first δ days (δ uniform in [0, --augment-late-days]), times then counted from the new first detection.", DefaultValueFactory = _ => 0.0 }, 0, 1);

    public Option<double> AugmentLateDays { get; } = Within(new Option<double>("--augment-late-days") { Description = "Augmentation: the longest late start in days, in (0, 1000].", DefaultValueFactory = _ => 10.0 }, 0, 1000, lowOpen: true);

    public Option<double> AugmentShiftMag { get; } = Within(new Option<double>("--augment-shift-mag") { Description = "Augmentation: each light curve made Δm fainter as a whole (flux and error × 10^(−0.4Δm): S/N kept), Δm uniform in [−s, s] magnitudes, s in [0, 5].", DefaultValueFactory = _ => 0.0 }, 0, 5);

    public Option<string?> DistillFrom { get; } = new Option<string?>("--distill-from") { Description = "Distillation with privileged information: a teacher package (e.g. one trained with redshift) scores every step of the training light curves with its own encoding and metadata, and the network learns from its probabilities beside the labels (not with replay or augmentation)." }.MustExist(PathKind.Directory);

    public Option<float> DistillWeight { get; } = Within(new Option<float>("--distill-weight") { Description = "Distillation: weight α of the teacher's probabilities in each step's target ((1 − α)·label + α·teacher), in (0, 1].", DefaultValueFactory = _ => 0.5f }, 0f, 1f, lowOpen: true);

    public Option<double> DistillTemperature { get; } = Within(new Option<double>("--distill-temperature") { Description = "Distillation: temperature T softening the teacher's probabilities (softmax of its logits / T), in (0, 100].", DefaultValueFactory = _ => 1.0 }, 0, 100, lowOpen: true);

    /// <summary>
    /// The options <c>evaluate</c> reads: the data (as train and finetune read it) and the split that picks a part of it —
    /// not the training settings, which it would only ignore.
    /// </summary>
    public void AddEvaluationOptionsTo(Command command)
    {
        // The same options as training's, read as evaluate reads them (this instance serves one command).
        NoMeta.Description = "Score a model that has a metadata branch with every metadata value unknown, as a worker without a metadata source does (a model without the branch gets none anyway).";
        Seed.Description = "With --split: the seed of the split to rebuild (default: the model's, from model.json; the default shown when it records none).";
        Validation.Description = "With --split: the validation fraction of the split to rebuild (default: the model's, from model.json; the default shown when it records none).";
        Test.Description = "With --split: the test fraction of the split to rebuild (default: the model's, from model.json; the default shown when it records none).";
        foreach (var o in new Option[] { Data, Labels, Survey, ClassMap, MaxSteps, DetectionsOnly, RedshiftColumn, NoMeta, EncodingName, Validation, Test, TestIds, ExcludeIds, Seed, Threads })
        {
            command.Options.Add(o);
        }
    }

    /// <summary>The checks of <see cref="SettingsProblem"/> on the options <see cref="AddEvaluationOptionsTo"/> adds.</summary>
    public string? DataSettingsProblem(ParseResult parse)
    {
        var inv = CultureInfo.InvariantCulture;
        var validation = parse.GetValue(Validation);
        var test = parse.GetValue(Test);
        return parse.GetValue(MaxSteps) < 1 ? $"--max-steps must be at least 1, not {parse.GetValue(MaxSteps)}."
            : !(validation is >= 0 and < 1) ? string.Create(inv, $"--val must be in [0, 1), not {validation}.")
            : !(test is >= 0 and < 1) ? string.Create(inv, $"--test must be in [0, 1), not {test}.")
            : validation + test >= 1 ? string.Create(inv, $"--val and --test leave no training objects ({validation} + {test} ≥ 1).")
            : parse.GetValue(Threads) is < 1 or > 256 ? $"--threads must be in [1, 256], not {parse.GetValue(Threads)}."
            : null;
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { DistillFrom, DistillWeight, DistillTemperature, Data, Labels, Survey, ClassMap, Classes, MaxSteps, DetectionsOnly, RedshiftColumn, NoMeta, EncodingName, Validation, Test, TestIds, ExcludeIds, Seed, Epochs, Batch, LearningRate, Patience, Threads, Checkpoints, StepLoss, Select, Out, Name, Version, Surveys, Unweighted, ClassWeights, L2Sp, GruLrScale, MixData, MixRatio, MixWeight, MixClasses, MixMax, AugmentDrop, AugmentNoise, AugmentLateStart, AugmentLateDays, AugmentShiftMag, Quiet })
        {
            command.Options.Add(o);
        }
    }

    /// <summary>
    /// The <c>--exclude-ids</c> file <see cref="LoadData"/> left out of the data (null when none): recorded in the split,
    /// since a split by fractions draws its parts from what is left.
    /// </summary>
    public HoldoutIds? ExcludedIds { get; private set; }

    /// <summary>
    /// Reads --data (CSV pairs, or alerts with --labels). <paramref name="modelSurveys"/>: the surveys of the model the
    /// data are for; when it is one survey, it is the survey of CSV bands whose file and folder names do not say.
    /// </summary>
    public LabelledDataset LoadData(ParseResult parse, CancellationToken ct, bool? detectionsOnly = null, IReadOnlyList<string>? modelSurveys = null)
    {
        ExcludedIds = null;
        var paths = parse.GetValue(Data) ?? [];
        if (paths.Length == 0)
        {
            throw new ArgumentException("--data is required.");
        }

        var mapFile = parse.GetValue(ClassMap);
        var options = new CsvReadOptions
        {
            Survey = parse.GetValue(Survey),
            FallbackSurvey = modelSurveys is [var only] ? only : null,
            DetectionsOnly = detectionsOnly ?? parse.GetValue(DetectionsOnly),
            RedshiftColumn = parse.GetValue(RedshiftColumn) ?? "redshift",
        };
        var data = Readable(DatasetLoader.Load(paths, parse.GetValue(Labels), options, mapFile is null ? null : ClassMapping.Load(mapFile), ct), "--data");

        if (parse.GetValue(ExcludeIds) is { } excluded)
        {
            var held = HoldoutIds.Read(excluded);
            ExcludedIds = held;
            var kept = held.Select(data, inside: false);
            if (kept.Objects.Count == data.Objects.Count)
            {
                // Nothing left out: the wrong file (another set's ids, a CSV whose lines are not ids), and the objects
                // meant to be held out took part without a word, as a --test-ids file none of whose ids matched did.
                throw new IdsNotInDataException($"--exclude-ids: {NoneOfTheIds(held)}, so it would leave nothing out (ids are matched exactly against the object_id column)");
            }

            if (kept.Objects.Count == 0)
            {
                // Every object left out: train said "needs at least two classes; the data hold 0 (; --class-map may have
                // merged them)" and evaluate "no objects of the model's classes in the data" (until 2026-12-07).
                throw new IdsNotInDataException(string.Create(CultureInfo.InvariantCulture, $"--exclude-ids {excluded} lists every one of the {data.Objects.Count} objects of --data: nothing is left; exclude only some of them"));
            }

            data = new LabelledDataset($"{data.Name} without the {data.Objects.Count - kept.Objects.Count} ids in {excluded}", kept.Objects) { Rejected = data.Rejected, LeftOut = data.LeftOut, UnknownMetadata = data.UnknownMetadata };
        }

        Say(data.Rejected, null);
        Say(data.UnknownMetadata, null);
        return data;
    }

    /// <summary>
    /// <paramref name="data"/> as read for <paramref name="option"/>, refused (<see cref="InvalidDataException"/>) when it
    /// holds no labelled light curve, saying why: how many objects had no usable observation or no label, and the rows left
    /// out by reason with the first one's file and line (it said "12 rows left out" and not that every MJD was a JD).
    /// </summary>
    internal static LabelledDataset Readable(LabelledDataset data, string option)
    {
        if (data.Objects.Count == 0)
        {
            // A file with a header and no rows (or no object both labelled and observed) went on to fail later with a
            // message about classes or an empty split that did not say the data were empty.
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{(option == "--data" ? string.Empty : option + " ")}{data.Name}: no labelled light curve to read ({data.LeftOut.WithoutObservations} labelled objects without a usable observation, {data.LeftOut.WithoutLabel} light curves without a label{(data.Rejected.Total > 0 ? $"; {data.Rejected}" : string.Empty)})."));
        }

        return data;
    }

    // One line on stderr for rows left out or metadata read as unknown (nothing when there are none), naming the option
    // the data came from when it is not --data.
    private static void Say(RejectedRows counted, string? option)
    {
        if (counted.Total > 0)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape((option is null ? string.Empty : option + ": ") + counted)}[/]");
        }
    }

    /// <summary>{reason: count} for model.json (null when nothing was counted).</summary>
    internal static JsonObject? Counts(RejectedRows counted)
    {
        if (counted.Total == 0)
        {
            return null;
        }

        var json = new JsonObject();
        foreach (var (reason, count) in counted.ByReason)
        {
            json[reason] = count;
        }

        return json;
    }

    /// <summary>Says on stderr which objects of the data were left out of <paramref name="encoded"/> and why, if any were.</summary>
    public static void ReportLeftOut(EncodedDataset encoded, string whose = "the model")
    {
        if (encoded.LeftOut.Total > 0)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape(encoded.LeftOut.Describe(encoded.Classes, whose))}[/]");
        }
    }

    /// <summary>The encoding named by <c>--encoding</c> (default alertbroker-lc); throws <see cref="ArgumentException"/> for an unknown one.</summary>
    public IStepEncoding StepEncoding(ParseResult parse) =>
        parse.GetValue(EncodingName) is { } name ? StepEncodings.Parse(name) : StepEncodings.Default;

    /// <summary>Whether the network gets a metadata branch: not with --no-meta, nor with an encoding that has no metadata features.</summary>
    public bool UsesMetadata(ParseResult parse, IStepEncoding encoding) => !parse.GetValue(NoMeta) && encoding.MetaFeatureCount > 0;

    public EncodingOptions Encoding(ParseResult parse, IStepEncoding encoding) => new()
    {
        MaxSteps = parse.GetValue(MaxSteps),
        Metadata = UsesMetadata(parse, encoding) ? MetadataUse.Known : MetadataUse.None,
        Encoding = encoding,
    };

    public static StepLoss ParseStepLoss(string text) => text.Trim().ToLowerInvariant() switch
    {
        "all" => AlertBroker.Training.Training.StepLoss.AllSteps,
        "object" => AlertBroker.Training.Training.StepLoss.PerObject,
        "last" => AlertBroker.Training.Training.StepLoss.LastStep,
        "checkpoints" => AlertBroker.Training.Training.StepLoss.Checkpoints,
        _ => throw new ArgumentException($"--step-loss must be all, object, last or checkpoints, not '{text}'."),
    };

    public static double ParseClassWeightPower(string text) => text.Trim().ToLowerInvariant() switch
    {
        "inverse" => 1,
        "sqrt" => 0.5,
        "none" => 0,
        _ => throw new ArgumentException($"--class-weights must be inverse, sqrt or none, not '{text}'."),
    };

    /// <summary>
    /// The replay pool of --mix-data, encoded like the training data (null without --mix-data). Its survey comes from its
    /// own file or folder names, <c>--survey</c> only where they do not say: <c>--survey</c> describes <c>--data</c>, and
    /// before, ZTF simulations replayed while fine-tuning on LSST (<c>--survey lsst</c>) were read as LSST g and r, at
    /// LSST's wavelengths, without a word. <paramref name="pool"/> is the mix data as read (rows and objects left out
    /// counted; said on stderr as for --data, and recorded in model.json).
    /// </summary>
    public ReplayOptions? Replay(ParseResult parse, IReadOnlyList<string> classes, LabelledDataset data, out LabelledDataset? pool, CancellationToken ct)
    {
        pool = null;
        var paths = parse.GetValue(MixData) ?? [];
        if (paths.Length == 0)
        {
            return null;
        }

        var options = new CsvReadOptions
        {
            FallbackSurvey = parse.GetValue(Survey),
            DetectionsOnly = parse.GetValue(DetectionsOnly),
            RedshiftColumn = parse.GetValue(RedshiftColumn) ?? "redshift",
        };
        pool = Readable(DatasetLoader.Load(paths, null, options, null, ct), "--mix-data");
        Say(pool.Rejected, "--mix-data");
        Say(pool.UnknownMetadata, "--mix-data");
        var encoding = StepEncoding(parse);
        if (MixSurveyNote(ModelIo.SurveysOf(data), pool, encoding) is { } note)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape(note)}[/]");
        }

        var keep = parse.GetValue(MixClasses) is { } list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal)
            : classes.ToHashSet(StringComparer.Ordinal);
        foreach (var name in keep)
        {
            if (!classes.Contains(name))
            {
                throw new ArgumentException($"--mix-classes names '{name}', which is not one of the model's classes ({string.Join(", ", classes)}).");
            }
        }

        var max = parse.GetValue(MixMax);
        var taken = new Dictionary<string, int>(StringComparer.Ordinal);
        var objects = new List<LabelledObject>();
        foreach (var o in pool.Objects)
        {
            if (!keep.Contains(o.Class) || (max > 0 && taken.GetValueOrDefault(o.Class) >= max))
            {
                continue;
            }

            taken[o.Class] = taken.GetValueOrDefault(o.Class) + 1;
            objects.Add(o);
        }

        var encoded = EncodedDataset.Encode(new LabelledDataset(pool.Name, objects) { LeftOut = pool.LeftOut }, classes, Encoding(parse, encoding));
        if (encoded.LeftOut.Total > 0)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]--mix-data: {Markup.Escape(encoded.LeftOut.Describe(encoded.Classes))}[/]");
        }

        if (encoded.Count == 0)
        {
            throw new ArgumentException($"--mix-data has no objects of the classes {string.Join(", ", keep)}.");
        }

        var replay = new ReplayOptions { Pool = encoded, Ratio = parse.GetValue(MixRatio), Weight = parse.GetValue(MixWeight) };
        replay.Validate();
        return replay;
    }

    /// <summary>
    /// A warning when <c>--surveys</c> names a survey whose bands neither the training data nor the replay pool hold (null
    /// otherwise): such a model is routed that survey's alerts (the registry keeps one model per survey) and was never
    /// shown a light curve of it, e.g. <c>--surveys lsst</c> on ZTF data. It was accepted without a word.
    /// </summary>
    public static string? UnseenSurveysNote(IReadOnlyList<string> declared, LabelledDataset data, LabelledDataset? mixPool)
    {
        ArgumentNullException.ThrowIfNull(declared);
        var seen = ModelIo.SurveysOf(data).Concat(mixPool is null ? [] : ModelIo.SurveysOf(mixPool)).Distinct(StringComparer.Ordinal).ToList();
        var unseen = declared.Where(s => !seen.Contains(s, StringComparer.Ordinal)).ToList();
        return unseen.Count == 0 || seen.Count == 0
            ? null
            : $"warning: --surveys {string.Join(",", declared)}: the training data hold no {string.Join(" or ", unseen)} bands (they hold {string.Join(", ", seen)}), so the model is declared for alerts it has never been shown; workers route every {string.Join(" and ", unseen)} alert to it once it is promoted for that survey. Train or fine-tune on that survey's light curves, or leave it out of --surveys.";
    }

    /// <summary>
    /// A warning when the <c>--distill-from</c> teacher does not declare a survey of the training data's bands (null
    /// otherwise): its probabilities on those light curves are not what it was made for, and the student learns from them.
    /// </summary>
    public static string? TeacherSurveysNote(TrainedModel teacher, LabelledDataset data)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        if (teacher.Manifest is not { } manifest)
        {
            return null;
        }

        var other = ModelIo.SurveysOf(data).Where(s => !manifest.IsForSurvey(s)).ToList();
        return other.Count == 0
            ? null
            : $"warning: --distill-from {manifest.Name} {manifest.Version} was not trained for the {string.Join(" and ", other)} survey{(other.Count > 1 ? "s" : string.Empty)} of the training data (it declares {string.Join(", ", manifest.EffectiveSurveys)}): the student learns from its probabilities on light curves it was not made for.";
    }

    /// <summary>
    /// One line when the replay pool's bands are another survey's than the training data's (null when they are the same):
    /// each keeps its own survey's wavelengths, which the user should know. Throws <see cref="ArgumentException"/> when the
    /// encoding has no wavelength for a band of the pool (it could not represent those points).
    /// </summary>
    public static string? MixSurveyNote(IReadOnlyList<string> dataSurveys, LabelledDataset pool, IStepEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(dataSurveys);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(encoding);
        var unknown = pool.Objects.SelectMany(o => o.Observations).Select(o => LightCurveEncoding.BandKey(o.Band))
            .Where(k => !encoding.BandWavelengthsMicron.ContainsKey(k)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"--mix-data {pool.Name} has bands {string.Join(", ", unknown)}, which the encoding {encoding.Id} cannot represent (it knows {string.Join(", ", encoding.BandWavelengthsMicron.Keys)}).");
        }

        var mix = ModelIo.SurveysOf(pool);
        return mix.SequenceEqual(dataSurveys, StringComparer.Ordinal)
            ? null
            : $"replay: --mix-data holds {string.Join("+", mix)} bands and --data {string.Join("+", dataSurveys)} bands; each keeps its own survey's wavelengths (the mix data's survey comes from its file or folder names, --survey only where they do not say).";
    }

    /// <summary>
    /// The first setting that is out of its range, as one line (null: all fine). Checked before any data are read, so a
    /// bad number is refused at once instead of training with it (a negative learning rate, zero epochs) or failing
    /// deep inside (a zero batch, a negative step limit).
    /// </summary>
    public string? SettingsProblem(ParseResult parse)
    {
        var inv = CultureInfo.InvariantCulture;
        var problem = DataSettingsProblem(parse)
            ?? (parse.GetValue(Epochs) < 1 ? $"--epochs must be at least 1, not {parse.GetValue(Epochs)}."
            : parse.GetValue(Batch) < 1 ? $"--batch must be at least 1, not {parse.GetValue(Batch)}."
            : parse.GetValue(Patience) < 0 ? $"--patience must be 0 (off) or more, not {parse.GetValue(Patience)}."
            : parse.GetValue(LearningRate) is { } lr && !(float.IsFinite(lr) && lr > 0) ? string.Create(inv, $"--lr must be a positive number, not {lr}.")
            : !(parse.GetValue(DistillWeight) is > 0 and <= 1) ? string.Create(inv, $"--distill-weight must be in (0, 1], not {parse.GetValue(DistillWeight)}.")
            : !(parse.GetValue(DistillTemperature) is > 0 and <= 100) ? string.Create(inv, $"--distill-temperature must be in (0, 100], not {parse.GetValue(DistillTemperature)}.")
            : parse.GetValue(Out) is { } output ? Commands.DerivedPackages.OutNamesProblem(output, parse.GetValue(Name), parse.GetValue(Version))
            : null);
        if ((problem ?? DependencyProblem(parse)) is { } found)
        {
            return found;
        }

        try
        {
            _ = ParseStepLoss(parse.GetValue(StepLoss)!);
            _ = ParseSelection(parse.GetValue(Select)!);
            return null;
        }
        catch (ArgumentException e)
        {
            return CliHelpers.PlainMessage(e);
        }
    }

    /// <summary>
    /// Options that only mean something beside another: --mix-* without --mix-data, --distill-weight/--distill-temperature
    /// without --distill-from and --augment-late-days without --augment-late-start were silently ignored; distillation with
    /// replay or augmentation was refused only after the data were read.
    /// </summary>
    private string? DependencyProblem(ParseResult parse)
    {
        var mixing = (parse.GetValue(MixData) ?? []).Length > 0;
        var distilling = parse.GetValue(DistillFrom) is not null;
        if (!mixing && new Option[] { MixRatio, MixWeight, MixClasses, MixMax }.FirstOrDefault(o => Given(parse, o)) is { } mix)
        {
            return $"{mix.Name} sets up replay: it needs --mix-data.";
        }

        if (!distilling && new Option[] { DistillWeight, DistillTemperature }.FirstOrDefault(o => Given(parse, o)) is { } distill)
        {
            return $"{distill.Name} sets up distillation: it needs --distill-from.";
        }

        if (Given(parse, AugmentLateDays) && !(parse.GetValue(AugmentLateStart) > 0))
        {
            // Without a late-start probability the longest late start was read and ignored.
            return "--augment-late-days sets the longest late start: it needs --augment-late-start above 0.";
        }

        if (distilling && (mixing || new Option[] { AugmentDrop, AugmentNoise, AugmentLateStart, AugmentShiftMag }.Any(o => Given(parse, o) && parse.GetValue((Option<double>)o) > 0)))
        {
            return "--distill-from cannot be combined with --mix-data or --augment-*: the teacher's probabilities are for the light curves as they are.";
        }

        // Both judge epochs on the validation part. With none they were ignored without a word (every epoch "val macro
        // AUROC NaN", the last epoch kept).
        if (parse.GetValue(Validation) <= 0 && (Given(parse, Select) ? (Option)Select : Given(parse, Patience) && parse.GetValue(Patience) > 0 ? (Option)Patience : null) is { } judged)
        {
            return $"{judged.Name} judges epochs on the validation part, and --val 0 leaves none: give --val above 0, or leave {judged.Name} out (the last epoch is kept).";
        }

        return null;
    }

    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>Whether --out and --checkpoints can be written (said on stderr when not), checked before any training.</summary>
    public bool CanWriteOutputs(ParseResult parse)
    {
        if (!CliHelpers.CanWriteDirectory(parse.GetValue(Out)) || !CliHelpers.CanWriteDirectory(parse.GetValue(Checkpoints)))
        {
            return false;
        }

        // A directory where a package file goes was refused only after the training, as an "unexpected error" (exit 70).
        if (StagedPackage.TargetProblem(parse.GetValue(Out), StagedPackage.TrainedFileNames) is { } problem)
        {
            CliHelpers.CannotWrite(parse.GetValue(Out)!, problem);
            return false;
        }

        return true;
    }

    public AugmentationOptions? Augmentation(ParseResult parse)
    {
        var options = new AugmentationOptions
        {
            DropProbability = parse.GetValue(AugmentDrop),
            NoiseScale = parse.GetValue(AugmentNoise),
            LateStartProbability = parse.GetValue(AugmentLateStart),
            LateStartDays = parse.GetValue(AugmentLateDays),
            MagnitudeShift = parse.GetValue(AugmentShiftMag),
        };
        options.Validate();
        return options.IsActive ? options : null;
    }

    public static SelectionMetric ParseSelection(string text) => text.Trim().ToLowerInvariant() switch
    {
        "loss" => SelectionMetric.Loss,
        "auroc" => SelectionMetric.Auroc,
        "early-auroc" => SelectionMetric.EarlyAuroc,
        _ => throw new ArgumentException($"--select must be loss, auroc or early-auroc, not '{text}'."),
    };

    /// <summary>
    /// The train / validation / test parts: with --test-ids, the listed objects are the test part and the validation part
    /// is a stratified, seeded share of the rest; otherwise one stratified, seeded split with --val and --test.
    /// </summary>
    public (int[] Train, int[] Validation, int[] Test, HoldoutIds? Holdout) Split(ParseResult parse, EncodedDataset encoded)
    {
        var seed = parse.GetValue(Seed);
        if (parse.GetValue(TestIds) is not { } file)
        {
            var split = DatasetSplit.Stratified(encoded.Labels, parse.GetValue(Validation), parse.GetValue(Test), seed);
            return (split.Train, split.Validation, split.Test, null);
        }

        var holdout = HoldoutIds.Read(file);
        var test = holdout.Select(encoded, inside: true);
        ReportIdsNotRead(holdout, test.Length);
        var rest = holdout.Select(encoded, inside: false);
        var restLabels = rest.Select(i => encoded.Labels[i]).ToArray();
        var inner = DatasetSplit.Stratified(restLabels, parse.GetValue(Validation), 0, seed);
        return ([.. inner.Train.Select(i => rest[i])], [.. inner.Validation.Select(i => rest[i])], test, holdout);
    }

    /// <summary>
    /// An ids file that does not fit the data: none of its ids is in them, or (--exclude-ids) all of them are. A usage
    /// error (exit 2), as for --test-ids.
    /// </summary>
    internal sealed class IdsNotInDataException(string message) : IOException(message);

    /// <summary>
    /// Says, when some ids of a test-ids file are not among the objects read, how many the test part lacks: only "none of
    /// the ids" was said, and a test part short of listed objects was reported as the listed one.
    /// </summary>
    public static void ReportIdsNotRead(HoldoutIds holdout, int found)
    {
        ArgumentNullException.ThrowIfNull(holdout);
        if (found < holdout.Count)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"--test-ids: {holdout.Count - found:N0} of the {holdout.Count:N0} ids in {holdout.Source} are not among the objects read (not in the data, or left out as said above): the test part has {found:N0}")));
        }
    }

    public static string NoneOfTheIds(HoldoutIds ids) => $"none of the {ids.Count} ids in {ids.Source} is in the data";

    /// <summary>
    /// Checks a class list against the data it was encoded from: a name given twice is refused (exit 2); a class no object
    /// has is refused (exit 1, the data's classes listed: a typo would otherwise go unnoticed) when
    /// <paramref name="refuseAbsent"/>, else said (fine-tuning keeps it as the base knew it). Null when all is well.
    /// </summary>
    public static int? CheckClasses(LabelledDataset data, EncodedDataset encoded, bool refuseAbsent)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(encoded);
        var console = CliHelpers.Stderr;
        var classes = encoded.Classes;
        if (classes.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
        {
            console.MarkupLine($"[red]--classes names {Markup.Escape(repeated.Key)} twice[/]");
            return 2;
        }

        var counts = encoded.ClassCounts();
        var absent = classes.Where((_, i) => counts[i] == 0).ToList();
        if (absent.Count == 0)
        {
            return null;
        }

        var inData = string.Join(", ", data.ClassCounts().OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"));
        if (refuseAbsent)
        {
            console.MarkupLine($"[red]no object of the data is of class {Markup.Escape(string.Join(", ", absent))}[/] (the data's classes: {Markup.Escape(inData)}; names are case-sensitive; --class-map renames)");
            return 1;
        }

        console.MarkupLine($"[yellow]no object of the data is of class {Markup.Escape(string.Join(", ", absent))}: kept as the base model knew it, not trained here[/] (the data's classes: {Markup.Escape(inData)})");
        return null;
    }

    /// <summary>
    /// Encodes, splits, trains from <paramref name="initial"/>, evaluates on the test part and exports the package.
    /// The class list is checked first (<see cref="CheckClasses"/>; <paramref name="fromScratch"/> refuses an absent class).
    /// </summary>
    public int Run(ParseResult parse, LabelledDataset data, IReadOnlyList<string> classes, Func<IReadOnlyList<string>, GruClassifierWeights> initial, TrainableLayers trainable, float defaultLearningRate, JsonObject provenance, IStepEncoding encoding, CancellationToken ct, bool fromScratch = false)
    {
        var console = CliHelpers.Stderr;
        if (classes.Count < 2)
        {
            // One class has nothing to tell apart: the network would learn a constant and its AUROC is undefined. A
            // usage error when --classes named one, a data problem when the data hold only one.
            if (Given(parse, Classes))
            {
                console.MarkupLine($"[red]a classifier needs at least two classes, not {classes.Count}[/] ({Markup.Escape(string.Join(", ", classes))}; from --classes)");
                return 2;
            }

            // Where the objects went is said: "(; --class-map may have merged them)" was said of data that --exclude-ids had
            // emptied, and of data read without a class map.
            var whence = new List<string>();
            if (classes.Count > 0)
            {
                whence.Add(string.Join(", ", classes));
            }

            if (ExcludedIds is { } excludedHere)
            {
                whence.Add($"after --exclude-ids {excludedHere.Source} left its objects out");
            }

            if (Given(parse, ClassMap))
            {
                whence.Add("--class-map may have merged them");
            }

            console.MarkupLine($"[red]a classifier needs at least two classes; the data hold {classes.Count}[/]{Markup.Escape(whence.Count == 0 ? string.Empty : $" ({string.Join("; ", whence)})")}");
            return 1;
        }

        // A class name no package may hold (a label of 70 characters, one with a comma): until 2026-12-07 found only when the
        // package was written, after every epoch, and said as "training diverged; lower the learning rate" (exit 1).
        if (classes.Select(c => (Name: c, Problem: ModelPackage.ClassNameProblem(c))).FirstOrDefault(p => p.Problem is not null) is { Problem: { } problem } badName)
        {
            console.MarkupLine($"[red]class '{Markup.Escape(ModelPackage.ShownShort(badName.Name))}' of the data cannot be a class name:[/] {Markup.Escape(problem)}; rename it with --class-map (a line 'from,to')");
            return 1;
        }

        var encoded = EncodedDataset.Encode(data, classes, Encoding(parse, encoding));
        if (encoded.Count == 0)
        {
            console.MarkupLine("[red]no objects of the chosen classes have observations[/]");
            return 1;
        }

        if (CheckClasses(data, encoded, refuseAbsent: fromScratch) is { } refused)
        {
            return refused;
        }

        var seed = parse.GetValue(Seed);
        (int[] Train, int[] Validation, int[] Test, HoldoutIds? Holdout) split;
        try
        {
            split = Split(parse, encoded);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            console.MarkupLine($"[red]cannot read the test ids:[/] {Markup.Escape(e.Message)}");
            return 1;
        }

        if (split.Holdout is { } ids && split.Test.Length == 0)
        {
            // It trained with "test 0" and exported a package whose provenance names a test set it never saw.
            console.MarkupLine($"[red]{Markup.Escape(NoneOfTheIds(ids))}[/] (ids are matched exactly against the object_id column, after --class-map and the class list)");
            return 2;
        }

        if (split.Train.Length == 0)
        {
            // Nothing left to train on: the trainer threw "The training set is empty" ("unexpected error", exit 70) until
            // 2026-12-07. A usage error: fractions, or an ids file, that take every object.
            var inv = CultureInfo.InvariantCulture;
            if (split.Holdout is { } every && split.Validation.Length == 0)
            {
                // Exit 2 as for a --test-ids file none of whose ids is in the data: the file does not fit the data.
                console.MarkupLine($"[red]{Markup.Escape(string.Create(inv, $"--test-ids {every.Source} lists every one of the {encoded.Count} objects of the data: none is left to train on; hold out only some of them, or give more data"))}[/]");
                return 2;
            }

            var why = split.Holdout is { } some
                ? string.Create(inv, $"--val {parse.GetValue(Validation)} takes all {split.Validation.Length} objects --test-ids {some.Source} does not hold out: none is left to train on; give a smaller --val")
                : string.Create(inv, $"--val {parse.GetValue(Validation)} and --test {parse.GetValue(Test)} take all {encoded.Count} objects ({ModelCard.Counts(encoded)}) between them: none is left to train on; give smaller fractions");
            console.MarkupLine($"[red]{Markup.Escape(why)}[/]");
            return 2;
        }

        var train = encoded.Subset(split.Train);
        var validation = split.Validation.Length > 0 ? encoded.Subset(split.Validation) : null;
        var test = split.Test.Length > 0 ? encoded.Subset(split.Test) : null;
        ReportLeftOut(encoded);
        console.MarkupLine($"[grey]{encoded.Count} objects ({ModelCard.Counts(encoded)}); train {train.Count}, validation {validation?.Count ?? 0}, test {test?.Count ?? 0}; {encoded.TotalSteps} steps[/]");

        if (parse.GetValue(MixClasses) is { } mixList && mixList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(n => !classes.Contains(n)) is { } notModel)
        {
            console.MarkupLine($"[red]--mix-classes names '{Markup.Escape(notModel)}', which is not one of the model's classes[/] ({Markup.Escape(string.Join(", ", classes))}; names are case-sensitive)");
            return 2;
        }

        var weights = initial(classes);
        ReplayOptions? replay;
        LabelledDataset? mixPool;
        AugmentationOptions? augmentation;
        double classWeightPower;
        try
        {
            replay = Replay(parse, classes, data, out mixPool, ct);
            augmentation = Augmentation(parse);
            if (parse.GetValue(DistillFrom) is { } teacherDir)
            {
                if (replay is not null || augmentation is not null)
                {
                    throw new ArgumentException("--distill-from cannot be combined with --mix-data or --augment-*: the teacher's probabilities are for the light curves as they are.");
                }

                var teacher = ModelIo.LoadPackage(teacherDir);
                if (!teacher.Classes.SequenceEqual(classes, StringComparer.Ordinal))
                {
                    // Distillation.TeacherTargets refused this with a raw "(Parameter 'teacher')" after the data were encoded.
                    var sameSet = teacher.Classes.Count == classes.Count && teacher.Classes.All(classes.Contains);
                    console.MarkupLine(sameSet
                        ? $"[red]--distill-from {Markup.Escape(teacherDir)}: the teacher's classes are in another order[/] ({Markup.Escape(string.Join(", ", teacher.Classes))}; here {Markup.Escape(string.Join(", ", classes))}): give --classes {Markup.Escape(string.Join(',', teacher.Classes))}"
                        : $"[red]--distill-from {Markup.Escape(teacherDir)}: the teacher's classes ({Markup.Escape(string.Join(", ", teacher.Classes))}) are not the classes trained here ({Markup.Escape(string.Join(", ", classes))})[/]: distil from a teacher with the same classes");
                    return 2;
                }

                if (TeacherSurveysNote(teacher, data) is { } teacherNote)
                {
                    CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape(teacherNote)}[/]");
                }

                var temperature = parse.GetValue(DistillTemperature);
                train = train.WithSoftTargets(Distillation.TeacherTargets(teacher, data, train, parse.GetValue(MaxSteps), temperature, parse.GetValue(Threads)));
                var withRedshift = data.Objects.Count(o => double.IsFinite(o.Redshift));
                console.MarkupLine($"[grey]distillation: teacher {Markup.Escape($"{teacher.Manifest?.Name} {teacher.Manifest?.Version}")} ({(teacher.Weights.Config.MetaFeatures > 0 ? $"with metadata; redshift known for {withRedshift} of {data.Objects.Count} objects" : "no metadata")}), weight {parse.GetValue(DistillWeight).ToString(CultureInfo.InvariantCulture)}, temperature {temperature.ToString(CultureInfo.InvariantCulture)}[/]");
                provenance["distillation"] = new JsonObject
                {
                    ["teacher"] = new JsonObject { ["name"] = teacher.Manifest?.Name, ["version"] = teacher.Manifest?.Version, ["sha256"] = teacher.Manifest?.Onnx.Sha256, ["path"] = teacherDir },
                    ["weight"] = parse.GetValue(DistillWeight),
                    ["temperature"] = temperature,
                };
            }
            classWeightPower = parse.GetValue(Unweighted) ? 0 : ParseClassWeightPower(parse.GetValue(ClassWeights)!);
        }
        catch (ModelPackageException e)
        {
            // --distill-from a teacher a worker would refuse: "model unusable", exit 3, as for the base.
            return ModelCli.ReportModelUnusable(e, "--distill-from");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException or KeyNotFoundException)
        {
            console.MarkupLine($"[red]cannot start:[/] {Markup.Escape(e.Message)}");
            return 1;
        }

        if (replay is not null)
        {
            console.MarkupLine($"[grey]replay: {replay.Pool.Count} objects ({ModelCard.Counts(replay.Pool)}) from {Markup.Escape(string.Join(';', parse.GetValue(MixData) ?? []))}, {replay.Ratio.ToString(CultureInfo.InvariantCulture)} per training object per epoch, weight {replay.Weight.ToString(CultureInfo.InvariantCulture)}[/]");
        }

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
            WeightClasses = classWeightPower > 0,
            ClassWeightPower = classWeightPower,
            StepLoss = ParseStepLoss(parse.GetValue(StepLoss)!),
            Selection = ParseSelection(parse.GetValue(Select)!),
            L2SpAlpha = parse.GetValue(L2Sp),
            GruLearningRateScale = parse.GetValue(GruLrScale),
            Replay = replay,
            Augmentation = augmentation,
            DistillationWeight = train.HasSoftTargets ? parse.GetValue(DistillWeight) : 0,
        };
        if (validation is not null && options.Selection != SelectionMetric.Loss && validation.Labels.Distinct().Count() < 2)
        {
            // Its macro AUROC is NaN every epoch, and the selection fell back to the validation loss without a word.
            console.MarkupLine(Markup.Escape($"warning: --select {parse.GetValue(Select)}: the validation part's {validation.Count} objects are all of one class, so its AUROC is not defined; epochs are judged by the validation loss instead."));
        }

        console.MarkupLine($"[grey]training {Markup.Escape(trainable.ToString())} of {weights.ParameterCount} parameters, lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {options.BatchSize}, step loss {options.StepLoss}, selection by {options.Selection}, {options.Threads} thread(s)[/]");
        TrainingResult result;
        try
        {
            result = TrainWithProgress(weights, train, validation, options, parse.GetValue(Quiet), ct);
        }
        catch (TrainingDivergedException e)
        {
            // Nothing is exported: the weights are no network (a NaN package passed as trained, exit 0, until 2026-12-07).
            console.MarkupLine($"[red]cannot train:[/] {Markup.Escape(e.Message)}; nothing was written");
            return 1;
        }

        console.MarkupLine($"[green]best epoch {result.BestEpoch}[/] of {result.History.Count}{(result.StoppedEarly ? " (early stop)" : string.Empty)}");

        // A test part of one class has no figures (one class against the rest needs two): it printed "macro AUROC NaN,
        // macro F1 1.000" and wrote NaN into evaluation.json, exit 0. Said instead, and no test figures are written.
        var testClasses = test is null ? 0 : test.Labels.Distinct().Count();
        if (test is not null && testClasses < 2)
        {
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"warning: the test part's {test.Count} objects are all of class {test.Classes[test.Labels[0]]}: no test figures (macro AUROC needs two classes). Classes with few objects may have none in it: {ModelCard.Counts(train)}; give more objects per class, a larger --test, or --test-ids.")));
        }

        var report = test is not null && testClasses >= 2 ? EvaluationReport.Evaluate(result.Weights, test, options.Threads) : null;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal) { ["bestEpoch"] = result.BestEpoch, ["epochs"] = result.History.Count };
        if (report is not null)
        {
            metrics["testMacroAuroc"] = report.MacroAuroc;
            metrics["testMacroF1"] = report.MacroF1;
            metrics["testAccuracy"] = report.Accuracy;
            metrics["testMeanEarlyMacroAuroc"] = report.MeanEarlyMacroAuroc;
            foreach (var p in report.Early)
            {
                metrics[string.Create(CultureInfo.InvariantCulture, $"testMacroAurocDay{p.Days:0}")] = p.MacroAuroc;
            }

        }

        // Said once the package is known to be usable: a "test: macro AUROC …" line came before "training diverged"
        // (nothing written) until 2026-12-07.
        void SayTestFigures()
        {
            if (report is null)
            {
                return;
            }

            console.MarkupLine($"test: macro AUROC [bold]{ReportWriter.N(report.MacroAuroc)}[/], macro F1 {ReportWriter.N(report.MacroF1)}, accuracy {ReportWriter.N(report.Accuracy)} ({test!.Count} objects); early: {string.Join(", ", report.Early.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Days:0} d {ReportWriter.N(p.MacroAuroc)}")))}");
            if (report.ClassesWithoutObjects() is { Count: > 0 } absent)
            {
                // As evaluate says it: the macro figures silently averaged fewer classes than the model has.
                console.MarkupLine($"[yellow]no object of class {Markup.Escape(string.Join(", ", absent))} in the test part: the macro figures average the other {report.PerClass.Count - absent.Count} classes[/]");
            }
        }

        var outDir = parse.GetValue(Out);
        if (outDir is null)
        {
            SayTestFigures();
            console.MarkupLine("[yellow]no --out: nothing exported[/]");
            return 0;
        }

        var full = Path.GetFullPath(outDir);
        var (name, version) = Commands.DerivedPackages.NamesFor(outDir, parse.GetValue(Name), parse.GetValue(Version));
        provenance["split"] = new JsonObject
        {
            ["seed"] = seed,
            ["validationFraction"] = parse.GetValue(Validation),
            ["testFraction"] = split.Holdout is null ? parse.GetValue(Test) : null,
            ["testIds"] = split.Holdout?.Source,
            ["testIdsSha256"] = split.Holdout?.Sha256,
            ["excludeIds"] = ExcludedIds?.Source,
            ["excludeIdsSha256"] = ExcludedIds?.Sha256,
            ["train"] = train.Count,
            ["validation"] = validation?.Count ?? 0,
            ["test"] = test?.Count ?? 0,
        };
        provenance["encoding"] = new JsonObject { ["name"] = encoding.Id.Name, ["version"] = encoding.Id.Version, ["maxSteps"] = parse.GetValue(MaxSteps), ["metadata"] = UsesMetadata(parse, encoding), ["detectionsOnly"] = parse.GetValue(DetectionsOnly) };
        provenance["trainable"] = trainable.ToString();
        provenance["learningRate"] = options.LearningRate;
        provenance["batch"] = options.BatchSize;
        provenance["stepLoss"] = parse.GetValue(StepLoss);
        provenance["selection"] = parse.GetValue(Select);
        provenance["classWeights"] = ModelCard.ClassWeightText(options);
        if (options.L2SpAlpha > 0)
        {
            provenance["l2sp"] = options.L2SpAlpha;
        }

        if (options.GruLearningRateScale != 1)
        {
            provenance["gruLearningRateScale"] = options.GruLearningRateScale;
        }

        if (replay is not null)
        {
            provenance["replay"] = new JsonObject
            {
                ["data"] = string.Join(';', parse.GetValue(MixData) ?? []),
                ["surveys"] = new JsonArray([.. ModelIo.SurveysOf(mixPool!).Select(x => (JsonNode?)x)]),
                ["rejectedRows"] = Counts(mixPool!.Rejected),
                ["metadataReadAsUnknown"] = Counts(mixPool.UnknownMetadata),
                ["objectsLeftOut"] = replay.Pool.LeftOut.Total,
                ["classes"] = ModelIo.Describe("replay", replay.Pool, "all")["classCounts"]!.DeepClone(),
                ["ratio"] = replay.Ratio,
                ["weight"] = replay.Weight,
            };
        }

        if (augmentation is not null)
        {
            provenance["augmentation"] = new JsonObject
            {
                ["dropProbability"] = augmentation.DropProbability,
                ["noiseScale"] = augmentation.NoiseScale,
                ["lateStartProbability"] = augmentation.LateStartProbability,
                ["lateStartDays"] = augmentation.LateStartDays,
                ["magnitudeShift"] = augmentation.MagnitudeShift,
            };
        }

        provenance["classCounts"] = ModelIo.Describe(data.Name, encoded, "all")["classCounts"]!.DeepClone();
        if (Counts(data.Rejected) is { } rows)
        {
            provenance["rejectedRows"] = rows;
        }

        if (Counts(data.UnknownMetadata) is { } values)
        {
            provenance["metadataReadAsUnknown"] = values;
        }

        var surveys = parse.GetValue(Surveys) is { } list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : ModelIo.SurveysOf(data);
        if (parse.GetValue(Surveys) is not null && UnseenSurveysNote(surveys, data, mixPool) is { } unseen)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape(unseen)}[/]");
        }

        // Written beside --out and put in place in one step (StagedPackage): a run that fails or is stopped here leaves no
        // half-written package.
        ModelManifest manifest;
        try
        {
            manifest = StagedPackage.Write(full, staging =>
            {
                var written = ModelIo.Export(result.Weights, classes, name, version, staging, provenance, metrics, result.History, surveys, encoding);

                // The check every load makes, before anything is put in place: weights grown huge but still finite (--lr
                // 1e30 for one epoch) passed the trainer's check, and ONNX Runtime's probabilities were NaN; the package
                // was exported with exit 0 and every other command refused it.
                ModelPackager.Verified(ModelPackage.Load(staging, StepEncodings.Ids), full).Dispose();
                if (report is not null)
                {
                    ReportWriter.Write(report with { Model = $"{name} {version}", Data = data.Name + " (test part)", Conditions = Conditions(UsesMetadata(parse, encoding) ? MetadataUse.Known : MetadataUse.None, parse.GetValue(MaxSteps)), History = result.History }, staging);
                }

                File.WriteAllText(Path.Combine(staging, DerivedPackages.FileName), ModelCard.Text(written, classes, data.Name, train, validation, test, options, result, report, split.Holdout));
                ct.ThrowIfCancellationRequested();
                return written;
            });
        }
        catch (ModelPackageException e)
        {
            console.MarkupLine($"[red]cannot train:[/] the trained network is not a usable model ({Markup.Escape(ModelCli.OneLine(e))}): training diverged; lower the learning rate (--lr, now {options.LearningRate.ToString(CultureInfo.InvariantCulture)}) or --gru-lr-scale; nothing was written");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // What changed under --out while the run trained (a directory made where a file goes, a full disk): nothing
            // moved; said as any output that cannot be written, not as an unexpected error.
            var prefix = $"cannot write {full}: ";
            CliHelpers.CannotWrite(full, e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message);
            return 1;
        }

        SayTestFigures();
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

    /// <summary>A line for reports saying how the evaluated data were encoded.</summary>
    public static string Conditions(MetadataUse metadata, int maxSteps) => (metadata switch
    {
        MetadataUse.Known => "metadata (redshift, MW E(B−V)) given where the data have it",
        MetadataUse.Unknown => "metadata withheld (stream conditions: redshift and MW E(B−V) unknown)",
        _ => "no metadata (the model has no metadata input)",
    }) + string.Create(CultureInfo.InvariantCulture, $"; first {maxSteps} observations");

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
            _last = double.IsNaN(record.ValidationLoss) ? string.Empty : $" | val loss {record.ValidationLoss:0.000} AUROC {ReportWriter.N(record.ValidationMacroAuroc)}";
            task.Value = record.Epoch;
        }
    }

    private sealed class LineProgress(IAnsiConsole console) : ITrainingProgress
    {
        public void OnBatch(int epoch, int batch, int batches, double loss)
        {
        }

        public void OnEpoch(EpochRecord r) => console.WriteLine(EpochLine(r));
    }

    /// <summary>
    /// An epoch's line: figures that are not defined are said as such ("val macro AUROC NaN" was printed for a validation
    /// part of one class, and "val loss NaN" for none, until 2026-12-07).
    /// </summary>
    internal static string EpochLine(EpochRecord r) => double.IsNaN(r.ValidationLoss)
        ? string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch}: train loss {r.TrainLoss:0.0000}, no validation part, {r.Seconds:0.0} s")
        : string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch}: train loss {r.TrainLoss:0.0000}, val loss {r.ValidationLoss:0.0000}, val acc {r.ValidationAccuracy:0.000}, val macro AUROC {(double.IsNaN(r.ValidationMacroAuroc) ? "n/a (one class)" : r.ValidationMacroAuroc.ToString("0.000", CultureInfo.InvariantCulture))}, {r.Seconds:0.0} s");

    /// <summary>--survey, when given, must name a survey whose bands the reader knows (ztf, lsst, des): a usage error before the data are read (every row was left out as "unknown band", then "needs at least two classes").</summary>
    private static Option<string?> KnownSurvey(Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? value) && value is not null && value is not ("ztf" or "lsst" or "des"))
            {
                result.AddError($"--survey must be ztf, lsst or des, not '{value}'.");
            }
        });
        return option;
    }

    /// <summary>--surveys is checked as models package checks it (lower-case known names, no repeats): before, a bad name failed the export after the whole training ("unexpected error", exit 70).</summary>
    private static Option<string?> SurveyList(Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? list) && list is not null && ModelPackagingCommands.SurveysProblem(list) is { } problem)
            {
                result.AddError(problem);
            }
        });
        return option;
    }

    /// <summary>A number in a range whose ends may be open ("(0, 100]"), checked while parsing (exit 2) when given; NaN and infinities are refused.</summary>
    private static Option<T> Within<T>(Option<T> option, T minimum, T maximum, bool lowOpen = false, bool highOpen = false)
        where T : struct, System.Numerics.IFloatingPoint<T>
    {
        option.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out T value)
                && (!T.IsFinite(value) || value < minimum || value > maximum || (lowOpen && value == minimum) || (highOpen && value == maximum)))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be in {(lowOpen ? '(' : '[')}{minimum}, {maximum}{(highOpen ? ')' : ']')}, not {value}."));
            }
        });
        return option;
    }

    /// <summary>A comma-separated class list, when given: at least one name, none twice.</summary>
    private static Option<string?> ClassList(Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit || !CliHelpers.TryGetValue(result, out string? list) || list is null)
            {
                return;
            }

            var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length == 0)
            {
                result.AddError($"{option.Name} needs class names, not '{list}'.");
            }
            else if (names.Length != list.Split(',').Length)
            {
                // "A,,C" was read as A,C: a class dropped without a word (a name lost in editing, or a stray comma).
                result.AddError($"{option.Name} '{list}' has an empty class name; list the names separated by single commas.");
            }
            else if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                result.AddError($"{option.Name} names '{twice.Key}' twice.");
            }
            else if (names.Select(n => (Name: n, Problem: ModelPackage.ClassNameProblem(n))).FirstOrDefault(p => p.Problem is not null) is { Problem: { } problem } bad)
            {
                result.AddError($"{option.Name}: '{ModelPackage.ShownShort(bad.Name)}' cannot be a class name: {problem}.");
            }
        });
        return option;
    }

    /// <summary>--encoding must name an implemented encoding (a usage error listing them; it was exit 1 after reading the data, and evaluate did not say the name was unknown).</summary>
    private static Option<string?> KnownEncoding(Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit || !CliHelpers.TryGetValue(result, out string? name) || name is null)
            {
                return;
            }

            try
            {
                _ = StepEncodings.Parse(name);
            }
            catch (ArgumentException e)
            {
                result.AddError($"--encoding: {e.Message}.");
            }
        });
        return option;
    }
}
