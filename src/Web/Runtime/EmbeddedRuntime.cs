using Microsoft.Extensions.Options;
using Saas.Pipelines;
using Saas.Pipelines.Limits;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Triggers;

namespace Saas.Web.Runtime;

public static class EmbeddedRuntime
{
    /// <summary>Workers, scheduler and queue pump in this process, unless <c>Flowgate:Runtime:Embedded</c> is false.</summary>
    public static IServiceCollection AddEmbeddedRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetValue($"{FlowgateOptions.Section}:Runtime:Embedded", true))
        {
            if (configuration[$"{FlowgateOptions.Section}:Queue:Provider"] == QueueOptions.AzureStorage)
            {
                throw new InvalidOperationException(
                    "Flowgate:Queue:Provider=azure-storage sends work to the Functions app: set Flowgate:Runtime:Embedded=false on the web host, or use the sql queue provider to run work here");
            }
            services.AddHostedService<Workers>();
            services.AddHostedService<ScheduleTicks>();
            services.AddHostedService<QueuePump>();
        }
        return services;
    }
}

/// <summary>Executes the work leased to this node, and leases due work (retries, expired leases) when idle enough.</summary>
public sealed partial class Workers(
    WorkDispatcher dispatcher, WorkQueue queue, RunExecutor executor, TenantLimits limits, IOptions<FlowgateOptions> options, ILogger<Workers> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var runtime = options.Value.Runtime;
        var loops = Enumerable.Range(0, runtime.Workers).Select(_ => Task.Run(() => WorkAsync(stoppingToken), stoppingToken)).ToList();
        loops.Add(Task.Run(() => LeaseDueAsync(runtime, stoppingToken), stoppingToken));
        return Task.WhenAll(loops);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await queue.ReleaseLeasesAsync(cancellationToken);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            DispatchedWork work;
            try
            {
                work = await dispatcher.TakeAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            try
            {
                if (work.Backlog && limits.BacklogAtLowPriority)
                {
                    await LowPriorityScheduler.Shared.RunAsync(() => executor.ExecuteAsync(work.Item, work.Run, stoppingToken), stoppingToken);
                }
                else
                {
                    await executor.ExecuteAsync(work.Item, work.Run, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                LogWorkFailed(logger, work.Item.Describe(), error);
            }
            finally
            {
                dispatcher.Finished(work.Item.TenantId);
            }
        }
    }

    /// <summary>
    /// Each tick: renews the leases of items waiting here for a worker (so they are not leased again
    /// elsewhere), then leases due work, each tenant up to the room it has in memory.
    /// </summary>
    private async Task LeaseDueAsync(RuntimeOptions runtime, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(runtime.PollIntervalMilliseconds));
        var renewAfter = TimeSpan.FromSeconds(runtime.LeaseSeconds / 3.0);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var waiting = dispatcher.WaitingLongerThan(renewAfter);
                if (waiting.Count > 0)
                {
                    await queue.ExtendLeasesAsync(waiting, stoppingToken);
                }
                var room = runtime.Workers * 4 - dispatcher.Pending;
                if (room > 0)
                {
                    dispatcher.Dispatch(await queue.LeaseDue(room, stoppingToken, dispatcher.RoomFor));
                }
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                LogPollFailed(logger, error);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Work item {Work} could not be executed; its lease will run out and it will be retried")]
    private static partial void LogWorkFailed(ILogger logger, string work, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Leasing due work failed")]
    private static partial void LogPollFailed(ILogger logger, Exception error);
}

/// <summary>Fires scheduled pipelines once a second.</summary>
public sealed partial class ScheduleTicks(Scheduler scheduler, ILogger<ScheduleTicks> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await scheduler.TickAsync(stoppingToken);
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                LogTickFailed(logger, error);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Schedule tick failed")]
    private static partial void LogTickFailed(ILogger logger, Exception error);
}

/// <summary>Turns posted queue messages into runs as soon as they arrive.</summary>
public sealed partial class QueuePump(QueueMessages messages, ILogger<QueuePump> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await messages.PumpAsync(500, stoppingToken) == 0)
                {
                    await messages.WaitForMessagesAsync(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                LogPumpFailed(logger, error);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue pump failed")]
    private static partial void LogPumpFailed(ILogger logger, Exception error);
}
