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
}
