using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Limits;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Tenancy;
using Saas.Pipelines.Triggers;

namespace Saas.Functions.Triggers;

/// <summary>The finished (or, after the wait, still running) run a synchronous call answers with.</summary>
public sealed record SynchronousRunResult(string Id, string PipelineId, string Status, long? RecordsIn, long? RecordsOut, string? Error);

/// <summary>Triggers that start runs: schedules, uploaded files and synchronous HTTP calls.</summary>
public sealed partial class TriggerFunctions(
    Scheduler scheduler, QueueMessages messages, TenantStore tenants, PipelineStore pipelines, RunStarter starter, RunStore runs, TimeProvider time, ILogger<TriggerFunctions> logger)
{
    /// <summary>Uploads go to <c>uploads/{tenantId}/{pipelineId}/{any name}</c> (decision 016). Flex Consumption delivers blob triggers through Event Grid only.</summary>
    public const string UploadsPath = "uploads/{tenant}/{pipeline}/{name}";

    private const int MaxWaitSeconds = 120;

    [Function("Schedules")]
    public Task<IReadOnlyList<string>> TickAsync([TimerTrigger("*/5 * * * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        scheduler.TickAsync(cancellationToken);

    /// <summary>Messages posted to Flowgate's own queues (POST /api/v1/queues/{queue}/messages) become runs; timers run on one instance at a time, so no message is taken twice.</summary>
    /// <returns>How many messages were taken.</returns>
    [Function("Messages")]
    public Task<int> PumpMessagesAsync([TimerTrigger("*/2 * * * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        messages.PumpAsync(500, cancellationToken);

    /// <summary>
    /// Event Grid delivers at least once, so the same file may arrive twice: the delivery is keyed by the blob's
    /// name and ETag (decision 025), recorded with the run it starts, and a repeat answers that run. An overwrite of the
    /// name has a new ETag and so starts a new run. The content is read under that ETag, so it is the file the key names.
    /// </summary>
    /// <returns>The run the file started (also for a repeated delivery), or null when the path names no upload-triggered, active pipeline of that tenant.</returns>
    [Function("Uploads")]
    public async Task<string?> UploadAsync(
        [BlobTrigger(UploadsPath, Connection = "FlowgateStorage", Source = BlobTriggerSource.EventGrid)] BlobClient file, string tenant, string pipeline, string name, CancellationToken cancellationToken)
    {
        var row = pipelines.Find(tenant, pipeline);
        var refused = row switch
        {
            null => $"tenant '{tenant}' has no pipeline '{pipeline}'",
            { Status: PipelineStatus.Paused } => $"pipeline '{pipeline}' is paused",
            { TriggerType: not TriggerTypes.Upload } => $"pipeline '{pipeline}' is triggered by '{row.TriggerType}', not by uploads",
            _ => null,
        };
        if (refused is not null)
        {
            LogUploadRefused(logger, $"{tenant}/{pipeline}/{name}", refused);
            return null;
        }
        BlobProperties properties = await file.GetPropertiesAsync(cancellationToken: cancellationToken);
        var options = new BlobOpenReadOptions(allowModifications: false) { Conditions = new BlobRequestConditions { IfMatch = properties.ETag } };
        await using var content = await file.OpenReadAsync(options, cancellationToken);
        var start = await starter.StartUploadAsync(tenant, row!, content, $"{file.BlobContainerName}/{file.Name}@{properties.ETag}", cancellationToken);
        if (start.Duplicate)
        {
            LogUploadRepeated(logger, $"{tenant}/{pipeline}/{name}", properties.ETag.ToString(), start.Run.Id);
        }
        else
        {
            LogUploadStarted(logger, $"{tenant}/{pipeline}/{name}", start.Run.Id);
        }
        return start.Run.Id;
    }

    /// <summary>
    /// <c>POST /api/pipelines/{id}/runs?timeoutSeconds=30</c> with an API key: starts a run on the JSON
    /// records and answers when it has finished (200), or with its state when the wait ran out (202).
    /// </summary>
    [Function("SynchronousRun")]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "pipelines/{id}/runs")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var header = request.Headers.Authorization.ToString();
        var key = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? tenants.FindApiKey(header["Bearer ".Length..].Trim()) : null;
        if (key is null)
        {
            return Problem(RequestRefusal.Unauthenticated(keySent: header.Length > 0));
        }
        // The web host's ScopeCheck rule for this route: a scoped key needs runs:write (a full-access key has no list).
        if (key.Scopes is { } scopes && !scopes.Contains(Saas.Pipelines.Tenancy.Scopes.RunsWrite))
        {
            return Problem(RequestRefusal.KeyLacksScope(Saas.Pipelines.Tenancy.Scopes.RunsWrite));
        }
        var (pipeline, refused) = RequestRefusal.Runnable(pipelines, key.TenantId, id);
        if (refused is not null)
        {
            return Problem(refused);
        }
        var (document, malformed) = await RequestRefusal.ReadJsonAsync(request.Body, request.ContentLength, cancellationToken);
        if (malformed is not null)
        {
            return Problem(malformed);
        }
        using (document)
        {
            if (RunStarter.ValidateRecords(document!.RootElement) is { } invalid)
            {
                return Problem(RequestRefusal.InvalidRecords(invalid));
            }
            RunRow run;
            try
            {
                run = await starter.StartAsync(key.TenantId, pipeline!, document.RootElement, TriggerTypes.Http, cancellationToken);
            }
            catch (NewWorkRefusedException limited)
            {
                return Problem(RequestRefusal.Of(limited));
            }
            catch (SpendingRefusedException unpaid)
            {
                return Problem(RequestRefusal.Of(unpaid));
            }
            var timeout = int.TryParse(request.Query["timeoutSeconds"], out var seconds) ? Math.Clamp(seconds, 1, MaxWaitSeconds) : 30;
            var finished = await WaitAsync(key.TenantId, run.Id, TimeSpan.FromSeconds(timeout), cancellationToken);
            var result = new SynchronousRunResult(finished.Id, finished.PipelineId, finished.Status, finished.RecordsIn, finished.RecordsOut, finished.Error);
            return new ObjectResult(result) { StatusCode = RunStatus.IsFinished(finished.Status) ? 200 : 202 };
        }
    }

    /// <summary>The steps run on whichever instance takes their messages, so the run's row is watched rather than an in-process signal.</summary>
    private async Task<RunRow> WaitAsync(string tenantId, string runId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var run = runs.Find(tenantId, runId)!;
            if (RunStatus.IsFinished(run.Status) || time.GetUtcNow() >= deadline)
            {
                return run;
            }
            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 200));
        }
    }

    private static ProblemAnswer Problem(RequestRefusal refused) => new(refused);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload {Path} started no run: {Reason}")]
    private static partial void LogUploadRefused(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {Path} (ETag {ETag}) was delivered again; its run {RunId} was started by the first delivery")]
    private static partial void LogUploadRepeated(ILogger logger, string path, string etag, string runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload {Path} started run {RunId}")]
    private static partial void LogUploadStarted(ILogger logger, string path, string runId);
}
