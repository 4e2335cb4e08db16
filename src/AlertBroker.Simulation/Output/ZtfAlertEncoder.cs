using System.Buffers;
using AlertBroker.Alerts;
using AlertBroker.Avro;

namespace AlertBroker.Simulation.Output;

/// <summary>
/// Encodes a simulated detection as a ZTF alert (schema <c>schemas/ztf</c>): the candidate plus every epoch
/// of the previous 30 days in <c>prv_candidates</c> (detections with <c>candid</c> and <c>magpsf</c>,
/// non-detections with only <c>diffmaglim</c>), and three cutouts. Not thread-safe (one per writer).
/// </summary>
internal sealed class ZtfAlertEncoder : IAlertEncoder
{
    private const string SchemaVersion = "4.02";
    private const string RbVersion = "t17_f5_c3";
    private const string DrbVersion = "d6_m7";

    private static readonly double s_jdOffset = 2400000.5;

    private readonly RecordSchema _alert = AlertSchemas.Ztf;
    private readonly RecordSchema _candidate;
    private readonly RecordSchema _prv;
    private readonly RecordSchema _cutout;
    private readonly GenericDatumWriter _writer;
    private readonly CutoutFactory? _cutouts;
    private readonly ArrayBufferWriter<byte> _buffer = new(96 * 1024);
    private readonly double _historyDays;

    public ZtfAlertEncoder(CutoutFactory? cutouts, double historyDays = 30)
    {
        _candidate = AlertSchemas.RecordOf(_alert.GetField("candidate")!.Schema);
        _prv = AlertSchemas.RecordOf(_alert.GetField("prv_candidates")!.Schema);
        _cutout = AlertSchemas.RecordOf(_alert.GetField("cutoutScience")!.Schema);
        _writer = new GenericDatumWriter(_alert);
        _cutouts = cutouts;
        _historyDays = historyDays;
    }

    public RecordSchema Schema => _alert;

    public Survey Survey => Survey.Ztf;

    /// <summary>ZTF-style object name: "ZTF" + two-digit year + seven letters from the object index.</summary>
    public static string ObjectName(long index, double mjd)
    {
        var year = new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc).AddDays(mjd).Year % 100;
        Span<char> letters = stackalloc char[7];
        var n = (ulong)index;
        for (var i = 6; i >= 0; i--)
        {
            letters[i] = (char)('a' + (int)(n % 26));
            n /= 26;
        }

        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ZTF{year:D2}{letters}");
    }

    public string ObjectIdOf(SimulatedLightCurve curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        foreach (var point in curve.Points)
        {
            if (point.Detected)
            {
                return ObjectName(curve.Index, point.Mjd);
            }
        }

        return ObjectName(curve.Index, curve.Points.Length > 0 ? curve.Points[0].Mjd : 0);
    }

    /// <summary>Image id of an epoch: unique within an object, the dedup key of ZTF limits.</summary>
    public static long Pid(long objectIndex, int pointIndex) => 1_000_000_000L + (objectIndex * 4096) + pointIndex;

    /// <summary>Candidate id of a detection: unique across the stream.</summary>
    public static long Candid(long objectIndex, int pointIndex) => (Pid(objectIndex, pointIndex) * 10) + 1;

    public ReadOnlySpan<byte> Encode(SimulatedLightCurve curve, int pointIndex)
    {
        var points = curve.Points;
        var p = points[pointIndex];
        var o = curve.Index;
        var firstDetection = -1;
        var detectionsSoFar = 0;
        for (var i = 0; i <= pointIndex; i++)
        {
            if (points[i].Detected)
            {
                detectionsSoFar++;
                if (firstDetection < 0)
                {
                    firstDetection = i;
                }
            }
        }

        var candid = Candid(o, pointIndex);
        var name = ObjectName(o, points[firstDetection].Mjd);
        var alert = new GenericRecord(_alert);
        alert["schemavsn"] = SchemaVersion;
        alert["publisher"] = "AlertBroker simulator";
        alert["objectId"] = name;
        alert["candid"] = candid;
        var c = new GenericRecord(_candidate);
        Fill(c, curve, pointIndex, p, detected: true);
        c["ndethist"] = detectionsSoFar;
        c["ncovhist"] = pointIndex + 1;
        c["jdstarthist"] = points[firstDetection].Mjd + s_jdOffset;
        c["jdendhist"] = p.Mjd + s_jdOffset;
        c["fwhm"] = 2.0f;
        c["sgscore1"] = 0.03f;
        c["distpsnr1"] = 0.8f;
        c["nmtchps"] = 4;
        c["rfid"] = 800_000_000L + (o % 1000);
        c["jdstartref"] = 2458150.5;
        c["jdendref"] = 2458250.5;
        c["nframesref"] = 15;
        c["nmatches"] = 600;
        c["drb"] = 0.97f;
        c["drbversion"] = DrbVersion;
        c["distnr"] = 0.6f;
        c["magnr"] = 21.0f;
        c["sigmagnr"] = 0.1f;
        alert["candidate"] = c;

        var history = new List<object?>();
        for (var i = 0; i < pointIndex; i++)
        {
            var h = points[i];
            if (h.Mjd < p.Mjd - _historyDays)
            {
                continue;
            }

            var r = new GenericRecord(_prv);
            Fill(r, curve, i, h, h.Detected);
            history.Add(r);
        }

        alert["prv_candidates"] = history;
        if (_cutouts is not null)
        {
            alert["cutoutScience"] = Cutout(candid, "scimref", 0);
            alert["cutoutTemplate"] = Cutout(candid, "ref", 1);
            alert["cutoutDifference"] = Cutout(candid, "diff", 2);
        }

        _buffer.ResetWrittenCount();
        _writer.Write(new AvroWriter(_buffer), alert);
        return _buffer.WrittenSpan;
    }

    private GenericRecord Cutout(long candid, string kind, int slot)
    {
        var r = new GenericRecord(_cutout);
        r["fileName"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"candid{candid}_{kind}.fits.gz");
        r["stampData"] = _cutouts!.Get((candid * 3) + slot);
        return r;
    }

    private static void Fill(GenericRecord r, SimulatedLightCurve curve, int pointIndex, SimulatedPoint p, bool detected)
    {
        r["jd"] = p.Mjd + s_jdOffset;
        r["fid"] = p.Band switch
        {
            Passband.ZtfG => 1,
            Passband.ZtfR => 2,
            Passband.ZtfI => 3,
            _ => throw new InvalidOperationException($"band {p.Band} is not a ZTF band"),
        };
        r["pid"] = Pid(curve.Index, pointIndex);
        r["diffmaglim"] = p.LimitingMag;
        r["programid"] = 1;
        r["nid"] = (int)(p.Mjd - 58118);
        r["rcid"] = (int)(curve.Index % 64);
        r["field"] = 250 + (int)(curve.Index % 600);
        r["rb"] = 0.85f;
        r["rbversion"] = RbVersion;
        r["magzpsci"] = 26.2f;
        if (detected)
        {
            var mag = Photometry.MicroJyToMag(p.FluxMicroJy);
            r["candid"] = Candid(curve.Index, pointIndex);
            r["isdiffpos"] = "t";
            r["ra"] = curve.Ra;
            r["dec"] = curve.Dec;
            r["magpsf"] = (float)mag;
            r["sigmapsf"] = (float)Photometry.FluxErrToMagErr(p.FluxMicroJy, p.FluxErrMicroJy);
            r["ranr"] = curve.Ra + 0.0001;
            r["decnr"] = curve.Dec + 0.0001;
        }
    }
}
