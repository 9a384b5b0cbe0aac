using Saas.Pipelines.Tenancy;
using Saas.Web.Tenancy;

namespace Saas.Web.Gateway;

/// <summary>
/// The gateway's hot path. A chat or embeddings call with a valid API key needs nothing of the generic
/// pipeline (authentication handlers, OpenIddict's per-request dispatch, authorization policies, routing,
/// a DI scope): it gets the same checks here, with the same components — the key cache, the request
/// limits — and goes straight to the forwarder. Everything else (OAuth tokens, unknown or revoked keys,
/// keys without the gateway scope, other routes) goes on down the pipeline, which answers it as before (see docs/decisions/026).
/// </summary>
public static class GatewayFastPath
{
    public static IApplicationBuilder UseGatewayFastPath(this IApplicationBuilder app)
    {
        var tenants = app.ApplicationServices.GetRequiredService<TenantStore>();
        var limits = app.ApplicationServices.GetRequiredService<GatewayRequestLimits>();
        var forwarder = app.ApplicationServices.GetRequiredService<GatewayForwarder>();
        return app.Use((context, next) =>
        {
            var request = context.Request;
            if (!HttpMethods.IsPost(request.Method) || Operation(request.Path.Value) is not { } operation
                || ApiKeyAuthentication.BearerToken(request) is not { } secret || tenants.FindApiKey(secret) is not { } key
                || key.Scopes is { } scopes && !scopes.Contains(Scopes.Gateway))
            {
                return next(context);
            }
            if (limits.Refusal(key.TenantId, key.KeyId) is { } wait)
            {
                return GatewayRequestLimits.WriteRefusalAsync(context, wait);
            }
            return forwarder.ForwardAsync(context, key.TenantId, key.KeyId, operation, context.RequestAborted);
        });
    }

    private static string? Operation(string? path) =>
        string.Equals(path, "/v1/chat/completions", StringComparison.OrdinalIgnoreCase) ? "chat/completions"
        : string.Equals(path, "/v1/embeddings", StringComparison.OrdinalIgnoreCase) ? "embeddings"
        : null;
}
