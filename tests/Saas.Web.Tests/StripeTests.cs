using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Tenancy;

namespace Saas.Web.Tests;

/// <summary>The Stripe relay and webhook against a local stand-in for Stripe's API (Stripe.net pointed at it through ApiBase).</summary>
public sealed class StripeTests : IAsyncLifetime
{
    private const string WebhookSecret = "whsec_test_secret";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "flowgate-stripe", Guid.NewGuid().ToString("N"));
    private FakeStripe _stripe = null!;

    public async Task InitializeAsync() => _stripe = await FakeStripe.StartAsync();

    [Fact]
    public async Task Usage_reaches_stripe_summed_into_meter_events_each_sent_once_across_a_restart_and_injected_429_and_500_answers()
    {
        var (tenantId, pipeline, key) = await SetUpAsync();
        _stripe.FailNext(429, 500);
        WebApplication host;
        await using (host = await StartHostAsync())
        {
            var http = TenantHttp(host, key);
            var runs = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs?wait=true", new { x = i })));
            Assert.All(runs, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            await EventuallyAsync(() => StepExecutionsAtStripe() >= 5);
            _stripe.FailNext(429, 429, 500);
            await host.StopAsync();
        }
        await using (host = await StartHostAsync())
        {
            var http = TenantHttp(host, key);
            for (var i = 0; i < 5; i++)
            {
                (await http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs?wait=true", new { x = i })).EnsureSuccessStatusCode();
            }
            await EventuallyAsync(() => StepExecutionsAtStripe() == 30);
            var ledger = host.Services.GetRequiredService<UsageLedger>().Quantities(tenantId, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            Assert.Equal(30, ledger.Single(q => q.Meter == Meters.StepExecutions).Quantity);
            // Each meter event sums the step executions of a minute that were waiting when the relay passed.
            Assert.All(_stripe.MeterEvents, e => Assert.Equal(1, e.Value.Created));
            Assert.All(_stripe.MeterEvents, e => Assert.Equal("flowgate_step_executions", e.Value.EventName));
            Assert.True(_stripe.FailuresAnswered >= 4, $"only {_stripe.FailuresAnswered} injected failures were met");

            var platform = await PlatformAsync(host);
            var report = JsonNode.Parse(await (await platform.PostAsync("/api/platform/v1/reconciliation", null)).Content.ReadAsStringAsync())!;
            Assert.True(report["differences"]!.GetValue<int>() == 0, report.ToJsonString());
            Assert.Equal(30, report["rows"]!.AsArray().Single()!["stripe"]!.GetValue<decimal>());
            Assert.Equal(report.ToJsonString(), JsonNode.Parse(await platform.GetStringAsync("/api/platform/v1/reconciliation"))!.ToJsonString());
        }
    }

    private long StepExecutionsAtStripe() => _stripe.MeterEvents.Values.Where(e => e.EventName == "flowgate_step_executions").Sum(e => e.Value);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Two_web_nodes_relaying_one_billing_outbox_send_each_command_to_stripe_once(string database)
    {
        using var postgres = database == "postgres" ? Saas.Tests.Postgres.NewDatabase() : null;
        string[] shared = postgres is null ? [] : ["--Flowgate:Database:Provider=postgres", $"--ConnectionStrings:Flowgate={postgres.ConnectionString}"];
        _stripe.CustomerLatency = TimeSpan.FromMilliseconds(150);
        await using var first = await StartHostAsync(shared);
        await using var second = await StartHostAsync(shared);
        var tenants = first.Services.GetRequiredService<TenantStore>();
        var billing = second.Services.GetRequiredService<TenantBillingStore>();

        var created = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            created.Add((await tenants.CreateTenantAsync($"shop-{i}", CancellationToken.None)).Tenant.Id);
        }
        await EventuallyAsync(() => created.All(id => billing.Get(id).StripeCustomerId is not null));
        // Time for a second relay that took a command too to reach Stripe.
        await Task.Delay(TimeSpan.FromMilliseconds(600));

        var customers = _stripe.Customers.Values.Select(c => c["description"]!.GetValue<string>()).ToList();
        Assert.All(created, id => Assert.Single(customers, d => d == $"Flowgate tenant {id}"));
        Assert.Equal(created.Select(id => billing.Get(id).StripeCustomerId).Order(), _stripe.Customers.Keys.Order());
    }

    [Fact]
    public async Task Sign_up_creates_the_customer_and_a_plan_creates_the_subscription_and_sessions_return_stripe_urls()
    {
        await using var host = await StartHostAsync();
        var (tenant, key) = await host.Services.GetRequiredService<TenantStore>().CreateTenantAsync("shop", CancellationToken.None);
        var billing = host.Services.GetRequiredService<TenantBillingStore>();
        await EventuallyAsync(() => billing.Get(tenant.Id).StripeCustomerId is not null);
        var http = TenantHttp(host, key.Secret);
        var platform = await PlatformAsync(host);
        var plan = await platform.PostAsJsonAsync("/api/platform/v1/plans", new { name = "metered", currency = "usd", baseFeeUsd = 20, meters = new { step_executions = new { unitPriceUsd = 0.002m } } });
        var planId = JsonNode.Parse(await plan.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();

        var checkout = await http.PostAsync("/api/v1/billing/checkout-session", null);
        (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenant.Id}/plan", new { planId })).EnsureSuccessStatusCode();
        await EventuallyAsync(() => billing.Get(tenant.Id).StripeSubscriptionId is not null);
        var portal = JsonNode.Parse(await (await http.PostAsync("/api/v1/billing/portal-session", null)).Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.Conflict, checkout.StatusCode);
        var subscription = _stripe.Subscriptions[billing.Get(tenant.Id).StripeSubscriptionId!];
        Assert.Equal(billing.Get(tenant.Id).StripeCustomerId, subscription["customer"]!.GetValue<string>());
        var prices = subscription["items"]!["data"]!.AsArray().Select(i => i!["price"]!).ToList();
        Assert.True(prices.Count == 2, subscription.ToJsonString());
        Assert.Contains(prices, p => p["unit_amount_decimal"]!.GetValue<string>() == "2000" && p["recurring"]!["interval"]!.GetValue<string>() == "month" && p["recurring"]!["usage_type"]!.GetValue<string>() == "licensed");
        Assert.Contains(prices, p => p["unit_amount_decimal"]!.GetValue<string>() == "0.2" && p["recurring"]!["usage_type"]!.GetValue<string>() == "metered");
        Assert.StartsWith("https://billing.stripe.test/", portal["url"]!.GetValue<string>());
        _stripe.AddInvoice(billing.Get(tenant.Id).StripeCustomerId!, "FG-0001", "paid", 2500, 0);
        var invoice = JsonNode.Parse(await http.GetStringAsync("/api/v1/billing/invoices"))!.AsArray().Single()!;
        Assert.Equal(("FG-0001", "paid", 25m), (invoice["number"]!.GetValue<string>(), invoice["status"]!.GetValue<string>(), invoice["total"]!.GetValue<decimal>()));
        var billingView = JsonNode.Parse(await http.GetStringAsync("/api/v1/billing"))!;
        Assert.False(billingView["ledgerOnly"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_price_version_added_on_another_node_resyncs_although_this_node_cached_the_old_one()
    {
        await using var host = await StartHostAsync();
        var billing = host.Services.GetRequiredService<TenantBillingStore>();
        var platform = await PlatformAsync(host);
        var (tenant, planId) = await SubscribedTenantAsync(host, platform, new { name = "cached", currency = "usd", baseFeeUsd = 20, meters = new { step_executions = new { unitPriceUsd = 0.002m } } });
        var subscription = _stripe.Subscriptions[billing.Get(tenant.Id).StripeSubscriptionId!];
        Assert.Single(host.Services.GetRequiredService<PlanStore>().Find(planId)!.Versions);

        // Another node's store: its commit enqueues the resync, but this node's cache still holds version 1 for seconds.
        var otherNode = ActivatorUtilities.CreateInstance<PlanStore>(host.Services);
        var prices = new PlanPrices(25, new Dictionary<string, MeterPrice> { ["step_executions"] = new(0, 0.003m, new Dictionary<string, decimal>()) });
        Assert.NotNull(await otherNode.AddVersionAsync(planId, prices, Pricing.MonthStart(DateTimeOffset.UtcNow), CancellationToken.None));

        await EventuallyAsync(() => subscription["items"]!["data"]!.AsArray().Any(i => i!["price"]!["unit_amount_decimal"]!.GetValue<string>() == "2500"));
    }

    [Fact]
    public async Task A_new_price_version_resyncs_the_subscriptions_on_the_plan_to_new_stripe_prices_without_proration()
    {
        await using var host = await StartHostAsync();
        var billing = host.Services.GetRequiredService<TenantBillingStore>();
        var platform = await PlatformAsync(host);
        var (tenant, planId) = await SubscribedTenantAsync(host, platform, new { name = "resync", currency = "usd", baseFeeUsd = 20, meters = new { step_executions = new { unitPriceUsd = 0.002m } } });
        var subscription = _stripe.Subscriptions[billing.Get(tenant.Id).StripeSubscriptionId!];

        // A version from this month's start is due at once; one from next month would wait for it in the outbox.
        var changed = await platform.PutAsJsonAsync($"/api/platform/v1/plans/{planId}", new
        {
            baseFeeUsd = 25, meters = new { step_executions = new { unitPriceUsd = 0.003m } }, effectiveFrom = Pricing.MonthStart(DateTimeOffset.UtcNow),
        });
        changed.EnsureSuccessStatusCode();

        await EventuallyAsync(() => subscription["items"]!["data"]!.AsArray().Any(i => i!["price"]!["unit_amount_decimal"]!.GetValue<string>() == "2500"));
        var prices = subscription["items"]!["data"]!.AsArray().Select(i => i!["price"]!["unit_amount_decimal"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["0.3", "2500"], prices);
        Assert.Equal(("none"), Assert.Single(_stripe.SubscriptionUpdates).ProrationBehavior);
        Assert.Contains(_stripe.Prices.Values, p => p["lookup_key"]!.GetValue<string>() == $"flowgate_{planId}_v2_base");
    }

    [Fact]
    public async Task Tokens_of_a_model_the_plan_prices_on_its_own_go_to_that_models_stripe_meter_and_price_and_reconcile()
    {
        await using var host = await StartHostAsync();
        var billing = host.Services.GetRequiredService<TenantBillingStore>();
        var platform = await PlatformAsync(host);
        var (tenant, _) = await SubscribedTenantAsync(host, platform, new
        {
            name = "ai", currency = "usd", meters = new { llm_input_tokens = new { pricePerMillionUsd = 2m, models = new Dictionary<string, decimal> { ["gpt-4o"] = 5m } } },
        });

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await host.Services.GetRequiredService<Saas.Pipelines.Storage.Database>().WriteAsync((connection, transaction) =>
        {
            UsageLedger.Append(connection, transaction, new UsageEvent(tenant.Id, Meters.LlmInputTokens, 1200, "req_1", null, null, now) { Model = "gpt-4o" });
            UsageLedger.Append(connection, transaction, new UsageEvent(tenant.Id, Meters.LlmInputTokens, 300, "req_2", null, null, now) { Model = "llama3" });
        });
        await EventuallyAsync(() => _stripe.MeterEvents.Count(e => e.Value.Customer == billing.Get(tenant.Id).StripeCustomerId) == 2);

        var events = _stripe.MeterEvents.Values.Where(e => e.Customer == billing.Get(tenant.Id).StripeCustomerId).ToDictionary(e => e.EventName, e => e.Value);
        Assert.Equal(1200, events["flowgate_llm_input_tokens__gpt_4o"]);
        Assert.Equal(300, events["flowgate_llm_input_tokens"]);
        var items = _stripe.Subscriptions[billing.Get(tenant.Id).StripeSubscriptionId!]["items"]!["data"]!.AsArray().Select(i => i!["price"]!).ToList();
        var modelMeter = _stripe.Meters.Values.Single(m => m["event_name"]!.GetValue<string>() == "flowgate_llm_input_tokens__gpt_4o")["id"]!.GetValue<string>();
        Assert.Contains(items, p => p["recurring"]!["meter"]?.GetValue<string>() == modelMeter && p["unit_amount_decimal"]!.GetValue<string>() == "0.0005");
        Assert.Contains(items, p => p["unit_amount_decimal"]!.GetValue<string>() == "0.0002");

        var report = JsonNode.Parse(await (await platform.PostAsync("/api/platform/v1/reconciliation", null)).Content.ReadAsStringAsync())!;
        var row = report["rows"]!.AsArray().Single(r => r!["tenantId"]!.GetValue<string>() == tenant.Id)!;
        Assert.Equal((1500m, 1500m, true), (row["ledger"]!.GetValue<decimal>(), row["stripe"]!.GetValue<decimal>(), row["matches"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task Webhooks_are_verified_handled_once_and_change_the_tenants_billing_state()
    {
        var (tenantId, pipeline, key) = await SetUpAsync();
        await using var host = await StartHostAsync("--Flowgate:Billing:GraceDays=0");
        var billing = host.Services.GetRequiredService<TenantBillingStore>();
        await EventuallyAsync(() => billing.Get(tenantId).StripeCustomerId is not null);
        var customer = billing.Get(tenantId).StripeCustomerId!;
        var webhook = new HttpClient { BaseAddress = new Uri(host.Urls.First()) };
        var http = TenantHttp(host, key);

        var failed = Event("evt_failed", "invoice.payment_failed", new JsonObject { ["id"] = "in_1", ["object"] = "invoice", ["customer"] = customer }, apiVersion: "2019-02-19");
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(webhook, failed, FakeStripe.Sign(failed, "whsec_wrong", DateTimeOffset.UtcNow))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(webhook, failed.Replace("in_1", "in_2"), FakeStripe.Sign(failed, WebhookSecret, DateTimeOffset.UtcNow))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(webhook, failed, FakeStripe.Sign(failed, WebhookSecret, DateTimeOffset.UtcNow.AddMinutes(-10)))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(webhook, failed, null)).StatusCode);
        Assert.Equal("active", billing.Get(tenantId).State);

        var accepted = await PostAsync(webhook, failed, FakeStripe.Sign(failed, WebhookSecret, DateTimeOffset.UtcNow));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("past_due", billing.Get(tenantId).State);
        var refused = await http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { x = 1 });
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        Assert.Contains("payment of invoice in_1 failed", await refused.Content.ReadAsStringAsync());
        var gateway = await http.PostAsJsonAsync("/v1/chat/completions", new { model = "any", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.PaymentRequired, gateway.StatusCode);
        var again = JsonNode.Parse(await (await PostAsync(webhook, failed, FakeStripe.Sign(failed, WebhookSecret, DateTimeOffset.UtcNow))).Content.ReadAsStringAsync())!;
        Assert.Equal("already handled", again["outcome"]!.GetValue<string>());

        var paid = Event("evt_paid", "invoice.paid", new JsonObject { ["id"] = "in_1", ["object"] = "invoice", ["customer"] = customer });
        (await PostAsync(webhook, paid, FakeStripe.Sign(paid, WebhookSecret, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
        Assert.Equal("active", billing.Get(tenantId).State);
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { x = 1 })).StatusCode);

        var updated = Event("evt_sub", "customer.subscription.updated", new JsonObject { ["id"] = "sub_9", ["object"] = "subscription", ["customer"] = customer, ["status"] = "active" });
        (await PostAsync(webhook, updated, FakeStripe.Sign(updated, WebhookSecret, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
        Assert.Equal("sub_9", billing.Get(tenantId).StripeSubscriptionId);
        var deleted = Event("evt_del", "customer.subscription.deleted", new JsonObject { ["id"] = "sub_9", ["object"] = "subscription", ["customer"] = customer, ["status"] = "canceled" });
        (await PostAsync(webhook, deleted, FakeStripe.Sign(deleted, WebhookSecret, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
        Assert.Equal(("canceled", null), (billing.Get(tenantId).State, billing.Get(tenantId).StripeSubscriptionId));
        var customerUpdated = Event("evt_cus", "customer.updated", new JsonObject { ["id"] = customer, ["object"] = "customer", ["email"] = "accounts@shop.example" });
        (await PostAsync(webhook, customerUpdated, FakeStripe.Sign(customerUpdated, WebhookSecret, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();
        Assert.Equal(["accounts@shop.example"], billing.Contacts(tenantId));
    }

    /// <summary>A new tenant with its Stripe customer, on a new plan, once its subscription exists.</summary>
    private async Task<(Tenant Tenant, string PlanId)> SubscribedTenantAsync(WebApplication host, HttpClient platform, object plan)
    {
        var (tenant, _) = await host.Services.GetRequiredService<TenantStore>().CreateTenantAsync("shop", CancellationToken.None);
        var billing = host.Services.GetRequiredService<TenantBillingStore>();
        await EventuallyAsync(() => billing.Get(tenant.Id).StripeCustomerId is not null);
        var created = await platform.PostAsJsonAsync("/api/platform/v1/plans", plan);
        var planId = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenant.Id}/plan", new { planId })).EnsureSuccessStatusCode();
        await EventuallyAsync(() => billing.Get(tenant.Id).StripeSubscriptionId is not null);
        return (tenant, planId);
    }

    /// <summary>A tenant (with a key) and a two-step pipeline, made in a first host on the shared data folder.</summary>
    private async Task<(string TenantId, string Pipeline, string Key)> SetUpAsync()
    {
        await using var host = await StartHostAsync();
        var (tenant, key) = await host.Services.GetRequiredService<TenantStore>().CreateTenantAsync("shop", CancellationToken.None);
        var http = TenantHttp(host, key.Secret);
        var created = await http.PostAsJsonAsync("/api/v1/pipelines", new
        {
            name = "p", trigger = new { type = "http" },
            steps = new object[] { new { id = "a", type = "select", fields = new[] { "x" } }, new { id = "b", type = "rename", fields = new Dictionary<string, string> { ["x"] = "y" } } },
        });
        var pipeline = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        await host.StopAsync();
        return (tenant.Id, pipeline, key.Secret);
    }

    private async Task<WebApplication> StartHostAsync(params string[] extra)
    {
        var host = FlowgateHost.Build([
            "--urls=http://127.0.0.1:0",
            $"--Flowgate:DataDirectory={_data}",
            "--Flowgate:Runtime:RetryBaseDelayMilliseconds=20",
            "--Flowgate:Runtime:PollIntervalMilliseconds=25",
            "--Flowgate:Billing:RelayIntervalMilliseconds=50",
            "--Flowgate:Billing:RetryBaseMilliseconds=20",
            "--Flowgate:Billing:MeterEventBatchSize=4",
            "--Stripe:ApiKey=sk_test_fake",
            $"--Stripe:ApiBase={_stripe.ApiBase}",
            $"--Stripe:WebhookSecret={WebhookSecret}",
            "--Logging:LogLevel:Default=Error",
            .. extra,
        ]);
        await host.StartAsync();
        return host;
    }

    private static HttpClient TenantHttp(WebApplication host, string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(host.Urls.First()), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static async Task<HttpClient> PlatformAsync(WebApplication host)
    {
        var key = await host.Services.GetRequiredService<PlatformKeyStore>().CreateAsync("tests", CancellationToken.None);
        return TenantHttp(host, key.Secret);
    }

    private static string Event(string id, string type, JsonObject data, string apiVersion = "2025-09-30.clover") => new JsonObject
    {
        ["id"] = id, ["object"] = "event", ["api_version"] = apiVersion, ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["type"] = type, ["livemode"] = false, ["pending_webhooks"] = 1, ["data"] = new JsonObject { ["object"] = data },
    }.ToJsonString();

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string payload, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/billing/stripe/webhook") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.Add("Stripe-Signature", signature);
        }
        return http.SendAsync(request);
    }

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true within 30 s");
            await Task.Delay(25);
        }
    }

    public async Task DisposeAsync()
    {
        await _stripe.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
