using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Routing;
using Saas.Pipelines.Tenancy;
using Saas.Web.Components;

namespace Saas.Web.Tests;

/// <summary>
/// The portal's side of the isolation suite, enumerated from the app itself (every <c>@page</c> of the Web
/// assembly, and every plain endpoint of the route table outside the tenant API and the gateway), so a page
/// or an endpoint added later is covered without touching this test.
/// </summary>
public sealed class PortalRouteIsolationTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    /// <summary>Plain endpoints that are public on purpose (each checks what it needs itself).</summary>
    private static readonly string[] PublicEndpoints =
    [
        "/account/signout",                // checks its antiforgery token; signs out whoever holds the cookie
        "/connect/authorize",              // OpenIddict validates the request; the endpoint sends strangers to sign in
        "/healthz",
        "/openapi/{documentName}.json",
        "/billing/stripe/webhook",         // Stripe's signature is checked
    ];

    [Fact]
    public async Task Every_portal_page_and_endpoint_sends_strangers_to_sign_in_hides_other_tenants_ids_and_keeps_admin_pages_from_viewers()
    {
        var a = await app.CreateTenantAsync("a");
        var b = await app.CreateTenantAsync("b");
        var pipeline = await a.CreatePipelineAsync(new { name = "a-secret-pipeline", trigger = new { type = "http" }, steps = new[] { new { id = "s", type = "select", fields = new[] { "x" } } } });
        var run = (await a.RunAndWaitAsync(pipeline, new { x = "a's data" }))["id"]!.GetValue<string>();
        var adminOfA = await PortalSession.SignInAsync(app, a.TenantId, MemberRoles.Admin);
        var viewerOfA = await PortalSession.SignInAsync(app, a.TenantId, MemberRoles.Viewer);
        var ownerOfB = await PortalSession.SignInAsync(app, b.TenantId, MemberRoles.Owner);
        var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress };

        string Fill(string route, string? pipelineId, string? runId) => route
            .Replace("pipelines/{Id}", $"pipelines/{pipelineId}").Replace("pipelines/{id}", $"pipelines/{pipelineId}")
            .Replace("runs/{Id}", $"runs/{runId}").Replace("runs/{id}", $"runs/{runId}").Replace("{stepId}", "s");

        var pages = typeof(App).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<AuthorizeAttribute>() is not null)
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (Route: r.Template, Policy: t.GetCustomAttribute<AuthorizeAttribute>()!.Policy!)))
            .ToList();
        Assert.True(pages.Count >= 14, $"only {pages.Count} portal pages found");
        Assert.Contains(pages, p => p.Route == "/audit");

        foreach (var (route, policy) in pages)
        {
            var path = Fill(route, pipeline, run);
            Assert.False(path.Contains('{'), $"{route}: the test does not know what to put in this page's parameters; add it to Fill");

            var stranger = await anonymous.GetAsync(path);
            Assert.True(stranger.StatusCode == HttpStatusCode.Redirect && stranger.Headers.Location!.ToString().Contains("account/signin", StringComparison.Ordinal),
                $"{path} without signing in answered {(int)stranger.StatusCode} {stranger.Headers.Location}");

            var own = await adminOfA.Http.GetAsync(path);
            Assert.True(own.StatusCode == HttpStatusCode.OK, $"{path} as A's admin answered {(int)own.StatusCode}");

            if (route.Contains("{Id}", StringComparison.Ordinal))
            {
                var foreign = await ownerOfB.Http.GetAsync(path);
                var unknown = await ownerOfB.Http.GetAsync(Fill(route, "pl_doesnotexist", "run_doesnotexist"));
                var body = await foreign.Content.ReadAsStringAsync();
                Assert.True(foreign.StatusCode == HttpStatusCode.NotFound, $"{path} as tenant B's owner answered {(int)foreign.StatusCode}");
                Assert.Equal(unknown.StatusCode, foreign.StatusCode);
                Assert.DoesNotContain("a-secret-pipeline", body);
                Assert.DoesNotContain("a&#x27;s data", body);
            }

            if (!MemberRoles.Includes(MemberRoles.Viewer, policy))
            {
                var viewer = await viewerOfA.Http.GetAsync(path);
                Assert.True(viewer.StatusCode == HttpStatusCode.Redirect && viewer.Headers.Location!.ToString().Contains("account/access-denied", StringComparison.Ordinal),
                    $"{path} (for {policy}s) as a viewer answered {(int)viewer.StatusCode} {viewer.Headers.Location}");
                Assert.Contains("data-testid=\"access-denied\"", await (await viewerOfA.FollowAsync(viewer)).Content.ReadAsStringAsync());
            }
        }

        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ComponentTypeMetadata>() is null && e.Metadata.GetMetadata<HttpMethodMetadata>() is not null)
            .Select(e => (Pattern: e.RoutePattern.RawText!, Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods, Authorize: e.Metadata.GetOrderedMetadata<IAuthorizeData>()))
            // Static assets are mapped without a leading slash; they are public.
            .Where(e => e.Pattern.StartsWith('/') && !e.Pattern.StartsWith("/api/", StringComparison.Ordinal) && !e.Pattern.StartsWith("/v1/", StringComparison.Ordinal)
                && !e.Pattern.StartsWith("/_", StringComparison.Ordinal) && !e.Pattern.StartsWith("/.well-known", StringComparison.Ordinal) && e.Pattern != "/connect/token"
                && e.Methods.Any(m => m is "GET" or "POST" or "PUT" or "DELETE"))
            .ToList();
        var open = endpoints.Where(e => e.Authorize.Count == 0 && !PublicEndpoints.Contains(e.Pattern)).Select(e => e.Pattern).Distinct().ToList();
        Assert.True(open.Count == 0, $"{string.Join(", ", open)} take no authorization: protect them (a portal policy) or list them in PublicEndpoints with the reason");
        var portalEndpoints = endpoints.Where(e => e.Authorize.Count > 0).ToList();
        Assert.Contains(portalEndpoints, e => e.Pattern == "/portal/audit/export");
        foreach (var (pattern, _, authorize) in portalEndpoints)
        {
            var path = Fill(pattern, pipeline, run);
            Assert.False(path.Contains('{'), $"{pattern}: the test does not know what to put in this endpoint's parameters; add it to Fill");
            var stranger = await anonymous.GetAsync(path);
            Assert.True(stranger.StatusCode == HttpStatusCode.Unauthorized || stranger.Headers.Location?.ToString().Contains("account/signin", StringComparison.Ordinal) == true,
                $"{path} without signing in answered {(int)stranger.StatusCode} {stranger.Headers.Location}");
            Assert.Equal(HttpStatusCode.OK, (await adminOfA.Http.GetAsync(path)).StatusCode);
            if (pattern.Contains("{id}", StringComparison.Ordinal))
            {
                var foreign = await ownerOfB.Http.GetAsync(path);
                Assert.True(foreign.StatusCode == HttpStatusCode.NotFound, $"{path} as tenant B's owner answered {(int)foreign.StatusCode}");
                Assert.DoesNotContain("a's data", await foreign.Content.ReadAsStringAsync());
            }
            if (authorize.Any(a => a.Policy is { } policy && !MemberRoles.Includes(MemberRoles.Viewer, policy)))
            {
                var viewer = await viewerOfA.Http.GetAsync(path);
                Assert.True(viewer.StatusCode == HttpStatusCode.Forbidden || viewer.Headers.Location?.ToString().Contains("account/access-denied", StringComparison.Ordinal) == true,
                    $"{path} as a viewer answered {(int)viewer.StatusCode} {viewer.Headers.Location}");
            }
        }
    }
}
