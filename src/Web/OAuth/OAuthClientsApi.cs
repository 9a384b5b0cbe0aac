using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Tenancy;
using Saas.Web.Api;
using Saas.Web.Audit;
using Saas.Web.Tenancy;

namespace Saas.Web.OAuth;

public sealed record OAuthClientRequest(string? Name, IReadOnlyList<string>? Scopes);

public sealed record OAuthClientDto(string ClientId, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>The secret appears in this answer only; the token endpoint is the discovery document's <c>token_endpoint</c>.</summary>
public sealed record CreatedOAuthClientDto(string ClientId, string ClientSecret, string Name, IReadOnlyList<string> Scopes, string TokenEndpoint);

/// <summary><c>/api/v1/oauth/clients</c>: a tenant's apps that get access tokens with client credentials.</summary>
public static class OAuthClientsApi
{
    public static RouteGroupBuilder MapOAuthClientsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/oauth/clients").WithTags("OAuth clients");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", (CurrentTenant tenant, OAuthClientStore clients) => TypedResults.Ok(clients.List(tenant.Id).Select(ToDto).ToList()));
        group.MapDelete("/{clientId}", async Task<Results<NoContent, ProblemHttpResult>> (string clientId, HttpContext context, CurrentTenant tenant, OAuthClientChanges changes, CancellationToken ct) =>
            await changes.RevokeAsync(tenant.Id, context.Actor(), clientId, ct) ? TypedResults.NoContent() : Problems.NotFound("OAuth client", clientId));
        return group;
    }

    private static async Task<Results<Created<CreatedOAuthClientDto>, ProblemHttpResult>> CreateAsync(
        OAuthClientRequest request, HttpContext context, CurrentTenant tenant, OAuthClientChanges changes, CancellationToken cancellationToken)
    {
        var change = await changes.CreateAsync(tenant.Id, context.Actor(), request, cancellationToken);
        if (change.Saved is not { } issued)
        {
            return Problems.Invalid("Invalid OAuth client", change.Errors);
        }
        var tokenEndpoint = $"{context.Request.Scheme}://{context.Request.Host}/connect/token";
        return TypedResults.Created($"/api/v1/oauth/clients/{issued.Client.ClientId}",
            new CreatedOAuthClientDto(issued.Client.ClientId, issued.Secret, issued.Client.Name, issued.Client.Scopes, tokenEndpoint));
    }

    private static OAuthClientDto ToDto(OAuthClient client) => new(
        client.ClientId, client.Name, client.Scopes, DateTimeOffset.FromUnixTimeMilliseconds(client.CreatedAt),
        client.RevokedAt is { } revoked ? DateTimeOffset.FromUnixTimeMilliseconds(revoked) : null);
}
