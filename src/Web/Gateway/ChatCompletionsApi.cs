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
using Saas.Pipelines.Telemetry;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Gateway;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>/v1/embeddings</c> in OpenAI's wire format: the model alias
/// picks the tenant's providers, tried in order (the next on 429, 5xx, timeout or connection failure);
/// the answer, streamed or not, passes through as it arrives; tokens are metered from the provider's
/// usage figures with the request id as idempotency key. Before the call: the tenant's response cache,
/// token limits and budgets (estimated with <see cref="TokenCounter"/>); after it: the real figures settle them.
/// </summary>
public static partial class ChatCompletionsApi
{
    public static RouteGroupBuilder MapChatCompletionsApi(this RouteGroupBuilder gateway)
    {
        gateway.MapPost("/chat/completions", (HttpContext context, CurrentTenant tenant, GatewayForwarder forwarder, CancellationToken ct) =>
            forwarder.ForwardAsync(context, tenant.Id, tenant.KeyId!, "chat/completions", ct));
        gateway.MapPost("/embeddings", (HttpContext context, CurrentTenant tenant, GatewayForwarder forwarder, CancellationToken ct) =>
            forwarder.ForwardAsync(context, tenant.Id, tenant.KeyId!, "embeddings", ct));
        return gateway;
    }
}

