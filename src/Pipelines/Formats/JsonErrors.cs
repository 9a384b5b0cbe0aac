using System.Text.Json;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>JSON tokens and reader errors in the words of messages meant for the person who uploaded the file.</summary>
internal static class JsonErrors
{
    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.None => "nothing",
        _ => token.ToString(),
    };

    /// <summary>JsonException positions are 0-based; ours are 1-based.</summary>
    public static MalformedInputException ToMalformedInput(JsonException e, long lineOffset)
    {
        var line = (e.LineNumber ?? 0) + 1 + lineOffset;
        var column = (e.BytePositionInLine ?? 0) + 1;
        var problem = e.Message;
        var cut = problem.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0)
        {
            problem = problem[..cut];
        }
        return new MalformedInputException(line, column, $"invalid JSON: {problem}");
    }
}
