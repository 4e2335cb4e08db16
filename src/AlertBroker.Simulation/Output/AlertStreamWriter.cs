using System.Buffers;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation.Output;

/// <summary>How a simulated alert stream is laid out on disk.</summary>
public enum AlertOutputLayout
{
    /// <summary>One Avro container file per alert, in one folder per night (<c>OUT/yyyymmdd/candid.avro</c>), like the survey samples.</summary>
    Files,

    /// <summary>ZTF-style nightly archives: <c>OUT/{survey}_public_yyyymmdd.tar.gz</c> holding one container file per alert.</summary>
    NightlyTar,

    /// <summary>One Avro container file holding every alert as a record.</summary>
    SingleFile,
}

/// <summary>How each alert message is framed.</summary>
public enum AlertFraming
{
    /// <summary>An Avro container file with the schema in its header (ZTF's Kafka messages and archives).</summary>
    Container,

    /// <summary>Confluent wire format: byte 0, a 4-byte big-endian schema id, the datum (Rubin's Kafka stream). The schema is written to <c>OUT/schemas/{id}.avsc</c>.</summary>
    ConfluentWire,
}

/// <summary>Totals of a written stream.</summary>
public sealed record AlertStreamSummary(long Alerts, long Bytes, int Nights, long Objects);

/// <summary>
/// Writes simulated alerts in the survey's format (ZTF: container files with the candidate, 30-day
/// history and cutouts; Rubin: diaSource, prvDiaSources, prvDiaForcedSources, cutouts), streaming:
/// a message is encoded, written and forgotten. Each message is a complete Avro container file with the
/// writer schema in its header, as ZTF distributes them.
/// </summary>
public sealed class AlertStreamWriter : IDisposable
{
    private static readonly DateTime s_mjdEpoch = new(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc);

    private readonly IAlertEncoder _encoder;
    private readonly string _output;
    private readonly AlertOutputLayout _layout;
    private readonly bool _cutouts;
    private readonly AlertFraming _framing;
    private readonly int _schemaId;
    private readonly string _codec;
    private readonly ArrayBufferWriter<byte> _wire = new(128 * 1024);
    private Stream? _tarStream;
    private int _entriesThisNight;
    private readonly MemoryStream _message = new(128 * 1024);
    private readonly HashSet<long> _objects = [];
    private AvroContainerWriter? _single;
    private TarWriter? _tar;
    private string? _nightDirectory;
    private TextWriter? _labels;
    private long _alerts;
    private long _bytes;
    private int _nights;

    // Files written under a hidden name, moved into place when whole (a night's archive at the end of a night with alerts,
    // the rest when the writer is disposed), or removed by Discard: a run that ended without a single alert replaced an
    // existing container with an empty one and left an empty night folder or archive behind.
    private readonly List<PartialFile> _pending = [];
    private PartialFile? _pendingTar;
    private readonly List<string> _createdDirectories = [];
    private readonly List<string> _createdFiles = [];
    private bool _discard;
    private readonly long _seed;
    private long _containers;
    private DateTime _nightStart;

    // Container files' sync markers from the seed and the container's ordinal (random ones made every run's bytes differ,
    // where the same seed and options are to give the same output): the first 16 bytes of SHA-256 over both.
    private byte[] NextSyncMarker()
    {
        Span<byte> input = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(input, _seed);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(input[8..], _containers++);
        return System.Security.Cryptography.SHA256.HashData(input)[..16];
    }

    /// <summary>Schema id of Confluent-framed ZTF messages unless another is given.</summary>
    public const int ZtfDefaultSchemaId = 9001;

    /// <summary>
    /// Schema id of Confluent-framed Rubin messages unless another is given: not ZTF's, so that one schema folder (or
    /// registry) serves both streams (until 2026-12-07 both were 9001, and a Rubin stream read with the ZTF schema was
    /// corrupt Avro).
    /// </summary>
    public const int LsstDefaultSchemaId = 9002;

    /// <summary>The schema id Confluent-framed messages of <paramref name="survey"/> get unless another is given.</summary>
    public static int DefaultSchemaId(Survey survey) => survey == Survey.Ztf ? ZtfDefaultSchemaId : LsstDefaultSchemaId;

