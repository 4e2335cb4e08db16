using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AlertBroker.Worker.Hosting;

/// <summary>Registers the streaming worker in a host: <c>builder.Services.AddAlertBrokerWorker()</c>.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds the worker: options (sections <c>AlertBroker:Kafka|Schemas|State|Model|Telemetry</c>, validated at start), the
    /// state store, the model, the batch processor, the Kafka loop as a hosted service, health/metrics endpoints and,
    /// when <c>AlertBroker:Telemetry:OtlpEndpoint</c> is set, OTLP export of metrics and traces.
    /// </summary>
    public static IServiceCollection AddAlertBrokerWorker(this IServiceCollection services)
    {
        services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateOnStart();
        services.AddOptions<SchemaOptions>().BindConfiguration(SchemaOptions.Section).ValidateOnStart();
        services.AddOptions<StateOptions>().BindConfiguration(StateOptions.Section).ValidateOnStart();
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateOnStart();
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();
        services.AddSingleton<IValidateOptions<StateOptions>, StateOptionsValidator>();
        services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();

        services.AddSingleton(sp => new WorkerMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(_ => new PrometheusExporter(WorkerMetrics.MeterName));
        services.AddSingleton<IObjectStateStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StateOptions>>().Value;
            return o.Store == StateStoreKind.InMemory
                ? new InMemoryObjectStateStore(TimeSpan.FromHours(o.TtlHours))
                : RedisObjectStateStore.ConnectAsync(new RedisStateOptions
                {
                    Configuration = o.Redis,
                    KeyPrefix = o.KeyPrefix,
                    Ttl = TimeSpan.FromHours(o.TtlHours),
                }).GetAwaiter().GetResult();
        });
        services.AddSingleton<IBatchModelSource>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
            var logger = sp.GetRequiredService<ILogger<ActiveModel>>();
            var metrics = sp.GetRequiredService<WorkerMetrics>();
            var health = sp.GetRequiredService<WorkerHealth>();
            void Announce(ActiveModel m)
            {
                Log.ModelLoaded(logger, m.Name, m.Version, m.Classes.Length, m.Id);
                metrics.SetModel(m.Name, m.Version);
                health.ModelLoaded = true;
            }

            if (o.UsesRegistry)
            {
                return CreateRegistrySource(o, sp.GetRequiredService<ILoggerFactory>(), Announce, () => metrics.Error("model_refused"));
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
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SchemaOptions>>().Value;
            ISchemaLookup? lookup = !string.IsNullOrWhiteSpace(o.RegistryUrl)
                ? new SchemaRegistryLookup(new Uri(o.RegistryUrl))
                : !string.IsNullOrWhiteSpace(o.SchemaDirectory) ? new DirectorySchemaLookup(o.SchemaDirectory) : null;
            return new AlertDecoder(new AlertDecoderOptions { SchemaLookup = lookup });
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SchemaOptions>>().Value;
            if (string.IsNullOrWhiteSpace(o.RegistryUrl))
            {
                return new ClassificationCodec(OutputFraming.SingleObject);
            }

            var subject = sp.GetRequiredService<IOptions<KafkaOptions>>().Value.OutputTopic + "-value";
            var id = SchemaRegistration.RegisterAsync(new Uri(o.RegistryUrl), subject, ClassificationCodec.SchemaJson).GetAwaiter().GetResult();
            Log.SchemaRegistered(sp.GetRequiredService<ILogger<ClassificationCodec>>(), o.RegistryUrl, subject, id);
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
        services.AddHostedService<KafkaWorkerService>();
        services.AddHostedService<HealthEndpoints>();
        services.AddHostedService<OtlpExportService>();
        return services;
    }

    /// <summary>
    /// Follows the registry: waits for its active model at start (the worker cannot score without one), then hot-swaps.
    /// </summary>
    private static RegistryModelSource CreateRegistrySource(ModelOptions o, ILoggerFactory loggers, Action<ActiveModel> announce, Action refused)
    {
        IModelRegistry registry = string.IsNullOrWhiteSpace(o.RegistryRedis)
            ? new DirectoryModelRegistry(o.RegistryDirectory!)
            : new RedisModelRegistry(StackExchange.Redis.ConnectionMultiplexer.Connect(o.RegistryRedis), o.RegistryPrefix);
        var watcher = new ActiveModelWatcher(
            registry,
            new ActiveModelWatcherOptions { PollInterval = TimeSpan.FromSeconds(o.RegistryPollSeconds), SessionOptions = o.ToSessionOptions() },
            loggers.CreateLogger<ActiveModelWatcher>());
        watcher.Refused += _ => refused();
        watcher.StartAsync().GetAwaiter().GetResult();
        if (watcher.Current is null)
        {
            throw new ModelUnavailableException("the model registry has no usable active model: push and promote one first (alertbroker models push / promote)"
                + (watcher.LastError is { } e ? "; last refusal: " + e : string.Empty));
        }

        var source = new RegistryModelSource(watcher, announce);
        source.ForNextBatch();
        return source;
    }
}

/// <summary>Runs <see cref="KafkaAlertWorker"/> for the host's lifetime; SIGTERM stops it gracefully.</summary>
internal sealed class KafkaWorkerService(KafkaAlertWorker worker, IBatchModelSource model, IHostApplicationLifetime lifetime, ILogger<KafkaWorkerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        GC.KeepAlive(model);
        try
        {
            await worker.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.WorkerFailed(logger, e, e.Message);
            lifetime.StopApplication();
        }
    }
}

/// <summary>OTLP export of the worker's metrics and traces, only when an endpoint is configured.</summary>
internal sealed class OtlpExportService(IOptions<TelemetryOptions> options) : IHostedService, IDisposable
{
    private MeterProvider? _meters;
    private TracerProvider? _tracer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = options.Value.OtlpEndpoint;
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            var uri = new Uri(endpoint);
            _meters = Sdk.CreateMeterProviderBuilder()
                .AddMeter(WorkerMetrics.MeterName)
                .AddOtlpExporter(o => o.Endpoint = uri)
                .Build();
            _tracer = Sdk.CreateTracerProviderBuilder()
                .AddSource(WorkerMetrics.MeterName)
                .AddOtlpExporter(o => o.Endpoint = uri)
                .Build();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _meters?.ForceFlush(2000);
        _tracer?.ForceFlush(2000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _meters?.Dispose();
        _tracer?.Dispose();
    }
}
