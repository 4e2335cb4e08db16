using System.Globalization;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace AlertBroker.Worker.Pipeline;

/// <summary>One recent classification, as the web view lists it (the full record is on the output topic); <see cref="Reason"/> says why there are no probabilities, when there are none for a reason (<see cref="TopClass"/> and <see cref="TopProbability"/> are then null).</summary>
public sealed record RecentClassification(
    string ObjectId,
    string Survey,
    double Mjd,
    string Model,
    string? TopClass,
    double? TopProbability,
    int Observations,
    int Steps,
    string Scoring,
    long ClassifiedUnixMs,
    string? Reason = null)
{
    public static RecentClassification From(Classification c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return new RecentClassification(
            c.ObjectId,
            SurveyName(c.Survey),
            c.Mjd,
            // A survey no model serves: "none" (until 2026-12-07 "@").
            string.IsNullOrEmpty(c.ModelName) ? "none" : c.ModelName + "@" + c.ModelVersion,
            c.TopClass,
            c.TopClass is null ? null : c.TopProbability,
            c.ObservationCount,
            c.StepCount,
            c.Scoring.ToString(),
            c.ClassifiedTimestampMs,
            c.Reason);
    }

    /// <summary>"ztf", "lsst": the survey as in state keys and web addresses.</summary>
    public static string SurveyName(Survey survey) => survey switch
    {
        Alerts.Survey.Ztf => "ztf",
        Alerts.Survey.Lsst => "lsst",
        _ => "unknown",
    };
}

/// <summary>
/// The most recent classifications of this process, newest last, in a fixed ring: adding a batch stores references to
/// the batch's <see cref="Classification"/> records (already made for the output topic), so it allocates nothing.
/// </summary>
public sealed class RecentClassificationLog
{
    private readonly Classification?[] _ring;
    private readonly Lock _gate = new();
    private long _count;

    public RecentClassificationLog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _ring = new Classification?[capacity];
    }

    public int Capacity => _ring.Length;

    public void Add(BatchResult batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            foreach (var o in batch.Outputs)
            {
                _ring[(int)(_count++ % _ring.Length)] = o.Classification;
            }
        }
    }

    /// <summary>Up to <paramref name="count"/> classifications, newest first.</summary>
    public IReadOnlyList<RecentClassification> Latest(int count)
    {
        var picked = new List<Classification>(Math.Min(count, _ring.Length));
        lock (_gate)
        {
            for (var i = _count - 1; i >= 0 && i >= _count - _ring.Length && picked.Count < count; i--)
            {
                picked.Add(_ring[(int)(i % _ring.Length)]!);
            }
        }

        return picked.ConvertAll(RecentClassification.From);
    }
}

/// <summary>
/// Recent classifications in a capped Redis list beside the object states, for a web view that runs outside the workers
/// (<c>alertbroker serve</c>). Per batch the worker sends one <c>LPUSH</c> of the batch's newest classifications (at most
/// <see cref="PerBatch"/>) and one <c>LTRIM</c>: the consume loop never waits for them, and a lost entry only shortens a
/// list that is a view, not a record (the output topic is the record). A failure is counted
/// (<c>alertbroker_errors_total{kind="recent_classifications"}</c>) and logged when it starts, at most once a minute while
/// it lasts, and when writes go through again (until 2026-12-07 they were sent fire-and-forget, so a key of another type
/// at the list's name left the web view's list empty without a word).
/// </summary>
public sealed class RedisRecentClassifications
{
    /// <summary>Most entries one batch sends.</summary>
    public const int PerBatch = 100;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKey _key;
    private readonly int _capacity;
    private readonly ILogger _logger;
    private readonly WorkerMetrics? _metrics;
    private readonly FailureLogThrottle _throttle;

