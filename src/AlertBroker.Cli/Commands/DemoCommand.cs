using System.CommandLine;
using AlertBroker.Cli.Replay;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker demo</c>: the main job on an embedded default. Today: replay the real ZTF and Rubin
/// sample alerts in <c>../shared/alert-samples</c> (or given paths) through decoding and normalisation.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Alert files or directories (default: ../shared/alert-samples).", Arity = ArgumentArity.ZeroOrMore };
        var repeat = new Option<int>("--repeat") { Description = "Replay the inputs N times from memory to measure throughput.", DefaultValueFactory = _ => 200 };
        var command = new Command("demo", "Run the pipeline on the bundled sample alerts and print a summary.") { paths, repeat };
        command.SetAction((parse, ct) =>
        {
            var given = parse.GetValue(paths) ?? [];
            IReadOnlyList<string> inputs = given;
            if (given.Length == 0)
            {
                var shared = CliHelpers.FindSharedDirectory();
                if (shared is null)
                {
                    CliHelpers.Stderr.MarkupLine("[red]no inputs:[/] ../shared/alert-samples was not found beside the checkout; pass alert files or directories.");
                    return Task.FromResult(1);
                }

                inputs = [Path.Combine(shared, "alert-samples")];
            }

            AnsiConsole.MarkupLine($"[bold]AlertBroker demo[/]: decoding and normalising {Markup.Escape(string.Join(", ", inputs))} ({parse.GetValue(repeat)} passes)");
            return Task.FromResult(ReplayCommand.Run(inputs, new ReplayOptions { Repeat = Math.Max(1, parse.GetValue(repeat)) }, quiet: false, null, null, ct));
        });
        return command;
    }
}
