using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Tenancy;
using Saas.Web.Api;
using Saas.Web.Audit;
using Saas.Web.Tenancy;

namespace Saas.Web.OAuth;

/// <param name="Type"><c>confidential</c> (default: a server that keeps a secret) or <c>public</c> (PKCE only, no secret).</param>
/// <param name="RedirectUris">Where the authorization endpoint may send codes (exact match).</param>
public sealed record OAuthClientRequest(string? Name, IReadOnlyList<string>? Scopes, string? Type = null, IReadOnlyList<string>? RedirectUris = null);

public sealed record OAuthClientDto(
    string ClientId, string Name, string Type, IReadOnlyList<string> Scopes, IReadOnlyList<string> RedirectUris, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// The secret appears in this answer only (public clients have none); the endpoints are the discovery
/// document's <c>token_endpoint</c> and <c>authorization_endpoint</c>.
/// </summary>
public sealed record CreatedOAuthClientDto(
    string ClientId, string? ClientSecret, string Name, string Type, IReadOnlyList<string> Scopes, IReadOnlyList<string> RedirectUris,
    string TokenEndpoint, string AuthorizationEndpoint);

/// <summary><c>/api/v1/oauth/clients</c>: a tenant's apps: client credentials, or authorization code + PKCE for apps acting for a signed-in member.</summary>
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
        var origin = $"{context.Request.Scheme}://{context.Request.Host}";
        var client = issued.Client;
        return TypedResults.Created($"/api/v1/oauth/clients/{client.ClientId}", new CreatedOAuthClientDto(
            client.ClientId, issued.Secret, client.Name, client.Type, client.Scopes, client.RedirectUris, origin + OAuthServer.TokenPath, origin + OAuthServer.AuthorizePath));
    }

    private static OAuthClientDto ToDto(OAuthClient client) => new(
        client.ClientId, client.Name, client.Type, client.Scopes, client.RedirectUris, DateTimeOffset.FromUnixTimeMilliseconds(client.CreatedAt),
        client.RevokedAt is { } revoked ? DateTimeOffset.FromUnixTimeMilliseconds(revoked) : null);
}
