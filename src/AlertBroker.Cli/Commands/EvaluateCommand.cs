using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using AlertBroker.Cli.Training;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;
using AlertBroker.Training.Training;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker evaluate --model DIR --data …</c>: metrics, JSON and an HTML report.</summary>
internal static class EvaluateCommand
{
    /// <summary>The fewest and most bootstrap resamples <c>--bootstrap</c> takes (0, none, besides).</summary>
    internal const int MinimumResamples = 200, MaximumResamples = 100_000;

    public static Command Create()
    {
        var cli = new TrainingCli();
        var model = new Option<string>("--model") { Description = "Model package directory.", Required = true }.MustExist(PathKind.Directory);
        var split = new Option<string>("--split") { Description = "Which part of --data to evaluate: all, or the test/validation/train part of the split the model was trained with (seed and fractions from model.json unless given; a model whose model.json records no split needs it given).", DefaultValueFactory = _ => "all" }.AcceptOnlyFromAmong("all", "test", "validation", "train");
        var report = new Option<string?>("--report") { Description = "Directory for evaluation.json and evaluation.html (default: print only)." }.OutputDirectory();
        var predictions = new Option<string?>("--predictions") { Description = "Also write every object's class probabilities at 0, 2, 5, 10, 15, 20, 30 and 50 days and on its whole light curve to this CSV (object_id, class, view, steps, p_<class>…): the numbers the figures are computed from." }.OutputFile();
        var bootstrap = new Option<int>("--bootstrap") { Description = $"Class-stratified bootstrap resamples of the evaluated objects for 95% intervals of the macro AUROC (whole and every day): 0 = none, else {MinimumResamples}–{MaximumResamples} (1000 is usual).", DefaultValueFactory = _ => 0 };
        bootstrap.Validators.Add(result =>
        {
            // A 95% percentile interval from a few resamples rests on a handful of draws in each tail (none at all below
            // 40): 5 resamples gave an "interval" that left out the figure itself.
            if (CliHelpers.TryGetValue(result, out int n) && n != 0 && n is < MinimumResamples or > MaximumResamples)
            {
                result.AddError($"--bootstrap must be 0 (none) or {MinimumResamples}–{MaximumResamples} resamples (a 95% interval from fewer rests on a handful of draws in each tail), not {n}.");
            }
        });
        var command = new Command("evaluate", "Evaluate a model package on labelled light curves: macro AUROC, F1, accuracy, per-class figures, confusion matrix, early classification (exit 3 when the package cannot be used, 1 when the data cannot be read).");
        cli.AddEvaluationOptionsTo(command);
        command.Options.Add(model);
        command.Options.Add(split);
        command.Options.Add(report);
        command.Options.Add(bootstrap);
        command.Options.Add(predictions);
        command.RefuseOutputThatIsAnInput(predictions, PathKind.File, cli.Data, cli.Labels, cli.TestIds, cli.ExcludeIds, cli.ClassMap);
        command.SetAction((parse, ct) => Task.FromResult(Run(cli, parse, parse.GetValue(model)!, parse.GetValue(split)!, parse.GetValue(report), parse.GetValue(bootstrap), parse.GetValue(predictions), ct)));
        return command;
    }

    private static readonly string[] ReportFiles = ["evaluation.json", "evaluation.html"];

