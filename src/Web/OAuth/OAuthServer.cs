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
/// discovery at <c>/.well-known/openid-configuration</c>, keys at <c>/.well-known/jwks</c>, short-lived
/// signed JWT access tokens carrying the tenant and the granted scopes. Clients live in our own table
/// (<see cref="OAuthClientStore"/>), so OpenIddict runs without its stores ("degraded mode") and these
/// handlers authenticate the client and build the token.
/// </summary>
public static class OAuthServer
{
    public const string TenantScheme = "Tenant";
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromMinutes(10);

    public static IServiceCollection AddOAuthServer(this IServiceCollection services, string keysDirectory)
    {
        services.AddOpenIddict()
            .AddServer(server =>
            {
                server.SetTokenEndpointUris("connect/token")
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks")
                    .AllowClientCredentialsFlow()
                    .EnableDegradedMode()
                    .DisableAccessTokenEncryption()
                    .SetAccessTokenLifetime(AccessTokenLifetime)
                    .RegisterScopes([.. Saas.Pipelines.Tenancy.Scopes.All])
                    .AddEphemeralEncryptionKey();
                server.UseAspNetCore().DisableTransportSecurityRequirement();
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
        context.Request.Headers.Authorization.ToString() is var header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && !header.AsSpan(7).TrimStart().StartsWith("fg_")
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

    /// <summary>Only client credentials of an active client, asking only for scopes the client was given.</summary>
    private sealed class AuthenticateClient(OAuthClientStore clients) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            var request = context.Request;
            if (!request.IsClientCredentialsGrantType())
            {
                context.Reject(Errors.UnsupportedGrantType, "Only grant_type=client_credentials is supported.");
                return default;
            }
            if (string.IsNullOrEmpty(request.ClientId) || string.IsNullOrEmpty(request.ClientSecret) || clients.Authenticate(request.ClientId, request.ClientSecret) is not { } client)
            {
                context.Reject(Errors.InvalidClient, "The client_id or client_secret is wrong, or the client was revoked.");
                return default;
            }
            var refused = request.GetScopes().Except(client.Scopes).ToList();
            if (refused.Count > 0)
            {
                context.Reject(Errors.InvalidScope, $"The client may not request {string.Join(", ", refused)}; its scopes are: {string.Join(" ", client.Scopes)}.");
                return default;
            }
            context.Transaction.Properties[nameof(OAuthClient)] = client;
            return default;
        }
    }

    private sealed class IssueClientToken : IOpenIddictServerHandler<HandleTokenRequestContext>
    {
        public ValueTask HandleAsync(HandleTokenRequestContext context)
        {
            var client = (OAuthClient)context.Transaction.Properties[nameof(OAuthClient)]!;
            var requested = context.Request.GetScopes();
            var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, client.ClientId)
                .SetClaim(ApiKeyAuthentication.TenantClaim, client.TenantId)
                .SetClaim("client_id", client.ClientId)
                .SetScopes(requested.IsEmpty ? client.Scopes : requested)
                .SetDestinations(_ => [Destinations.AccessToken]);
            context.SignIn(new ClaimsPrincipal(identity));
            return default;
        }
    }
}
