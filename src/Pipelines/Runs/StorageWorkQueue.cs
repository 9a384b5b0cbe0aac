using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Saas.Pipelines.AzureStorage;
using Saas.Pipelines.Telemetry;

namespace Saas.Pipelines.Runs;

/// <summary>A work item's identity, as a Storage queue message carries it (decision 015).</summary>
public sealed record WorkMessage(long Id, string TenantId, string RunId, string Kind, long StepIndex, long Chunk, long Attempt)
{
    public static WorkMessage Of(WorkItem item) => new(item.Id, item.TenantId, item.RunId, item.Kind, item.StepIndex, item.Chunk, item.Attempt);

    public WorkItem ToItem() => new(Id, TenantId, RunId, Kind, StepIndex, Chunk, Attempt);

    /// <returns>null, with the reason, when the body is not a work message.</returns>
    public static WorkMessage? Decode(string body, out string? problem)
    {
        try
        {
            var message = JsonSerializer.Deserialize<WorkMessage>(body, Json);
            problem = message is null || string.IsNullOrEmpty(message.TenantId) || string.IsNullOrEmpty(message.RunId) || message.Kind is not (WorkKinds.Split or WorkKinds.Step or WorkKinds.Sink)
                ? "the message is JSON but not a work item (needs id, tenantId, runId, kind split|step|sink, stepIndex, chunk, attempt)"
                : null;
            return problem is null ? message : null;
        }
        catch (JsonException error)
        {
            problem = $"the message is not a JSON work item: {error.Message}";
            return null;
        }
    }

    public string Encode() => JsonSerializer.Serialize(this, Json);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}

/// <summary>
/// The Azure Storage queue that carries work to the Functions app (<c>Flowgate:Queue:Provider=azure-storage</c>).
/// The SQL work_items table stays the source of truth: a message is sent only after the transaction
/// that created its item committed, and an item whose message got lost is sent again once its lease
/// runs out (<see cref="RelayDueAsync"/>), so the table and the queue cannot disagree for longer than a lease.
/// </summary>
public sealed class StorageWorkQueue
{
    private readonly WorkQueue _queue;
    private Task? _created;

    public StorageWorkQueue(QueueServiceClient service, WorkQueue queue, IOptions<FlowgateOptions> options)
    {
        _queue = queue;
        var name = options.Value.Queue.Name;
        Work = service.GetQueueClient(name);
        Poison = service.GetQueueClient($"{name}-poison");
    }

    public QueueClient Work { get; }

    public QueueClient Poison { get; }

    public async Task SendAsync(IEnumerable<WorkItem> items, CancellationToken cancellationToken)
    {
        await CreatedAsync(cancellationToken);
        await Task.WhenAll(items.Select(item => Work.SendMessageAsync(WorkMessage.Of(item).Encode(), cancellationToken)));
    }

    /// <summary>The outbox relay: leases due items (new retries, lost messages, expired leases) and sends a message for each.</summary>
    /// <returns>How many were sent.</returns>
    public async Task<int> RelayDueAsync(int max, CancellationToken cancellationToken)
    {
        var due = await _queue.LeaseDue(max, cancellationToken);
        await SendAsync(due, cancellationToken);
        return due.Count;
    }

    /// <summary>Creates the queues once; a failed attempt (storage unreachable) is tried again next time.</summary>
    private Task CreatedAsync(CancellationToken cancellationToken)
    {
        var created = _created;
        if (created is null || created.IsFaulted || created.IsCanceled)
        {
            _created = created = Task.WhenAll(Work.CreateIfNotExistsAsync(), Poison.CreateIfNotExistsAsync());
        }
        return created.WaitAsync(cancellationToken);
    }

    /// <summary>Moves a message that cannot be processed to the poison queue, with why.</summary>
    public async Task SendToPoisonAsync(string body, string reason, CancellationToken cancellationToken)
    {
        await CreatedAsync(cancellationToken);
        await Poison.SendMessageAsync(JsonSerializer.Serialize(new { reason, message = body }), cancellationToken);
    }
}

public enum WorkMessageOutcome
{
    /// <summary>The item was executed and its effects committed (or its failure recorded for a retry).</summary>
    Executed,

    /// <summary>A duplicate of work already done or moved on: nothing was executed.</summary>
    Stale,

    /// <summary>Moved to the poison queue with its reason; the run, if there is one, failed.</summary>
    Poisoned,
}

