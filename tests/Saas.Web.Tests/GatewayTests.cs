using Saas.Pipelines.Ai;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class GatewayTests(FlowgateApp app) : IClassFixture<FlowgateApp>, IAsyncLifetime
{
    private FakeOpenAi _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAi.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private Task<TenantClient> TenantWithRouteAsync(params string[] modes) => _upstream.TenantWithAliasAsync(app, modes);

    [Fact]
    public async Task Chat_completion_goes_to_the_aliased_upstream_model_with_the_providers_key_and_meters_its_tokens_once()
    {
        var tenant = await TenantWithRouteAsync("ok");

        var response = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", messages = new[] { new { role = "user", content = "hi" } } });

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello from ok-model", body["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("ok", response.Headers.GetValues("x-flowgate-provider").Single());
        Assert.True(double.Parse(response.Headers.GetValues("x-flowgate-overhead-ms").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 0);
        var (path, authorization, sent) = _upstream.Requests.Last();
        Assert.Equal("/ok/v1/chat/completions", path);
        Assert.Equal("Bearer key-ok", authorization);
        Assert.Equal("ok-model", sent["model"]!.GetValue<string>());
        var usage = await UsageByModelAsync(tenant);
        Assert.Equal(11, Quantity(usage, "llm_input_tokens", "ok-model"));
        Assert.Equal(7, Quantity(usage, "llm_output_tokens", "ok-model"));
        Assert.Equal(1, Quantity(usage, "gateway_requests", "ok-model"));
    }

    [Fact]
    public async Task A_busy_or_failing_provider_falls_back_to_the_next_in_order()
    {
        var tenant = await TenantWithRouteAsync("busy", "down", "ok");

        var response = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", response.Headers.GetValues("x-flowgate-provider").Single());
        Assert.Contains("ok-model", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_provider_that_redirects_is_not_followed_but_counts_as_failing()
    {
        var tenant = await TenantWithRouteAsync("moved", "ok");

        var response = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", response.Headers.GetValues("x-flowgate-provider").Single());
        Assert.Equal(["/moved/v1/chat/completions", "/ok/v1/chat/completions"], _upstream.Requests.Select(r => r.Path));
    }

    [Fact]
    public async Task Every_attempt_at_a_provider_is_a_genai_client_span_with_the_outcome_and_the_token_usage()
    {
        var tenant = await TenantWithRouteAsync("busy", "down", "ok");
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == Saas.Pipelines.Telemetry.GenAiTelemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if ((string?)activity.GetTagItem("flowgate.tenant_id") == tenant.TenantId)
                {
                    spans.Enqueue(activity);
                }
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        var response = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["chat busy-model", "chat down-model", "chat ok-model"], spans.Select(s => s.DisplayName));
        Assert.All(spans, s => Assert.Equal(System.Diagnostics.ActivityKind.Client, s.Kind));
        Assert.All(spans, s => Assert.Equal("chat", s.GetTagItem("gen_ai.operation.name")));
        Assert.Equal(["429", "500", null], spans.Select(s => (string?)s.GetTagItem("error.type")));
        var answered = spans.Last();
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Unset, answered.Status);
        Assert.Equal("ok-model", answered.GetTagItem("gen_ai.response.model"));
        Assert.Equal(11L, answered.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(7L, answered.GetTagItem("gen_ai.usage.output_tokens"));
    }

    [Fact]
    public async Task Streamed_answers_pass_through_as_server_sent_events_and_are_metered_from_the_final_usage()
    {
        var tenant = await TenantWithRouteAsync("ok");

        var response = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", stream = true, messages = new[] { new { role = "user", content = "hi" } } });

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(5, text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.EndsWith("data: [DONE]\n\n", text);
        Assert.True(_upstream.Requests.Last().Body["stream_options"]!["include_usage"]!.GetValue<bool>());
        var usage = await UsageByModelAsync(tenant);
        Assert.Equal(3, Quantity(usage, "llm_output_tokens", "ok-model"));
    }

    [Fact]
    public async Task A_caller_that_leaves_mid_answer_is_still_metered_for_what_the_provider_answered()
    {
        var tenant = await TenantWithRouteAsync("slow");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "smart", messages = new[] { new { role = "user", content = "hi" } } }),
        };
        using (var response = await tenant.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            Assert.True(await body.ReadAsync(new byte[64]) > 0);
            // Cancelling a read aborts the connection: the caller is gone before the answer's second half.
            using var leave = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await body.ReadAtLeastAsync(new byte[4096], 4096, throwOnEndOfStream: false, leave.Token));
        }
        _upstream.ReleaseSlow();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonArray usage;
        while ((usage = await UsageByModelAsync(tenant)).Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the call was not metered: {usage.ToJsonString()}");
            await Task.Delay(50);
        }
        Assert.Equal(1, Quantity(usage, "gateway_requests", "slow-model"));
        Assert.Equal(11, Quantity(usage, "llm_input_tokens", "slow-model"));
        Assert.Equal(7, Quantity(usage, "llm_output_tokens", "slow-model"));
        var logged = await OnlyLoggedRequestAsync(tenant);
        Assert.Equal(499, logged["status"]!.GetValue<int>());
        Assert.Contains("caller closed the connection", logged["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_stream_without_usage_figures_is_metered_with_the_tokens_of_its_request_and_of_the_text_it_streamed()
    {
        var tenant = await TenantWithRouteAsync("nousage");
        var request = new { model = "smart", stream = true, messages = new[] { new { role = "user", content = "Count the tokens of this request, please." } } };

        var response = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("\"usage\":{", await response.Content.ReadAsStringAsync());
        var usage = await UsageByModelAsync(tenant);
        using var sent = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(request));
        Assert.Equal(TokenCounter.CountRequest(sent.RootElement), Quantity(usage, "llm_input_tokens", "nousage-model"));
        Assert.Equal(TokenCounter.Count("hello") + TokenCounter.Count(" from") + TokenCounter.Count(" nousage-model"), Quantity(usage, "llm_output_tokens", "nousage-model"));
        Assert.Equal(1, Quantity(usage, "gateway_requests", "nousage-model"));
        var logged = await OnlyLoggedRequestAsync(tenant);
        Assert.Equal(200, logged["status"]!.GetValue<int>());
        Assert.Contains("no usage figures", logged["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_alias_and_total_failure_answer_in_openais_error_format()
    {
        var tenant = await TenantWithRouteAsync("busy", "down");

        var unknown = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "nope", messages = Array.Empty<object>() });
        var failed = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", messages = Array.Empty<object>() });

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("model_not_found", JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        var message = JsonNode.Parse(await failed.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>();
        Assert.Contains("busy: 429", message);
        Assert.Contains("down: 500", message);
        Assert.Empty(JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/usage"))!["items"]!.AsArray());
    }

    private static async Task<JsonArray> UsageByModelAsync(TenantClient tenant) =>
        JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/usage?groupBy=model"))!["items"]!.AsArray();

    /// <summary>The tenant's request log, which must hold exactly one call.</summary>
    private static async Task<JsonNode> OnlyLoggedRequestAsync(TenantClient tenant) =>
        JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/ai/requests"))!["items"]!.AsArray().Single()!;

    private static long Quantity(JsonArray items, string meter, string model) =>
        items.Single(i => i!["meter"]!.GetValue<string>() == meter && i["group"]?.GetValue<string>() == model)!["quantity"]!.GetValue<long>();
}
