using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Saas.Pipelines;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Network;
using Saas.Pipelines.Storage;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Gateway;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>/v1/embeddings</c> in OpenAI's wire format: the model alias
/// picks the tenant's providers, tried in order (the next on 429, 5xx, timeout or connection failure);
/// the answer, streamed or not, passes through as it arrives; tokens are metered from the provider's
/// usage figures with the request id as idempotency key.
/// </summary>
public static partial class ChatCompletionsApi
{
    public static RouteGroupBuilder MapChatCompletionsApi(this RouteGroupBuilder gateway)
    {
        gateway.MapPost("/chat/completions", (HttpContext context, CurrentTenant tenant, GatewayForwarder forwarder, CancellationToken ct) =>
            forwarder.ForwardAsync(context, tenant.Id, "chat/completions", ct));
        gateway.MapPost("/embeddings", (HttpContext context, CurrentTenant tenant, GatewayForwarder forwarder, CancellationToken ct) =>
            forwarder.ForwardAsync(context, tenant.Id, "embeddings", ct));
        return gateway;
    }
}

public sealed partial class GatewayForwarder(AiSettingsStore settings, Database database, GuardedHttpClientFactory clients, TimeProvider time, ILogger<GatewayForwarder> logger)
{
    public async Task ForwardAsync(HttpContext context, string tenantId, string operation, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var (document, problem) = await JsonBody.ReadAsync(context.Request, cancellationToken);
        if (problem is not null)
        {
            await OpenAiError(context, 400, "invalid_request_error", "the request body must be a JSON object of OpenAI's format (at most 10 MB)");
            return;
        }
        JsonObject body;
        using (document)
        {
            if (document!.RootElement.ValueKind != JsonValueKind.Object)
            {
                await OpenAiError(context, 400, "invalid_request_error", "the request body must be a JSON object");
                return;
            }
            body = JsonNode.Parse(document.RootElement.GetRawText())!.AsObject();
        }
        var alias = body["model"]?.GetValue<string>();
        var route = alias is null ? null : settings.ListModels(tenantId).FirstOrDefault(m => m.Alias == alias);
        if (route is null)
        {
            await OpenAiError(context, 404, "invalid_request_error", $"The model '{alias}' does not exist for this tenant. Define it with PUT /api/v1/ai/models/{alias ?? "<alias>"}.", "model_not_found");
            return;
        }
        var stream = body["stream"]?.GetValueKind() == JsonValueKind.True;
        if (stream && operation == "chat/completions")
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        var requestId = Ids.New("req");
        var failures = new List<string>();
        foreach (var target in route.Targets)
        {
            var provider = settings.FindProvider(tenantId, target.Provider);
            if (provider is null)
            {
                failures.Add($"{target.Provider}: no longer configured");
                continue;
            }
            body["model"] = target.Model;
            using var upstream = Request(tenantId, provider, operation, body);
            HttpResponseMessage response;
            try
            {
                response = await clients.CreateClient().SendAsync(upstream, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (Exception error) when (error is HttpRequestException or OutboundCallRefusedException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{provider.Name}: {error.Message}");
                continue;
            }
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500)
                {
                    failures.Add($"{provider.Name}: {(int)response.StatusCode} {response.ReasonPhrase}");
                    continue;
                }
                context.Response.StatusCode = (int)response.StatusCode;
                context.Response.Headers["x-flowgate-provider"] = provider.Name;
                context.Response.Headers["x-flowgate-overhead-ms"] = started.Elapsed.TotalMilliseconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
                context.Response.Headers["x-request-id"] = requestId;
                context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
                var usage = await PassThroughAsync(response, context.Response, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    await MeterAsync(tenantId, requestId, target.Model, usage, cancellationToken);
                }
                return;
            }
        }
        LogAllFailed(logger, tenantId, alias!, string.Join("; ", failures));
        await OpenAiError(context, 502, "upstream_error", $"Every provider for '{alias}' failed: {string.Join("; ", failures)}");
    }

