namespace AlertBroker.Model;
internal static class Placeholder { }
