using System.Runtime.CompilerServices;

namespace AlertBroker.Alerts.Decoding;

[InlineArray((int)Target.Count)]
internal struct DoubleSlots
{
    private double _element0;
}

[InlineArray((int)Target.Count)]
internal struct LongSlots
{
    private long _element0;
}

/// <summary>The values read from one record. Only slots whose bit is set in <see cref="Present"/> are meaningful.</summary>
internal struct RecordValues
{
    public DoubleSlots Doubles;
    public LongSlots Longs;
    public ulong Present;

    public void SetLong(Target t, long value)
    {
        Longs[(int)t] = value;
        Doubles[(int)t] = value;
        Present |= 1UL << (int)t;
    }

    public void SetDouble(Target t, double value)
    {
        Doubles[(int)t] = value;
        Present |= 1UL << (int)t;
    }

    public readonly bool Has(Target t) => (Present & (1UL << (int)t)) != 0;

    public readonly double Double(Target t) => Has(t) ? Doubles[(int)t] : double.NaN;

    public readonly float Float(Target t) => Has(t) ? (float)Doubles[(int)t] : float.NaN;

    public readonly long? Long(Target t) => Has(t) ? Longs[(int)t] : null;
}

/// <summary>A growable observation list whose storage survives between alerts.</summary>
internal sealed class ObservationBuffer
{
    private Observation[] _items = new Observation[64];

    public int Count { get; private set; }

    public void Add(in Observation observation)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = observation;
    }

    public void Clear() => Count = 0;

    /// <summary>Sorted by time then source id, with repeated source ids dropped.</summary>
    public Observation[] ToSortedArray()
    {
        if (Count == 0)
        {
            return [];
        }

        var span = _items.AsSpan(0, Count);
        span.Sort(static (a, b) =>
        {
            var c = a.Mjd.CompareTo(b.Mjd);
            return c != 0 ? c : a.SourceId.CompareTo(b.SourceId);
        });

        var n = 1;
        for (var i = 1; i < span.Length; i++)
        {
            if (span[i].SourceId != span[n - 1].SourceId || span[i].Kind != span[n - 1].Kind)
            {
                span[n++] = span[i];
            }
        }

        return span[..n].ToArray();
    }
}

/// <summary>Collects the records of one alert and builds the <see cref="Alert"/>. One per thread, reused.</summary>
internal sealed class AlertBuilder
{
    private const double NoValueSentinel = -99999.0;

    private readonly ObservationBuffer _detections = new();
    private readonly ObservationBuffer _limits = new();
    private readonly ObservationBuffer _forced = new();
    private byte[] _lastVersionBytes = [];
    private string? _lastVersion;

    private string? _objectId;
    private string? _schemaVersion;
    private long? _candid;
    private long? _alertId;
    private long? _topSourceId;
    private long? _diaObjectId;
    private bool _hasTrigger;
    private Observation _trigger;
    private double _ra;
    private double _dec;
    private AlertMetadata _metadata = AlertMetadata.Empty;
    private int? _nDiaSources;

    public void Reset()
    {
        _detections.Clear();
        _limits.Clear();
        _forced.Clear();
        _objectId = null;
        _schemaVersion = null;
        _candid = null;
        _alertId = null;
        _topSourceId = null;
        _diaObjectId = null;
        _hasTrigger = false;
        _trigger = default;
        _ra = double.NaN;
        _dec = double.NaN;
        _metadata = AlertMetadata.Empty;
        _nDiaSources = null;
    }

    public void SetObjectId(ReadOnlySpan<byte> utf8) => _objectId = System.Text.Encoding.UTF8.GetString(utf8);

    public void SetSchemaVersion(ReadOnlySpan<byte> utf8)
    {
        // The same few version strings repeat on every alert: keep the last one instead of allocating.
        if (_lastVersion is null || !utf8.SequenceEqual(_lastVersionBytes))
        {
            _lastVersionBytes = utf8.ToArray();
            _lastVersion = "ztf " + System.Text.Encoding.UTF8.GetString(utf8);
        }

        _schemaVersion = _lastVersion;
    }

