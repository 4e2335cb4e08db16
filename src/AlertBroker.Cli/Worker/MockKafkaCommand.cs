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
        var topics = new Option<string[]>("--topic") { Description = "Topics to create (repeatable), with 4 partitions each (the mock's fixed count; producers also create topics on first use).", AllowMultipleArgumentsPerToken = true };
        topics.Validators.Add(result =>
        {
            // Kafka's own rule for topic names; an empty one reached librdkafka as an ArgumentException (exit 70).
            foreach (var name in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (!KafkaTopicName.IsValid(name))
                {
                    result.AddError($"--topic '{name}' is not a Kafka topic name ({KafkaTopicName.Rule}).");
                }
            }
        });
        var brokers = new Option<int>("--brokers") { Description = "Mock brokers (1–16).", DefaultValueFactory = _ => 1 };
        brokers.Validators.Add(result =>
        {
            if (CliHelpers.TryGetValue(result, out int value) && value is < 1 or > 16)
            {
                result.AddError("--brokers must be between 1 and 16.");
            }
        });
        var command = new Command("mock-kafka", "Start librdkafka's mock Kafka cluster on 127.0.0.1 and print its bootstrap servers; runs until Ctrl-C.")
        {
            topics, brokers,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (!CliHelpers.TryLoadKafka())
            {
                return 70;
            }

            using var cluster = MockKafkaCluster.Start(Math.Max(1, parse.GetValue(brokers)));
            var names = parse.GetValue(topics) ?? [];
            if (names.Length > 0)
            {
                cluster.CreateTopics(names);
            }

            Console.WriteLine(cluster.BootstrapServers);
            Console.Out.Flush();
            Console.Error.WriteLine("[mock-kafka] librdkafka " + KafkaNativeLibrary.LoadedVersion + " from " + (KafkaNativeLibrary.LoadedPath ?? "the platform's default location") + "; running, Ctrl-C stops it");
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
