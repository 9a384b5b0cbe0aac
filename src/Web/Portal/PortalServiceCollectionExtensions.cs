using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using MudBlazor.Services;
using Saas.Pipelines.Tenancy;
using Saas.Web.Portal.Accounts;
using Saas.Web.Tenancy;

namespace Saas.Web.Portal;

/// <summary>The portal: Blazor (interactive server) with MudBlazor, Identity accounts on the engine's database, cookie sign-in.</summary>
public static class PortalServiceCollectionExtensions
{
    /// <summary>Picks the API key or access token scheme for requests that carry one and the portal cookie for the rest.</summary>
    public const string SelectorScheme = "FlowgateApiKeyOrCookie";

    public static IServiceCollection AddPortal(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddSingleton<AccountAudit>();
        services.AddCascadingAuthenticationState();
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, RevalidatingAccountStateProvider>();

        services.AddAuthentication(authentication =>
            {
                // The tenant API keeps its API key default for challenges; the user of a request is read by the selector.
                authentication.DefaultAuthenticateScheme = SelectorScheme;
            })
            .AddPolicyScheme(SelectorScheme, null, selector => selector.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.Count > 0 ? OAuth.OAuthServer.SelectScheme(context) : IdentityConstants.ApplicationScheme)
            .AddIdentityCookies(cookies => cookies.ApplicationCookie!.Configure(cookie =>
            {
                cookie.LoginPath = "/account/signin";
                cookie.LogoutPath = "/account/signout";
                cookie.AccessDeniedPath = "/account/access-denied";
                cookie.Cookie.Name = "flowgate.portal";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.SlidingExpiration = true;
                cookie.ExpireTimeSpan = TimeSpan.FromDays(7);
            }));
        // A changed role or password reaches signed-in cookies within a minute (the stamp is re-checked).
        services.Configure<SecurityStampValidatorOptions>(stamp => stamp.ValidationInterval = TimeSpan.FromMinutes(1));

        services.AddIdentityCore<Account>(identity =>
            {
                identity.User.RequireUniqueEmail = true;
                identity.SignIn.RequireConfirmedAccount = false;
                identity.Password.RequiredLength = 8;
                identity.Lockout.AllowedForNewUsers = true;
                identity.Lockout.MaxFailedAccessAttempts = 5;
                identity.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
            })
            .AddUserStore<AccountStore>()
            .AddClaimsPrincipalFactory<AccountClaimsFactory>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.AddAuthorizationBuilder()
            // The tenant API and the gateway accept API keys and OAuth access tokens, never the portal cookie.
            .SetDefaultPolicy(new AuthorizationPolicyBuilder(OAuth.OAuthServer.TenantScheme).RequireAuthenticatedUser().Build())
            .AddPolicy(PortalPolicies.Viewer, Role(MemberRoles.Viewer))
            .AddPolicy(PortalPolicies.PlatformAdmin, new AuthorizationPolicyBuilder(IdentityConstants.ApplicationScheme)
                .RequireAuthenticatedUser().RequireClaim(PortalUser.PlatformAdminClaim).Build());
        // A page that changes something names the permission (a scope, or administer); the roles come from the one table.
        services.AddAuthorization(options =>
        {
            foreach (var (permission, leastRole) in Scopes.LeastRole)
            {
                options.AddPolicy(permission, Role(leastRole));
            }
        });

        return services;
    }

    private static AuthorizationPolicy Role(string atLeast) =>
        new AuthorizationPolicyBuilder(IdentityConstants.ApplicationScheme)
            .RequireAuthenticatedUser()
            .RequireClaim(PortalUser.TenantClaim)
            .RequireRole(MemberRoles.All.Where(role => MemberRoles.Includes(role, atLeast)))
            .Build();
}

/// <summary>
/// Policy names for <c>[Authorize(Policy = ...)]</c> on portal pages beyond the permissions of <see cref="Scopes.LeastRole"/>
/// (<c>Policy = Scopes.RunsWrite</c>, <c>Scopes.Administer</c>…), which are policies too.
/// </summary>
public static class PortalPolicies
{
    /// <summary>Any member of the tenant.</summary>
    public const string Viewer = "viewer";

    /// <summary>The platform pages: users granted with <c>grant-platform-admin</c>, whatever their tenant role.</summary>
    public const string PlatformAdmin = "platform-admin";
}
