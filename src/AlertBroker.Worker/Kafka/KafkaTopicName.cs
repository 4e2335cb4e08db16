namespace AlertBroker.Worker.Kafka;

/// <summary>
/// Kafka's own rule for topic names (1 to 249 characters: ASCII letters, digits, '.', '_' and '-'; not "." or ".."). A
/// broker refuses any other name, while librdkafka's mock cluster takes it; an empty one made the worker's
/// <c>Subscribe</c> throw (exit 70 with a stack trace).
/// </summary>
internal static class KafkaTopicName
{
    public const string Rule = "1 to 249 characters: letters, digits, '.', '_' and '-'";

    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= 249 } and not ("." or "..") && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
