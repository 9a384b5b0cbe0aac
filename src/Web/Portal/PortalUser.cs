using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;

namespace Saas.Web.Portal;

/// <summary>
/// The signed-in portal user, read from the cookie principal's claims: pages use this and never parse
/// claims themselves. Every engine call a page makes takes <see cref="TenantId"/>.
/// </summary>
public sealed record PortalUser(string UserId, string Email, string TenantId, string Role)
{
    public const string TenantClaim = "tenant";

    /// <summary>Present on platform administrators (a platform role, not a tenant role; decision 022).</summary>
    public const string PlatformAdminClaim = "platform_admin";

    /// <summary>Whether the user's role holds a permission (a scope, or <see cref="Saas.Pipelines.Tenancy.Scopes.Administer"/>), from the one role table.</summary>
    public bool May(string permission) => Saas.Pipelines.Tenancy.Scopes.RoleMay(Role, permission);

    public static PortalUser From(ClaimsPrincipal principal) =>
        TryFrom(principal) ?? throw new InvalidOperationException("the portal user is not signed in with a tenant");

    public static PortalUser? TryFrom(ClaimsPrincipal principal) =>
        principal.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId
        && principal.FindFirstValue(TenantClaim) is { } tenantId
        && principal.FindFirstValue(ClaimTypes.Role) is { } role
            ? new PortalUser(userId, principal.FindFirstValue(ClaimTypes.Email) ?? "", tenantId, role)
            : null;

    public static async Task<PortalUser> FromAsync(Task<AuthenticationState> state) => From((await state).User);
}
