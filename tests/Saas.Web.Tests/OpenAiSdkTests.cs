using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Saas.Web.Tests;

/// <summary>The official OpenAI .NET client, with only its endpoint and key changed, works against the gateway.</summary>
public sealed class OpenAiSdkTests(FlowgateApp app) : IClassFixture<FlowgateApp>, IAsyncLifetime
{
    private FakeOpenAi _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAi.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private async Task<OpenAIClient> ClientAsync()
    {
        var (tenant, key) = await app.Services.GetRequiredService<Saas.Pipelines.Tenancy.TenantStore>().CreateTenantAsync("sdk", CancellationToken.None);
        var http = app.Client(key.Secret);
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync("/api/v1/ai/providers/up", new { type = "openai-compatible", baseUrl = _upstream.BaseUrl("ok"), apiKey = "sk-up" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync("/api/v1/ai/models/smart", new { targets = new[] { new { provider = "up", model = "gpt-up" } } })).StatusCode);
        return new OpenAIClient(new ApiKeyCredential(key.Secret), new OpenAIClientOptions { Endpoint = new Uri(app.BaseAddress, "/v1") });
    }

    [Fact]
    public async Task Chat_streaming_chat_embeddings_and_models_work_through_the_official_client()
    {
        var client = await ClientAsync();

        var chat = client.GetChatClient("smart");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("hello from gpt-up", completion.Content[0].Text);
        Assert.Equal(11, completion.Usage.InputTokenCount);

        var streamed = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            streamed.Append(string.Concat(update.ContentUpdate.Select(part => part.Text)));
            usage ??= update.Usage;
        }
        Assert.Equal("hello from gpt-up", streamed.ToString());
        Assert.Equal(3, usage!.OutputTokenCount);

        OpenAIEmbedding embedding = await client.GetEmbeddingClient("smart").GenerateEmbeddingAsync("four");
        Assert.Equal([4f, 0.5f, -1f], embedding.ToFloats().ToArray());

        var models = await client.GetOpenAIModelClient().GetModelsAsync();
        Assert.Contains(models.Value, m => m.Id == "smart");
    }

    [Fact]
    public async Task An_unknown_model_surfaces_as_the_sdks_own_404_error()
    {
        var client = await ClientAsync();

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.GetChatClient("nope").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, error.Status);
        Assert.Contains("does not exist", error.Message);
    }
}
