using System.Globalization;
using System.Text;
using AlertBroker.Alerts;
using AlertBroker.Worker.Hosting;
using Confluent.Kafka;

namespace AlertBroker.Cli.Consume;

/// <summary>
/// What <c>consume --kind K … [--save-payloads DIR] [--redrive TOPIC]</c> does with the dead letters of the chosen kinds:
/// writes each whole payload to a file, publishes it unchanged to an alert topic, or both. A dead letter whose payload was
/// over the dead-letter limit holds only its first bytes: it is neither saved nor re-driven, and is counted (its
/// original is fetched by the source position while retention keeps it).
/// </summary>
internal sealed class DeadLetterRedrive : IDisposable
{
    /// <summary>The dead-letter kinds the worker writes: the decoder's error kinds, and <c>Internal</c>.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [.. Enum.GetNames<AlertErrorKind>().Where(k => k != nameof(AlertErrorKind.Archive)), "Internal"];

    /// <summary>Header on a re-driven message: the dead letter's own position (topic[partition]@offset).</summary>
    public const string RedrivenFromHeader = "alertbroker.redriven.from";

    private readonly HashSet<string> _kinds;
    private readonly string? _directory;
    private readonly string? _topic;
    private readonly IProducer<byte[]?, byte[]>? _producer;
    private readonly AlertDecoder _decoder;
    private readonly Action<string> _note;
    private readonly List<Alert> _alerts = new(1);
    private long _redriven;

    private DeadLetterRedrive(HashSet<string> kinds, string? directory, string? topic, IProducer<byte[]?, byte[]>? producer, AlertDecoder decoder, Action<string> note)
    {
        _kinds = kinds;
        _directory = directory;
        _topic = topic;
        _producer = producer;
        _decoder = decoder;
        _note = note;
    }

    /// <summary>Dead letters of the chosen kinds read.</summary>
    public long Matched { get; private set; }

    /// <summary>Whole payloads written to files (each a file of its own).</summary>
    public long Saved { get; private set; }

    /// <summary>Of <see cref="Saved"/>, those written beside a file of the same source position that holds other bytes
    /// (as <c>NAME.2.avro</c>, …).</summary>
    public long SavedBeside { get; private set; }

    /// <summary>Payloads not written again: a file of their source position in the folder already holds the same bytes.</summary>
    public long Repeated { get; private set; }

    /// <summary>Whole payloads published again and acknowledged.</summary>
    public long Redriven => Interlocked.Read(ref _redriven);

    /// <summary>Dead letters that hold only the first bytes of their payload (a reference): not saved, not re-driven.</summary>
    public long ReferencesOnly { get; private set; }

    /// <summary>Messages of other kinds, or not dead letters, passed over.</summary>
    public long Skipped { get; private set; }

    /// <summary>
    /// The canonical kind names for <paramref name="given"/> (repeatable, comma-separated, any case); null with
    /// <paramref name="problem"/> when one is not a kind the worker writes.
    /// </summary>
    public static HashSet<string>? ParseKinds(IEnumerable<string> given, out string? problem)
    {
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in given)
        {
            // An empty value (--kind "", --kind ,) named no kind and was taken as no --kind at all: every message shown, exit 0.
            if (value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length == 0)
            {
                problem = $"--kind needs a dead-letter kind, not '{value}' (the worker writes {string.Join(", ", Kinds)})";
                return null;
            }
        }

        foreach (var name in given.SelectMany(g => g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (Kinds.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)) is not { } kind)
            {
                problem = $"--kind {name}: not a dead-letter kind (the worker writes {string.Join(", ", Kinds)})";
                return null;
            }

