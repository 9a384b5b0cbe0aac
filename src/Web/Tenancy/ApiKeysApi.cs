using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Tenancy;
using Saas.Web.Api;
using Saas.Web.Audit;

namespace Saas.Web.Tenancy;

/// <param name="Scopes">Leave out for a full-access key (every scope and tenant administration).</param>
public sealed record ApiKeyRequest(string? Name, IReadOnlyList<string>? Scopes);

/// <param name="Scopes">null: full access.</param>
public sealed record ApiKeyDto(string Id, string Name, string Prefix, IReadOnlyList<string>? Scopes, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>The key appears in this answer only.</summary>
public sealed record CreatedApiKeyDto(string Id, string Name, string Key, string Prefix, IReadOnlyList<string>? Scopes);

/// <summary><c>/api/v1/keys</c>: a tenant's API keys, optionally limited to scopes.</summary>
public static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/keys").WithTags("API keys");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", (CurrentTenant tenant, TenantStore tenants) => TypedResults.Ok(tenants.ListApiKeys(tenant.Id).Select(ToDto).ToList()));
        group.MapDelete("/{id}", async Task<Results<NoContent, ProblemHttpResult>> (string id, HttpContext context, CurrentTenant tenant, ApiKeyChanges changes, CancellationToken ct) =>
            await changes.RevokeAsync(tenant.Id, context.Actor(), id, ct) ? TypedResults.NoContent() : Problems.NotFound("API key", id));
        return group;
    }

    private static async Task<Results<Created<CreatedApiKeyDto>, ProblemHttpResult>> CreateAsync(
        ApiKeyRequest request, HttpContext context, CurrentTenant tenant, ApiKeyChanges changes, CancellationToken cancellationToken)
    {
        var change = await changes.CreateAsync(tenant.Id, context.Actor(), request.Name, request.Scopes, cancellationToken);
        return change.Saved is { } key
            ? TypedResults.Created($"/api/v1/keys/{key.Id}", new CreatedApiKeyDto(key.Id, key.Name, key.Secret, key.Prefix, key.Scopes))
            : Problems.Invalid("Invalid API key", change.Errors);
    }

    private static ApiKeyDto ToDto(ApiKeyRow key) => new(
        key.Id, key.Name, key.Prefix, key.ScopeList, DateTimeOffset.FromUnixTimeMilliseconds(key.CreatedAt),
        key.LastUsedAt is { } used ? DateTimeOffset.FromUnixTimeMilliseconds(used) : null,
        key.RevokedAt is { } revoked ? DateTimeOffset.FromUnixTimeMilliseconds(revoked) : null);
}
