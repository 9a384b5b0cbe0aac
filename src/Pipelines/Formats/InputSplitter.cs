using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Splits a trigger's raw input into chunks of at most <c>recordsPerChunk</c> records, validating as
/// it goes. CSV chunks are the header line plus the raw rows ('\n' line ends); JSON and JSONL chunks
/// are JSONL. The first malformed record throws <see cref="MalformedInputException"/>; chunks written
/// before it are left for the caller to discard.
/// </summary>
public static class InputSplitter
{
    public static async Task<SplitResult> SplitAsync(
        Stream input,
        InputFormat format,
        char csvDelimiter,
        int recordsPerChunk,
        Func<int, CancellationToken, Task<Stream>> openChunk,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(openChunk);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(recordsPerChunk);
        if (format == InputFormat.Csv)
        {
            CsvDelimiters.EnsureSupported(csvDelimiter);
        }

        await using var text = new Utf8ValidatingStream(input);
        await using var chunks = new ChunkWriter(openChunk, recordsPerChunk);
        return format switch
        {
            InputFormat.Csv => await CsvSplitter.SplitAsync(text, csvDelimiter, chunks, ct).ConfigureAwait(false),
            InputFormat.Json => await JsonArraySplitter.SplitAsync(text, chunks, ct).ConfigureAwait(false),
            InputFormat.Jsonl => await JsonlSplitter.SplitAsync(text, chunks, ct).ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown input format"),
        };
    }
}
