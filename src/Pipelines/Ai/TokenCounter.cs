using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Saas.Pipelines.Ai;

/// <summary>
/// Counts the tokens of a chat request before it is sent (for budgets and token limits), with the
/// o200k encoding of current OpenAI models; other models' tokenizers differ by a few percent, and
/// the provider's own figures settle the count afterwards.
/// </summary>
public static class TokenCounter
{
    private static readonly Lazy<Tokenizer> Encoding = new(() => TiktokenTokenizer.CreateForModel("gpt-4o"));

    /// <summary>Per message, the role and framing tokens OpenAI adds.</summary>
    private const int PerMessage = 4;

    public static int Count(string text) => Encoding.Value.CountTokens(text);

    /// <summary>Tokens of the messages of a chat request, or of the input of an embeddings request.</summary>
    public static long CountRequest(JsonElement body)
    {
        long total = 0;
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                total += PerMessage;
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
                {
                    total += CountContent(content);
                }
            }
            return total + 3;
        }
        return body.TryGetProperty("input", out var input) ? CountContent(input) : 0;
    }

    private static long CountContent(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => Count(content.GetString()!),
        JsonValueKind.Array => content.EnumerateArray().Sum(part => part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text) ? CountContent(text) : CountContent(part)),
        _ => 0,
    };
}
