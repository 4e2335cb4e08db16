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
    private int _observations;
    private string? _invalidTime;

    /// <summary>The checks for the alert being read (set by the decoder before each alert: the builder is shared per thread).</summary>
    public AlertValidation Validation { get; set; } = AlertValidation.Default;

    public void Reset()
    {
        _observations = 0;
        _invalidTime = null;
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

            // Until 2026-12-07 any string was taken: a 400 KB id became a 400 KB Redis key, output key and web-view entry, and
            // one with an escape sequence and a newline printed a forged line through consume and inspect.
            if (Alert.ObjectIdProblem(objectId) is { } problem)
            {
                throw new AlertFormatException(AlertErrorKind.InvalidValue, "ZTF alert: " + problem);
            }
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
        var detections = _detections.ToSortedArray();
        var limits = _limits.ToSortedArray();
        var forced = _forced.ToSortedArray();
        if (Validation.Enabled)
        {
            Validate(plan.Survey, detections, limits, forced);
        }

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
            Detections = detections,
            UpperLimits = limits,
            ForcedPhotometry = forced,
            Metadata = metadata,
        };
    }

    private void Validate(Survey survey, Observation[] detections, Observation[] limits, Observation[] forced)
    {
        if (_invalidTime is not null)
        {
            throw new AlertFormatException(AlertErrorKind.InvalidValue, _invalidTime);
        }

        var (min, max) = Validation.WindowOf(survey);
        foreach (ref readonly var o in detections.AsSpan())
        {
            CheckTime(o, survey, min, max);
            if (!float.IsFinite(o.FluxMicroJy) || !float.IsFinite(o.FluxErrMicroJy) || o.FluxErrMicroJy < 0)
            {
                throw Invalid(o, $"flux {Format(o.FluxMicroJy)} ± {Format(o.FluxErrMicroJy)} µJy (a detection needs a finite flux and a finite, non-negative error)");
            }
        }

        foreach (ref readonly var o in forced.AsSpan())
        {
            CheckTime(o, survey, min, max);
            if (float.IsInfinity(o.FluxMicroJy) || float.IsInfinity(o.FluxErrMicroJy) || o.FluxErrMicroJy < 0)
            {
                throw Invalid(o, $"flux {Format(o.FluxMicroJy)} ± {Format(o.FluxErrMicroJy)} µJy (forced photometry: a flux and an error that are finite or missing, the error not negative)");
            }
        }

        foreach (ref readonly var o in limits.AsSpan())
        {
            CheckTime(o, survey, min, max);
            if (float.IsInfinity(o.FluxErrMicroJy) || o.FluxErrMicroJy < 0 || float.IsInfinity(o.LimitingMag))
            {
                throw Invalid(o, $"noise {Format(o.FluxErrMicroJy)} µJy, limiting magnitude {Format(o.LimitingMag)} (finite or missing, the noise not negative)");
            }
        }
    }

    private static void CheckTime(in Observation o, Survey survey, double min, double max)
    {
        if (!(o.Mjd >= min && o.Mjd <= max))
        {
            throw Invalid(o, $"time MJD {o.Mjd.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} is outside the {SurveyName(survey)} window {min.ToString(System.Globalization.CultureInfo.InvariantCulture)}..{max.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }
    }

    private static AlertFormatException Invalid(in Observation o, string what) =>
        new(AlertErrorKind.InvalidValue, $"{KindName(o.Kind)} {o.SourceId.ToString(System.Globalization.CultureInfo.InvariantCulture)}: {what}");

    private static string KindName(ObservationKind kind) => kind switch
    {
        ObservationKind.Detection => "detection",
        ObservationKind.UpperLimit => "non-detection",
        _ => "forced photometry",
    };

    private static string SurveyName(Survey survey) => survey == Survey.Ztf ? "ZTF" : "Rubin";

    private static string Format(float value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    // A time that is present but not a number cannot be placed on a light curve: the alert is refused (a missing one is
    // skipped, as before; the surveys' schemas do not allow it to be missing).
    private void NoteInvalidTime(string record, double value) =>
        _invalidTime ??= $"{record} has a time that is not a finite number ({value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})";

    // Counted while reading, so an absurdly long history is refused before its points are all held.
    private void Count()
    {
        _observations++;
        var max = Validation.MaxObservationsPerAlert;
        if (max > 0 && _observations > max)
        {
            throw new AlertFormatException(AlertErrorKind.HistoryTooLong, $"the alert carries more than {max.ToString(System.Globalization.CultureInfo.InvariantCulture)} observations (the per-alert limit)");
        }
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

        Count();
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
            if (v.Has(Target.Jd))
            {
                NoteInvalidTime("a ZTF prv_candidate", v.Doubles[(int)Target.Jd]);
            }

            return;
        }

        Count();
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
            if (v.Has(Target.Jd))
            {
                NoteInvalidTime("a ZTF forced-photometry point", v.Doubles[(int)Target.Jd]);
            }

            return;
        }

        Count();
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
            if (!trigger && v.Has(Target.Mjd))
            {
                NoteInvalidTime("a Rubin prvDiaSource", mjd);
            }

            return;
        }

        Count();
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
            if (v.Has(Target.Mjd))
            {
                NoteInvalidTime("a Rubin diaForcedSource", mjd);
            }

            return;
        }

        Count();
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
            if (v.Has(Target.Mjd))
            {
                NoteInvalidTime("a Rubin non-detection", mjd);
            }

            return;
        }

        Count();
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
