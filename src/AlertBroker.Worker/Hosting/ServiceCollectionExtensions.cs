using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Redis;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Enrichment;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Schemas;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AlertBroker.Worker.Hosting;

/// <summary>
/// Registers the streaming worker in a host. <c>alertbroker run</c> does
/// <code>
/// var builder = WebApplication.CreateSlimBuilder(…);
/// builder.AddAlertBrokerWorker();   // services, options, health checks, OpenTelemetry
/// builder.AddAlertBrokerHttp();     // Kestrel on AlertBroker:Telemetry:HttpAddress:HttpPort (none when the port is 0)
/// var app = builder.Build();
/// app.MapAlertBrokerWorkerEndpoints();   // /healthz, /readyz, /metrics; other endpoints are mapped beside them
/// </code>
/// </summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds the worker: options (sections <c>AlertBroker:Kafka|Schemas|State|Model|Metadata|Redis|Telemetry</c>, validated at start),
    /// the state store, the model, the batch processor, the Kafka loop as a hosted service, the health checks
    /// (<see cref="WorkerHealthChecks"/>) and OpenTelemetry (<see cref="WorkerTelemetry"/>: metrics for the Prometheus
    /// endpoint, and OTLP export of metrics and traces when <c>AlertBroker:Telemetry:OtlpEndpoint</c> is set).
    /// </summary>
    public static IHostApplicationBuilder AddAlertBrokerWorker(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateOnStart();
        services.AddOptions<SchemaOptions>().BindConfiguration(SchemaOptions.Section).ValidateOnStart();
        services.AddOptions<StateOptions>().BindConfiguration(StateOptions.Section).ValidateOnStart();
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateOnStart();
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        services.AddOptions<MetadataOptions>().BindConfiguration(MetadataOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetadataOptions>, MetadataOptionsValidator>();
        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>();
        services.AddOptions<CandidateFilter>().BindConfiguration(CandidateFilterValidator.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CandidateFilter>, CandidateFilterValidator>();
        services.AddSingleton<WorkerExit>();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaSecurityValidator>();
        services.AddSingleton<IValidateOptions<SchemaOptions>, SchemaOptionsValidator>();
        services.AddSingleton<IValidateOptions<StateOptions>, StateOptionsValidator>();
        services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();
        services.AddSingleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>());

        services.AddSingleton(sp => new WorkerMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<IObjectStateStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StateOptions>>().Value;
            if (o.Store == StateStoreKind.InMemory)
            {
                return new InMemoryObjectStateStore(TimeSpan.FromHours(o.TtlHours));
            }

            var security = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            var storeOptions = new RedisStateOptions
            {
                Configuration = o.Redis,
                Security = security,
                KeyPrefix = o.KeyPrefix,
                Ttl = TimeSpan.FromHours(o.TtlHours),
            };

            // Redis must answer at start (exit code 4 otherwise: unreachable, or refusing the credentials or TLS); after
            // that the connection reconnects by itself and an outage pauses consumption until Redis is back.
            var connection = RedisConnectionFactory.ConnectAsync(RedisObjectStateStore.CreateConfiguration(storeOptions), waitForServer: false).GetAwaiter().GetResult();
            var store = new RedisObjectStateStore(connection, storeOptions, ownsConnection: true);
            var (endpoints, user, tls) = DescribeRedisState(store.Options);
            Log.RedisState(sp.GetRequiredService<ILogger<RedisObjectStateStore>>(), endpoints, user, tls);
            return store;
        });
        services.AddSingleton(sp => new ShadowStatisticsAccumulator());
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<MetadataOptions>>().Value;
            var logger = sp.GetRequiredService<ILogger<MetadataSourceSet>>();
            IConnectionMultiplexer? metadataRedis = null;
            return new MetadataSourceFactory(
                o.Flatten(),
                () =>
                {
                    if (!string.IsNullOrWhiteSpace(o.Redis))
                    {
                        return metadataRedis ??= RedisConnectionFactory.ConnectAsync(o.Redis, sp.GetRequiredService<IOptions<RedisOptions>>().Value).GetAwaiter().GetResult();
                    }

                    // The state store's own connection: a hash lookup issued beside the batch read shares its round trip.
                    return (sp.GetRequiredService<IObjectStateStore>() as RedisObjectStateStore)?.Connection;
                },
                (survey, source, problem) => Log.MetadataSourceUnusable(logger, survey, source, problem));
        });
        services.AddSingleton<IBatchModelSource>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
            var logger = sp.GetRequiredService<ILogger<ActiveModel>>();
            var metrics = sp.GetRequiredService<WorkerMetrics>();
            var health = sp.GetRequiredService<WorkerHealth>();
            var factory = sp.GetRequiredService<MetadataSourceFactory>();
            var statistics = sp.GetRequiredService<WorkerStatistics>();
            void Announce(ModelSet set)
            {
                foreach (var m in set.Distinct)
                {
                    Log.ModelLoaded(logger, m.Name, m.Version, m.Classes.Length, m.Id, m.Package.Session.Device);
                }

                var serving = new List<(string, string, string, string)>();
                var missing = new List<(string, string, string)>();
                foreach (var (survey, m) in set.Active)
                {
                    serving.Add((survey, "active", m.Name, m.Version));
                    Log.ModelServes(logger, survey, "active", m.Name, m.Version);
                    var lacking = set.Metadata.Missing(survey, m.MetadataSources);
                    if (lacking.Count > 0)
                    {
                        if (m.MetadataRequired)
                        {
                            Log.RequiredMetadataMissing(logger, m.Name + " " + m.Version, survey, string.Join(", ", lacking));
                        }
                        else
                        {
                            Log.MetadataMissing(logger, m.Name + " " + m.Version, survey, string.Join(", ", lacking));
                        }

                        missing.AddRange(lacking.Select(l => (survey, m.Name + "@" + m.Version, l)));
                    }
                }

                foreach (var (survey, m) in set.Shadows)
                {
                    serving.Add((survey, "shadow", m.Name, m.Version));
                    Log.ModelServes(logger, survey, "shadow", m.Name, m.Version);
                }

                foreach (var ((survey, source), src) in set.Metadata.All)
                {
                    Log.MetadataSource(logger, survey, source, src.Description);
                }

                metrics.SetModels(serving);
                metrics.SetMetadataMissing(missing);
                health.ModelLoaded = set.Active.Count > 0;
            }

            if (o.UsesRegistry)
            {
                return CreateRegistrySource(o, sp.GetRequiredService<IOptions<RedisOptions>>().Value, sp.GetRequiredService<ILoggerFactory>(), factory, sp.GetRequiredService<ShadowStatisticsAccumulator>(), metrics, Announce, () => metrics.Error(WorkerError.ModelRefused), () => statistics.Snapshot().ToHeartbeat());
            }

            var metadata = factory.BuildChecked([]);
            ModelSet set;
            var paths = o.AllPaths;
            if (paths.Count > 0)
            {
                var models = new List<ActiveModel>();
                try
                {
                    foreach (var path in paths)
                    {
                        models.Add(ActiveModel.Load(path, o.ToSessionOptions()));
                    }

                    try
                    {
                        set = ModelSet.Of(models, metadata);
                    }
                    catch (ArgumentException e)
                    {
                        // Two packages declaring one survey is a usage error (exit 2), not a model that cannot be used.
                        throw new OptionsValidationException(ModelOptions.Section, typeof(ModelOptions), [$"AlertBroker:Model:Path/Paths (--model): {e.Message}"]);
                    }

                    // A model whose metadata is required serves a survey only where every source it needs is supplied here.
                    var unsupplied = set.Active
                        .Where(kv => kv.Value.MetadataRequired && metadata.Missing(kv.Key, kv.Value.MetadataSources).Count > 0)
                        .Select(kv => (kv.Key, kv.Value, Problems: metadata.Missing(kv.Key, kv.Value.MetadataSources).Select(m => (Source: m, Problem: factory.ConfiguredProblem(kv.Key, m))).ToList()))
                        .ToList();
                    if (unsupplied.Count > 0)
                    {
                        var text = string.Join("; ", unsupplied.Select(u => $"{u.Value.Name} {u.Value.Version} needs metadata {string.Join(", ", u.Problems.Select(p => p.Source))} for {u.Key}, which no source supplies here "
                            + string.Join(", ", u.Problems.Select(p => p.Problem is { } problem ? $"({problem})" : $"(set AlertBroker:Metadata:Sources:{u.Key}:{p.Source}:Csv or :RedisHash)"))));

                        // Every missing source configured but unusable (a CSV without the column, a file that is not
                        // there): the settings are wrong, not the model (exit 2). A source nobody configured: exit 3.
                        if (unsupplied.All(u => u.Problems.All(p => p.Problem is not null)))
                        {
                            throw new OptionsValidationException(MetadataOptions.Section, typeof(MetadataOptions), [text]);
                        }

                        throw new ModelUnavailableException(text);
                    }
                }
                catch (Exception e)
                {
                    foreach (var m in models)
                    {
                        m.Dispose();
                    }

                    if (e is ArgumentException)
                    {
                        throw new ModelUnavailableException(e.Message, e);
                    }

                    throw;
                }
            }
            else if (!o.AllowRandom && !string.IsNullOrWhiteSpace(o.SearchDirectory))
            {
                var choices = ModelCatalog.PickPerSurvey(ModelCatalog.Scan(o.SearchDirectory), metadata.Supplies);
                if (choices.Count == 0)
                {
                    throw new ModelUnavailableException($"no model package under {o.SearchDirectory}: give --model DIR, a registry to follow, or --random-model");
                }

                foreach (var c in choices)
                {
                    Log.AutoPicked(logger, c.Survey, c.Package.Manifest.Name + " " + c.Package.Manifest.Version, c.Package.Directory);
                }

                set = ModelCatalog.Load(choices, o.ToSessionOptions(), metadata);
            }
            else
            {
                var dir = TemporaryModelDirectory.ForThisProcess("alertbroker-random-model");
                set = ModelSet.Of(ActiveModel.CreateRandom(dir, sessionOptions: o.ToSessionOptions()), metadata);
                Log.RandomModel(logger, dir);
            }

            Announce(set);
            return new FixedModelSource(set);
        });
        services.AddSingleton(sp => new SchemaRegistryConnection(sp.GetRequiredService<IOptions<SchemaOptions>>().Value));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SchemaOptions>>().Value;
            var registry = sp.GetRequiredService<SchemaRegistryConnection>();
            ISchemaLookup? lookup = registry.Client is { } client
                ? new ConfluentSchemaRegistryLookup(client)
                : !string.IsNullOrWhiteSpace(o.SchemaDirectory) ? new DirectorySchemaLookup(o.SchemaDirectory) : null;
            var alerts = sp.GetRequiredService<IOptions<AlertOptions>>().Value;
            return new AlertDecoder(new AlertDecoderOptions { SchemaLookup = lookup, Validation = alerts.ToValidation(), Limits = alerts.ToDecoderLimits() });
        });
        services.AddSingleton(sp =>
        {
            var registry = sp.GetRequiredService<SchemaRegistryConnection>();
            if (registry.Client is null)
            {
                return new ClassificationCodec(OutputFraming.SingleObject);
            }

            var subject = sp.GetRequiredService<IOptions<KafkaOptions>>().Value.OutputTopic + "-value";
            var id = SchemaRegistration.RegisterAsync(registry.Client, subject, ClassificationCodec.SchemaJson).GetAwaiter().GetResult();
            Log.SchemaRegistered(sp.GetRequiredService<ILogger<ClassificationCodec>>(), registry.Url!, subject, id);
            return new ClassificationCodec(OutputFraming.ConfluentWire, id);
        });
        services.AddSingleton<WorkerHealth>();
        services.AddSingleton(sp =>
        {
            var models = sp.GetRequiredService<IBatchModelSource>();
            return new AlertBatchProcessor(
                sp.GetRequiredService<AlertDecoder>(),
                sp.GetRequiredService<IObjectStateStore>(),
                models.ForNextBatch,
                sp.GetRequiredService<ClassificationCodec>(),
                sp.GetRequiredService<WorkerMetrics>())
            {
                ShadowStatistics = sp.GetRequiredService<ShadowStatisticsAccumulator>(),
                MaxObservationsPerObject = sp.GetRequiredService<IOptions<StateOptions>>().Value.MaxObservationsPerObject,
                Candidates = sp.GetRequiredService<IOptions<CandidateFilter>>().Value,
            };
        });
        services.AddSingleton(sp => new KafkaAlertWorker(
            sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
            sp.GetRequiredService<IOptions<StateOptions>>().Value,
            sp.GetRequiredService<AlertBatchProcessor>(),
            sp.GetRequiredService<WorkerMetrics>(),
            sp.GetRequiredService<WorkerHealth>(),
            sp.GetRequiredService<ILogger<KafkaAlertWorker>>())
        {
            DrainTimeout = DrainTimeoutFor(sp.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout),
        });
        WorkerObservers.Add(services);
        services.AddHostedService<KafkaWorkerService>();
        services.AddHostedService<StateStoreMonitor>();
        services.AddHealthChecks().AddAlertBrokerWorkerChecks();
        WorkerTelemetry.Add(services, builder.Configuration);
        return builder;
    }

    /// <summary>
    /// How long the batch in hand may take to be acknowledged after SIGTERM: the host's shutdown timeout less 10 s for the
    /// commit and the group leave (at least 1 s), so the host never cuts the drain short.
    /// </summary>
    internal static TimeSpan DrainTimeoutFor(TimeSpan shutdownTimeout) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, (shutdownTimeout - TimeSpan.FromSeconds(10)).Ticks));

    /// <summary>
    /// Follows the registry: waits for its active model at start (the worker cannot score without one), then hot-swaps.
    /// </summary>
    private static RegistryModelSource CreateRegistrySource(ModelOptions o, RedisOptions security, ILoggerFactory loggers, MetadataSourceFactory metadata, ShadowStatisticsAccumulator statistics, WorkerMetrics metrics, Action<ModelSet> announce, Action refused, Func<HeartbeatStatistics?> heartbeatStatistics)
    {
        // The registry's Redis must answer at start: the worker cannot score before it has the active model.
        IModelRegistry registry = string.IsNullOrWhiteSpace(o.RegistryRedis)
            ? new DirectoryModelRegistry(o.RegistryDirectory!)
            : new RedisModelRegistry(RedisConnectionFactory.ConnectAsync(o.RegistryRedis, security).GetAwaiter().GetResult(), o.RegistryPrefix);
        var watcher = new ActiveModelWatcher(
            registry,
            new ActiveModelWatcherOptions
            {
                PollInterval = TimeSpan.FromSeconds(o.RegistryPollSeconds),
                SessionOptions = o.ToSessionOptions(),

                // A model that needs metadata serves a survey only where every source it needs is available here.
                CanServe = (survey, _, manifest, declarations) => metadata.CheckSupplied(survey, [.. manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal)], declarations),
                ShadowStatistics = statistics,
                Statistics = heartbeatStatistics,
            },
            loggers.CreateLogger<ActiveModelWatcher>());
        watcher.Refused += _ => refused();
        watcher.ShadowStatisticsDamaged += _ => metrics.Error(WorkerError.RegistryRecordDamaged);

        // The serving gauges follow the registry as soon as the watcher has switched, not at the next batch: an idle worker's
        // /metrics (and the web view's overview, which reads them) named the model it had stopped serving until an alert came.
        // The rest of the announcement (metadata sources, their gauge) still comes with the next batch's set.
        watcher.Changed += models => metrics.SetModels(RegistryModelSource.Serving(models));
        watcher.StartAsync().GetAwaiter().GetResult();
        if (watcher.Models.Active.Count == 0)
        {
            var legacy = registry is RedisModelRegistry redis ? redis.FindLegacyLayoutAsync().GetAwaiter().GetResult() : null;
            throw new ModelUnavailableException("the model registry has no usable active model: push and promote one first (alertbroker models push / promote)"
                + (watcher.LastError is { } e ? "; last refusal: " + e : string.Empty)
                + (legacy is not null ? $"; this Redis holds a registry in the key layout of an earlier release ({legacy.Models} version(s), active {legacy.Active ?? "(none)"}): run 'alertbroker models migrate' (docs/deployment.md)" : string.Empty));
        }

        var source = new RegistryModelSource(watcher, announce, metadata.Build, metrics);
        source.ForNextBatch();
        return source;
    }

    /// <summary>
    /// What the start-up line says of the state store: its endpoints, user and TLS as the connection uses them — the
    /// <c>AlertBroker:Redis</c> settings, else <c>user=</c> and <c>ssl=</c> in the connection string (until 2026-12-07 the
    /// line showed the settings alone: "user default, TLS False" for a connection string that logged in as another user over TLS).
    /// </summary>
    internal static (string Endpoints, string User, bool Tls) DescribeRedisState(RedisStateOptions options)
    {
        var configuration = RedisObjectStateStore.CreateConfiguration(options);
        return (RedisConnectionFactory.DescribeEndpoints(configuration), string.IsNullOrEmpty(configuration.User) ? "default" : configuration.User, configuration.Ssl);
    }
}

