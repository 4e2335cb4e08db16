using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Redis;
using AlertBroker.Registry;
using AlertBroker.State;
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
    /// Adds the worker: options (sections <c>AlertBroker:Kafka|Schemas|State|Model|Redis|Telemetry</c>, validated at start),
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
            var store = RedisObjectStateStore.ConnectAsync(new RedisStateOptions
            {
                Configuration = o.Redis,
                Security = security,
                KeyPrefix = o.KeyPrefix,
                Ttl = TimeSpan.FromHours(o.TtlHours),
            }).GetAwaiter().GetResult();
            Log.RedisState(
                sp.GetRequiredService<ILogger<RedisObjectStateStore>>(),
                RedisConnectionFactory.DescribeEndpoints(RedisObjectStateStore.CreateConfiguration(store.Options)),
                string.IsNullOrEmpty(security.User) ? "default" : security.User,
                security.Tls);
            return store;
        });
        services.AddSingleton<IBatchModelSource>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
            var logger = sp.GetRequiredService<ILogger<ActiveModel>>();
            var metrics = sp.GetRequiredService<WorkerMetrics>();
            var health = sp.GetRequiredService<WorkerHealth>();
            var statistics = sp.GetRequiredService<WorkerStatistics>();
            void Announce(ActiveModel m)
            {
                Log.ModelLoaded(logger, m.Name, m.Version, m.Classes.Length, m.Id);
                metrics.SetModel(m.Name, m.Version);
                health.ModelLoaded = true;
            }

            if (o.UsesRegistry)
            {
                return CreateRegistrySource(o, sp.GetRequiredService<IOptions<RedisOptions>>().Value, sp.GetRequiredService<ILoggerFactory>(), Announce, () => metrics.Error("model_refused"), () => statistics.Snapshot().ToHeartbeat());
            }

            ActiveModel model;
            if (string.IsNullOrWhiteSpace(o.Path))
            {
                var dir = Path.Combine(Path.GetTempPath(), "alertbroker-random-model-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
                model = ActiveModel.CreateRandom(dir, sessionOptions: o.ToSessionOptions());
                Log.RandomModel(logger, dir);
            }
            else
            {
                model = ActiveModel.Load(o.Path, o.ToSessionOptions());
            }

            Announce(model);
            return new FixedModelSource(model);
        });
        services.AddSingleton(sp => new SchemaRegistryConnection(sp.GetRequiredService<IOptions<SchemaOptions>>().Value));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SchemaOptions>>().Value;
            var registry = sp.GetRequiredService<SchemaRegistryConnection>();
            ISchemaLookup? lookup = registry.Client is { } client
                ? new ConfluentSchemaRegistryLookup(client)
                : !string.IsNullOrWhiteSpace(o.SchemaDirectory) ? new DirectorySchemaLookup(o.SchemaDirectory) : null;
            return new AlertDecoder(new AlertDecoderOptions { SchemaLookup = lookup });
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
                sp.GetRequiredService<WorkerMetrics>());
        });
        services.AddSingleton(sp => new KafkaAlertWorker(
            sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
            sp.GetRequiredService<IOptions<StateOptions>>().Value,
            sp.GetRequiredService<AlertBatchProcessor>(),
            sp.GetRequiredService<WorkerMetrics>(),
            sp.GetRequiredService<WorkerHealth>(),
            sp.GetRequiredService<ILogger<KafkaAlertWorker>>()));
        WorkerObservers.Add(services);
        services.AddHostedService<KafkaWorkerService>();
        services.AddHealthChecks().AddAlertBrokerWorkerChecks();
        WorkerTelemetry.Add(services, builder.Configuration);
        return builder;
    }

    /// <summary>
    /// Follows the registry: waits for its active model at start (the worker cannot score without one), then hot-swaps.
    /// </summary>
    private static RegistryModelSource CreateRegistrySource(ModelOptions o, RedisOptions security, ILoggerFactory loggers, Action<ActiveModel> announce, Action refused, Func<HeartbeatStatistics?> statistics)
    {
        // The registry's Redis must answer at start: the worker cannot score before it has the active model.
        IModelRegistry registry = string.IsNullOrWhiteSpace(o.RegistryRedis)
            ? new DirectoryModelRegistry(o.RegistryDirectory!)
            : new RedisModelRegistry(RedisConnectionFactory.ConnectAsync(o.RegistryRedis, security).GetAwaiter().GetResult(), o.RegistryPrefix);
        var watcher = new ActiveModelWatcher(
            registry,
            new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromSeconds(o.RegistryPollSeconds), SessionOptions = o.ToSessionOptions(), Statistics = statistics },
            loggers.CreateLogger<ActiveModelWatcher>());
        watcher.Refused += _ => refused();
        watcher.StartAsync().GetAwaiter().GetResult();
        if (watcher.Current is null)
        {
            var legacy = registry is RedisModelRegistry redis ? redis.FindLegacyLayoutAsync().GetAwaiter().GetResult() : null;
            throw new ModelUnavailableException("the model registry has no usable active model: push and promote one first (alertbroker models push / promote)"
                + (watcher.LastError is { } e ? "; last refusal: " + e : string.Empty)
                + (legacy is not null ? $"; this Redis holds a registry in the key layout of an earlier release ({legacy.Models} version(s), active {legacy.Active ?? "(none)"}): run 'alertbroker models migrate' (docs/deployment.md)" : string.Empty));
        }

        var source = new RegistryModelSource(watcher, announce);
        source.ForNextBatch();
        return source;
    }
}

/// <summary>
/// Runs <see cref="KafkaAlertWorker"/> for the host's lifetime; SIGTERM stops it gracefully. The worker, its model and its
/// state store are resolved in <see cref="StartAsync"/>, not in the constructor: the host resolves hosted services before
/// it validates options, and resolving them connects to Redis and loads the model, which must come after every option
/// was checked (so one start reports all configuration problems).
/// </summary>
internal sealed class KafkaWorkerService(IServiceProvider services, IHostApplicationLifetime lifetime, ILogger<KafkaWorkerService> logger) : BackgroundService
{
    private KafkaAlertWorker? _worker;
    private IBatchModelSource? _model;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _model = services.GetRequiredService<IBatchModelSource>();
        _worker = services.GetRequiredService<KafkaAlertWorker>();

        // Refused Kafka credentials or TLS stop the start here (KafkaConnectionFailedException: exit code 4).
        KafkaConnectionCheck.Verify(services.GetRequiredService<IOptions<KafkaOptions>>().Value, TimeSpan.FromSeconds(10), logger);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        GC.KeepAlive(_model);
        try
        {
            await _worker!.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.WorkerFailed(logger, e, e.Message);
            lifetime.StopApplication();
        }
    }
}
