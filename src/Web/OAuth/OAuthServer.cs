using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Validation;
using OpenIddict.Validation.AspNetCore;
using Saas.Pipelines;
using Saas.Pipelines.Tenancy;
using Saas.Web.Tenancy;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Saas.Web.OAuth;

/// <summary>
/// The authorization server (OpenIddict): client credentials for a tenant's apps at <c>/connect/token</c>,
/// authorization code + PKCE (S256) at <c>/connect/authorize</c> for apps acting for a signed-in member,
/// discovery at <c>/.well-known/openid-configuration</c>, keys at <c>/.well-known/jwks</c>, short-lived
/// signed JWT access tokens carrying the tenant and the granted scopes. Clients live in our own table
/// (<see cref="OAuthClientStore"/>), so OpenIddict runs without its stores ("degraded mode") and these
/// handlers authenticate the client and build the token. Keys are shared by all nodes (<see cref="OAuthKeyRing"/>);
/// an app that asked for <c>offline_access</c> also gets a refresh token, which works once (decision 029).
/// </summary>
public static class OAuthServer
{
    public const string TenantScheme = "Tenant";
    public const string TokenPath = "/connect/token";
    public const string AuthorizePath = "/connect/authorize";

    /// <summary>The public address tokens name as their issuer; unset, each request's own host (one node).</summary>
    public const string IssuerSetting = "Flowgate:OAuth:Issuer";

    /// <summary>The member an authorization-code token acts for (client-credentials tokens have none).</summary>
    public const string UserClaim = "user_id";

    /// <summary>One consent: its code and every refresh token that follows carry it, so a leaked chain can be stopped as a whole.</summary>
    public const string GrantClaim = "grant_id";

    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan AuthorizationCodeLifetime = TimeSpan.FromMinutes(1);

    /// <summary>Each refresh returns a new refresh token (the old one is spent), so an app that keeps refreshing stays signed in.</summary>
    public static readonly TimeSpan RefreshTokenLifetime = TimeSpan.FromDays(14);

    /// <summary>Asks for a refresh token; not a permission on the API, so every app may ask and every role may grant it.</summary>
    public const string OfflineAccess = OpenIddictConstants.Scopes.OfflineAccess;

