using System.Net.Http.Json;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Saas.Web.Tests;

/// <summary>
/// A local upstream that speaks OpenAI's wire format on 127.0.0.1. Its path prefix chooses behaviour:
/// <c>/ok/v1</c> answers (JSON, or server-sent events when asked to stream), <c>/busy/v1</c> answers 429,
/// <c>/down/v1</c> answers 500, <c>/flaky/v1</c> answers 429 (Retry-After: 0) to every other request,
/// <c>/echo/v1</c> answers with the last user message, <c>/json/v1</c> answers <c>{"label":"good"}</c> and,
/// once told its reply is not valid, <c>{"label":"good","score":0.9}</c>; <c>/slow/v1</c> sends the start of
/// its answer, then the rest (4 MB of content, then the usage) once <see cref="ReleaseSlow"/> is called;
/// <c>/nousage/v1</c> answers as <c>/ok/v1</c> but streams without the usage event (as some OpenAI-compatible servers do).
/// </summary>
public sealed class FakeOpenAi : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeOpenAi(WebApplication app) => _app = app;

    private int _flakyCalls;

    private readonly TaskCompletionSource _slowReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets <c>/slow/v1</c> answers finish.</summary>
    public void ReleaseSlow() => _slowReleased.TrySetResult();

    public ConcurrentQueue<(string Path, string? Authorization, JsonObject Body)> Requests { get; } = new();

    public string BaseUrl(string mode) => $"{_app.Urls.First()}/{mode}/v1";

    /// <summary>A new tenant with one provider per mode (base URL <c>/{mode}/v1</c>, key <c>key-{mode}</c>) and the alias "smart" trying them in order, model <c>{mode}-model</c>.</summary>
    public async Task<TenantClient> TenantWithAliasAsync(FlowgateApp app, params string[] modes)
    {
        var tenant = await app.CreateTenantAsync();
        foreach (var mode in modes.Distinct())
        {
            var put = await tenant.Http.PutAsJsonAsync($"/api/v1/ai/providers/{mode}", new { type = "openai-compatible", baseUrl = BaseUrl(mode), apiKey = $"key-{mode}" });
            Assert.Equal(System.Net.HttpStatusCode.OK, put.StatusCode);
        }
        var targets = modes.Select(mode => new { provider = mode, model = $"{mode}-model" }).ToArray();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await tenant.Http.PutAsJsonAsync("/api/v1/ai/models/smart", new { targets })).StatusCode);
        return tenant;
    }

    public static async Task<FakeOpenAi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        var app = builder.Build();
        var fake = new FakeOpenAi(app);
        app.MapPost("/{mode}/v1/chat/completions", async (string mode, HttpContext context) =>
        {
            var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            fake.Requests.Enqueue((context.Request.Path, context.Request.Headers.Authorization.ToString(), body));
            if (mode == "flaky" && Interlocked.Increment(ref fake._flakyCalls) % 2 == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "0";
                await context.Response.WriteAsJsonAsync(new { error = new { message = "slow down" } });
                return;
            }
            if (mode == "moved")
            {
                context.Response.Redirect($"{fake.BaseUrl("ok")}/chat/completions", permanent: false, preserveMethod: true);
                return;
            }
            if (mode == "slow")
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"id\":\"chatcmpl-slow\",\"object\":\"chat.completion\",\"model\":\"slow-model\",\"choices\":[");
                await context.Response.Body.FlushAsync();
                await fake._slowReleased.Task;
                // Long enough that the gateway is still writing it when it learns that its caller left.
                await context.Response.WriteAsync($"{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"{new string('x', 4 << 20)}\"}},\"finish_reason\":\"stop\"}}],");
                await context.Response.WriteAsync("\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18}}");
                return;
            }
            if (mode is not ("ok" or "flaky" or "echo" or "json" or "nousage"))
            {
                context.Response.StatusCode = mode == "busy" ? 429 : 500;
                await context.Response.WriteAsJsonAsync(new { error = new { message = mode } });
                return;
            }
            var model = body["model"]!.GetValue<string>();
            if (body["stream"]?.GetValue<bool>() == true)
            {
                context.Response.ContentType = "text/event-stream";
                foreach (var word in new[] { "hello", " from", $" {model}" })
                {
                    await context.Response.WriteAsync($"data: {{\"object\":\"chat.completion.chunk\",\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{word}\"}}}}],\"usage\":null}}\n\n");
                    await context.Response.Body.FlushAsync();
                }
                if (mode != "nousage")
                {
                    await context.Response.WriteAsync($"data: {{\"object\":\"chat.completion.chunk\",\"model\":\"{model}\",\"choices\":[],\"usage\":{{\"prompt_tokens\":11,\"completion_tokens\":3,\"total_tokens\":14}}}}\n\n");
                }
                await context.Response.WriteAsync("data: [DONE]\n\n");
                return;
            }
            var lastUser = body["messages"]!.AsArray().Last(m => m!["role"]!.GetValue<string>() == "user")!["content"]!.GetValue<string>();
            var content = mode switch
            {
                "echo" => lastUser,
                "json" => lastUser.Contains("not valid", StringComparison.Ordinal) ? "{\"label\":\"good\",\"score\":0.9}" : "{\"label\":\"good\"}",
                _ => $"hello from {model}",
            };
            await context.Response.WriteAsJsonAsync(new
            {
                id = "chatcmpl-1",
                @object = "chat.completion",
                model,
                choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 11, completion_tokens = 7, total_tokens = 18 },
            });
        });
        app.MapPost("/{mode}/v1/embeddings", async (string mode, HttpContext context) =>
        {
            var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            fake.Requests.Enqueue((context.Request.Path, context.Request.Headers.Authorization.ToString(), body));
            var inputs = body["input"] is JsonArray many ? many.Select(i => i!.GetValue<string>()).ToList() : [body["input"]!.GetValue<string>()];
            await context.Response.WriteAsJsonAsync(new
            {
                @object = "list",
                model = body["model"]!.GetValue<string>(),
                data = inputs.Select((text, index) => new { @object = "embedding", index, embedding = new[] { text.Length, 0.5f, -1f } }),
                usage = new { prompt_tokens = inputs.Count * 3, total_tokens = inputs.Count * 3 },
            });
        });
        await app.StartAsync();
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
