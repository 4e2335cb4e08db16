using System.CommandLine;
using System.Globalization;
using AlertBroker.Cli.Training;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Experiments;
using AlertBroker.Training.Training;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker experiment transfer</c>: the transfer-learning experiment of docs/results/transfer-learning.md.</summary>
internal static class ExperimentCommand
{
    public static Command Create()
    {
        var experiment = new Command("experiment", "Reproducible experiments.");
        var ztfSim = new Option<string>("--ztf-sim") { Description = "Simulated ZTF light curves (CSV pair from 'alertbroker simulate lightcurves --survey ztf --bts'): the base training set.", Required = true }.MustExist(PathKind.FileOrDirectory);
        var lsstSim = new Option<string?>("--lsst-sim") { Description = "Simulated LSST light curves (CSV pair from 'alertbroker simulate lightcurves --survey lsst')." }.MustExist(PathKind.FileOrDirectory);
        var bts = BtsDirectory(new Option<string?>("--bts") { Description = "Real ZTF BTS set: the directory holding its CSV pair (default ../shared/labelled/ztf-bts)." }.MustExist(PathKind.FileOrDirectory));
        var des = new Option<string?>("--des") { Description = "DES SNPhotCC simulations: the directory holding the CSV pair, or either file of it (default ../shared/labelled/des-snphotcc-sims)." }.MustExist(PathKind.FileOrDirectory);
        var baseModel = new Option<string?>("--base") { Description = "Reuse this base package instead of training one (for the 'redshift' condition too unless --base-redshift is given; a base with a metadata branch loses it in the 'stream' condition)." }.MustExist(PathKind.Directory);
        MustBePackage(baseModel);
        var baseRedshift = new Option<string?>("--base-redshift") { Description = "Base package with a metadata branch for the 'redshift' condition." }.MustExist(PathKind.Directory);
        MustBePackage(baseRedshift);
        var conditions = new Option<string?>("--conditions") { Description = "Conditions of every run, comma-separated: stream (no redshift or E(B−V): what alerts carry; networks without the metadata branch) and/or redshift (with the data's redshift and E(B−V)). Default: stream." };
        ParsedBy(conditions, text => ParseConditions(text, noMeta: false));
        var minSeeds = new Option<int>("--min-seeds") { Description = "Seeds every point needs before it can carry a headline claim (claims also need non-overlapping seed ranges).", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var output = new Option<string>("--out") { Description = "Directory for transfer-results.json, transfer-summary.md and the SVG plots.", DefaultValueFactory = _ => "docs/results/transfer" }.OutputDirectory();
        var models = new Option<string?>("--models") { Description = "Export the base (ztf-sim-base) and the BTS fine-tuned model (ztf-bts) under this directory." };
        var quick = new Option<bool>("--quick") { Description = "A small setting that runs in minutes (small base, three seeds, two sizes, few epochs); its headline follows the same rule as the full experiment." };
        var seeds = new Option<int?>("--seeds") { Description = "Seeds per point (default 3)." }.AtLeast(1);
        var baseObjects = new Option<int?>("--base-objects") { Description = "Simulated objects for the base (default all)." }.AtLeast(0);
        var baseEpochs = new Option<int?>("--base-epochs") { Description = "Maximum base epochs (default 25)." }.AtLeast(1);
        var maxEpochs = new Option<int?>("--max-epochs") { Description = "Maximum epochs per target run (default 60)." }.AtLeast(1);
        var pool = new Option<int?>("--max-pool") { Description = "Cap on the training pool of the DES and LSST targets (default 3000)." }.AtLeast(0);
        var sizes = new Option<string?>("--sizes") { Description = "Training sizes: counts (>1) or fractions of the pool, comma-separated (default 100,200,0.3,0.6,1)." };
        ParsedBy(sizes, ParseSizes);
        var longScratch = new Option<bool>("--long-scratch") { Description = "Add the sanity baseline 'scratch, fixed epochs' (50 epochs, no early stopping, last weights)." };
        var modes = new Option<string>("--modes") { Description = "Runs per size and seed: scratch, scratch-long, head (latent+output), all (all layers, lr 1e-4), all-fast (all layers, lr 1e-3).", DefaultValueFactory = _ => "scratch,head,all" };
        ParsedBy(modes, text => ParseModes(text, longScratch: false));
        // As train's --threads: every shard has its own gradient buffers, and --threads 100000 took 2.7 GB in 20 s and went on.
        var threads = new Option<int>("--threads") { Description = "Threads (batch shards), 1 to 256.", DefaultValueFactory = _ => Math.Clamp(Environment.ProcessorCount, 1, 2) }.InRange(1, 256);
        var noMeta = new Option<bool>("--no-meta") { Description = "The same as --conditions stream (kept for older command lines)." };
        var stepLoss = new Option<string>("--step-loss") { Description = "Which steps carry the loss: all, object, last or checkpoints (see 'train --help').", DefaultValueFactory = _ => "all" };
        ParsedBy(stepLoss, Training.TrainingCli.ParseStepLoss);
        var btsTestIds = new Option<string?>("--bts-test-ids") { Description = "Held-out BTS object ids (e.g. data/splits/ztf-bts-test-ids.txt) instead of the seeded 30% split." }.MustExist(PathKind.File).HoldingIds();
        var targetsOption = new Option<string?>("--targets") { Description = "Targets to run, comma-separated: ztf-bts, des-sims, lsst-sims (default: all available)." };
        ParsedBy(targetsOption, ParseTargets);
        var transfer = new Command("transfer", "Simulations → real ZTF data, and ZTF → DES/LSST: AUROC against training size, from scratch versus transferred.")
        {
            ztfSim, lsstSim, bts, des, baseModel, baseRedshift, conditions, minSeeds, output, models, quick, seeds, baseObjects, baseEpochs, maxEpochs, pool, sizes, longScratch, modes, threads, noMeta, stepLoss, btsTestIds, targetsOption,
        };
        transfer.SetAction((parse, ct) =>
        {
            var shared = CliHelpers.FindSharedDirectory();
            var btsPath = parse.GetValue(bts) ?? (shared is null ? null : Path.Combine(shared, "labelled", "ztf-bts"));
            var desPath = parse.GetValue(des) ?? (shared is null ? null : Path.Combine(shared, "labelled", "des-snphotcc-sims"));
            if (btsPath is null || !Directory.Exists(btsPath))
            {
                CliHelpers.Stderr.MarkupLine("[red]the real BTS set is needed: --bts DIR (or ../shared/labelled/ztf-bts)[/]");
                return Task.FromResult(1);
            }

            var isQuick = parse.GetValue(quick);
            var maxPool = parse.GetValue(pool) ?? (isQuick ? 300 : 3000);
            string[] five = ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"];
            var targets = new List<TransferTarget>
            {
                new("ztf-bts", "Real ZTF Bright Transient Survey light curves (alert photometry, g and r), spectroscopic classes", btsPath, "ztf", five, isQuick ? maxPool : 0, parse.GetValue(btsTestIds)),
            };
            // A --des file (either half of the pair) is read like its directory; it was skipped without a word.
            if (desPath is not null && (Directory.Exists(desPath) || (parse.GetValue(des) is not null && File.Exists(desPath))))
            {
                targets.Add(new("des-sims", "DES SNPhotCC simulations (SNANA, griz), detections at S/N ≥ 5, classes SNIa, SNII, SNIbc", desPath, "des", ["SNIa", "SNII", "SNIbc"], maxPool));
            }

            if (parse.GetValue(lsstSim) is { } lsst)
            {
                targets.Add(new("lsst-sims", "Our LSST simulations (ugrizy), detections at S/N ≥ 5, five classes", lsst, "lsst", five, maxPool));
            }

            if (parse.GetValue(targetsOption) is { } only)
            {
                var names = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var unknown = names.Where(n => targets.All(t => t.Name != n)).ToList();
                if (unknown.Count > 0)
                {
                    CliHelpers.Stderr.MarkupLine($"[red]unavailable target(s): {Markup.Escape(string.Join(", ", unknown))} (available: {Markup.Escape(string.Join(", ", targets.Select(t => t.Name)))}; des-sims needs --des DIR, lsst-sims --lsst-sim)[/]");
                    return Task.FromResult(2);
                }

                targets = [.. targets.Where(t => names.Contains(t.Name))];
            }

            string[] conditionList;
            List<string> modeList;
            double[] sizeSpec;
            StepLoss stepLossKind;
            try
            {
                conditionList = ParseConditions(parse.GetValue(conditions), parse.GetValue(noMeta));
                modeList = ParseModes(parse.GetValue(modes)!, parse.GetValue(longScratch));
                sizeSpec = parse.GetValue(sizes) is { } s ? ParseSizes(s) : isQuick ? [100, 1.0] : [100, 200, 0.3, 0.6, 1.0];
                stepLossKind = Training.TrainingCli.ParseStepLoss(parse.GetValue(stepLoss)!);
            }
            catch (ArgumentException e)
            {
                CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(CliHelpers.PlainMessage(e))}[/]");
                return Task.FromResult(2);
            }

            var options = new TransferExperimentOptions
            {
                BaseData = parse.GetValue(ztfSim)!,
                BaseModel = parse.GetValue(baseModel),
                RedshiftBaseModel = parse.GetValue(baseRedshift),
                BaseObjects = parse.GetValue(baseObjects) ?? (isQuick ? 1500 : 0),
                BaseMaxEpochs = parse.GetValue(baseEpochs) ?? (isQuick ? 3 : 25),
                Targets = targets,
                Seeds = parse.GetValue(seeds) ?? 3,
                Sizes = sizeSpec,
                MaxEpochs = parse.GetValue(maxEpochs) ?? (isQuick ? 5 : 60),
                LongEpochs = isQuick ? 5 : 50,
                Patience = isQuick ? 2 : 5,
                Threads = parse.GetValue(threads),
                Modes = modeList,
                OutputDirectory = parse.GetValue(output)!,
                ModelsDirectory = parse.GetValue(models),

                // As train and finetune write theirs: it wrote in place, so a failure midway left a half-written package.
                WritePackage = StagedPackage.Write,
                Conditions = conditionList,
                MinSeedsForClaim = parse.GetValue(minSeeds),
                StepLoss = stepLossKind,
            };
            var console = CliHelpers.Stderr;

            // Places that cannot be written are said before the experiment runs (the probe leaves nothing behind); the
            // output directory itself is made when the first results are written, so a refused run leaves none.
            if (!CliHelpers.CanWriteDirectory(options.OutputDirectory) || !CliHelpers.CanWriteDirectory(options.ModelsDirectory))
            {
                return Task.FromResult(1);
            }

            TransferResults results;
            try
            {
                results = TransferExperiment.Run(options, line => console.WriteLine(line), ct);
            }
            catch (ModelPackageException e)
            {
                // A --base or --base-redshift package a worker would refuse: "model unusable", exit 3, as for every
                // command that loads a model.
                return Task.FromResult(ModelCli.ReportModelUnusable(e, "experiment transfer"));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException or UnauthorizedAccessException or TrainingDivergedException)
            {
                console.MarkupLine($"[red]experiment transfer:[/] {Markup.Escape(ModelCli.OneLine(e))}");
                return Task.FromResult(1);
            }

            // The headline: only what non-overlapping seed ranges support (TransferClaims), target by target.
            foreach (var h in results.Headlines)
            {
                console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{h.Target} / {TransferExperiment.ConditionLabel(h.Condition)} / {h.Mode}: scratch-all {h.ScratchAll.Median:0.000} [{h.ScratchAll.Min:0.000}, {h.ScratchAll.Max:0.000}], transfer-all {h.ModeAll.Median:0.000} [{h.ModeAll.Min:0.000}, {h.ModeAll.Max:0.000}]; {string.Join("; ", h.Claims)}")));
            }

            console.MarkupLine($"[green]wrote[/] {Markup.Escape(Path.Combine(options.OutputDirectory, "transfer-summary.md"))}");
            return Task.FromResult(0);
        });
        experiment.Subcommands.Add(transfer);
        return experiment;
    }

