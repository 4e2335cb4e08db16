using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Model.Scoring;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Enrichment;
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
/// message (failures become dead letters), group the alerts by object and route each object to its survey's model (and
/// shadow model) from the batch's <see cref="ModelSet"/>, start the metadata lookups the models need, read the objects'
/// states in one round trip (Redis metadata lookups share it), merge the new observations, score only the new steps from
/// each stored hidden state (a full re-run when the data arrived out of order, the model or its metadata changed, or no
/// state exists) — each model scoring its own objects, in one scorer call per path and length group — write the new states
/// with check-and-set in one round trip (objects that lost a race are re-read and redone), then encode one classification
/// per alert (and one shadow classification per alert of a shadowed survey).
/// A state store outage surfaces as <see cref="StateStoreUnavailableException"/> with nothing half-done that a retry of the
/// same batch would not repair: merges are idempotent.
/// </summary>
/// <remarks>
/// An alert of a survey no model of the set serves is merged into its object's state (so a model that serves the survey
/// later scores the whole light curve) and classified with scoring NONE, no model, no probabilities and a reason; it is
/// counted as <c>alertbroker.alerts.unserved</c>. An alert that is not a transient candidate (<see cref="Candidates"/>) is
/// stored and scored, and classified with scoring NONE, its model, no probabilities and the rejection as the reason.
/// </remarks>
public sealed class AlertBatchProcessor
{
    private readonly AlertDecoder _decoder;
    private readonly IObjectStateStore _store;
    private readonly Func<ModelSet> _models;
    private readonly ClassificationCodec _codec;
    private readonly TimeProvider _time;
    private readonly WorkerMetrics? _metrics;

