using System.Collections.Concurrent;
using AlertBroker.Alerts;
using AlertBroker.Cli.Consume;
using AlertBroker.Worker.Kafka;
using Confluent.Kafka;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// <c>consume --group</c> stopped by Ctrl-C leaves its consumer group, seen from the broker: the mock cluster, started with
/// <c>debug=mock</c>, logs every LeaveGroup request it handles.
/// </summary>
public sealed class TopicReaderGroupTests : IDisposable
{
    private readonly ConcurrentQueue<string> _leaves = new();
    private readonly MockKafkaCluster _kafka;
    private readonly string _topic = "read-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _group = "readers-" + Guid.NewGuid().ToString("N")[..8];

    public TopicReaderGroupTests()
    {
        _kafka = MockKafkaCluster.Start(settings: new Dictionary<string, string>(StringComparer.Ordinal) { ["debug"] = "mock" }, log: line =>
        {
            if (line.Contains(" is leaving group ", StringComparison.Ordinal))
            {
                _leaves.Enqueue(line);
            }
        });
        _kafka.CreateTopics(_topic);
    }

    public void Dispose() => _kafka.Dispose();

    [Fact]
    public async Task ReadAsync_GroupCancelled_LeavesTheGroupAndTheNextReaderGoesOnAfterWhatWasHandled()
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        for (var i = 0; i < 3; i++)
        {
            await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<Null, byte[]> { Value = [(byte)i] });
        }

        var handled = 0;
        using var stop = new CancellationTokenSource();
        var settings = new TopicReaderSettings
        {
            BootstrapServers = _kafka.BootstrapServers,
            Topics = [_topic],
            FromBeginning = true,
            Group = _group,

            // The mock makes the next member wait this long less 1 s after the last one left (docs/operations.md).
            Properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["session.timeout.ms"] = "6000" },
        };
        var read = TopicReader.ReadAsync(settings, new TopicMessageDecoder(new AlertDecoder()), _ =>
        {
            if (Interlocked.Increment(ref handled) == 3)
            {
                stop.Cancel();
            }

            return Task.CompletedTask;
        }, stop.Token);
        var exit = await read.WaitAsync(TimeSpan.FromSeconds(60));
        var left = _leaves.Any(l => l.EndsWith(" is leaving group " + _group, StringComparison.Ordinal));

        // The same group again reads on after the three the first reader handled and committed as it closed.
        await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<Null, byte[]> { Value = [3] });
        var again = new List<TopicMessage>();
        var exitAgain = await TopicReader.ReadAsync(settings with { Limit = 1, IdleTimeout = TimeSpan.FromSeconds(2) }, new TopicMessageDecoder(new AlertDecoder()), m =>
        {
            again.Add(m);
            return Task.CompletedTask;
        }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(0, exit);
        Assert.Equal(3, handled);
        Assert.True(left, "the broker saw no LeaveGroup from the cancelled reader");
        Assert.Equal(0, exitAgain);
        Assert.Equal(3, Assert.Single(again).Offset);
    }
}