public sealed partial class GatewayForwarder(
    AiSettingsStore settings,
    AiGatewaySettingsStore gatewaySettings,
    AiBudgets budgets,
    Saas.Pipelines.Billing.SpendingGuard spending,
    TokenLimits tokenLimits,
    LocalEmbeddings localEmbeddings,
    ResponseCache cache,
    GatewayMeter meter,
    GuardedHttpClientFactory clients,
    TimeProvider time,
    ILogger<GatewayForwarder> logger)
{
    /// <summary>Bodies kept for the request log (when the tenant opted in) are cut at this size.</summary>
    private const int MaxLoggedBody = 64 * 1024;

    /// <summary>Answers larger than this are passed through but not cached.</summary>
    private const int MaxCachedBody = 1024 * 1024;

    public async Task ForwardAsync(HttpContext context, string tenantId, string keyId, string operation, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var (document, problem) = await JsonBody.ReadAsync(context.Request, cancellationToken);
        if (problem is not null)
        {
            await OpenAiError(context, 400, "invalid_request_error", "the request body must be a JSON object of OpenAI's format (at most 10 MB)");
            return;
        }
        using var parsed = document;
        var root = document!.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            await OpenAiError(context, 400, "invalid_request_error", "the request body must be a JSON object");
            return;
        }
        if (spending.NewWorkRefusal(tenantId) is { } refused) { await OpenAiError(context, 402, "insufficient_quota", refused, "billing_refused"); return; }
        var tenantSettings = gatewaySettings.Get(tenantId);
        var budgeted = tenantSettings.MonthlyBudgetUsd is not null || tenantSettings.MonthlyBudgetPerKeyUsd is not null;
        var estimatedInput = budgeted || tokenLimits.Enabled ? TokenCounter.CountRequest(root) : 0;
        var alias = root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null;
        var targets = alias is null ? null : settings.Resolve(tenantId, alias);
        if (targets is null && alias == LocalEmbeddings.Model && operation == "embeddings")
        {
            await EmbedLocallyAsync(context, tenantId, keyId, root, started, cancellationToken);
            return;
        }
        if (targets is null)
        {
            await OpenAiError(context, 404, "invalid_request_error", $"The model '{alias}' does not exist for this tenant. Define it with PUT /api/v1/ai/models/{alias ?? "<alias>"}.", "model_not_found");
            return;
        }
        var stream = root.TryGetProperty("stream", out var streamed) && streamed.ValueKind == JsonValueKind.True;
        var requestId = Ids.New("req");
        var entry = new AiRequestEntry(tenantId, requestId, AiRequestSources.Gateway, keyId, null, alias!, null, null, operation, 0, stream, false, 0, 0, 0, 0, null,
            tenantSettings.LogBodies ? Truncate(root.GetRawText()) : null, null, time.GetUtcNow().ToUnixTimeMilliseconds());

        var cacheKey = tenantSettings.CacheEnabled && !stream ? ResponseCache.Key(tenantId, operation, root.GetRawText()) : null;
        if (cacheKey is not null && cache.Find(cacheKey) is { } cached)
        {
            WriteHeaders(context, 200, cached.Provider, requestId, started, cached.ContentType);
            context.Response.Headers["x-flowgate-cache"] = "hit";
            await context.Response.Body.WriteAsync(cached.Body, cancellationToken);
            await RecordAsync(entry with { Provider = cached.Provider, Model = cached.Model, Status = 200, Cached = true, DurationMs = started.Elapsed.TotalMilliseconds,
                ResponseBody = tenantSettings.LogBodies ? Truncate(Encoding.UTF8.GetString(cached.Body)) : null }, default(TokenUsage));
            return;
        }
        if (tokenLimits.Enabled && !tokenLimits.TryTake(tenantId, keyId, estimatedInput, out var retryAfter))
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await OpenAiError(context, 429, "rate_limit_error", $"Token rate limit reached: this request needs about {estimatedInput} input tokens; retry after {retryAfter.TotalSeconds:F0} s (tokens per minute per API key and per tenant, Flowgate:Gateway).", "rate_limit_exceeded");
            return;
        }
        var maxOutput = Number(root, "max_completion_tokens") ?? Number(root, "max_tokens") ?? 0;
        var hold = BudgetHold.None;
        if (budgeted)
        {
            var estimate = targets.Select(t => AiBudgets.Cost(t.Target, estimatedInput, maxOutput)).DefaultIfEmpty(0).Max();
            if (budgets.TryHold(tenantId, keyId, estimate, out var refusal) is not { } held)
            {
                tokenLimits.Settle(tenantId, keyId, -estimatedInput);
                await OpenAiError(context, 402, "insufficient_quota", $"Budget exhausted: {refusal}", "budget_exhausted");
                return;
            }
            hold = held;
        }
        var askForStreamUsage = stream && operation == "chat/completions";
        var failures = new List<string>();
        try
        {
            foreach (var target in targets)
            {
                using var upstream = Request(target, operation, UpstreamBody(root, target.Target.Model, askForStreamUsage));
                var telemetry = GenAiTelemetry.StartCall(tenantId, operation, target);
                HttpResponseMessage response;
                try
                {
                    clients.Urls.EnsureAllowed(upstream.RequestUri);
                    response = await clients.Direct.SendAsync(upstream, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                }
                catch (Exception error) when (error is HttpRequestException or OutboundCallRefusedException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    var cause = error.InnerException as OutboundCallRefusedException ?? error;
                    telemetry.Failed(cause.GetType().Name);
                    failures.Add($"{target.Provider.Name}: {cause.Message}");
                    continue;
                }
                using (response)
                {
                    // Providers do not redirect API calls; one that does is treated as failing, not followed.
                    if (response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500 || (int)response.StatusCode is >= 300 and < 400)
                    {
                        telemetry.Failed(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                        failures.Add($"{target.Provider.Name}: {(int)response.StatusCode} {response.ReasonPhrase}");
                        continue;
                    }
                    var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
                    WriteHeaders(context, (int)response.StatusCode, target.Provider.Name, requestId, started, contentType);
                    var keep = cacheKey is not null && response.IsSuccessStatusCode ? MaxCachedBody : tenantSettings.LogBodies ? MaxLoggedBody : 0;
                    var (usage, kept, callerLeft, streamedTokens) = await PassThroughAsync(response, context.Response, stream, askForStreamUsage, keep, cancellationToken);
                    if (response.IsSuccessStatusCode && usage == default && streamedTokens > 0)
                    {
                        // The stream ended (or its caller left) before the provider's usage, or the provider never sends it:
                        // the provider still charges, so the call is metered with the tokenizer's count rather than with none.
                        usage = new TokenUsage(estimatedInput > 0 ? estimatedInput : TokenCounter.CountRequest(root), streamedTokens);
                        failures.Add("the stream carried no usage figures: its tokens were counted with the o200k tokenizer");
                    }
                    if (response.IsSuccessStatusCode)
                    {
                        telemetry.Answered(usage.Input, usage.Output);
                    }
                    else
                    {
                        telemetry.Failed(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }
                    var cost = response.IsSuccessStatusCode ? AiBudgets.Cost(target.Target, usage.Input, usage.Output) : 0;
                    hold.Settle(cost);
                    hold = BudgetHold.None;
                    if (tokenLimits.Enabled)
                    {
                        tokenLimits.Settle(tenantId, keyId, usage.Input + usage.Output - estimatedInput);
                    }
                    if (cacheKey is not null && response.IsSuccessStatusCode && kept is { Complete: true })
                    {
                        cache.Save(cacheKey, new CachedAnswer(kept.Bytes, contentType, target.Provider.Name, target.Target.Model), TimeSpan.FromSeconds(tenantSettings.CacheTtlSeconds));
                    }
                    if (callerLeft)
                    {
                        failures.Add(stream
                            ? "the caller closed the connection during the stream: usage is what the provider reported before it"
                            : "the caller closed the connection before the answer was complete");
                    }
                    await RecordAsync(entry with
                    {
                        Provider = target.Provider.Name, Model = target.Target.Model, Status = callerLeft ? CallerClosedRequest : (int)response.StatusCode,
                        InputTokens = usage.Input, OutputTokens = usage.Output, CostUsd = (double)cost, DurationMs = started.Elapsed.TotalMilliseconds,
                        Error = failures.Count > 0 ? string.Join("; ", failures) : null,
                        ResponseBody = tenantSettings.LogBodies && kept is not null ? Truncate(Encoding.UTF8.GetString(kept.Bytes)) : null,
                    }, response.IsSuccessStatusCode ? usage : null);
                    return;
                }
            }
        }
        finally
        {
            hold.Settle(0);
        }
        var failed = string.Join("; ", failures);
        LogAllFailed(logger, tenantId, alias!, failed);
        await OpenAiError(context, 502, "upstream_error", $"Every provider for '{alias}' failed: {failed}");
        await RecordAsync(entry with { Status = 502, Error = failed, DurationMs = started.Elapsed.TotalMilliseconds }, null);
    }

    /// <summary><c>local/minilm</c>: the built-in model answers in OpenAI's embeddings format, floats or base64 as asked.</summary>
    private async Task EmbedLocallyAsync(HttpContext context, string tenantId, string keyId, JsonElement body, Stopwatch started, CancellationToken cancellationToken)
    {
        List<string>? texts = body.TryGetProperty("input", out var input) ? input.ValueKind switch
        {
            JsonValueKind.String => [input.GetString()!],
            JsonValueKind.Array when input.GetArrayLength() > 0 && input.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String) => input.EnumerateArray().Select(i => i.GetString()!).ToList(),
            _ => null,
        } : null;
        if (texts is null || texts.Count > 2048)
        {
            await OpenAiError(context, 400, "invalid_request_error", $"'input' must be a string or an array of 1 to 2048 strings for {LocalEmbeddings.Model} (token arrays are not supported)", "invalid_input");
            return;
        }
        if (Number(body, "dimensions") is { } dimensions && dimensions != LocalEmbeddings.Dimensions)
        {
            await OpenAiError(context, 400, "invalid_request_error", $"{LocalEmbeddings.Model} has {LocalEmbeddings.Dimensions} dimensions; leave 'dimensions' out or set it to {LocalEmbeddings.Dimensions}", "invalid_dimensions");
            return;
        }
        var base64 = body.TryGetProperty("encoding_format", out var format) && format.ValueKind == JsonValueKind.String && format.ValueEquals("base64");
        var vectors = await localEmbeddings.EmbedAsync(texts, cancellationToken);
        var tokens = texts.Sum(t => (long)TokenCounter.Count(t));
        var requestId = Ids.New("req");
        WriteHeaders(context, 200, "local", requestId, started, "application/json");
        await context.Response.WriteAsJsonAsync(new
        {
            @object = "list",
            model = LocalEmbeddings.Model,
            data = vectors.Select((vector, index) => new
            {
                @object = "embedding",
                index,
                embedding = base64 ? (object)Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())) : vector,
            }),
            usage = new { prompt_tokens = tokens, total_tokens = tokens },
        }, cancellationToken);
        await RecordAsync(new AiRequestEntry(tenantId, requestId, AiRequestSources.Gateway, keyId, null, LocalEmbeddings.Model, "local", LocalEmbeddings.Model, "embeddings",
            200, false, false, tokens, 0, 0, started.Elapsed.TotalMilliseconds, null, null, null, time.GetUtcNow().ToUnixTimeMilliseconds()), new TokenUsage(tokens, 0));
    }

    private static void WriteHeaders(HttpContext context, int status, string provider, string requestId, Stopwatch started, string contentType)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["x-flowgate-provider"] = provider;
        context.Response.Headers["x-flowgate-overhead-ms"] = started.Elapsed.TotalMilliseconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["x-request-id"] = requestId;
        context.Response.ContentType = contentType;
    }

    private static string Truncate(string text) => text.Length <= MaxLoggedBody ? text : text[..MaxLoggedBody] + "…";

    private static HttpRequestMessage Request(ResolvedTarget target, string operation, byte[] body)
    {
        var upstream = Upstreams.GetValue(target, static target => new Upstream(target));
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = JsonContentType;
        var request = new HttpRequestMessage(HttpMethod.Post, upstream.Url(operation)) { Content = content };
        if (upstream.Authorization is var (name, value))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    /// <summary>Each resolved target's URLs and credential header, made once: targets are re-resolved every few seconds, calls are thousands per second.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ResolvedTarget, Upstream> Upstreams = new();

    private sealed class Upstream(ResolvedTarget target)
    {
        private readonly Uri _chat = Build(target, "chat/completions");
        private readonly Uri _embeddings = Build(target, "embeddings");

        public (string Name, string Value)? Authorization { get; } = target.ApiKey is not { } key ? null
            : target.Provider.Type == ProviderTypes.AzureOpenAi ? ("api-key", key) : ("Authorization", "Bearer " + key);

        public Uri Url(string operation) => operation == "embeddings" ? _embeddings : _chat;

        private static Uri Build(ResolvedTarget target, string operation)
        {
            var provider = target.Provider;
            var baseUrl = (provider.BaseUrl ?? "https://api.openai.com/v1").TrimEnd('/');
            return new Uri(provider.Type == ProviderTypes.AzureOpenAi
                ? $"{baseUrl}/openai/deployments/{provider.Deployment}/{operation}?api-version=2024-10-21"
                : $"{baseUrl}/{operation}");
        }
    }

    private static readonly System.Net.Http.Headers.MediaTypeHeaderValue JsonContentType = new("application/json");

    [ThreadStatic]
    private static System.Buffers.ArrayBufferWriter<byte>? _upstreamBody;

    /// <summary>The caller's request for one target: its model put in, and a streamed chat asked to end with its usage.</summary>
    private static byte[] UpstreamBody(JsonElement root, string model, bool askForStreamUsage)
    {
        var buffer = _upstreamBody ??= new System.Buffers.ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("model"))
                {
                    writer.WriteString("model", model);
                }
                else if (!(askForStreamUsage && property.NameEquals("stream_options")))
                {
                    property.WriteTo(writer);
                }
            }
            if (askForStreamUsage)
            {
                writer.WriteStartObject("stream_options");
                writer.WriteBoolean("include_usage", true);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static long? Number(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : null;

    /// <summary>The first bytes of an answer; <see cref="Complete"/> when they are all of it.</summary>
    private sealed record KeptBody(byte[] Bytes, bool Complete);

    /// <summary>The request log's status for a call whose caller left before its answer was complete (nginx's convention).</summary>
    private const int CallerClosedRequest = 499;

    /// <summary>How long a JSON answer is still read for its usage once its caller has left.</summary>
    private static readonly TimeSpan ReadAfterCallerLeft = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Copies the answer as it arrives (server-sent events flushed per read), picks out the usage figures
    /// and keeps up to <paramref name="keep"/> bytes of it for the cache or the request log. When the caller leaves
    /// midway, a JSON answer is still read to its end (the provider charges for it, and its usage comes last); a stream
    /// is dropped at once, which stops the generation, with the usage reported so far (none, usually: then its text's
    /// tokens are counted instead).
    /// </summary>
    /// <returns>The provider's usage figures (zero if it sent none), and for a streamed chat the tokens of its text.</returns>
    private static async Task<(TokenUsage Usage, KeptBody? Kept, bool CallerLeft, long StreamedTokens)> PassThroughAsync(
        HttpResponseMessage response, HttpResponse client, bool stream, bool countStreamedText, int keep, CancellationToken cancellationToken)
    {
        if (!stream && response.Content.Headers.ContentLength is { } length)
        {
            client.ContentLength = length;
        }
        // A stream is read while the caller listens; a JSON answer to its end, and for at most a while once the caller has left.
        using var readLimit = new CancellationTokenSource();
        using var callerLeaving = stream ? default : cancellationToken.Register(static limit => ((CancellationTokenSource)limit!).CancelAfter(ReadAfterCallerLeft), readLimit);
        var readUntil = stream ? cancellationToken : readLimit.Token;
        await using var body = await response.Content.ReadAsStreamAsync(readUntil);
        using var usage = new UsageScanner();
        var streamedText = countStreamedText ? new StreamedTextCounter() : null;
        var kept = keep > 0 ? new MemoryStream() : null;
        var complete = true;
        var callerLeft = false;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer, readUntil)) > 0)
            {
                if (!callerLeft)
                {
                    try
                    {
                        await client.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                        if (stream)
                        {
                            await client.Body.FlushAsync(cancellationToken);
                        }
                    }
                    catch (Exception error) when (cancellationToken.IsCancellationRequested || error is IOException)
                    {
                        callerLeft = true;
                    }
                }
                usage.Scan(buffer.AsSpan(0, read));
                streamedText?.Scan(buffer.AsSpan(0, read));
                if (kept is not null)
                {
                    var room = keep - (int)kept.Length;
                    kept.Write(buffer, 0, Math.Min(room, read));
                    complete &= read <= room;
                }
                if (callerLeft && stream)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The stream's caller left, or a JSON answer did not end within ReadAfterCallerLeft of its caller leaving.
            callerLeft = true;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return (usage.Result, kept is null ? null : new KeptBody(kept.ToArray(), complete && !(callerLeft && stream)), callerLeft, streamedText?.Tokens ?? 0);
    }

    /// <summary>Meters the call whatever became of its caller: the provider answered, and charges for it.</summary>
    private ValueTask RecordAsync(AiRequestEntry entry, TokenUsage? usage) => meter.RecordAsync(entry, usage, CancellationToken.None);

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
/// Counts the tokens of a streamed chat's text as it passes (each event's <c>delta.content</c> and tool-call arguments),
/// for a stream that ends without the provider's usage figures. Lines longer than <see cref="MaxLine"/> are skipped.
/// </summary>
internal sealed class StreamedTextCounter
{
    private const int MaxLine = 1 << 20;
    private readonly System.Buffers.ArrayBufferWriter<byte> _line = new(1024);
    private bool _skipping;