    private static int Run(TrainingCli cli, ParseResult parse, string modelDir, string part, string? reportDir, int bootstrap, string? predictionsFile, CancellationToken ct)
    {
        var splitOnly = new Option[] { cli.TestIds, cli.Validation, cli.Test }.FirstOrDefault(o => part == "all" && Given(parse, o));
        if ((splitOnly is not null ? $"{splitOnly.Name} picks a part of --data: give --split test, validation or train with it (--split all evaluates every object)."
            : cli.DataSettingsProblem(parse)) is { } problem)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(problem)}[/]");
            return 2;
        }

        // Places that cannot be written are said before the evaluation runs, not after it.
        if (!CliHelpers.CanWriteFileIn(predictionsFile) || !CliHelpers.CanWriteDirectory(reportDir))
        {
            return 1;
        }

        // A directory where a report file goes was an "unexpected error" (exit 70) after the evaluation, evaluation.json
        // written and --predictions not (until 2026-12-07).
        if (StagedPackage.TargetProblem(reportDir, ReportFiles) is { } taken)
        {
            CliHelpers.CannotWrite(reportDir!, taken);
            return 1;
        }

        ModelManifest manifest;
        TrainedModel? model;
        IStepEncoding encoding;
        LabelledDataset data;
        try
        {
            // The package checked as a worker would check it (both files there, the ONNX file's SHA-256 the one model.json
            // records, the graph's tensors): a model.onnx swapped or cut was evaluated, and its figures reported under
            // model.json's name. A package that is not sound is "model unusable", exit 3, as for every command.
            (manifest, var onnx) = ReadCheckedPackage(modelDir);
            encoding = ModelIo.EncodingOf(manifest);

            // A graph exported by this project is evaluated with its weights (the trainer's forward pass); any other graph
            // (packaged with `models package`) through ONNX Runtime, as the worker runs it.
            model = IsOwnExport(onnx) ? ModelIo.FromPackage(modelDir, manifest, onnx) : null;
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e) || e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
        {
            return ModelCli.ReportModelUnusable(e, e is ModelPackageException ? null : modelDir);
        }

        if (predictionsFile is not null && PredictionsClash(predictionsFile, modelDir, reportDir, manifest.Training.Data?["split"] as JsonObject) is { } clash)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(clash)}[/]");
            return 2;
        }

        // A package whose model.json records no training split (one packaged from an outside graph, or written by hand)
        // gave its "test part" from the default split (seed 1, 0.15/0.15): objects it may have been trained on, reported
        // as held out. The split has to be said.
        if (part != "all" && manifest.Training.Data?["split"] is null
            && !new Option[] { cli.Seed, cli.Validation, cli.Test, cli.TestIds }.Any(o => Given(parse, o)))
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape($"--split {part}: {modelDir}'s model.json records no training split (training.data.split), so which objects it saw is not known: give the split it was trained with (--test-ids FILE, or --seed, --val and --test), or use --split all on data it has not seen.")}[/]");
            return 2;
        }

        try
        {
            // Evaluate the view the model was trained on (alert-like detections only) unless told otherwise.
            data = cli.LoadData(parse, ct, detectionsOnly: Given(parse, cli.DetectionsOnly) ? null : manifest.EffectiveDetectionsOnly, modelSurveys: manifest.EffectiveSurveys);
        }
        catch (TrainingCli.IdsNotInDataException e)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 2;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException or KeyNotFoundException or ModelPackageException or UnauthorizedAccessException)
        {
            CliHelpers.Stderr.MarkupLine($"[red]cannot start:[/] {Markup.Escape(ModelCli.OneLine(e))}");
            return 1;
        }

        if (parse.GetValue(cli.EncodingName) is { } named && StepEncodings.All.FirstOrDefault(x => x.Id.Name == named || $"{x.Id.Name}@{x.Id.Version}" == named)?.Id != encoding.Id)
        {
            CliHelpers.Stderr.MarkupLine($"[red]--encoding {Markup.Escape(named)}: the model was trained with {Markup.Escape(encoding.Id.ToString())}; evaluate encodes with the model's own encoding[/]");

            // A usage error, as finetune's is (it was exit 1 until 2026-12-07).
            return 2;
        }

        // What model.json records of the training split and encoding. A value of another type (a seed written as text,
        // a split that is not an object) was a crash (InvalidOperationException) or, for the split, silently the default
        // split: another test part, reported as the model's. Either is refused, naming the field.
        JsonObject? splitInfo, encodingInfo;
        int? recordedMaxSteps;
        try
        {
            splitInfo = part == "all" ? null : Section(manifest.Training.Data, "split");
            encodingInfo = Section(manifest.Training.Data, "encoding");
            recordedMaxSteps = InRange(Recorded<int>(encodingInfo, "encoding", "maxSteps"), "encoding", "maxSteps", 1, int.MaxValue);
        }
        catch (InvalidDataException e)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 1;
        }

        var maxSteps = !Given(parse, cli.MaxSteps) && recordedMaxSteps is { } ms ? ms : parse.GetValue(cli.MaxSteps);

        // Light curves of a survey the model does not declare (the ZTF model on DES or LSST bands) are scored through the
        // encoding's wavelengths like any others; the figures are then not the model's on what it was made for. Said on
        // stderr and in the report's conditions, as score says it of alerts.
        var otherSurveys = ModelIo.SurveysOf(data).Where(s => !manifest.IsForSurvey(s)).ToList();
        if (otherSurveys.Count > 0)
        {
            var objects = data.Objects.Count(o => o.Observations.Any(p => ModelIo.SurveyNameOf(p.Band) is { } s && otherSurveys.Contains(s)));
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"warning: {manifest.Name} {manifest.Version} was not trained for the {string.Join(" and ", otherSurveys)} survey{(otherSurveys.Count > 1 ? "s" : string.Empty)} (it declares {string.Join(", ", manifest.EffectiveSurveys)}): {objects} of {data.Objects.Count} objects have {string.Join("/", otherSurveys)} bands, and its figures on them are not what it was made for")));
        }

        // Metadata: a model without the branch gets none; one with it gets the data's values, or with --no-meta none of
        // them (every value flagged unknown, observer-frame times): what the worker gives it without a metadata source.
        var metadata = manifest.Network.MetaFeatures == 0 ? MetadataUse.None : parse.GetValue(cli.NoMeta) ? MetadataUse.Unknown : MetadataUse.Known;
        var classes = manifest.Classes;
        var encoded = EncodedDataset.Encode(data, classes, new EncodingOptions { MaxSteps = maxSteps, Metadata = metadata, Encoding = encoding });
        var leftOut = encoded.LeftOut;
        TrainingCli.ReportLeftOut(encoded);
        var otherSplit = new List<string>();
        var before = encoded.Count;
        if (part != "all")
        {
            ulong? recordedSeed;
            double? recordedVal, recordedTest;
            string? recordedIds, recordedSha, recordedExclude, recordedExcludeSha;
            try
            {
                recordedExclude = RecordedText(splitInfo, "split", "excludeIds");
                recordedExcludeSha = RecordedText(splitInfo, "split", "excludeIdsSha256");
                recordedSeed = Recorded<ulong>(splitInfo, "split", "seed");
                recordedVal = InRange(Recorded<double>(splitInfo, "split", "validationFraction"), "split", "validationFraction", 0, 1, highOpen: true);
                recordedTest = InRange(Recorded<double>(splitInfo, "split", "testFraction"), "split", "testFraction", 0, 1, highOpen: true);
                recordedIds = RecordedText(splitInfo, "split", "testIds");
                recordedSha = RecordedText(splitInfo, "split", "testIdsSha256");
            }
            catch (InvalidDataException e)
            {
                CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
                return 1;
            }

            // A split setting given that is not the one model.json records evaluates another split's part, as held out,
            // though objects the model was trained on may be in it: said (stderr and the report's data line).
            void Differs<T>(Option<T> option, T given, T? recorded)
                where T : struct, IEquatable<T>
            {
                if (splitInfo is not null && Given(parse, option) && recorded is { } r && !r.Equals(given))
                {
                    otherSplit.Add(string.Create(CultureInfo.InvariantCulture, $"{option.Name} {given} (model.json records {r})"));
                }
            }

            // The objects --exclude-ids left out at training: its parts were drawn from the rest. Until 2026-12-07 the file
            // was not recorded, and `evaluate --split test` drew a test part from every object without a word (of 9 objects,
            // one the model was trained on and two it never saw, where training had held out 7).
            if (cli.ExcludedIds is { } excludedHere)
            {
                if (splitInfo is not null && excludedHere.Sha256 != recordedExcludeSha && (recordedSha is null || part != "test"))
                {
                    otherSplit.Add(recordedExcludeSha is null
                        ? $"--exclude-ids {excludedHere.Source} (model.json records no excluded ids)"
                        : $"--exclude-ids {excludedHere.Source} (not the file model.json records: sha256 {excludedHere.Sha256[..12]}…)");
                }
            }
            else if (recordedExclude is { } excludeFile)
            {
                HoldoutIds excluded;
                try
                {
                    excluded = HoldoutIds.Read(RecordedPath(excludeFile, modelDir));
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    CliHelpers.Stderr.MarkupLine($"[red]cannot read the excluded ids:[/] {Markup.Escape(e.Message)} (the file model.json records as --exclude-ids at training; give it with --exclude-ids FILE)");
                    return 1;
                }

                if (recordedExcludeSha is { } sha && sha != excluded.Sha256)
                {
                    CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(excluded.Source)} has changed since the model was trained (sha256 {excluded.Sha256[..12]}…, model.json records {Markup.Escape(sha[..Math.Min(12, sha.Length)])}…)[/]");
                    return 1;
                }

                encoded = encoded.Subset(excluded.Select(encoded, inside: false));
                if (encoded.Count == 0)
                {
                    CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape($"{excluded.Source} (the --exclude-ids file model.json records) lists every object of the data: nothing is left to draw the {part} part from")}[/]");
                    return 1;
                }
            }

            before = encoded.Count;

            var seed = !Given(parse, cli.Seed) && recordedSeed is { } s ? s : parse.GetValue(cli.Seed);
            var val = !Given(parse, cli.Validation) && recordedVal is { } v ? v : parse.GetValue(cli.Validation);
            var idsFile = parse.GetValue(cli.TestIds) ?? (recordedIds is { } f ? RecordedPath(f, modelDir) : null);
            if (idsFile is not null)
            {
                HoldoutIds holdout;
                try
                {
                    holdout = HoldoutIds.Read(idsFile);
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    var hint = parse.GetValue(cli.TestIds) is null ? " (the file model.json records; give it with --test-ids FILE)" : string.Empty;
                    CliHelpers.Stderr.MarkupLine($"[red]cannot read the test ids:[/] {Markup.Escape(e.Message + hint)}");
                    return 1;
                }

                if (recordedSha is { } recorded && parse.GetValue(cli.TestIds) is null && recorded != holdout.Sha256)
                {
                    CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(idsFile)} has changed since the model was trained (sha256 {holdout.Sha256[..12]}…, model.json records {Markup.Escape(recorded[..Math.Min(12, recorded.Length)])}…)[/]");
                    return 1;
                }

                var test = holdout.Select(encoded, inside: true);
                if (test.Length == 0)
                {
                    // Every part came out wrong: test empty (macro AUROC of nothing), train and validation the whole data.
                    var given = parse.GetValue(cli.TestIds) is not null;
                    CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(TrainingCli.NoneOfTheIds(holdout))}[/]{(given ? string.Empty : " (the test ids model.json records)")}");
                    return given ? 2 : 1;
                }

                TrainingCli.ReportIdsNotRead(holdout, test.Length);
                // A model that records its split by fractions (1.0.0: seed 12345, test 0.3) and ids that name exactly that
                // split's test part (the file `split` wrote with the same rule) hold out the same objects: no warning.
                if (parse.GetValue(cli.TestIds) is not null && splitInfo is not null && holdout.Sha256 != recordedSha
                    && !(recordedSha is null && recordedTest is { } rt && rt > 0 && (recordedVal ?? 0) + rt < 1 && recordedSeed is { } rs
                         && DatasetSplit.Stratified(encoded.Labels, recordedVal ?? 0, rt, rs).Test.Order().SequenceEqual(test.Order())))
                {
                    otherSplit.Add(recordedSha is null ? $"--test-ids {idsFile} (model.json records a split by fractions, no test ids)" : $"--test-ids {idsFile} (not the file model.json records: sha256 {holdout.Sha256[..12]}…)");
                }

                if (part != "test")
                {
                    // The validation part is drawn from the rest by seed and fraction.
                    Differs(cli.Seed, seed, recordedSeed);
                    Differs(cli.Validation, val, recordedVal);
                }

                var rest = holdout.Select(encoded, inside: false);
                var inner = DatasetSplit.Stratified(rest.Select(i => encoded.Labels[i]).ToArray(), val, 0, seed);
                encoded = encoded.Subset(part switch
                {
                    "test" => test,
                    "validation" => [.. inner.Validation.Select(i => rest[i])],
                    _ => [.. inner.Train.Select(i => rest[i])],
                });
            }
            else
            {
                var test = !Given(parse, cli.Test) && recordedTest is { } t ? t : parse.GetValue(cli.Test);
                if (part == "test" && test <= 0)
                {
                    CliHelpers.Stderr.MarkupLine("[red]the model was trained with no test part (model.json training.data.split: test fraction 0): every object of its data was in its training or validation part.[/] Evaluate it on objects it has not seen: --split all on other data.");
                    return 1;
                }

                if (val + test >= 1)
                {
                    // Recorded values (given ones are checked with the options): model.json's 0.6 + 0.6 split nothing off for training.
                    CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"the validation and test fractions ({val} + {test}, from model.json unless given) leave no training objects: they must add up to less than 1")));
                    return 1;
                }

                Differs(cli.Seed, seed, recordedSeed);
                Differs(cli.Validation, val, recordedVal);
                Differs(cli.Test, test, recordedTest);
                var split = DatasetSplit.Stratified(encoded.Labels, val, test, seed);
                encoded = encoded.Subset(part switch
                {
                    "test" => split.Test,
                    "validation" => split.Validation,
                    _ => split.Train,
                });
            }
        }

        if (otherSplit.Count > 0)
        {
            CliHelpers.Stderr.MarkupLine($"[yellow]warning: {Markup.Escape(string.Join("; ", otherSplit))}: not the split model.json records, so this {part} part is not the one the model was held out from (objects it was trained on may be in it)[/]");
        }

        if (encoded.Count == 0)
        {
            // An empty part of a split was said as "no objects of the model's classes in the data", though the data hold
            // them (until 2026-12-07).
            var fractionsGiven = Given(parse, cli.Validation) || Given(parse, cli.Test);
            CliHelpers.Stderr.MarkupLine(before == 0
                ? "[red]no objects of the model's classes in the data[/]"
                : $"[red]{Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"--split {part}: the {part} part of the split holds none of the {before} objects of the model's classes in the data ({(fractionsGiven ? "--val and --test take them" : "the split's fractions take them")}); {(fractionsGiven ? "give smaller --val or --test" : "evaluate another part")}"))}[/]");
            return before > 0 && fractionsGiven ? 2 : 1;
        }

        // One-vs-rest AUROC needs objects of two classes: objects of one printed "macro AUROC NaN" (and NaN at every day,
        // in evaluation.json too), exit 0.
        if (encoded.Labels.Distinct().Count() < 2)
        {
            CliHelpers.Stderr.MarkupLine($"[red]cannot evaluate:[/] every one of the {encoded.Count:N0} evaluated objects is of class {Markup.Escape(encoded.Classes[encoded.Labels[0]])}; the figures (one class against the rest) need objects of at least two classes");
            return 1;
        }

        float[][] steps;
        if (model is not null)
        {
            steps = Predictor.Predict(model.Weights, encoded, parse.GetValue(cli.Threads));
        }
        else
        {
            try
            {
                using var package = ModelPackager.Verified(ModelPackage.Load(modelDir, StepEncodings.Ids, ModelCli.SessionOptions("cpu", intraOpThreads: 0)), modelDir);
                steps = OnnxEvaluation.PredictSteps(package, encoded);
            }
            catch (Exception e) when (ModelCli.IsModelUnusable(e))
            {
                return ModelCli.ReportModelUnusable(e);
            }

            CliHelpers.Stderr.MarkupLine("[grey]scored through ONNX Runtime (the graph was not exported by AlertBroker, so its weights are not read back)[/]");
        }

        // Figures computed from NaNs (a network that overflows on some light curves) would rank garbage and print a
        // plausible macro AUROC: the model is reported unusable instead, naming how many objects and the first.
        var invalid = 0;
        string? firstInvalid = null;
        for (var i = 0; i < steps.Length; i++)
        {
            for (var t = 0; t + classes.Count <= steps[i].Length; t += classes.Count)
            {
                if (ProbabilityCheck.Problem(steps[i].AsSpan(t, classes.Count)) is { } wrong)
                {
                    invalid++;
                    firstInvalid ??= string.Create(CultureInfo.InvariantCulture, $"{encoded.ObjectIds[i]} after step {(t / classes.Count) + 1}: {wrong}");
                    break;
                }
            }
        }

        if (firstInvalid is not null)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"model unusable (invalid output): {modelDir} gave no probability distribution for {invalid} of {steps.Length} object(s) (first {firstInvalid}); nothing is evaluated")));
            return ModelCli.ModelUnusableExitCode;
        }

        var evaluated = EvaluationReport.FromPredictions(encoded, steps, bootstrap);

        var result = evaluated with
        {
            Model = modelDir,
            Data = data.Name + (part == "all" ? string.Empty : otherSplit.Count > 0 ? $" ({part} part of a split other than the one model.json records)" : $" ({part} part)"),
            Conditions = TrainingCli.Conditions(metadata, maxSteps) + (otherSurveys.Count == 0 ? string.Empty : $"; {string.Join("/", otherSurveys)} bands, the model declares {string.Join(", ", manifest.EffectiveSurveys)}"),
            History = ModelIo.History(manifest),
            LeftOut = leftOut,
            RejectedRows = data.Rejected,
            MetadataReadAsUnknown = data.UnknownMetadata,
        };
        Print(result);
        if (reportDir is not null)
        {
            try
            {
                ReportWriter.Write(result, reportDir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // What changed under --report while the evaluation ran (a directory made where a file goes, a full disk).
                CliHelpers.CannotWrite(reportDir, e.Message);
                return 1;
            }

            CliHelpers.Stderr.MarkupLine($"[green]wrote[/] {Markup.Escape(Path.Combine(reportDir, "evaluation.html"))} and evaluation.json");
        }

        return predictionsFile is null || WritePredictions(predictionsFile, encoded, steps) ? 0 : 1;
    }

    /// <summary>
    /// Why --predictions may not be written where it points (null: it may): a file of the package evaluated (model.json,
    /// model.onnx or any other file in it), an ids file its model.json records (read back by <c>--split</c>), or a file of
    /// the report. Until 2026-12-07 each was overwritten, exit 0: the package or the ids file unusable afterwards.
    /// </summary>
    private static string? PredictionsClash(string file, string modelDir, string? reportDir, JsonObject? split)
    {
        string target, model;
        try
        {
            target = CliHelpers.Canonical(file);
            model = CliHelpers.Canonical(modelDir);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or IOException)
        {
            return null;
        }

        var relative = Path.GetRelativePath(model, target);
        if (relative != "." && !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative))
        {
            return $"--predictions {file} is inside the package being evaluated (--model {modelDir}): writing it would change the package; give a path outside it";
        }

        foreach (var (key, option) in new[] { ("testIds", "--test-ids"), ("excludeIds", "--exclude-ids") })
        {
            if (split?[key] is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String
                && string.Equals(CliHelpers.Canonical(RecordedPath(value.GetValue<string>(), modelDir)), target, StringComparison.Ordinal))
            {
                return $"--predictions {file} is the {option} file {modelDir}'s model.json records (training.data.split.{key}): writing it would overwrite the ids the model was held out by; give another path";
            }
        }

        foreach (var name in new[] { "evaluation.json", "evaluation.html" })
        {
            if (reportDir is not null && string.Equals(CliHelpers.Canonical(Path.Combine(reportDir, name)), target, StringComparison.Ordinal))
            {
                return $"--predictions {file} is the report's {name} (--report {reportDir}): both would be written to one file; give another path";
            }
        }

        return null;
    }

    private static bool WritePredictions(string file, EncodedDataset encoded, float[][] steps)
    {
        try
        {
            using (var writer = new StreamWriter(file, append: false, new System.Text.UTF8Encoding(false)))
            {
                PredictionTable.Write(writer, encoded, steps);
            }

            CliHelpers.Stderr.MarkupLine($"[green]wrote[/] {Markup.Escape(file)} ({encoded.Count} objects × up to {EarlyCurve.Days.Count + 1} views)");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CliHelpers.CannotWrite(file, e.Message);
            return false;
        }
    }

    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    // training.data.{name} of model.json: null when absent or null, else an object (InvalidDataException naming it).
    private static JsonObject? Section(JsonObject? data, string name) => data?[name] switch
    {
        null => null,
        JsonObject o => o,
        var other => throw new InvalidDataException($"model.json training.data.{name} is {other.ToJsonString()}, not an object; remove it (evaluate then uses --seed, --val, --test) or fix it"),
    };

    // A number model.json records under training.data.{section}: null when absent or null, else of type T.
    private static T? Recorded<T>(JsonObject? section, string name, string key)
        where T : struct => section?[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue<T>(out var x) => x,
            var other => throw new InvalidDataException($"model.json training.data.{name}.{key} is {other.ToJsonString()}, not {(typeof(T) == typeof(double) ? "a number" : "a whole number")} in range"),
        };

    // A recorded number of the right type but outside what the option accepts: --max-steps -3 from model.json ended in
    // OverflowException (exit 70), 0 in "no objects of the model's classes in the data", a validation fraction of 5
    // evaluated a "validation part" of every object (exit 0).
    private static T? InRange<T>(T? value, string name, string key, T minimum, T maximum, bool highOpen = false)
        where T : struct, System.Numerics.INumber<T> =>
        value is not { } v || (v >= minimum && (highOpen ? v < maximum : v <= maximum))
            ? value
            : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"model.json training.data.{name}.{key} is {v}, not in [{minimum}, {maximum}{(highOpen ? ')' : ']')}"));

    private static string? RecordedText(JsonObject? section, string name, string key) => section?[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
        var other => throw new InvalidDataException($"model.json training.data.{name}.{key} is {other.ToJsonString()}, not a string"),
    };

    // model.json records the test ids file as it was given to finetune, relative to the directory it ran in (the
    // repository's root for the shipped models: data/splits/…). Run from anywhere else (a published build, as the README
    // says), that path named nothing; it is looked for in the model's ancestors too (the sha256 check still applies).
    private static string RecordedPath(string path, string modelDir)
    {
        if (Path.IsPathRooted(path) || File.Exists(path))
        {
            return path;
        }

        for (var dir = new DirectoryInfo(Path.GetFullPath(modelDir)); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, path);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return path;
    }

    // An AlertBroker export carries its network sizes in the ONNX metadata (GruClassifierExporter.FromOnnx reads them).
    private static bool IsOwnExport(byte[] onnx) => OnnxGraphInfo.Read(onnx).Metadata.ContainsKey("alertbroker.gru.sizes");

    // The manifest and ONNX bytes of a package, or a ModelPackageException listing every problem ModelPackage.Check finds
    // without ONNX Runtime (what only ONNX Runtime can tell is found when a foreign graph is loaded to be scored).
    private static (ModelManifest Manifest, byte[] Onnx) ReadCheckedPackage(string modelDir)
    {
        var manifestPath = Path.Combine(modelDir, ModelPackage.ManifestFileName);
        // A directory named model.json (or model.onnx) is said as what it is by the reads below, as every other command
        // says it; evaluate said "model.json is missing" until 2026-12-07.
        if (!File.Exists(manifestPath) && !Directory.Exists(manifestPath))
        {
            throw new ModelPackageException(modelDir, [ModelPackage.ManifestMissing(modelDir, out _)]);
        }

        var manifest = ModelPackage.ParseManifest(ModelPackage.ReadPackageFile(modelDir, ModelPackage.ManifestFileName));
        var onnxName = string.IsNullOrEmpty(manifest.Onnx?.File) ? ModelPackage.OnnxFileName : manifest.Onnx.File;
        if (Path.GetFileName(onnxName) != onnxName || !(File.Exists(Path.Combine(modelDir, onnxName)) || Directory.Exists(Path.Combine(modelDir, onnxName))))
        {
            throw new ModelPackageException(modelDir, [new(ModelPackageProblemKind.MissingFile, $"{onnxName} is missing")]);
        }

        // Both files again, together: a package swapped in since model.json was read is read whole, not refused.
        var (manifestBytes, onnx) = ModelPackage.ReadFiles(modelDir);
        manifest = ModelPackage.ParseManifest(manifestBytes);
        var problems = ModelPackage.Check(manifestBytes, onnx, StepEncodings.Ids);
        return problems.Count > 0 ? throw new ModelPackageException(modelDir, problems) : (manifest, onnx);
    }

    private static void Print(EvaluationReport r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"{r.Objects} objects: macro AUROC {r.MacroAuroc:0.000}, macro F1 {r.MacroF1:0.000}, accuracy {r.Accuracy:0.000}");
        table.AddColumn("class");
        table.AddColumn(new TableColumn("support").RightAligned());
        table.AddColumn(new TableColumn("precision").RightAligned());
        table.AddColumn(new TableColumn("recall").RightAligned());
        table.AddColumn(new TableColumn("F1").RightAligned());
        table.AddColumn(new TableColumn("AUROC").RightAligned());
        foreach (var c in r.PerClass)
        {
            table.AddRow(Markup.Escape(c.Class), c.Support.ToString(System.Globalization.CultureInfo.InvariantCulture), ReportWriter.N(c.Precision), ReportWriter.N(c.Recall), ReportWriter.N(c.F1), ReportWriter.N(c.Auroc));
        }

        AnsiConsole.Write(table);
        if (r.ClassesWithoutObjects() is { Count: > 0 } absent)
        {
            // Macro AUROC averages the classes that have objects (a class without one has no AUROC); say which were left.
            CliHelpers.Stderr.MarkupLine($"[yellow]no object of class {Markup.Escape(string.Join(", ", absent))} in the data: the macro figures average the other {r.PerClass.Count - absent.Count} classes[/]");
        }

        var early = new Table().Border(TableBorder.Rounded).Title($"early classification ({Markup.Escape(r.Conditions)})");
        early.AddColumn(new TableColumn("days").RightAligned());
        early.AddColumn(new TableColumn("objects").RightAligned());
        early.AddColumn(new TableColumn("still observed").RightAligned());
        early.AddColumn(new TableColumn("macro AUROC").RightAligned());
        foreach (var p in r.Early)
        {
            early.AddRow($"{p.Days}", $"{p.Objects}", $"{p.StillObserved}", ReportWriter.N(p.MacroAuroc) + Markup.Escape(ReportWriter.Interval(p.MacroAurocInterval)));
        }

        early.AddRow("whole", $"{r.Objects}", "–", ReportWriter.N(r.MacroAuroc) + Markup.Escape(ReportWriter.Interval(r.MacroAurocInterval)));
        AnsiConsole.Write(early);
    }
}
