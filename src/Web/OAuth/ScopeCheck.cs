using System.Security.Claims;
using OpenIddict.Abstractions;
using Saas.Pipelines.Tenancy;
using Saas.Web.Tenancy;

namespace Saas.Web.OAuth;

/// <summary>
/// Requests with an OAuth access token: the client must still be active (revocation is immediate) and
/// the token must carry the scope of the endpoint — read for GET, write otherwise; a missing scope
/// answers 403 naming it (billing writes need billing:write). Tenant administration (keys, clients, AI settings, audit, secrets) is not open to
/// OAuth clients. API keys act with every scope of their tenant.
/// </summary>
public static class ScopeCheck
{
    public static IApplicationBuilder UseOAuthClientChecks(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.User.FindFirstValue("client_id") is not { } clientId || context.User.FindFirstValue(ApiKeyAuthentication.TenantClaim) is not { } tenantId)
        {
            await next(context);
            return;
        }
        if (!context.RequestServices.GetRequiredService<OAuthClientStore>().IsActive(tenantId, clientId))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: $"The OAuth client '{clientId}' was revoked; its tokens no longer work.").ExecuteAsync(context);
            return;
        }
        context.RequestServices.GetRequiredService<CurrentTenant>().Set(tenantId, clientId);
        var pattern = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        if (pattern is null)
        {
            await next(context);
            return;
        }
        var required = RequiredScope(pattern, HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));
        if (required is not null && context.User.HasScope(required))
        {
            await next(context);
            return;
        }
        await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            detail: required is null
                ? "OAuth clients cannot use this endpoint; it is for tenant administrators (use an API key or the portal)."
                : $"The access token lacks the scope '{required}'. Request it from /connect/token (scope={required}); the client must have been created with it.")
            .ExecuteAsync(context);
    });

    /// <returns>The scope an endpoint needs, or null when OAuth clients may not use it at all.</returns>
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
