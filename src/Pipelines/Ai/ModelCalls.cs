using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Net;
using Azure.AI.OpenAI;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.AzureOpenAI;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;
using OpenAI.Chat;
using Saas.Pipelines.Network;
using Saas.Pipelines.Telemetry;

namespace Saas.Pipelines.Ai;

/// <summary>A model's answer to one chat call, with the target that gave it and its token counts.</summary>
public sealed record ChatReply(string Text, string Provider, string Model, long InputTokens, long OutputTokens);

/// <summary>Every target of an alias failed (or none is left); the message lists why each one failed.</summary>
public sealed class ModelCallFailedException(string message) : Exception(message);

/// <summary>The tenant's AI budget is used up: retrying cannot help until it is raised, so the run fails at once.</summary>
public sealed class AiBudgetExhaustedException(string message) : Records.RecordException(message);

/// <summary>
/// Chat calls through Semantic Kernel for pipeline steps: the alias's targets are tried in order, each
/// retried on 429, 5xx and timeouts with backoff that honours Retry-After; calls in flight are bounded
/// per tenant and per provider. HTTP goes through the network guard.
/// </summary>
public sealed class ModelCalls(
    AiSettingsStore settings,
    AiBudgets budgets,
    AiRequestLog log,
    LocalEmbeddings local,
    GuardedHttpClientFactory network,
    IOptions<FlowgateOptions> options,
    TimeProvider time)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _slots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Tenant, string Provider, long UpdatedAt), OpenAIClient> _clients = new();
    private readonly ConcurrentDictionary<(string Tenant, string Provider, long UpdatedAt, string Model), IChatCompletionService> _services = new();
    private AiOptions Options => options.Value.Ai;

    /// <summary>A chat call: the alias's targets in order; logged in the request log and counted against the tenant's budget.</summary>
    public async Task<ChatReply> CompleteAsync(string tenantId, string? runId, string alias, ChatHistory chat, OpenAIPromptExecutionSettings execution, CancellationToken cancellationToken)
    {
        var estimatedInput = chat.Sum(message => TokenCounter.Count(message.Content ?? "") + 4L);
        var reply = await CallAsync(tenantId, runId, alias, "chat/completions", estimatedInput, execution.MaxTokens ?? 0, async (target, ct) =>
        {
            var message = await Service(tenantId, target).GetChatMessageContentAsync(chat, execution, kernel: null, ct);
            var usage = message.Metadata?.GetValueOrDefault("Usage") as ChatTokenUsage;
            return (message.Content ?? "", (long)(usage?.InputTokenCount ?? 0), (long)(usage?.OutputTokenCount ?? 0));
        }, cancellationToken);
        return new ChatReply(reply.Value, reply.Target.Provider.Name, reply.Target.Target.Model, reply.InputTokens, reply.OutputTokens);
    }

    /// <summary>Embeddings of <paramref name="texts"/> from the alias's targets (or the built-in <see cref="LocalEmbeddings.Model"/>).</summary>
    public async Task<(float[][] Vectors, string Model, long InputTokens)> EmbedAsync(string tenantId, string? runId, string alias, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        if (settings.Resolve(tenantId, alias) is null && alias == LocalEmbeddings.Model)
        {
            return (await local.EmbedAsync(texts, cancellationToken), LocalEmbeddings.Model, texts.Sum(t => (long)TokenCounter.Count(t)));
        }
        var estimatedInput = texts.Sum(t => (long)TokenCounter.Count(t));
        var reply = await CallAsync(tenantId, runId, alias, "embeddings", estimatedInput, 0, async (target, ct) =>
        {
            var result = await Client(tenantId, target).GetEmbeddingClient(UpstreamModel(target)).GenerateEmbeddingsAsync(texts, cancellationToken: ct);
            return (result.Value.OrderBy(e => e.Index).Select(e => e.ToFloats().ToArray()).ToArray(), (long)result.Value.Usage.InputTokenCount, 0L);
        }, cancellationToken);
        return (reply.Value, reply.Target.Target.Model, reply.InputTokens);
    }

    private sealed record Reply<T>(T Value, ResolvedTarget Target, long InputTokens, long OutputTokens);

    /// <summary>Budget, request log and fallback around one model call.</summary>
    private async Task<Reply<T>> CallAsync<T>(
        string tenantId, string? runId, string alias, string operation, long estimatedInput, long maxOutput,
        Func<ResolvedTarget, CancellationToken, Task<(T Value, long InputTokens, long OutputTokens)>> call, CancellationToken cancellationToken)
    {
        var targets = settings.Resolve(tenantId, alias)
            ?? throw new ModelCallFailedException($"the model '{alias}' does not exist for this tenant: define it with PUT /api/v1/ai/models/{alias}");
        var estimate = targets.Select(t => AiBudgets.Cost(t.Target, estimatedInput, maxOutput)).DefaultIfEmpty(0).Max();
        var hold = budgets.TryHold(tenantId, null, estimate, out var refusal) ?? throw new AiBudgetExhaustedException($"budget exhausted: {refusal}");
        var entry = new AiRequestEntry(tenantId, Ids.New("req"), AiRequestSources.Step, null, runId, alias, null, null, operation, 0, false, false, 0, 0, 0, 0, null, null, null, time.GetUtcNow().ToUnixTimeMilliseconds());
        var started = time.GetTimestamp();
        try
        {
            var reply = await CallTargetsAsync(tenantId, alias, operation, targets, call, cancellationToken);
            var cost = AiBudgets.Cost(reply.Target.Target, reply.InputTokens, reply.OutputTokens);
            hold.Settle(cost);
            await log.AppendAsync(entry with
            {
                Provider = reply.Target.Provider.Name, Model = reply.Target.Target.Model, Status = 200, InputTokens = reply.InputTokens, OutputTokens = reply.OutputTokens,
                CostUsd = (double)cost, DurationMs = time.GetElapsedTime(started).TotalMilliseconds,
            }, CancellationToken.None);
            return reply;
        }
        catch (ModelCallFailedException failed)
        {
            await log.AppendAsync(entry with { Status = 502, Error = failed.Message, DurationMs = time.GetElapsedTime(started).TotalMilliseconds }, CancellationToken.None);
            throw;
        }
        finally
        {
            hold.Settle(0);
        }
    }

    private async Task<Reply<T>> CallTargetsAsync<T>(
        string tenantId, string alias, string operation, IReadOnlyList<ResolvedTarget> targets,
        Func<ResolvedTarget, CancellationToken, Task<(T Value, long InputTokens, long OutputTokens)>> call, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var target in targets)
        {
            for (var attempt = 1; attempt <= Options.AttemptsPerTarget; attempt++)
            {
                TimeSpan? wait;
                var telemetry = GenAiTelemetry.StartCall(tenantId, operation, target);
                try
                {
                    using var tenantSlot = await Slot($"t/{tenantId}", Options.MaxConcurrentCallsPerTenant, cancellationToken);
                    using var providerSlot = await Slot($"p/{tenantId}/{target.Provider.Name}", Options.MaxConcurrentCallsPerProvider, cancellationToken);
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(Options.CallTimeoutSeconds));
                    var (value, input, output) = await call(target, timeout.Token);
                    telemetry.Answered(input, output);
                    return new Reply<T>(value, target, input, output);
                }
                catch (Exception error) when (!cancellationToken.IsCancellationRequested && Retryable(error, out wait))
                {
                    telemetry.Failed(error.GetType().Name);
                    failures.Add($"{target.Provider.Name}/{target.Target.Model} (attempt {attempt}): {Describe(error)}");
                }
                catch (Exception error) when (!cancellationToken.IsCancellationRequested && error is HttpOperationException or OutboundCallRefusedException or ClientResultException)
                {
                    telemetry.Failed(error.GetType().Name);
                    failures.Add($"{target.Provider.Name}/{target.Target.Model}: {Describe(error)}");
                    break;
                }
                if (attempt == Options.AttemptsPerTarget || wait > TimeSpan.FromSeconds(Options.MaxRetryAfterSeconds))
                {
                    break;
                }
                await Task.Delay(wait ?? Backoff(attempt), time, cancellationToken);
            }
        }
        throw new ModelCallFailedException(targets.Count == 0
            ? $"the model '{alias}' has no target whose provider still exists"
            : $"every target of '{alias}' failed: {string.Join("; ", failures)}");
    }

    private async Task<IDisposable> Slot(string key, int size, CancellationToken cancellationToken)
    {
        var slots = _slots.GetOrAdd(key, _ => new SemaphoreSlim(size, size));
        await slots.WaitAsync(cancellationToken);
        return new Release(slots);
    }

    private sealed class Release(SemaphoreSlim slots) : IDisposable
    {
        public void Dispose() => slots.Release();
    }

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(250 * Math.Pow(2, attempt - 1) * (0.75 + Random.Shared.NextDouble() / 2));

    /// <summary>429, 5xx, timeouts and lost connections are worth another try; <paramref name="wait"/> is the provider's Retry-After.</summary>
    private static bool Retryable(Exception error, out TimeSpan? wait)
    {
        wait = null;
        var status = error switch
        {
            HttpOperationException http => http.StatusCode,
            ClientResultException client => (HttpStatusCode?)client.Status,
            _ => null,
        };
        var raw = (error as ClientResultException ?? error.InnerException as ClientResultException)?.GetRawResponse();
        if (raw is not null && raw.Headers.TryGetValue("Retry-After", out var retryAfter) && double.TryParse(retryAfter, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            wait = TimeSpan.FromSeconds(Math.Max(0, seconds));
        }
        return status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int?)status >= 500
            || error is TaskCanceledException or TimeoutException or HttpRequestException
            || (status is null && error is HttpOperationException { InnerException: HttpRequestException or TaskCanceledException });
    }

    private static string Describe(Exception error) => error switch
    {
        HttpOperationException { StatusCode: { } status } => $"{(int)status} {status}",
        ClientResultException { Status: > 0 } client => $"{client.Status} {(HttpStatusCode)client.Status}",
        TaskCanceledException => "timed out",
        _ => error.Message,
    };

    /// <summary>One client per provider version (a changed provider gets a new one); Azure's is an OpenAI client too.</summary>
    private OpenAIClient Client(string tenantId, ResolvedTarget target) =>
        _clients.GetOrAdd((tenantId, target.Provider.Name, target.Provider.UpdatedAt), _ =>
        {
            var transport = new HttpClientPipelineTransport(network.CreateClient());
            var key = new ApiKeyCredential(target.ApiKey ?? "none");
            return target.Provider.Type == ProviderTypes.AzureOpenAi
                ? new AzureOpenAIClient(new Uri(target.Provider.BaseUrl!), key, new AzureOpenAIClientOptions
                {
                    Transport = transport,
                    RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                    NetworkTimeout = Timeout.InfiniteTimeSpan,
                })
                : new OpenAIClient(key, new OpenAIClientOptions
                {
                    Endpoint = new Uri(target.Provider.BaseUrl ?? "https://api.openai.com/v1"),
                    Transport = transport,
                    RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                    NetworkTimeout = Timeout.InfiniteTimeSpan,
                });
        });

    /// <summary>Azure addresses a model by its deployment.</summary>
    private static string UpstreamModel(ResolvedTarget target) =>
        target.Provider.Type == ProviderTypes.AzureOpenAi ? target.Provider.Deployment! : target.Target.Model;

    private IChatCompletionService Service(string tenantId, ResolvedTarget target) =>
        _services.GetOrAdd((tenantId, target.Provider.Name, target.Provider.UpdatedAt, target.Target.Model), _ =>
            Client(tenantId, target) is AzureOpenAIClient azure
                ? new AzureOpenAIChatCompletionService(target.Provider.Deployment!, azure, target.Target.Model)
                : new OpenAIChatCompletionService(target.Target.Model, Client(tenantId, target)));
}
