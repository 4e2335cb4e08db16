using System.Diagnostics;
using AlertBroker.Alerts;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;

namespace AlertBroker.Cli.Worker;

/// <summary>What one in-process pipeline measurement gave.</summary>
internal sealed record PipelineBenchResult(int Passes, long Messages, long Alerts, long DeadLetters, TimeSpan Elapsed, List<double> BatchMs, Dictionary<ScoringPath, long> Paths)
{
    /// <summary>Shadow classifications produced (with shadow models).</summary>
    public long ShadowClassifications { get; init; }

    public double AlertsPerSecond => Alerts / Math.Max(1e-9, Elapsed.TotalSeconds);
}

/// <summary>
/// Drives <see cref="AlertBatchProcessor"/> — the batch handler the Kafka consumer drives — from messages held in memory as
/// Kafka message bytes. Every pass starts from empty state (a fresh in-memory store or a fresh Redis key prefix), so each
/// pass does the real work: merges, full re-runs for new objects and incremental steps for the ones seen earlier in the pass.
/// </summary>
internal static class PipelineBench
{
    public static async Task<PipelineBenchResult> RunAsync(IReadOnlyList<byte[]> messages, ModelSet models, Func<int, IObjectStateStore> newStore, AlertBroker.Avro.ISchemaLookup? schemas, int batchSize, TimeSpan duration, CancellationToken cancellationToken)
    {
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = schemas });
        var codec = new ClassificationCodec();
        var inputs = new InputMessage[messages.Count];
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < messages.Count; i++)
        {
            inputs[i] = new InputMessage(messages[i], "bench", 0, i, now);
        }

        // Warm-up pass (JIT, ONNX Runtime's first runs, schema plans), not measured.
        await OnePassAsync(new AlertBatchProcessor(decoder, newStore(-1), () => models, codec) { ShadowStatistics = new AlertBroker.Registry.ShadowStatisticsAccumulator() }, inputs, batchSize, null, null, cancellationToken).ConfigureAwait(false);

        var batchMs = new List<double>();
        var paths = new Dictionary<ScoringPath, long>();
        long alerts = 0, dead = 0, count = 0, shadows = 0;
        var passes = 0;
        var clock = Stopwatch.StartNew();
        while ((passes == 0 || clock.Elapsed < duration) && !cancellationToken.IsCancellationRequested)
        {
            var store = newStore(passes);
            var processor = new AlertBatchProcessor(decoder, store, () => models, codec) { ShadowStatistics = new AlertBroker.Registry.ShadowStatisticsAccumulator() };
            var (a, d, sh) = await OnePassAsync(processor, inputs, batchSize, batchMs, paths, cancellationToken).ConfigureAwait(false);
            (store as IDisposable)?.Dispose();
            alerts += a;
            dead += d;
            shadows += sh;
            count += inputs.Length;
            passes++;
        }

        return new PipelineBenchResult(passes, count, alerts, dead, clock.Elapsed, batchMs, paths) { ShadowClassifications = shadows };
    }

    private static async Task<(long Alerts, long Dead, long Shadows)> OnePassAsync(AlertBatchProcessor processor, InputMessage[] inputs, int batchSize, List<double>? batchMs, Dictionary<ScoringPath, long>? paths, CancellationToken cancellationToken)
    {
        long alerts = 0, dead = 0, shadows = 0;
        for (var i = 0; i < inputs.Length; i += batchSize)
        {
            var batch = new ArraySegment<InputMessage>(inputs, i, Math.Min(batchSize, inputs.Length - i));
            var result = await processor.ProcessAsync(batch, cancellationToken).ConfigureAwait(false);
            alerts += result.Alerts;
            dead += result.DeadLetters.Count;
            shadows += result.ShadowOutputs.Count;
            batchMs?.Add(result.Timings.Total.TotalMilliseconds);
            if (paths is not null)
            {
                foreach (var o in result.Outputs)
                {
                    paths[o.Classification.Scoring] = paths.GetValueOrDefault(o.Classification.Scoring) + 1;
                }
            }
        }

        return (alerts, dead, shadows);
    }
}
