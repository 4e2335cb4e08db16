using AlertBroker.Worker.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// A background service that throws stops the host, and the host's RunAsync returns normally after that: <c>run</c> must
/// not call that a clean stop (it did, exit 0, when the state-store monitor threw).
/// </summary>
public sealed class WorkerExitTests
{
    [Fact]
    public async Task BackgroundServiceThatThrows_HostReturnsNormally_ExitIsFatalNamingIt()
    {
        var (exit, timedOut) = await RunHostAsync(TimeSpan.FromSeconds(30), s => s.AddHostedService<Throws>().AddHostedService<EndsWell>());
        Assert.False(timedOut, "the host should have stopped on the failure"); // RunAsync returned: that is the trap

        Assert.Equal(WorkerExit.FatalRuntimeError, exit.Code);
        Assert.Equal("Throws failed: InvalidOperationException: the probe broke", exit.Reason);
    }

    [Fact]
    public async Task BackgroundServicesThatEndWellOrAreCancelled_ExitStaysClean()
    {
        var (exit, _) = await RunHostAsync(TimeSpan.FromMilliseconds(300), s => s.AddHostedService<EndsWell>().AddHostedService<RunsUntilStopped>());

        Assert.Equal(WorkerExit.CleanStop, exit.Code);
        Assert.Null(exit.Reason);
    }

    // Runs a host with these services until it stops or the time is up, then records its faulted services as run does.
    private static async Task<(WorkerExit Exit, bool TimedOut)> RunHostAsync(TimeSpan limit, Action<IServiceCollection> services)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        services(builder.Services);
        using var host = builder.Build();

        var hosted = host.Services.GetServices<IHostedService>().ToList(); // RunAsync disposes the host's services
        using var stop = new CancellationTokenSource(limit);
        await host.RunAsync(stop.Token);

        var exit = new WorkerExit();
        exit.FailOnFaultedServices(hosted);
        return (exit, stop.IsCancellationRequested);
    }

    private sealed class Throws : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(50, stoppingToken);
            throw new InvalidOperationException("the probe broke");
        }
    }

    private sealed class EndsWell : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }

    private sealed class RunsUntilStopped : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.Infinite, stoppingToken);
    }
}
