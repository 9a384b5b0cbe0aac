using Microsoft.AspNetCore.Components.Authorization;
using Saas.Pipelines.Audit;

namespace Saas.Web.Components.Pipelines;

/// <summary>The signed-in user as the builder pages need it: <see cref="Saas.Web.Portal.PortalUser"/> plus what editing and publishing ask of it.</summary>
internal sealed record BuilderUser(string TenantId, string UserId, string? Email, string Role, Saas.Web.Audit.ClientOrigin? Origin = null)
{
    /// <summary>Owners, admins and builders edit and publish; viewers see everything read-only.</summary>
    public bool CanEdit => Saas.Pipelines.Tenancy.Scopes.RoleMay(Role, Saas.Pipelines.Tenancy.Scopes.PipelinesWrite);

    /// <summary>What a version records as its publisher: the e-mail people recognise, else the user id.</summary>
    public string PublishedBy => Email ?? UserId;

    public AuditActor Actor => Saas.Web.Audit.ClientOrigin.Member(Origin, UserId);

    /// <returns>null when the principal carries no tenant (not signed in to a tenant).</returns>
    public static async Task<BuilderUser?> FromAsync(Task<AuthenticationState>? state, Saas.Web.Audit.ClientOrigin? origin = null)
    {
        if (state is null || Saas.Web.Portal.PortalUser.TryFrom((await state).User) is not { } user)
        {
            return null;
        }
        return new BuilderUser(user.TenantId, user.UserId, user.Email is { Length: > 0 } email ? email : null, user.Role, origin);
    }
}
