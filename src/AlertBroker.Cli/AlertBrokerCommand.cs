using System.CommandLine;
using AlertBroker.Cli.Commands;

namespace AlertBroker.Cli;

/// <summary>The <c>alertbroker</c> root command: one sub-command per area.</summary>
internal static class AlertBrokerCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("AlertBroker: decode, normalise, store and classify ZTF and Rubin/LSST alert streams.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ConsumeCommand.Create());
        root.Subcommands.Add(Worker.MockKafkaCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(FinetuneCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(ExperimentCommand.Create());
        root.Subcommands.Add(SplitCommand.Create());
        root.Subcommands.Add(SimulateCommand.Create());
        return root;
    }

    /// <summary>
    /// Parses and runs. <c>run</c> handles SIGTERM and SIGINT itself (a clean stop that may take as long as a drain, exit
    /// code 0); every other command gets System.CommandLine's handling (its token cancelled, 130/143 if it does not end
    /// within two seconds). Exceptions are not caught here: <c>Program</c> reports them on one line with exit code 70.
    /// </summary>
    /// <remarks>
    /// A command line that does not parse (an unknown option, a value of the wrong type or out of range, a required option
    /// missing) is a usage error: one line per error on stderr, a pointer to the command's help, exit code 2 (as for an
    /// invalid setting), nothing run. <c>alertbroker</c> alone prints the help.
    /// </remarks>
    public static Task<int> InvokeAsync(string[] args)
    {
        var parse = Create().Parse(args);
        if (args.Length > 0 && parse.Errors.Count > 0 && parse.Action is System.CommandLine.Invocation.ParseErrorAction)
        {
            var names = new List<string>();
            for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            {
                names.Insert(0, result.Command is RootCommand ? "alertbroker" : result.Command.Name);
            }

            var command = string.Join(' ', names);
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine($"{command}: {Readable(error.Message)}");
            }

            Console.Error.WriteLine($"(the options: {command} --help)");
            return Task.FromResult(2);
        }

        if (args.Length == 0 && parse.Errors.Count > 0)
        {
            // No command: the help, and the usage-error code every command group without a subcommand gives (was 1).
            return InvokeThenAsync(parse, 2);
        }

        var ownsSignals = parse.CommandResult.Command.Name is "run";
        return parse.InvokeAsync(ownsSignals
            ? new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false }
            : new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static async Task<int> InvokeThenAsync(ParseResult parse, int exitCode)
    {
        await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        return exitCode;
    }

    // System.CommandLine names the .NET type a value failed to parse as ('System.Nullable`1[System.Int32]'): say what it is.
    private static string Readable(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"as expected type '(?:System\.Nullable`1\[)?System\.(\w+)\]?'", m => m.Groups[1].Value switch
        {
            "Int32" or "Int64" or "Int16" or "UInt32" or "UInt64" => "as an integer",
            "Double" or "Single" or "Decimal" => "as a number",
            "Boolean" => "as true or false",
            var other => $"as {other}",
        });
}
