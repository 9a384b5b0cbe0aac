using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class LlmStepTests(FlowgateApp app) : IClassFixture<FlowgateApp>, IAsyncLifetime
{
    private FakeOpenAi _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAi.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private Task<TenantClient> TenantWithModelAsync(params string[] modes) => _upstream.TenantWithAliasAsync(app, modes);

    private static object Pipeline(object llm) => new
    {
        name = "classify",
        trigger = new { type = "http" },
        steps = new[] { llm },
    };

    private static async Task<JsonNode> UsageByModelAsync(TenantClient tenant) =>
        JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/usage?groupBy=model"))!["items"]!;

    private static long Quantity(JsonNode items, string meter, string? group) =>
        items.AsArray().Where(i => i!["meter"]!.GetValue<string>() == meter && i["group"]?.GetValue<string>() == group).Sum(i => i!["quantity"]!.GetValue<long>());

    [Fact]
    public async Task Each_record_gets_the_models_reply_to_its_rendered_prompt_in_input_order_and_tokens_are_metered_once_per_model()
    {
        var tenant = await TenantWithModelAsync("echo");
        var pipeline = await tenant.CreatePipelineAsync(Pipeline(new
        {
            id = "ask",
            type = "llm",
            model = "smart",
            system = "You label notes.",
            prompt = "Label this note: {{record.note}} (from {{record.who.toUpperCase()}})",
            output = new { field = "label" },
        }));

        var records = Enumerable.Range(1, 12).Select(i => new { id = i, note = $"note {i}", who = "ann" }).ToArray();
        var run = await tenant.RunAndWaitAsync(pipeline, records);
        var id = run["id"]!.GetValue<string>();

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var output = await tenant.OutputRecordsAsync(id);
        Assert.Equal(Enumerable.Range(1, 12), output.Select(r => r["id"]!.GetValue<int>()));
        Assert.All(output, r => Assert.Equal($"Label this note: note {r["id"]} (from ANN)", r["label"]!.GetValue<string>()));
        var sent = _upstream.Requests.Last(r => r.Path == "/echo/v1/chat/completions").Body;
        Assert.Equal("system", sent["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal("Bearer key-echo", _upstream.Requests.Last().Authorization);
        var usage = await UsageByModelAsync(tenant);
        Assert.Equal(12 * 11, Quantity(usage, "llm_input_tokens", "echo-model"));
        Assert.Equal(12 * 7, Quantity(usage, "llm_output_tokens", "echo-model"));
        Assert.Equal(1, Quantity(usage, "step_executions", null));
    }

    [Fact]
    public async Task A_reply_that_misses_the_schema_is_sent_back_with_the_error_and_the_repaired_json_is_stored()
    {
        var tenant = await TenantWithModelAsync("json");
        var pipeline = await tenant.CreatePipelineAsync(Pipeline(new
        {
            id = "extract",
            type = "llm",
            model = "smart",
            prompt = "Extract from {{record.text}}",
            output = new
            {
                field = "extracted",
                schema = new { type = "object", required = new[] { "label", "score" }, properties = new { label = new { type = "string" }, score = new { type = "number" } } },
            },
        }));

        var run = await tenant.RunAndWaitAsync(pipeline, new { text = "great product" });

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var record = (await tenant.OutputRecordsAsync(run["id"]!.GetValue<string>())).Single();
        Assert.Equal("good", record["extracted"]!["label"]!.GetValue<string>());
        Assert.Equal(0.9, record["extracted"]!["score"]!.GetValue<double>());
        var repair = _upstream.Requests.Last(r => r.Path == "/json/v1/chat/completions").Body;
        Assert.Equal("json_schema", repair["response_format"]!["type"]!.GetValue<string>());
        var lastMessage = repair["messages"]!.AsArray().Last()!["content"]!.GetValue<string>();
        Assert.Contains("score", lastMessage);
        Assert.Equal(2 * 11, Quantity(await UsageByModelAsync(tenant), "llm_input_tokens", "json-model"));
    }

    [Fact]
    public async Task A_reply_still_invalid_after_the_repair_attempts_fails_the_run_naming_the_record_and_the_reply()
    {
        var tenant = await TenantWithModelAsync("echo");
        var pipeline = await tenant.CreatePipelineAsync(Pipeline(new
        {
            id = "extract",
            type = "llm",
            model = "smart",
            prompt = "{{record.text}}",
            repairAttempts = 1,
            output = new { field = "x", schema = new { type = "object" } },
        }));

        var run = await tenant.RunAndWaitAsync(pipeline, new[] { new { text = "{}" }, new { text = "plain words" } });

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        var error = run.ToJsonString();
        Assert.Contains("record 2", error);
        Assert.Contains("does not match output.schema after 2 tries", error);
        Assert.Contains("plain words", error);
    }

    [Fact]
    public async Task A_429_is_retried_and_a_failing_provider_falls_back_to_the_next_target()
    {
        var flaky = await TenantWithModelAsync("flaky");
        var pipeline = await flaky.CreatePipelineAsync(Pipeline(new { id = "ask", type = "llm", model = "smart", prompt = "hi {{record.n}}", output = new { field = "a" } }));
        var run = await flaky.RunAndWaitAsync(pipeline, new[] { new { n = 1 }, new { n = 2 } });
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.All(await flaky.OutputRecordsAsync(run["id"]!.GetValue<string>()), r => Assert.Equal("hello from flaky-model", r["a"]!.GetValue<string>()));

        var fallback = await TenantWithModelAsync("down", "ok");
        pipeline = await fallback.CreatePipelineAsync(Pipeline(new { id = "ask", type = "llm", model = "smart", prompt = "hi", output = new { field = "a" } }));
        run = await fallback.RunAndWaitAsync(pipeline, new { n = 1 });
        Assert.Equal("hello from ok-model", (await fallback.OutputRecordsAsync(run["id"]!.GetValue<string>())).Single()["a"]!.GetValue<string>());
        Assert.Equal(7, Quantity(await UsageByModelAsync(fallback), "llm_output_tokens", "ok-model"));
        Assert.Equal(0, Quantity(await UsageByModelAsync(fallback), "llm_output_tokens", "down-model"));
    }

    [Fact]
    public async Task An_llm_step_with_a_broken_prompt_or_no_output_is_refused_with_the_path_of_each_problem()
    {
        var tenant = await app.CreateTenantAsync();
        var response = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", Pipeline(new { id = "ask", type = "llm", model = "smart", prompt = "about {{record.note", temperatur = 1 }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("steps[0].prompt", body);
        Assert.Contains("never closed", body);
        Assert.Contains("steps[0].output", body);
        Assert.Contains("did you mean 'temperature'", body);
    }
}
