using AlertBroker.State;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AlertBroker.Worker.Hosting;

/// <summary>
/// What the worker keeps about itself for the web view and the registry heartbeat: <see cref="WorkerStatistics"/> (its
/// metrics, summarised in process) and the recent classifications (<see cref="RecentClassificationLog"/> in process, and
/// <see cref="RedisRecentClassifications"/> when the state is in Redis). Registered by
/// <see cref="ServiceCollectionExtensions.AddAlertBrokerWorker"/>; section <c>AlertBroker:Web</c> (<see cref="WebOptions"/>).
/// </summary>
internal static class WorkerObservers
{
    public static void Add(IServiceCollection services)
    {
        services.AddOptions<WebOptions>().BindConfiguration(WebOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebOptions>, WebOptionsValidator>());
        services.TryAddSingleton(sp => new WorkerStatistics(sp.GetRequiredService<WorkerMetrics>()));
        services.TryAddSingleton(sp => new RecentClassificationLog(Math.Max(1, sp.GetRequiredService<IOptions<WebOptions>>().Value.RecentClassifications)));

        // Before the Kafka loop's service, so the recorder is subscribed before the first batch can complete.
        services.AddHostedService<RecentClassificationsRecorder>();
    }
}

/// <summary>Feeds each completed batch (on the consume thread, after publishing) to the recent-classification logs.</summary>
internal sealed class RecentClassificationsRecorder(IServiceProvider services, IOptions<WebOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Created here rather than on first use: it must count from the first batch on.
        services.GetRequiredService<WorkerStatistics>();
        var capacity = options.Value.RecentClassifications;
        if (capacity == 0)
        {
            return Task.CompletedTask;
        }

        var log = services.GetRequiredService<RecentClassificationLog>();
        var redis = services.GetRequiredService<IObjectStateStore>() is RedisObjectStateStore store
            ? new RedisRecentClassifications(
                store.Connection,
                store.Options.KeyPrefix,
                capacity,
                services.GetRequiredService<ILoggerFactory>().CreateLogger("AlertBroker.Worker.RecentClassifications"),
                services.GetRequiredService<WorkerMetrics>())
            : null;
        services.GetRequiredService<KafkaAlertWorker>().BatchCompleted += batch =>
        {
            log.Add(batch);
            redis?.Add(batch);
        };
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
