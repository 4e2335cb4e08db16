using AlertBroker.Simulation;
using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Cli.Tests;

/// <summary>A simulated night of ZTF alerts written as one Avro container file: one message holding many alerts.</summary>
internal static class NightContainer
{
    public static string Write(string directory)
    {
        var path = Path.Combine(directory, "night.avro");
        var options = new AlertStreamOptions
        {
            Simulation = new SimulationOptions { Survey = ZtfSurvey.Model, Seed = 7, ClassMix = ClassMixKind.Natural, MinDetections = 1 },
            Nights = 1,
            ObjectsPerNight = 10,
        };
        using (var writer = new AlertStreamWriter(ZtfSurvey.Model, path, AlertOutputLayout.SingleFile, 7, cutouts: false))
        {
            writer.WriteStream(new AlertStreamSimulator(options));
        }

        return path;
    }
}
