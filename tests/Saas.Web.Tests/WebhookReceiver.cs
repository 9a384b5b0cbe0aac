using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Saas.Web.Tests;

/// <summary>A webhook receiver on 127.0.0.1 keeping each delivery's raw bytes and headers; a handler may choose the status.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app) => _app = app;

    public sealed record Delivery(byte[] Body, string? Signature, string? DeliveryId, int Status);

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public string Url => $"{_app.Urls.First()}/hook";

    /// <param name="status">The status to answer for the n-th request (1-based) with this delivery id.</param>
    public static async Task<WebhookReceiver> StartAsync(Func<int, string?, int>? status = null)
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        var count = 0;
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var id = context.Request.Headers["Flowgate-Delivery"].ToString();
            var answer = status?.Invoke(Interlocked.Increment(ref count), id) ?? 200;
            receiver.Deliveries.Enqueue(new Delivery(body.ToArray(), context.Request.Headers["Flowgate-Signature"].ToString(), id, answer));
            context.Response.StatusCode = answer;
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
