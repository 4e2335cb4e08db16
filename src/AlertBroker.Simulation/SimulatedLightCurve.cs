using AlertBroker.Alerts;
using AlertBroker.Simulation.Populations;

namespace AlertBroker.Simulation;

/// <summary>One scheduled epoch of a simulated object: what the survey measured and what was true.</summary>
/// <param name="Mjd">Time of the exposure, MJD.</param>
/// <param name="Band">Passband.</param>
/// <param name="FluxMicroJy">Measured difference flux, µJy (noisy, may be negative).</param>
/// <param name="FluxErrMicroJy">Reported 1σ flux error, µJy.</param>
/// <param name="TrueFluxMicroJy">Noise-free model flux, µJy.</param>
/// <param name="LimitingMag">5σ limiting magnitude of the exposure.</param>
/// <param name="Detected">True when the measurement passes the survey's detection threshold (an alert is issued).</param>
public readonly record struct SimulatedPoint(
    double Mjd,
    Passband Band,
    float FluxMicroJy,
    float FluxErrMicroJy,
    float TrueFluxMicroJy,
    float LimitingMag,
    bool Detected);

/// <summary>A labelled simulated light curve: the truth about the object and every epoch around its detections.</summary>
public sealed class SimulatedLightCurve
{
    /// <summary>Object id in the labelled files.</summary>
    public required string ObjectId { get; init; }

    /// <summary>Index of the object in its run: (seed, index) reproduces it.</summary>
    public required long Index { get; init; }

    /// <summary>Class label.</summary>
    public string ClassName => Transient.Model.Name;

    /// <summary>The drawn physical parameters and the noise-free model.</summary>
    public required Transient Transient { get; init; }

    public double Redshift => Transient.Redshift;

    /// <summary>Host-galaxy photometric redshift (with the survey's scatter and outliers).</summary>
    public required double HostPhotoZ { get; init; }

    public required double HostPhotoZErr { get; init; }

    public double MwEbv => Transient.MwEbv;

    public required double Ra { get; init; }

    public required double Dec { get; init; }

    /// <summary>Magnitude of the brightest detection.</summary>
    public required double ObservedPeakMag { get; init; }

    /// <summary>Number of detections.</summary>
    public required int DetectionCount { get; init; }

    /// <summary>Epochs in time order, detections and non-detections.</summary>
    public required SimulatedPoint[] Points { get; init; }
}