    public RedisRecentClassifications(IConnectionMultiplexer redis, string keyPrefix, int capacity, ILogger? logger = null, WorkerMetrics? metrics = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentException.ThrowIfNullOrEmpty(keyPrefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _redis = redis;
        _key = Key(keyPrefix);
        _capacity = capacity;
        _logger = logger ?? NullLogger.Instance;
        _metrics = metrics;
        _throttle = new FailureLogThrottle(LogInterval, time);
    }

    /// <summary>How often, at most, a lasting failure is logged again.</summary>
    public static TimeSpan LogInterval { get; } = TimeSpan.FromMinutes(1);

    /// <summary>Batches whose entries could not be written (since this process started).</summary>
    public long Failures => _throttle.Failures;

    /// <summary><c>{prefix}:recent-classifications</c> (object keys are <c>{prefix}:{survey}:{id}</c>, so it cannot clash with one).</summary>
    public static string Key(string keyPrefix) => keyPrefix + ":recent-classifications";

    public void Add(BatchResult batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var outputs = batch.Outputs;
        var n = Math.Min(outputs.Count, Math.Min(PerBatch, _capacity));
        if (n == 0)
        {
            return;
        }

        // LPUSH puts its last argument at the head: oldest first, so the batch's newest ends up first.
        var values = new RedisValue[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = JsonSerializer.SerializeToUtf8Bytes(RecentClassification.From(outputs[outputs.Count - n + i].Classification), s_json);
        }

        var db = _redis.GetDatabase();
        Task push, trim;
        try
        {
            push = db.ListLeftPushAsync(_key, values);
            trim = db.ListTrimAsync(_key, 0, _capacity - 1);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
            Completed(e);
            return;
        }

        // Not awaited: the consume loop goes on; the continuation only reports.
        _ = Task.WhenAll(push, trim).ContinueWith(
            static (t, state) => ((RedisRecentClassifications)state!).Completed(t.Exception?.Flatten().InnerExceptions[0]),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void Completed(Exception? error)
    {
        if (error is null)
        {
            _throttle.Recovered(lost => _logger.LogInformation("Recent classifications are written to {Key} again ({Failed} batches' entries were lost)", _key.ToString(), lost));
            return;
        }

        _metrics?.Error(WorkerError.RecentClassifications);
        _throttle.Failed(failed =>
        {
            if (error is RedisServerException server && AlertBroker.Redis.RedisErrors.IsWrongType(server))
            {
                _logger.LogWarning(
                    "Recent classifications cannot be written ({Failed} batches' entries lost): {Key} is not a list (another program writes under the state prefix: give the state store a prefix of its own, AlertBroker:State:KeyPrefix, or delete the key); classifying and publishing go on, the web view's list of recent classifications does not grow",
                    failed,
                    _key.ToString());
            }
            else
            {
                _logger.LogWarning(
                    "Recent classifications cannot be written to {Key} ({Failed} batches' entries lost): {Error}; classifying and publishing go on",
                    _key.ToString(),
                    failed,
                    error.Message);
            }
        });
    }

    /// <summary>The last millisecond of year 9999: a classification time past it (or before 1970) is a damaged entry.</summary>
    private const long MaxUnixMs = 253_402_300_799_999;

    /// <summary>Up to <paramref name="count"/> entries, newest first (unreadable entries, entries without an object id, survey, model or scoring, and entries with a classification time before 1970 or after 9999, are skipped).</summary>
    public static async Task<IReadOnlyList<RecentClassification>> ReadAsync(IDatabaseAsync db, string keyPrefix, int count)
    {
        ArgumentNullException.ThrowIfNull(db);
        RedisValue[] values;
        try
        {
            values = await db.ListRangeAsync(Key(keyPrefix), 0, Math.Max(0, count - 1)).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (AlertBroker.Redis.RedisErrors.IsWrongType(e))
        {
            // Redis's WRONGTYPE names no key: say which, and why it happens.
            var type = await db.KeyTypeAsync(Key(keyPrefix)).ConfigureAwait(false);
            throw new RedisServerException(
                RedisErrorKind.WrongType,
                CommandFlags.None,
                $"WRONGTYPE {Key(keyPrefix)} is a {type.ToString().ToLowerInvariant()} where the workers keep a list of recent classifications (another program writes under the state prefix: give the state store a prefix of its own, AlertBroker:State:KeyPrefix)");
        }

        var list = new List<RecentClassification>(values.Length);
        foreach (var v in values)
        {
            try
            {
                // Valid JSON without an object id or survey (damaged, or written by another program) is as unreadable as
                // invalid JSON: it was listed with null fields, and the search failed on it (a 500 for every query).
                if (JsonSerializer.Deserialize<RecentClassification>((byte[])v!, s_json) is { } r
                    && !string.IsNullOrEmpty(r.ObjectId) && !string.IsNullOrEmpty(r.Survey) && r.Model is not null && r.Scoring is not null
                    && r.ClassifiedUnixMs is >= 0 and <= MaxUnixMs)
                {
                    list.Add(r);
                }
            }
            catch (JsonException)
            {
            }
        }

        return list;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{_key} (last {_capacity})");
}
