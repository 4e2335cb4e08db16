using AlertBroker.Alerts;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// A batch retried after a state-store outage counted its dead letters again at every try: a hunt saw
/// <c>alertbroker_dead_letters_total{kind="NotAvro"} 5</c> (and <c>errors_total{kind="decode_NotAvro"}</c> 5) for two
/// dead letters on the topic. They are counted with the batch's other figures, once it is processed.
/// </summary>
public sealed class DeadLetterCountTests
{
    [Fact]
    public async Task BatchRetriedAfterAnOutage_CountsEachDeadLetterOnce()
    {
        var alerts = SyntheticZtfAlerts.Generate(objects: 2, alertsPerObject: 1, seed: 3);
        var messages = PipelineTestKit.Inputs(alerts);
        messages.Add(new InputMessage(new byte[] { 0x00, 0x01, 0x02, 0x03 }, "in", 0, messages.Count, 1_700_000_000_000));
        using var metrics = new WorkerMetrics();
        var deadLetters = RoutingTests.CountMeasurements("alertbroker.dead_letters", out var listener, metrics, "kind");
        var errors = RoutingTests.CountMeasurements("alertbroker.errors", out var errorListener, metrics, "kind");
        var store = new FailingTwiceStore(new InMemoryObjectStateStore());
        var processor = new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(TestModels.A), new ClassificationCodec(), metrics);
        BatchResult result;
        using (listener)
        using (errorListener)
        {
            await Assert.ThrowsAsync<StateStoreUnavailableException>(() => processor.ProcessAsync(messages));
            await Assert.ThrowsAsync<StateStoreUnavailableException>(() => processor.ProcessAsync(messages));
            result = await processor.ProcessAsync(messages);
        }

        var letter = Assert.Single(result.DeadLetters);
        Assert.Equal(1, deadLetters.GetValueOrDefault(letter.Kind));
        Assert.Equal(1, deadLetters.Values.Sum());
        Assert.Equal(1, errors.GetValueOrDefault("decode_" + letter.Kind));
    }

    /// <summary>Unreachable for the first two reads, as Redis during an outage.</summary>
    private sealed class FailingTwiceStore(IObjectStateStore inner) : IObjectStateStore
    {
        private int _reads;

        public Task ReadAsync(IReadOnlyList<ObjectKey> keys, ObjectState?[] results, CancellationToken cancellationToken = default) =>
            ++_reads <= 2 ? throw new StateStoreUnavailableException("Redis is down") : inner.ReadAsync(keys, results, cancellationToken);

        public Task WriteAsync(IReadOnlyList<StateWrite> writes, bool[] committed, CancellationToken cancellationToken = default) => inner.WriteAsync(writes, committed, cancellationToken);

        public Task<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);
    }
}
