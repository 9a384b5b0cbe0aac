using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
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
/// handlers authenticate the client and build the token.
/// </summary>
public static class OAuthServer
{
    public const string TenantScheme = "Tenant";
    public const string TokenPath = "/connect/token";
    public const string AuthorizePath = "/connect/authorize";

    /// <summary>The member an authorization-code token acts for (client-credentials tokens have none).</summary>
    public const string UserClaim = "user_id";

    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan AuthorizationCodeLifetime = TimeSpan.FromMinutes(1);

    public static IServiceCollection AddOAuthServer(this IServiceCollection services, string keysDirectory)
    {
        services.AddOpenIddict()
            .AddServer(server =>
            {
                server.SetTokenEndpointUris(TokenPath.TrimStart('/'))
                    .SetAuthorizationEndpointUris(AuthorizePath.TrimStart('/'))
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks")
                    .AllowClientCredentialsFlow()
                    .AllowAuthorizationCodeFlow()
                    .RequireProofKeyForCodeExchange()
                    .EnableDegradedMode()
                    .DisableAccessTokenEncryption()
                    .SetAccessTokenLifetime(AccessTokenLifetime)
                    .SetAuthorizationCodeLifetime(AuthorizationCodeLifetime)
                    .RegisterScopes([.. Saas.Pipelines.Tenancy.Scopes.All])
                    .AddEphemeralEncryptionKey()
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
        services.AddSingleton(provider => new SigningKeyRing(keysDirectory, provider.GetRequiredService<IDataProtectionProvider>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, SigningKeysFromRing>();
        services.AddSingleton<OAuthClientChanges>();
        return services;
    }

    /// <summary>Bearer <c>fg_…</c> keys go to the API-key handler, anything else is an access token.</summary>
    public static string SelectScheme(HttpContext context) =>
        ApiKeyAuthentication.BearerToken(context.Request) is { } token && !token.StartsWith("fg_", StringComparison.Ordinal)
            ? OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme
            : ApiKeyAuthentication.SchemeName;

    /// <summary>Options may be built more than once (per request for snapshots): the keys are read and decrypted once.</summary>
    private sealed class SigningKeysFromRing(SigningKeyRing ring) : IConfigureOptions<OpenIddictServerOptions>
    {
        private readonly Lazy<IReadOnlyList<RsaSecurityKey>> _keys = new(ring.Load);

        public void Configure(OpenIddictServerOptions options)
        {
            foreach (var key in _keys.Value)
            {
                options.SigningCredentials.Add(new SigningCredentials(key, SecurityAlgorithms.RsaSha256));
            }
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
            if (request.IsAuthorizationCodeGrantType())
            {
                await RedeemCodeAsync(context);
                return;
            }
            if (!request.IsClientCredentialsGrantType())
            {
                context.Reject(Errors.UnsupportedGrantType, "Use grant_type=client_credentials or grant_type=authorization_code.");
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

        private async Task RedeemCodeAsync(ValidateTokenRequestContext context)
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
            // OpenIddict has checked the code (signature, lifetime), its client, redirect_uri and code_verifier by now.
            if (context.AuthorizationCodePrincipal is not { } code || code.GetClaim(ApiKeyAuthentication.TenantClaim) != client.TenantId)
            {
                context.Reject(Errors.InvalidGrant, "The authorization code is invalid.");
                return;
            }
            var expires = code.GetExpirationDate() ?? DateTimeOffset.UtcNow.Add(AuthorizationCodeLifetime);
            if (!await clients.RedeemCodeAsync(client.TenantId, client.ClientId, request.Code!, expires, context.CancellationToken))
            {
                context.Reject(Errors.InvalidGrant, "The authorization code was already used; a code works once. Start the authorization again.");
                return;
            }
            context.Transaction.Properties[nameof(OAuthClient)] = client;
            context.Transaction.Properties[AuthorizationCodeKey] = code;
        }
    }

    private const string AuthorizationCodeKey = "flowgate:authorization_code";

    /// <summary>
    /// Client credentials: the client acts for its tenant. Authorization code: the client acts for the member
    /// who consented, with the consented scopes that the member's role and the client still allow today.
    /// </summary>
    private sealed class IssueClientToken(MemberStore members) : IOpenIddictServerHandler<HandleTokenRequestContext>
    {
        public ValueTask HandleAsync(HandleTokenRequestContext context)
        {
            var client = (OAuthClient)context.Transaction.Properties[nameof(OAuthClient)]!;
            var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
            identity.SetClaim(ApiKeyAuthentication.TenantClaim, client.TenantId).SetClaim("client_id", client.ClientId);
            if (context.Transaction.Properties.TryGetValue(AuthorizationCodeKey, out var value) && value is ClaimsPrincipal code)
            {
                var userId = code.GetClaim(Claims.Subject)!;
                if (members.FindByUser(userId) is not { } member || member.TenantId != client.TenantId)
                {
                    context.Reject(Errors.InvalidGrant, "The member who consented no longer belongs to the client's organisation.");
                    return default;
                }
                identity.SetClaim(Claims.Subject, userId).SetClaim(UserClaim, userId)
                    .SetScopes(code.GetScopes().Intersect(client.Scopes).Intersect(Saas.Pipelines.Tenancy.Scopes.AllowedFor(member.Role)));
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
