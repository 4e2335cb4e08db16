using System.Buffers;
using AlertBroker.Alerts;
using AlertBroker.Avro;

namespace AlertBroker.Simulation.Output;

/// <summary>
/// Encodes a simulated detection as a Rubin alert (schema <c>schemas/lsst</c>): the triggering
/// <c>diaSource</c>, earlier detections of the past year in <c>prvDiaSources</c>, forced photometry of
/// every earlier epoch of the past year in <c>prvDiaForcedSources</c>, a <c>diaObject</c> and three
/// cutouts. Fluxes in nJy. Not thread-safe (one per writer).
/// </summary>
internal sealed class RubinAlertEncoder : IAlertEncoder
{
    private readonly RecordSchema _alert = AlertSchemas.Lsst;
    private readonly RecordSchema _source;
    private readonly RecordSchema _forced;
    private readonly RecordSchema _object;
    private readonly GenericDatumWriter _writer;
    private readonly CutoutFactory? _cutouts;
    private readonly ArrayBufferWriter<byte> _buffer = new(160 * 1024);
    private readonly double _historyDays;

    public RubinAlertEncoder(CutoutFactory? cutouts, double historyDays = 365)
    {
        _source = AlertSchemas.RecordOf(_alert.GetField("diaSource")!.Schema);
        _forced = AlertSchemas.RecordOf(_alert.GetField("prvDiaForcedSources")!.Schema);
        _object = AlertSchemas.RecordOf(_alert.GetField("diaObject")!.Schema);
        _writer = new GenericDatumWriter(_alert);
        _cutouts = cutouts;
        _historyDays = historyDays;
    }

    public RecordSchema Schema => _alert;

    public Survey Survey => Survey.Lsst;

    public static long DiaObjectId(long objectIndex) => 1_000_000_000_000_000L + objectIndex;