    /// <summary>Runs <paramref name="parser"/> on the option's text while parsing: what it refuses is a usage error (exit 2) before any data are read.</summary>
    private static void ParsedBy<T, TResult>(Option<T> option, Func<string, TResult> parser)
    {
        option.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out T value) && value is string text)
            {
                try
                {
                    _ = parser(text);
                }
                catch (ArgumentException e)
                {
                    result.AddError(CliHelpers.PlainMessage(e));
                }
            }
        });
    }

    /// <summary>
    /// A given --base or --base-redshift must be a package (NAME/VERSION with model.json): a directory without one, such as
    /// models/ztf-sim-base instead of models/ztf-sim-base/2.1.0, silently trained a new base.
    /// </summary>
    private static void MustBePackage(Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit || !CliHelpers.TryGetValue(result, out string? dir) || dir is null || !Directory.Exists(dir) || File.Exists(Path.Combine(dir, ModelPackage.ManifestFileName)))
            {
                return;
            }

            var versions = ModelPackage.VersionsIn(dir);
            result.AddError(versions.Count > 0
                ? $"{option.Name} {dir} is not a model package (no {ModelPackage.ManifestFileName}); it holds the versions {string.Join(", ", versions)}: give {Path.Combine(dir, versions[^1])}."
                : $"{option.Name} {dir} is not a model package: it needs a NAME/VERSION directory holding {ModelPackage.ManifestFileName}.");
        });
    }

    /// <summary>--bts takes the directory holding the CSV pair; a file of the pair was refused later as if --bts were missing.</summary>
    private static Option<string?> BtsDirectory(Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? path) && path is not null && File.Exists(path))
            {
                result.AddError($"--bts takes the directory holding the BTS CSV pair (*_lightcurves.csv[.gz] and *_metadata.csv), not a file: --bts {Path.GetDirectoryName(Path.GetFullPath(path))}.");
            }
        });
        return option;
    }

    private static string[] ParseTargets(string text)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0 || names.FirstOrDefault(n => n is not ("ztf-bts" or "des-sims" or "lsst-sims")) is { } unknown)
        {
            throw new ArgumentException($"--targets must list ztf-bts, des-sims and/or lsst-sims, not '{text}'.");
        }

        return names;
    }

    /// <summary>Training sizes: counts (&gt; 1, whole) or fractions of the pool (0, 1], comma-separated.</summary>
    internal static double[] ParseSizes(string text)
    {
        var sizes = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v <= 0 || (v > 1 && v != Math.Floor(v)))
            {
                throw new ArgumentException($"--sizes: '{part}' is neither a count (a whole number above 1) nor a fraction in (0, 1].");
            }

            if (v > 1 && v < TransferExperiment.MinimumSize)
            {
                // It was left out without a word.
                throw new ArgumentException($"--sizes: {part} objects is below {TransferExperiment.MinimumSize}, the fewest a run is trained on.");
            }

            sizes.Add(v);
        }

        return sizes.Count > 0 ? [.. sizes] : throw new ArgumentException("--sizes lists no size.");
    }

    internal static string[] ParseConditions(string? text, bool noMeta)
    {
        if (text is null)
        {
            return [TransferExperiment.Stream];
        }

        var list = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();
        if (list.Length == 0 || list.Any(c => c is not (TransferExperiment.Stream or TransferExperiment.Redshift)))
        {
            throw new ArgumentException($"--conditions must list stream and/or redshift, not '{text}'.");
        }

        if (noMeta && list.Contains(TransferExperiment.Redshift))
        {
            throw new ArgumentException("--no-meta (= --conditions stream) contradicts --conditions with redshift.");
        }

        return list;
    }

    internal static List<string> ParseModes(string text, bool longScratch)
    {
        var list = new List<string>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            list.Add(name switch
            {
                "scratch" => TransferExperiment.Scratch,
                "scratch-long" => TransferExperiment.ScratchLong,
                "head" => TransferExperiment.Head,
                "all" => TransferExperiment.All,
                "all-fast" => TransferExperiment.AllFast,
                _ => throw new ArgumentException($"Unknown mode '{name}': use scratch, scratch-long, head, all or all-fast."),
            });
        }

        if (list.Count == 0)
        {
            // '' or ',' ran no mode, exit 0, and wrote empty results over the last run's.
            throw new ArgumentException($"--modes lists no mode ('{text}'): give scratch, scratch-long, head, all and/or all-fast.");
        }

        if (longScratch && !list.Contains(TransferExperiment.ScratchLong))
        {
            list.Insert(Math.Min(1, list.Count), TransferExperiment.ScratchLong);
        }

        return list;
    }
}
