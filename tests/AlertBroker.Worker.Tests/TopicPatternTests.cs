using AlertBroker.Worker.Hosting;
using Confluent.Kafka;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// <c>AlertBroker:Kafka:TopicPattern</c> is matched by librdkafka with the C library's POSIX regular expressions: the
/// validator refuses what would mean something else there, and librdkafka itself shows why.
/// </summary>
public sealed class TopicPatternTests(MockKafkaFixture kafka) : IClassFixture<MockKafkaFixture>
{
    [Theory]
    [InlineData(@"^ztf_\d+", @"\d is not in POSIX regular expressions")]
    [InlineData(@"^ztf_\D", @"write [^0-9]")]
    [InlineData("^(?:ztf|lsst)_.*", "(?…) groups")]
    [InlineData("^(?i)ztf_.*", "(?…) groups")]
    [InlineData(@"^ztf_[\w.]+", "inside [ ] a backslash is an ordinary character")]
    [InlineData(@"^ztf\x5f.*", @"\x is not an escape")]
    public void Validate_PatternThatMeansOtherInPosix_FailsSayingHowToWriteIt(string pattern, string expected)
    {
        var result = new KafkaOptionsValidator().Validate(null, Options(pattern));

        Assert.True(result.Failed, "accepted " + pattern);
        Assert.Contains($"AlertBroker:Kafka:TopicPattern '{pattern}': librdkafka matches topics with POSIX extended regular expressions", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("^ztf_.*")]
    [InlineData("^ztf_[0-9]+$")]
    [InlineData(@"^ztf\.public_[[:alnum:]_]+")]
    [InlineData(@"^(ztf|lsst)_\w+")]
    [InlineData("^ztf_[]a-z]+")]
    public void Validate_PortablePattern_Accepted(string pattern)
    {
        var result = new KafkaOptionsValidator().Validate(null, Options(pattern));

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    // Why the rule: librdkafka reads \d as the letter d, so a pattern .NET would match against "ztf_7" subscribes to
    // nothing. [0-9] reads the topic; \d, given the same time after that, still has no partition.
    [Fact]
    public void Librdkafka_BackslashD_IsNotADigitButBracketedRangeIs()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var topic = $"zp{id}_7";
        kafka.Cluster.CreateTopics(topic);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = kafka.Cluster.BootstrapServers }).Build())
        {
            producer.Produce(topic, new Message<Null, string> { Value = "x" });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        Assert.True(Reads($"^zp{id}_[0-9]$", TimeSpan.FromSeconds(30)), "[0-9] read nothing");
        Assert.False(Reads($@"^zp{id}_\d$", TimeSpan.FromSeconds(8)), @"\d read the topic: librdkafka's matcher knows \d");
    }

    private bool Reads(string pattern, TimeSpan within)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = kafka.Cluster.BootstrapServers,
            GroupId = "p-" + Guid.NewGuid().ToString("N")[..8],
            AutoOffsetReset = AutoOffsetReset.Earliest,
            TopicMetadataRefreshIntervalMs = 500,
        }).Build();
        consumer.Subscribe(pattern);
        var deadline = DateTime.UtcNow + within;
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null })
                    {
                        return true;
                    }
                }
                catch (ConsumeException e) when (e.Error.Code == ErrorCode.UnknownTopicOrPart)
                {
                    // "Subscribed topic not available: <pattern>": librdkafka says it matched no topic (yet).
                }
            }

            return false;
        }
        finally
        {
            consumer.Close();
        }
    }

    private static KafkaOptions Options(string pattern) => new() { BootstrapServers = "127.0.0.1:9092", TopicPattern = pattern };
}
