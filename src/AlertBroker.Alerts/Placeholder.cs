namespace AlertBroker.Alerts;
internal static class Placeholder { }
