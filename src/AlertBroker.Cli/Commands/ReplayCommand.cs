using System.CommandLine;
using System.Globalization;
using AlertBroker.Cli.Replay;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker replay PATH…</c>: decode and normalise archived alerts, print a summary.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var paths = CliHelpers.PathsArgument("Alert files (.avro), directories (searched recursively) and nightly archives (.tar.gz).");
        var rate = new Option<double>("--rate") { Description = "Pace at N alerts per second (default: as fast as possible)." };
        var output = new Option<string?>("--out") { Description = "Write the normalised alerts to this JSON-lines file." };
        var repeat = new Option<int>("--repeat") { Description = "Go through the inputs N times (passes after the first replay from memory).", DefaultValueFactory = _ => 1 };
        var limit = new Option<long>("--limit") { Description = "Stop after N alerts." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress display." };
        var registry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption();

        var command = new Command("replay", "Decode and normalise everything under the paths and print a summary (alerts, objects, schema versions, errors, alerts/s).")
        {
            paths, rate, output, repeat, limit, quiet, registry, schemaDir,
        };
        command.SetAction((parse, ct) => Task.FromResult(Run(
            parse.GetValue(paths)!,
            new ReplayOptions
            {
                Rate = parse.GetValue(rate),
                OutPath = parse.GetValue(output),
                Repeat = Math.Max(1, parse.GetValue(repeat)),
                Limit = parse.GetValue(limit),
            },
            parse.GetValue(quiet),
            parse.GetValue(registry),
            parse.GetValue(schemaDir),
            ct)));
        return command;
    }

    /// <summary>Runs a replay and prints its report; exit code 1 when nothing could be read.</summary>
    public static int Run(IReadOnlyList<string> paths, ReplayOptions options, bool quiet, string? registry, string? schemaDir, CancellationToken cancellationToken)
    {
        foreach (var p in paths)
        {
            if (!File.Exists(p) && !Directory.Exists(p))
            {
                CliHelpers.Stderr.MarkupLine($"[red]no such file or directory:[/] {Markup.Escape(p)}");
            }
        }

        var replayer = new AlertReplayer(CliHelpers.CreateDecoder(registry, schemaDir), options)
        {
            Progress = quiet ? null : ProgressPrinter(),
        };
        var stats = replayer.Run(paths, cancellationToken);
        ReplayReport.Write(AnsiConsole.Console, stats);
        if (stats.Alerts == 0)
        {
            CliHelpers.Stderr.MarkupLine("[red]no alert could be read[/]");
            return 1;
        }

        return 0;
    }

    private static Action<ReplayStatistics> ProgressPrinter()
    {
        var last = DateTime.MinValue;
        return s =>
        {
            // A long run reports once a second on stderr; short runs finish before the first report.
            if (DateTime.UtcNow - last < TimeSpan.FromSeconds(1) || s.Elapsed < TimeSpan.FromSeconds(1))
            {
                return;
            }

            last = DateTime.UtcNow;
            Console.Error.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"[replay] {s.Elapsed.TotalSeconds:F0} s: {s.Alerts:N0} alerts ({s.AlertsPerSecond:N0}/s), {s.Objects:N0} objects, {s.ErrorCount:N0} errors"));
        };
    }
}
