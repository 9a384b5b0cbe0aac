using System.Security.Claims;
using OpenIddict.Abstractions;
using Saas.Pipelines.Tenancy;
using Saas.Web.Tenancy;

namespace Saas.Web.OAuth;

/// <summary>
/// Requests with an OAuth access token or a scoped API key: the token's client must still be active
/// (revocation is immediate), the member a token acts for must still belong to the tenant, and the token or
/// key must carry the scope of the endpoint — read for GET, write otherwise; a missing scope answers 403
/// naming it (billing writes need billing:write). Tenant administration (keys, clients, AI settings, audit, secrets) is closed to both.
/// Full-access API keys (no scopes: every key made before scopes existed) act with every scope.
/// </summary>
public static class ScopeCheck
{
    public static IApplicationBuilder UseOAuthClientChecks(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var user = context.User;
        if (user.FindFirstValue(ApiKeyAuthentication.TenantClaim) is not { } tenantId)
        {
            await next(context);
            return;
        }
        var clientId = user.FindFirstValue("client_id");
        if (clientId is not null)
        {
            if (Revoked(context, tenantId, clientId, user) is { } reason)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: reason).ExecuteAsync(context);
                return;
            }
            context.RequestServices.GetRequiredService<CurrentTenant>().Set(tenantId, clientId);
        }
        else if (user.GetScopes().IsEmpty)
        {
            await next(context);
            return;
        }
        var pattern = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        if (pattern is null)
        {
            await next(context);
            return;
        }
        var required = RequiredScope(pattern, HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));
        if (required is not null && user.HasScope(required))
        {
            await next(context);
            return;
        }
        var holder = clientId is null ? "API key" : "access token";
        await (required is not null && clientId is null
            ? Api.Problems.From(Saas.Pipelines.Triggers.RequestRefusal.KeyLacksScope(required))
            : Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: required is null
                    ? $"This {holder} cannot use this endpoint; it is for tenant administrators (use a full-access API key or the portal)."
                    : $"The access token lacks the scope '{required}'. Request it from /connect/token (scope={required}); the client must have been created with it."))
            .ExecuteAsync(context);
    });

    /// <returns>Why a token no longer works, or null while it does.</returns>
    private static string? Revoked(HttpContext context, string tenantId, string clientId, ClaimsPrincipal user)
    {
        var clients = context.RequestServices.GetRequiredService<OAuthClientStore>();
        if (!clients.IsActive(tenantId, clientId))
        {
            return $"The OAuth client '{clientId}' was revoked; its tokens no longer work.";
        }
        if (user.FindFirstValue(OAuthServer.GrantClaim) is { } grantId && clients.IsGrantRevoked(tenantId, grantId))
        {
            return "One of this authorization's refresh tokens was used twice, so the authorization and all its tokens were revoked. Start the authorization again.";
        }
        if (user.FindFirstValue(OAuthServer.UserClaim) is { } userId && context.RequestServices.GetRequiredService<MemberStore>().FindByUser(userId)?.TenantId != tenantId)
        {
            return "The member this token acts for no longer belongs to the organisation; its tokens no longer work.";
        }
        return null;
    }

    /// <returns>The scope an endpoint needs, or null when OAuth clients and scoped keys may not use it at all.</returns>
    public static string? RequiredScope(string pattern, bool read)
    {
        var path = pattern.TrimStart('/');
        if (path.StartsWith("v1/", StringComparison.Ordinal))
        {
            return Scopes.Gateway;
        }
        if (!path.StartsWith("api/v1/", StringComparison.Ordinal))
        {
            return null;
        }
        path = path["api/v1/".Length..];
        if (path.StartsWith("pipelines/{id}/runs", StringComparison.Ordinal) || path.StartsWith("pipelines/{id}/uploads", StringComparison.Ordinal)
            || path.StartsWith("runs", StringComparison.Ordinal) || path.StartsWith("queues", StringComparison.Ordinal) || (path.StartsWith("files", StringComparison.Ordinal) && read))
        {
            return read ? Scopes.RunsRead : Scopes.RunsWrite;
        }
        if (path.StartsWith("pipelines", StringComparison.Ordinal))
        {
            return read ? Scopes.PipelinesRead : Scopes.PipelinesWrite;
        }
        if (path.StartsWith("usage", StringComparison.Ordinal) || path.StartsWith("billing", StringComparison.Ordinal))
        {
            return read ? Scopes.BillingRead : Scopes.BillingWrite;
        }
        return null;
    }
}
