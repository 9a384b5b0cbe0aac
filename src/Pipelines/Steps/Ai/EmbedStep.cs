using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Expressions;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps.Ai;

/// <summary>
/// <c>embed</c>: adds an embedding vector of a rendered text to each record, from a model alias or the
/// built-in <c>local/minilm</c>; records are sent in batches and keep their order.
/// </summary>
public sealed class EmbedStep(string model, TextTemplate input, string field, int batchSize) : IStep
{
    internal static IStep? Compile(JsonObjectReader step)
    {
        var errorsBefore = step.Errors.Count;
        var model = step.String("model", required: true, $"'{LocalEmbeddings.Model}' (built in) or a model alias");
        var source = step.String("input", required: true, "the text to embed, with {{record.field}} holes");
        var template = source is null ? null : TextTemplate.TryCompile(source, out var error) ?? Fail(step, error!);
        var field = step.String("field", required: true, "the field that receives the vector, e.g. \"embedding\"");
        var batchSize = step.Int("batchSize", 64, 1, 2048);
        return model is null || template is null || field is null || step.Errors.Count > errorsBefore ? null : new EmbedStep(model, template, field, batchSize);
    }

    private static TextTemplate? Fail(JsonObjectReader step, string error)
    {
        step.Error(step.At("input"), error);
        return null;
    }

    public async IAsyncEnumerable<Record> ExecuteAsync(IAsyncEnumerable<Record> records, StepContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var calls = context.Services.GetRequiredService<ModelCalls>();
        var batch = new List<Record>(batchSize);
        long number = 0;
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            batch.Add(record);
            if (batch.Count == batchSize)
            {
                foreach (var embedded in await EmbedAsync(calls, context, batch, number, cancellationToken))
                {
                    yield return embedded;
                }
                number += batch.Count;
                batch.Clear();
            }
        }
        foreach (var embedded in await EmbedAsync(calls, context, batch, number, cancellationToken))
        {
            yield return embedded;
        }
    }

    private async Task<IEnumerable<Record>> EmbedAsync(ModelCalls calls, StepContext context, List<Record> batch, long before, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return [];
        }
        var texts = new string[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                texts[i] = input.Render(batch[i]);
            }
            catch (RecordException error)
            {
                throw new RecordFailedException(before + i + 1, batch[i], error);
            }
        }
        var (vectors, usedModel, tokens) = await calls.EmbedAsync(context.TenantId, context.RunId, model, texts, cancellationToken);
        context.Usage.Add(Meters.LlmInputTokens, tokens, usedModel);
        return batch.Select((record, i) =>
        {
            var output = new Record(record.Count + 1);
            foreach (var (name, value) in record)
            {
                output[name] = value;
            }
            output[field] = vectors[i].Select(x => (object?)(double)x).ToList();
            return output;
        }).ToList();
    }
}
