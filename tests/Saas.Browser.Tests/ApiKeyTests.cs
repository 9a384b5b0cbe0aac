using System.Net;

namespace Saas.Browser.Tests;

[Collection(PortalCollection.Name)]
public sealed class ApiKeyTests(PortalFixture portal)
{
    [Fact]
    public async Task A_key_created_in_the_portal_is_shown_once_works_on_the_api_and_stops_working_the_moment_it_is_revoked()
    {
        var page = await portal.SignUpAsync($"keys-{Guid.NewGuid():N}@example.com", "Keys Inc");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "API keys" })).ToBeVisibleAsync();
        await PortalFixture.GotoInteractiveAsync(page, "api-keys");

        await page.GetByLabel("Key name").FillAsync("billing-export");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secret = (await page.GetByTestId("new-key").InnerTextAsync()).Trim();
        Assert.StartsWith("fg_live_", secret);
        await PortalFixture.ScreenshotAsync(page, "api-keys");

        using var api = portal.App.Client(secret);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/pipelines")).StatusCode);

        await PortalFixture.GotoInteractiveAsync(page, "api-keys");
        await Assertions.Expect(page.GetByTestId("new-key")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("body")).Not.ToContainTextAsync(secret);
        var row = page.Locator("tr", new() { HasText = "billing-export" });
        await Assertions.Expect(row).ToContainTextAsync(secret[..14] + "…");
        await Assertions.Expect(row).Not.ToContainTextAsync("never");

        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke billing-export" }).ClickAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Confirm: revoke billing-export" }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("revoked");

        // At once: the key was verified (and cached) a moment ago, and revoking evicts it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/v1/pipelines")).StatusCode);
    }
}
