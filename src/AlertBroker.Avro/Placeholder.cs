namespace AlertBroker.Avro;
internal static class Placeholder { }
