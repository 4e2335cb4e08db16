using System.CommandLine;
using System.Globalization;
using AlertBroker.Cli.Training;
using AlertBroker.Training.Data;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker split</c>: writes the test object ids of a stratified, seeded split of a labelled set, so the held-out
/// part is fixed in a committed file before any tuning (docs/training.md, "The BTS test set").
/// </summary>
internal static class SplitCommand
{
    public static Command Create()
    {
        var cli = new TrainingCli();
        var output = new Option<string>("--out") { Description = "File to write (one object id per line, '#' comments); with --folds, a pattern containing {k} (fold 1…K).", Required = true }.OutputFile();
        var folds = new Option<int>("--folds") { Description = $"Instead of one test part: K stratified, seeded, disjoint folds covering every object (cross-validation), one file each; K from 2 to {MaxFolds}, at most the number of objects.", DefaultValueFactory = _ => 0 }.InRange(2, MaxFolds);
        RefuseOddValues(cli);
        var command = new Command("split", "Write the test object ids of a stratified (by class), seeded split of a labelled set: --data, --classes, --test, --seed.");
        foreach (var o in new Option[] { cli.Data, cli.Labels, cli.Survey, cli.ClassMap, cli.Classes, cli.DetectionsOnly, cli.Test, cli.Seed, cli.ExcludeIds, folds, output })
        {
            command.Options.Add(o);
        }

        command.Validators.Add(result =>
        {
            // Folds cover every object, so there is no test fraction to take: --test was ignored without a word (until
            // 2026-12-07).
            if (result.GetResult(folds) is { Implicit: false } && result.GetResult(cli.Test) is { Implicit: false })
            {
                result.AddError("--folds splits every object into K folds and takes no --test fraction: give one or the other (for folds of the objects outside a test part, --exclude-ids the test ids file)");
            }

            // A pattern without {k} would write every fold to one file, each over the last.
            else if (result.GetResult(folds) is { Implicit: false } && result.GetValue(output) is { } pattern && !pattern.Contains("{k}", StringComparison.Ordinal))
            {
                result.AddError("--folds needs an --out pattern containing {k} (the fold number), e.g. --out folds/fold{k}.txt");
            }
            else if (result.GetResult(folds) is { Implicit: false } given && CliHelpers.TryGetValue(given, out int k) && k is >= 2 and <= MaxFolds && result.GetValue(output) is { } foldPattern
                && Enumerable.Range(1, k).Select(i => (Fold: i, Path: FoldPath(foldPattern, i))).FirstOrDefault(f => Directory.Exists(f.Path)) is { Path: not null } taken)
            {
                // Found only when writing, fold by fold: fold 1 written, then "Access to the path … is denied", exit 1.
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{taken.Path} (fold {taken.Fold}) is a directory; --out takes a pattern of files to write"));
            }
        });
        command.RefuseOutputThatIsAnInput(output, PathKind.File, cli.Data, cli.Labels, cli.ExcludeIds, cli.ClassMap);
        command.SetAction((parse, ct) => Task.FromResult(parse.GetValue(folds) > 0 ? RunFolds(cli, parse, parse.GetValue(output)!, parse.GetValue(folds), ct) : Run(cli, parse, parse.GetValue(output)!, ct)));
        return command;
    }

    // Cross-validation beyond 100 folds is leave-one-out in all but name; --folds 100000 wrote 1,605 files and then
    // ended in "unexpected error".
    private const int MaxFolds = 100;

