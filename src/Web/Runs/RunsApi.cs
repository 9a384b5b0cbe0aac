using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Triggers;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Runs;

public static class RunsApi
{
    private const int MaxWaitSeconds = 60;

    public static RouteGroupBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Runs");
        group.MapPost("/pipelines/{id}/runs", StartAsync);
        group.MapPost("/pipelines/{id}/uploads", UploadAsync).WithMetadata(new DisableRequestSizeLimitAttribute());
        group.MapGet("/runs", List);
        group.MapGet("/runs/{id}", Get);
        group.MapGet("/runs/{id}/output", OutputAsync);
        group.MapGet("/runs/{id}/steps/{stepId}/output", StepOutputAsync);
        group.MapPost("/runs/{id}/replay", ReplayAsync);
        group.MapPost("/runs/{id}/cancel", CancelAsync);
        return group;
    }

    private static async Task<Results<Accepted<RunDto>, Ok<RunDto>, ProblemHttpResult>> StartAsync(
        string id, HttpRequest request, CurrentTenant tenant, PipelineStore pipelines, RunStarter starter, RunStore runs, RunSignals signals,
        bool? wait, int? timeoutSeconds, CancellationToken cancellationToken)
    {
        var (pipeline, refused) = Runnable(tenant.Id, id, pipelines);
        if (refused is not null)
        {
            return refused;
        }
        var (document, problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            if (RunStarter.ValidateRecords(document!.RootElement) is { } invalid)
            {
                return Problems.From(RequestRefusal.InvalidRecords(invalid));
            }
            var prepared = await starter.PrepareAsync(tenant.Id, pipeline!, document.RootElement, TriggerTypes.Http, cancellationToken);
            if (wait != true)
            {
                var run = await starter.CreateAsync(prepared, cancellationToken);
                return TypedResults.Accepted($"/api/v1/runs/{run.Id}", run.ToDto());
            }
            var finished = await WaitAsync(prepared, starter, runs, signals, Math.Clamp(timeoutSeconds ?? 30, 1, MaxWaitSeconds), cancellationToken);
            return RunStatus.IsFinished(finished.Status)
                ? TypedResults.Ok(Detailed(finished, pipelines, runs))
                : TypedResults.Accepted($"/api/v1/runs/{finished.Id}", Detailed(finished, pipelines, runs));
        }
    }

    private static async Task<Results<Accepted<RunDto>, ProblemHttpResult>> UploadAsync(
        string id, HttpRequest request, CurrentTenant tenant, PipelineStore pipelines, RunStarter starter, CancellationToken cancellationToken)
    {
        var (pipeline, refused) = Runnable(tenant.Id, id, pipelines);
        if (refused is not null)
        {
            return refused;
        }
        if (pipeline!.TriggerType != TriggerTypes.Upload)
        {
            return Problems.Conflict("Pipeline is not upload-triggered",
                $"Pipeline '{id}' is triggered by '{pipeline.TriggerType}'. Give it an upload trigger ({{\"type\":\"upload\",\"format\":\"csv\"}}) or POST JSON records to /api/v1/pipelines/{id}/runs.");
        }
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
        var run = await starter.StartUploadAsync(tenant.Id, pipeline, request.Body, cancellationToken);
        return TypedResults.Accepted($"/api/v1/runs/{run.Id}", run.ToDto());
    }

    private static Results<Ok<RunPageDto>, ProblemHttpResult> List(
        CurrentTenant tenant, RunStore runs, string? pipelineId, string? status, int? limit, string? cursor)
    {
        if (status is not null && !RunStatus.All.Contains(status))
        {
            return Problems.BadRequest("Unknown status", $"status must be one of {string.Join(", ", RunStatus.All)}.");
        }
        var page = runs.List(tenant.Id, pipelineId, status, Math.Clamp(limit ?? 50, 1, 500), cursor);
        return TypedResults.Ok(new RunPageDto(page.Runs.Select(r => r.ToDto()).ToList(), page.NextCursor));
    }

    private static Results<Ok<RunDto>, ProblemHttpResult> Get(string id, CurrentTenant tenant, RunStore runs, PipelineStore pipelines)
    {
        var run = runs.Find(tenant.Id, id);
        return run is null ? Problems.NotFound("run", id) : TypedResults.Ok(Detailed(run, pipelines, runs));
    }

    internal static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> OutputAsync(string id, CurrentTenant tenant, RunStore runs, SmallBlobs blobs, CancellationToken cancellationToken)
    {
        var run = runs.Find(tenant.Id, id);
        if (run is null)
        {
            return Problems.NotFound("run", id);
        }
        if (run.Status != RunStatus.Succeeded || run.OutputKey is null)
        {
            return Problems.Conflict("Run has no output yet", $"Run '{id}' is {run.Status}; its output exists once it has succeeded." + (run.Error is null ? "" : $" Error: {run.Error}"));
        }
        var extension = Path.GetExtension(run.OutputKey).TrimStart('.');
        var contentType = extension switch { "csv" => "text/csv", "json" => "application/json", _ => "application/x-ndjson" };
        return TypedResults.Stream(await blobs.OpenReadAsync(tenant.Id, run.OutputKey, cancellationToken), contentType, $"{run.Id}.{extension}");
    }

    internal static Results<PushStreamHttpResult, ProblemHttpResult> StepOutputAsync(string id, string stepId, CurrentTenant tenant, RunStore runs, PipelineStore pipelines, SmallBlobs blobs)
    {
        var run = runs.Find(tenant.Id, id);
        if (run is null)
        {
            return Problems.NotFound("run", id);
        }
        var step = pipelines.GetCompiled(tenant.Id, run.PipelineId, run.Version).Steps.FirstOrDefault(s => s.Id == stepId);
        if (step is null)
        {
            return Problems.NotFound("step", stepId);
        }
        var committed = runs.StepRuns(tenant.Id, id).Where(s => s.StepIndex == step.Index && s.Status == StepStatus.Succeeded).Select(s => s.Chunk).ToList();
        return TypedResults.Stream(async body =>
        {
            foreach (var chunk in committed)
            {
                await using var output = await blobs.OpenReadAsync(tenant.Id, BlobKeys.StepOutput(tenant.Id, id, chunk, step.Index), CancellationToken.None);
                await output.CopyToAsync(body);
            }
        }, "application/x-ndjson", $"{id}-{stepId}.jsonl");
    }

    private static async Task<Results<Accepted<RunDto>, ProblemHttpResult>> ReplayAsync(string id, CurrentTenant tenant, RunStarter starter, CancellationToken cancellationToken)
    {
        var run = await starter.ReplayAsync(tenant.Id, id, cancellationToken);
        return run is null ? Problems.NotFound("run", id) : TypedResults.Accepted($"/api/v1/runs/{run.Id}", run.ToDto());
    }

    private static async Task<Results<Ok<RunDto>, ProblemHttpResult>> CancelAsync(string id, CurrentTenant tenant, RunStore runs, CancellationToken cancellationToken)
    {
        var run = await runs.CancelAsync(tenant.Id, id, cancellationToken);
        return run is null ? Problems.NotFound("run", id) : TypedResults.Ok(run.ToDto());
    }

    private static (PipelineRow? Pipeline, ProblemHttpResult? Refused) Runnable(string tenantId, string id, PipelineStore pipelines)
    {
        var (pipeline, refused) = RequestRefusal.Runnable(pipelines, tenantId, id);
        return (pipeline, refused is null ? null : Problems.From(refused));
    }

    /// <summary>Creates the run and waits (bounded) for it to finish; the waiter is registered first so no finish is missed.</summary>
    private static async Task<RunRow> WaitAsync(NewRun prepared, RunStarter starter, RunStore runs, RunSignals signals, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var finished = signals.WhenFinished(prepared.Id);
        try
        {
            await starter.CreateAsync(prepared, cancellationToken);
            await finished.WaitAsync(TimeSpan.FromSeconds(timeoutSeconds), cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            signals.Forget(prepared.Id);
        }
        return runs.Find(prepared.TenantId, prepared.Id)!;
    }

    /// <summary>The run with its steps; dead letters exist only for failed runs, so only those look for them.</summary>
    private static RunDto Detailed(RunRow run, PipelineStore pipelines, RunStore runs) =>
        run.ToDto(
            pipelines.GetCompiled(run.TenantId, run.PipelineId, run.Version),
            runs.StepRuns(run.TenantId, run.Id),
            run.Status == RunStatus.Failed ? runs.DeadLetters(run.TenantId, run.Id) : []);
}
