using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Saas.Pipelines.Billing;
using Saas.Web.Platform;

namespace Saas.Browser.Tests;

[CollectionDefinition(Name)]
public sealed class BillingCollection : ICollectionFixture<PortalFixture>
{
    public const string Name = "billing";
}

/// <summary>The billing page (tenant admin) and the platform pages (platform admin) end to end: a real host and Chromium.</summary>
[Collection(BillingCollection.Name)]
public sealed class BillingPortalTests(PortalFixture portal)
{
    private static readonly object OneStep = new { name = "priced", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } };

    [Fact]
    public async Task A_tenant_admin_sees_what_the_month_costs_and_sets_a_cap_with_alert_thresholds()
    {
        var email = $"billing-{Guid.NewGuid():N}@example.com";
        var page = await portal.SignUpAsync(email, "Billing Inc");
        var api = await portal.ApiClientAsync(email);
        using (var prices = JsonDocument.Parse("""{"baseFeeUsd": 20, "meters": {"step_executions": {"unitPriceUsd": 0.25}}}"""))
        {
            var plan = await portal.App.Services.GetRequiredService<PlanStore>().CreateAsync($"team-{Guid.NewGuid():N}", "usd", PlanPrices.Parse(prices.RootElement).Prices!, CancellationToken.None);
            await portal.App.Services.GetRequiredService<TenantBillingStore>().AssignPlanAsync(api.TenantId, plan.Id, CancellationToken.None);
        }
        var pipeline = await api.CreatePipelineAsync(OneStep);
        for (var i = 0; i < 4; i++)
        {
            await api.RunAndWaitAsync(pipeline, new { x = i });
        }

        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Billing" })).ToBeVisibleAsync();
        await PortalFixture.GotoInteractiveAsync(page, "billing");
        await Assertions.Expect(page.GetByTestId("ledger-only")).ToContainTextAsync("Ledger-only mode");
        await Assertions.Expect(page.Locator("[data-line='step_executions/']")).ToContainTextAsync("$1.00");
        await Assertions.Expect(page.GetByTestId("usage-pipeline")).ToContainTextAsync("priced");
        await Assertions.Expect(page.GetByTestId("cap-summary")).ToHaveTextAsync("no cap");

        await page.GetByLabel("Monthly cap (USD)").FillAsync("5");
        await page.GetByLabel("Alert thresholds (% of the cap)").FillAsync("50, 90");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save cap" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("cap-summary")).ToContainTextAsync("$1.00 of $5.00 (20 %)");
        var billing = portal.App.Services.GetRequiredService<TenantBillingStore>().Get(api.TenantId);
        Assert.Equal(5m, billing.CapUsd);
        Assert.Equal([50, 90], billing.AlertThresholds);
        await PortalFixture.ScreenshotAsync(page, "billing");
    }

    [Fact]
    public async Task A_platform_admin_creates_a_plan_and_suspends_a_tenant_whose_runs_and_gateway_calls_are_then_refused()
    {
        var customerEmail = $"customer-{Guid.NewGuid():N}@example.com";
        var customerName = $"Customer {Guid.NewGuid():N}"[..17];
        var customerPage = await portal.SignUpAsync(customerEmail, customerName);
        var customer = await portal.ApiClientAsync(customerEmail);
        var pipeline = await customer.CreatePipelineAsync(OneStep);

        // Not a platform administrator: no Platform menu, and the pages are refused.
        await Assertions.Expect(customerPage.GetByRole(AriaRole.Link, new() { Name = "Tenants" })).ToHaveCountAsync(0);
        await customerPage.GotoAsync("platform/tenants");
        await customerPage.WaitForURLAsync(new Regex("/account/access-denied"));

        var adminEmail = $"platform-{Guid.NewGuid():N}@example.com";
        await (await portal.SignUpAsync(adminEmail, "Platform Co")).Context.CloseAsync();
        Assert.Equal(0, await GrantPlatformAdminCommand.RunAsync(portal.App.Services, [adminEmail]));
        var admin = await portal.NewPageAsync();
        await PortalFixture.SignInAsync(admin, adminEmail);
        await admin.WaitForURLAsync(new Regex("/runs$"));

        await PortalFixture.GotoInteractiveAsync(admin, "platform/plans");
        var planName = $"scale-{Guid.NewGuid():N}"[..14];
        await admin.GetByLabel("Plan name").FillAsync(planName);
        await admin.Locator("#new-base").FillAsync("99");
        await admin.Locator("#new-step_executions-price").FillAsync("0.002");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Create plan" }).ClickAsync();
        await Assertions.Expect(admin.Locator($"tr[data-plan='{planName}'][data-version='1']")).ToContainTextAsync("$99/month");
        await PortalFixture.ScreenshotAsync(admin, "platform-plans");

        await PortalFixture.GotoInteractiveAsync(admin, "platform/tenants");
        var row = admin.Locator($"tr[data-tenant='{customer.TenantId}']");
        await row.GetByLabel($"Plan of {customerName}").SelectOptionAsync(new SelectOptionValue { Label = planName });
        await row.GetByRole(AriaRole.Button, new() { Name = $"Suspend {customerName}" }).ClickAsync();
        await row.GetByLabel("Reason (the tenant sees it)").FillAsync("chargeback on invoice 7");
        await row.GetByRole(AriaRole.Button, new() { Name = $"Confirm: suspend {customerName}" }).ClickAsync();
        await Assertions.Expect(row.GetByTestId("state")).ToHaveTextAsync("suspended: chargeback on invoice 7");
        var planId = portal.App.Services.GetRequiredService<PlanStore>().FindByName(planName)!.Id;
        await Assertions.Expect(row.GetByLabel($"Plan of {customerName}")).ToHaveValueAsync(planId);
        await PortalFixture.ScreenshotAsync(admin, "platform-tenants");

        var run = await customer.Http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { x = 1 });
        var gateway = await customer.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "any", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.PaymentRequired, run.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, gateway.StatusCode);
        Assert.Contains("chargeback on invoice 7", await run.Content.ReadAsStringAsync());
        Assert.Contains("chargeback on invoice 7", await gateway.Content.ReadAsStringAsync());

        await row.GetByRole(AriaRole.Button, new() { Name = $"Resume {customerName}" }).ClickAsync();
        await Assertions.Expect(row.GetByTestId("state")).ToHaveTextAsync("active");
        Assert.Equal(HttpStatusCode.Accepted, (await customer.Http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { x = 2 })).StatusCode);
    }
}