    public void OnRecord(RecordKind kind, ref RecordValues v)
    {
        switch (kind)
        {
            case RecordKind.ZtfAlert:
                _candid = v.Long(Target.Candid);
                break;
            case RecordKind.ZtfCandidate:
                OnZtfCandidate(ref v);
                break;
            case RecordKind.ZtfPrvCandidate:
                OnZtfPrvCandidate(ref v);
                break;
            case RecordKind.ZtfForcedPhotometry:
                OnZtfForced(ref v);
                break;
            case RecordKind.RubinAlert:
                _alertId = v.Long(Target.AlertId);
                _topSourceId = v.Long(Target.DiaSourceId);
                break;
            case RecordKind.RubinTriggerSource:
            case RecordKind.RubinPreviousSource:
                OnRubinSource(kind == RecordKind.RubinTriggerSource, ref v);
                break;
            case RecordKind.RubinForcedSource:
                OnRubinForced(ref v);
                break;
            case RecordKind.RubinNondetection:
                OnRubinNondetection(ref v);
                break;
            case RecordKind.RubinObject:
                _diaObjectId = v.Long(Target.DiaObjectId) ?? _diaObjectId;
                _nDiaSources = (int?)v.Long(Target.NDiaSources);
                break;
            default:
                break;
        }
    }

    public Alert Build(AlertPlan plan)
    {
        if (!_hasTrigger)
        {
            throw new AlertFormatException(AlertErrorKind.InvalidValue, plan.Survey == Survey.Ztf
                ? "ZTF alert has no valid candidate (jd missing or NaN)"
                : "Rubin alert has no valid diaSource (midpointMjdTai missing or NaN)");
        }

        string objectId;
        long sourceId;
        if (plan.Survey == Survey.Ztf)
        {
            objectId = _objectId ?? throw new AlertFormatException(AlertErrorKind.InvalidValue, "ZTF alert has no objectId");
            sourceId = _trigger.SourceId != 0 ? _trigger.SourceId : _candid ?? 0;
        }
        else
        {
            objectId = _diaObjectId is long id && id != 0
                ? id.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : _metadata.SolarSystemObjectId is long ss
                    ? "ss" + ss.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : throw new AlertFormatException(AlertErrorKind.InvalidValue, "Rubin alert has neither a diaObjectId nor an ssObjectId");
            sourceId = _trigger.SourceId != 0 ? _trigger.SourceId : _topSourceId ?? 0;
        }

        var metadata = _nDiaSources is null ? _metadata : _metadata with { DiaSourceCount = _nDiaSources };
        return new Alert
        {
            Survey = plan.Survey,
            SchemaVersion = plan.SchemaVersion ?? _schemaVersion ?? (plan.Survey == Survey.Ztf ? "ztf (unversioned)" : "lsst (unversioned)"),
            ObjectId = objectId,
            SourceId = sourceId,
            AlertId = _alertId ?? sourceId,
            Mjd = _trigger.Mjd,
            Band = _trigger.Band,
            Ra = _ra,
            Dec = _dec,
            Candidate = _trigger,
            Detections = _detections.ToSortedArray(),
            UpperLimits = _limits.ToSortedArray(),
            ForcedPhotometry = _forced.ToSortedArray(),
            Metadata = metadata,
        };
    }

    private static double ZtfMjd(ref RecordValues v)
    {
        var jd = v.Double(Target.Jd);
        return double.IsFinite(jd) ? Photometry.JdToMjd(jd) : double.NaN;
    }

    private static Observation ZtfDetection(long sourceId, double mjd, ref RecordValues v)
    {
        var mag = v.Double(Target.MagPsf);
        var sigma = v.Double(Target.SigmaPsf);
        var flux = Photometry.MagToMicroJy(mag);
        if (v.Has(Target.IsDiffPos) && v.Longs[(int)Target.IsDiffPos] == 0)
        {
            flux = -flux;
        }

        var err = Photometry.MagErrToFluxErr(flux, sigma);
        return new Observation(
            sourceId,
            mjd,
            Passbands.FromZtfFilterId(v.Long(Target.FilterId) ?? 0),
            ObservationKind.Detection,
            (float)flux,
            (float)err,
            v.Float(Target.DiffMagLim));
    }

    private void OnZtfCandidate(ref RecordValues v)
    {
        var mjd = ZtfMjd(ref v);
        if (double.IsNaN(mjd))
        {
            return;
        }

        var obs = ZtfDetection(v.Long(Target.Candid) ?? 0, mjd, ref v);
        _trigger = obs;
        _hasTrigger = true;
        _detections.Add(obs);
        _ra = v.Double(Target.Ra);
        _dec = v.Double(Target.Dec);
        var ssdist = v.Float(Target.SsDistNr);
        var drb = v.Float(Target.Drb);
        _metadata = new AlertMetadata
        {
            StarGalaxyScore = v.Float(Target.SgScore1),
            DistanceToNearestPs1Arcsec = v.Float(Target.DistPsNr1),
            RealBogus = float.IsNaN(drb) ? v.Float(Target.Rb) : drb,
            SolarSystemDistanceArcsec = ssdist < 0 ? float.NaN : ssdist,
            DistanceToNearestRefSource = v.Float(Target.DistNr),
            NearestRefMag = v.Float(Target.MagNr),
            DetectionsInHistory = (int?)v.Long(Target.NDetHist),
        };
    }

