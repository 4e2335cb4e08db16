using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AlertBroker.Cli.Training;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Training;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker train</c>: train the GRU classifier from scratch and export a model package.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var cli = new TrainingCli();
        var benchmark = new Option<bool>("--benchmark") { Description = "Time training epochs on a fixed synthetic set instead (--sequences × --steps, default network, --batch; 3 epochs unless --epochs)." };
        var sequences = new Option<int>("--sequences") { Description = "Benchmark: sequences, 1 to 10,000,000.", DefaultValueFactory = _ => 10_000 }.InRange(1, MaxBenchmarkSequences);
        var steps = new Option<int>("--steps") { Description = "Benchmark: steps per sequence, 1 to 10,000; --sequences × --steps at most 20,000,000.", DefaultValueFactory = _ => 40 }.InRange(1, MaxBenchmarkSteps);
        var command = new Command("train", "Train the GRU classifier on labelled light curves, evaluate it on a held-out split and export it (ONNX + model.json).");
        cli.AddTo(command);
        command.Options.Add(benchmark);
        command.Options.Add(sequences);
        command.Options.Add(steps);

        // --out or --checkpoints at the teacher package wrote the student over the model it distils from (exit 0), as
        // finetune refuses for its base and teacher.
        command.RefuseOutputThatIsAnInput(cli.Out, PathKind.Directory, cli.DistillFrom);
        command.RefuseOutputThatIsAnInput(cli.Checkpoints, PathKind.Directory, cli.DistillFrom);
        command.Validators.Add(result =>
        {
            // A count that does not parse keeps the parser's own error (GetValue threw here: "unexpected error", exit 70).
            if (result.GetValue(benchmark) && CliHelpers.TryGetValue(result, sequences, out var n) && CliHelpers.TryGetValue(result, steps, out var t)
                && (long)n * t is var cells and > MaxBenchmarkCells)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--sequences × --steps must be at most {MaxBenchmarkCells:N0} steps in all, not {cells:N0}."));
            }
        });
        command.SetAction((parse, ct) => Task.FromResult(parse.GetValue(benchmark) && cli.SettingsProblem(parse) is null
            ? Benchmark(parse.GetValue(sequences), parse.GetValue(steps), parse.GetValue(cli.Batch), parse.GetResult(cli.Epochs) is { Implicit: false } ? Math.Max(1, parse.GetValue(cli.Epochs)) : 3, parse.GetValue(cli.Threads), ct)
            : Run(cli, parse, ct)));
        return command;
    }

    // The synthetic set is held in memory (six floats a step, and the trainer's buffers beside them): --sequences
    // 2147483647 ended in OutOfMemoryException and --steps 2147483647 in OverflowException (exit 70), --sequences 0 in
    // "The training set is empty" (exit 70), --steps 0 timed epochs of nothing (loss NaN, exit 0), and 100,000 × 100,000
    // allocated until the machine ran out.
    internal const int MaxBenchmarkSequences = 10_000_000, MaxBenchmarkSteps = 10_000;
    internal const long MaxBenchmarkCells = 20_000_000;

    private static int Run(TrainingCli cli, ParseResult parse, CancellationToken ct)
    {
        if (cli.SettingsProblem(parse) is { } problem)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(problem)}[/]");
            return 2;
        }

        if (!cli.CanWriteOutputs(parse))
        {
            return 1;
        }

        LabelledDataset data;
        try
        {
            data = cli.LoadData(parse, ct);
        }
        catch (TrainingCli.IdsNotInDataException e)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 2;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException)
        {
            CliHelpers.Stderr.MarkupLine($"[red]cannot read data:[/] {Markup.Escape(e.Message)}");
            return 1;
        }

        IStepEncoding encoding;
        try
        {
            encoding = cli.StepEncoding(parse);
        }
        catch (ArgumentException e)
        {
            CliHelpers.Stderr.MarkupLine($"[red]--encoding:[/] {Markup.Escape(CliHelpers.PlainMessage(e))}");
            return 2;
        }

        var classList = parse.GetValue(cli.Classes);
        IReadOnlyList<string> classes = classList is null ? EncodedDataset.DefaultClasses(data) : classList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var seed = parse.GetValue(cli.Seed);
        var metadata = cli.UsesMetadata(parse, encoding);
        var provenance = new JsonObject { ["source"] = data.Name, ["mode"] = "train", ["seed"] = seed };
        return cli.Run(parse, data, classes, c => GruClassifierWeights.Random(ModelIo.DefaultConfig(c.Count, metadata, encoding), unchecked((long)seed)), TrainableLayers.All, 1e-3f, provenance, encoding, ct, fromScratch: true);
    }

    /// <summary>Seconds per epoch on a synthetic set: random features, five classes, the default network.</summary>
    internal static int Benchmark(int sequences, int steps, int batch, int epochs, int threads, CancellationToken ct)
    {
        var data = EncodedDataset.Synthetic(sequences, steps, 5, 42);
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(5), 1);
        var options = new TrainingOptions { MaxEpochs = epochs, BatchSize = batch, Threads = threads, Patience = 0 };
        var clock = Stopwatch.StartNew();
        var result = GruTrainer.Train(weights, data, null, options, null, ct);
        var total = clock.Elapsed.TotalSeconds;
        var inv = CultureInfo.InvariantCulture;
        foreach (var e in result.History)
        {
            Console.WriteLine(string.Create(inv, $"epoch {e.Epoch}: {e.Seconds:0.00} s (loss {e.TrainLoss:0.0000})"));
        }

        var best = double.MaxValue;
        foreach (var e in result.History)
        {
            best = Math.Min(best, e.Seconds);
        }

        Console.WriteLine(string.Create(inv, $"{sequences} sequences × {steps} steps, batch {batch}, {threads} thread(s): {total / epochs:0.00} s/epoch mean, {best:0.00} s best"));
        return 0;
    }
}
