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
        var folds = new Option<int>("--folds") { Description = "Instead of one test part: K stratified, seeded, disjoint folds covering every object (cross-validation), one file each.", DefaultValueFactory = _ => 0 };
        var command = new Command("split", "Write the test object ids of a stratified (by class), seeded split of a labelled set: --data, --classes, --test, --seed.");
        foreach (var o in new Option[] { cli.Data, cli.Labels, cli.Survey, cli.ClassMap, cli.Classes, cli.DetectionsOnly, cli.Test, cli.Seed, cli.ExcludeIds, folds, output })
        {
            command.Options.Add(o);
        }

        command.SetAction((parse, ct) => Task.FromResult(parse.GetValue(folds) > 0 ? RunFolds(cli, parse, parse.GetValue(output)!, parse.GetValue(folds), ct) : Run(cli, parse, parse.GetValue(output)!, ct)));
        return command;
    }

    private static int RunFolds(TrainingCli cli, ParseResult parse, string pattern, int folds, CancellationToken ct)
    {
        if (!pattern.Contains("{k}", StringComparison.Ordinal) || folds < 2)
        {
            CliHelpers.Stderr.MarkupLine("[red]--folds needs K ≥ 2 and an --out pattern containing {k}[/]");
            return 1;
        }

        var (data, encoded, classes, exit) = Load(cli, parse, ct);
        if (exit != 0)
        {
            return exit;
        }

        var seed = parse.GetValue(cli.Seed);
        var inv = CultureInfo.InvariantCulture;
        var assigned = HoldoutIds.StratifiedFolds(encoded, folds, seed);
        for (var k = 0; k < folds; k++)
        {
            var path = pattern.Replace("{k}", (k + 1).ToString(inv), StringComparison.Ordinal);
            var written = TryWrite(path, assigned[k],
            [
                string.Create(inv, $"Fold {k + 1} of {folds} of {data.Name}: {assigned[k].Length} of {encoded.Count} objects."),
                string.Create(inv, $"Rule: stratified by class (each class's objects shuffled with seed {seed} and dealt round-robin), classes {string.Join(',', classes)}."),
                "Written by `alertbroker split --folds` (docs/training.md).",
            ]);
            if (written is null)
            {
                return 1;
            }

            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(inv, $"fold {k + 1}: {written.Count} ids → {path}")));
        }

        return 0;
    }

    // The ids file, or null after saying on stderr why it cannot be written (a missing or read-only directory).
    private static HoldoutIds? TryWrite(string path, IEnumerable<string> ids, IEnumerable<string> header)
    {
        try
        {
            return HoldoutIds.Write(path, ids, header);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CliHelpers.CannotWrite(path, e.Message);
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
        if (!(test > 0 && test < 1))
        {
            CliHelpers.Stderr.MarkupLine("[red]--test must be a fraction between 0 and 1[/]");
            return 1;
        }

        var ids = HoldoutIds.StratifiedTestIds(encoded, test, seed);
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
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException)
        {
            CliHelpers.Stderr.MarkupLine($"[red]cannot read data:[/] {Markup.Escape(e.Message)}");
            return (null!, null!, [], 1);
        }

        var classList = parse.GetValue(cli.Classes);
        IReadOnlyList<string> classes = classList is null ? EncodedDataset.DefaultClasses(data) : classList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var encoded = EncodedDataset.Encode(data, classes, new EncodingOptions { MaxSteps = int.MaxValue, Metadata = MetadataUse.None });
        return (data, encoded, classes, TrainingCli.CheckClasses(data, encoded, refuseAbsent: true) ?? 0);
    }
}
