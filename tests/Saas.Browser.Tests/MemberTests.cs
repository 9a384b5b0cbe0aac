using System.Text.RegularExpressions;

namespace Saas.Browser.Tests;

[Collection(PortalCollection.Name)]
public sealed class MemberTests(PortalFixture portal)
{
    [Fact]
    public async Task An_invited_viewer_joins_through_the_mailed_link_and_cannot_reach_admin_or_builder_pages()
    {
        var ownerEmail = $"owner-{Guid.NewGuid():N}@example.com";
        var owner = await portal.SignUpAsync(ownerEmail, "Team Co");
        await PortalFixture.GotoInteractiveAsync(owner, "members");
        var viewer = $"viewer-{Guid.NewGuid():N}@example.com";
        await owner.GetByLabel("E-mail").FillAsync(viewer);
        await owner.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("viewer");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Send invitation" }).ClickAsync();
        await Assertions.Expect(owner.GetByTestId("members-message")).ToHaveTextAsync($"Invitation sent to {viewer} as viewer.");
        await Assertions.Expect(owner.Locator($"tr[data-member='{viewer}']")).ToContainTextAsync("invited");
        await PortalFixture.ScreenshotAsync(owner, "members");

        var page = await portal.NewPageAsync();
        await page.GotoAsync(await portal.LinkFromMailAsync(viewer));
        await page.GetByLabel("New password").FillAsync(PortalFixture.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("reset-done")).ToBeVisibleAsync();

        await PortalFixture.SignInAsync(page, viewer);
        await page.WaitForURLAsync(new Regex("/runs$"));
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToContainTextAsync($"{viewer} · viewer");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "API keys", Exact = true })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Upload", Exact = true })).ToHaveCountAsync(0);

        foreach (var adminOnly in new[] { "api-keys", "upload" })
        {
            var response = await page.GotoAsync(adminOnly);
            await page.WaitForURLAsync(new Regex("/account/access-denied"));
            await Assertions.Expect(page.GetByTestId("access-denied")).ToBeVisibleAsync();
        }
        await PortalFixture.GotoInteractiveAsync(page, "members");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send invitation" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator($"tr[data-member='{viewer}']")).ToContainTextAsync("active");

        // The owner makes the viewer an admin: the new role applies from the viewer's next sign-in at the latest.
        await PortalFixture.GotoInteractiveAsync(owner, "members");
        await owner.GetByLabel($"Role of {viewer}").SelectOptionAsync("admin");
        await Assertions.Expect(owner.GetByTestId("members-message")).ToHaveTextAsync($"{viewer} is now admin.");
        await PortalFixture.SignInAsync(page, viewer);
        await page.WaitForURLAsync(new Regex("/runs$"));
        await PortalFixture.GotoInteractiveAsync(page, "api-keys");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API keys" })).ToBeVisibleAsync();

        var viewerId = await portal.UserIdAsync(viewer);

        // Removed, the member's account goes too: signing in again fails.
        await owner.GetByRole(AriaRole.Button, new() { Name = $"Remove {viewer}" }).ClickAsync();
        await Assertions.Expect(owner.GetByTestId("members-message")).ToHaveTextAsync($"{viewer} was removed.");
        await Assertions.Expect(owner.Locator($"tr[data-member='{viewer}']")).ToHaveCountAsync(0);
        await PortalFixture.SignInAsync(page, viewer);
        await Assertions.Expect(page.GetByTestId("errors")).ToHaveTextAsync("The e-mail or password is not right.");

        // Each change is in the audit log: who (the owner; the member for joining), what, and from where.
        var api = await portal.ApiClientAsync(ownerEmail);
        var ownerId = await portal.UserIdAsync(ownerEmail);
        var invited = Assert.Single(await PortalFixture.AuditAsync(api, "member.invited"));
        var joined = Assert.Single(await PortalFixture.AuditAsync(api, "member.joined"));
        var changed = Assert.Single(await PortalFixture.AuditAsync(api, "member.role_changed"));
        var removed = Assert.Single(await PortalFixture.AuditAsync(api, "member.removed"));
        foreach (var (entry, actor) in new[] { (invited, ownerId), (joined, viewerId), (changed, ownerId), (removed, ownerId) })
        {
            Assert.Equal(("user", actor, "user", viewerId), (entry["actorType"]!.GetValue<string>(), entry["actorId"]!.GetValue<string>(), entry["targetType"]!.GetValue<string>(), entry["targetId"]!.GetValue<string>()));
            Assert.Equal("127.0.0.1", entry["ip"]?.GetValue<string>());
            Assert.Contains("Chrome", entry["userAgent"]?.GetValue<string>());
        }
        Assert.Equal((viewer, "viewer"), (invited["details"]!["email"]!.GetValue<string>(), invited["details"]!["role"]!.GetValue<string>()));
        Assert.Equal(("viewer", "admin"), (changed["details"]!["from"]!.GetValue<string>(), changed["details"]!["to"]!.GetValue<string>()));
        Assert.Equal((viewer, "admin"), (removed["details"]!["email"]!.GetValue<string>(), removed["details"]!["role"]!.GetValue<string>()));
    }
}
