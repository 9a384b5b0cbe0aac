using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Saas.Pipelines.Audit;

namespace Saas.Web.Components.Pipelines;

/// <summary>
/// The signed-in user as the builder pages need it, read from the cookie principal's claims. Stands in for
/// portal-shell's <c>Saas.Web.Portal.PortalUser</c> (same claims: "tenant", NameIdentifier, Email, Role) until
/// both branches meet; then this becomes a call to it.
/// </summary>
internal sealed record BuilderUser(string TenantId, string UserId, string? Email, string Role)
{
    private static readonly string[] Editors = ["owner", "admin", "builder"];

    /// <summary>Owners, admins and builders edit and publish; viewers see everything read-only.</summary>
    public bool CanEdit => Editors.Contains(Role, StringComparer.Ordinal);

    /// <summary>What a version records as its publisher: the e-mail people recognise, else the user id.</summary>
    public string PublishedBy => Email ?? UserId;

    public AuditActor Actor => new(AuditActorTypes.User, UserId);

    /// <returns>null when the principal carries no tenant (not signed in to a tenant).</returns>
    public static async Task<BuilderUser?> FromAsync(Task<AuthenticationState>? state)
    {
        if (state is null)
        {
            return null;
        }
        var user = (await state).User;
        var tenant = user.FindFirst("tenant")?.Value;
        var id = user.FindFirst(ClaimTypes.NameIdentifier)?.Value;
        if (user.Identity?.IsAuthenticated != true || string.IsNullOrEmpty(tenant) || string.IsNullOrEmpty(id))
        {
            return null;
        }
        return new BuilderUser(tenant, id, user.FindFirst(ClaimTypes.Email)?.Value, user.FindFirst(ClaimTypes.Role)?.Value ?? "viewer");
    }
}
