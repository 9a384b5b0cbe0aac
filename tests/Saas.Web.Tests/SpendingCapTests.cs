using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Saas.Pipelines.Metering;

namespace Saas.Web.Tests;

/// <summary>Monthly spending caps: atomic admission under concurrency, 402 at the cap, alerts once per threshold.</summary>
public sealed class SpendingCapTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private static readonly object OneStep = new { name = "p", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } };

    [Fact]
    public async Task Fifty_concurrent_runs_against_a_nearly_spent_cap_admit_only_what_the_cap_leaves_room_for()
    {
        var tenant = await PricedTenantAsync(stepPriceUsd: 0.01m);
        var pipeline = await tenant.CreatePipelineAsync(OneStep);
        for (var i = 0; i < 3; i++)
        {
            await tenant.RunAndWaitAsync(pipeline, new { x = i });
        }
        (await tenant.Http.PutAsJsonAsync("/api/v1/billing/cap", new { monthlyUsd = 0.05m })).EnsureSuccessStatusCode();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => tenant.Http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { x = i })));

        var admitted = responses.Where(r => r.StatusCode == HttpStatusCode.Accepted).ToList();
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.PaymentRequired).ToList();
        Assert.Equal(50, admitted.Count + refused.Count);
        Assert.Equal(2, admitted.Count);
        foreach (var response in admitted)
        {
            await tenant.WaitForRunAsync(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
        }
        var detail = JsonNode.Parse(await refused[0].Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
        Assert.Contains("$0.05", detail);
        Assert.Contains("PUT /api/v1/billing/cap", detail);
        var usage = app.Services.GetRequiredService<UsageLedger>().Quantities(tenant.TenantId, DateTimeOffset.UtcNow.AddDays(-40), DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal(5, usage.Single(u => u.Meter == Meters.StepExecutions).Quantity);
    }

    [Fact]
    public async Task At_the_cap_runs_and_gateway_calls_answer_402_until_the_cap_is_raised_and_each_threshold_alerts_once()
    {
        var tenant = await PricedTenantAsync(stepPriceUsd: 0.25m);
        var pipeline = await tenant.CreatePipelineAsync(OneStep);
        (await tenant.Http.PutAsJsonAsync("/api/v1/billing/cap", new { monthlyUsd = 1, alertThresholds = new[] { 50, 80, 100 } })).EnsureSuccessStatusCode();
        (await tenant.Http.PutAsJsonAsync("/api/v1/billing/contacts", new { contacts = new[] { "ops@example.com", "cfo@example.com" } })).EnsureSuccessStatusCode();
        for (var i = 0; i < 4; i++)
        {
            await tenant.RunAndWaitAsync(pipeline, new { x = i });
        }

        var run = await tenant.Http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs?wait=true", new { x = 9 });
        var gateway = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "any", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.PaymentRequired, run.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, gateway.StatusCode);
        Assert.Contains("spending cap", await gateway.Content.ReadAsStringAsync());

        var alerts = await EventuallyAsync(async () =>
        {
            var billing = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/billing"))!;
            return billing["alerts"]!.AsArray().Count == 3 ? billing : null;
        });
        Assert.Equal([50, 80, 100], alerts["alerts"]!.AsArray().Select(a => a!["threshold"]!.GetValue<int>()));
        Assert.True(alerts["cap"]!["reached"]!.GetValue<bool>());
        // The alert is recorded, then its mail written: wait for the files too.
        var mails = await EventuallyAsync(() =>
        {
            var written = Directory.GetFiles(Path.Combine(app.DataDirectory, "mail"), "*.eml").Select(File.ReadAllText).Where(m => m.Contains(tenant.TenantId)).ToList();
            return Task.FromResult(written.Count == 6 ? written : null);
        });
        Assert.Equal(3, mails.Count(m => m.Contains("To: ops@example.com")));
        Assert.Equal(3, mails.Count(m => m.Contains("To: cfo@example.com")));
        Assert.Equal(2, mails.Count(m => m.Contains("reached its monthly spending cap")));

        (await tenant.Http.PutAsJsonAsync("/api/v1/billing/cap", new { monthlyUsd = 2 })).EnsureSuccessStatusCode();
        await tenant.RunAndWaitAsync(pipeline, new { x = 10 });
    }

    private async Task<TenantClient> PricedTenantAsync(decimal stepPriceUsd)
    {
        var platform = await BillingTests.PlatformClientAsync(app);
        var tenant = await app.CreateTenantAsync();
        var plan = await platform.PostAsJsonAsync("/api/platform/v1/plans", new { name = $"cap-{Guid.NewGuid():N}", currency = "usd", meters = new { step_executions = new { unitPriceUsd = stepPriceUsd } } });
        var planId = JsonNode.Parse(await plan.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenant.TenantId}/plan", new { planId })).EnsureSuccessStatusCode();
        return tenant;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe) where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true within 20 s");
            await Task.Delay(50);
        }
    }
}
