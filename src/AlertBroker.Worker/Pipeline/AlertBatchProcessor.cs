using System.Diagnostics;
using System.Numerics;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Model.Scoring;
using AlertBroker.State;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Telemetry;

namespace AlertBroker.Worker.Pipeline;

/// <summary>Check-and-set writes kept losing to other writers; the batch may be retried as a whole.</summary>
public sealed class StateConflictException : Exception
{
    public StateConflictException()
    {
    }

    public StateConflictException(string message)
        : base(message)
    {
    }

    public StateConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The worker's batch step, independent of Kafka: messages in, classifications and dead letters out. Per batch: decode every
/// message (failures become dead letters), group the alerts by object, read the objects' states in one round trip, merge the
/// new observations, score only the new steps from each stored hidden state (a full re-run when the data arrived out of
/// order, the model changed or no state exists) in one scorer call per path, write the new states with check-and-set in
/// one round trip (objects that lost a race are re-read and redone), then encode one classification per alert.
/// A state store outage surfaces as <see cref="StateStoreUnavailableException"/> with nothing half-done that a retry of the
/// same batch would not repair: merges are idempotent.
/// </summary>
public sealed class AlertBatchProcessor
{
    private readonly AlertDecoder _decoder;
    private readonly IObjectStateStore _store;
    private readonly Func<ActiveModel> _model;
    private readonly ClassificationCodec _codec;
    private readonly TimeProvider _time;
    private readonly WorkerMetrics? _metrics;

    public AlertBatchProcessor(AlertDecoder decoder, IObjectStateStore store, Func<ActiveModel> model, ClassificationCodec codec, WorkerMetrics? metrics = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(codec);
        _decoder = decoder;
        _store = store;
        _model = model;
        _codec = codec;
        _metrics = metrics;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How many times an object that lost a check-and-set is re-read and redone within one batch.</summary>
    public int MaxCasAttempts { get; init; } = 20;

    /// <summary>
    /// Most observations kept per object (0: no limit). Beyond it the oldest points are dropped from the stored light curve
    /// and from the scoring window: an object's window is the newest N points of everything it was ever sent, and t₀ is
    /// the first detection inside the window. A classification uses the window as of the alert's time (the newest N points
    /// at or before it). Default 4,000: five times the longest real light curve in the shared data (794 ZTF detections,
    /// ZTF18acbwaxk in the BTS set) and 17 times the simulator's longest Rubin object (234 points).
    /// </summary>
    public int MaxObservationsPerObject { get; init; } = DefaultMaxObservationsPerObject;

    /// <summary>The default of <see cref="MaxObservationsPerObject"/>.</summary>
    public const int DefaultMaxObservationsPerObject = 4_000;

    public Task<BatchResult> ProcessAsync(IReadOnlyList<InputMessage> messages, CancellationToken cancellationToken = default) =>
        ProcessAsync(messages, _model(), cancellationToken);

    /// <summary>The model the next batch would use (a caller that splits one batch into several calls takes it once).</summary>
    public ActiveModel CurrentModel() => _model();

    /// <summary>
    /// Processes one batch with a given model: a caller that splits one logical batch into several calls (retrying
    /// messages one by one) passes the same model to each, so the batch still uses one model version.
    /// </summary>
    public async Task<BatchResult> ProcessAsync(IReadOnlyList<InputMessage> messages, ActiveModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(model);
        using var activity = WorkerMetrics.ActivitySource.StartActivity("alertbroker.batch");
        activity?.SetTag("alertbroker.batch.messages", messages.Count);
        var received = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var total = Stopwatch.StartNew();

        // 1. Decode.
        var clock = Stopwatch.StartNew();
        var alerts = new List<Alert>(messages.Count);
        var alertMessage = new List<int>(messages.Count);
        var deadLetters = new List<DeadLetter>();
        var decoded = new List<Alert>(2);
        for (var i = 0; i < messages.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            decoded.Clear();
            var error = await DecodeAsync(messages[i], decoded, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                deadLetters.Add(error);
                _metrics?.DeadLetter(error.Kind);
                continue;
            }

            foreach (var a in decoded)
            {
                alerts.Add(a);
                alertMessage.Add(i);
            }
        }

        var decodeTime = clock.Elapsed;

        // 2. Group by object.
        var works = new Dictionary<ObjectKey, ObjectWork>(alerts.Count);
        var workOfAlert = new ObjectWork[alerts.Count];
        for (var j = 0; j < alerts.Count; j++)
        {
            var key = new ObjectKey(alerts[j].Survey, alerts[j].ObjectId);
            if (!works.TryGetValue(key, out var work))
            {
                work = new ObjectWork(key);
                works.Add(key, work);
            }

            work.Alerts.Add(alerts[j]);
            workOfAlert[j] = work;
        }

        // 3–6. Read, merge, score, check-and-set write; redo the objects that lost a race.
        var pending = new List<ObjectWork>(works.Values);
        TimeSpan readTime = default, scoreTime = default, writeTime = default;
        int written = 0, added = 0, retries = 0, dropped = 0;
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            if (attempt >= MaxCasAttempts)
            {
                throw new StateConflictException($"{pending.Count} objects kept losing check-and-set writes after {attempt} attempts");
            }

            if (attempt > 0)
            {
                retries += pending.Count;
            }

            cancellationToken.ThrowIfCancellationRequested();
            clock.Restart();
            var keys = new ObjectKey[pending.Count];
            var states = new ObjectState?[pending.Count];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = pending[i].Key;
            }

            await _store.ReadAsync(keys, states, cancellationToken).ConfigureAwait(false);
            readTime += clock.Elapsed;

            clock.Restart();
            for (var i = 0; i < pending.Count; i++)
            {
                pending[i].Prepare(states[i] ?? ObjectState.Empty, model, MaxObservationsPerObject);
            }

            ScoreNewSteps(pending, model);
            scoreTime += clock.Elapsed;

            clock.Restart();
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var writes = new List<StateWrite>(pending.Count);
            var writers = new List<ObjectWork>(pending.Count);
            foreach (var work in pending)
            {
                if (work.NeedsWrite)
                {
                    writes.Add(new StateWrite(work.Key, work.Current.Version, work.BuildState(model, now)));
                    writers.Add(work);
                }
            }

            var committed = new bool[writes.Count];
            await _store.WriteAsync(writes, committed, cancellationToken).ConfigureAwait(false);
            writeTime += clock.Elapsed;
            pending.Clear();
            for (var i = 0; i < writers.Count; i++)
            {
                if (committed[i])
                {
                    written++;
                    added += writers[i].Added;
                    dropped += writers[i].Evicted;
                }
                else
                {
                    pending.Add(writers[i]);
                }
            }
        }

