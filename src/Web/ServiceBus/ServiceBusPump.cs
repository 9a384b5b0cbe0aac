using Azure.Messaging.ServiceBus;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.ServiceBus;

namespace Saas.Web.ServiceBus;

/// <summary>
/// Keeps one <see cref="ServiceBusProcessor"/> per active pipeline whose queue trigger names a Service
/// Bus queue or topic subscription, and hands each message to <see cref="ServiceBusMessageHandler"/>,
/// which completes it only after the run is committed. Pipelines are re-read every half minute.
/// </summary>
public sealed partial class ServiceBusPump(PipelineStore pipelines, ServiceBusConnections connections, ServiceBusMessageHandler handler, ILogger<ServiceBusPump> logger) : BackgroundService
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, Listener> _listeners = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await SyncAsync(stoppingToken);
                }
                catch (Exception error) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSyncFailed(logger, error);
                }
                await Task.Delay(Refresh, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var listener in _listeners.Values)
            {
                await listener.DisposeAsync();
            }
            _listeners.Clear();
        }
    }

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        var wanted = new Dictionary<string, (PipelineRow Pipeline, ServiceBusSource Source)>(StringComparer.Ordinal);
        foreach (var pipeline in pipelines.ListQueueTriggeredAcrossTenants())
        {
            if (pipelines.GetCompiled(pipeline.TenantId, pipeline.Id, pipeline.CurrentVersion).Definition.Trigger.ServiceBus is { } source)
            {
                wanted[$"{pipeline.TenantId}/{pipeline.Id}/{source.Connection}/{source.Entity}"] = (pipeline, source);
            }
        }
        foreach (var key in _listeners.Keys.Where(key => !wanted.ContainsKey(key)).ToList())
        {
            await _listeners[key].DisposeAsync();
            _listeners.Remove(key);
        }
        foreach (var (key, (pipeline, source)) in wanted.Where(w => !_listeners.ContainsKey(w.Key)))
        {
            var connectionString = connections.Reveal(pipeline.TenantId, source.Connection);
            if (connectionString is null)
            {
                LogMissingConnection(logger, pipeline.Id, source.Connection);
                continue;
            }
            var client = new ServiceBusClient(connectionString);
            var options = new ServiceBusProcessorOptions { AutoCompleteMessages = false, MaxConcurrentCalls = 4 };
            var processor = source.Queue is not null
                ? client.CreateProcessor(source.Queue, options)
                : client.CreateProcessor(source.Topic, source.Subscription, options);
            var (tenantId, pipelineId) = (pipeline.TenantId, pipeline.Id);
            processor.ProcessMessageAsync += args => handler.HandleAsync(tenantId, pipelineId, new ProcessorDelivery(args), args.CancellationToken);
            processor.ProcessErrorAsync += args =>
            {
                LogReceiveFailed(logger, pipelineId, source.Entity, args.Exception);
                return Task.CompletedTask;
            };
            await processor.StartProcessingAsync(cancellationToken);
            _listeners[key] = new Listener(client, processor);
        }
    }

    private sealed record Listener(ServiceBusClient Client, ServiceBusProcessor Processor) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Processor.DisposeAsync();
            await Client.DisposeAsync();
        }
    }

    /// <summary>The broker's side of the seam.</summary>
    internal sealed class ProcessorDelivery(ProcessMessageEventArgs args) : IServiceBusDelivery
    {
        public string MessageId => args.Message.MessageId;

        public BinaryData Body => args.Message.Body;

        public DateTimeOffset EnqueuedAt => args.Message.EnqueuedTime;

        public Task CompleteAsync(CancellationToken cancellationToken) => args.CompleteMessageAsync(args.Message, cancellationToken);

        public Task AbandonAsync(CancellationToken cancellationToken) => args.AbandonMessageAsync(args.Message, cancellationToken: cancellationToken);

        public Task DeadLetterAsync(string reason, string description, CancellationToken cancellationToken) =>
            args.DeadLetterMessageAsync(args.Message, reason, description, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing Service Bus listeners failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline {PipelineId} names Service Bus connection '{Connection}', which its tenant has not saved (PUT /api/v1/servicebus/connections/{Connection})")]
    private static partial void LogMissingConnection(ILogger logger, string pipelineId, string connection);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving from Service Bus {Entity} for pipeline {PipelineId} failed")]
    private static partial void LogReceiveFailed(ILogger logger, string pipelineId, string entity, Exception error);
}
