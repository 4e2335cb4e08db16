using System.CommandLine;
using AlertBroker.Worker.Kafka;

namespace AlertBroker.Cli.Worker;

/// <summary>
/// <c>alertbroker mock-kafka</c>: librdkafka's mock Kafka cluster as a foreground process, so <c>run</c> and
/// <c>replay --to-kafka</c> can be tried against a broker on a machine without Kafka. A functional double: slow, keeps only a
/// few MB per partition, no persistence.
/// </summary>
internal static class MockKafkaCommand
{
    public static Command Create()
    {
        var topics = new Option<string[]>("--topic") { Description = "Topics to create (repeatable).", AllowMultipleArgumentsPerToken = true };
        var partitions = new Option<int>("--partitions") { Description = "Partitions per created topic.", DefaultValueFactory = _ => 4 };
        var brokers = new Option<int>("--brokers") { Description = "Mock brokers.", DefaultValueFactory = _ => 1 };
        var command = new Command("mock-kafka", "Start librdkafka's mock Kafka cluster on 127.0.0.1 and print its bootstrap servers; runs until Ctrl-C.")
        {
            topics, partitions, brokers,
        };
        command.SetAction(async (parse, ct) =>
        {
            using var cluster = MockKafkaCluster.Start(Math.Max(1, parse.GetValue(brokers)));
            var names = parse.GetValue(topics) ?? [];
            if (names.Length > 0)
            {
                cluster.CreateTopics(Math.Max(1, parse.GetValue(partitions)), names);
            }

            Console.WriteLine(cluster.BootstrapServers);
            Console.Out.Flush();
            Console.Error.WriteLine("[mock-kafka] running; Ctrl-C stops it");
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        });
        return command;
    }
}
