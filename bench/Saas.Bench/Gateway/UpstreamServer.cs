using System.Buffers.Text;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Saas.Bench.Gateway;

/// <summary>
/// The OpenAI-compatible upstream the gateways forward to, in its own process (<c>Saas.Bench upstream --port N</c>) so
/// its CPU is measured apart: bare Kestrel on 127.0.0.1, no routing, logging or other middleware, answering every
/// <c>POST /v1/chat/completions</c> with the same precomputed bytes. <c>GET /count</c> says how many it answered.
/// </summary>
public static class UpstreamServer
{
    public const string Mode = "upstream";
    public const string ChatPath = "/v1/chat/completions";
    public const string CountPath = "/count";

    /// <summary>An answer in OpenAI's format; the gateways meter its <c>usage</c>.</summary>
    public const string Answer = """{"id":"chatcmpl-bench","object":"chat.completion","created":1764028800,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}""";
    public const long PromptTokens = 9;
    public const long CompletionTokens = 2;

    private static readonly byte[] AnswerBytes = Encoding.UTF8.GetBytes(Answer);
    private static long _answered;

    public static async Task<int> ServeAsync(int port)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port);
        });
        var app = builder.Build();
        app.Run(AnswerAsync);
        await app.StartAsync();
        Console.WriteLine($"Upstream listening on http://127.0.0.1:{port}");
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static async Task AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        if (HttpMethods.IsPost(request.Method) && request.Path.Equals(ChatPath, StringComparison.Ordinal))
        {
            await DrainAsync(context);
            Interlocked.Increment(ref _answered);
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json";
            response.ContentLength = AnswerBytes.Length;
            await response.Body.WriteAsync(AnswerBytes, context.RequestAborted);
        }
        else if (HttpMethods.IsGet(request.Method) && request.Path.Equals(CountPath, StringComparison.Ordinal))
        {
            var count = new byte[20];
            Utf8Formatter.TryFormat(Interlocked.Read(ref _answered), count, out var length);
            response.ContentType = "text/plain";
            await response.Body.WriteAsync(count.AsMemory(0, length), context.RequestAborted);
        }
        else
        {
            response.StatusCode = StatusCodes.Status404NotFound;
        }
    }

    /// <summary>Reads the request body like a real provider would, without keeping it.</summary>
    private static async Task DrainAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted);
            reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return;
            }
        }
    }
}