    public AlertStreamWriter(
        SurveyModel survey,
        string output,
        AlertOutputLayout layout,
        long seed,
        bool cutouts = true,
        AlertFraming framing = AlertFraming.Container,
        int? schemaId = null,
        string codec = "null")
    {
        ArgumentNullException.ThrowIfNull(survey);
        ArgumentNullException.ThrowIfNull(output);
        var id = schemaId ?? DefaultSchemaId(survey.Survey);
        _seed = seed;
        _encoder = survey.Survey == Survey.Ztf
            ? new ZtfAlertEncoder(cutouts ? CutoutFactory.Ztf(seed) : null, survey.AlertHistoryDays)
            : new RubinAlertEncoder(cutouts ? CutoutFactory.Lsst(seed) : null, survey.AlertHistoryDays);
        SurveyName = survey.Name;
        _cutouts = cutouts;
        _output = output;
        _layout = layout;
        _framing = framing;
        _schemaId = id;
        _codec = codec;
        if (framing == AlertFraming.ConfluentWire && codec != "null")
        {
            throw new ArgumentException("Confluent-framed messages are bare datums: a container codec does not apply", nameof(codec));
        }

        // Refused here, before any file is created, rather than by the first message.
        if (!AvroContainerWriter.Codecs.Contains(codec))
        {
            throw new ArgumentException($"unknown codec '{codec}' (expected {string.Join(", ", AvroContainerWriter.Codecs)})", nameof(codec));
        }

        if (framing == AlertFraming.ConfluentWire && layout == AlertOutputLayout.SingleFile)
        {
            throw new ArgumentException("Confluent-framed messages are single datums: write them as files or nightly archives, not one container file", nameof(framing));
        }

        if (layout == AlertOutputLayout.SingleFile)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(output));
            if (dir is not null)
            {
                CreateDirectory(dir);
            }

