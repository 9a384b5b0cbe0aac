using System.Text.RegularExpressions;

namespace Saas.Browser.Tests;

[Collection(PortalCollection.Name)]
public sealed class PasswordTests(PortalFixture portal)
{
    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_and_a_mailed_reset_link_sets_a_new_password_that_signs_in()
    {
        var email = $"locked-{Guid.NewGuid():N}@example.com";
        var page = await portal.SignUpAsync(email, "Careless Ltd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/account/signin"));

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            await PortalFixture.SignInAsync(page, email, "Wrong-Passw0rd");
            await Assertions.Expect(page.GetByTestId("errors")).ToHaveTextAsync("The e-mail or password is not right.");
        }
        await PortalFixture.SignInAsync(page, email, "Wrong-Passw0rd");
        await Assertions.Expect(page.GetByTestId("errors")).ToContainTextAsync("locked");
        // Locked means locked: the right password does not get in either.
        await PortalFixture.SignInAsync(page, email);
        await Assertions.Expect(page.GetByTestId("errors")).ToContainTextAsync("locked");
        await PortalFixture.ScreenshotAsync(page, "sign-in-locked");

        await page.GetByRole(AriaRole.Link, new() { Name = "Forgot your password?" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reset your password" })).ToBeVisibleAsync();
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send me a link" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("reset-sent")).ToBeVisibleAsync();

        var link = await portal.LinkFromMailAsync(email);
        await page.GotoAsync(link);
        await page.GetByLabel("New password").FillAsync("An0ther-Secret!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("reset-done")).ToBeVisibleAsync();

        // The link works once.
        await page.GotoAsync(link);
        await page.GetByLabel("New password").FillAsync("Th1rd-Secret!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("errors")).ToContainTextAsync("expired or was already used");

        await PortalFixture.SignInAsync(page, email, "An0ther-Secret!");
        await page.WaitForURLAsync(new Regex("/runs$"));
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToContainTextAsync(email);

        var api = await portal.ApiClientAsync(email);
        var userId = await portal.UserIdAsync(email);
        var requested = Assert.Single(await PortalFixture.AuditAsync(api, "user.password_reset_requested"));
        var reset = Assert.Single(await PortalFixture.AuditAsync(api, "user.password_reset"));
        foreach (var entry in new[] { requested, reset })
        {
            Assert.Equal(("user", userId, userId), (entry["actorType"]!.GetValue<string>(), entry["actorId"]!.GetValue<string>(), entry["targetId"]!.GetValue<string>()));
            Assert.Equal("127.0.0.1", entry["ip"]?.GetValue<string>());
            Assert.Contains("Chrome", entry["userAgent"]?.GetValue<string>());
        }
    }
}
