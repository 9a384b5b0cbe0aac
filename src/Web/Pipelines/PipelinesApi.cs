using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Web.Api;
using Saas.Web.Audit;
using Saas.Web.Tenancy;

namespace Saas.Web.Pipelines;

public sealed record PipelineDto(
    string Id, string Name, long Version, string Status, PipelineTriggerDto Trigger,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, JsonElement? Definition);

public sealed record PipelineTriggerDto(string Type, string? Queue);

public sealed record PipelineVersionDto(long Version, DateTimeOffset CreatedAt, JsonElement Definition);

public sealed record PipelineListDto(IReadOnlyList<PipelineDto> Items);

public sealed record ValidationDto(bool Valid, IReadOnlyList<DefinitionError> Errors);

public static class PipelinesApi
{
    public static RouteGroupBuilder MapPipelinesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/pipelines").WithTags("Pipelines");
        group.MapPost("/", CreateAsync);
        group.MapPost("/validate", ValidateAsync);
        group.MapGet("/", List);
        group.MapGet("/{id}", Get);
        group.MapPut("/{id}", PublishAsync);
        group.MapGet("/{id}/versions", ListVersions);
        group.MapGet("/{id}/versions/{version:long}", GetVersion);
        group.MapPost("/{id}/pause", (string id, HttpContext context, CurrentTenant tenant, PipelineStore pipelines, AuditLog audit, CancellationToken ct) => SetStatusAsync(id, PipelineStatus.Paused, context, tenant, pipelines, audit, ct));
        group.MapPost("/{id}/resume", (string id, HttpContext context, CurrentTenant tenant, PipelineStore pipelines, AuditLog audit, CancellationToken ct) => SetStatusAsync(id, PipelineStatus.Active, context, tenant, pipelines, audit, ct));
        return group;
    }

    private static async Task<Results<Created<PipelineDto>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, CurrentTenant tenant, PipelineStore pipelines, PublishChecks checks, AuditLog audit, CancellationToken cancellationToken)
    {
        var (definition, problem) = await ReadDefinitionAsync(request, tenant, checks, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        var row = await pipelines.CreateAsync(tenant.Id, definition!.Value.Json, definition.Value.Pipeline, cancellationToken);
        await audit.AppendAsync(tenant.Id, request.HttpContext.Actor(), "pipeline.created", "pipeline", row.Id, new { row.Name, version = row.CurrentVersion }, cancellationToken);
        return TypedResults.Created($"/api/v1/pipelines/{row.Id}", row.ToDto(definition.Value.Json));
    }

    private static async Task<Results<Ok<PipelineDto>, ProblemHttpResult>> PublishAsync(
        string id, HttpRequest request, CurrentTenant tenant, PipelineStore pipelines, PublishChecks checks, AuditLog audit, CancellationToken cancellationToken)
    {
        if (pipelines.Find(tenant.Id, id) is null)
        {
            return Problems.NotFound("pipeline", id);
        }
        var (definition, problem) = await ReadDefinitionAsync(request, tenant, checks, cancellationToken, id);
        if (problem is not null)
        {
            return problem;
        }
        var row = await pipelines.PublishAsync(tenant.Id, id, definition!.Value.Json, definition.Value.Pipeline, cancellationToken);
        if (row is null)
        {
            return Problems.NotFound("pipeline", id);
        }
        await audit.AppendAsync(tenant.Id, request.HttpContext.Actor(), "pipeline.published", "pipeline", id, new { version = row.CurrentVersion }, cancellationToken);
        return TypedResults.Ok(row.ToDto(definition.Value.Json));
    }

    private static async Task<Results<Ok<ValidationDto>, ProblemHttpResult>> ValidateAsync(HttpRequest request, CurrentTenant tenant, PublishChecks checks, CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            var result = DefinitionParser.Parse(document!.RootElement);
            var errors = result.IsValid ? checks.Check(tenant.Id, result.Pipeline!) : result.Errors;
            return TypedResults.Ok(new ValidationDto(errors.Count == 0, errors));
        }
    }

    private static Ok<PipelineListDto> List(CurrentTenant tenant, PipelineStore pipelines) =>
        TypedResults.Ok(new PipelineListDto(pipelines.List(tenant.Id).Select(p => p.ToDto(null)).ToList()));

    private static Results<Ok<PipelineDto>, ProblemHttpResult> Get(string id, CurrentTenant tenant, PipelineStore pipelines)
    {
        var row = pipelines.Find(tenant.Id, id);
        if (row is null)
        {
            return Problems.NotFound("pipeline", id);
        }
        var version = pipelines.FindVersion(tenant.Id, id, row.CurrentVersion);
        return TypedResults.Ok(row.ToDto(version?.Definition));
    }

    private static Results<Ok<IReadOnlyList<PipelineVersionDto>>, ProblemHttpResult> ListVersions(string id, CurrentTenant tenant, PipelineStore pipelines)
    {
        if (pipelines.Find(tenant.Id, id) is null)
        {
            return Problems.NotFound("pipeline", id);
        }
        return TypedResults.Ok<IReadOnlyList<PipelineVersionDto>>(pipelines.ListVersions(tenant.Id, id).Select(v => v.ToDto()).ToList());
    }

    private static Results<Ok<PipelineVersionDto>, ProblemHttpResult> GetVersion(string id, long version, CurrentTenant tenant, PipelineStore pipelines)
    {
        var row = pipelines.FindVersion(tenant.Id, id, version);
        return row is null ? Problems.NotFound("pipeline version", $"{id}/{version}") : TypedResults.Ok(row.ToDto());
    }

    private static async Task<Results<Ok<PipelineDto>, ProblemHttpResult>> SetStatusAsync(
        string id, string status, HttpContext context, CurrentTenant tenant, PipelineStore pipelines, AuditLog audit, CancellationToken cancellationToken)
    {
        var row = await pipelines.SetStatusAsync(tenant.Id, id, status, cancellationToken);
        if (row is null)
        {
            return Problems.NotFound("pipeline", id);
        }
        await audit.AppendAsync(tenant.Id, context.Actor(), status == PipelineStatus.Paused ? "pipeline.paused" : "pipeline.resumed", "pipeline", id, null, cancellationToken);
        return TypedResults.Ok(row.ToDto(null));
    }

    private static async Task<((string Json, CompiledPipeline Pipeline)? Definition, ProblemHttpResult? Problem)> ReadDefinitionAsync(
        HttpRequest request, CurrentTenant tenant, PublishChecks checks, CancellationToken cancellationToken, string? pipelineId = null)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }
        using (document)
        {
            var result = DefinitionParser.Parse(document!.RootElement);
            if (!result.IsValid)
            {
                return (null, Problems.InvalidDefinition(result.Errors));
            }
            if (checks.Check(tenant.Id, result.Pipeline!, pipelineId) is { Count: > 0 } missing)
            {
                return (null, Problems.InvalidDefinition(missing));
            }
            return ((document.RootElement.GetRawText(), result.Pipeline!), null);
        }
    }

    private static PipelineDto ToDto(this PipelineRow row, string? definition) => new(
        row.Id, row.Name, row.CurrentVersion, row.Status, new PipelineTriggerDto(row.TriggerType, row.TriggerQueue),
        DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt),
        definition is null ? null : JsonSerializer.Deserialize<JsonElement>(definition));

    private static PipelineVersionDto ToDto(this PipelineVersionRow row) => new(
        row.Version, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt), JsonSerializer.Deserialize<JsonElement>(row.Definition));
}
