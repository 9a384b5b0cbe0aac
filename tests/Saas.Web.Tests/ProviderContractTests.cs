using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

/// <summary>The gateway and the llm step against the real providers, when their keys are in the environment.</summary>
public sealed class ProviderContractTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private static string Env(string name, string fallback = "") => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;

    private async Task<TenantClient> TenantAsync(object provider, string model)
    {
        var tenant = await app.CreateTenantAsync();
        var put = await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/real", provider);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync("/api/v1/ai/models/smart", new { targets = new[] { new { provider = "real", model } } })).StatusCode);
        return tenant;
    }

    private static async Task AssertGatewayAndStepWorkAsync(TenantClient tenant)
    {
        var answer = await tenant.Http.PostAsJsonAsync("/v1/chat/completions", new { model = "smart", max_tokens = 5, messages = new[] { new { role = "user", content = "Reply with the word pong." } } });
        var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.True(answer.IsSuccessStatusCode, body.ToJsonString());
        Assert.True(body["usage"]!["prompt_tokens"]!.GetValue<int>() > 0);

        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "contract",
            trigger = new { type = "http" },
            steps = new[]
            {
                new
                {
                    id = "extract", type = "llm", model = "smart", prompt = "Give the city of this address as JSON {\"city\": string}: {{record.address}}",
                    output = new { field = "place", schema = new { type = "object", required = new[] { "city" }, properties = new { city = new { type = "string" } } } },
                },
            },
        });
        var run = await tenant.RunAndWaitAsync(pipeline, new { address = "10 Downing Street, London" });
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var record = (await tenant.OutputRecordsAsync(run["id"]!.GetValue<string>())).Single();
        Assert.Contains("London", record["place"]!["city"]!.GetValue<string>());
    }

    [EnvironmentFact("OPENAI_API_KEY")]
    public async Task OpenAi() =>
        await AssertGatewayAndStepWorkAsync(await TenantAsync(new { type = "openai", apiKey = Env("OPENAI_API_KEY") }, Env("OPENAI_MODEL", "gpt-4o-mini")));

    [EnvironmentFact("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_DEPLOYMENT")]
    public async Task AzureOpenAi() =>
        await AssertGatewayAndStepWorkAsync(await TenantAsync(
            new { type = "azure-openai", baseUrl = Env("AZURE_OPENAI_ENDPOINT"), apiKey = Env("AZURE_OPENAI_API_KEY"), deployment = Env("AZURE_OPENAI_DEPLOYMENT") },
            Env("AZURE_OPENAI_DEPLOYMENT")));

    [EnvironmentFact("OPENAI_COMPATIBLE_BASE_URL", "OPENAI_COMPATIBLE_MODEL")]
    public async Task OpenAiCompatible() =>
        await AssertGatewayAndStepWorkAsync(await TenantAsync(
            new { type = "openai-compatible", baseUrl = Env("OPENAI_COMPATIBLE_BASE_URL"), apiKey = Env("OPENAI_COMPATIBLE_API_KEY", "none") },
            Env("OPENAI_COMPATIBLE_MODEL")));
}
