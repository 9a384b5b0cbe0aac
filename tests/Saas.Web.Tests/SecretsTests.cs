using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class SecretsTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private const string Value = "crm-token-5b1e0f-top-secret";

    private static object HttpStep(string secret) => new
    {
        name = "enrich",
        trigger = new { type = "http" },
        steps = new object[]
        {
            new { id = "crm", type = "http", url = "https://crm.example.com/customers/{{record.id}}", headers = new Dictionary<string, string> { ["Authorization"] = $"Bearer {{{{secrets.{secret}}}}}" }, fields = new { tier = "response.tier" } },
        },
    };

    [Fact]
    public async Task Secrets_are_write_only_listed_by_name_and_encrypted_at_rest()
    {
        var tenant = await app.CreateTenantAsync();

        var put = await tenant.Http.PutAsJsonAsync("/api/v1/secrets/crm_token", new { value = Value });
        var list = await tenant.Http.GetStringAsync("/api/v1/secrets");
        var other = await (await app.CreateTenantAsync("other")).Http.GetStringAsync("/api/v1/secrets");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.DoesNotContain(Value, await put.Content.ReadAsStringAsync());
        Assert.DoesNotContain(Value, list);
        var listed = JsonNode.Parse(list)!.AsArray().Single()!;
        Assert.Equal("crm_token", listed["name"]!.GetValue<string>());
        Assert.NotNull(listed["updatedAt"]);
        Assert.Equal("[]", other);
        Assert.DoesNotContain(Value, await tenant.Http.GetStringAsync("/api/v1/audit"));
        using var db = app.Services.GetRequiredService<Saas.Pipelines.Storage.Database>().OpenConnection();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT protected_value FROM tenant_secrets WHERE name = 'crm_token'";
        Assert.DoesNotContain(Value, (string)command.ExecuteScalar()!);
    }

    [Fact]
    public async Task Deleting_a_secret_answers_204_then_404()
    {
        var tenant = await app.CreateTenantAsync();
        await tenant.Http.PutAsJsonAsync("/api/v1/secrets/gone", new { value = "x" });

        var first = await tenant.Http.DeleteAsync("/api/v1/secrets/gone");
        var second = await tenant.Http.DeleteAsync("/api/v1/secrets/gone");

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        var audit = await tenant.Http.GetStringAsync("/api/v1/audit");
        Assert.Contains("secret.set", audit);
        Assert.Contains("secret.deleted", audit);
    }

    [Theory]
    [InlineData("9lives", "{\"value\":\"x\"}", "name")]
    [InlineData("has.dot", "{\"value\":\"x\"}", "name")]
    [InlineData("ok", "{\"value\":\"\"}", "value")]
    [InlineData("ok", "{}", "value")]
    public async Task Invalid_secrets_are_refused_naming_the_field(string name, string body, string field)
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.PutAsync($"/api/v1/secrets/{name}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!["path"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_pipeline_naming_a_missing_secret_is_refused_at_publish_naming_the_secret()
    {
        var tenant = await app.CreateTenantAsync();

        var missing = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", HttpStep("crm_token"));
        var validated = JsonNode.Parse(await (await tenant.Http.PostAsJsonAsync("/api/v1/pipelines/validate", HttpStep("crm_token"))).Content.ReadAsStringAsync())!;
        await tenant.Http.PutAsJsonAsync("/api/v1/secrets/crm_token", new { value = Value });
        var present = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", HttpStep("crm_token"));

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("steps[0].headers.Authorization: the secret 'crm_token' does not exist; create it with PUT /api/v1/secrets/crm_token", await missing.Content.ReadAsStringAsync());
        Assert.False(validated["valid"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Created, present.StatusCode);
        Assert.DoesNotContain(Value, await present.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_secret_sent_by_an_http_step_never_appears_in_the_run_even_when_the_server_echoes_it_in_an_error()
    {
        await using var echo = await WebhookReceiver.StartAsync((_, _) => 500);
        var tenant = await app.CreateTenantAsync();
        await tenant.Http.PutAsJsonAsync("/api/v1/secrets/crm_token", new { value = Value });
        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "enrich",
            trigger = new { type = "http" },
            steps = new object[]
            {
                new { id = "crm", type = "http", method = "POST", url = echo.Url, retries = 0, body = new { token = "{{secrets.crm_token}}", id = "{{record.id}}" }, headers = new Dictionary<string, string> { ["Authorization"] = "Bearer {{secrets.crm_token}}" }, fields = new { tier = "response.tier" } },
            },
        });

        var run = await tenant.RunAndWaitAsync(pipeline, new { id = "c-1" });
        var runs = await tenant.Http.GetStringAsync($"/api/v1/runs?pipelineId={pipeline}");

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Contains("record 1: POST http://127.0.0.1", run.ToJsonString());
        Assert.Contains(Value, System.Text.Encoding.UTF8.GetString(echo.Deliveries.Single().Body));
        Assert.DoesNotContain(Value, run.ToJsonString());
        Assert.DoesNotContain(Value, runs);
    }
}
