using System.Text.RegularExpressions;

namespace Saas.Browser.Tests;

[Collection(PortalCollection.Name)]
public sealed class AccountTests(PortalFixture portal)
{
    [Fact]
    public async Task Signing_up_creates_an_organisation_whose_owner_can_sign_out_and_back_in()
    {
        var email = $"owner-{Guid.NewGuid():N}@example.com";
        var page = await portal.SignUpAsync(email, "Acme");
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToContainTextAsync($"{email} · owner");
        await PortalFixture.ScreenshotAsync(page, "runs-empty");
        // The portal cookie is not a way into the tenant API: that takes an API key.
        Assert.Equal(401, (await page.APIRequest.GetAsync("api/v1/pipelines")).Status);

        await PortalFixture.GotoInteractiveAsync(page, "account");
        await Assertions.Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync("Acme");
        await PortalFixture.ScreenshotAsync(page, "account");

        // Keyboard: the first Tab reaches the skip link, which moves focus past the navigation.
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Skip to content" })).ToBeFocusedAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/account/signin"));
        await PortalFixture.ScreenshotAsync(page, "sign-in");

        await page.GotoAsync("runs");
        await page.WaitForURLAsync(new Regex("/account/signin\\?ReturnUrl=%2Fruns", RegexOptions.IgnoreCase));

        await PortalFixture.SignInAsync(page, email);
        await page.WaitForURLAsync(new Regex("/runs$"));
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToContainTextAsync(email);
    }
}
