using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using Saas.Pipelines.Tenancy;

namespace Saas.Web.Tenancy;

/// <summary><c>Authorization: Bearer fg_live_…</c>: a hashed API key that names exactly one tenant, with its scopes unless it has full access.</summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TenantStore tenants)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string TenantClaim = "tenant_id";
    public const string KeyClaim = "key_id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken(Request) is not { } secret)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var key = tenants.FindApiKey(secret);
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown or revoked API key"));
        }
        Context.RequestServices.GetRequiredService<CurrentTenant>().Set(key.TenantId, key.KeyId);
        var identity = new ClaimsIdentity([new Claim(TenantClaim, key.TenantId), new Claim(KeyClaim, key.KeyId)], SchemeName);
        if (key.Scopes is not null)
        {
            // The same claims as an access token's, so ScopeCheck reads both alike.
            identity.SetScopes(key.Scopes);
        }
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>What follows <c>Bearer</c> in the Authorization header: an API key or an access token.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var failed = Request.Headers.Authorization.Count > 0;
        await Api.Problems.From(Saas.Pipelines.Triggers.RequestRefusal.Unauthenticated(failed)).ExecuteAsync(Context);
    }
}
