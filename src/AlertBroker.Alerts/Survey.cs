namespace AlertBroker.Alerts;

/// <summary>The survey an alert came from.</summary>
public enum Survey : byte
{
    Unknown = 0,
    Ztf = 1,
    Lsst = 2,
}