        // 7. One classification per alert; re-delivered earlier alerts get the probabilities as of their own time.
        clock.Restart();
        var prefixes = new List<PrefixRequest>();
        var picks = new AlertPick[alerts.Count];
        for (var j = 0; j < alerts.Count; j++)
        {
            picks[j] = workOfAlert[j].Pick(alerts[j], model, prefixes);
        }

        ScorePrefixes(prefixes, model);
        scoreTime += clock.Elapsed;

        clock.Restart();
        var classified = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var outputs = new List<OutputMessage>(alerts.Count);
        for (var j = 0; j < alerts.Count; j++)
        {
            var a = alerts[j];
            var pick = picks[j];
            var probabilities = pick.Prefix is { } prefix ? prefix.Probabilities : pick.Probabilities;
            var c = new Classification(
                a.ObjectId,
                a.SourceId,
                a.AlertId != 0 ? a.AlertId : a.SourceId,
                a.Survey,
                a.Mjd,
                model.Name,
                model.Version,
                model.Classes,
                probabilities,
                pick.Observations,
                pick.Steps,
                pick.Path,
                messages[alertMessage[j]].TimestampUnixMs,
                received,
                classified);
            outputs.Add(new OutputMessage(a.ObjectId, _codec.Encode(c), c) { Source = messages[alertMessage[j]] });
        }

        var encodeTime = clock.Elapsed;
        var timings = new StageTimings(decodeTime, readTime, scoreTime, writeTime, encodeTime, total.Elapsed);
        var result = new BatchResult(messages.Count, alerts.Count, outputs, deadLetters, written, added, retries, timings) { ObservationsDropped = dropped };
        _metrics?.RecordBatch(result);
        activity?.SetTag("alertbroker.batch.alerts", alerts.Count);
        activity?.SetTag("alertbroker.batch.dead_letters", deadLetters.Count);
        return result;
    }

