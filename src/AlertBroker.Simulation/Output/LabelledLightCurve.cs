namespace AlertBroker.Simulation.Output;

/// <summary>One observation of a labelled light curve as read from CSV: flux in µJy whatever the file's unit.</summary>
/// <param name="Mjd">Time, MJD.</param>
/// <param name="Band">Band letter, lower case (g, r, …, whatever the file's case).</param>
/// <param name="FluxMicroJy">Flux, µJy.</param>
/// <param name="FluxErrMicroJy">Flux error, µJy.</param>
/// <param name="Detected">The file's <c>detected</c> flag; else true for magnitude tables (they hold detections) and S/N ≥ 5 for flux tables.</param>
public readonly record struct LabelledPoint(double Mjd, char Band, double FluxMicroJy, double FluxErrMicroJy, bool Detected)
{
    public double Magnitude => AlertBroker.Alerts.Photometry.MicroJyToMag(FluxMicroJy);

    public double SignalToNoise => FluxErrMicroJy > 0 ? FluxMicroJy / FluxErrMicroJy : double.NaN;
}

/// <summary>
/// A labelled light curve read from a CSV pair, its points in time order. The simulator reads no such pair itself: the
/// CLI reads one with the trainer's reader and converts its objects (<c>simulate compare</c> and <c>tune</c>), so that
/// the format has one reader and the simulator does not depend on the trainer.
/// </summary>
public sealed class LabelledLightCurve
{
    public required string ObjectId { get; init; }

    public required string ClassName { get; init; }

    public double Redshift { get; init; } = double.NaN;

    public List<LabelledPoint> Points { get; } = [];
}