            kinds.Add(kind);
        }

        problem = null;
        return kinds;
    }

    /// <summary>
    /// How long a re-driven message may wait for the broker's acknowledgement (librdkafka's <c>message.timeout.ms</c>,
    /// 300 s by default: a re-drive whose brokers went away sat silent for five minutes before it said so). A
    /// <c>--kafka-property message.timeout.ms=N</c> replaces it.
    /// </summary>
    public const int DeliveryTimeoutMs = 30_000;

    /// <summary>
    /// Prepares the output: creates <paramref name="directory"/> and, for <paramref name="topic"/>, a producer (acks=all,
    /// idempotent) with <paramref name="properties"/> and the typed <paramref name="security"/> settings (as the reader's). Throws <see cref="IOException"/>/<see cref="UnauthorizedAccessException"/>
    /// for a directory it cannot create, <see cref="KafkaException"/>/<see cref="ArgumentException"/> for settings librdkafka refuses.
    /// </summary>
    public static DeadLetterRedrive Create(HashSet<string> kinds, string? directory, string? topic, string bootstrapServers, IReadOnlyDictionary<string, string> properties, KafkaOptions security, AlertDecoder decoder, Action<string> note)
    {
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        IProducer<byte[]?, byte[]>? producer = null;
        if (topic is not null)
        {
            var config = new ProducerConfig { BootstrapServers = bootstrapServers, Acks = Acks.All, EnableIdempotence = true, MessageMaxBytes = 16 * 1024 * 1024, MessageTimeoutMs = DeliveryTimeoutMs };
            foreach (var (k, v) in properties)
            {
                config.Set(k, v);
            }

            KafkaSecurity.Apply(config, security);
            producer = new ProducerBuilder<byte[]?, byte[]>(config).SetLogHandler((_, _) => { }).Build();
        }

        return new DeadLetterRedrive(kinds, directory, topic, producer, decoder, note);
    }

    /// <summary>Whether <paramref name="message"/> is a dead letter of a chosen kind (the others are counted as skipped).</summary>
    public bool Selects(TopicMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.DeadLetter is { } d && _kinds.Contains(d.Kind))
        {
            return true;
        }

        Skipped++;
        return false;
    }

    /// <summary>
    /// Saves and re-drives one selected dead letter (one that holds only a reference is counted and said, through the
    /// note callback). Returns a task that completes when the broker has acknowledged the re-driven message (at once
    /// without <c>--redrive</c>), so that a committed consumer offset (<c>--group</c>) never runs ahead of what was
    /// re-driven; it fails with <see cref="DeadLetterRedriveException"/> when the payload could not be written or the
    /// broker did not take it. Publishes are pipelined: many may be in flight.
    /// </summary>
    public Task Handle(TopicMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var d = message.DeadLetter!;
        Matched++;
        if (d.Truncated)
        {
            ReferencesOnly++;
            _note(string.Create(CultureInfo.InvariantCulture, $"{message.Position}: only the first {d.KeptBytes ?? d.PayloadBytes} of {d.OriginalBytes} bytes are in the dead letter: not saved or re-driven; the original is {(message.Source is { } s ? s.ToString() : "at its source position")} (SHA-256 {d.Sha256})"));
            return Task.CompletedTask;
        }

        var payload = message.Payload.ToArray();
        if (_directory is not null)
        {
            var name = message.Source is { } source ? $"{source.Topic}-{source.Partition}-{source.Offset}" : $"{message.Topic}-{message.Partition}-{message.Offset}";
            try
            {
                switch (Save(_directory, SafeName(name), payload))
                {
                    case SaveOutcome.Repeated:
                        Repeated++;
                        break;
                    case SaveOutcome.Beside:
                        Saved++;
                        SavedBeside++;
                        break;
                    default:
                        Saved++;
                        break;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Task.FromException(new DeadLetterRedriveException($"{message.Position}: not saved: {e.Message}", e));
            }
        }

        return _producer is null ? Task.CompletedTask : Publish(message.Position, payload);
    }

    private Task Publish(string position, byte[] payload)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var key = ObjectId(payload);
        var message = new Message<byte[]?, byte[]>
        {
            Key = key is null ? null : Encoding.UTF8.GetBytes(key),
            Value = payload,
            Headers = new Headers { { RedrivenFromHeader, Encoding.UTF8.GetBytes(position) } },
        };
        while (true)
        {
            try
            {
                _producer!.Produce(_topic, message, report =>
                {
                    if (report.Error.IsError)
                    {
                        done.TrySetException(new DeadLetterRedriveException($"{position}: not re-driven: {report.Error.Reason}"));
                    }
                    else
                    {
                        Interlocked.Increment(ref _redriven);
                        done.TrySetResult();
                    }
                });
                return done.Task;
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer!.Poll(TimeSpan.FromMilliseconds(20));
            }
            catch (KafkaException e)
            {
                return Task.FromException(new DeadLetterRedriveException($"{position}: not re-driven: {e.Error.Reason}", e));
            }
        }
    }

    /// <summary>One line: what was done.</summary>
    public string Summary(string? topic, string? directory)
    {
        var parts = new List<string> { CliHelpers.Counted(Matched, "dead letter") + " of kind " + string.Join(", ", _kinds.Order(StringComparer.Ordinal)) };
        if (topic is not null)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{Redriven:N0} re-driven to {topic}"));
        }

        if (directory is not null)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{Saved:N0} saved in {directory}")
                + (SavedBeside > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({SavedBeside:N0} of them beside an earlier file of the same source position that holds other bytes, as NAME.2.avro, …)") : string.Empty));
            if (Repeated > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{Repeated:N0} repeated a source position already saved (same bytes, not written again)"));
            }
        }

        if (ReferencesOnly > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{ReferencesOnly:N0} held only a reference to an over-size payload (not saved or re-driven)"));
        }

        parts.Add(CliHelpers.Counted(Skipped, "other message") + " passed over");
        return "[consume] " + string.Join("; ", parts);
    }

    /// <summary>Waits (up to 30 s) for the publishes still in flight, e.g. after a failure stopped the reading.</summary>
    public void Flush() => _producer?.Flush(TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        Flush();
        _producer?.Dispose();
    }

    // The same key as the alert topics get from replay --to-kafka (the object id), when the payload decodes; none otherwise.
    private string? ObjectId(byte[] payload)
    {
        _alerts.Clear();
        try
        {
            _decoder.Decode(payload, _alerts);
            return _alerts.Count > 0 && _alerts[0].ObjectId.Length > 0 ? _alerts[0].ObjectId : null;
        }
        catch (Exception e) when (e is AlertFormatException or AlertBroker.Avro.SchemaLookupUnavailableException)
        {
            return null;
        }
    }

    private enum SaveOutcome
    {
        Written,
        Beside,
        Repeated,
    }

    // The payload as NAME.avro. A file of that name that holds the same bytes is the same dead letter again (the worker
    // re-read its source after a restart, or an earlier run saved it here): nothing is written. One that holds other bytes
    // is kept, and the payload goes beside it as NAME.2.avro (NAME.3.avro, …: the first free name, unless one of them
    // holds the same bytes). Until 2026-12-08 every dead letter overwrote the file of its source position and was counted
    // as saved: "25,500 saved" for 20,000 files after a worker's kill -9 and restart, earlier runs' files replaced.
    //
    // Written under a temporary name in the same folder and renamed when whole, never over an existing file: a payload
    // said "not saved" leaves no file. Written straight to its name, a full disk (or a file-size limit) left the cut file
    // (0 or 4,096 bytes, say), which inspect and replay then read as a corrupt alert. The temporary name is hidden and not
    // *.avro (what inspect, replay and score read in a folder): one left by a killed run is never taken for a payload.
    private static SaveOutcome Save(string directory, string name, byte[] payload)
    {
        string? temp = null;
        try
        {
            for (var n = 1; ; n++)
            {
                var file = Path.Combine(directory, n == 1 ? name + ".avro" : string.Create(CultureInfo.InvariantCulture, $"{name}.{n}.avro"));
                if (Directory.Exists(file))
                {
                    // Was reported as "Access to the path … is denied", as if a permission were missing.
                    throw new IOException(file + " is a directory");
                }

                if (File.Exists(file))
                {
                    if (SameBytes(file, payload))
                    {
                        return SaveOutcome.Repeated;
                    }

                    continue;
                }

                temp ??= WriteTemporary(directory, name, payload);
                try
                {
                    File.Move(temp, file, overwrite: false);
                    temp = null;
                    return n == 1 ? SaveOutcome.Written : SaveOutcome.Beside;
                }
                catch (IOException) when (File.Exists(file))
                {
                    // Taken meanwhile (another run saving into the same folder): looked at again.
                    n--;
                }
            }
        }
        finally
        {
            if (temp is not null)
            {
                TryDelete(temp);
            }
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The failure that led here is said; a temporary file that cannot be deleted either is hidden and not *.avro.
        }
    }

    private static string WriteTemporary(string directory, string name, byte[] payload)
    {
        var temp = Path.Combine(directory, "." + name + ".avro." + Guid.NewGuid().ToString("N")[..8] + ".partial");
        try
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            stream.Write(payload);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // .NET's word for EFBIG, which ended the command as "unexpected error", exit 70.
            TryDelete(temp);
            throw new IOException("File too large (over the process's file-size limit, ulimit -f, or the file system's largest file)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw;
        }

        return temp;
    }

    private static bool SameBytes(string file, byte[] payload) =>
        new FileInfo(file).Length == payload.Length && File.ReadAllBytes(file).AsSpan().SequenceEqual(payload);

    private static string SafeName(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] is '-' or '_' or '.'))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }
}

/// <summary>A dead letter could not be saved or re-driven; the message names its position.</summary>
internal sealed class DeadLetterRedriveException : Exception
{
    public DeadLetterRedriveException()
    {
    }

    public DeadLetterRedriveException(string message)
        : base(message)
    {
    }

    public DeadLetterRedriveException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
