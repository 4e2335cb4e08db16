using AlertBroker.Worker.Kafka;

namespace AlertBroker.Worker.Tests;

// What librdkafka is given as bootstrap servers: forms it takes are accepted, forms that cannot name a broker refused
// (they became host:0, localhost, or a wrapped port, and the worker reported Kafka not answering after its wait).
public sealed class KafkaBootstrapServersTests
{
    [Theory]
    [InlineData("broker:9092")]
    [InlineData("a:1,b:65535")]
    [InlineData(" a:1 , b:2 ")]
    [InlineData("localhost")]
    [InlineData("SASL_SSL://broker.example.org:9093")]
    [InlineData("[::1]:9092")]
    [InlineData("[::1]")]
    [InlineData("fe80::1")]
    [InlineData("mock")]
    public void Accepted(string servers) => Assert.Null(KafkaBootstrapServers.Problem(servers));

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData("host:", "has the port ''")]
    [InlineData(":9092", "has no host")]
    [InlineData("a b:9092", "holds a space")]
    [InlineData("a:1,,b:2", "has an empty entry")]
    [InlineData("h:70000", "a port is a number from 1 to 65535")]
    [InlineData("h:0", "a port is a number from 1 to 65535")]
    [InlineData("h:+5", "has the port '+5'")]
    [InlineData("[::1:9092", "does not close it")]
    [InlineData("[::1]9092", "where ':port' or nothing goes")]
    public void Refused(string servers, string expected) => Assert.Contains(expected, KafkaBootstrapServers.Problem(servers), StringComparison.Ordinal);
}