            _single = new AvroContainerWriter(new FileStream(Stage(output).WritePath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), _encoder.Schema, codec, null, 256 * 1024, syncMarker: NextSyncMarker());
        }
        else
        {
            CreateDirectory(output);
        }

        if (framing == AlertFraming.ConfluentWire)
        {
            // Where DirectorySchemaLookup (alertbroker replay --schema-dir OUT/schemas) finds the writer schema.
            var schemas = Path.Combine(output, "schemas");
            CreateDirectory(schemas);
            var schemaFile = Path.Combine(schemas, id.ToString(CultureInfo.InvariantCulture) + ".avsc");
            if (!File.Exists(schemaFile))
            {
                _createdFiles.Add(schemaFile);
            }

            // In place at once (a reader of the first messages needs it); the same schema for the same id every time.
            File.WriteAllText(schemaFile, AlertSchemas.Json(survey.Survey));
        }
    }

    public string SurveyName { get; }

    /// <summary>The writer schema of the messages.</summary>
    public RecordSchema Schema => _encoder.Schema;

    /// <summary>
    /// Encodes one alert as a standalone message in this writer's framing: an Avro container file holding one
    /// record, or a Confluent-wire datum. Valid until the next call.
    /// </summary>
    public ReadOnlyMemory<byte> EncodeMessage(SimulatedAlert alert)
    {
        if (_framing == AlertFraming.ConfluentWire)
        {
            _wire.ResetWrittenCount();
            ConfluentWireFormat.WriteHeader(_wire, _schemaId);
            _wire.Write(_encoder.Encode(alert.Curve, alert.PointIndex));
            return _wire.WrittenMemory;
        }

        _message.SetLength(0);
        using (var container = new AvroContainerWriter(_message, _encoder.Schema, _codec, null, 256 * 1024, leaveOpen: true, syncMarker: NextSyncMarker()))
        {
            container.WriteEncoded(_encoder.Encode(alert.Curve, alert.PointIndex));
        }

        return _message.GetBuffer().AsMemory(0, (int)_message.Length);
    }

    /// <summary>
    /// Writes a whole stream night by night and returns the totals. A stop request is seen between alerts
    /// (<see cref="OperationCanceledException"/>): what was written up to there stays whole once the writer is disposed
    /// (every message file complete, the night's archive or the container closed after its last alert), and
    /// <see cref="Summary"/> counts it.
    /// </summary>
    public AlertStreamSummary WriteStream(AlertStreamSimulator stream, Action<double, int>? onNight = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        foreach (var (night, alerts) in stream.Nights(cancellationToken))
        {
            BeginNight(night);
            foreach (var alert in alerts)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Write(alert);
            }

            EndNight();
            onNight?.Invoke(night, alerts.Count);
        }

        return Summary;
    }

    public AlertStreamSummary Summary => new(_alerts, _bytes, _nights, _objects.Count);

    /// <summary>
    /// When set, each object's truth is written here on its first alert, as a labels CSV (<c>object_id,class,redshift,mwebv</c>,
    /// header first) that <c>alertbroker evaluate --data OUT --labels FILE</c> reads: the object ids are the alerts' own.
    /// </summary>
    public TextWriter? Labels
    {
        get => _labels;
        set
        {
            _labels = value;
            _labels?.Write("object_id,class,redshift,mwebv\n");
        }
    }

    public void BeginNight(double nightMjd)
    {
        EndNight();
        _nights++;
        _nightStart = s_mjdEpoch.AddDays(Math.Floor(nightMjd));
        var date = _nightStart.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        switch (_layout)
        {
            case AlertOutputLayout.Files:
                _nightDirectory = Path.Combine(_output, date);
                CreateDirectory(_nightDirectory);
                break;
            case AlertOutputLayout.NightlyTar:
                _pendingTar = Stage(Path.Combine(_output, $"{SurveyName}_public_{date}.tar.gz"));
                var path = _pendingTar.WritePath;
                // Stored, not compressed: the messages are dominated by already-gzipped cutouts, and deflating them
                // again would cost most of the write time for a percent or two.
                var gzip = new GZipStream(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), _cutouts ? CompressionLevel.NoCompression : CompressionLevel.Fastest);
                _tarStream = gzip;
                _tar = new TarWriter(gzip, TarEntryFormat.Ustar, leaveOpen: true);
                _entriesThisNight = 0;
                break;
        }
    }

    public void Write(SimulatedAlert alert)
    {
        if (_objects.Add(alert.Curve.Index) && _labels is not null)
        {
            var c = alert.Curve;
            _labels.Write(string.Create(CultureInfo.InvariantCulture, $"{_encoder.ObjectIdOf(c)},{c.ClassName},{c.Redshift:F5},{c.MwEbv:F4}\n"));
        }

        _alerts++;
        if (_layout == AlertOutputLayout.SingleFile)
        {
            var datum = _encoder.Encode(alert.Curve, alert.PointIndex);
            _bytes += datum.Length;
            _single!.WriteEncoded(datum);
            return;
        }

        var message = EncodeMessage(alert);
        _bytes += message.Length;
        var name = MessageName(alert) + ".avro";
        if (_layout == AlertOutputLayout.Files)
        {
            using var file = new FileStream(Path.Combine(_nightDirectory ?? _output, name), FileMode.Create, FileAccess.Write, FileShare.None, 1);
            file.Write(message.Span);
            return;
        }

        if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(message, out var segment))
        {
            segment = message.ToArray();
        }

        using var data = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        // Dated the night, not the moment of writing (that made two runs' archives differ, as the sync markers did).
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = data, ModificationTime = new DateTimeOffset(_nightStart, TimeSpan.Zero) };
        _tar!.WriteEntry(entry);
        _entriesThisNight++;
    }

    public void EndNight()
    {
        _tar?.Dispose();
        _tar = null;
        if (_tarStream is not null)
        {
            if (_entriesThisNight == 0)
            {
                // A night without alerts (clouds) still gets a valid, empty archive: two zero blocks.
                _tarStream.Write(new byte[1024]);
            }

            _tarStream.Dispose();
            _tarStream = null;
            if (_entriesThisNight > 0 && _pendingTar is not null)
            {
                // Whole now: in place at once, as a night's archive appears in a real alert archive.
                _pendingTar.Commit();
                _pending.Remove(_pendingTar);
            }

            _pendingTar = null;
        }
    }

    /// <summary>
    /// What this writer wrote is removed when it is disposed, instead of moved into place: for a run that produced nothing
    /// worth keeping (no alert at all). Files it replaces stay as they were; archives of nights with alerts are in place
    /// already.
    /// </summary>
    public void Discard() => _discard = true;

    public void Dispose()
    {
        EndNight();
        _single?.Dispose();
        _single = null;
        _message.Dispose();
        foreach (var file in _pending)
        {
            if (!_discard)
            {
                file.Commit();
            }

            file.Dispose();
        }

        _pending.Clear();
        if (_discard)
        {
            foreach (var file in _createdFiles)
            {
                File.Delete(file);
            }

            // Deepest first: a night folder, then the output folder, each only if this writer made it and left it empty.
            for (var i = _createdDirectories.Count - 1; i >= 0; i--)
            {
                if (Directory.Exists(_createdDirectories[i]) && !Directory.EnumerateFileSystemEntries(_createdDirectories[i]).Any())
                {
                    Directory.Delete(_createdDirectories[i]);
                }
            }
        }
    }

    // `final` under a hidden name until it is whole (something other than a regular file, --out /dev/null, straight).
    private PartialFile Stage(string final)
    {
        var file = PartialFile.Begin(final);
        _pending.Add(file);
        return file;
    }

    // Creates a directory (and its parents), remembering those that did not exist so that Discard can remove them.
    private void CreateDirectory(string directory)
    {
        var missing = new Stack<string>();
        for (var d = Path.GetFullPath(directory); !string.IsNullOrEmpty(d) && !Directory.Exists(d); d = Path.GetDirectoryName(d))
        {
            missing.Push(d);
        }

        Directory.CreateDirectory(directory);
        _createdDirectories.AddRange(missing);
    }

    private string MessageName(SimulatedAlert alert) => _encoder.Survey == Survey.Ztf
        ? ZtfAlertEncoder.Candid(alert.Curve.Index, alert.PointIndex).ToString(CultureInfo.InvariantCulture)
        : RubinAlertEncoder.DiaSourceId(alert.Curve.Index, alert.PointIndex).ToString(CultureInfo.InvariantCulture);
}
