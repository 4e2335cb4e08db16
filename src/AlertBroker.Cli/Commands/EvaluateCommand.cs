using System.CommandLine;
using System.Text.Json.Nodes;
using AlertBroker.Cli.Training;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;
using AlertBroker.Training.Training;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker evaluate --model DIR --data …</c>: metrics, JSON and an HTML report.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var cli = new TrainingCli();
        var model = new Option<string>("--model") { Description = "Model package directory.", Required = true };
        var split = new Option<string>("--split") { Description = "Which part of --data to evaluate: all, or the test/validation/train part of the split the model was trained with (seed and fractions from model.json unless given).", DefaultValueFactory = _ => "all" };
        var report = new Option<string?>("--report") { Description = "Directory for evaluation.json and evaluation.html (default: print only)." };
        var command = new Command("evaluate", "Evaluate a model package on labelled light curves: macro AUROC, F1, accuracy, per-class figures, confusion matrix, early classification.");
        cli.AddTo(command);
        command.Options.Add(model);
        command.Options.Add(split);
        command.Options.Add(report);
        command.SetAction((parse, ct) => Task.FromResult(Run(cli, parse, parse.GetValue(model)!, parse.GetValue(split)!, parse.GetValue(report), ct)));
        return command;
    }

    private static int Run(TrainingCli cli, ParseResult parse, string modelDir, string part, string? reportDir, CancellationToken ct)
    {
        TrainedModel model;
        LabelledDataset data;
        try
        {
            model = ModelIo.LoadPackage(modelDir);

            // Evaluate the view the model was trained on (alert-like detections only) unless told otherwise.
            var trainedOnDetections = model.Manifest?.Training.Data?["encoding"] is JsonObject e && e["detectionsOnly"] is JsonValue d && d.GetValue<bool>();
            data = cli.LoadData(parse, ct, detectionsOnly: Given(parse, cli.DetectionsOnly) ? null : trainedOnDetections);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException)
        {
            CliHelpers.Stderr.MarkupLine($"[red]cannot start:[/] {Markup.Escape(e.Message)}");
            return 1;
        }

        var splitInfo = model.Manifest?.Training.Data?["split"] as JsonObject;
        var encodingInfo = model.Manifest?.Training.Data?["encoding"] as JsonObject;
        var maxSteps = !Given(parse, cli.MaxSteps) && encodingInfo?["maxSteps"] is JsonValue ms ? ms.GetValue<int>() : parse.GetValue(cli.MaxSteps);
        var encoded = EncodedDataset.Encode(data, model.Classes, new EncodingOptions { MaxSteps = maxSteps, UseMetadata = !parse.GetValue(cli.NoMeta) });
        if (part != "all")
        {
            var seed = !Given(parse, cli.Seed) && splitInfo?["seed"] is JsonValue s ? s.GetValue<ulong>() : parse.GetValue(cli.Seed);
            var val = !Given(parse, cli.Validation) && splitInfo?["validationFraction"] is JsonValue v ? v.GetValue<double>() : parse.GetValue(cli.Validation);
            var test = !Given(parse, cli.Test) && splitInfo?["testFraction"] is JsonValue t ? t.GetValue<double>() : parse.GetValue(cli.Test);
            var split = DatasetSplit.Stratified(encoded.Labels, val, test, seed);
            encoded = encoded.Subset(part switch
            {
                "test" => split.Test,
                "validation" => split.Validation,
                "train" => split.Train,
                _ => throw new ArgumentException($"--split must be all, train, validation or test, not '{part}'."),
            });
        }

        if (encoded.Count == 0)
        {
            CliHelpers.Stderr.MarkupLine("[red]no objects of the model's classes in the data[/]");
            return 1;
        }

        var result = EvaluationReport.Evaluate(model.Weights, encoded, parse.GetValue(cli.Threads)) with
        {
            Model = modelDir,
            Data = data.Name + (part == "all" ? string.Empty : $" ({part} split)"),
            History = ModelIo.History(model.Manifest),
        };
        Print(result);
        if (reportDir is not null)
        {
            ReportWriter.Write(result, reportDir);
            CliHelpers.Stderr.MarkupLine($"[green]wrote[/] {Markup.Escape(Path.Combine(reportDir, "evaluation.html"))} and evaluation.json");
        }

        return 0;
    }

    private static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

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
            table.AddRow(Markup.Escape(c.Class), c.Support.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{c.Precision:0.000}", $"{c.Recall:0.000}", $"{c.F1:0.000}", $"{c.Auroc:0.000}");
        }

        AnsiConsole.Write(table);
        var early = new Table().Border(TableBorder.Rounded).Title("early classification");
        early.AddColumn(new TableColumn("days").RightAligned());
        early.AddColumn(new TableColumn("objects").RightAligned());
        early.AddColumn(new TableColumn("macro AUROC").RightAligned());
        foreach (var p in r.Early)
        {
            early.AddRow($"{p.Days}", $"{p.Objects}", $"{p.MacroAuroc:0.000}");
        }

        AnsiConsole.Write(early);
    }
}