    private async ValueTask<DeadLetter?> DecodeAsync(InputMessage message, List<Alert> output, CancellationToken cancellationToken)
    {
        try
        {
            var pending = _decoder.DecodeAsync(message.Value, output, cancellationToken);
            var count = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
            if (count == 0)
            {
                return new DeadLetter(message, nameof(AlertErrorKind.InvalidValue), "the message holds no alert");
            }

            foreach (var a in output)
            {
                if (string.IsNullOrEmpty(a.ObjectId) || a.Survey == Survey.Unknown)
                {
                    return new DeadLetter(message, nameof(AlertErrorKind.InvalidValue), "alert without a survey or object id");
                }
            }

            return null;
        }
        catch (AlertFormatException e)
        {
            return new DeadLetter(message, e.Kind.ToString(), e.Message);
        }
        catch (Exception e) when (e is not (OperationCanceledException or SchemaLookupUnavailableException))
        {
            // Bad input must never stop the worker: anything the decoder throws is the message's fault until proven otherwise
            // (a schema registry that cannot answer now is not: the batch is retried, as for a state-store outage).
            return new DeadLetter(message, "Internal", e.GetType().Name + ": " + e.Message);
        }
    }

    private static void ScoreNewSteps(List<ObjectWork> works, ActiveModel model)
    {
        // Incremental updates (a step or two) and full re-runs (whole light curves) go in separate calls: padding costs
        // N × longest, so mixing them would make every short request pay for the longest.
        var incremental = new List<ObjectWork>();
        var full = new List<ObjectWork>();
        foreach (var w in works)
        {
            if (w.ScoreCount > 0)
            {
                (w.Path == ScoringPath.Incremental ? incremental : full).Add(w);
            }
        }

        ScoreByLength(incremental, model);
        ScoreByLength(full, model);
    }

    // Requests vary from one step to hundreds: group them by length (powers of two) so each call pads to at most twice its
    // shortest request instead of to the batch's longest light curve.
    private static void ScoreByLength(List<ObjectWork> works, ActiveModel model)
    {
        works.Sort(static (a, b) => a.ScoreCount.CompareTo(b.ScoreCount));
        var start = 0;
        for (var i = 1; i <= works.Count; i++)
        {
            if (i == works.Count || BitOperations.Log2((uint)works[i].ScoreCount) != BitOperations.Log2((uint)works[start].ScoreCount))
            {
                Score(works.GetRange(start, i - start), model);
                start = i;
            }
        }
    }

    private static void Score(List<ObjectWork> works, ActiveModel model)
    {
        if (works.Count == 0)
        {
            return;
        }

        var d = model.Scorer.Dimensions;
        var requests = new ScoringRequest[works.Count];
        var outputs = new ScoringOutput[works.Count];
        for (var i = 0; i < works.Count; i++)
        {
            var w = works[i];
            var steps = new float[w.ScoreCount * model.Encoding.StepFeatureCount];
            model.Encoding.EncodeSteps(w.Steps, w.ScoreStart, w.ReferenceMjd, double.NaN, steps);
            w.StepProbabilities = new float[w.ScoreCount * d.Classes];
            w.NewHidden = new float[d.StateSize];
            requests[i] = new ScoringRequest(steps, model.Meta, w.StartHidden);
            outputs[i] = new ScoringOutput(w.StepProbabilities, w.NewHidden);
        }

        model.Scorer.Score(requests, outputs);
        foreach (var w in works)
        {
            w.FinalProbabilities = w.StepProbabilities.AsSpan((w.ScoreCount - 1) * d.Classes, d.Classes).ToArray();
        }
    }

    private static void ScorePrefixes(List<PrefixRequest> prefixes, ActiveModel model)
    {
        if (prefixes.Count == 0)
        {
            return;
        }

        var d = model.Scorer.Dimensions;
        var requests = new ScoringRequest[prefixes.Count];
        var outputs = new ScoringOutput[prefixes.Count];
        for (var i = 0; i < prefixes.Count; i++)
        {
            var p = prefixes[i];
            var steps = new float[p.Steps * model.Encoding.StepFeatureCount];
            model.Encoding.EncodeSteps(p.Points.AsSpan(0, p.Steps), 0, p.ReferenceMjd, double.NaN, steps);
            p.AllProbabilities = new float[p.Steps * d.Classes];
            requests[i] = new ScoringRequest(steps, model.Meta, ReadOnlyMemory<float>.Empty);
            outputs[i] = new ScoringOutput(p.AllProbabilities, new float[d.StateSize]);
        }

        model.Scorer.Score(requests, outputs);
        foreach (var p in prefixes)
        {
            p.Probabilities = p.AllProbabilities.AsSpan((p.Steps - 1) * d.Classes, d.Classes).ToArray();
        }
    }

    private readonly record struct AlertPick(ScoringPath Path, int Steps, int Observations, float[] Probabilities, PrefixRequest? Prefix);

