using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Saas.Pipelines.Telemetry;

/// <summary>
/// Spans and token metrics for model calls in the OpenTelemetry GenAI semantic conventions
/// (gen_ai.*), for the gateway and LLM steps to call around each upstream request.
/// </summary>
public static class GenAiTelemetry
{
    public const string Name = "Flowgate.GenAI";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens used per model call, by gen_ai.token.type");

    private static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Duration of model calls");

    /// <param name="operation">chat, embeddings, text_completion.</param>
    /// <param name="provider">gen_ai.provider.name: openai, azure.ai.openai, or the tenant's provider type.</param>
    public static Activity? StartCall(string operation, string provider, string requestModel)
    {
        var activity = Source.StartActivity($"{operation} {requestModel}", ActivityKind.Client);
        return activity?.SetTag("gen_ai.operation.name", operation).SetTag("gen_ai.provider.name", provider).SetTag("gen_ai.request.model", requestModel);
    }

    /// <summary>Records the provider's answer: the model that served it, the token usage and the duration.</summary>
    public static void Completed(Activity? activity, string operation, string provider, string requestModel, string? responseModel, long? inputTokens, long? outputTokens, TimeSpan duration, string? error = null)
    {
        activity?.SetTag("gen_ai.response.model", responseModel).SetTag("gen_ai.usage.input_tokens", inputTokens).SetTag("gen_ai.usage.output_tokens", outputTokens);
        if (error is not null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, error).SetTag("error.type", error);
        }
        KeyValuePair<string, object?>[] tags = [new("gen_ai.operation.name", operation), new("gen_ai.provider.name", provider), new("gen_ai.request.model", requestModel), new("gen_ai.response.model", responseModel)];
        OperationDuration.Record(duration.TotalSeconds, tags);
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
