using System.Diagnostics;
using AlertBroker.Alerts;
using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Cli.Worker;

/// <summary>What one in-process pipeline measurement gave.</summary>
internal sealed record PipelineBenchResult(int Passes, long Messages, long Alerts, long DeadLetters, TimeSpan Elapsed, List<double> BatchMs, Dictionary<ScoringPath, long> Paths)
{
    /// <summary>Shadow classifications produced (with shadow models).</summary>
    public long ShadowClassifications { get; init; }

    public double AlertsPerSecond => Alerts / Math.Max(1e-9, Elapsed.TotalSeconds);

    /// <summary>Classifications without probabilities, by why: the candidate filter's reason, no model for the survey, or no usable point yet.</summary>
    public Dictionary<string, long> Unscored { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>What the benchmark attaches to the batch step, as a worker would.</summary>
internal enum PipelineObservation
{
    /// <summary>Nothing: the batch step alone.</summary>
    None,

    /// <summary>The worker's instruments (<see cref="WorkerMetrics"/>), as every worker has them.</summary>
    Metrics,

    /// <summary>The instruments plus what the web view needs: <see cref="WorkerStatistics"/> listening to them, the recent-classification ring and, with Redis state, the capped Redis list.</summary>
    Web,
}

/// <summary>
/// Drives <see cref="AlertBatchProcessor"/> — the batch handler the Kafka consumer drives — from messages held in memory as
/// Kafka message bytes. Every pass starts from empty state (a fresh in-memory store or a fresh Redis key prefix), so each
/// pass does the real work: merges, full re-runs for new objects and incremental steps for the ones seen earlier in the pass.
/// </summary>
internal static class PipelineBench
{
    public static async Task<PipelineBenchResult> RunAsync(IReadOnlyList<byte[]> messages, ModelSet models, Func<int, IObjectStateStore> newStore, AlertBroker.Avro.ISchemaLookup? schemas, int batchSize, TimeSpan duration, CancellationToken cancellationToken, PipelineObservation observe = PipelineObservation.None)
    {
        using var metrics = observe == PipelineObservation.None ? null : new WorkerMetrics();
        using var statistics = observe == PipelineObservation.Web ? new WorkerStatistics(metrics!) : null;
        var recent = observe == PipelineObservation.Web ? new RecentClassificationLog(500) : null;
        var decoder = new AlertDecoder(new AlertDecoderOptions { SchemaLookup = schemas, Limits = new AlertOptions().ToDecoderLimits() });
        var codec = new ClassificationCodec();
        var inputs = new InputMessage[messages.Count];
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < messages.Count; i++)
        {
            inputs[i] = new InputMessage(messages[i], "bench", 0, i, now);
        }

        // Warm-up pass (JIT, ONNX Runtime's first runs, schema plans), not measured.
        await OnePassAsync(new AlertBatchProcessor(decoder, newStore(-1), () => models, codec, metrics) { ShadowStatistics = new AlertBroker.Registry.ShadowStatisticsAccumulator(), ScoreUnsuppliedMetadataAsUnknown = true }, inputs, batchSize, null, null, null, cancellationToken, metrics, recent, null).ConfigureAwait(false);

        var batchMs = new List<double>();
        var paths = new Dictionary<ScoringPath, long>();
        var unscored = new Dictionary<string, long>(StringComparer.Ordinal);
        long alerts = 0, dead = 0, count = 0, shadows = 0;
        var passes = 0;
        var clock = Stopwatch.StartNew();
        while ((passes == 0 || clock.Elapsed < duration) && !cancellationToken.IsCancellationRequested)
        {
            var store = newStore(passes);
            var processor = new AlertBatchProcessor(decoder, store, () => models, codec, metrics) { ShadowStatistics = new AlertBroker.Registry.ShadowStatisticsAccumulator(), ScoreUnsuppliedMetadataAsUnknown = true };
            var redisList = recent is not null && store is RedisObjectStateStore redis ? new RedisRecentClassifications(redis.Connection, redis.Options.KeyPrefix, recent.Capacity) : null;
            var (a, d, sh) = await OnePassAsync(processor, inputs, batchSize, batchMs, paths, unscored, cancellationToken, metrics, recent, redisList).ConfigureAwait(false);
            (store as IDisposable)?.Dispose();
            alerts += a;
            dead += d;
            shadows += sh;
            count += inputs.Length;
            passes++;
        }

        return new PipelineBenchResult(passes, count, alerts, dead, clock.Elapsed, batchMs, paths) { ShadowClassifications = shadows, Unscored = unscored };
    }

    private static async Task<(long Alerts, long Dead, long Shadows)> OnePassAsync(AlertBatchProcessor processor, InputMessage[] inputs, int batchSize, List<double>? batchMs, Dictionary<ScoringPath, long>? paths, Dictionary<string, long>? unscored, CancellationToken cancellationToken, WorkerMetrics? metrics, RecentClassificationLog? recent, RedisRecentClassifications? redisList)
    {
        long alerts = 0, dead = 0, shadows = 0;
        for (var i = 0; i < inputs.Length; i += batchSize)
        {
            var batch = new ArraySegment<InputMessage>(inputs, i, Math.Min(batchSize, inputs.Length - i));
            var clock = Stopwatch.StartNew();
            var result = await processor.ProcessAsync(batch, cancellationToken).ConfigureAwait(false);

            // What the Kafka loop does after publishing: the end-to-end latencies, then the batch's observers.
            metrics?.Published(result, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            recent?.Add(result);
            redisList?.Add(result);
            if (metrics is not null)
            {
                result = result with { Timings = result.Timings with { Total = clock.Elapsed } };
            }

            alerts += result.Alerts;
            dead += result.DeadLetters.Count;
            shadows += result.ShadowOutputs.Count;
            batchMs?.Add(result.Timings.Total.TotalMilliseconds);
            if (paths is not null)
            {
                foreach (var o in result.Outputs)
                {
                    paths[o.Classification.Scoring] = paths.GetValueOrDefault(o.Classification.Scoring) + 1;
                    if (unscored is not null && o.Classification.Scoring == ScoringPath.None)
                    {
                        var why = UnscoredReason(o.Classification);
                        unscored[why] = unscored.GetValueOrDefault(why) + 1;
                    }
                }
            }
        }

        return (alerts, dead, shadows);
    }

    // Why a classification carries no probabilities, in the words of the report.
    private static string UnscoredReason(Classification c) => c.Rejection switch
    {
        CandidateRejectionKind.NegativeFlux => "not a transient candidate: a negative subtraction (fainter than the template)",
        CandidateRejectionKind.LowReliability => "not a transient candidate: real/bogus score below the threshold",
        CandidateRejectionKind.SolarSystemObject => "not a transient candidate: a known solar-system object",
        CandidateRejectionKind.Star => "not a transient candidate: a catalogued star",
        CandidateRejectionKind.TooFewDetections => "too few detections yet",
        _ when c.ModelName.Length == 0 => "no model serves " + c.Survey.ToString().ToLowerInvariant(),
        _ => "no usable point yet",
    };
}
