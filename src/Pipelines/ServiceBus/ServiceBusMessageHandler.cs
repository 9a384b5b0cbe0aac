using System.Text.Json;
using Microsoft.Extensions.Logging;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Telemetry;
using Saas.Pipelines.Triggers;

namespace Saas.Pipelines.ServiceBus;

/// <summary>
/// One received Service Bus message and what may be done with it: the seam between the broker
/// (ServiceBusProcessor in the web host) and <see cref="ServiceBusMessageHandler"/>, so handling is
/// tested without a broker.
/// </summary>
public interface IServiceBusDelivery
{
    string MessageId { get; }

    BinaryData Body { get; }

    DateTimeOffset EnqueuedAt { get; }

    Task CompleteAsync(CancellationToken cancellationToken);

    Task AbandonAsync(CancellationToken cancellationToken);

    Task DeadLetterAsync(string reason, string description, CancellationToken cancellationToken);
}

public enum ServiceBusOutcome
{
    /// <summary>The run was committed, then the message completed.</summary>
    Completed,

    /// <summary>Not decodable as records: dead-lettered with the reason.</summary>
    DeadLettered,

    /// <summary>The run could not be committed (or the pipeline is paused): the message goes back for redelivery.</summary>
    Abandoned,
}

/// <summary>Turns a Service Bus message (one JSON record or an array of them) into a run of the pipeline listening to its entity.</summary>
public sealed partial class ServiceBusMessageHandler(PipelineStore pipelines, RunStarter starter, ILogger<ServiceBusMessageHandler> logger)
{
    public const string UndecodableReason = "UndecodableMessage";

    public async Task<ServiceBusOutcome> HandleAsync(string tenantId, string pipelineId, IServiceBusDelivery delivery, CancellationToken cancellationToken)
    {
        FlowgateTelemetry.Lag("service-bus", DateTimeOffset.UtcNow - delivery.EnqueuedAt);
        var pipeline = pipelines.Find(tenantId, pipelineId);
        if (pipeline is null || pipeline.Status != PipelineStatus.Active)
        {
            // The broker's max delivery count dead-letters it if the pipeline never comes back.
            await delivery.AbandonAsync(cancellationToken);
            return ServiceBusOutcome.Abandoned;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(delivery.Body.ToMemory());
        }
        catch (JsonException error)
        {
            await delivery.DeadLetterAsync(UndecodableReason, $"message {delivery.MessageId} is not JSON: {error.Message}", cancellationToken);
            return ServiceBusOutcome.DeadLettered;
        }
        using (document)
        {
            if (RunStarter.ValidateRecords(document.RootElement) is { } invalid)
            {
                await delivery.DeadLetterAsync(UndecodableReason, $"message {delivery.MessageId}: {invalid}; send one JSON object (one record) or an array of objects", cancellationToken);
                return ServiceBusOutcome.DeadLettered;
            }
            try
            {
                await starter.StartAsync(tenantId, pipeline, document.RootElement, TriggerTypes.Queue, cancellationToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogRunNotCommitted(logger, delivery.MessageId, pipelineId, error);
                await delivery.AbandonAsync(cancellationToken);
                return ServiceBusOutcome.Abandoned;
            }
        }
        await delivery.CompleteAsync(cancellationToken);
        return ServiceBusOutcome.Completed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Service Bus message {MessageId} for pipeline {PipelineId} was abandoned: its run could not be committed")]
    private static partial void LogRunNotCommitted(ILogger logger, string messageId, string pipelineId, Exception error);
}
