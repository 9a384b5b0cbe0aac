using System.Text.Json;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Storage;
using Saas.Web.Billing;
using Saas.Web.Components.Billing;
using Saas.Web.Gateway;

namespace Saas.Portal.Tests;

/// <summary>The tenant billing page on the real engine: the plan, what the month costs, usage per meter, pipeline and model, the cap and contacts.</summary>
public sealed class BillingPageTests : PageContext
{
    public BillingPageTests()
    {
        Services.AddOptions();
        Services.AddSingleton<GatewayMeter>();
        Services.AddSingleton<StripeBilling>();
        Services.AddSingleton<BillingChanges>();
    }

    private TenantBillingStore Billing => Services.GetRequiredService<TenantBillingStore>();

    private IEnumerable<string> AuditActions(string tenant) => Services.GetRequiredService<AuditLog>().Export(tenant, 0, long.MaxValue).Select(e => e.Action);

    [Fact]
    public async Task An_admin_sees_the_plan_its_prices_the_months_cost_and_usage_per_meter_pipeline_and_model_in_ledger_only_mode()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant, Definition("orders"));
        await PricedAsync(tenant);
        await UsageAsync(tenant, Meters.StepExecutions, 12, pipeline.Id, null);
        await UsageAsync(tenant, Meters.LlmInputTokens, 1_500_000, pipeline.Id, "gpt-4o");
        SignIn(tenant, role: "admin");

        var page = Render<BillingPage>();

        Assert.Contains("Ledger-only mode", page.Find("[data-testid='ledger-only']").TextContent);
        Assert.Contains("Ledger-only mode", page.Find("[data-testid='invoices']").TextContent);
        Assert.Contains("pro", page.Find("[data-testid='plan']").TextContent);
        Assert.Contains("$10", page.Find("[data-testid='plan']").TextContent);
        Assert.Contains("gpt-4o: $5", page.Find("[data-meter='llm_input_tokens']").TextContent);
        // 2 steps beyond the 10 included at $0.5, 1.5M tokens at $5 per million; 26.5 of 31 days of the base fee.
        Assert.Contains("$1.00", page.Find("[data-line='step_executions/']").TextContent);
        Assert.Contains("$7.50", page.Find("[data-line='llm_input_tokens/gpt-4o']").TextContent);
        Assert.Contains("$17.048387", page.Find("[data-testid='month-to-date']").TextContent);
        Assert.Contains("orders", page.Find("[data-testid='usage-pipeline']").TextContent);
        Assert.Contains("gpt-4o", page.Find("[data-testid='usage-model']").TextContent);
        Assert.DoesNotContain("step_executions", page.Find("[data-testid='usage-model']").TextContent);
        Assert.Contains("1,500,000", page.Find("[data-testid='usage-meter']").TextContent);
        Assert.Equal("no cap", page.Find("[data-testid='cap-summary']").TextContent);
    }

    [Fact]
    public async Task The_cap_form_shows_errors_at_their_fields_then_saves_the_cap_and_thresholds_and_audits_it()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, role: "admin");
        var page = Render<BillingPage>();

        page.Find("#cap").Change("-1");
        page.Find("#thresholds").Input("50, 2000");
        await page.Find("[data-testid='cap-form']").SubmitAsync();
        Assert.Contains("from 0 to 10,000,000", page.Find("[data-path='monthlyUsd']").TextContent);
        Assert.Contains("from 1 to 1000", page.Find("[data-path='alertThresholds[1]']").TextContent);
        page.Find("#thresholds").Input("fifty");
        await page.Find("[data-testid='cap-form']").SubmitAsync();
        Assert.Contains("'fifty' is not a whole percentage", page.Find("[data-path='alertThresholds']").TextContent);
        Assert.Null(Billing.Get(tenant).CapUsd);

        page.Find("#cap").Change("250");
        page.Find("#thresholds").Input("90, 75%");
        await page.Find("[data-testid='cap-form']").SubmitAsync();

        Assert.Equal(250m, Billing.Get(tenant).CapUsd);
        Assert.Equal([75, 90], Billing.Get(tenant).AlertThresholds);
        Assert.Contains("$0.00 of $250", page.Find("[data-testid='cap-summary']").TextContent);
        Assert.Equal(["billing.cap.set"], AuditActions(tenant));
    }

    [Fact]
    public async Task Contacts_are_checked_per_line_and_saved_in_order()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, role: "owner");
        var page = Render<BillingPage>();

        page.Find("#contacts").Input("ops@example.com\nnot-an-address");
        await page.Find("[data-testid='contacts-form']").SubmitAsync();
        Assert.Contains("'not-an-address' is not one e-mail address", page.Find("[data-path='contacts[1]']").TextContent);
        Assert.Empty(Billing.Contacts(tenant));

        page.Find("#contacts").Input("ops@example.com\n cfo@example.com ");
        await page.Find("[data-testid='contacts-form']").SubmitAsync();
        Assert.Equal(["ops@example.com", "cfo@example.com"], Billing.Contacts(tenant));
        Assert.Equal(["billing.contacts.set"], AuditActions(tenant));
    }

    [Fact]
    public async Task A_test_run_in_the_builder_estimates_one_run_and_a_thousand_on_the_plan_using_the_included_steps_first()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant);
        await PricedAsync(tenant);
        SignIn(tenant);
        var page = Render<Saas.Web.Components.Pipelines.PipelineBuilderPage>(p => p.Add(x => x.Id, pipeline.Id));

        page.Find(".fg-sample textarea").Change("order,qty,price\nA-1,2,75\nA-2,1,20\n");
        await page.Find("button.fg-run-test").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs());

        // Two steps a run; 10 step executions are included each month, then $0.5 each.
        var estimate = page.Find("[data-testid='cost-estimate']").TextContent;
        Assert.Equal("$0.00", page.Find("[data-testid='cost-one']").TextContent);
        Assert.Equal("$995.00", page.Find("[data-testid='cost-thousand']").TextContent);
        Assert.Contains("2 step executions per run", estimate);
        Assert.Contains("on 2 sample records", estimate);
        Assert.Contains("pro", estimate);
    }

    private async Task PricedAsync(string tenant)
    {
        using var prices = JsonDocument.Parse("""
            {"baseFeeUsd": 10, "meters": {"step_executions": {"included": 10, "unitPriceUsd": 0.5}, "llm_input_tokens": {"pricePerMillionUsd": 2, "models": {"gpt-4o": 5}}}}
            """);
        var plan = await Services.GetRequiredService<PlanStore>().CreateAsync("pro", "usd", PlanPrices.Parse(prices.RootElement).Prices!, CancellationToken.None);
        await Billing.AssignPlanAsync(tenant, plan.Id, CancellationToken.None);
    }

    private Task UsageAsync(string tenant, string meter, long quantity, string? pipelineId, string? model) =>
        Services.GetRequiredService<Database>().WriteAsync((connection, transaction) => UsageLedger.Append(connection, transaction,
            new UsageEvent(tenant, meter, quantity, Guid.NewGuid().ToString("N"), pipelineId, null, Clock.GetUtcNow().AddDays(-1).ToUnixTimeMilliseconds()) { Model = model }));
}
