using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class TokenLimitedFlowgateApp : FlowgateApp
{
    protected override string[] ExtraArguments => ["--Flowgate:Gateway:TokensPerMinutePerKey=40"];
}

/// <summary>Budgets, the response cache and the request log of the gateway (and of llm steps).</summary>
public sealed class GatewayPolicyTests(FlowgateApp app) : IClassFixture<FlowgateApp>, IAsyncLifetime
{
    private FakeOpenAi _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAi.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    /// <summary>A tenant whose alias "smart" costs $100 per million tokens each way: a reply of 11 + 7 tokens costs $0.0018.</summary>
    internal static async Task<TenantClient> PricedTenantAsync(FlowgateApp app, FakeOpenAi upstream, string mode = "ok")
    {
        var tenant = await app.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync($"/api/v1/ai/providers/{mode}", new { type = "openai-compatible", baseUrl = upstream.BaseUrl(mode), apiKey = "sk-provider-secret" })).StatusCode);
        var targets = new[] { new { provider = mode, model = $"{mode}-model", inputPricePerMillion = 100m, outputPricePerMillion = 100m } };
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync("/api/v1/ai/models/smart", new { targets })).StatusCode);
        return tenant;
    }

    private static Task<HttpResponseMessage> AskAsync(TenantClient tenant, string content = "hi") =>
        tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", messages = new[] { new { role = "user", content } } });

    [Fact]
    public async Task A_spent_monthly_budget_answers_402_naming_the_budget_before_calling_the_provider()
    {
        var tenant = await PricedTenantAsync(app, _upstream);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync("/api/v1/ai/settings", new { monthlyBudgetUsd = 0.004m })).StatusCode);

        var first = await AskAsync(tenant);
        var second = await AskAsync(tenant);
        var sentBefore = _upstream.Requests.Count;
        var third = await AskAsync(tenant);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, third.StatusCode);
        Assert.Equal(sentBefore, _upstream.Requests.Count);
        var error = JsonNode.Parse(await third.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("budget_exhausted", error["code"]!.GetValue<string>());
        Assert.Contains("monthlyBudgetUsd", error["message"]!.GetValue<string>());
        Assert.Contains("$0.0036 spent", error["message"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync("/api/v1/ai/settings", new { monthlyBudgetUsd = 1m })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await AskAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task A_per_key_budget_is_checked_beside_the_tenants()
    {
        var tenant = await PricedTenantAsync(app, _upstream);
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/settings", new { monthlyBudgetUsd = 10m, monthlyBudgetPerKeyUsd = 0.001m });

        Assert.Equal(HttpStatusCode.OK, (await AskAsync(tenant)).StatusCode);
        var refused = await AskAsync(tenant);

        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        Assert.Contains("monthlyBudgetPerKeyUsd", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Concurrent_requests_hold_their_estimate_so_together_they_do_not_overshoot_the_budget()
    {
        // "hi hi hi hi" counts 4 + 7 framing = 11 input tokens and max_tokens caps the output at 7: the estimate is the real cost, $0.0018.
        var tenant = await PricedTenantAsync(app, _upstream);
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/settings", new { monthlyBudgetUsd = 0.01m });

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => tenant.Http.PostAsJsonAsync("/v1/chat/completions",
            new { model = "smart", max_tokens = 7, messages = new[] { new { role = "user", content = "hi hi hi hi" } } })));

        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(15, answers.Count(a => a.StatusCode == HttpStatusCode.PaymentRequired));
    }

    [Fact]
    public async Task The_cache_serves_an_identical_request_once_per_tenant_and_never_across_tenants()
    {
        var a = await PricedTenantAsync(app, _upstream);
        var b = await PricedTenantAsync(app, _upstream);
        foreach (var tenant in new[] { a, b })
        {
            Assert.Equal(HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync("/api/v1/ai/settings", new { cacheEnabled = true, cacheTtlSeconds = 600 })).StatusCode);
        }
        var question = $"what is {Guid.NewGuid()}?";

        var sent = _upstream.Requests.Count;
        var miss = await AskAsync(a, question);
        var hit = await AskAsync(a, question);
        var otherTenant = await AskAsync(b, question);

        Assert.False(miss.Headers.Contains("x-flowgate-cache"));
        Assert.Equal("hit", hit.Headers.GetValues("x-flowgate-cache").Single());
        Assert.Equal(await miss.Content.ReadAsStringAsync(), await hit.Content.ReadAsStringAsync());
        Assert.False(otherTenant.Headers.Contains("x-flowgate-cache"));
        Assert.Equal(sent + 2, _upstream.Requests.Count);
        var usage = JsonNode.Parse(await a.Http.GetStringAsync("/api/v1/usage?groupBy=meter"))!["items"]!.AsArray();
        Assert.Equal(11, usage.Single(i => i!["meter"]!.GetValue<string>() == "llm_input_tokens")!["quantity"]!.GetValue<long>());
        Assert.Equal(2, usage.Single(i => i!["meter"]!.GetValue<string>() == "gateway_requests")!["quantity"]!.GetValue<long>());
    }

    [Fact]
    public async Task The_request_log_shows_each_call_with_tokens_and_cost_and_bodies_only_when_the_tenant_opts_in()
    {
        var tenant = await PricedTenantAsync(app, _upstream);
        await AskAsync(tenant, "first question");
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/settings", new { logBodies = true });
        await AskAsync(tenant, "second question");

        var page = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/ai/requests?limit=10"))!;
        var items = page["items"]!.AsArray();

        Assert.Equal(2, items.Count);
        var (latest, earliest) = (items[0]!, items[1]!);
        Assert.Equal("ok", latest["provider"]!.GetValue<string>());
        Assert.Equal(11, latest["inputTokens"]!.GetValue<long>());
        Assert.Equal(0.0018, latest["costUsd"]!.GetValue<double>(), 6);
        Assert.Contains("second question", latest["requestBody"]!.GetValue<string>());
        Assert.Contains("hello from ok-model", latest["responseBody"]!.GetValue<string>());
        Assert.Null(earliest["requestBody"]);
        Assert.DoesNotContain("sk-provider-secret", page.ToJsonString());
    }

    [Fact]
    public async Task An_llm_step_stops_at_the_tenants_budget_with_the_reason_and_its_calls_are_in_the_request_log()
    {
        var tenant = await PricedTenantAsync(app, _upstream);
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/settings", new { monthlyBudgetUsd = 0.002m });
        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "ask",
            trigger = new { type = "http" },
            steps = new[] { new { id = "ask", type = "llm", model = "smart", prompt = "hi {{record.n}}", output = new { field = "a" }, concurrency = 1 } },
        });

        var run = await tenant.RunAndWaitAsync(pipeline, new[] { new { n = 1 }, new { n = 2 } });

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Contains("budget exhausted", run.ToJsonString());
        var items = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/ai/requests"))!["items"]!.AsArray();
        Assert.Equal("step", items[0]!["source"]!.GetValue<string>());
        Assert.Equal(run["id"]!.GetValue<string>(), items[0]!["runId"]!.GetValue<string>());
    }
}

public sealed class GatewayTokenLimitTests(TokenLimitedFlowgateApp app) : IClassFixture<TokenLimitedFlowgateApp>, IAsyncLifetime
{
    private FakeOpenAi _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAi.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task A_key_over_its_tokens_per_minute_gets_429_with_retry_after_counting_the_providers_figures()
    {
        var tenant = await GatewayPolicyTests.PricedTenantAsync(app, _upstream);
        var other = await GatewayPolicyTests.PricedTenantAsync(app, _upstream);

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add(await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", messages = new[] { new { role = "user", content = "hi" } } }));
        }

        // 18 tokens per answer: two fit in 40, the third does not.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], answers.Select(a => a.StatusCode));
        Assert.True(int.Parse(answers[2].Headers.GetValues("Retry-After").Single()) >= 1);
        Assert.Contains("Token rate limit", await answers[2].Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await other.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", messages = new[] { new { role = "user", content = "hi" } } })).StatusCode);
    }
}
