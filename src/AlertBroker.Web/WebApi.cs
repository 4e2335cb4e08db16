using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;
using AlertBroker.Registry;
using AlertBroker.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Web;

/// <summary>
/// The read-only JSON API behind every page (<c>docs/web.md</c>): only GET (and HEAD) is mapped, every answer is JSON
/// (or server-sent events of JSON), errors included (<c>{"error": "…"}</c>: 400, 404, 405, and 503 for a source that is
/// down).
/// </summary>
internal static class WebApi
{
    public const int MaxObjectIdLength = Alert.MaxObjectIdLength;

    /// <summary>The most recent classifications one request may ask for (<c>/api/objects/recent?limit=</c>).</summary>
    public const int MaxRecent = 1000;

    /// <summary>The newest audit records <c>/api/models</c> answers (the trail grows without bound).</summary>
    public const int MaxAuditRecords = 200;

    /// <summary>The <c>Retry-After</c> of a refused overview stream (all <see cref="WebSources.MaxStreamClients"/> slots taken).</summary>
    public const int StreamRetryAfterSeconds = 30;

    /// <summary>The methods every page, asset and API route answers (HEAD as GET without the body); any other is 405.</summary>
    public static readonly string[] ReadMethods = [HttpMethods.Get, HttpMethods.Head];

    private const string AllowedMethods = "GET, HEAD";

    /// <summary>Heartbeats newer than this count as live workers on the models page.</summary>
    public static readonly TimeSpan LiveWorker = TimeSpan.FromSeconds(60);