    public AlertBatchProcessor(AlertDecoder decoder, IObjectStateStore store, Func<ModelSet> models, ClassificationCodec codec, WorkerMetrics? metrics = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(codec);
        _decoder = decoder;
        _store = store;
        _models = models;
        _codec = codec;
        _metrics = metrics;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>One model for every survey it declares (<see cref="ModelSet.Of(ActiveModel, MetadataSourceSet?)"/>).</summary>
    public AlertBatchProcessor(AlertDecoder decoder, IObjectStateStore store, Func<ActiveModel> model, ClassificationCodec codec, WorkerMetrics? metrics = null, TimeProvider? time = null)
        : this(decoder, store, SingleModel(model), codec, metrics, time)
    {
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

    /// <summary>
    /// Which alerts are transient candidates (<see cref="CandidateFilter"/>; default <see cref="CandidateFilter.Default"/>).
    /// Any other alert is stored and its steps scored as usual — the object's light curve and hidden state stay whole, so
    /// its next candidate alert is scored incrementally — but its classification (and shadow classification) is published
    /// with scoring NONE, the model, no probabilities and the rejection as its reason, and counted as
    /// <c>alertbroker.alerts.filtered</c> by survey and reason.
    /// </summary>
    public CandidateFilter Candidates { get; init; } = CandidateFilter.Default;

    /// <summary>Where shadow comparisons (candidate against active, per alert) are recorded; none when null.</summary>
    public ShadowStatisticsAccumulator? ShadowStatistics { get; init; }

    /// <summary>
    /// Score a model that requires metadata no source supplies with the values unknown (the demo and the benchmarks, which
    /// have no sources and say so), rather than withhold it (the worker: false).
    /// </summary>
    public bool ScoreUnsuppliedMetadataAsUnknown { get; init; }

    public Task<BatchResult> ProcessAsync(IReadOnlyList<InputMessage> messages, CancellationToken cancellationToken = default) =>
        ProcessAsync(messages, _models(), cancellationToken);

    /// <summary>The models the next batch would use (a caller that splits one batch into several calls takes them once).</summary>
    public ModelSet CurrentModels() => _models();

    /// <summary>
    /// Processes one batch with a given set of models: a caller that splits one logical batch into several calls (retrying
    /// messages one by one) passes the same set to each, so the batch still uses one model version per survey.
    /// </summary>
    public async Task<BatchResult> ProcessAsync(IReadOnlyList<InputMessage> messages, ModelSet models, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(models);
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
                // Counted with the batch's other figures once it is processed (RecordBatch): counted here, a batch retried
                // after a Redis outage counted its dead letters again at every try (until 2026-12-07).
                deadLetters.Add(error);
                continue;
            }

            foreach (var a in decoded)
            {
                alerts.Add(a);
                alertMessage.Add(i);
            }
        }

        var decodeTime = clock.Elapsed;

        // 2. Group by object; each object goes to its survey's model (and shadow). Whether each alert is a transient
        // candidate is known from the alert alone, except too few detections in the packet: the object's stored light
        // curve may have more (step 5). The state records it for the object's newest alert.
        var works = new Dictionary<ObjectKey, ObjectWork>(alerts.Count);
        var workOfAlert = new ObjectWork[alerts.Count];
        var fromAlerts = new CandidateRejection?[alerts.Count];
        var rejections = new CandidateRejection?[alerts.Count];
        for (var j = 0; j < alerts.Count; j++)
        {
            fromAlerts[j] = Candidates.Check(alerts[j]);
            var key = new ObjectKey(alerts[j].Survey, alerts[j].ObjectId);
            if (!works.TryGetValue(key, out var work))
            {
                var survey = ModelSet.SurveyName(key.Survey);
                work = new ObjectWork(key, survey, models.For(survey), models.ShadowFor(survey));
                works.Add(key, work);
            }

            work.Add(j, alerts[j]);
            workOfAlert[j] = work;
        }

        // 3. Metadata the models need (and shadow labels), requested now so Redis lookups travel with the state read.
        clock.Restart();
        var unsupplied = ScoreUnsuppliedMetadataAsUnknown ? null : WithholdUnsupplied(works.Values, models.Metadata);
        var lookups = StartMetadataLookups(works.Values, models.Metadata, cancellationToken);
        var metadataStart = clock.Elapsed;

        // 4–7. Read, merge, score, check-and-set write; redo the objects that lost a race.
        var pending = new List<ObjectWork>(works.Values);
        TimeSpan readTime = metadataStart, scoreTime = default, writeTime = default;
        int written = 0, added = 0, retries = 0, dropped = 0;
        List<ObjectKey>? unreadable = null;
        List<string>? metadataProblems = null;
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
            if (attempt == 0)
            {
                metadataProblems = await ApplyMetadataAsync(lookups).ConfigureAwait(false);
                if (unsupplied is not null)
                {
                    metadataProblems = [.. unsupplied, .. metadataProblems ?? []];
                }

                for (var i = 0; i < states.Length; i++)
                {
                    if (states[i] is { Unreadable: true })
                    {
                        (unreadable ??= []).Add(keys[i]);
                    }
                }
            }

            readTime += clock.Elapsed;

            clock.Restart();
            for (var i = 0; i < pending.Count; i++)
            {
                pending[i].Prepare(states[i] ?? ObjectState.Empty, MaxObservationsPerObject);
                pending[i].Vet(Candidates, fromAlerts, rejections);
            }

            ScoreNewSteps(pending);
            scoreTime += clock.Elapsed;

            clock.Restart();
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var writes = new List<StateWrite>(pending.Count);
            var writers = new List<ObjectWork>(pending.Count);
            foreach (var work in pending)
            {
                if (work.NeedsWrite)
                {
                    writes.Add(new StateWrite(work.Key, work.Current.Version, work.BuildState(now)));
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

        // 8. One classification per alert; re-delivered earlier alerts get the probabilities as of their own time (the
        // object's window as of then, with its own observation count).
        clock.Restart();
        var prefixes = new List<PrefixRequest>();
        var picks = new AlertPick[alerts.Count];
        var shadowPicks = new AlertPick[alerts.Count];
        for (var j = 0; j < alerts.Count; j++)
        {
            var work = workOfAlert[j];
            if (rejections[j] is not null)
            {
                continue;
            }

            picks[j] = work.Active?.Pick(alerts[j], prefixes) ?? default;
            shadowPicks[j] = work.Shadow?.Pick(alerts[j], prefixes) ?? default;
        }

        ScorePrefixes(prefixes);
        scoreTime += clock.Elapsed;

        clock.Restart();
        var classified = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var outputs = new List<OutputMessage>(alerts.Count);
        List<OutputMessage>? shadowOutputs = null;
        var counts = new BatchCounts();
        for (var j = 0; j < alerts.Count; j++)
        {
            var a = alerts[j];
            var work = workOfAlert[j];
            var source = messages[alertMessage[j]];
            var timestamp = source.TimestampUnixMs;
            Classification c;
            var rejection = rejections[j];
            if (work.Active is { } filtered && rejection is not null)
            {
                c = Withheld(a, filtered.Model, work, rejection, timestamp, received, classified);
                counts.Filtered(work.Survey, rejection.Kind);
            }
            else if (work.Active is { } active)
            {
                c = Checked(Scored(a, active.Model, picks[j], timestamp, received, classified), active.Model, work.Survey, counts);
            }
            else if (work.ActiveWithheld is { } held)
            {
                c = WithoutMetadata(a, held, work, timestamp, received, classified);
            }
            else
            {
                c = new Classification(a.ObjectId, a.SourceId, a.AlertId != 0 ? a.AlertId : a.SourceId, a.Survey, a.Mjd, string.Empty, string.Empty, [], [], work.ObservationsAt(a.Mjd), 0, ScoringPath.None, timestamp, received, classified)
                {
                    Reason = $"no model serves the survey {work.Survey}",
                };
                counts.Unserved(work.Survey);
            }

            outputs.Add(new OutputMessage(a.ObjectId, _codec.Encode(c), c) { Source = source });
            if (work.Shadow is { } withheldShadow && rejection is not null)
            {
                var s = Withheld(a, withheldShadow.Model, work, rejection, timestamp, received, classified);
                (shadowOutputs ??= []).Add(new OutputMessage(a.ObjectId, _codec.Encode(s), s) { Source = source });
                counts.Shadowed(work.Survey, withheldShadow.Model);
            }
            else if (work.ShadowWithheld is { } heldShadow)
            {
                var s = WithoutMetadata(a, heldShadow, work, timestamp, received, classified);
                (shadowOutputs ??= []).Add(new OutputMessage(a.ObjectId, _codec.Encode(s), s) { Source = source });
                counts.Shadowed(work.Survey, heldShadow.Model);
            }
            else if (work.Shadow is { } shadow)
            {
                var s = Checked(Scored(a, shadow.Model, shadowPicks[j], timestamp, received, classified), shadow.Model, work.Survey, counts);
                (shadowOutputs ??= []).Add(new OutputMessage(a.ObjectId, _codec.Encode(s), s) { Source = source });
                counts.Shadowed(work.Survey, shadow.Model);

                // Agreement is counted once per alert as it first arrives: a re-delivered alert (CACHED or PREFIX) is not counted again.
                if (work.Active is { } activeTrack && c.Probabilities.Length > 0 && s.Probabilities.Length > 0 && c.Scoring is ScoringPath.Incremental or ScoringPath.Full)
                {
                    var agreed = c.TopClass == s.TopClass;
                    counts.Compared(work.Survey, shadow.Model, agreed, activeTrack.Model.Classes, c.Probabilities, s.Probabilities);
                    ShadowStatistics?.Record(new ShadowPair(work.Survey, shadow.Model.ShortIdentity, activeTrack.Model.ShortIdentity), s.Classes, s.Probabilities, c.Classes, c.Probabilities, work.Label);
                }
            }
        }

        var encodeTime = clock.Elapsed;
        var timings = new StageTimings(decodeTime, readTime, scoreTime, writeTime, encodeTime, total.Elapsed);
        var result = new BatchResult(messages.Count, alerts.Count, outputs, deadLetters, written, added, retries, timings)
        {
            ShadowOutputs = shadowOutputs ?? [],
            ObservationsDropped = dropped,
            UnreadableStates = unreadable ?? [],
            MetadataProblems = metadataProblems ?? [],
        };
        _metrics?.RecordBatch(result);
        counts.Report(_metrics);
        activity?.SetTag("alertbroker.batch.alerts", alerts.Count);
        activity?.SetTag("alertbroker.batch.dead_letters", deadLetters.Count);
        return result;
    }

    // An alert scored by a model (the active or the shadow one): its probabilities, from a prefix run when it took one.
    // No step, no probabilities: the reason says why (it was null, so an alert of a candidate whose every point has a flux
    // error of 0, or lies in a band the model has no wavelength for, was published without probabilities or a word).
    private static Classification Scored(Alert a, ActiveModel model, AlertPick pick, long? timestamp, long received, long classified) =>
        new(a.ObjectId, a.SourceId, a.AlertId != 0 ? a.AlertId : a.SourceId, a.Survey, a.Mjd, model.Name, model.Version, model.Classes,
            pick.Prefix is { } prefix ? prefix.Probabilities : pick.Probabilities, pick.Observations, pick.Steps, pick.Path, timestamp, received, classified)
        {
            Reason = pick.Path == ScoringPath.None ? NoStepReason : null,
        };

    internal const string NoStepReason = "no point up to this alert is one the model scores (a finite flux with a positive error, in a band the model knows; a detections-only model takes no forced points and no detection of negative flux): no probabilities";

    // A model whose output is not a probability distribution (NaN or infinite weights, a graph that overflows on this light
    // curve): the alert keeps its model but gets no probabilities, scoring NONE and the problem as the reason, and is counted
    // (alertbroker.alerts.invalid_output). Nothing that could pass for probabilities leaves the worker, and the JSON views
    // (recent classifications) never meet a NaN.
    private static Classification Checked(Classification c, ActiveModel model, string survey, BatchCounts counts)
    {
        if (c.Probabilities.Length == 0 || ProbabilityCheck.Problem(c.Probabilities) is not { } problem)
        {
            return c;
        }

        counts.InvalidOutput(survey, model);
        return c with
        {
            Classes = [],
            Probabilities = [],
            Scoring = ScoringPath.None,
            Reason = $"the model's output is not a probability distribution ({problem}): no probabilities",
        };
    }

    // An alert that is not a transient candidate: the model that serves it, no probabilities, the rejection as the reason.
    private static Classification Withheld(Alert a, ActiveModel model, ObjectWork work, CandidateRejection rejection, long? timestamp, long received, long classified) =>
        new(a.ObjectId, a.SourceId, a.AlertId != 0 ? a.AlertId : a.SourceId, a.Survey, a.Mjd, model.Name, model.Version, [], [], work.ObservationsAt(a.Mjd), 0, ScoringPath.None, timestamp, received, classified)
        {
            Reason = rejection.Message,
            Rejection = rejection.Kind,
        };

    // An alert whose model requires a metadata source that cannot serve now: the model, no probabilities, the problem.
    private static Classification WithoutMetadata(Alert a, WithheldModel held, ObjectWork work, long? timestamp, long received, long classified) =>
        new(a.ObjectId, a.SourceId, a.AlertId != 0 ? a.AlertId : a.SourceId, a.Survey, a.Mjd, held.Model.Name, held.Model.Version, [], [], work.ObservationsAt(a.Mjd), 0, ScoringPath.None, timestamp, received, classified)
        {
            Reason = held.Reason,
        };

    private static Func<ModelSet> SingleModel(Func<ActiveModel> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        (ActiveModel Model, ModelSet Set)? last = null;
        return () =>
        {
            var m = model();
            var cached = last;
            if (cached is { } c && ReferenceEquals(c.Model, m))
            {
                return c.Set;
            }

            var set = ModelSet.Of(m);
            last = (m, set);
            return set;
        };
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

    /// <summary>
    /// Withholds a model that requires a metadata source this worker has not got (the registry's declaration changed to
    /// one that cannot be opened while the model served): its alerts are classified with scoring NONE and the reason, as
    /// for a source that cannot answer, never scored with the values unknown. Until 2026-12-07 such a model went on
    /// scoring without its host redshift while the log called its metadata "optional". The problems, or null.
    /// </summary>
    private List<string>? WithholdUnsupplied(IEnumerable<ObjectWork> works, MetadataSourceSet sources)
    {
        Dictionary<(string Survey, string Source), (string Problem, int Objects)>? withheld = null;
        foreach (var w in works)
        {
            Check(w, w.Active?.Model);
            Check(w, w.Shadow?.Model);
        }

        void Check(ObjectWork w, ActiveModel? model)
        {
            if (model is not { MetadataRequired: true })
            {
                return;
            }

            foreach (var source in model.MetadataSources)
            {
                if (!sources.Supplies(w.Survey, source))
                {
                    // The problem is made once per survey and source, not per object.
                    withheld ??= [];
                    var (problem, objects) = withheld.TryGetValue((w.Survey, source), out var seen)
                        ? seen
                        : ($"{w.Survey} metadata {source} unavailable: no source supplies it here (its declaration cannot be used; models metadata set names a usable one)", 0);
                    withheld[(w.Survey, source)] = (problem, objects + 1);
                    w.SourceUnavailable(source, problem);
                    return;
                }
            }
        }

        if (withheld is null)
        {
            return null;
        }

        foreach (var ((survey, source), (_, objects)) in withheld)
        {
            _metrics?.MetadataUnavailable(survey, source, objects);
        }

        return [.. withheld.Values.Select(v => v.Problem)];
    }

    // One lookup per (survey, source) the batch's models need, over the objects of that survey.
    private static List<MetadataLookup> StartMetadataLookups(IEnumerable<ObjectWork> works, MetadataSourceSet sources, CancellationToken cancellationToken)
    {
        var lookups = new List<MetadataLookup>();
        if (sources.IsEmpty)
        {
            return lookups;
        }

        var bySource = new Dictionary<(string Survey, string Source), List<ObjectWork>>();
        foreach (var w in works)
        {
            var needed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var track in w.Tracks)
            {
                needed.UnionWith(track.Model.MetadataSources);
            }

            if (w.Shadow is not null)
            {
                needed.Add(MetadataSourceDeclaration.LabelSource);
            }

            foreach (var source in needed)
            {
                if (sources.Supplies(w.Survey, source))
                {
                    if (!bySource.TryGetValue((w.Survey, source), out var list))
                    {
                        list = [];
                        bySource[(w.Survey, source)] = list;
                    }

                    list.Add(w);
                }
            }
        }

        foreach (var ((survey, source), list) in bySource)
        {
            var ids = new string[list.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = list[i].Key.ObjectId;
            }

            var results = new string?[ids.Length];
            lookups.Add(new MetadataLookup(survey, source, list, results, sources.Get(survey, source)!.LookupAsync(ids, results, cancellationToken)));
        }

        return lookups;
    }

    // The problems of sources that answered but cannot serve (null when none).
    private async Task<List<string>?> ApplyMetadataAsync(List<MetadataLookup> lookups)
    {
        if (lookups.Count > 0)
        {
            try
            {
                await Task.WhenAll(lookups.Select(l => l.Pending)).ConfigureAwait(false);
            }
            catch (MetadataSourceException)
            {
                // Handled per lookup below; another lookup's outage still fails the batch (it is retried).
                foreach (var l in lookups)
                {
                    if (l.Pending.Exception?.InnerException is { } other and not MetadataSourceException)
                    {
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(other);
                    }

                    if (l.Pending.IsCanceled)
                    {
                        throw new OperationCanceledException();
                    }
                }
            }
        }

        List<string>? problems = null;
        foreach (var lookup in lookups)
        {
            if (lookup.Pending.Exception?.InnerException is MetadataSourceException unusable)
            {
                // A Redis hash that is another program's key, or one the worker's user may not read: retrying cannot help
                // (the batch was retried for ever and the partition stopped). Its values are unknown for this batch; a model
                // that requires the source is not fed "unknown" but withheld (its alerts stored, scoring NONE, the reason).
                var problem = $"{lookup.Survey} metadata {lookup.Source} unavailable: {unusable.Message}";
                (problems ??= []).Add(problem);
                foreach (var w in lookup.Works)
                {
                    w.SourceUnavailable(lookup.Source, problem);
                }

                _metrics?.MetadataUnavailable(lookup.Survey, lookup.Source, lookup.Works.Count);
                continue;
            }

            int found = 0, invalid = 0;
            for (var i = 0; i < lookup.Works.Count; i++)
            {
                var text = lookup.Results[i];
                if (lookup.Source == MetadataSourceDeclaration.LabelSource)
                {
                    lookup.Works[i].Label = text;
                    found += text is null ? 0 : 1;
                    continue;
                }

                var value = MetadataSourceSet.ParseValue(lookup.Source, text, out var bad);
                invalid += bad ? 1 : 0;
                found += double.IsFinite(value) ? 1 : 0;
                lookup.Works[i].SetMetadata(lookup.Source, value);
            }

            _metrics?.MetadataLookups(lookup.Survey, lookup.Source, found, lookup.Works.Count - found - invalid, invalid);
        }

        return problems;
    }

    // Each model scores its own objects: per model, incremental updates (a step or two) and full re-runs (whole light
    // curves) go in separate calls, because padding costs N × longest and mixing them would make every short request pay
    // for the longest.
    private static void ScoreNewSteps(List<ObjectWork> works)
    {
        var byModel = new Dictionary<ActiveModel, (List<ScoreTrack> Incremental, List<ScoreTrack> Full)>(ReferenceEqualityComparer.Instance);
        foreach (var w in works)
        {
            foreach (var track in w.Tracks)
            {
                if (track.ScoreCount == 0)
                {
                    continue;
                }

                if (!byModel.TryGetValue(track.Model, out var lists))
                {
                    lists = ([], []);
                    byModel[track.Model] = lists;
                }

                (track.Path == ScoringPath.Incremental ? lists.Incremental : lists.Full).Add(track);
            }
        }

        foreach (var (model, (incremental, full)) in byModel)
        {
            ScoreByLength(incremental, model);
            ScoreByLength(full, model);
        }
    }

    // Requests vary from one step to hundreds: group them by length (powers of two) so each call pads to at most twice its
    // shortest request instead of to the batch's longest light curve.
    private static void ScoreByLength(List<ScoreTrack> tracks, ActiveModel model)
    {
        tracks.Sort(static (a, b) => a.ScoreCount.CompareTo(b.ScoreCount));
        var start = 0;
        for (var i = 1; i <= tracks.Count; i++)
        {
            if (i == tracks.Count || BitOperations.Log2((uint)tracks[i].ScoreCount) != BitOperations.Log2((uint)tracks[start].ScoreCount))
            {
                Score(tracks.GetRange(start, i - start), model);
                start = i;
            }
        }
    }

    private static void Score(List<ScoreTrack> tracks, ActiveModel model)
    {
        if (tracks.Count == 0)
        {
            return;
        }

        var d = model.Scorer.Dimensions;
        var requests = new ScoringRequest[tracks.Count];
        var outputs = new ScoringOutput[tracks.Count];
        for (var i = 0; i < tracks.Count; i++)
        {
            var t = tracks[i];
            var steps = new float[t.ScoreCount * model.Encoding.StepFeatureCount];
            model.Encoding.EncodeSteps(t.Steps, t.ScoreStart, t.ReferenceMjd, t.Redshift, steps);
            t.StepProbabilities = new float[t.ScoreCount * d.Classes];
            t.NewHidden = new float[d.StateSize];
            requests[i] = new ScoringRequest(steps, t.Meta, t.StartHidden);
            outputs[i] = new ScoringOutput(t.StepProbabilities, t.NewHidden);
        }

        model.Scorer.Score(requests, outputs);
        foreach (var t in tracks)
        {
            t.FinalProbabilities = t.StepProbabilities.AsSpan((t.ScoreCount - 1) * d.Classes, d.Classes).ToArray();
        }
    }

    private static void ScorePrefixes(List<PrefixRequest> prefixes)
    {
        if (prefixes.Count == 0)
        {
            return;
        }

        foreach (var group in prefixes.GroupBy(p => p.Track.Model, ReferenceEqualityComparer.Instance))
        {
            var model = (ActiveModel)group.Key!;
            var list = group.ToList();
            var d = model.Scorer.Dimensions;
            var requests = new ScoringRequest[list.Count];
            var outputs = new ScoringOutput[list.Count];
            for (var i = 0; i < list.Count; i++)
            {
                var p = list[i];
                var steps = new float[p.Steps * model.Encoding.StepFeatureCount];
                model.Encoding.EncodeSteps(p.Points.AsSpan(0, p.Steps), 0, p.ReferenceMjd, p.Track.Redshift, steps);
                p.AllProbabilities = new float[p.Steps * d.Classes];
                requests[i] = new ScoringRequest(steps, p.Track.Meta, ReadOnlyMemory<float>.Empty);
                outputs[i] = new ScoringOutput(p.AllProbabilities, new float[d.StateSize]);
            }

            model.Scorer.Score(requests, outputs);
            foreach (var p in list)
            {
                p.Probabilities = p.AllProbabilities.AsSpan((p.Steps - 1) * d.Classes, d.Classes).ToArray();
            }
        }
    }

    private sealed record MetadataLookup(string Survey, string Source, List<ObjectWork> Works, string?[] Results, Task Pending);

    // A model left out for an object in this batch, and why.
    private sealed record WithheldModel(ActiveModel Model, string Reason);

    private readonly record struct AlertPick(ScoringPath Path, int Steps, int Observations, float[] Probabilities, PrefixRequest? Prefix);

    /// <summary>
    /// Steps 0..<see cref="Steps"/> of <see cref="Points"/>, scored by the track's model from no state with t₀ =
    /// <see cref="ReferenceMjd"/> (and the track's metadata).
    /// </summary>
    private sealed class PrefixRequest(ScoreTrack track, Observation[] points, int steps, double referenceMjd)
    {
        public ScoreTrack Track { get; } = track;

        public Observation[] Points { get; } = points;

        public int Steps { get; } = steps;

        public double ReferenceMjd { get; } = referenceMjd;

        public float[] AllProbabilities { get; set; } = [];

        public float[] Probabilities { get; set; } = [];
    }

    /// <summary>Per-batch tallies for the metrics (added once per batch, not per alert).</summary>
    private sealed class BatchCounts
    {
        private Dictionary<string, long>? _unserved;
        private Dictionary<(string Survey, CandidateRejectionKind Kind), long>? _filtered;
        private Dictionary<(string Survey, ActiveModel Model), ShadowTally>? _shadow;
        private Dictionary<(string Survey, ActiveModel Model), long>? _invalid;

        public void Unserved(string survey)
        {
            _unserved ??= new(StringComparer.Ordinal);
            _unserved[survey] = _unserved.GetValueOrDefault(survey) + 1;
        }

        public void Filtered(string survey, CandidateRejectionKind kind)
        {
            _filtered ??= [];
            var key = (survey, kind);
            _filtered[key] = _filtered.GetValueOrDefault(key) + 1;
        }

        public void Shadowed(string survey, ActiveModel model) => Tally(survey, model).Classified++;

        public void InvalidOutput(string survey, ActiveModel model)
        {
            _invalid ??= [];
            var key = (survey, model);
            _invalid[key] = _invalid.GetValueOrDefault(key) + 1;
        }

        public void Compared(string survey, ActiveModel shadow, bool agreed, string[] activeClasses, float[] active, float[] candidate)
        {
            var t = Tally(survey, shadow);
            t.Compared++;
            t.Agreed += agreed ? 1 : 0;
            for (var i = 0; i < shadow.Classes.Length; i++)
            {
                var k = Array.IndexOf(activeClasses, shadow.Classes[i]);
                if (k >= 0)
                {
                    t.AbsDiff[i] += Math.Abs(candidate[i] - active[k]);
                }
            }
        }

        public void Report(WorkerMetrics? metrics)
        {
            if (metrics is null)
            {
                return;
            }

            if (_filtered is not null)
            {
                foreach (var ((survey, kind), n) in _filtered)
                {
                    metrics.Filtered(survey, CandidateFilter.Tag(kind), n);
                }
            }

            if (_unserved is not null)
            {
                foreach (var (survey, n) in _unserved)
                {
                    metrics.Unserved(survey, n);
                }
            }

            if (_invalid is not null)
            {
                foreach (var ((survey, model), n) in _invalid)
                {
                    metrics.InvalidOutput(survey, model.Name, model.Version, n);
                }
            }

            if (_shadow is not null)
            {
                foreach (var ((survey, model), t) in _shadow)
                {
                    metrics.Shadow(survey, model.Name, model.Version, model.Classes, t.Classified, t.Compared, t.Agreed, t.AbsDiff);
                }
            }
        }

        private ShadowTally Tally(string survey, ActiveModel model)
        {
            _shadow ??= [];
            if (!_shadow.TryGetValue((survey, model), out var t))
            {
                t = new ShadowTally(model.Classes.Length);
                _shadow[(survey, model)] = t;
            }

            return t;
        }

        private sealed class ShadowTally(int classes)
        {
            public long Classified { get; set; }

            public long Compared { get; set; }

            public long Agreed { get; set; }

            public double[] AbsDiff { get; } = new double[classes];
        }
    }

    /// <summary>
    /// One model's scoring of one object in this batch: the active model's, or the shadow model's. The model's encoding
    /// decides which of the object's points are steps and t₀, so each track has its own steps.
    /// </summary>
    private sealed class ScoreTrack(ObjectWork work, ActiveModel model, bool shadow)
    {
        public ObjectWork Work { get; } = work;

        public ActiveModel Model { get; } = model;

        public bool IsShadow { get; } = shadow;

        /// <summary>The metadata vector this model gets for the object (the all-unknown one until metadata is applied).</summary>
        public float[] Meta { get; private set; } = model.Meta;

        /// <summary>The redshift that dilates the step times (NaN: observer frame).</summary>
        public double Redshift { get; private set; } = double.NaN;

        /// <summary>The identity stored with the hidden state: the model's, plus the metadata when any is known.</summary>
        public string StateId { get; private set; } = model.Id;

        public Observation[] Steps { get; private set; } = [];

        public double ReferenceMjd { get; private set; } = double.NaN;

        public ScoringPath Path { get; private set; }

        public int ScoreStart { get; private set; }

        public int ScoreCount { get; private set; }

        public ReadOnlyMemory<float> StartHidden { get; private set; }

        public float[] StepProbabilities { get; set; } = [];

        public float[] NewHidden { get; set; } = [];

        public float[] FinalProbabilities { get; set; } = [];

        private Dictionary<(int Start, int End), PrefixRequest>? Prefixes { get; set; }

        public void ApplyMetadata(Func<string, double> valueOfSource)
        {
            if (!Model.RequiresMetadata)
            {
                return;
            }

            var meta = new float[Model.Meta.Length];
            if (Model.EncodeMetadata(valueOfSource, meta, out var redshift))
            {
                // A state computed with other metadata (or none) is not continued: the identity carries the values.
                Meta = meta;
                Redshift = redshift;
                StateId = Model.Id + "|meta=" + string.Join(",", meta.Select(static f => f.ToString("R", CultureInfo.InvariantCulture)));
            }
        }

        public void Prepare(ScoreState? stored, bool windowMoved)
        {
            // The model's encoding decides which points are steps (its window around t₀ included) and t₀ itself.
            Steps = Model.Encoding.SelectOrderedSteps(Work.Merged, out var referenceMjd);
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
            if (!windowMoved && stored is not null && CanContinue(stored) && (Model.IsIncremental || stored.ScoredSteps == n))
            {
                ScoreStart = stored.ScoredSteps;
                ScoreCount = n - ScoreStart;
                Path = ScoreCount == 0 ? ScoringPath.Cached : ScoringPath.Incremental;
                StartHidden = stored.HiddenState;
                NewHidden = stored.HiddenState;
                FinalProbabilities = stored.Probabilities;
                return;
            }

            Path = ScoringPath.Full;
            ScoreStart = 0;
            ScoreCount = n;
            StartHidden = ReadOnlyMemory<float>.Empty;
        }

        public ScoreState? BuildState() =>
            Steps.Length == 0
                ? null
                : new ScoreState
                {
                    ModelId = StateId,
                    ScoredSteps = Steps.Length,
                    LastStepMjd = Steps[^1].Mjd,
                    LastStepSourceId = Steps[^1].SourceId,
                    ReferenceMjd = ReferenceMjd,
                    HiddenState = NewHidden,
                    Probabilities = FinalProbabilities,
                };

        /// <summary>
        /// The classification of one alert: the object's light curve as of the alert's time — the newest points (at most the
        /// limit) at or before it — so an alert delivered again, or in another batch, gets what it got the first time.
        /// </summary>
        public AlertPick Pick(Alert alert, List<PrefixRequest> prefixes)
        {
            var (start, end) = Work.WindowAt(alert.Mjd);
            var observations = end - start;
            if (start < Work.DroppedFront)
            {
                // The alert's window reaches back before the stored one (an earlier alert of an object over the limit).
                return PickWindow(start, end, observations, prefixes);
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
                var c = Model.Classes.Length;
                return new AlertPick(Path, index, observations, StepProbabilities.AsSpan((index - 1 - ScoreStart) * c, c).ToArray(), null);
            }

            Prefixes ??= [];
            if (!Prefixes.TryGetValue((-1, index), out var prefix))
            {
                prefix = new PrefixRequest(this, Steps, index, ReferenceMjd);
                Prefixes.Add((-1, index), prefix);
                prefixes.Add(prefix);
            }

            return new AlertPick(ScoringPath.Prefix, index, observations, [], prefix);
        }

        private AlertPick PickWindow(int start, int end, int observations, List<PrefixRequest> prefixes)
        {
            Prefixes ??= [];
            if (!Prefixes.TryGetValue((start, end), out var prefix))
            {
                var points = Model.Encoding.SelectOrderedSteps(Work.Combined[start..end], out var pointsReference);
                if (points.Length == 0)
                {
                    return new AlertPick(ScoringPath.None, 0, observations, [], null);
                }

                prefix = new PrefixRequest(this, points, points.Length, pointsReference);
                Prefixes.Add((start, end), prefix);
                prefixes.Add(prefix);
            }

            return new AlertPick(ScoringPath.Prefix, prefix.Steps, observations, [], prefix);
        }

        private bool CanContinue(ScoreState stored)
        {
            var s = stored.ScoredSteps;
            if (s <= 0 || s > Steps.Length || stored.ModelId != StateId
                || stored.HiddenState.Length != Model.Scorer.Dimensions.StateSize
                || stored.Probabilities.Length != Model.Classes.Length)
            {
                return false;
            }

            // An observation inserted before the last scored step shifts it: then the stored hidden state is stale. A changed
            // t₀ (an earlier detection arrived) changes every step's time feature and, with a window, which points are steps.
            ref readonly var last = ref Steps[s - 1];
            return last.Mjd.Equals(stored.LastStepMjd)
                && last.SourceId == stored.LastStepSourceId
                && ReferenceMjd.Equals(stored.ReferenceMjd);
        }
    }

    private sealed class ObjectWork
    {
        private Dictionary<string, double>? _metadata;

        public ObjectWork(ObjectKey key, string survey, ActiveModel? active, ActiveModel? shadow)
        {
            Key = key;
            Survey = survey;
            Active = active is null ? null : new ScoreTrack(this, active, shadow: false);

            // A shadow only runs beside an active model (its statistics compare the two).
            Shadow = shadow is null || active is null ? null : new ScoreTrack(this, shadow, shadow: true);
            Tracks = Active is null ? [] : Shadow is null ? [Active] : [Active, Shadow];
        }

        public ObjectKey Key { get; }

        public string Survey { get; }

        public ScoreTrack? Active { get; private set; }

        public ScoreTrack? Shadow { get; private set; }

        public ScoreTrack[] Tracks { get; private set; }

        /// <summary>The active model left out because a metadata source it requires cannot serve (see <see cref="SourceUnavailable"/>).</summary>
        public WithheldModel? ActiveWithheld { get; private set; }

        /// <summary>The shadow model left out for the same reason.</summary>
        public WithheldModel? ShadowWithheld { get; private set; }

        /// <summary>
        /// <paramref name="source"/> cannot serve in this batch: a model that requires it is left out, as for a survey no model
        /// serves (the light curve stored, the last scoring state kept, so the object is continued or re-run once the source
        /// serves again), and its alerts are classified with scoring NONE and <paramref name="problem"/>. Called before
        /// <see cref="Prepare"/>. A model whose metadata is optional keeps scoring, with the source's values unknown.
        /// </summary>
        public void SourceUnavailable(string source, string problem)
        {
            if (Active is { } active && active.Model.MetadataRequired && active.Model.MetadataSources.Contains(source))
            {
                ActiveWithheld = new WithheldModel(active.Model, problem);

                // A shadow only runs beside an active model.
                ShadowWithheld = Shadow is { } beside ? new WithheldModel(beside.Model, problem) : ShadowWithheld;
                Active = null;
                Shadow = null;
                Tracks = [];
            }
            else if (Shadow is { } shadow && shadow.Model.MetadataRequired && shadow.Model.MetadataSources.Contains(source))
            {
                ShadowWithheld = new WithheldModel(shadow.Model, problem);
                Shadow = null;
                Tracks = Active is null ? [] : [Active];
            }
        }

        /// <summary>The object's class label (shadow statistics), when a label source has one.</summary>
        public string? Label { get; set; }

        public List<Alert> Alerts { get; } = new(1);

        // Each alert's index in the batch.
        private readonly List<int> _indices = new(1);

        // The batch's newest alert of the object (the last of equal times) and why it is withheld ("" when it is not).
        private double _newestMjd = double.NaN;
        private string _newestWithheld = string.Empty;

        public void Add(int index, Alert alert)
        {
            Alerts.Add(alert);
            _indices.Add(index);
        }

        /// <summary>
        /// Each alert's final candidate check, after <see cref="Prepare"/>: an alert whose packet carries too few detections
        /// is checked again counting the object's detections up to its time in the merged light curve (a ZTF packet holds
        /// 30 days; the stored curve may have more). Also what the state records for the newest alert.
        /// </summary>
        public void Vet(CandidateFilter filter, CandidateRejection?[] fromAlerts, CandidateRejection?[] rejections)
        {
            _newestMjd = double.NaN;
            _newestWithheld = string.Empty;
            for (var k = 0; k < Alerts.Count; k++)
            {
                var alert = Alerts[k];
                var j = _indices[k];
                var rejection = fromAlerts[j];
                if (rejection is { Kind: CandidateRejectionKind.TooFewDetections })
                {
                    rejection = filter.Check(alert, DetectionsAt(alert.Mjd));
                }

                rejections[j] = rejection;
                if (!(alert.Mjd < _newestMjd))
                {
                    _newestMjd = alert.Mjd;
                    // The messages are short (numbers and fixed words); bounded anyway, far inside the record's u16 length.
                    _newestWithheld = rejection?.Message is { } m ? (m.Length > 300 ? m[..300] : m) : string.Empty;
                }
            }
        }

        /// <summary>
        /// How many detections of positive flux the merged light curve has at or before <paramref name="mjd"/>: those a
        /// model is fed (a negative one counted, so "N detections" could mean fewer steps).
        /// </summary>
        private int DetectionsAt(double mjd)
        {
            var n = 0;
            foreach (ref readonly var o in Combined.AsSpan())
            {
                if (o.Mjd > mjd)
                {
                    break;
                }

                if (o.IsPositiveDetection)
                {
                    n++;
                }
            }

            return n;
        }

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

        public bool NeedsWrite => Added > 0 || Evicted > 0 || (Active?.ScoreCount ?? 0) > 0 || (Shadow?.ScoreCount ?? 0) > 0;

        public void SetMetadata(string source, double value)
        {
            _metadata ??= new(StringComparer.Ordinal);
            _metadata[source] = value;
            foreach (var track in Tracks)
            {
                track.ApplyMetadata(s => _metadata.GetValueOrDefault(s, double.NaN));
            }
        }

        /// <summary>The alert's window in <see cref="Combined"/>: the newest points (at most the limit) at or before its time.</summary>
        public (int Start, int End) WindowAt(double mjd)
        {
            // Points at or before the alert's time are a prefix of the combined curve (it is ordered by time first).
            var end = Combined.Length;
            while (end > 0 && Combined[end - 1].Mjd > mjd)
            {
                end--;
            }

            return (Limit > 0 ? Math.Max(0, end - Limit) : 0, end);
        }

        /// <summary>How many observations the object had as of <paramref name="mjd"/> (within the limit).</summary>
        public int ObservationsAt(double mjd)
        {
            var (start, end) = WindowAt(mjd);
            return end - start;
        }

        public void Prepare(ObjectState current, int limit)
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

            Active?.Prepare(
                new ScoreState
                {
                    ModelId = current.ModelId,
                    ScoredSteps = current.ScoredSteps,
                    LastStepMjd = current.LastStepMjd,
                    LastStepSourceId = current.LastStepSourceId,
                    ReferenceMjd = current.ReferenceMjd,
                    HiddenState = current.HiddenState,
                    Probabilities = current.Probabilities,
                },
                windowMoved);
            Shadow?.Prepare(current.Shadow, windowMoved);
        }

        public ObjectState BuildState(long now)
        {
            var c = Current;
            var state = new ObjectState
            {
                Version = c.Version + 1,
                UpdatedUnixMs = now,
                Observations = Merged,

                // No model serves the survey: the light curve is kept, the last scoring state is left as it was.
                ModelId = c.ModelId,
                ScoredSteps = c.ScoredSteps,
                LastStepMjd = c.LastStepMjd,
                LastStepSourceId = c.LastStepSourceId,
                ReferenceMjd = c.ReferenceMjd,
                HiddenState = c.HiddenState,
                Probabilities = c.Probabilities,
                Shadow = Shadow?.BuildState(),

                // An alert older than the stored newest one (a re-delivery, a late alert) leaves the record as it was.
                NewestAlertMjd = c.NewestAlertMjd > _newestMjd ? c.NewestAlertMjd : _newestMjd,
                NewestAlertWithheld = c.NewestAlertMjd > _newestMjd ? c.NewestAlertWithheld : _newestWithheld,
            };
            if (Active is null)
            {
                return state;
            }

            var active = Active.BuildState();
            return state with
            {
                ModelId = active?.ModelId ?? string.Empty,
                ScoredSteps = Active.Steps.Length,
                LastStepMjd = active?.LastStepMjd ?? double.NaN,
                LastStepSourceId = active?.LastStepSourceId ?? 0,
                ReferenceMjd = Active.ReferenceMjd,
                HiddenState = active?.HiddenState ?? [],
                Probabilities = active?.Probabilities ?? [],
            };
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
    }
}