    /// <summary>Steps 0..<see cref="Steps"/> of <see cref="Points"/>, scored from no state with t₀ = <see cref="ReferenceMjd"/>.</summary>
    private sealed class PrefixRequest(Observation[] points, int steps, double referenceMjd)
    {
        public Observation[] Points { get; } = points;

        public int Steps { get; } = steps;

        public double ReferenceMjd { get; } = referenceMjd;

        public float[] AllProbabilities { get; set; } = [];

        public float[] Probabilities { get; set; } = [];
    }

    private sealed class ObjectWork(ObjectKey key)
    {
        public ObjectKey Key { get; } = key;

        public List<Alert> Alerts { get; } = new(1);

        public ObjectState Current { get; private set; } = ObjectState.Empty;

        /// <summary>The stored curve merged with the batch's points, before the per-object limit.</summary>
        public Observation[] Combined { get; private set; } = [];

        /// <summary>How many of <see cref="Combined"/>'s oldest points fall outside the limit.</summary>
        public int DroppedFront { get; private set; }

        /// <summary>The light curve to store: the newest points of <see cref="Combined"/> within the limit.</summary>
        public Observation[] Merged { get; private set; } = [];

        /// <summary>Points stored now that were not stored before.</summary>
        public int Added { get; private set; }

        /// <summary>Points left out of the stored curve by the limit in this write (its oldest; stored before or not).</summary>
        public int Evicted { get; private set; }

        public int Limit { get; private set; }

        public Observation[] Steps { get; private set; } = [];

        public double ReferenceMjd { get; private set; } = double.NaN;

        public ScoringPath Path { get; private set; }

        public int ScoreStart { get; private set; }

        public int ScoreCount { get; private set; }

        public ReadOnlyMemory<float> StartHidden { get; private set; }

        public float[] StepProbabilities { get; set; } = [];

        public float[] NewHidden { get; set; } = [];

        public float[] FinalProbabilities { get; set; } = [];

        public bool NeedsWrite => Added > 0 || Evicted > 0 || ScoreCount > 0;

        private Dictionary<(int Start, int End), PrefixRequest>? Prefixes { get; set; }

        public void Prepare(ObjectState current, ActiveModel model, int limit)
        {
            Current = current;
            Limit = limit;
            Combined = LightCurveMerge.Merge(current.Observations, Alerts, out var added);
            DroppedFront = limit > 0 && Combined.Length > limit ? Combined.Length - limit : 0;
            var windowMoved = false;
            if (DroppedFront == 0)
            {
                Merged = Combined;
                Added = added;
                Evicted = 0;
            }
            else
            {
                var kept = Combined.AsSpan(DroppedFront);
                var fresh = CountNotIn(kept, current.Observations);

                // Only re-sent old points, dropped again: the stored curve is unchanged (same points, same order).
                windowMoved = fresh > 0 || kept.Length != current.Observations.Length;
                Added = fresh;
                Evicted = windowMoved ? DroppedFront : 0;
                Merged = windowMoved ? kept.ToArray() : current.Observations;
            }

            // The model's encoding decides which points are steps (its window around t₀ included) and t₀ itself.
            Steps = model.Encoding.SelectOrderedSteps(Merged, out var referenceMjd);
            ReferenceMjd = referenceMjd;
            StepProbabilities = [];
            Prefixes = null;
            var n = Steps.Length;
            if (n == 0)
            {
                Path = ScoringPath.None;
                ScoreStart = ScoreCount = 0;
                NewHidden = [];
                FinalProbabilities = [];
                return;
            }

            // A window that lost its oldest points starts from another state: the stored hidden state does not continue it.
            // Unchanged steps reuse the stored result; new steps continue the stored state only when the model can (a graph
            // without a recurrent state, or an encoding that is not incremental-exact, re-runs the whole light curve).
            if (!windowMoved && CanContinue(current, model) && (model.IsIncremental || current.ScoredSteps == n))
            {
                ScoreStart = current.ScoredSteps;
                ScoreCount = n - ScoreStart;
                Path = ScoreCount == 0 ? ScoringPath.Cached : ScoringPath.Incremental;
                StartHidden = current.HiddenState;
                NewHidden = current.HiddenState;
                FinalProbabilities = current.Probabilities;
                return;
            }

            Path = ScoringPath.Full;
            ScoreStart = 0;
            ScoreCount = n;
            StartHidden = ReadOnlyMemory<float>.Empty;
        }

