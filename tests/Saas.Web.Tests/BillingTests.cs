using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Tenancy;

namespace Saas.Web.Tests;

/// <summary>Plans and prices (platform API), pricing the ledger, and the tenant's billing view.</summary>
public sealed class BillingTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private static object Plan => new
    {
        name = $"pro-{Guid.NewGuid():N}",
        currency = "usd",
        baseFeeUsd = 31,
        meters = new Dictionary<string, object>
        {
            ["step_executions"] = new { included = 2, unitPriceUsd = 0.01m },
            ["llm_input_tokens"] = new { included = 500_000, pricePerMillionUsd = 2m, models = new Dictionary<string, decimal> { ["gpt-4o"] = 5m } },
        },
    };

    [Fact]
    public async Task Platform_api_refuses_tenant_keys_and_anonymous_callers()
    {
        var tenant = await app.CreateTenantAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await tenant.Http.GetAsync("/api/platform/v1/plans")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client().GetAsync("/api/platform/v1/tenants")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await (await PlatformAsync()).GetAsync("/api/platform/v1/plans")).StatusCode);
    }

    [Fact]
    public async Task Plans_are_created_versioned_assigned_and_cannot_be_deleted_while_in_use()
    {
        var platform = await PlatformAsync();
        var tenant = await app.CreateTenantAsync();
        var plan = await CreatePlanAsync(platform, Plan);
        var id = plan["id"]!.GetValue<string>();

        var changed = await platform.PutAsJsonAsync($"/api/platform/v1/plans/{id}", new
        {
            baseFeeUsd = 40,
            meters = new { step_executions = new { included = 0, unitPriceUsd = 0.02m } },
            effectiveFrom = Pricing.MonthStart(DateTimeOffset.UtcNow).AddMonths(1),
        });
        var versions = JsonNode.Parse(await changed.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(2, versions["versions"]!.AsArray().Count);
        Assert.Equal(1, versions["currentVersion"]!.GetValue<long>());

        (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenant.TenantId}/plan", new { planId = id })).EnsureSuccessStatusCode();
        var deleted = await platform.DeleteAsync($"/api/platform/v1/plans/{id}");
        Assert.Equal(HttpStatusCode.Conflict, deleted.StatusCode);
        Assert.Contains("assigned", await deleted.Content.ReadAsStringAsync());

        var unused = (await CreatePlanAsync(platform, new { name = $"free-{Guid.NewGuid():N}", currency = "usd" }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await platform.DeleteAsync($"/api/platform/v1/plans/{unused}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.GetAsync($"/api/platform/v1/plans/{unused}")).StatusCode);
    }

    [Fact]
    public async Task Invalid_plans_name_every_problem_with_its_path()
    {
        var platform = await PlatformAsync();

        var response = await platform.PostAsJsonAsync("/api/platform/v1/plans", new
        {
            name = "",
            currency = "eur",
            baseFeeUsd = -1,
            meters = new { steps = new { }, llm_output_tokens = new { unitPriceUsd = 1 } },
        });

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        foreach (var path in new[] { "name", "currency", "baseFeeUsd", "meters.steps", "meters.llm_output_tokens.unitPriceUsd" })
        {
            Assert.Contains($"\"path\":\"{path}\"", body);
        }
    }

    [Fact]
    public async Task A_month_is_priced_from_the_ledger_with_included_quantities_and_model_prices_and_its_parts_add_up()
    {
        var platform = await PlatformAsync();
        var tenant = await app.CreateTenantAsync();
        var planId = (await CreatePlanAsync(platform, Plan))["id"]!.GetValue<string>();
        (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenant.TenantId}/plan", new { planId })).EnsureSuccessStatusCode();
        var october = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        await AppendAsync(tenant.TenantId, october.AddDays(4), Meters.StepExecutions, null, 2);
        await AppendAsync(tenant.TenantId, october.AddDays(19), Meters.StepExecutions, null, 3);
        await AppendAsync(tenant.TenantId, october.AddDays(19), Meters.LlmInputTokens, "gpt-4o", 600_000);
        await AppendAsync(tenant.TenantId, october.AddDays(20), Meters.LlmInputTokens, "llama", 400_000);
        var pricing = app.Services.GetRequiredService<Pricing>();

        var month = pricing.Price(tenant.TenantId, october, october.AddMonths(1));
        var firstHalf = pricing.Price(tenant.TenantId, october, october.AddDays(14));
        var secondHalf = pricing.Price(tenant.TenantId, october.AddDays(14), october.AddMonths(1));

        // Steps: 5 - 2 included = 3 × $0.01. Tokens: 1,000,000 - 500,000 included = half of each model's
        // tokens billed: 300,000 × $5/M (gpt-4o) + 200,000 × $2/M (default) = $1.50 + $0.40.
        Assert.Equal(31m, month.BaseFeeUsd);
        Assert.Equal(0.03m + 1.50m + 0.40m, month.UsageUsd);
        Assert.Equal(32.93m, month.TotalUsd);
        Assert.Equal(0m, firstHalf.UsageUsd);
        Assert.Equal(14m, firstHalf.BaseFeeUsd);
        Assert.Equal(1.93m, secondHalf.UsageUsd);
        Assert.Equal(month.TotalUsd, firstHalf.TotalUsd + secondHalf.TotalUsd);

        var usage = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/usage?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&groupBy=model"))!;
        Assert.Equal(1.93m, usage["amountUsd"]!.GetValue<decimal>());
        var gpt = usage["items"]!.AsArray().Single(i => i!["group"]?.GetValue<string>() == "gpt-4o")!;
        Assert.Equal(600_000, gpt["quantity"]!.GetValue<long>());
        Assert.Equal(1.5m, gpt["amountUsd"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_new_price_version_prices_months_from_its_start_and_leaves_earlier_months_alone()
    {
        var platform = await PlatformAsync();
        var tenant = await app.CreateTenantAsync();
        var planId = (await CreatePlanAsync(platform, new { name = $"v-{Guid.NewGuid():N}", currency = "usd", meters = new { step_executions = new { unitPriceUsd = 0.01m } } }))["id"]!.GetValue<string>();
        (await platform.PutAsJsonAsync($"/api/platform/v1/plans/{planId}", new { meters = new { step_executions = new { unitPriceUsd = 0.02m } }, effectiveFrom = NextMonth })).EnsureSuccessStatusCode();
        (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenant.TenantId}/plan", new { planId })).EnsureSuccessStatusCode();
        // effectiveFrom in the past is refused: months already begun keep their prices.
        Assert.Equal(HttpStatusCode.BadRequest, (await platform.PutAsJsonAsync($"/api/platform/v1/plans/{planId}", new { meters = new { }, effectiveFrom = "2020-01-01T00:00:00Z" })).StatusCode);
        var thisMonth = Pricing.MonthStart(DateTimeOffset.UtcNow);
        await AppendAsync(tenant.TenantId, thisMonth.AddDays(1), Meters.StepExecutions, null, 10);
        await AppendAsync(tenant.TenantId, NextMonth.AddDays(1), Meters.StepExecutions, null, 10);
        var pricing = app.Services.GetRequiredService<Pricing>();

        Assert.Equal(0.10m, pricing.Price(tenant.TenantId, thisMonth, NextMonth).UsageUsd);
        Assert.Equal(0.20m, pricing.Price(tenant.TenantId, NextMonth, NextMonth.AddMonths(1)).UsageUsd);
    }

    [Fact]
    public async Task Billing_shows_plan_month_to_date_projection_cap_state_and_ledger_only_mode()
    {
        var platform = await PlatformAsync();
        var tenant = await app.CreateTenantAsync();
        var planId = (await CreatePlanAsync(platform, new { name = $"b-{Guid.NewGuid():N}", currency = "usd", baseFeeUsd = 10, meters = new { step_executions = new { unitPriceUsd = 0.5m } } }))["id"]!.GetValue<string>();
        (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenant.TenantId}/plan", new { planId })).EnsureSuccessStatusCode();
        var pipeline = await tenant.CreatePipelineAsync(new { name = "p", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } });
        await tenant.RunAndWaitAsync(pipeline, new { x = 1 });
        (await tenant.Http.PutAsJsonAsync("/api/v1/billing/cap", new { monthlyUsd = 100, alertThresholds = new[] { 80, 50 } })).EnsureSuccessStatusCode();

        var billing = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/billing"))!;

        Assert.Equal(planId, billing["plan"]!["id"]!.GetValue<string>());
        Assert.Equal(0.5m, billing["monthToDate"]!["usageUsd"]!.GetValue<decimal>());
        Assert.True(billing["projection"]!["amountUsd"]!.GetValue<decimal>() >= 10.5m);
        Assert.Contains("linear", billing["projection"]!["method"]!.GetValue<string>());
        Assert.Equal(100m, billing["cap"]!["monthlyUsd"]!.GetValue<decimal>());
        Assert.Equal("[50,80]", billing["cap"]!["alertThresholds"]!.ToJsonString());
        Assert.Equal("active", billing["state"]!.GetValue<string>());
        Assert.True(billing["ledgerOnly"]!.GetValue<bool>());
        Assert.Contains("Stripe:ApiKey", billing["ledgerOnlyReason"]!.GetValue<string>());

        var bad = await tenant.Http.PutAsJsonAsync("/api/v1/billing/cap", new { monthlyUsd = -5, alertThresholds = new[] { 0 }, colour = "red" });
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("monthlyUsd", problem);
        Assert.Contains("alertThresholds[0]", problem);
        Assert.Contains("colour", problem);
    }

    [Fact]
    public async Task A_suspended_tenant_gets_402_naming_the_reason_until_resumed()
    {
        var platform = await PlatformAsync();
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(new { name = "p", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } });

        (await platform.PostAsJsonAsync($"/api/platform/v1/tenants/{tenant.TenantId}/suspend", new { reason = "abuse report #42" })).EnsureSuccessStatusCode();
        var run = await tenant.Http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { x = 1 });
        var gateway = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "any", messages = new[] { new { role = "user", content = "hi" } } });
        var listed = JsonNode.Parse(await platform.GetStringAsync($"/api/platform/v1/tenants/{tenant.TenantId}"))!;

        Assert.Equal(HttpStatusCode.PaymentRequired, run.StatusCode);
        Assert.Contains("abuse report #42", await run.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.PaymentRequired, gateway.StatusCode);
        Assert.Contains("abuse report #42", await gateway.Content.ReadAsStringAsync());
        Assert.True(listed["suspended"]!.GetValue<bool>());

        (await platform.PostAsync($"/api/platform/v1/tenants/{tenant.TenantId}/resume", null)).EnsureSuccessStatusCode();
        await tenant.RunAndWaitAsync(pipeline, new { x = 1 });
    }

    private static DateTimeOffset NextMonth => Pricing.MonthStart(DateTimeOffset.UtcNow).AddMonths(1);

    private async Task<JsonNode> CreatePlanAsync(HttpClient platform, object plan)
    {
        var response = await platform.PostAsJsonAsync("/api/platform/v1/plans", plan);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonNode.Parse(body)!;
    }

    private async Task AppendAsync(string tenantId, DateTimeOffset at, string meter, string? model, long quantity) =>
        await app.Services.GetRequiredService<Database>().WriteAsync((connection, transaction) =>
            UsageLedger.Append(connection, transaction, new UsageEvent(tenantId, meter, quantity, Guid.NewGuid().ToString("N"), null, null, at.ToUnixTimeMilliseconds()) { Model = model }));

    [Fact]
    public async Task Billing_writes_need_the_billing_write_scope_and_a_read_only_token_only_reads()
    {
        var tenant = await app.CreateTenantAsync();
        var reader = await TokenClientAsync(tenant, "billing:read");
        var writer = await TokenClientAsync(tenant, "billing:write");

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/billing")).StatusCode);
        foreach (var (path, body) in new (string, object)[] { ("/api/v1/billing/cap", new { monthlyUsd = 5 }), ("/api/v1/billing/contacts", new { contacts = new[] { "a@example.com" } }) })
        {
            var refused = await reader.PutAsJsonAsync(path, body);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("billing:write", await refused.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync("/api/v1/billing/portal-session", null)).StatusCode);
        Assert.Null(app.Services.GetRequiredService<TenantBillingStore>().Get(tenant.TenantId).CapUsd);

        (await writer.PutAsJsonAsync("/api/v1/billing/cap", new { monthlyUsd = 5 })).EnsureSuccessStatusCode();
        Assert.Equal(5m, app.Services.GetRequiredService<TenantBillingStore>().Get(tenant.TenantId).CapUsd);
        var audited = app.Services.GetRequiredService<Saas.Pipelines.Audit.AuditLog>().Export(tenant.TenantId, 0, long.MaxValue).Single(e => e.Action == "billing.cap.set");
        Assert.Equal("oauth_client", audited.ActorType);
    }

    [Fact]
    public async Task Billing_contacts_are_checked_at_their_index_and_replace_the_list()
    {
        var tenant = await app.CreateTenantAsync();

        var invalid = await tenant.Http.PutAsJsonAsync("/api/v1/billing/contacts", new { contacts = new[] { "ops@example.com", "not an address", "OPS@example.com" } });
        var problem = JsonNode.Parse(await invalid.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = problem["errors"]!.AsArray().Select(e => e!["path"]!.GetValue<string>()).ToList();
        Assert.Equal(["contacts[1]", "contacts[2]"], errors);
        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.Http.PutAsJsonAsync("/api/v1/billing/contacts", new { emails = new[] { "a@example.com" } })).StatusCode);
        var unknown = await tenant.Http.PutAsJsonAsync("/api/v1/billing/cap", new { monthlyUsd = 5, alertEmail = "a@example.com" });
        Assert.Contains("PUT /api/v1/billing/contacts", await unknown.Content.ReadAsStringAsync());

        (await tenant.Http.PutAsJsonAsync("/api/v1/billing/contacts", new { contacts = new[] { "ops@example.com", "cfo@example.com" } })).EnsureSuccessStatusCode();
        (await tenant.Http.PutAsJsonAsync("/api/v1/billing/contacts", new { contacts = new[] { "cfo@example.com" } })).EnsureSuccessStatusCode();
        var view = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/billing"))!;
        Assert.Equal(["cfo@example.com"], view["contacts"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    [Fact]
    public async Task In_ledger_only_mode_invoices_and_stripe_sessions_answer_409_saying_so()
    {
        var tenant = await app.CreateTenantAsync();

        foreach (var response in new[] { await tenant.Http.GetAsync("/api/v1/billing/invoices"), await tenant.Http.PostAsync("/api/v1/billing/checkout-session", null) })
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("Ledger-only mode", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Grant_platform_admin_gives_a_portal_account_the_platform_claim_and_revoke_takes_it_back()
    {
        var email = $"ops-{Guid.NewGuid():N}@example.com";
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Saas.Web.Portal.Accounts.Account>>();
        var claims = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.IUserClaimsPrincipalFactory<Saas.Web.Portal.Accounts.Account>>();
        Assert.True((await users.CreateAsync(new Saas.Web.Portal.Accounts.Account { Email = email }, "Sup3r-Secret!")).Succeeded);
        var account = (await users.FindByEmailAsync(email))!;
        var stamp = account.SecurityStamp;

        Assert.Equal(1, await Saas.Web.Platform.GrantPlatformAdminCommand.RunAsync(app.Services, ["nobody@example.com"]));
        Assert.Equal(0, await Saas.Web.Platform.GrantPlatformAdminCommand.RunAsync(app.Services, [email]));
        Assert.True((await claims.CreateAsync(account)).HasClaim(Saas.Web.Portal.PortalUser.PlatformAdminClaim, "true"));

        Assert.Equal(0, await Saas.Web.Platform.GrantPlatformAdminCommand.RunAsync(app.Services, [email, "--revoke"]));
        account = (await users.FindByEmailAsync(email))!;
        Assert.False((await claims.CreateAsync(account)).HasClaim(c => c.Type == Saas.Web.Portal.PortalUser.PlatformAdminClaim));
        Assert.NotEqual(stamp, account.SecurityStamp);
    }

    /// <summary>A client of the tenant's with these scopes, holding an access token for all of them.</summary>
    private async Task<HttpClient> TokenClientAsync(TenantClient tenant, params string[] scopes)
    {
        var created = JsonNode.Parse(await (await tenant.Http.PostAsJsonAsync("/api/v1/oauth/clients", new { name = "billing-app", scopes })).Content.ReadAsStringAsync())!;
        var token = await app.Client().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = created["clientId"]!.GetValue<string>(), ["client_secret"] = created["clientSecret"]!.GetValue<string>(),
            ["scope"] = string.Join(' ', scopes),
        }));
        var body = JsonNode.Parse(await token.Content.ReadAsStringAsync())!;
        Assert.True(token.IsSuccessStatusCode, body.ToJsonString());
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body["access_token"]!.GetValue<string>());
        return client;
    }

    private async Task<HttpClient> PlatformAsync() => await PlatformClientAsync(app);

    public static async Task<HttpClient> PlatformClientAsync(FlowgateApp app)
    {
        var key = await app.Services.GetRequiredService<PlatformKeyStore>().CreateAsync("tests", CancellationToken.None);
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
        return client;
    }
}
