using AlertBroker.Alerts;
using AlertBroker.Simulation;
using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Cli.Worker;

/// <summary>
/// A simulated stream as messages: <see cref="Messages"/> in time order, and how much of the <see cref="NightsAsked"/>
/// nights they hold: all of them, or (<see cref="Cut"/>) the first <see cref="WholeNights"/> whole and part of the next,
/// when the stream had more alerts than were to be taken (<see cref="PartOfNext"/>: some of the next night's alerts are in).
/// </summary>
internal sealed record SimulatedStream(List<(string? Key, byte[] Value)> Messages, int NightsAsked, int WholeNights, bool Cut, bool PartOfNext = false);

/// <summary>Alert messages from <c>AlertBroker.Simulation</c>'s survey simulator (ZTF format, no cutouts), keyed by object id, in time order.</summary>
internal static class SimulatedNights
{
    /// <summary>The most transients per night <c>bench pipeline</c> asks of the simulator (1000 takes about 45 s to build on two cores).</summary>
    public const double MaxObjectsPerNight = 1000;

    /// <summary>The most alerts <c>bench pipeline</c> takes from the simulator.</summary>
    public const int MaxMessages = 20_000;

    /// <summary>
    /// At most <paramref name="maxMessages"/> alerts of the nights, and whether that cut the stream (and where); a stop
    /// request is seen between alerts and between the simulator's batches of objects.
    /// </summary>
    public static SimulatedStream ZtfStream(int nights, double objectsPerNight, long seed, int maxMessages, CancellationToken cancellationToken = default)
    {
        var asked = Math.Max(1, nights);
        var simulator = new AlertStreamSimulator(new AlertStreamOptions
        {
            Nights = asked,
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
            var whole = 0;
            foreach (var (_, night) in simulator.Nights(cancellationToken))
            {
                var taken = 0;
                foreach (var alert in night)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (list.Count >= maxMessages)
                    {
                        return new SimulatedStream(list, asked, whole, Cut: true, PartOfNext: taken > 0);
                    }

                    taken++;

                    var message = writer.EncodeMessage(alert).ToArray();
                    alerts.Clear();
                    decoder.Decode(message, alerts);
                    list.Add((alerts.Count > 0 ? alerts[0].ObjectId : null, message));
                }

                whole++;
            }

            return new SimulatedStream(list, asked, whole, Cut: false);
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
