using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenAI;

namespace Saas.Web.Tests;

/// <summary>The built-in local/minilm model on the gateway and in the embed step, and embed through a provider alias.</summary>
public sealed class EmbeddingTests(FlowgateApp app) : IClassFixture<FlowgateApp>, IAsyncLifetime
{
    private FakeOpenAi _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAi.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private static double Cosine(IReadOnlyList<float> a, IReadOnlyList<float> b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    [Fact]
    public async Task The_official_client_gets_local_minilm_embeddings_offline_and_they_are_metered()
    {
        var (_, key) = await app.Services.GetRequiredService<Saas.Pipelines.Tenancy.TenantStore>().CreateTenantAsync("local", CancellationToken.None);
        var client = new OpenAIClient(new ApiKeyCredential(key.Secret), new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "/v1") });

        var result = await client.GetEmbeddingClient("local/minilm").GenerateEmbeddingsAsync(["The cat sits on the mat.", "A kitten rests on a rug.", "Interest rates rose again."]);
        var vectors = result.Value.Select(e => e.ToFloats().ToArray()).ToArray();

        Assert.All(vectors, v => Assert.Equal(384, v.Length));
        Assert.True(Cosine(vectors[0], vectors[1]) > Cosine(vectors[0], vectors[2]) + 0.2);
        Assert.True(result.Value.Usage.InputTokenCount > 0);
        var models = await client.GetOpenAIModelClient().GetModelsAsync();
        Assert.Contains(models.Value, m => m.Id == "local/minilm");
        var usage = JsonNode.Parse(await app.Client(key.Secret).GetStringAsync("/api/v1/usage?groupBy=model"))!["items"]!.AsArray();
        Assert.Contains(usage, i => i!["meter"]!.GetValue<string>() == "llm_input_tokens" && i["group"]!.GetValue<string>() == "local/minilm");
    }

    [Fact]
    public async Task The_embed_step_adds_a_vector_per_record_from_the_local_model_or_a_provider_alias()
    {
        var tenant = await app.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/ok", new { type = "openai-compatible", baseUrl = _upstream.BaseUrl("ok"), apiKey = "k" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync("/api/v1/ai/models/vectors", new { targets = new[] { new { provider = "ok", model = "embed-up" } } })).StatusCode);
        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "embed",
            trigger = new { type = "http" },
            steps = new object[]
            {
                new { id = "local", type = "embed", model = "local/minilm", input = "{{record.title}}", field = "v", batchSize = 2 },
                new { id = "remote", type = "embed", model = "vectors", input = "{{record.title}}", field = "w" },
            },
        });

        var run = await tenant.RunAndWaitAsync(pipeline, new[] { new { title = "cats" }, new { title = "kittens" }, new { title = "tax law" } });
        var records = await tenant.OutputRecordsAsync(run["id"]!.GetValue<string>());

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(["cats", "kittens", "tax law"], records.Select(r => r["title"]!.GetValue<string>()));
        var local = records.Select(r => r["v"]!.AsArray().Select(x => (float)x!.GetValue<double>()).ToArray()).ToArray();
        Assert.All(local, v => Assert.Equal(384, v.Length));
        Assert.True(Cosine(local[0], local[1]) > Cosine(local[0], local[2]));
        Assert.Equal([7.0, 0.5, -1.0], records[2]["w"]!.AsArray().Select(x => x!.GetValue<double>()));
        var usage = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/usage?groupBy=model"))!["items"]!.AsArray();
        Assert.Equal(9, usage.Single(i => i!["meter"]!.GetValue<string>() == "llm_input_tokens" && i["group"]!.GetValue<string>() == "embed-up")!["quantity"]!.GetValue<long>());
    }
}
