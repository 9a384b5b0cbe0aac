using System.Runtime.CompilerServices;
using System.Text.Json;
using Json.Schema;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI.Chat;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Expressions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps.Ai;

/// <summary>
/// <c>llm</c>: renders a prompt per record, asks the tenant's model (alias) through Semantic Kernel and
/// stores the reply in <c>output.field</c>. With <c>output.schema</c> the reply must be JSON that
/// validates; an invalid reply is sent back with the validation errors, a bounded number of times.
/// Records go out concurrently (bounded) and come back in input order.
/// </summary>
public sealed class LlmStep : IStep
{
    private readonly string _model;
    private readonly TextTemplate _prompt;
    private readonly TextTemplate? _system;
    private readonly string _field;
    private readonly JsonSchema? _schema;
    private readonly string? _schemaText;
    private readonly double? _temperature;
    private readonly int? _maxTokens;
    private readonly int _concurrency;
    private readonly int _repairAttempts;

    private LlmStep(string model, TextTemplate prompt, TextTemplate? system, string field, JsonSchema? schema, string? schemaText, double? temperature, int? maxTokens, int concurrency, int repairAttempts)
    {
        (_model, _prompt, _system, _field, _schema, _schemaText) = (model, prompt, system, field, schema, schemaText);
        (_temperature, _maxTokens, _concurrency, _repairAttempts) = (temperature, maxTokens, concurrency, repairAttempts);
    }

    internal static IStep? Compile(JsonObjectReader step)
    {
        var errorsBefore = step.Errors.Count;
        var model = step.String("model", required: true, "a model alias defined with PUT /api/v1/ai/models/{alias}");
        var prompt = Template(step, "prompt", required: true);
        var system = Template(step, "system", required: false);
        var concurrency = step.Int("concurrency", 4, 1, 64);
        var repairAttempts = step.Int("repairAttempts", 2, 0, 5);
        var maxTokens = step.Property("maxTokens") is null ? (int?)null : step.Int("maxTokens", 0, 1, 1_000_000);
        var temperature = Temperature(step);
        string? field = null;
        JsonSchema? schema = null;
        string? schemaText = null;
        if (step.Property("output") is { } outputElement)
        {
            var output = new JsonObjectReader(outputElement, step.At("output"), step.Errors);
            field = output.String("field", required: true, "the field that receives the reply, e.g. \"label\"");
            if (output.Property("schema") is { } schemaElement)
            {
                if (schemaElement.ValueKind != JsonValueKind.Object)
                {
                    output.Error(output.At("schema"), $"must be a JSON schema object, found {JsonObjectReader.Describe(schemaElement)}");
                }
                else
                {
                    try
                    {
                        schemaText = schemaElement.GetRawText();
                        schema = JsonSchema.FromText(schemaText);
                    }
                    catch (Exception error) when (error is JsonException or ArgumentException or InvalidOperationException or NotSupportedException)
                    {
                        output.Error(output.At("schema"), $"is not a valid JSON schema: {error.Message}");
                    }
                }
            }
            output.RejectUnknownProperties();
        }
        else
        {
            step.Error(step.At("output"), "is required: {\"field\":\"<name>\"} for text, or with \"schema\": {...} for checked JSON");
        }
        return model is null || prompt is null || field is null || step.Errors.Count > errorsBefore
            ? null
            : new LlmStep(model, prompt, system, field, schema, schemaText, temperature, maxTokens, concurrency, repairAttempts);
    }

    private static TextTemplate? Template(JsonObjectReader step, string name, bool required)
    {
        var source = step.String(name, required, name == "prompt" ? "the text sent per record, with {{record.field}} holes" : null);
        if (source is null)
        {
            return null;
        }
        var template = TextTemplate.TryCompile(source, out var error);
        if (template is null)
        {
            step.Error(step.At(name), error!);
        }
        return template;
    }

    private static double? Temperature(JsonObjectReader step)
    {
        if (step.Property("temperature") is not { } value)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || value.GetDouble() is < 0 or > 2)
        {
            step.Error(step.At("temperature"), $"must be a number from 0 to 2, found {JsonObjectReader.Describe(value)}");
            return null;
        }
        return value.GetDouble();
    }

    public async IAsyncEnumerable<Record> ExecuteAsync(IAsyncEnumerable<Record> input, StepContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var calls = context.Services.GetRequiredService<ModelCalls>();
        var window = new Queue<Task<Record>>();
        long number = 0;
        await foreach (var record in input.WithCancellation(cancellationToken))
        {
            window.Enqueue(AnswerAsync(calls, context, ++number, record, cancellationToken));
            if (window.Count >= _concurrency)
            {
                yield return await window.Dequeue();
            }
        }
        while (window.Count > 0)
        {
            yield return await window.Dequeue();
        }
    }

    private async Task<Record> AnswerAsync(ModelCalls calls, StepContext context, long number, Record record, CancellationToken cancellationToken)
    {
        ChatHistory chat;
        try
        {
            chat = new ChatHistory();
            if (_system is not null)
            {
                chat.AddSystemMessage(_system.Render(record));
            }
            chat.AddUserMessage(_prompt.Render(record));
        }
        catch (RecordException error)
        {
            throw new RecordFailedException(number, record, error);
        }
        var execution = new OpenAIPromptExecutionSettings { Temperature = _temperature, MaxTokens = _maxTokens };
        if (_schemaText is not null)
        {
            execution.ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("output", BinaryData.FromString(_schemaText));
        }
        for (var attempt = 0; ; attempt++)
        {
            var reply = await calls.CompleteAsync(context.TenantId, context.RunId, _model, chat, execution, cancellationToken);
            context.Usage.Add(Meters.LlmInputTokens, reply.InputTokens, reply.Model);
            context.Usage.Add(Meters.LlmOutputTokens, reply.OutputTokens, reply.Model);
            var (value, problem) = _schema is null ? (reply.Text, null) : Check(reply.Text);
            if (problem is null)
            {
                var output = new Record(record.Count + 1);
                foreach (var (name, field) in record)
                {
                    output[name] = field;
                }
                output[_field] = value;
                return output;
            }
            if (attempt >= _repairAttempts)
            {
                var shown = reply.Text.Length > 500 ? reply.Text[..500] + "…" : reply.Text;
                throw new RecordFailedException(number, record, new RecordException(
                    $"the reply of '{_model}' does not match output.schema after {attempt + 1} tries: {problem}; last reply: {shown}"));
            }
            chat.AddAssistantMessage(reply.Text);
            chat.AddUserMessage($"Your reply is not valid: {problem}. Reply again with only the JSON value, matching the schema exactly.");
        }
    }

    /// <returns>The reply as a record value, or the reason it is not JSON matching the schema.</returns>
    private (object? Value, string? Problem) Check(string reply)
    {
        var text = reply.Trim();
        if (text.StartsWith("```", StringComparison.Ordinal))
        {
            text = text[(text.IndexOf('\n') + 1)..].TrimEnd('`', ' ', '\n', '\r');
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException error)
        {
            return (null, $"it is not JSON ({error.Message})");
        }
        using (document)
        {
            var result = _schema!.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (result.IsValid)
            {
                return (RecordJson.ValueFromJson(document.RootElement), null);
            }
            var errors = (result.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {e.Value}"))
                .Distinct()
                .Take(10);
            return (null, string.Join("; ", errors));
        }
    }
}
