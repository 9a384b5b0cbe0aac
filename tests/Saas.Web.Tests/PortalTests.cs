using System.Net;

namespace Saas.Web.Tests;

/// <summary>The portal's plain endpoints, over HTTP (the pages themselves are covered by tests/Saas.Browser.Tests).</summary>
public sealed class PortalTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    [Fact]
    public async Task Signing_out_without_the_antiforgery_token_is_refused()
    {
        var response = await app.Client().PostAsync("/account/signout", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Portal_downloads_take_the_portal_cookie_only_not_an_api_key()
    {
        var tenant = await app.CreateTenantAsync();
        foreach (var path in new[] { "/portal/runs/run_x/output", "/portal/runs/run_x/steps/s/output" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.Http.GetAsync(path)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client().GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task Unknown_pages_answer_the_portal_not_found_page_and_unknown_api_paths_keep_problem_json()
    {
        var page = await app.Client().GetAsync("/no/such/page");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("data-testid=\"not-found\"", await page.Content.ReadAsStringAsync());

        var tenant = await app.CreateTenantAsync();
        var api = await tenant.Http.GetAsync("/api/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
    }
}
