using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class AiSettingsTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private const string Secret = "sk-test-0123456789abcdef";

    [Fact]
    public async Task Provider_keys_are_write_only_and_encrypted_at_rest()
    {
        var tenant = await app.CreateTenantAsync();

        var put = await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/openai", new { type = "openai", apiKey = Secret });
        var list = await tenant.Http.GetStringAsync("/api/v1/ai/providers");
        var keyKept = await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/openai", new { type = "openai", baseUrl = "https://api.openai.com/v1" });

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.DoesNotContain(Secret, await put.Content.ReadAsStringAsync());
        Assert.DoesNotContain(Secret, list);
        Assert.True(JsonNode.Parse(list)!.AsArray().Single()!["hasApiKey"]!.GetValue<bool>());
        Assert.True(JsonNode.Parse(await keyKept.Content.ReadAsStringAsync())!["hasApiKey"]!.GetValue<bool>());
        using var db = app.Services.GetRequiredService<Saas.Pipelines.Storage.Database>().OpenConnection();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT protected_api_key FROM ai_providers";
        var stored = (string)command.ExecuteScalar()!;
        Assert.DoesNotContain(Secret, stored);
        Assert.True(stored.Length > Secret.Length);
    }

    [Fact]
    public async Task Model_aliases_list_their_fallback_order_and_must_name_existing_providers()
    {
        var tenant = await app.CreateTenantAsync();
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/primary", new { type = "openai", apiKey = Secret });
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/local", new { type = "openai-compatible", baseUrl = "http://localhost:11434/v1" });

        var bad = await tenant.Http.PutAsJsonAsync("/api/v1/ai/models/fast", new { targets = new[] { new { provider = "primary", model = "gpt-4o-mini" }, new { provider = "missing", model = "x" } } });
        var good = await tenant.Http.PutAsJsonAsync("/api/v1/ai/models/fast", new { targets = new[] { new { provider = "primary", model = "gpt-4o-mini" }, new { provider = "local", model = "llama3.2" } } });
        var models = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/ai/models"))!.AsArray();

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("targets[1].provider: no provider 'missing'", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal(["primary", "local"], models.Single()!["targets"]!.AsArray().Select(t => t!["provider"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("{\"type\":\"bard\"}", "type")]
    [InlineData("{\"type\":\"openai\"}", "apiKey")]
    [InlineData("{\"type\":\"openai\",\"apiKey\":\"sk-1\\r\\nx-injected: 1\"}", "apiKey")]
    [InlineData("{\"type\":\"azure-openai\",\"apiKey\":\"k\",\"baseUrl\":\"https://x.openai.azure.com\"}", "deployment")]
    [InlineData("{\"type\":\"openai-compatible\",\"baseUrl\":\"ftp://x\"}", "baseUrl")]
    [InlineData("{\"type\":\"openai-compatible\",\"baseUrl\":\"http://169.254.169.254/latest\"}", "baseUrl")]
    [InlineData("{\"type\":\"openai-compatible\",\"baseUrl\":\"http://10.0.0.5/v1\"}", "baseUrl")]
    public async Task Invalid_providers_are_refused_naming_the_field(string body, string field)
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.PutAsync("/api/v1/ai/providers/p", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsArray();
        Assert.Contains(errors, e => e!["path"]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task Another_tenants_providers_and_models_are_invisible()
    {
        var a = await app.CreateTenantAsync("a");
        var b = await app.CreateTenantAsync("b");
        await a.Http.PutAsJsonAsync("/api/v1/ai/providers/shared", new { type = "openai", apiKey = Secret });
        await a.Http.PutAsJsonAsync("/api/v1/ai/models/m", new { targets = new[] { new { provider = "shared", model = "gpt" } } });

        Assert.Empty(JsonNode.Parse(await b.Http.GetStringAsync("/api/v1/ai/providers"))!.AsArray());
        Assert.Empty(JsonNode.Parse(await b.Http.GetStringAsync("/api/v1/ai/models"))!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await b.Http.DeleteAsync("/api/v1/ai/providers/shared")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await b.Http.PutAsJsonAsync("/api/v1/ai/models/m2", new { targets = new[] { new { provider = "shared", model = "gpt" } } })).StatusCode);
        Assert.Single(JsonNode.Parse(await a.Http.GetStringAsync("/api/v1/ai/providers"))!.AsArray());
    }

    [Fact]
    public async Task Gateway_lists_the_tenants_model_aliases_in_openai_format()
    {
        var tenant = await app.CreateTenantAsync();
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/primary", new { type = "openai", apiKey = Secret });
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/models/fast", new { targets = new[] { new { provider = "primary", model = "gpt-4o-mini" } } });

        var models = JsonNode.Parse(await tenant.Http.GetStringAsync("/v1/models"))!;
        var anonymous = await app.Client().GetAsync("/v1/models");

        Assert.Equal("list", models["object"]!.GetValue<string>());
        Assert.Equal(["fast", "local/minilm"], models["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()));
        var model = models["data"]![0]!;
        Assert.Equal("model", model["object"]!.GetValue<string>());
        Assert.Equal("flowgate", model["owned_by"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