    private HttpRequestMessage Request(string tenantId, ProviderRow provider, string operation, JsonObject body)
    {
        var baseUrl = (provider.BaseUrl ?? "https://api.openai.com/v1").TrimEnd('/');
        var url = provider.Type == ProviderTypes.AzureOpenAi
            ? $"{baseUrl}/openai/deployments/{provider.Deployment}/{operation}?api-version=2024-10-21"
            : $"{baseUrl}/{operation}";
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (settings.RevealApiKey(tenantId, provider) is { } key)
        {
            if (provider.Type == ProviderTypes.AzureOpenAi)
            {
                request.Headers.Add("api-key", key);
            }
            else
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }
        }
        return request;
    }

    /// <summary>Copies the answer as it arrives (server-sent events flushed per read) and picks out the usage figures.</summary>
    private static async Task<TokenUsage> PassThroughAsync(HttpResponseMessage response, HttpResponse client, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var usage = new UsageScanner();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await client.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            await client.Body.FlushAsync(cancellationToken);
            usage.Scan(buffer.AsSpan(0, read));
        }
        return usage.Result;
    }

    private async Task MeterAsync(string tenantId, string requestId, string model, TokenUsage usage, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await database.WriteAsync((connection, transaction) =>
        {
            UsageLedger.Append(connection, transaction, new UsageEvent(tenantId, Meters.GatewayRequests, 1, requestId, null, null, now) { Model = model });
            if (usage.Input > 0)
            {
                UsageLedger.Append(connection, transaction, new UsageEvent(tenantId, Meters.LlmInputTokens, usage.Input, requestId, null, null, now) { Model = model });
            }
            if (usage.Output > 0)
            {
                UsageLedger.Append(connection, transaction, new UsageEvent(tenantId, Meters.LlmOutputTokens, usage.Output, requestId, null, null, now) { Model = model });
            }
        }, cancellationToken);
    }

    private static Task OpenAiError(HttpContext context, int status, string type, string message, string? code = null)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = new { message, type, code } });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway: every provider of tenant {TenantId} for {Alias} failed: {Failures}")]
    private static partial void LogAllFailed(ILogger logger, string tenantId, string alias, string failures);
}

public readonly record struct TokenUsage(long Input, long Output);

/// <summary>
/// Finds OpenAI's <c>"usage"</c> object in a JSON answer or in the last events of a stream, without
/// parsing what passes through: only the tail after the last <c>"usage"</c> key is kept and read.
/// </summary>
internal sealed class UsageScanner
{
    private const int MaxTail = 8 * 1024;
    private readonly List<byte> _tail = [];

    public void Scan(ReadOnlySpan<byte> chunk)
    {
        _tail.AddRange(chunk);
        if (_tail.Count > MaxTail * 2)
        {
            var text = Encoding.UTF8.GetString([.. _tail]);
            var at = text.LastIndexOf("\"usage\"", StringComparison.Ordinal);
            var keep = at >= 0 ? Encoding.UTF8.GetByteCount(text.AsSpan(0, at)) : _tail.Count - MaxTail;
            _tail.RemoveRange(0, Math.Max(0, Math.Min(keep, _tail.Count - MaxTail)));
        }
    }

    public TokenUsage Result
    {
        get
        {
            var text = Encoding.UTF8.GetString([.. _tail]);
            var at = text.LastIndexOf("\"usage\"", StringComparison.Ordinal);
            if (at < 0)
            {
                return default;
            }
            return new TokenUsage(Number(text, at, "\"prompt_tokens\""), Number(text, at, "\"completion_tokens\""));
        }
    }

    private static long Number(string text, int from, string key)
    {
        var at = text.IndexOf(key, from, StringComparison.Ordinal);
        if (at < 0)
        {
            return 0;
        }
        var start = text.IndexOf(':', at) + 1;
        var end = start;
        while (end < text.Length && (char.IsWhiteSpace(text[end]) || char.IsDigit(text[end])))
        {
            end++;
        }
        return long.TryParse(text.AsSpan(start, end - start).Trim(), out var value) ? value : 0;
    }
}
