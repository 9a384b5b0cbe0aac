using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Tenancy;

namespace Saas.Web.Portal.Accounts;

/// <summary>Adds the user's tenant and role, and the platform administrator role when granted, to the cookie principal (see <see cref="PortalUser"/>).</summary>
public sealed class AccountClaimsFactory(UserManager<Account> users, IOptions<IdentityOptions> options, MemberStore members, PlatformAdminStore platformAdmins)
    : UserClaimsPrincipalFactory<Account>(users, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(Account user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (members.FindByUser(user.Id) is { } membership)
        {
            identity.AddClaim(new Claim(PortalUser.TenantClaim, membership.TenantId));
            identity.AddClaim(new Claim(ClaimTypes.Role, membership.Role));
        }
        if (platformAdmins.IsAdmin(user.Id))
        {
            identity.AddClaim(new Claim(PortalUser.PlatformAdminClaim, "true"));
        }
        return identity;
    }
}