    // The shared training options, as split reads them: values it cannot use are usage errors (exit 2) said before the
    // data is read — not exit 1 after it, "unexpected error" (an empty --classes, a --survey whose bands match nothing:
    // "no object ids"), or .NET's "Cannot parse '-1' … as an integer" for a seed.
    private static void RefuseOddValues(TrainingCli cli)
    {
        cli.Test.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out double test) && !(test > 0 && test < 1))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--test must be a fraction strictly between 0 and 1, not {test}."));
            }
        });
        cli.Classes.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? list) && list is not null
                && list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Length == 0)
            {
                result.AddError("--classes needs class names, comma-separated (e.g. SNIa,SNII), not an empty list.");
            }
        });
        cli.Survey.AcceptOnlyFromAmong("ztf", "lsst", "des");
        cli.Seed.CustomParser = result =>
        {
            var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "1";
            if (ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
            {
                return seed;
            }

            result.AddError($"--seed takes a whole number from 0 to {ulong.MaxValue.ToString(CultureInfo.InvariantCulture)}, not '{token}'.");
            return 0;
        };
    }

    private static int RunFolds(TrainingCli cli, ParseResult parse, string pattern, int folds, CancellationToken ct)
    {
        var (data, encoded, classes, exit) = Load(cli, parse, ct);
        if (exit != 0)
        {
            return exit;
        }

        if (folds > encoded.Count)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"--folds {folds} is more folds than the {encoded.Count} objects: every fold needs at least one")));
            return 2;
        }

        var seed = parse.GetValue(cli.Seed);
        var inv = CultureInfo.InvariantCulture;
        var assigned = HoldoutIds.StratifiedFolds(encoded, folds, seed);

        // All folds or none: each is written beside its place under a hidden name, and moved into place only when every
        // one was written (a fold that could not be written left the folds before it, new or overwritten, beside the old
        // later ones: a set a user could take for a whole split).
        var staged = new List<(Simulation.Output.PartialFile File, int Count)>();
        try
        {
            for (var k = 0; k < folds; k++)
            {
                var file = Simulation.Output.PartialFile.Begin(FoldPath(pattern, k + 1));
                staged.Add((file, 0));
                var written = TryWrite(file.WritePath, file.Path, assigned[k],
                [
                    string.Create(inv, $"Fold {k + 1} of {folds} of {data.Name}: {assigned[k].Length} of {encoded.Count} objects."),
                    string.Create(inv, $"Rule: stratified by class (each class's objects shuffled with seed {seed} and dealt round-robin), classes {string.Join(',', classes)}."),
                    "Written by `alertbroker split --folds` (docs/training.md).",
                ]);
                if (written is null)
                {
                    return 1;
                }

                staged[k] = (file, written.Count);
            }

            for (var k = 0; k < staged.Count; k++)
            {
                var (file, count) = staged[k];
                try
                {
                    file.Commit();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    CliHelpers.CannotWrite(file.Path, file.InWordsOfThePath(e.Message));
                    return 1;
                }

                CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"fold {k + 1}: {count} ids → {file.Path}")));
            }

            return 0;
        }
        finally
        {
            staged.ForEach(s => s.File.Dispose());
        }
    }

    private static string FoldPath(string pattern, int fold) => pattern.Replace("{k}", fold.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    // The ids file, or null after saying on stderr why it cannot be written (a missing or read-only directory).
    private static HoldoutIds? TryWrite(string path, IEnumerable<string> ids, IEnumerable<string> header) => TryWrite(path, path, ids, header);

    // As above, written at `file` and named in a message as `shownAs` (the place a staged fold goes to).
    private static HoldoutIds? TryWrite(string file, string shownAs, IEnumerable<string> ids, IEnumerable<string> header)
    {
        try
        {
            return HoldoutIds.Write(file, ids, header);
        }
        catch (InvalidDataException e)
        {
            // An id the file cannot hold (HoldoutIds.NotWritable): nothing written.
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CliHelpers.CannotWrite(shownAs, e.Message.Replace(file, shownAs, StringComparison.Ordinal));
            return null;
        }
    }

    private static int Run(TrainingCli cli, ParseResult parse, string output, CancellationToken ct)
    {
        var (data, encoded, classes, exit) = Load(cli, parse, ct);
        if (exit != 0)
        {
            return exit;
        }

        var test = parse.GetValue(cli.Test);
        var seed = parse.GetValue(cli.Seed);
        var ids = HoldoutIds.StratifiedTestIds(encoded, test, seed);
        if (ids.Length == 0)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"--test {test} of {encoded.Count} objects holds no object; give a larger fraction")));
            return 2;
        }

        var inv = CultureInfo.InvariantCulture;
        var counts = new int[classes.Count];
        var set = new HashSet<string>(ids, StringComparer.Ordinal);
        for (var i = 0; i < encoded.Count; i++)
        {
            if (set.Contains(encoded.ObjectIds[i]))
            {
                counts[encoded.Labels[i]]++;
            }
        }

        var perClass = string.Join(", ", classes.Select((c, i) => string.Create(inv, $"{c} {counts[i]}")));
        var written = TryWrite(output, ids,
        [
            string.Create(inv, $"Held-out test objects of {data.Name}: {ids.Length} of {encoded.Count} ({perClass})."),
            string.Create(inv, $"Rule: stratified by class, test fraction {test}, seed {seed}, classes {string.Join(',', classes)}{(parse.GetValue(cli.DetectionsOnly) ? ", detections only" : string.Empty)}; objects in reading order."),
            "Written by `alertbroker split` (docs/training.md, \"The BTS test set\").",
            "Never train, fine-tune, tune the simulator or select models on these objects.",
        ]);
        if (written is null)
        {
            return 1;
        }

        CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"{written.Count} test ids ({perClass}) → {output} (sha256 {written.Sha256[..12]}…)")));
        return 0;
    }

    // The labelled set, encoded with the classes asked for (all of the data's by default), or the exit code of why not.
    private static (LabelledDataset Data, EncodedDataset Encoded, IReadOnlyList<string> Classes, int Exit) Load(TrainingCli cli, ParseResult parse, CancellationToken ct)
    {
        LabelledDataset data;
        try
        {
            data = cli.LoadData(parse, ct);
        }
        catch (TrainingCli.IdsNotInDataException e)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return (null!, null!, [], 2);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException)
        {
            CliHelpers.Stderr.MarkupLine($"[red]cannot read data:[/] {Markup.Escape(e.Message)}");
            return (null!, null!, [], 1);
        }

        var classList = parse.GetValue(cli.Classes);
        IReadOnlyList<string> classes = classList is null ? EncodedDataset.DefaultClasses(data) : classList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var encoded = EncodedDataset.Encode(data, classes, new EncodingOptions { MaxSteps = int.MaxValue, Metadata = MetadataUse.None });
        TrainingCli.ReportLeftOut(encoded, "the split"); // as train and evaluate say it: split said nothing of the objects it left out
        var exit = TrainingCli.CheckClasses(data, encoded, refuseAbsent: true) ?? 0;
        if (exit == 0 && encoded.Count == 0)
        {
            // Nothing left to split (every row left out, e.g. bands that are not the survey's): said, not "no object ids".
            CliHelpers.Stderr.MarkupLine("[red]no labelled object to split in --data[/] (see the lines above for what was left out)");
            exit = 1;
        }

        return (data, encoded, classes, exit);
    }
}
