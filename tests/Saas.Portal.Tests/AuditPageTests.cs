using Microsoft.AspNetCore.Components.Web;
using Saas.Pipelines.Audit;
using Saas.Web.Components.Audit;

namespace Saas.Portal.Tests;

public sealed class AuditPageTests : PageContext
{
    private AuditLog Log => Services.GetRequiredService<AuditLog>();

    [Fact]
    public async Task An_admin_pages_through_the_tenants_entries_and_filters_them_by_action_and_actor()
    {
        var tenant = await TenantAsync();
        var other = await TenantAsync("other");
        for (var i = 0; i < 55; i++)
        {
            await Log.AppendAsync(tenant, new AuditActor(AuditActorTypes.ApiKey, "key_1", "127.0.0.1"), "pipeline.published", "pipeline", $"pl_{i}", null, CancellationToken.None);
        }
        // Newest first: the invitation comes after the 55 others, so it is on the first page.
        await Task.Delay(5);
        await Log.AppendAsync(tenant, new AuditActor(AuditActorTypes.User, "user-1"), "member.invited", "user", "usr_2", new { email = "bo@example.com" }, CancellationToken.None);
        await Log.AppendAsync(other, AuditActor.System, "member.invited", "user", "usr_secret", null, CancellationToken.None);
        SignIn(tenant, role: "admin");
        var page = Render<AuditPage>();

        Assert.Equal(AuditPage.PageSize, page.FindAll("tr[data-entry]").Count);
        Assert.Contains(page.FindAll("tr[data-entry]"), row => row.GetAttribute("data-action") == "member.invited");
        await page.Find("[data-testid='older']").ClickAsync(new MouseEventArgs());
        Assert.Equal(56 - AuditPage.PageSize, page.FindAll("tr[data-entry]").Count);
        Assert.Empty(page.FindAll("[data-testid='older']"));
        await page.Find("[data-testid='newer']").ClickAsync(new MouseEventArgs());
        Assert.Equal(AuditPage.PageSize, page.FindAll("tr[data-entry]").Count);

        page.Find("#audit-action").Change("member.");
        await page.Find("[data-testid='filters']").SubmitAsync();
        var rows = page.FindAll("tr[data-entry]");
        Assert.Single(rows);
        Assert.Contains("bo@example.com", rows[0].TextContent);
        Assert.DoesNotContain("usr_secret", page.Markup);

        page.Find("#audit-action").Change("");
        page.Find("#audit-actor").Change("user-1");
        await page.Find("[data-testid='filters']").SubmitAsync();
        Assert.Single(page.FindAll("tr[data-entry]"));

        page.Find("#audit-from").Change(DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd"));
        await page.Find("[data-testid='filters']").SubmitAsync();
        Assert.NotNull(page.Find("[data-testid='empty']"));
        Assert.StartsWith("portal/audit/export?from=", page.Find("[data-testid='export']").GetAttribute("href"));
    }
}
