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

    [Fact]
    public async Task Pages_carry_a_csp_with_a_fresh_nonce_for_their_only_inline_script_and_api_answers_a_policy_that_allows_nothing()
    {
        var first = await app.Client().GetAsync("/account/signin");
        var second = await app.Client().GetAsync("/account/signin");
        var api = await app.Client().GetAsync("/api/v1/pipelines");

        var csp = first.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = System.Text.RegularExpressions.Regex.Match(csp, "'nonce-([^']+)'").Groups[1].Value;
        var html = await first.Content.ReadAsStringAsync();
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.DoesNotContain("'unsafe-inline'", csp.Split(';').Single(d => d.Trim().StartsWith("script-src", StringComparison.Ordinal)));
        Assert.Contains($"nonce=\"{nonce}\"", html);
        Assert.NotEqual(csp, second.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", first.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", first.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", api.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", api.Headers.GetValues("X-Content-Type-Options").Single());
        var antiforgery = first.Headers.GetValues("Set-Cookie").Single(c => c.Contains("Antiforgery", StringComparison.Ordinal));
        Assert.Contains("httponly", antiforgery, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", antiforgery, StringComparison.OrdinalIgnoreCase);
    }
}
