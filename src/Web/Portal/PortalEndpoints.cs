using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Saas.Web.Components;
using Saas.Web.Portal.Accounts;
using Saas.Web.Runs;
using Saas.Web.Tenancy;

namespace Saas.Web.Portal;

public static class PortalEndpoints
{
    /// <summary>
    /// Pages answer an error status (a URL that matches nothing, an id of another tenant) with the portal's
    /// status page; the tenant API, the gateway and downloads keep the problem+json answers of the
    /// status-code middleware registered before this one.
    /// </summary>
    public static void UsePortalStatusPages(this WebApplication app)
    {
        app.UseStatusCodePagesWithReExecute("/status/{0}", createScopeForStatusCodePages: true);
        app.Use((context, next) =>
        {
            var path = context.Request.Path;
            if (path.StartsWithSegments("/api") || path.StartsWithSegments("/v1") || path.StartsWithSegments("/portal") || path.StartsWithSegments("/openapi"))
            {
                context.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>()!.Enabled = false;
            }
            return next(context);
        });
    }

    /// <summary>The portal's pages, their static files, and the few plain endpoints pages post or link to.</summary>
    public static void MapPortal(this WebApplication app)
    {
        app.MapStaticAssets();
        // frame-ancestors comes with the rest of the policy from SecurityHeaders, not as a second header.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(server => server.ContentSecurityFrameAncestorsPolicy = null);
        app.MapPost("/account/signout", async Task<Results<RedirectHttpResult, ProblemHttpResult>> (HttpContext context, IAntiforgery antiforgery, SignInManager<Account> signIn, AccountAudit audit) =>
        {
            // Nothing is bound from the form, so the token is checked here: a forged form must not sign anyone out.
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                return TypedResults.Problem(statusCode: 400, title: "Invalid form", detail: "The sign-out form is missing its antiforgery token; sign out with the portal's Sign out button.");
            }
            if (PortalUser.TryFrom(context.User) is { } user)
            {
                await audit.AppendAsync(user.UserId, user.Email, context, AccountAudit.SignedOut);
            }
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("~/account/signin");
        }).ExcludeFromDescription();

        // Downloads linked from the run page: the tenant API's own handlers, acting for the signed-in user's tenant.
        var downloads = app.MapGroup("/portal").RequireAuthorization(PortalPolicies.Viewer).ExcludeFromDescription().AddEndpointFilter(ActForUsersTenant);
        downloads.MapGet("/runs/{id}/output", RunsApi.OutputAsync);
        downloads.MapGet("/runs/{id}/steps/{stepId}/output", RunsApi.StepOutputAsync);
        var adminDownloads = app.MapGroup("/portal").RequireAuthorization(Saas.Pipelines.Tenancy.Scopes.Administer).ExcludeFromDescription().AddEndpointFilter(ActForUsersTenant);
        adminDownloads.MapGet("/audit/export", Saas.Web.Audit.AuditApi.Export);
    }

    private static ValueTask<object?> ActForUsersTenant(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var user = PortalUser.From(context.HttpContext.User);
        context.HttpContext.RequestServices.GetRequiredService<CurrentTenant>().Set(user.TenantId, $"user:{user.UserId}");
        return next(context);
    }
}
