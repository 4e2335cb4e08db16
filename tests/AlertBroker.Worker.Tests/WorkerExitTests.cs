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
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHostedService<Throws>();
        builder.Services.AddHostedService<EndsWell>();
        using var host = builder.Build();

        var hosted = host.Services.GetServices<IHostedService>().ToList(); // RunAsync disposes the host's services
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.RunAsync(timeout.Token); // returns: that is the trap
        Assert.False(timeout.IsCancellationRequested, "the host should have stopped on the failure");

        var exit = new WorkerExit();
        exit.FailOnFaultedServices(hosted);
        Assert.Equal(WorkerExit.FatalRuntimeError, exit.Code);
        Assert.Equal("Throws failed: InvalidOperationException: the probe broke", exit.Reason);
    }

    [Fact]
    public async Task BackgroundServicesThatEndWellOrAreCancelled_ExitStaysClean()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHostedService<EndsWell>();
        builder.Services.AddHostedService<RunsUntilStopped>();
        using var host = builder.Build();

        var hosted = host.Services.GetServices<IHostedService>().ToList();
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await host.RunAsync(stop.Token);

        var exit = new WorkerExit();
        exit.FailOnFaultedServices(hosted);
        Assert.Equal(WorkerExit.CleanStop, exit.Code);
        Assert.Null(exit.Reason);
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
