using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Ai;
using Saas.Web.Api;
using Saas.Web.Audit;
using Saas.Web.Tenancy;

namespace Saas.Web.Ai;

public sealed record ProviderDto(string Name, string Type, string? BaseUrl, string? Deployment, bool HasApiKey, DateTimeOffset UpdatedAt);

public sealed record ModelDto(string Alias, IReadOnlyList<ModelTarget> Targets, DateTimeOffset UpdatedAt);

public sealed record ProviderRequest(string? Type, string? BaseUrl, string? ApiKey, string? Deployment);

public sealed record ModelRequest(IReadOnlyList<ModelTarget?>? Targets);

public sealed record AiRequestDto(
    string Id, string Source, string? KeyId, string? RunId, string Alias, string? Provider, string? Model, string Operation, int Status,
    bool Stream, bool Cached, long InputTokens, long OutputTokens, double CostUsd, double DurationMs, string? Error,
    string? RequestBody, string? ResponseBody, DateTimeOffset CreatedAt);

public sealed record AiRequestPage(IReadOnlyList<AiRequestDto> Items, string? Next);

/// <summary>A tenant's model providers (keys write-only, encrypted at rest) and model aliases with fallback lists.</summary>
public static class AiSettingsApi
{
    public static RouteGroupBuilder MapAiSettingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/ai").WithTags("AI settings");
        group.MapGet("/providers", (CurrentTenant tenant, AiSettingsStore store) => TypedResults.Ok(store.ListProviders(tenant.Id).Select(ToDto).ToList()));
        group.MapPut("/providers/{name}", PutProviderAsync);
        group.MapDelete("/providers/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, HttpContext context, CurrentTenant tenant, AiSettingsChanges changes, CancellationToken ct) =>
            await changes.DeleteProviderAsync(tenant.Id, context.Actor(), name, ct) ? TypedResults.NoContent() : Problems.NotFound("provider", name));
        group.MapGet("/models", (CurrentTenant tenant, AiSettingsStore store) => TypedResults.Ok(store.ListModels(tenant.Id).Select(ToDto).ToList()));
        group.MapPut("/models/{alias}", PutModelAsync);
        group.MapGet("/settings", (CurrentTenant tenant, AiGatewaySettingsStore store) => TypedResults.Ok(store.Get(tenant.Id)));
        group.MapPut("/settings", PutSettingsAsync);
        group.MapGet("/requests", ListRequests);
        group.MapDelete("/models/{alias}", async Task<Results<NoContent, ProblemHttpResult>> (string alias, HttpContext context, CurrentTenant tenant, AiSettingsChanges changes, CancellationToken ct) =>
            await changes.DeleteModelAsync(tenant.Id, context.Actor(), alias, ct) ? TypedResults.NoContent() : Problems.NotFound("model", alias));
        return group;
    }

    private static async Task<Results<Ok<ProviderDto>, ProblemHttpResult>> PutProviderAsync(
        string name, ProviderRequest request, HttpContext context, CurrentTenant tenant, AiSettingsChanges changes, CancellationToken cancellationToken)
    {
        var change = await changes.SaveProviderAsync(tenant.Id, context.Actor(), name, request, cancellationToken);
        return change.Saved is { } saved ? TypedResults.Ok(ToDto(saved)) : Problems.Invalid("Invalid provider", change.Errors);
    }

    private static async Task<Results<Ok<ModelDto>, ProblemHttpResult>> PutModelAsync(
        string alias, ModelRequest request, HttpContext context, CurrentTenant tenant, AiSettingsChanges changes, CancellationToken cancellationToken)
    {
        var change = await changes.SaveModelAsync(tenant.Id, context.Actor(), alias, request, cancellationToken);
        return change.Saved is { } saved ? TypedResults.Ok(ToDto(saved)) : Problems.Invalid("Invalid model", change.Errors);
    }

    private static async Task<Results<Ok<AiGatewaySettings>, ProblemHttpResult>> PutSettingsAsync(
        AiGatewaySettings request, HttpContext context, CurrentTenant tenant, AiSettingsChanges changes, CancellationToken cancellationToken)
    {
        var change = await changes.SaveSettingsAsync(tenant.Id, context.Actor(), request, cancellationToken);
        return change.Saved is { } saved ? TypedResults.Ok(saved) : Problems.Invalid("Invalid AI settings", change.Errors);
    }

    /// <summary>The request log, newest first; <c>cursor</c> is the <c>next</c> of the previous page.</summary>
    private static async Task<Results<Ok<AiRequestPage>, ProblemHttpResult>> ListRequests(
        CurrentTenant tenant, AiRequestLog log, Saas.Web.Gateway.GatewayMeter gatewayCalls, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        await gatewayCalls.WrittenAsync(cancellationToken);
        if (!PageCursor.TryParse(cursor, out var before))
        {
            return PageCursor.Invalid();
        }
        var size = Math.Clamp(limit ?? 50, 1, 500);
        var entries = log.List(tenant.Id, size, before);
        var items = entries.Select(e => new AiRequestDto(e.Id, e.Source, e.KeyId, e.RunId, e.Alias, e.Provider, e.Model, e.Operation, e.Status, e.Stream, e.Cached,
            e.InputTokens, e.OutputTokens, e.CostUsd, e.DurationMs, e.Error, e.RequestBody, e.ResponseBody, DateTimeOffset.FromUnixTimeMilliseconds(e.CreatedAt))).ToList();
        return TypedResults.Ok(new AiRequestPage(items, entries.Count == size ? PageCursor.Of(entries[^1].CreatedAt, entries[^1].Id) : null));
    }

    private static ProviderDto ToDto(ProviderRow row) =>
        new(row.Name, row.Type, row.BaseUrl, row.Deployment, row.ProtectedApiKey is not null, DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt));

    private static ModelDto ToDto(ModelRoute route) => new(route.Alias, route.Targets, DateTimeOffset.FromUnixTimeMilliseconds(route.UpdatedAt));
}
