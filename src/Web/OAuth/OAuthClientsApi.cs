using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Definitions;
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
        group.MapDelete("/{clientId}", async Task<Results<NoContent, ProblemHttpResult>> (string clientId, HttpContext context, CurrentTenant tenant, OAuthClientStore clients, AuditLog audit, CancellationToken ct) =>
        {
            if (!await clients.RevokeAsync(tenant.Id, clientId, ct))
            {
                return Problems.NotFound("OAuth client", clientId);
            }
            await audit.AppendAsync(tenant.Id, context.Actor(), "oauth_client.revoked", "oauth_client", clientId, null, ct);
            return TypedResults.NoContent();
        });
        return group;
    }

    private static async Task<Results<Created<CreatedOAuthClientDto>, ProblemHttpResult>> CreateAsync(
        OAuthClientRequest request, HttpContext context, CurrentTenant tenant, OAuthClientStore clients, AuditLog audit, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            errors.Add(new("name", "is required: 1-100 characters that tell the app apart, e.g. \"crm-sync\""));
        }
        var scopes = request.Scopes ?? [];
        if (scopes.Count == 0)
        {
            errors.Add(new("scopes", $"must list at least one of {string.Join(", ", Scopes.All)}"));
        }
        foreach (var unknown in scopes.Except(Scopes.All))
        {
            errors.Add(new("scopes", $"'{unknown}' is not a scope; use {string.Join(", ", Scopes.All)}"));
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid("Invalid OAuth client", errors);
        }
        var issued = await clients.CreateAsync(tenant.Id, request.Name!.Trim(), scopes.Distinct().ToList(), cancellationToken);
        await audit.AppendAsync(tenant.Id, context.Actor(), "oauth_client.created", "oauth_client", issued.Client.ClientId, new { issued.Client.Name, issued.Client.Scopes }, cancellationToken);
        var tokenEndpoint = $"{context.Request.Scheme}://{context.Request.Host}/connect/token";
        return TypedResults.Created($"/api/v1/oauth/clients/{issued.Client.ClientId}",
            new CreatedOAuthClientDto(issued.Client.ClientId, issued.Secret, issued.Client.Name, issued.Client.Scopes, tokenEndpoint));
    }

    private static OAuthClientDto ToDto(OAuthClient client) => new(
        client.ClientId, client.Name, client.Scopes, DateTimeOffset.FromUnixTimeMilliseconds(client.CreatedAt),
        client.RevokedAt is { } revoked ? DateTimeOffset.FromUnixTimeMilliseconds(revoked) : null);
}
