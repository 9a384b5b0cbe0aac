using Microsoft.AspNetCore.Identity;
using Saas.Web.Components;
using Saas.Web.Portal.Accounts;
using Saas.Web.Runs;
using Saas.Web.Tenancy;

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

        // Downloads linked from the run page: the tenant API's own handlers, acting for the signed-in user's tenant.
        var downloads = app.MapGroup("/portal").RequireAuthorization(PortalPolicies.Viewer).ExcludeFromDescription()
            .AddEndpointFilter((context, next) =>
            {
                var user = PortalUser.From(context.HttpContext.User);
                context.HttpContext.RequestServices.GetRequiredService<CurrentTenant>().Set(user.TenantId, $"user:{user.UserId}");
                return next(context);
            });
        downloads.MapGet("/runs/{id}/output", RunsApi.OutputAsync);
        downloads.MapGet("/runs/{id}/steps/{stepId}/output", RunsApi.StepOutputAsync);
    }
}