/// <summary>
/// Runs <see cref="KafkaAlertWorker"/> for the host's lifetime; SIGTERM stops it gracefully. The worker, its model and its
/// state store are resolved in <see cref="StartAsync"/>, not in the constructor: the host resolves hosted services before
/// it validates options, and resolving them connects to Redis and loads the model, which must come after every option
/// was checked (so one start reports all configuration problems).
/// </summary>
internal sealed class KafkaWorkerService(IServiceProvider services, IHostApplicationLifetime lifetime, WorkerExit exit, ILogger<KafkaWorkerService> logger) : BackgroundService, IHostedLifecycleService
{
    private KafkaAlertWorker? _worker;
    private IBatchModelSource? _model;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The worker is stopped first, before any other service (the web server, telemetry, the state store's monitor): its
    /// batch, commit and group leave get the whole shutdown budget, the endpoints answer (and /metrics counts) until it
    /// is done. It was stopped last, after the web server, which waits for requests in progress: one unfinished request
    /// spent the budget and the worker went on consuming meanwhile (until 2026-12-08).
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<WorkerHealth>().Stopping = true;
        return StopAsync(cancellationToken);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _model = services.GetRequiredService<IBatchModelSource>();
        _worker = services.GetRequiredService<KafkaAlertWorker>();

        // Refused Kafka credentials or TLS stop the start here (KafkaConnectionFailedException: exit code 4). The check's
        // wait counts against StartTimeoutMs: Kafka that does not answer stops the worker after StartTimeoutMs in all.
        var kafka = services.GetRequiredService<IOptions<KafkaOptions>>().Value;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var check = TimeSpan.FromMilliseconds(kafka.StartTimeoutMs > 0 ? Math.Min(kafka.StartTimeoutMs, 10_000) : 10_000);
        if (!KafkaConnectionCheck.Verify(kafka, check, logger))
        {
            _worker.StartWaitSpent = clock.Elapsed;
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        GC.KeepAlive(_model);
        try
        {
            await _worker!.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (KafkaUnavailableException e)
        {
            // Kafka did not answer at start: a dependency problem, like Redis refusing the credentials (exit code 4).
            exit.Fail(WorkerExit.DependencyUnavailable, "Kafka: " + e.Message);
            Log.KafkaUnavailableAtStart(logger, e.Message);
            lifetime.StopApplication();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever ends the consume loop other than a stop request is fatal: a supervisor must see a failure (70), not 0.
            exit.Fail(WorkerExit.FatalRuntimeError, e.GetType().Name + ": " + e.Message);
            Log.WorkerFailed(logger, e, e.Message);
            lifetime.StopApplication();
        }
    }
}

/// <summary>
/// The process exit code the worker asks for (<c>alertbroker run</c> returns it after the host stops): 0 unless a
/// background failure set another. The table: 0 clean stop (SIGTERM/SIGINT included), 2 invalid configuration, 3 model
/// unusable, 4 a dependency (Kafka, Redis, the schema registry) unreachable or refusing the credentials at start,
/// 70 fatal runtime error.
/// </summary>
public sealed class WorkerExit
{
    public const int CleanStop = 0;
    public const int InvalidConfiguration = 2;
    public const int ModelUnusable = 3;
    public const int DependencyUnavailable = 4;
    public const int FatalRuntimeError = 70;

    private volatile string? _reason;
    private int _code;

    public int Code => Volatile.Read(ref _code);

    /// <summary>Why the worker failed (null after a clean stop).</summary>
    public string? Reason => _reason;

    /// <summary>Records the first failure; later ones do not overwrite it.</summary>
    public void Fail(int code, string reason)
    {
        if (Interlocked.CompareExchange(ref _code, code, 0) == 0)
        {
            _reason = reason;
        }
    }

    /// <summary>
    /// After the host stopped: a background service that threw stops the host, and the host's RunAsync returns normally
    /// after that, so a fault of any of them is recorded here as a fatal runtime error (70) — never a clean stop.
    /// </summary>
    public void FailOnFaultedServices(IEnumerable<IHostedService> services)
    {
        ArgumentNullException.ThrowIfNull(services);
        foreach (var service in services.OfType<BackgroundService>())
        {
            if (service.ExecuteTask is { IsFaulted: true } failed)
            {
                var e = failed.Exception.GetBaseException();
                Fail(FatalRuntimeError, service.GetType().Name + " failed: " + e.GetType().Name + ": " + e.Message);
            }
        }
    }
}

/// <summary>
/// While the state store is Redis: pings it every 5 s, so an outage shows in readiness (with its reason and duration),
/// in <c>alertbroker_dependency_up{dependency="redis"}</c> and in the log (every 30 s while it lasts) even when no batch is
/// in hand; the consume loop logs each retry of a batch on its own.
/// </summary>
internal sealed class StateStoreMonitor(IServiceProvider services, WorkerHealth health, WorkerMetrics metrics, ILogger<StateStoreMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan s_period = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_logEvery = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (services.GetRequiredService<IObjectStateStore>() is not RedisObjectStateStore store)
        {
            return;
        }

        var lastLog = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(s_period);
        do
        {
            StateStoreProblem? problem;
            try
            {
                problem = await store.ProbeAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A probe that fails in a way it does not foresee says so in readiness; it must not stop the worker (a
                // BackgroundService that throws stops the host), whose batches decide on their own.
                problem = new StateStoreProblem("the probe failed: " + e.GetType().Name + ": " + e.Message);
            }

            var now = DateTimeOffset.UtcNow;
            if (health.StateProbed(problem, now) is { } ended)
            {
                Log.StateBack(logger, Math.Round((now - ended.Since).TotalSeconds, 1));
            }

            // Down while an outage lasts, including one of a batch's refused writes that a probe cannot end yet.
            var outage = health.StateOutage;
            metrics.SetDependency("redis", outage is null);
            if (outage is not null && now - outage.Since >= s_logEvery && now - lastLog >= s_logEvery)
            {
                Log.StateStillUnavailable(logger, outage.Describe(now));
                lastLog = now;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
