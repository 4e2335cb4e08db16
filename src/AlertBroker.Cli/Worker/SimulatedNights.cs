using AlertBroker.Alerts;
using AlertBroker.Simulation;
using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Cli.Worker;

/// <summary>Alert messages from <c>AlertBroker.Simulation</c>'s survey simulator (ZTF format, no cutouts), keyed by object id, in time order.</summary>
internal static class SimulatedNights
{
    /// <summary>The most transients per night <c>bench pipeline</c> asks of the simulator (1000 takes about 45 s to build on two cores).</summary>
    public const double MaxObjectsPerNight = 1000;

    /// <summary>The most alerts <c>bench pipeline</c> takes from the simulator.</summary>
    public const int MaxMessages = 20_000;

    /// <summary>
    /// The alerts of <paramref name="nights"/> nights, at most <paramref name="maxMessages"/>; <paramref name="nightsIncluded"/>:
    /// how many nights are in whole or in part (fewer than asked when the cap cut the stream). The token is seen between
    /// alerts and within the simulator's batches; the scratch directory is removed however it ends.
    /// </summary>
    public static List<(string? Key, byte[] Value)> Ztf(int nights, double objectsPerNight, long seed, int maxMessages, out int nightsIncluded, CancellationToken cancellationToken = default)
    {
        nightsIncluded = 0;
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
            foreach (var (_, night) in simulator.Nights(cancellationToken))
            {
                if (list.Count >= maxMessages)
                {
                    return list;
                }

                nightsIncluded++;
                foreach (var alert in night)
                {
                    if (list.Count >= maxMessages)
                    {
                        return list;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
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
