using AlertBroker.Alerts;
using AlertBroker.Avro;

namespace AlertBroker.Simulation.Output;

/// <summary>Turns one detection of a simulated light curve into an encoded alert datum.</summary>
internal interface IAlertEncoder
{
    RecordSchema Schema { get; }

    Survey Survey { get; }

    /// <summary>The object id the survey's alerts give the light curve (what a decoded alert's ObjectId is).</summary>
    string ObjectIdOf(SimulatedLightCurve curve);

    /// <summary>The Avro binary datum (valid until the next call).</summary>
    ReadOnlySpan<byte> Encode(SimulatedLightCurve curve, int pointIndex);
}
