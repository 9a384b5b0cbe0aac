using System.Text.Json;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>Copies JSONL lines into chunks after checking each one is exactly one JSON object.</summary>
internal static class JsonlSplitter
{
    public static async Task<SplitResult> SplitAsync(Stream input, ChunkWriter chunks, CancellationToken ct)
    {
        using var lines = new Utf8LineReader(input);
        while (await lines.ReadLineAsync(ct).ConfigureAwait(false))
        {
            CheckObject(lines.Line, lines.LineNumber);
            if (!chunks.HasOpenChunk)
            {
                await chunks.OpenChunkAsync(ct).ConfigureAwait(false);
            }
            chunks.Output.Write(lines.Line.Trim(" \t\r"u8));
            chunks.Output.Write((byte)'\n');
            if (chunks.CompleteRecord())
            {
                await chunks.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        return await chunks.CompleteAsync(ct).ConfigureAwait(false);
    }

    private static void CheckObject(ReadOnlySpan<byte> line, long lineNumber)
    {
        var reader = new Utf8JsonReader(line, RecordJson.ReaderOptions);
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new MalformedInputException(lineNumber, reader.TokenStartIndex + 1,
                    $"expected one JSON object per line but found {JsonErrors.Describe(reader.TokenType)}");
            }
            reader.Skip();
            if (reader.Read())
            {
                throw new MalformedInputException(lineNumber, reader.TokenStartIndex + 1,
                    "expected one JSON object per line but found more after it");
            }
        }
        catch (JsonException e)
        {
            throw JsonErrors.ToMalformedInput(e, lineOffset: lineNumber - 1);
        }
    }
}