    public string ObjectIdOf(SimulatedLightCurve curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        return DiaObjectId(curve.Index).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public static long DiaSourceId(long objectIndex, int pointIndex) => 2_000_000_000_000_000L + (objectIndex * 4096) + pointIndex;

    public static long DiaForcedSourceId(long objectIndex, int pointIndex) => 3_000_000_000_000_000L + (objectIndex * 4096) + pointIndex;

    public ReadOnlySpan<byte> Encode(SimulatedLightCurve curve, int pointIndex)
    {
        var points = curve.Points;
        var p = points[pointIndex];
        var sourceId = DiaSourceId(curve.Index, pointIndex);
        var alert = new GenericRecord(_alert);
        alert["alertId"] = sourceId;
        alert["diaSourceId"] = sourceId;
        alert["diaSource"] = Source(curve, pointIndex);

        var previous = new List<object?>();
        var forced = new List<object?>();
        Span<int> perBand = stackalloc int[6];
        double? firstMjd = null;
        for (var i = 0; i <= pointIndex; i++)
        {
            var h = points[i];
            if (h.Detected)
            {
                perBand[BandSlot(h.Band)]++;
                firstMjd ??= h.Mjd;
            }

            if (i == pointIndex || h.Mjd < p.Mjd - _historyDays)
            {
                continue;
            }

            if (h.Detected)
            {
                previous.Add(Source(curve, i));
            }

            var f = new GenericRecord(_forced);
            f["diaForcedSourceId"] = DiaForcedSourceId(curve.Index, i);
            f["diaObjectId"] = DiaObjectId(curve.Index);
            f["ra"] = curve.Ra;
            f["dec"] = curve.Dec;
            f["visit"] = Visit(h.Mjd);
            f["detector"] = (int)(curve.Index % 189);
            f["psfFlux"] = (float)Photometry.MicroJyToNanoJy(h.FluxMicroJy);
            f["psfFluxErr"] = (float)Photometry.MicroJyToNanoJy(h.FluxErrMicroJy);
            f["midpointMjdTai"] = h.Mjd;
            f["band"] = Passbands.Letter(h.Band);
            f["timeProcessedMjdTai"] = h.Mjd + 0.02;
            forced.Add(f);
        }

        alert["prvDiaSources"] = previous;
        alert["prvDiaForcedSources"] = forced;
        var o = new GenericRecord(_object);
        o["diaObjectId"] = DiaObjectId(curve.Index);
        o["validityStartMjdTai"] = p.Mjd;
        o["ra"] = curve.Ra;
        o["dec"] = curve.Dec;
        o["u_psfFluxNdata"] = perBand[0];
        o["g_psfFluxNdata"] = perBand[1];
        o["r_psfFluxNdata"] = perBand[2];
        o["i_psfFluxNdata"] = perBand[3];
        o["z_psfFluxNdata"] = perBand[4];
        o["y_psfFluxNdata"] = perBand[5];
        // Every detection of the object's life up to this one, as the per-band counts and firstDiaSourceMjdTai say (it
        // counted only the 365 days of prvDiaSources: 97 beside band counts summing to 132).
        o["nDiaSources"] = perBand[0] + perBand[1] + perBand[2] + perBand[3] + perBand[4] + perBand[5];
        o["firstDiaSourceMjdTai"] = firstMjd;
        o["lastDiaSourceMjdTai"] = p.Mjd;
        alert["diaObject"] = o;
        if (_cutouts is not null)
        {
            alert["cutoutDifference"] = _cutouts.Get(sourceId * 3);
            alert["cutoutScience"] = _cutouts.Get((sourceId * 3) + 1);
            alert["cutoutTemplate"] = _cutouts.Get((sourceId * 3) + 2);
        }

        _buffer.ResetWrittenCount();
        _writer.Write(new AvroWriter(_buffer), alert);
        return _buffer.WrittenSpan;
    }

    private GenericRecord Source(SimulatedLightCurve curve, int i)
    {
        var p = curve.Points[i];
        var s = new GenericRecord(_source);
        s["diaSourceId"] = DiaSourceId(curve.Index, i);
        s["visit"] = Visit(p.Mjd);
        s["detector"] = (int)(curve.Index % 189);
        s["diaObjectId"] = DiaObjectId(curve.Index);
        s["midpointMjdTai"] = p.Mjd;
        s["ra"] = curve.Ra;
        s["raErr"] = 1e-5f;
        s["dec"] = curve.Dec;
        s["decErr"] = 1e-5f;
        s["x"] = 1000f + (curve.Index % 2000);
        s["y"] = 1000f + ((curve.Index / 7) % 2000);
        s["snr"] = p.FluxErrMicroJy > 0 ? p.FluxMicroJy / p.FluxErrMicroJy : float.NaN;
        s["psfFlux"] = (float)Photometry.MicroJyToNanoJy(p.FluxMicroJy);
        s["psfFluxErr"] = (float)Photometry.MicroJyToNanoJy(p.FluxErrMicroJy);
        s["psfNdata"] = 400;
        s["trailNdata"] = 0;
        s["dipoleNdata"] = 0;
        s["extendedness"] = 0.1f;
        s["reliability"] = 0.95f;
        s["band"] = Passbands.Letter(p.Band);
        s["timeProcessedMjdTai"] = p.Mjd + 0.02;
        s["bboxSize"] = 31;
        return s;
    }

    // Rubin visit ids: day of observation and a sequence number, as YYYYMMDDnnnnn.
    private static long Visit(double mjd)
    {
        var date = new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc).AddDays(mjd);
        var sequence = (long)((mjd - Math.Floor(mjd)) * 86400 / 40);
        return (((date.Year * 10000L) + (date.Month * 100) + date.Day) * 100_000) + sequence;
    }

    private static int BandSlot(Passband band) => band switch
    {
        Passband.LsstU => 0,
        Passband.LsstG => 1,
        Passband.LsstR => 2,
        Passband.LsstI => 3,
        Passband.LsstZ => 4,
        _ => 5,
    };
}
