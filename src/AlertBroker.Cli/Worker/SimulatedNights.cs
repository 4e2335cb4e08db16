using AlertBroker.Alerts;
using AlertBroker.Simulation;
using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Cli.Worker;

/// <summary>Alert messages from <c>AlertBroker.Simulation</c>'s survey simulator (ZTF format, no cutouts), keyed by object id, in time order.</summary>
internal static class SimulatedNights
{
    public static List<(string? Key, byte[] Value)> Ztf(int nights, double objectsPerNight, long seed, int maxMessages)
    {
        var simulator = new AlertStreamSimulator(new AlertStreamOptions
        {
            Nights = Math.Max(1, nights),
            ObjectsPerNight = objectsPerNight,
            Simulation = new SimulationOptions { Survey = ZtfSurvey.Model, Seed = seed, ClassMix = ClassMixKind.Natural, MinDetections = 1 },
        });
        var scratch = Path.Combine(Path.GetTempPath(), "alertbroker-sim-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var list = new List<(string?, byte[])>();
        var decoder = new AlertDecoder();
        var alerts = new List<Alert>(1);
        try
        {
            using var writer = new AlertStreamWriter(ZtfSurvey.Model, scratch, AlertOutputLayout.Files, seed, cutouts: false);
            foreach (var (_, night) in simulator.Nights())
            {
                foreach (var alert in night)
                {
                    if (list.Count >= maxMessages)
                    {
                        return list;
                    }

                    var message = writer.EncodeMessage(alert).ToArray();
                    alerts.Clear();
                    decoder.Decode(message, alerts);
                    list.Add((alerts.Count > 0 ? alerts[0].ObjectId : null, message));
                }
            }

            return list;
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