/// <summary>
/// Executes one work message with the same executor the embedded workers use, then sends the work its
/// commit made necessary. The caller deletes the message when this returns (the Functions host does so
/// when the function returns); if this throws, the message is delivered again.
/// </summary>
public sealed partial class WorkMessageHandler(StorageWorkQueue transport, WorkQueue queue, RunExecutor executor, IOptions<FlowgateOptions> options, ILogger<WorkMessageHandler> logger)
{
    /// <param name="insertedAt">When the message was enqueued, for the queue-lag metric.</param>
    public async Task<WorkMessageOutcome> HandleAsync(string body, long dequeueCount, CancellationToken cancellationToken, DateTimeOffset? insertedAt = null)
    {
        if (insertedAt is { } enqueued)
        {
            FlowgateTelemetry.Lag(QueueOptions.AzureStorage, DateTimeOffset.UtcNow - enqueued);
        }
        if (WorkMessage.Decode(body, out var problem) is not { } message)
        {
            LogPoisoned(logger, problem!);
            await transport.SendToPoisonAsync(body, problem!, cancellationToken);
            return WorkMessageOutcome.Poisoned;
        }
        var item = message.ToItem();
        var limit = options.Value.Queue.MaxDequeueCount;
        if (dequeueCount > limit)
        {
            var reason = $"{item.Describe()}: its message was delivered {dequeueCount} times without completing " +
                $"(Flowgate:Queue:MaxDequeueCount is {limit}); last error: {queue.LastError(item) ?? "none recorded (the worker stopped before recording one)"}";
            LogPoisoned(logger, reason);
            await transport.SendToPoisonAsync(body, reason, cancellationToken);
            await executor.FailUndeliverableAsync(item, reason, cancellationToken);
            return WorkMessageOutcome.Poisoned;
        }
        if (!await queue.ClaimAsync(item, cancellationToken))
        {
            return WorkMessageOutcome.Stale;
        }
        var next = await executor.ExecuteAndCommitAsync(item, cancellationToken);
        await transport.SendAsync(next, cancellationToken);
        return WorkMessageOutcome.Executed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work message moved to the poison queue: {Reason}")]
    private static partial void LogPoisoned(ILogger logger, string reason);
}

/// <summary>
/// Sends the work this process makes necessary (runs created by triggers, chunks published by a split)
/// to the Storage queue instead of executing it here; those items are committed already.
/// </summary>
public sealed partial class DispatchedWorkForwarder(WorkDispatcher dispatcher, StorageWorkQueue transport, ILogger<DispatchedWorkForwarder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<WorkItem>();
        while (!stoppingToken.IsCancellationRequested)
        {
            await dispatcher.WaitForWorkAsync(stoppingToken);
            batch.Clear();
            while (batch.Count < 256 && dispatcher.TryTake(out var work))
            {
                batch.Add(work.Item);
            }
            try
            {
                await transport.SendAsync(batch, stoppingToken);
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                // Each item stays leased in work_items; the relay sends it when its lease runs out.
                LogForwardFailed(logger, batch.Count, error);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending {Count} work items to the Storage queue failed; the relay will send them when their leases run out")]
    private static partial void LogForwardFailed(ILogger logger, int count, Exception error);
}

public static class StorageWorkQueueServiceCollectionExtensions
{
    /// <summary>
    /// Work travels through the Storage queue of <c>ConnectionStrings:Queues</c>, when
    /// <c>Flowgate:Queue:Provider</c> is <c>azure-storage</c>; with <c>sql</c> (the default) nothing is added.
    /// </summary>
    public static IServiceCollection AddStorageQueueWork(this IServiceCollection services, IConfiguration configuration)
    {
        var provider = configuration[$"{FlowgateOptions.Section}:Queue:Provider"] ?? QueueOptions.Sql;
        if (provider == QueueOptions.Sql)
        {
            return services;
        }
        if (provider != QueueOptions.AzureStorage)
        {
            throw new InvalidOperationException($"Flowgate:Queue:Provider is '{provider}': use '{QueueOptions.Sql}' (the default) or '{QueueOptions.AzureStorage}'");
        }
        services.AddSingleton(sp => new StorageWorkQueue(
            StorageConnections.Queues(sp.GetRequiredService<IConfiguration>(), "Flowgate:Queue:Provider=azure-storage"),
            sp.GetRequiredService<WorkQueue>(), sp.GetRequiredService<IOptions<FlowgateOptions>>()));
        services.AddSingleton<WorkMessageHandler>();
        services.AddHostedService<DispatchedWorkForwarder>();
        services.AddHostedService<RunFinishWatcher>();
        return services;
    }
}
