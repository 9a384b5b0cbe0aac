using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Tenancy;

namespace Saas.Web.Platform;

/// <summary><c>Authorization: Bearer fg_platform_…</c>: a platform administrator's key. Tenant keys never pass it.</summary>
public sealed class PlatformKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, PlatformKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PlatformKey";
    public const string Policy = "PlatformAdmin";
    public const string KeyClaim = "platform_key_id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Tenancy.ApiKeyAuthentication.BearerToken(Request) is not { } secret)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var keyId = keys.Find(secret);
        if (keyId is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("not a platform key"));
        }
        var identity = new ClaimsIdentity([new Claim(KeyClaim, keyId)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(statusCode: 401, title: "Unauthorized",
            detail: "The platform API takes a platform administrator's key: 'Authorization: Bearer fg_platform_…' (create one with `dotnet run --project src/Web -- create-platform-key <name>`). Tenant keys are not accepted here.")
            .ExecuteAsync(Context);
    }
}