        public ObjectState BuildState(ActiveModel model, long now)
        {
            var scored = Steps.Length > 0;
            return new ObjectState
            {
                Version = Current.Version + 1,
                UpdatedUnixMs = now,
                Observations = Merged,
                ModelId = scored ? model.Id : string.Empty,
                ScoredSteps = Steps.Length,
                LastStepMjd = scored ? Steps[^1].Mjd : double.NaN,
                LastStepSourceId = scored ? Steps[^1].SourceId : 0,
                ReferenceMjd = ReferenceMjd,
                HiddenState = scored ? NewHidden : [],
                Probabilities = scored ? FinalProbabilities : [],
            };
        }

        /// <summary>
        /// The classification of one alert: the object's light curve as of the alert's time — the newest points (at most the
        /// limit) at or before it — so an alert delivered again, or in another batch, gets what it got the first time.
        /// </summary>
        public AlertPick Pick(Alert alert, ActiveModel model, List<PrefixRequest> prefixes)
        {
            // Points at or before the alert's time are a prefix of the combined curve (it is ordered by time first).
            var end = Combined.Length;
            while (end > 0 && Combined[end - 1].Mjd > alert.Mjd)
            {
                end--;
            }

            var start = Limit > 0 ? Math.Max(0, end - Limit) : 0;
            var observations = end - start;
            if (start < DroppedFront)
            {
                // The alert's window reaches back before the stored one (an earlier alert of an object over the limit).
                return PickWindow(start, end, observations, model, prefixes);
            }

            var n = Steps.Length;
            var index = n;
            while (index > 0 && Steps[index - 1].Mjd > alert.Mjd)
            {
                index--;
            }

            if (index == 0)
            {
                return new AlertPick(ScoringPath.None, 0, observations, [], null);
            }

            if (index == n)
            {
                return new AlertPick(Path, n, observations, FinalProbabilities, null);
            }

            if (ScoreCount > 0 && index - 1 >= ScoreStart)
            {
                var c = model.Classes.Length;
                return new AlertPick(Path, index, observations, StepProbabilities.AsSpan((index - 1 - ScoreStart) * c, c).ToArray(), null);
            }

            Prefixes ??= [];
            if (!Prefixes.TryGetValue((-1, index), out var prefix))
            {
                prefix = new PrefixRequest(Steps, index, ReferenceMjd);
                Prefixes.Add((-1, index), prefix);
                prefixes.Add(prefix);
            }

            return new AlertPick(ScoringPath.Prefix, index, observations, [], prefix);
        }

        private AlertPick PickWindow(int start, int end, int observations, ActiveModel model, List<PrefixRequest> prefixes)
        {
            Prefixes ??= [];
            if (!Prefixes.TryGetValue((start, end), out var prefix))
            {
                var points = model.Encoding.SelectOrderedSteps(Combined[start..end], out var pointsReference);
                if (points.Length == 0)
                {
                    return new AlertPick(ScoringPath.None, 0, observations, [], null);
                }

                prefix = new PrefixRequest(points, points.Length, pointsReference);
                Prefixes.Add((start, end), prefix);
                prefixes.Add(prefix);
            }

            return new AlertPick(ScoringPath.Prefix, prefix.Steps, observations, [], prefix);
        }

        // How many of the points (ordered, unique) are not in the stored curve (ordered, unique, same order).
        private static int CountNotIn(ReadOnlySpan<Observation> points, Observation[] stored)
        {
            int count = 0, j = 0;
            foreach (ref readonly var p in points)
            {
                while (j < stored.Length && LightCurveMerge.Compare(stored[j], p) < 0)
                {
                    j++;
                }

                if (j < stored.Length && stored[j].SourceId == p.SourceId && stored[j].Kind == p.Kind && stored[j].Mjd.Equals(p.Mjd))
                {
                    j++;
                }
                else
                {
                    count++;
                }
            }

            return count;
        }

        private bool CanContinue(ObjectState current, ActiveModel model)
        {
            var s = current.ScoredSteps;
            if (s <= 0 || s > Steps.Length || current.ModelId != model.Id
                || current.HiddenState.Length != model.Scorer.Dimensions.StateSize
                || current.Probabilities.Length != model.Classes.Length)
            {
                return false;
            }

            // An observation inserted before the last scored step shifts it: then the stored hidden state is stale. A changed
            // t₀ (an earlier detection arrived) changes every step's time feature and, with a window, which points are steps.
            ref readonly var last = ref Steps[s - 1];
            return last.Mjd.Equals(current.LastStepMjd)
                && last.SourceId == current.LastStepSourceId
                && ReferenceMjd.Equals(current.ReferenceMjd);
        }
    }
}
