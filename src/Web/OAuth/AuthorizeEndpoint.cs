using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Tenancy;
using Saas.Web.Audit;
using Saas.Web.Portal;
using Saas.Web.Tenancy;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Saas.Web.OAuth;

/// <summary>
/// <c>/connect/authorize</c> after OpenIddict has checked the client, the redirect URI and PKCE: a member
/// who is not signed in goes to the portal's sign-in page and comes back; a signed-in member is shown the
/// consent page (<see cref="ConsentPath"/>), whose Allow / Deny form posts back here; Allow issues the code.
/// </summary>
public static class AuthorizeEndpoint
{
    public const string ConsentPath = "/oauth/consent";

    /// <summary>The consent form's own fields, which are not part of the authorization request.</summary>
    public const string DecisionField = "decision";

    private const string AntiforgeryField = "__RequestVerificationToken";

    public static void MapAuthorizeEndpoint(this IEndpointRouteBuilder app) =>
        app.MapMethods(OAuthServer.AuthorizePath, [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync).ExcludeFromDescription();

    /// <summary>The authorization request's parameters, to carry through sign-in and the consent form.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> RequestParameters(OpenIddictRequest request) =>
        request.GetParameters()
            .Where(p => p.Key is not DecisionField and not AntiforgeryField)
            .Select(p => KeyValuePair.Create(p.Key, (string?)p.Value));

    /// <summary>
    /// The scopes the member can actually grant this client: what it asked (or all it has), as far as the member's role allows;
    /// plus <c>offline_access</c> (a refresh token) when asked, which any client may ask for, alongside at least one API scope.
    /// </summary>
    public static (IReadOnlyList<string> Granted, IReadOnlyList<string> RefusedByRole, IReadOnlyList<string> NotTheClients) Scopes(OAuthClient client, IEnumerable<string> requested, string role)
    {
        var all = requested.ToList();
        var offline = all.Remove(OAuthServer.OfflineAccess);
        var asked = all is { Count: > 0 } ? all : [.. client.Scopes];
        var allowed = Saas.Pipelines.Tenancy.Scopes.AllowedFor(role);
        var granted = asked.Intersect(client.Scopes).Intersect(allowed).ToList();
        if (offline && granted.Count > 0)
        {
            granted.Add(OAuthServer.OfflineAccess);
        }
        return (granted, asked.Intersect(client.Scopes).Except(allowed).ToList(), asked.Except(client.Scopes).ToList());
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext context, OAuthClientStore clients, IAntiforgery antiforgery, AuditLog audit, CancellationToken cancellationToken)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("OpenIddict did not handle this authorization request");
        var signedIn = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (signedIn.Principal is null || PortalUser.TryFrom(signedIn.Principal) is not { } user)
        {
            return Results.Challenge(new AuthenticationProperties { RedirectUri = OAuthServer.AuthorizePath + QueryString.Create(RequestParameters(request)) }, [IdentityConstants.ApplicationScheme]);
        }
        // OpenIddict checked the client exists; a client of another organisation is answered as if unknown.
        if (clients.FindActive(request.ClientId!) is not { } client || client.TenantId != user.TenantId)
        {
            // The same answer OpenIddict gives an unknown client_id, so nothing tells the two apart.
            return Results.Text("error:invalid_client\nerror_description:The client_id is unknown or was revoked.\n", "text/plain", statusCode: StatusCodes.Status401Unauthorized);
        }
        var (granted, _, notTheClients) = Scopes(client, request.GetScopes(), user.Role);
        if (notTheClients.Count > 0)
        {
            return Refuse(Errors.InvalidScope, $"The client may not request {string.Join(", ", notTheClients)}; its scopes are: {string.Join(" ", client.Scopes)}.");
        }
        var decision = HttpMethods.IsPost(context.Request.Method) ? (string?)request[DecisionField] : null;
        if (decision is null)
        {
            return Results.Redirect(ConsentPath + QueryString.Create(RequestParameters(request)));
        }
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.Problem(statusCode: 400, title: "Invalid form", detail: "The consent form is missing its antiforgery token; answer the consent page shown by Flowgate.");
        }
        if (decision != "allow")
        {
            return Refuse(Errors.AccessDenied, "The user denied the request.");
        }
        if (granted.Count == 0)
        {
            return Refuse(Errors.AccessDenied, "The user's role allows none of the requested scopes.");
        }
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.UserId)
            .SetClaim(ApiKeyAuthentication.TenantClaim, user.TenantId)
            .SetClaim(OAuthServer.GrantClaim, Saas.Pipelines.Ids.New("grant"))
            .SetScopes(granted)
            .SetDestinations(_ => [Destinations.AccessToken]);
        await audit.AppendAsync(user.TenantId, context.Actor(), "oauth.consent_granted", "oauth_client", client.ClientId,
            new { client.Name, scopes = granted }, cancellationToken);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>An error sent back to the client's (already verified) redirect URI, with its state.</summary>
    private static IResult Refuse(string error, string description) => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