    public long Tokens { get; private set; }

    public void Scan(ReadOnlySpan<byte> chunk)
    {
        while (!chunk.IsEmpty)
        {
            var end = chunk.IndexOf((byte)'\n');
            var part = end < 0 ? chunk : chunk[..end];
            if (!_skipping && _line.WrittenCount + part.Length <= MaxLine)
            {
                part.CopyTo(_line.GetSpan(part.Length));
                _line.Advance(part.Length);
            }
            else
            {
                _skipping = true;
            }
            if (end < 0)
            {
                return;
            }
            if (!_skipping)
            {
                var line = _line.WrittenMemory;
                Count(line.Span.EndsWith((byte)'\r') ? line[..^1] : line);
            }
            _line.ResetWrittenCount();
            _skipping = false;
            chunk = chunk[(end + 1)..];
        }
    }

    /// <param name="line">The line buffer's own memory: the document is disposed before the buffer is written again.</param>
    private void Count(ReadOnlyMemory<byte> line)
    {
        if (!line.Span.StartsWith("data:"u8) || line.Span[5..].Trim((byte)' ').SequenceEqual("[DONE]"u8))
        {
            return;
        }
        try
        {
            using var json = JsonDocument.Parse(line[5..]);
            if (!json.RootElement.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                return;
            }
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("delta", out var delta) || delta.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }
                Tokens += Text(delta, "content") + Text(delta, "refusal");
                if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        Tokens += call.ValueKind == JsonValueKind.Object && call.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
                            ? Text(function, "name") + Text(function, "arguments") : 0;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not an OpenAI event: it carries no text to count.
        }
    }

    private static int Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? TokenCounter.Count(value.GetString()!) : 0;
}

