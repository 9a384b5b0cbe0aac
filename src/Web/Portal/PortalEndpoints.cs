using Microsoft.AspNetCore.Identity;
using Saas.Web.Components;
using Saas.Web.Portal.Accounts;

namespace Saas.Web.Portal;

public static class PortalEndpoints
{
    /// <summary>The portal's pages, their static files, and the few plain endpoints pages post or link to.</summary>
    public static void MapPortal(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapPost("/account/signout", async (SignInManager<Account> signIn) =>
        {
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("~/account/signin");
        }).ExcludeFromDescription();
    }
}
