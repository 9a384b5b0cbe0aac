using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Billing;
using Saas.Web.Billing;
using Saas.Web.Components.Platform;
using Saas.Web.Platform;

namespace Saas.Portal.Tests;

/// <summary>The platform administrators' pages on the real engine: tenants (suspend, resume, plan), plans and price versions, reconciliation.</summary>
public sealed class PlatformPagesTests : PageContext
{
    public PlatformPagesTests()
    {
        Services.AddOptions();
        Services.AddSingleton<StripeBilling>();
        Services.AddSingleton<PlatformChanges>();
    }

    private TenantBillingStore Billing => Services.GetRequiredService<TenantBillingStore>();

    private PlanStore Plans => Services.GetRequiredService<PlanStore>();

    [Fact]
    public async Task A_tenant_is_suspended_with_a_reason_it_will_see_then_resumed_and_both_are_in_its_audit_log()
    {
        var admin = await TenantAsync("platform-co");
        var shop = await TenantAsync("shop");
        SignIn(admin, role: "owner", platformAdmin: true);
        var page = Render<PlatformTenantsPage>();
        var row = $"tr[data-tenant='{shop}']";
        Assert.Equal("active", page.Find($"{row} [data-testid='state']").TextContent);

        await page.Find("button[aria-label='Suspend shop']").ClickAsync(new MouseEventArgs());
        await page.Find("form[aria-label='Suspend shop']").SubmitAsync();
        Assert.Contains("must be 1 to 500 characters", page.Find("[data-path='reason']").TextContent);
        Assert.Null(Billing.Get(shop).SuspendedReason);

        page.Find($"#reason-{shop}").Input("unpaid since March");
        await page.Find("form[aria-label='Suspend shop']").SubmitAsync();
        Assert.Equal("suspended: unpaid since March", page.Find($"{row} [data-testid='state']").TextContent);
        Assert.Contains("unpaid since March", Billing.Get(shop).Refusal(Clock.GetUtcNow()));

        await page.Find("button[aria-label='Resume shop']").ClickAsync(new MouseEventArgs());
        Assert.Equal("active", page.Find($"{row} [data-testid='state']").TextContent);
        Assert.Null(Billing.Get(shop).Refusal(Clock.GetUtcNow()));
        var audit = Services.GetRequiredService<AuditLog>().Export(shop, 0, long.MaxValue).ToList();
        Assert.Equal(["billing.suspended", "billing.resumed"], audit.Select(e => e.Action));
        Assert.All(audit, e => Assert.Equal(("platform", "user-1"), (e.ActorType, e.ActorId)));
    }

    [Fact]
    public async Task A_plan_is_assigned_from_the_tenants_list()
    {
        var shop = await TenantAsync("shop");
        var plan = await Plans.CreateAsync("starter", "usd", PlanPrices.Free, CancellationToken.None);
        SignIn(shop, role: "viewer", platformAdmin: true);
        var page = Render<PlatformTenantsPage>();

        await page.Find("select[aria-label='Plan of shop']").ChangeAsync(new ChangeEventArgs { Value = plan.Id });

        Assert.Equal(plan.Id, Billing.Get(shop).PlanId);
    }

    [Fact]
    public async Task Plans_are_created_with_prices_checked_at_their_fields_and_get_new_price_versions()
    {
        var admin = await TenantAsync("platform-co");
        SignIn(admin, role: "owner", platformAdmin: true);
        var page = Render<PlatformPlansPage>();

        page.Find("#new-llm_input_tokens-models").Input("gpt-4o=five");
        await page.Find("[data-testid='create-plan']").SubmitAsync();
        Assert.Contains("'gpt-4o=five' is not model=price", page.Find("[data-path='meters.llm_input_tokens.models']").TextContent);
        page.Find("#new-llm_input_tokens-models").Input("gpt-4o=5");
        page.Find("#new-step_executions-price").Change("-1");
        await page.Find("[data-testid='create-plan']").SubmitAsync();
        Assert.Contains("zero or more", page.Find("[data-path='meters.step_executions.unitPriceUsd']").TextContent);
        Assert.Contains("1 to 100 characters", page.Find("[data-path='name']").TextContent);
        Assert.Empty(Plans.List());

        page.Find("#plan-name").Input("pro");
        page.Find("#new-base").Change("49");
        page.Find("#new-step_executions-included").Change("1000");
        page.Find("#new-step_executions-price").Change("0.001");
        await page.Find("[data-testid='create-plan']").SubmitAsync();

        var plan = Assert.Single(Plans.List());
        Assert.Equal(49m, plan.Versions[0].Prices.BaseFeeUsd);
        Assert.Equal(5m, plan.Versions[0].Prices.Meters["llm_input_tokens"].PriceOf("gpt-4o"));
        Assert.Contains("$49/month; llm_input_tokens: 0 included, then $0 per million (gpt-4o $5); step_executions: 1,000 included, then $0.001 each", page.Find("tr[data-plan='pro'][data-version='1']").TextContent);

        page.Find("#version-step_executions-price").Change("0.002");
        await page.Find("[data-testid='new-version']").SubmitAsync();

        var versions = Plans.Find(plan.Id)!.Versions;
        Assert.Equal(2, versions.Count);
        Assert.Equal(0.002m, versions[1].Prices.Meters["step_executions"].UnitPriceUsd);
        Assert.Equal(Pricing.MonthStart(Clock.GetUtcNow()).AddMonths(1).ToUnixTimeMilliseconds(), versions[1].EffectiveFrom);
        Assert.Contains("2026-04-01", page.Find("tr[data-plan='pro'][data-version='2']").TextContent);
    }

    [Fact]
    public async Task The_reconciliation_page_says_ledger_only_mode_has_nothing_to_reconcile()
    {
        var admin = await TenantAsync("platform-co");
        SignIn(admin, role: "owner", platformAdmin: true);
        var page = Render<PlatformReconciliationPage>();

        Assert.Contains("Ledger-only mode", page.Find("[data-testid='ledger-only']").TextContent);
        Assert.Contains("No reconciliation has run yet", page.Find("[data-testid='no-report']").TextContent);
    }
}