    private void OnZtfPrvCandidate(ref RecordValues v)
    {
        var mjd = ZtfMjd(ref v);
        if (double.IsNaN(mjd))
        {
            return;
        }

        if (v.Has(Target.MagPsf))
        {
            // Some schema versions (3.5) drop candid from prv_candidates; the image's pid identifies the point then.
            _detections.Add(ZtfDetection(v.Long(Target.Candid) ?? v.Long(Target.Pid) ?? 0, mjd, ref v));
            return;
        }

        var limit = v.Double(Target.DiffMagLim);
        _limits.Add(new Observation(
            v.Long(Target.Pid) ?? 0,
            mjd,
            Passbands.FromZtfFilterId(v.Long(Target.FilterId) ?? 0),
            ObservationKind.UpperLimit,
            float.NaN,
            (float)Photometry.LimitingMagToSigmaMicroJy(limit),
            (float)limit));
    }

    private void OnZtfForced(ref RecordValues v)
    {
        var mjd = ZtfMjd(ref v);
        if (double.IsNaN(mjd))
        {
            return;
        }

        var zp = v.Double(Target.MagZpSci);
        var counts = v.Double(Target.ForcedFlux);
        var countsErr = v.Double(Target.ForcedFluxErr);
        var flux = counts <= NoValueSentinel ? double.NaN : Photometry.CountsToMicroJy(counts, zp);
        var err = countsErr <= NoValueSentinel ? double.NaN : Photometry.CountsToMicroJy(countsErr, zp);
        _forced.Add(new Observation(
            v.Long(Target.Pid) ?? 0,
            mjd,
            Passbands.FromZtfFilterId(v.Long(Target.FilterId) ?? 0),
            ObservationKind.Forced,
            (float)flux,
            (float)err,
            v.Float(Target.DiffMagLim)));
    }

    private static Passband RubinBand(ref RecordValues v) =>
        v.Has(Target.BandName) ? (Passband)v.Longs[(int)Target.BandName] : Passband.Unknown;

    private void OnRubinSource(bool trigger, ref RecordValues v)
    {
        var mjd = v.Double(Target.Mjd);
        if (!double.IsFinite(mjd))
        {
            return;
        }

        var obs = new Observation(
            v.Long(Target.DiaSourceId) ?? 0,
            mjd,
            RubinBand(ref v),
            ObservationKind.Detection,
            (float)Photometry.NanoJyToMicroJy(v.Double(Target.Flux)),
            (float)Photometry.NanoJyToMicroJy(v.Double(Target.FluxErr)),
            float.NaN);
        _detections.Add(obs);
        if (!trigger)
        {
            return;
        }

        _trigger = obs;
        _hasTrigger = true;
        _ra = v.Double(Target.Ra);
        _dec = v.Double(Target.Dec);
        _diaObjectId ??= v.Long(Target.DiaObjectId);
        _metadata = new AlertMetadata
        {
            RealBogus = v.Float(Target.Reliability),
            Extendedness = v.Float(Target.Extendedness),
            SolarSystemObjectId = v.Long(Target.SsObjectId) is long ss && ss != 0 ? ss : null,
        };
    }

    private void OnRubinForced(ref RecordValues v)
    {
        var mjd = v.Double(Target.Mjd);
        if (!double.IsFinite(mjd))
        {
            return;
        }

        _forced.Add(new Observation(
            v.Long(Target.DiaForcedSourceId) ?? 0,
            mjd,
            RubinBand(ref v),
            ObservationKind.Forced,
            (float)Photometry.NanoJyToMicroJy(v.Double(Target.Flux)),
            (float)Photometry.NanoJyToMicroJy(v.Double(Target.FluxErr)),
            float.NaN));
    }

    private void OnRubinNondetection(ref RecordValues v)
    {
        var mjd = v.Double(Target.Mjd);
        if (!double.IsFinite(mjd))
        {
            return;
        }

        var noise = Photometry.NanoJyToMicroJy(v.Double(Target.DiaNoise));
        _limits.Add(new Observation(
            v.Long(Target.CcdVisitId) ?? 0,
            mjd,
            RubinBand(ref v),
            ObservationKind.UpperLimit,
            float.NaN,
            (float)noise,
            (float)Photometry.MicroJyToMag(5 * noise)));
    }
}