/// <summary>
/// Finds OpenAI's <c>"usage"</c> object in a JSON answer or in the last events of a stream, without
/// parsing what passes through: only the bytes from the last <c>"usage"</c> key on are kept and read.
/// </summary>
internal sealed class UsageScanner : IDisposable
{
    private const int MaxTail = 8 * 1024;
    private byte[] _tail = System.Buffers.ArrayPool<byte>.Shared.Rent(1024);
    private int _length;

    public void Scan(ReadOnlySpan<byte> chunk)
    {
        if (_length + chunk.Length > _tail.Length)
        {
            var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(_tail.Length * 2, _length + chunk.Length));
            _tail.AsSpan(0, _length).CopyTo(larger);
            System.Buffers.ArrayPool<byte>.Shared.Return(_tail);
            _tail = larger;
        }
        chunk.CopyTo(_tail.AsSpan(_length));
        _length += chunk.Length;
        if (_length > MaxTail * 2)
        {
            var tail = _tail.AsSpan(0, _length);
            var at = tail.LastIndexOf("\"usage\""u8);
            var drop = Math.Min(at >= 0 ? at : _length - MaxTail, _length - MaxTail);
            if (drop > 0)
            {
                tail[drop..].CopyTo(_tail);
                _length -= drop;
            }
        }
    }

    public TokenUsage Result
    {
        get
        {
            var tail = _tail.AsSpan(0, _length);
            var at = tail.LastIndexOf("\"usage\""u8);
            if (at < 0)
            {
                return default;
            }
            var usage = tail[at..];
            return new TokenUsage(Number(usage, "\"prompt_tokens\""u8), Number(usage, "\"completion_tokens\""u8));
        }
    }

    public void Dispose() => System.Buffers.ArrayPool<byte>.Shared.Return(_tail);

    private static long Number(ReadOnlySpan<byte> usage, ReadOnlySpan<byte> key)
    {
        var at = usage.IndexOf(key);
        if (at < 0)
        {
            return 0;
        }
        var rest = usage[(at + key.Length)..];
        var colon = rest.IndexOf((byte)':');
        if (colon < 0)
        {
            return 0;
        }
        rest = rest[(colon + 1)..].TrimStart(" \t\r\n"u8);
        return System.Buffers.Text.Utf8Parser.TryParse(rest, out long value, out _) ? value : 0;
    }
}