    public static IServiceCollection AddOAuthServer(this IServiceCollection services)
    {
        services.AddOpenIddict()
            .AddServer(server =>
            {
                server.SetTokenEndpointUris(TokenPath.TrimStart('/'))
                    .SetAuthorizationEndpointUris(AuthorizePath.TrimStart('/'))
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks")
                    .AllowClientCredentialsFlow()
                    .AllowAuthorizationCodeFlow()
                    .AllowRefreshTokenFlow()
                    .RequireProofKeyForCodeExchange()
                    .EnableDegradedMode()
                    .DisableAccessTokenEncryption()
                    .SetAccessTokenLifetime(AccessTokenLifetime)
                    .SetAuthorizationCodeLifetime(AuthorizationCodeLifetime)
                    .SetRefreshTokenLifetime(RefreshTokenLifetime)
                    .RegisterScopes([.. Saas.Pipelines.Tenancy.Scopes.All, OfflineAccess])
                    // "plain" would put the verifier itself in the browser's address bar: S256 only.
                    .Configure(options =>
                    {
                        options.CodeChallengeMethods.Clear();
                        options.CodeChallengeMethods.Add(CodeChallengeMethods.Sha256);
                    });
                // The portal's endpoint (AuthorizeEndpoint) signs the member in, asks for consent and issues the code.
                server.UseAspNetCore().DisableTransportSecurityRequirement().EnableAuthorizationEndpointPassthrough();
                server.AddEventHandler<ValidateAuthorizationRequestContext>(handler => handler.UseSingletonHandler<ValidateAuthorizationClient>());
                server.AddEventHandler<ValidateTokenRequestContext>(handler => handler.UseSingletonHandler<AuthenticateClient>());
                server.AddEventHandler<HandleTokenRequestContext>(handler => handler.UseSingletonHandler<IssueClientToken>());
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                validation.UseAspNetCore();
            });
        // Behind a load balancer every node must name the same issuer (tokens carry it): the public address, when set.
        services.AddOptions<OpenIddictServerOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            if (configuration[IssuerSetting] is { Length: > 0 } issuer)
            {
                options.Issuer = new Uri(issuer, UriKind.Absolute);
            }
        });
        services.AddSingleton<OAuthKeyRing>();
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, KeysFromRing>();
        // At each rollover the options are built again, so the next period's key signs and the JWKS follows.
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictServerOptions>, RolloverTokenSource<OpenIddictServerOptions>>();
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictValidationOptions>, RolloverTokenSource<OpenIddictValidationOptions>>();
        services.AddSingleton<OAuthClientChanges>();
        return services;
    }

    /// <summary>Bearer <c>fg_…</c> keys go to the API-key handler, anything else is an access token.</summary>
    public static string SelectScheme(HttpContext context) =>
        ApiKeyAuthentication.BearerToken(context.Request) is { } token && !token.StartsWith("fg_", StringComparison.Ordinal)
            ? OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme
            : ApiKeyAuthentication.SchemeName;

    /// <summary>The current key first: OpenIddict signs and encrypts with the first, and validates and decrypts with all.</summary>
    private sealed class KeysFromRing(OAuthKeyRing ring) : IConfigureOptions<OpenIddictServerOptions>
    {
        public void Configure(OpenIddictServerOptions options)
        {
            foreach (var key in ring.Load(OAuthKeyRing.Signing).All)
            {
                options.SigningCredentials.Add(new SigningCredentials(key, SecurityAlgorithms.RsaSha256));
            }
            foreach (var key in ring.Load(OAuthKeyRing.Encryption).All)
            {
                options.EncryptionCredentials.Add(new EncryptingCredentials(key, SecurityAlgorithms.RsaOAEP, SecurityAlgorithms.Aes256CbcHmacSha512));
            }
        }
    }

    /// <summary>Signals a change of the options just after the next key period starts (the validation copies the server's keys, so it follows too).</summary>
    private sealed class RolloverTokenSource<TOptions>(TimeProvider time) : IOptionsChangeTokenSource<TOptions>
    {
        public string Name => Options.DefaultName;

        public IChangeToken GetChangeToken()
        {
            var now = time.GetUtcNow();
            return new CancellationChangeToken(new CancellationTokenSource(OAuthKeyRing.NextRollover(now) - now + TimeSpan.FromSeconds(1), time).Token);
        }
    }

    /// <summary>
    /// The authorization endpoint in degraded mode knows no clients: this checks the client is active and the
    /// redirect URI is one it registered, exactly. A failure here is shown as an error page, never redirected.
    /// </summary>
    private sealed class ValidateAuthorizationClient(OAuthClientStore clients) : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            var request = context.Request;
            if (string.IsNullOrEmpty(request.ClientId) || clients.FindActive(request.ClientId) is not { } client)
            {
                context.Reject(Errors.InvalidClient, "The client_id is unknown or was revoked.");
                return default;
            }
            if (client.RedirectUris.Count == 0)
            {
                context.Reject(Errors.UnauthorizedClient, "This client has no redirect URI registered, so it cannot use the authorization code flow; add one to the client.");
                return default;
            }
            if (string.IsNullOrEmpty(request.RedirectUri))
            {
                if (client.RedirectUris.Count > 1)
                {
                    context.Reject(Errors.InvalidRequest, "The redirect_uri parameter is required: the client registered more than one.");
                    return default;
                }
                context.SetRedirectUri(client.RedirectUris[0]);
            }
            else if (!client.RedirectUris.Contains(request.RedirectUri, StringComparer.Ordinal))
            {
                context.Reject(Errors.InvalidRequest, "The redirect_uri is not one the client registered (the comparison is exact: scheme, host, port, path and query).");
                return default;
            }
            return default;
        }
    }

    /// <summary>
    /// Client credentials of an active confidential client, asking only for scopes the client was given; or an
    /// authorization code, redeemed once, by the client it was issued to (with its secret when confidential).
    /// </summary>
    private sealed class AuthenticateClient(OAuthClientStore clients) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            var request = context.Request;
            if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
            {
                await RedeemOnceAsync(context);
                return;
            }
            if (!request.IsClientCredentialsGrantType())
            {
                context.Reject(Errors.UnsupportedGrantType, "Use grant_type=client_credentials, authorization_code or refresh_token.");
                return;
            }
            if (string.IsNullOrEmpty(request.ClientId) || string.IsNullOrEmpty(request.ClientSecret) || clients.Authenticate(request.ClientId, request.ClientSecret) is not { } client)
            {
                context.Reject(Errors.InvalidClient, "The client_id or client_secret is wrong, or the client was revoked.");
                return;
            }
            var refused = request.GetScopes().Except(client.Scopes).ToList();
            if (refused.Count > 0)
            {
                context.Reject(Errors.InvalidScope, $"The client may not request {string.Join(", ", refused)}; its scopes are: {string.Join(" ", client.Scopes)}.");
                return;
            }
            context.Transaction.Properties[nameof(OAuthClient)] = client;
        }

        /// <summary>An authorization code or a refresh token: each works once, for the client it was issued to.</summary>
        private async Task RedeemOnceAsync(ValidateTokenRequestContext context)
        {
            var request = context.Request;
            var client = string.IsNullOrEmpty(request.ClientId) ? null : clients.FindActive(request.ClientId);
            if (client is not null && !client.IsPublic && (string.IsNullOrEmpty(request.ClientSecret) || clients.Authenticate(client.ClientId, request.ClientSecret) is null))
            {
                client = null;
            }
            if (client is null)
            {
                context.Reject(Errors.InvalidClient, "The client_id is unknown or revoked, or (for a confidential client) the client_secret is wrong.");
                return;
            }
            // OpenIddict has checked the code or refresh token (encryption, lifetime, presenter) and, for a code, its redirect_uri and code_verifier by now.
            var (grant, token, what) = request.IsAuthorizationCodeGrantType()
                ? (context.AuthorizationCodePrincipal, request.Code, "authorization code")
                : (context.RefreshTokenPrincipal, request.RefreshToken, "refresh token");
            if (grant is null || grant.GetClaim(ApiKeyAuthentication.TenantClaim) != client.TenantId)
            {
                context.Reject(Errors.InvalidGrant, $"The {what} is invalid.");
                return;
            }
            var grantId = grant.GetClaim(GrantClaim);
            if (request.IsRefreshTokenGrantType() && (grantId is null || clients.IsGrantRevoked(client.TenantId, grantId)))
            {
                context.Reject(Errors.InvalidGrant, "The refresh token was revoked because one of its chain was used twice. Start the authorization again.");
                return;
            }
            var expires = grant.GetExpirationDate() ?? DateTimeOffset.UtcNow.Add(RefreshTokenLifetime);
            if (!await clients.RedeemOnceAsync(client.TenantId, client.ClientId, token!, expires, context.CancellationToken))
            {
                if (request.IsAuthorizationCodeGrantType())
                {
                    context.Reject(Errors.InvalidGrant, "The authorization code was already used; a code works once. Start the authorization again.");
                    return;
                }
                // A spent refresh token again: it leaked, or the app lost track of the newest. Either way the chain stops.
                await clients.RevokeGrantAsync(client.TenantId, grantId!, DateTimeOffset.UtcNow.Add(RefreshTokenLifetime), context.CancellationToken);
                context.Reject(Errors.InvalidGrant, "The refresh token was already used, so every refresh token of this authorization is now revoked. Start the authorization again.");
                return;
            }
            context.Transaction.Properties[nameof(OAuthClient)] = client;
            context.Transaction.Properties[MemberGrantKey] = grant;
        }
    }

    private const string MemberGrantKey = "flowgate:member_grant";

    /// <summary>
    /// Client credentials: the client acts for its tenant. Authorization code or refresh token: the client acts for the
    /// member who consented, with the consented scopes that the member's role and the client still allow today; a
    /// member removed since (or a client revoked, see above) gets nothing.
    /// </summary>
    private sealed class IssueClientToken(MemberStore members) : IOpenIddictServerHandler<HandleTokenRequestContext>
    {
        public ValueTask HandleAsync(HandleTokenRequestContext context)
        {
            var client = (OAuthClient)context.Transaction.Properties[nameof(OAuthClient)]!;
            var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
            identity.SetClaim(ApiKeyAuthentication.TenantClaim, client.TenantId).SetClaim("client_id", client.ClientId);
            if (context.Transaction.Properties.TryGetValue(MemberGrantKey, out var value) && value is ClaimsPrincipal grant)
            {
                var userId = grant.GetClaim(Claims.Subject)!;
                if (members.FindByUser(userId) is not { } member || member.TenantId != client.TenantId)
                {
                    context.Reject(Errors.InvalidGrant, "The member who consented no longer belongs to the client's organisation.");
                    return default;
                }
                var scopes = grant.GetScopes().Intersect(client.Scopes).Intersect(Saas.Pipelines.Tenancy.Scopes.AllowedFor(member.Role)).ToList();
                if (grant.HasScope(OfflineAccess))
                {
                    scopes.Add(OfflineAccess);
                }
                identity.SetClaim(Claims.Subject, userId).SetClaim(UserClaim, userId).SetClaim(GrantClaim, grant.GetClaim(GrantClaim)).SetScopes(scopes);
            }
            else
            {
                var requested = context.Request.GetScopes();
                identity.SetClaim(Claims.Subject, client.ClientId).SetScopes(requested.IsEmpty ? client.Scopes : requested);
            }
            identity.SetDestinations(_ => [Destinations.AccessToken]);
            context.SignIn(new ClaimsPrincipal(identity));
            return default;
        }
    }
}
