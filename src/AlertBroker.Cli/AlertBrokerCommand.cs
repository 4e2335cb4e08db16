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
    public static Task<int> InvokeAsync(string[] args)
    {
        var parse = Create().Parse(args);
        var ownsSignals = parse.CommandResult.Command.Name is "run";
        return parse.InvokeAsync(ownsSignals
            ? new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false }
            : new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
