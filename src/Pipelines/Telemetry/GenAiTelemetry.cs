using System.Diagnostics;
using System.Diagnostics.Metrics;
using Saas.Pipelines.Ai;

namespace Saas.Pipelines.Telemetry;

/// <summary>
/// Spans and token metrics for model calls in the OpenTelemetry GenAI semantic conventions
/// (gen_ai.*): one client span per upstream attempt, from the gateway and from llm/embed steps.
/// With no listener (telemetry not configured) a call costs two null checks.
/// </summary>
public static class GenAiTelemetry
{
    public const string Name = "Flowgate.GenAI";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens used per model call, by gen_ai.token.type");

    private static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Duration of model calls");

    /// <summary>Starts the span of one attempt at one target; end it with <see cref="ModelCallTelemetry.Answered"/> or <see cref="ModelCallTelemetry.Failed"/>.</summary>
    /// <param name="apiOperation">The OpenAI path: chat/completions or embeddings.</param>
    public static ModelCallTelemetry StartCall(string tenantId, string apiOperation, ResolvedTarget target)
    {
        var operation = apiOperation == "embeddings" ? "embeddings" : "chat";
        var provider = target.Provider.Type switch
        {
            ProviderTypes.OpenAi => "openai",
            ProviderTypes.AzureOpenAi => "azure.ai.openai",
            var other => other,
        };
        var activity = Source.StartActivity($"{operation} {target.Target.Model}", ActivityKind.Client);
        activity?.SetTag("gen_ai.operation.name", operation).SetTag("gen_ai.provider.name", provider)
            .SetTag("gen_ai.request.model", target.Target.Model).SetTag("flowgate.provider", target.Provider.Name).SetTag("flowgate.tenant_id", tenantId);
        return new ModelCallTelemetry(activity, operation, provider, target.Target.Model, Stopwatch.GetTimestamp());
    }

    public readonly record struct ModelCallTelemetry(Activity? Activity, string Operation, string Provider, string Model, long Started)
    {
        /// <param name="responseModel">The model the provider says answered, when it says so; else the one asked for.</param>
        public void Answered(long inputTokens, long outputTokens, string? responseModel = null) => End(inputTokens, outputTokens, responseModel, null);

        public void Failed(string errorType) => End(null, null, null, errorType);

        private void End(long? inputTokens, long? outputTokens, string? responseModel, string? errorType)
        {
            if (Activity is { } activity)
            {
                activity.SetTag("gen_ai.response.model", responseModel ?? Model).SetTag("gen_ai.usage.input_tokens", inputTokens).SetTag("gen_ai.usage.output_tokens", outputTokens);
                if (errorType is not null)
                {
                    activity.SetStatus(ActivityStatusCode.Error).SetTag("error.type", errorType);
                }
                activity.Dispose();
            }
            if (!OperationDuration.Enabled && !TokenUsage.Enabled)
            {
                return;
            }
            KeyValuePair<string, object?>[] tags = [new("gen_ai.operation.name", Operation), new("gen_ai.provider.name", Provider), new("gen_ai.request.model", Model), new("gen_ai.response.model", responseModel ?? Model), new("error.type", errorType)];
            OperationDuration.Record(Stopwatch.GetElapsedTime(Started).TotalSeconds, tags);
            if (inputTokens is { } input)
            {
                TokenUsage.Record(input, [.. tags, new("gen_ai.token.type", "input")]);
            }
            if (outputTokens is { } output)
            {
                TokenUsage.Record(output, [.. tags, new("gen_ai.token.type", "output")]);
            }
        }
    }
}