    // Never fail a response on a NaN that slipped through (a model's metrics, say): it is written as null, "undefined"
    // (FigureJson; until 2026-12-07 as the string "NaN", which a page's number formatting then printed as text).
    public static readonly JsonSerializerOptions Json = new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    }.WithFigures();

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.CacheControl = "no-store";
            try
            {
                return await next(context).ConfigureAwait(false);
            }
            catch (Exception e) when (IsSourceFailure(e))
            {
                Log.SourceFailed(Logger(context.HttpContext), context.HttpContext.Request.Path, e.Message);
                var error = await SourceErrorAsync(e, context.HttpContext.RequestServices.GetService<WebSources>()).ConfigureAwait(false);
                return Results.Json(new ErrorDto(error), Json, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A bug or a record no writer makes: the framework answered an empty 500 (no JSON, none of these headers).
                Log.Unexpected(Logger(context.HttpContext), context.HttpContext.Request.Path, e);
                return Results.Json(new ErrorDto(InternalError), Json, statusCode: StatusCodes.Status500InternalServerError);
            }
        });
        api.MapMethods("/overview", ReadMethods, async (WebSources s, IHostApplicationLifetime life, CancellationToken ct) =>
            Results.Json((await s.Overview.GetAsync(life.ApplicationStopping, ct).ConfigureAwait(false)).Overview, Json));
        api.MapMethods("/overview/stream", ReadMethods, (WebSources s, IHostApplicationLifetime life, HttpContext context) =>
        {
            if (HttpMethods.IsHead(context.Request.Method))
            {
                // A HEAD gets the stream's headers only: a stream that writes nowhere would run until the connection closes.
                return Results.Text(string.Empty, "text/event-stream");
            }

            if (s.TryOpenStream() is not { } slot)
            {
                // EventSource gives up on a 503 (it reconnects only after a network error); the page then polls /api/overview.
                context.Response.Headers.RetryAfter = StreamRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Results.Json(
                    new ErrorDto($"too many live overview streams open ({s.MaxStreamClients}, AlertBroker:Web:MaxStreamClients): poll /api/overview instead, or retry later"),
                    Json,
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            // Freed when the request ends, however it ends (the client goes, the server stops, the stream never started).
            context.Response.RegisterForDispose(slot);
            return TypedResults.ServerSentEvents(StreamOverviewAsync(s, Logger(context), life.ApplicationStopping, context.RequestAborted), eventType: "overview");
        });
        api.MapMethods("/models", ReadMethods, async (WebSources s, CancellationToken ct) => Results.Json(await ModelsAsync(s, ct).ConfigureAwait(false), Json));
        api.MapMethods("/objects/recent", ReadMethods, async (WebSources s, HttpRequest request, CancellationToken ct) =>
        {
            // Read here rather than bound as int?: a value that is not a number would otherwise answer 400 with no body at
            // all; and not bound as string: a repeated limit with one empty value (?limit=5&limit=) was bound as "5".
            var limits = request.Query["limit"];
            var limit = limits.Count == 0 ? null : limits.Count == 1 ? limits[0] ?? string.Empty : string.Empty;
            var count = 100;
            if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxRecent))
            {
                return Results.Json(new ErrorDto($"limit must be a whole number from 1 to {MaxRecent}"), Json, statusCode: StatusCodes.Status400BadRequest);
            }

            if (s.Recent is RedisRecentSource)
            {
                // serve's list lives beside the states; a worker's own list is in its memory and answers without Redis.
                s.ThrowIfStoreDisconnected();
            }

            var items = await s.Recent.LatestAsync(count, ct).ConfigureAwait(false);
            return Results.Json(new RecentDto(s.Recent.Description, items), Json);
        });
        api.MapMethods("/objects/search", ReadMethods, async (WebSources s, HttpRequest request, CancellationToken ct) =>
        {
            // Read here rather than bound as string: a repeated q (?q=a&q=b) was bound as "a,b" and searched for that.
            var q = request.Query["q"];
            return q.Count > 1
                ? Results.Json(new ErrorDto("give q once (one object id per search)"), Json, statusCode: StatusCodes.Status400BadRequest)
                : await SearchAsync(s, q.ToString(), ct).ConfigureAwait(false);
        });
        api.MapMethods("/objects/{survey}/{objectId}", ReadMethods, async (WebSources s, HttpContext context, string survey, string objectId, CancellationToken ct) => await ObjectAsync(s, survey, ObjectIdSegment(context, objectId), ct).ConfigureAwait(false));
        api.MapMethods("/objects/{survey}/{objectId}/history", ReadMethods, async (WebSources s, HttpContext context, string survey, string objectId, CancellationToken ct) => await HistoryAsync(s, survey, ObjectIdSegment(context, objectId), ct).ConfigureAwait(false));

        // Everything else under /api, any method: the routes above win wherever they match (a catch-all has the lowest
        // precedence), so this answers unknown routes (404) and methods that change state (405, on any route: the API is
        // read-only) with the same JSON error and headers, where the framework would answer an empty body.
        api.Map("/{**rest}", (HttpContext context) =>
        {
            if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            {
                return Results.Json(new ErrorDto("no such API route (docs/web.md lists them)"), Json, statusCode: StatusCodes.Status404NotFound);
            }

            context.Response.Headers.Allow = AllowedMethods;
            return Results.Json(new ErrorDto("the API is read-only: only GET and HEAD are allowed"), Json, statusCode: StatusCodes.Status405MethodNotAllowed);
        });
    }

    public static async Task<OverviewDto> OverviewAsync(WebSources s, CancellationToken ct)
    {
        s.ThrowIfRegistryDisconnected();
        var numbers = await s.Statistics.ReadAsync(ct).ConfigureAwait(false);
        var notes = new List<string>();
        var models = await SurveyModelsAsync(s, ct).ConfigureAwait(false);
        var rows = numbers.Select(n => new WorkerRowDto(
            n.WorkerId,
            n.Model,
            n.Utc,
            n.Summary?.AlertsPerSecond,
            n.Summary?.Alerts,
            n.Summary?.LatencyP50Ms,
            n.Summary?.LatencyP99Ms,
            n.Summary?.ConsumerLag,
            n.Summary is null ? null : Total(n.Summary.DeadLetters.Values),
            n.LastError)).ToList();
        if (s.Statistics.Kind == "worker" && numbers.Count == 1 && numbers[0].Full is { } full)
        {
            return new OverviewDto(
                "worker",
                full.Utc,
                1,
                full.Alerts,
                full.Classifications,
                full.Withheld,
                full.AlertsPerSecond,
                full.AlertsPerSecondMinute,
                full.PeakAlertsPerSecond,
                new LatencyDto(full.Latency.P50, full.Latency.P90, full.Latency.P99, full.Latency.Samples),
                new LatencyDto(full.Batch.P50, full.Batch.P90, full.Batch.P99, full.Batch.Samples),
                full.DeadLetters,
                new LagDto(full.ConsumerLag, full.Partitions),
                full.Throughput,
                models,
                rows,
                notes)
            { RefreshSeconds = s.RefreshSeconds };
        }

        var reporting = numbers.Where(n => n.Summary is not null).Select(n => n.Summary!).ToList();
        if (s.Registry is null)
        {
            notes.Add("No model registry is configured: the fleet's numbers come from the workers' registry heartbeats (start serve with --model-registry-redis or --model-registry-dir).");
        }
        else if (reporting.Count == 0)
        {
            notes.Add($"No worker reported its numbers in the last {HeartbeatStatisticsSource.MaxAge.TotalSeconds:F0} s (workers that follow the registry report them in their heartbeats every 5 s).");
        }
        else
        {
            notes.Add($"{reporting.Count} worker(s) reporting; latency percentiles are the highest of the workers' own.");
        }

        var dead = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var r in reporting)
        {
            foreach (var (kind, count) in r.DeadLetters)
            {
                dead[kind] = Add(dead.GetValueOrDefault(kind), count);
            }
        }

        return new OverviewDto(
            "heartbeats",
            DateTimeOffset.UtcNow,
            reporting.Count,
            Total(reporting.Select(r => r.Alerts)),
            Total(reporting.Select(r => r.Classifications)),
            Total(reporting.Select(r => r.Withheld)),
            reporting.Sum(r => r.AlertsPerSecond),
            reporting.Sum(r => r.AlertsPerSecondMinute),
            null,
            new LatencyDto(Max(reporting.Select(r => r.LatencyP50Ms)), Max(reporting.Select(r => r.LatencyP90Ms)), Max(reporting.Select(r => r.LatencyP99Ms)), (int)Math.Clamp(Total(reporting.Select(r => (long)r.LatencySamples)), int.MinValue, int.MaxValue)),
            null,
            dead,
            new LagDto(Total(reporting.Select(r => r.ConsumerLag)), []),
            [],
            models,
            rows,
            notes)
        { RefreshSeconds = s.RefreshSeconds };
    }

    public static async Task<ModelsDto> ModelsAsync(WebSources s, CancellationToken ct)
    {
        var notes = new List<string>();
        var local = s.Models.ListDirectoryPackages().Select(p => new LocalPackageDto(p.Name, p.Version, p.Sha256, p.Directory)).ToList();
        if (s.Registry is null)
        {
            var serving = FixedSurveyModels(s);
            notes.Add(serving.Count == 0
                ? "No model registry is configured."
                : "No model registry is configured: the worker runs fixed models (" + string.Join(", ", serving.Select(kv => kv.Key + " " + kv.Value.Active?.Name + "@" + kv.Value.Active?.Version)) + ").");
            var fixedPointers = serving.ToDictionary(kv => kv.Key, kv => new SurveyPointersDto(kv.Value.Active, null, kv.Value.Shadow, null), StringComparer.Ordinal);
            return new ModelsDto(null, [], fixedPointers, [], [], local, notes);
        }

        s.ThrowIfRegistryDisconnected();

        // One damaged record (a torn write, another program's value) took the whole page: each part is read on its own, and
        // a part whose record cannot be read is left out with a note naming the record; only when none can be read is the
        // page the 503 (SourceError: "a data source holds a record it cannot read").
        var damaged = new List<RegistryException>();
        async Task<T?> Readable<T>(Func<Task<T>> read)
            where T : class
        {
            try
            {
                return await read().ConfigureAwait(false);
            }
            catch (RegistryException e) when (e.DamagedRecord)
            {
                damaged.Add(e);
                return null;
            }
        }

        var registry = s.Registry;
        var status = await Readable(() => RegistryStatus.ReadAsync(registry, LiveWorker, auditTail: 0, ct)).ConfigureAwait(false);
        var audit = await Readable(() => registry.GetRecentAuditAsync(MaxAuditRecords, ct)).ConfigureAwait(false);
        var listed = await Readable(() => registry.ListAsync(ct)).ConfigureAwait(false);
        if (status is null && audit is null && listed is null)
        {
            throw damaged[0];
        }

        notes.AddRange(damaged.Select(e => "Left out: " + e.Message));
        List<string> leftOut = [.. new[] { ("status", status is null), ("audit", audit is null), ("versions", listed is null) }.Where(p => p.Item2).Select(p => p.Item1)];
        status ??= new RegistryStatus { Surveys = [], Workers = [], Audit = [] };
        var versions = (listed ?? [])
            .Select(m => new ModelVersionDto(
                m.Name,
                m.Version,
                m.Sha256,
                m.Encoding,
                m.Classes,
                m.Metrics,
                m.PushedBy,
                m.PushedUtc,
                status.Surveys.Any(v => Same(m, v.Active)),
                status.Surveys.Any(v => Same(m, v.Previous)))
            {
                ActiveFor = [.. status.Surveys.Where(v => Same(m, v.Active)).Select(v => v.Survey)],
                ShadowFor = [.. status.Surveys.Where(v => Same(m, v.Shadow)).Select(v => v.Survey)],
            })
            .ToList();
        if (!status.Surveys.Any(v => v.Active is not null) && damaged.Count == 0)
        {
            notes.Add("No model is active yet: push one and promote it (alertbroker models push / promote [--survey S]).");
        }

        var pointers = status.Surveys
            .Where(v => v.Active is not null || v.Previous is not null || v.Shadow is not null)
            .ToDictionary(v => v.Survey, v => new SurveyPointersDto(ModelPointerDto.From(v.Active), ModelPointerDto.From(v.Previous), ModelPointerDto.From(v.Shadow), v.ShadowStatistics), StringComparer.Ordinal);
        return new ModelsDto(s.RegistryDescription, versions, pointers, [.. (audit?.Records ?? []).Reverse()], status.Workers, local, notes) { AuditTruncated = audit?.HasOlder ?? false, LeftOut = leftOut };
    }

    /// <summary>Per survey, the active and shadow models: the registry's pointers, else the fixed models the worker serves.</summary>
    private static async Task<Dictionary<string, SurveyModelsDto>> SurveyModelsAsync(WebSources s, CancellationToken ct)
    {
        if (s.Registry is null)
        {
            return FixedSurveyModels(s);
        }

        var snapshot = await s.Registry.GetSnapshotAsync(ct).ConfigureAwait(false);
        return snapshot.Surveys
            .Where(kv => kv.Value.Active is not null || kv.Value.Shadow is not null)
            .ToDictionary(kv => kv.Key, kv => new SurveyModelsDto(ModelPointerDto.From(kv.Value.Active), ModelPointerDto.From(kv.Value.Shadow)), StringComparer.Ordinal);
    }

    private static Dictionary<string, SurveyModelsDto> FixedSurveyModels(WebSources s)
    {
        var models = new Dictionary<string, SurveyModelsDto>(StringComparer.Ordinal);
        foreach (var m in s.FixedModels?.Invoke() ?? [])
        {
            var pointer = new ModelPointerDto(m.Name, m.Version, null, null);
            var current = models.GetValueOrDefault(m.Survey) ?? new SurveyModelsDto(null, null);
            models[m.Survey] = m.Role == "shadow" ? current with { Shadow = pointer } : current with { Active = pointer };
        }

        return models;
    }

    private static async IAsyncEnumerable<string> StreamOverviewAsync(WebSources s, ILogger logger, CancellationToken stopping, [EnumeratorCancellation] CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborted);
        var ct = linked.Token;
        var period = TimeSpan.FromSeconds(s.RefreshSeconds);
        while (!ct.IsCancellationRequested)
        {
            string json;
            try
            {
                // The overview every client shares; computed under the stopping token, so this client going cancels only its wait.
                json = (await s.Overview.GetAsync(stopping, ct).ConfigureAwait(false)).Json;
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            catch (Exception e) when (IsSourceFailure(e))
            {
                json = JsonSerializer.Serialize(new ErrorDto(await SourceErrorAsync(e, s).ConfigureAwait(false)), Json);
            }
            catch (Exception e)
            {
                // Any other failure ended the stream with an unhandled exception, and the page lost its live updates. Every
                // stream gets the one shared computation's exception: logged once, not once per stream and period.
                if (s.FirstReportOf(e))
                {
                    Log.Unexpected(logger, "/api/overview/stream", e);
                }

                json = JsonSerializer.Serialize(new ErrorDto(InternalError), Json);
            }

            yield return json;
            try
            {
                await Task.Delay(period, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private static async Task<IResult> SearchAsync(WebSources s, string? q, CancellationToken ct)
    {
        var query = q?.Trim() ?? string.Empty;
        if (query.Length == 0 || query.Length > MaxObjectIdLength)
        {
            return Results.Json(new ErrorDto($"give an object id (1 to {MaxObjectIdLength} characters) as ?q="), Json, statusCode: StatusCodes.Status400BadRequest);
        }

        s.ThrowIfStoreDisconnected();
        var matches = new List<SearchMatchDto>();
        var notes = new List<string>();
        if (s.Store is not null)
        {
            ObjectKey[] keys = [new(Survey.Ztf, query), new(Survey.Lsst, query)];
            var states = new ObjectState?[keys.Length];
            await s.Store.ReadAsync(keys, states, ct).ConfigureAwait(false);
            for (var i = 0; i < keys.Length; i++)
            {
                if (states[i] is { } state)
                {
                    matches.Add(new SearchMatchDto(keys[i].SurveyName, query, state.Observations.Length, "state"));
                }
            }
        }
        else
        {
            notes.Add("No state store is configured: only recent classifications are searched.");
        }

        // Partial ids: the recent classifications (the state store is keyed by exact id; scanning it would not scale).
        foreach (var r in await s.Recent.LatestAsync(1000, ct).ConfigureAwait(false))
        {
            if (r.ObjectId.Contains(query, StringComparison.OrdinalIgnoreCase) && !matches.Any(m => m.Survey == r.Survey && m.ObjectId == r.ObjectId) && matches.Count < 50)
            {
                matches.Add(new SearchMatchDto(r.Survey, r.ObjectId, r.Observations, "recent"));
            }
        }

        return Results.Json(new SearchDto(query, matches, notes), Json);
    }

    /// <summary>
    /// The object id as the client encoded it. Kestrel decodes a request path except <c>%2F</c>, so an id holding a '/'
    /// (<c>encodeURIComponent</c> sends <c>a%2Fb</c>) was routed as the six characters "a%2Fb" and never found, and an id
    /// holding "%2F" itself (sent as <c>a%252Fb</c>) would read the same. When the routed value holds a '%', the segment is
    /// taken from the request line as sent and decoded once, which tells the two apart.
    /// </summary>
    internal static string ObjectIdSegment(HttpContext context, string routed)
    {
        const string Route = "/api/objects/";
        if (!routed.Contains('%', StringComparison.Ordinal)
            || context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget is not { } raw
            || !raw.StartsWith(Route, StringComparison.Ordinal))
        {
            return routed;
        }

        var path = raw.AsSpan(Route.Length);
        var query = path.IndexOfAny('?', '#');
        path = query >= 0 ? path[..query] : path;
        var slash = path.IndexOf('/');
        if (slash < 0)
        {
            return routed;
        }

        path = path[(slash + 1)..];
        var end = path.IndexOf('/');
        var segment = (end >= 0 ? path[..end] : path).ToString();
        try
        {
            return Uri.UnescapeDataString(segment);
        }
        catch (UriFormatException)
        {
            return routed;
        }
    }

    private static async Task<IResult> ObjectAsync(WebSources s, string survey, string objectId, CancellationToken ct)
    {
        var (state, key, problem) = await ReadStateAsync(s, survey, objectId, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var lookup = string.IsNullOrEmpty(state!.ModelId) ? null : await s.Models.FindAsync(state.ModelId, ct).ConfigureAwait(false);
        var bands = new SortedDictionary<string, BandCountsDto>(StringComparer.Ordinal);
        var observations = new List<ObservationDto>(state.Observations.Length);
        foreach (var o in state.Observations)
        {
            var band = LightCurveEncoding.BandKey(o.Band);
            var counts = bands.GetValueOrDefault(band) ?? new BandCountsDto(0, 0, 0);
            bands[band] = o.Kind switch
            {
                ObservationKind.Detection => counts with { Detections = counts.Detections + 1 },
                ObservationKind.Forced => counts with { Forced = counts.Forced + 1 },
                _ => counts with { UpperLimits = counts.UpperLimits + 1 },
            };
            var limitFlux = o.Kind == ObservationKind.UpperLimit
                ? (float.IsFinite(o.LimitingMag) ? Photometry.MagToMicroJy(o.LimitingMag) : 5.0 * o.FluxErrMicroJy)
                : double.NaN;
            observations.Add(new ObservationDto(o.SourceId, Finite(o.Mjd), band, KindName(o.Kind), Finite(o.FluxMicroJy), Finite(o.FluxErrMicroJy), Finite(o.LimitingMag), Finite(limitFlux)));
        }

        LatestDto? latest = null;
        if (state.Probabilities.Length > 0)
        {
            var top = 0;
            for (var i = 1; i < state.Probabilities.Length; i++)
            {
                if (state.Probabilities[i] > state.Probabilities[top])
                {
                    top = i;
                }
            }

            var classes = lookup?.Classes is { } c && c.Count == state.Probabilities.Length ? c : null;
            latest = new LatestDto(classes, state.Probabilities.Select(p => Finite(p)).ToList(), classes?[top], Finite(state.Probabilities[top]), state.ScoredSteps, Finite(state.LastStepMjd));
        }

        // Whether the object's newest alert went out without probabilities, and why (it was not a transient candidate),
        // as the worker recorded it in the state: the state keeps the network's numbers either way.
        var withheld = NullIfEmpty(state.NewestAlertWithheld);
        var unreadable = state.Unreadable ? UnreadableRecord : null;
        return Results.Json(
            new ObjectDto(key.SurveyName, key.ObjectId, state.Version, DateTimeOffset.FromUnixTimeMilliseconds(state.UpdatedUnixMs), observations, bands, NullIfEmpty(state.ModelId), latest, withheld, unreadable),
            Json);
    }

    private static async Task<IResult> HistoryAsync(WebSources s, string survey, string objectId, CancellationToken ct)
    {
        var (state, key, problem) = await ReadStateAsync(s, survey, objectId, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        // An unreadable record has no model either: it was said to be "not scored yet", where the object page says why.
        if (string.IsNullOrEmpty(state!.ModelId))
        {
            return Results.Json(new HistoryDto(key.SurveyName, key.ObjectId, null, false, null, state.Unreadable ? UnreadableRecord : "the object has not been scored yet (no usable observation)", null, [], null), Json);
        }

        var lookup = await s.Models.FindAsync(state.ModelId, ct).ConfigureAwait(false);
        if (lookup.Model is not { } model)
        {
            return Results.Json(new HistoryDto(key.SurveyName, key.ObjectId, state.ModelId, false, null, lookup.Reason, lookup.Classes, [], null), Json);
        }

        var history = await s.History.GetAsync(key, state.Version, state.ModelId, () => History(key, state, model, lookup), ct).ConfigureAwait(false);
        return history is not null
            ? Results.Json(history, Json)
            : Results.Json(new ErrorDto($"busy: {s.History.Slots} probability histories are being computed; retry in a few seconds"), Json, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static HistoryDto History(ObjectKey key, ObjectState state, AlertBroker.Worker.Scoring.ActiveModel model, ModelLookup lookup)
    {
        var (steps, probabilities) = ProbabilityHistory.Compute(model, state.Observations);
        var rows = new List<HistoryStepDto>(steps.Length);
        for (var i = 0; i < steps.Length; i++)
        {
            rows.Add(new HistoryStepDto(i, steps[i].Mjd, LightCurveEncoding.BandKey(steps[i].Band), KindName(steps[i].Kind), probabilities[i].Select(p => Finite(p)).ToList()));
        }

        // The recomputed last step against the stored probabilities: they agree unless the state came from another path.
        double? difference = null;
        if (probabilities.Length > 0 && state.Probabilities.Length == probabilities[^1].Length && state.ScoredSteps == steps.Length)
        {
            var max = 0.0;
            for (var c = 0; c < state.Probabilities.Length; c++)
            {
                max = Math.Max(max, Math.Abs(state.Probabilities[c] - probabilities[^1][c]));
            }

            difference = max;
        }

        return new HistoryDto(key.SurveyName, key.ObjectId, state.ModelId, true, lookup.Source, null, model.Classes, rows, difference);
    }

    private static async Task<(ObjectState? State, ObjectKey Key, IResult? Problem)> ReadStateAsync(WebSources s, string survey, string objectId, CancellationToken ct)
    {
        var parsed = survey switch
        {
            "ztf" => Survey.Ztf,
            "lsst" => Survey.Lsst,
            _ => Survey.Unknown,
        };
        var key = new ObjectKey(parsed, objectId);
        if (parsed == Survey.Unknown)
        {
            return (null, key, Results.Json(new ErrorDto("the survey must be ztf or lsst"), Json, statusCode: StatusCodes.Status404NotFound));
        }

        if (objectId.Length is 0 or > MaxObjectIdLength)
        {
            return (null, key, Results.Json(new ErrorDto($"an object id has 1 to {MaxObjectIdLength} characters"), Json, statusCode: StatusCodes.Status400BadRequest));
        }

        if (s.Store is null)
        {
            return (null, key, Results.Json(new ErrorDto("no state store is configured (serve --redis HOST:PORT)"), Json, statusCode: StatusCodes.Status503ServiceUnavailable));
        }

        s.ThrowIfStoreDisconnected();
        var states = new ObjectState?[1];
        await s.Store.ReadAsync([key], states, ct).ConfigureAwait(false);
        return states[0] is { } state
            ? (state, key, null)
            : (null, key, Results.Json(new ErrorDto("no such object in the state store"), Json, statusCode: StatusCodes.Status404NotFound));
    }

    private static bool Same(RegisteredModel m, ActivePointer? p) => p is not null && p.Name == m.Name && p.Version == m.Version && string.Equals(p.Sha256, m.Sha256, StringComparison.OrdinalIgnoreCase);

    private static string KindName(ObservationKind kind) => kind switch
    {
        ObservationKind.Detection => "detection",
        ObservationKind.Forced => "forced",
        _ => "upper_limit",
    };

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static double? Max(IEnumerable<double?> values)
    {
        double? max = null;
        foreach (var v in values)
        {
            if (v is { } x && (max is null || x > max))
            {
                max = x;
            }
        }

        return max;
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private const string UnreadableRecord = "the stored record could not be read (damaged, or written by another program): the worker starts the object's light curve again from its next alert";

    private const string InternalError = "internal error (the server's log says what failed)";

    private static ILogger Logger(HttpContext context) => context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("AlertBroker.Web");

    /// <summary>
    /// The error of a source failure. An error reply (WRONGTYPE, NOPERM for a user without read rights, …) came from a Redis
    /// that answered: it was reported as "did not answer", which sends an operator looking for an outage.
    /// </summary>
    private static string SourceError(Exception e) =>
        (e is RegistryException { DamagedRecord: true }
            ? "a data source holds a record it cannot read: " // it answered; the record is damaged (no outage to look for)
            : e is StackExchange.Redis.RedisServerException || e.InnerException is StackExchange.Redis.RedisServerException
            ? "a data source refused the request: "
            : "a data source did not answer: ") + AlertBroker.Redis.RedisErrors.Brief(e);

    /// <summary>
    /// <see cref="SourceError"/>, and for Redis's WRONGTYPE (which names no key) the registry's keys of another type, found
    /// as <c>models</c> commands find them (a user whose ACL forbids SCAN, or a registry that does not answer within 2 s,
    /// gets the error without them).
    /// </summary>
    private static async Task<string> SourceErrorAsync(Exception e, WebSources? s)
    {
        var error = SourceError(e);
        if (!AlertBroker.Redis.RedisErrors.IsWrongType(e) || !e.Message.Contains("Operation against a key", StringComparison.Ordinal) || s?.Registry is not RedisModelRegistry registry)
        {
            return error;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var mistyped = await registry.FindMistypedKeysAsync(timeout.Token).ConfigureAwait(false);
            return mistyped.Count == 0
                ? error
                : $"{error}: {string.Join("; ", mistyped)} (another program writes under the registry's prefix: give the registry a prefix of its own, AlertBroker:Model:RegistryPrefix)";
        }
        catch (Exception e2) when (e2 is StackExchange.Redis.RedisException or TimeoutException or OperationCanceledException)
        {
            return error;
        }
    }

    // Counts summed over workers' heartbeats, held at the ends of long's range: a heartbeat with a counter near long.MaxValue
    // (damaged, or another program's) made every overview and stream a 500 (OverflowException) for as long as it stayed fresh.
    private static long Add(long a, long b) =>
        b > 0 && a > long.MaxValue - b ? long.MaxValue : b < 0 && a < long.MinValue - b ? long.MinValue : a + b;

    private static long Total(IEnumerable<long> values) => values.Aggregate(0L, Add);

    private static bool IsSourceFailure(Exception e) =>
        e is StateStoreUnavailableException or RegistryException or StackExchange.Redis.RedisException or TimeoutException or IOException;
}
