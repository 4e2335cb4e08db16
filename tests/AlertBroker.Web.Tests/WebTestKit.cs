using System.Runtime.CompilerServices;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.Worker.Kafka;
using Confluent.Kafka;

namespace AlertBroker.Web.Tests;

/// <summary>A fact that scores with ONNX Runtime (shipped with the package, so never skipped: a missing runtime fails the test).</summary>
public sealed class OnnxFactAttribute : FactAttribute
{
}

internal static class WebTestKit
{
    /// <summary>The shipped models (<c>models/NAME/VERSION</c> in the checkout).</summary>
    public static string ShippedModel(string name, string version) =>
        Path.Combine(SharedData.RepositoryRoot() ?? throw new InvalidOperationException("the checkout was not found"), "models", name, version);

    /// <summary>Alerts under the paths in their survey's wire format (ZTF: Avro container; Rubin: Confluent wire, schemas in <paramref name="wire"/>), keyed by object id.</summary>
    public static List<(string? Key, byte[] Value, List<Alert> Alerts)> ReadArchives(IEnumerable<string> paths, SurveyWireFormat wire)
    {
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = wire });
        var list = new List<(string?, byte[], List<Alert>)>();
        foreach (var input in AlertArchiveReader.Read(paths))
        {
            if (input.Error is not null)
            {
                continue;
            }

            foreach (var message in wire.ToWire(input.Payload))
            {
                var alerts = new List<Alert>(1);
                decoder.Decode(message, alerts);
                list.Add((alerts.Count > 0 ? alerts[0].ObjectId : null, message, alerts));
            }
        }

        return list;
    }

    /// <summary>Produces the messages to <paramref name="topic"/> (paced, so the mock cluster keeps them all).</summary>
    public static async Task ProduceAsync(string bootstrap, string topic, IEnumerable<(string? Key, byte[] Value)> messages)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5, MessageMaxBytes = 16 * 1024 * 1024 }).Build();
        var n = 0;
        foreach (var (key, value) in messages)
        {
            await producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Key = key is null ? null : System.Text.Encoding.UTF8.GetBytes(key), Value = value });
            if (++n % 50 == 0)
            {
                await Task.Delay(20);
            }
        }

        producer.Flush(TimeSpan.FromSeconds(30));
    }

    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return condition();
    }

    /// <summary>Per (band, kind): how many distinct observations (by source id and kind) the alerts carry that can be plotted.</summary>
    public static Dictionary<(string Band, string Kind), int> PlottableCounts(IEnumerable<Alert> alerts)
    {
        var seen = new HashSet<(long, ObservationKind)>();
        var counts = new Dictionary<(string, string), int>();
        foreach (var a in alerts)
        {
            foreach (var o in a.Detections.Concat(a.UpperLimits).Concat(a.ForcedPhotometry))
            {
                if (!double.IsFinite(o.Mjd) || !seen.Add((o.SourceId, o.Kind)))
                {
                    continue;
                }

                var plottable = o.Kind == ObservationKind.UpperLimit ? float.IsFinite(o.LimitingMag) || float.IsFinite(o.FluxErrMicroJy) : float.IsFinite(o.FluxMicroJy);
                if (!plottable)
                {
                    continue;
                }

                var band = (o.Band.ToString().StartsWith("Ztf", StringComparison.Ordinal) ? "ztf:" : "lsst:") + o.Band.ToString()[^1..].ToLowerInvariant();
                var kind = o.Kind switch
                {
                    ObservationKind.Detection => "detection",
                    ObservationKind.Forced => "forced",
                    _ => "upper_limit",
                };
                counts[(band, kind)] = counts.GetValueOrDefault((band, kind)) + 1;
            }
        }

        return counts;
    }

    private static string? SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path);
}
