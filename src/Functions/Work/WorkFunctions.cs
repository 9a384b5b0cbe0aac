using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Saas.Pipelines.Runs;

namespace Saas.Functions.Work;

/// <summary>Executes work items from the Storage queue, and relays committed work whose message was lost (decision 015).</summary>
public sealed class WorkFunctions(WorkMessageHandler handler, StorageWorkQueue transport)
{
    /// <summary>The queue named by Flowgate:Queue:Name (its default); the connection is the FlowgateStorage settings.</summary>
    public const string Queue = "flowgate-work";

    /// <summary>One work item: the engine's executor, then the messages for what its commit made necessary.</summary>
    [Function("Work")]
    public Task<WorkMessageOutcome> ExecuteAsync([QueueTrigger(Queue, Connection = "FlowgateStorage")] QueueMessage message, CancellationToken cancellationToken) =>
        handler.HandleAsync(message.Body.ToString(), message.DequeueCount, cancellationToken, message.InsertedOn);

    /// <summary>The outbox relay: due retries and items whose lease ran out without their message being processed.</summary>
    [Function("Relay")]
    public Task<int> RelayAsync([TimerTrigger("*/5 * * * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        transport.RelayDueAsync(1_000, cancellationToken);
}
