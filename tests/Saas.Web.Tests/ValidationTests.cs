using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Saas.Pipelines.Tenancy;

namespace Saas.Web.Tests;

public sealed class ValidationTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    [Fact]
    public async Task Bad_definition_is_refused_with_every_problem_and_its_path()
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", new
        {
            name = "broken",
            trigger = new { type = "upload", format = "xml" },
            steps = new object[]
            {
                new { id = "ok", type = "map", fields = new Dictionary<string, string> { ["a"] = "record.x" } },
                new { id = "bad", type = "map", fields = new Dictionary<string, string> { ["total"] = "record.qty * )" } },
                new { id = "ok", type = "filtr", where = "true" },
                new { id = "f", type = "filter", wher = "true" },
            },
            sink = new { type = "blob", format = "parquet" },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsArray()
            .ToDictionary(e => e!["path"]!.GetValue<string>(), e => e!["message"]!.GetValue<string>());
        Assert.StartsWith("'xml' is not one of", errors["trigger.format"]);
        Assert.StartsWith("expression does not parse: Unexpected token ')'", errors["steps[1].fields.total"]);
        Assert.Contains("1:", errors["steps[1].fields.total"]);
        Assert.Contains("used by an earlier step", errors["steps[2].id"]);
        Assert.StartsWith("'filtr' is not one of", errors["steps[2].type"]);
        Assert.Contains("did you mean 'where'", errors["steps[3].wher"]);
        Assert.Equal("is required (a JavaScript condition over `record`, e.g. record.total > 100)", errors["steps[3].where"]);
        Assert.StartsWith("'parquet' is not one of", errors["sink.format"]);
    }

    [Fact]
    public async Task Malformed_json_body_says_where_it_breaks()
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.PostAsync("/api/v1/pipelines", new StringContent("{\"name\": \"x\",\n \"trigger\": }", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
        Assert.Contains("line 2", detail);
    }

    [Fact]
    public async Task A_second_json_value_after_the_body_is_refused_not_ignored()
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.PostAsync("/api/v1/pipelines", new StringContent("{\"name\": \"x\"}\n{\"name\": \"y\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
        Assert.Contains("line 2", detail);
    }

    [Fact]
    public async Task Run_input_that_is_not_records_is_refused_with_the_position()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(new { name = "p", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "a" } } } });

        var response = await tenant.Http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new object[] { new { a = 1 }, 42 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("[1] must be an object, found the number 42", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Oversized_json_body_is_refused_with_413_and_what_to_do()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(new { name = "p", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "a" } } } });
        var huge = "[" + string.Join(",", Enumerable.Repeat("{\"a\":\"" + new string('x', 1000) + "\"}", 11_000)) + "]";

        var response = await tenant.Http.PostAsync($"/api/v1/pipelines/{pipeline}/runs", new StringContent(huge, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("/uploads", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Expression_error_on_a_record_fails_the_run_naming_the_step_and_record_and_dead_letters_it()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "p",
            trigger = new { type = "http" },
            steps = new object[] { new { id = "upper", type = "map", fields = new Dictionary<string, string> { ["c"] = "record.country.toUpperCase()" } } },
        });

        var run = await tenant.RunAndWaitAsync(pipeline, new object[] { new { country = "de" }, new { name = "no country" } });

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Contains("step 'upper'", run["error"]!.GetValue<string>());
        Assert.Contains("record 2", run["error"]!.GetValue<string>());
        var step = run["steps"]![0]!;
        Assert.Equal("failed", step["status"]!.GetValue<string>());
        Assert.Equal("{\"name\":\"no country\"}", step["errorRecord"]!.GetValue<string>());
        Assert.Equal(1, step["attempts"]!.GetValue<long>());
        Assert.Single(run["deadLetters"]!.AsArray());
    }

    [Fact]
    public async Task Paused_pipeline_refuses_runs_until_resumed_and_versions_are_kept()
    {
        var tenant = await app.CreateTenantAsync();
        var v1 = new { name = "p", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "a" } } } };
        var v2 = new { name = "p", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "b" } } } };
        var pipeline = await tenant.CreatePipelineAsync(v1);
        var first = await tenant.RunAndWaitAsync(pipeline, new { a = 1, b = 2 });

        var published = await tenant.Http.PutAsJsonAsync($"/api/v1/pipelines/{pipeline}", v2);
        Assert.Equal(2, JsonNode.Parse(await published.Content.ReadAsStringAsync())!["version"]!.GetValue<long>());
        var second = await tenant.RunAndWaitAsync(pipeline, new { a = 1, b = 2 });

        Assert.Equal(1, first["version"]!.GetValue<long>());
        Assert.Equal(2, second["version"]!.GetValue<long>());
        Assert.Equal("{\"a\":1}", (await tenant.OutputRecordsAsync(first["id"]!.GetValue<string>())).Single().ToJsonString());
        Assert.Equal("{\"b\":2}", (await tenant.OutputRecordsAsync(second["id"]!.GetValue<string>())).Single().ToJsonString());
        var versions = JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/pipelines/{pipeline}/versions"))!.AsArray();
        Assert.Equal([2L, 1L], versions.Select(v => v!["version"]!.GetValue<long>()));

        await tenant.Http.PostAsync($"/api/v1/pipelines/{pipeline}/pause", null);
        Assert.Equal(HttpStatusCode.Conflict, (await tenant.Http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { a = 1 })).StatusCode);
        await tenant.Http.PostAsync($"/api/v1/pipelines/{pipeline}/resume", null);
        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Http.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { a = 1 })).StatusCode);
    }

    [Fact]
    public async Task Versions_published_with_an_api_key_say_which_key_published_them()
    {
        var (created, key) = await app.Services.GetRequiredService<TenantStore>().CreateTenantAsync("keyed", CancellationToken.None);
        var tenant = new TenantClient(created.Id, app.Client(key.Secret));
        var definition = new { name = "p", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "a" } } } };
        var pipeline = await tenant.CreatePipelineAsync(definition);
        await tenant.Http.PutAsJsonAsync($"/api/v1/pipelines/{pipeline}", definition);

        var versions = JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/pipelines/{pipeline}/versions"))!.AsArray();

        Assert.Equal([key.Id, key.Id], versions.Select(v => v!["publishedBy"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Requests_without_a_valid_key_get_401_problem()
    {
        var anonymous = app.Client();
        var forged = app.Client("fg_live_notarealkey000000000000000000000");

        var none = await anonymous.GetAsync("/api/v1/pipelines");
        var bad = await forged.GetAsync("/api/v1/pipelines");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Contains("unknown or revoked", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_document_describes_the_tenant_api()
    {
        var document = JsonNode.Parse(await app.Client().GetStringAsync("/openapi/v1.json"))!;
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/v1/pipelines/{id}/runs", paths);
        Assert.Contains("/api/v1/queues/{queue}/messages", paths);
    }
}
