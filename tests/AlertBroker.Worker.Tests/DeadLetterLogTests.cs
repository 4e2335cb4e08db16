using AlertBroker.State;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Simulation;
using AlertBroker.Worker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>A flood of poison is logged a few lines a window, not a line a message; every dead letter is still sent and counted.</summary>
public sealed class DeadLetterLogTests : IClassFixture<MockKafkaFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(40);
    private readonly MockKafkaFixture _kafka;

    public DeadLetterLogTests(MockKafkaFixture kafka)
    {
        _kafka = kafka;
    }

    [Fact]
    public void Limiter_FirstOfEachKindPerWindow_TheRestCountedAndSaidWhenTheWindowHasPassed()
    {
        var clock = new FakeTimeProvider();
        var limiter = new DeadLetterLogLimiter(clock, perKindPerWindow: 3, window: TimeSpan.FromSeconds(10));

        Assert.Equal([true, true, true, false, false], Enumerable.Range(0, 5).Select(_ => limiter.ShouldLog("NotAvro")));
        Assert.True(limiter.ShouldLog("CorruptAvro"));
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(limiter.TakeSuppressed());
        Assert.False(limiter.ShouldLog("NotAvro"));

        clock.Advance(TimeSpan.FromSeconds(1));
        var said = Assert.Single(limiter.TakeSuppressed());
        Assert.Equal(("NotAvro", 3L, TimeSpan.FromSeconds(10)), said);

        // A new window: each kind is logged again from its first.
        Assert.True(limiter.ShouldLog("NotAvro"));
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(limiter.TakeSuppressed());

        // At a stop, what was held back is said whatever the window.
        Assert.True(limiter.ShouldLog("InvalidValue"));
        Assert.True(limiter.ShouldLog("InvalidValue"));
        Assert.True(limiter.ShouldLog("InvalidValue"));
        Assert.False(limiter.ShouldLog("InvalidValue"));
        Assert.Equal(("InvalidValue", 1L, TimeSpan.Zero), Assert.Single(limiter.TakeSuppressed(force: true)));
    }

    [OnnxFact]
    public async Task Worker_FloodOfPoison_LogsTheFirstOfTheKindAndOneSummary_SendsAndCountsEveryOne()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var alerts = SyntheticZtfAlerts.Generate(3, 2, seed: 5);
        var messages = new List<(string?, byte[])>();
        for (var i = 0; i < 40; i++)
        {
            messages.Add((null, [0x7F, .. BitConverter.GetBytes(i), 1, 2, 3]));
        }

        messages.AddRange(alerts.Select(a => ((string?)a.ObjectId, a.Message)));
        var logs = new LogCapture();
        var metrics = new WorkerMetrics();
        var worker = new KafkaAlertWorker(topics.Options(20), new StateOptions(), Processor(new InMemoryObjectStateStore()), metrics, logger: logs)
        {
            DeadLetterLog = new DeadLetterLogLimiter(window: TimeSpan.FromHours(1)),
        };
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync(messages);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= 40, s_timeout);
        var outputs = topics.ReadAll(topics.Output, r => r.Count >= alerts.Count, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.Equal(40, dead.Count);
        Assert.Equal(alerts.Count, outputs.Count);
        Assert.Equal(40, worker.DeadLetters);
        var lines = logs.Entries.Where(e => e.Message.StartsWith("Dead letter from", StringComparison.Ordinal)).ToList();
        Assert.Equal(DeadLetterLogLimiter.DefaultPerKindPerWindow, lines.Count);
        Assert.All(lines, l => Assert.Contains(": NotAvro: ", l.Message, StringComparison.Ordinal));
        var summary = Assert.Single(logs.Entries, e => e.Message.Contains("more dead letters", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, summary.Level);
        Assert.StartsWith($"30 more dead letters of kind NotAvro in the last ", summary.Message, StringComparison.Ordinal);
        Assert.EndsWith($"every one went to {topics.DeadLetters} and is counted in alertbroker_dead_letters_total", summary.Message, StringComparison.Ordinal);

        // Said before the last line of the stop.
        var order = logs.Entries.Select(e => e.Message).ToList();
        Assert.True(order.FindIndex(m => m.Contains("more dead letters", StringComparison.Ordinal)) < order.FindLastIndex(m => m.StartsWith("Shutting down", StringComparison.Ordinal) || m.StartsWith("Stopped", StringComparison.Ordinal)));
    }

    [OnnxFact]
    public async Task Worker_FloodOfOversizedPoison_LogsTheFirstReferencesAndOneSummary_SendsEveryOneAsAReference()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var messages = new List<(string?, byte[])>();
        for (var i = 0; i < 30; i++)
        {
            var value = new byte[5000];
            value[0] = 0x7F;
            BitConverter.GetBytes(i).CopyTo(value, 1);
            messages.Add((null, value));
        }

        var logs = new LogCapture();
        var options = topics.Options(20);
        options.DeadLetterMaxBytes = 4096;
        var worker = new KafkaAlertWorker(options, new StateOptions(), Processor(new InMemoryObjectStateStore()), new WorkerMetrics(), logger: logs)
        {
            TruncatedLog = new DeadLetterLogLimiter(perKindPerWindow: 4, window: TimeSpan.FromHours(1)),
        };
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync(messages);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= 30, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.Equal(30, dead.Count);
        Assert.All(dead, d => Assert.True(d.Message.Value.Length < 5000, "each dead letter is a reference with the start of the payload"));
        Assert.All(dead, d => Assert.NotNull(d.Message.Headers.FirstOrDefault(h => h.Key == KafkaAlertWorker.PayloadSha256Header)));
        var references = logs.Entries.Where(e => e.Message.Contains("(5000 bytes) is over the 4096-byte limit (AlertBroker:Kafka:DeadLetterMaxBytes): sent as a reference", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, references.Count);
        var summary = Assert.Single(logs.Entries, e => e.Message.Contains("over the size limit in the last", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, summary.Level);
        Assert.StartsWith("26 more dead letters of kind NotAvro over the size limit", summary.Message, StringComparison.Ordinal);
        Assert.Contains($"each reference in {topics.DeadLetters} carries it", summary.Message, StringComparison.Ordinal);
    }

    // With DeadLetterMaxBytes=4096 a 2,600-byte payload was cut to its first 2,572 bytes and logged "(2600 bytes) is over
    // the 4096-byte limit": the headers' allowance came out of the limit (with the default 1 MB, every payload over about
    // 998.5 KB was cut). A payload up to the limit is now sent whole; one over it keeps the limit's worth.
    [OnnxFact]
    public async Task Worker_PayloadUpToTheLimit_SentWhole_OneOverIt_KeepsTheLimitAndSaysSo()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var values = new[] { 2600, 4096, 4097 }.Select(n =>
        {
            var v = new byte[n];
            Random.Shared.NextBytes(v);
            v[0] = 0x7F;
            return v;
        }).ToList();
        var logs = new LogCapture();
        var options = topics.Options(20);
        options.DeadLetterMaxBytes = 4096;
        var worker = new KafkaAlertWorker(options, new StateOptions(), Processor(new InMemoryObjectStateStore()), new WorkerMetrics(), logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync([.. values.Select(v => ((string?)null, v))]);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= 3, s_timeout);
        await stop.CancelAsync();
        await run;

        Assert.Equal(3, dead.Count);
        var bySize = dead.ToDictionary(d => int.Parse(Header(d, KafkaAlertWorker.PayloadSizeHeader) ?? d.Message.Value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(values[0], bySize[2600].Message.Value);
        Assert.Equal(values[1], bySize[4096].Message.Value);
        Assert.Null(Header(bySize[2600], KafkaAlertWorker.PayloadSha256Header));
        Assert.Null(Header(bySize[4096], KafkaAlertWorker.PayloadSha256Header));
        Assert.Equal(values[2][..4096], bySize[4097].Message.Value);
        Assert.Equal("4096", Header(bySize[4097], KafkaAlertWorker.PayloadKeptHeader));
        var line = Assert.Single(logs.Entries, e => e.Message.Contains("sent as a reference", StringComparison.Ordinal));
        Assert.Contains("(4097 bytes) is over the 4096-byte limit (AlertBroker:Kafka:DeadLetterMaxBytes): sent as a reference", line.Message, StringComparison.Ordinal);
        Assert.EndsWith("with the first 4096 bytes", line.Message, StringComparison.Ordinal);
    }

    // Under DeadLetterMaxBytes but, with its headers, over the producer's message.max.bytes: cut, and the line names that
    // bound (it said "(5000 bytes) is over the 6000-byte limit").
    [OnnxFact]
    public async Task Worker_PayloadOverTheProducersMessageMaxBytes_TheLineNamesThatBound()
    {
        var topics = new TestTopics(_kafka.Cluster);
        var value = new byte[5000];
        Random.Shared.NextBytes(value);
        value[0] = 0x7F;
        var logs = new LogCapture();
        var options = topics.Options(20);
        options.Properties["message.max.bytes"] = "6000";
        var worker = new KafkaAlertWorker(options, new StateOptions(), Processor(new InMemoryObjectStateStore()), new WorkerMetrics(), logger: logs);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync([(null, value)]);
        var dead = topics.ReadAll(topics.DeadLetters, r => r.Count >= 1, s_timeout);
        await stop.CancelAsync();
        await run;

        var letter = Assert.Single(dead);
        Assert.Equal("5000", Header(letter, KafkaAlertWorker.PayloadSizeHeader));
        Assert.True(letter.Message.Value.Length < 5000);
        var line = Assert.Single(logs.Entries, e => e.Message.Contains("sent as a reference", StringComparison.Ordinal));
        Assert.Contains("(5000 bytes) is, with the dead letter's headers, over the producer's message.max.bytes (6000 bytes): sent as a reference", line.Message, StringComparison.Ordinal);
    }

    private static string? Header(Confluent.Kafka.ConsumeResult<byte[]?, byte[]> r, string name) =>
        r.Message.Headers?.TryGetLastBytes(name, out var v) == true ? System.Text.Encoding.UTF8.GetString(v) : null;

    [OnnxFact]
    public async Task Worker_FloodThenSilence_TheCountIsSaidOnceTheWindowHasPassed_NotWithTheNextMessage()
    {
        // A flood and then nothing: the count of what was not logged is due when the window ends, whether or not another
        // message comes (it waited for the next batch or the stop). The first flood ends a window that began at the
        // start (its count is said at once); the second falls in a new one, followed by silence.
        var topics = new TestTopics(_kafka.Cluster);
        var messages = Enumerable.Range(0, 12).Select(i => ((string?)null, (byte[])[0x7F, .. BitConverter.GetBytes(i)])).ToList();
        var logs = new LogCapture();
        var worker = new KafkaAlertWorker(topics.Options(20), new StateOptions(), Processor(new InMemoryObjectStateStore()), new WorkerMetrics(), logger: logs)
        {
            DeadLetterLog = new DeadLetterLogLimiter(perKindPerWindow: 2, window: TimeSpan.FromSeconds(2)),
        };
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await topics.ProduceAsync(messages[..6]);
        var first = await TestTopics.WaitUntilAsync(() => Told() >= 6, s_timeout);
        await topics.ProduceAsync(messages[6..]);
        var second = await TestTopics.WaitUntilAsync(() => Told() >= 12, s_timeout);
        var beforeStop = logs.Entries.Count;
        var toldWhileRunning = Told();
        await stop.CancelAsync();
        await run;

        var all = string.Join("\n", logs.Entries.Select(e => e.Message));
        Assert.True(first && second, $"told of {toldWhileRunning} of 12 dead letters while the worker ran:\n{all}");
        Assert.Equal(12, worker.DeadLetters);
        Assert.Equal(2, logs.Entries.Count(e => e.Message.Contains(" more dead letters of kind NotAvro", StringComparison.Ordinal)));
        Assert.DoesNotContain(logs.Entries.Skip(beforeStop), e => e.Message.Contains("more dead letters", StringComparison.Ordinal));

        // Dead letters logged one by one, plus those counted in the "N more dead letters" lines.
        long Told() => logs.Entries.Sum(e =>
            e.Message.StartsWith("Dead letter from", StringComparison.Ordinal) ? 1
            : e.Message.Contains(" more dead letters of kind NotAvro", StringComparison.Ordinal) ? long.Parse(e.Message[..e.Message.IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture)
            : 0);
    }
}
