using System.Buffers;
using System.Text.Json;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Streams a top-level JSON array of objects into JSONL chunks: each element is validated by
/// <see cref="Utf8JsonReader"/> and its bytes are copied, with insignificant whitespace removed so
/// that a pretty-printed element still fits on one line. Columns in its errors count bytes.
/// </summary>
internal sealed class JsonArraySplitter : IDisposable
{
    private const int MaxElementBytes = Utf8LineReader.MaxLineBytes;

    private byte[] buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
    private int start;
    private int end;
    private bool eof;
    private JsonReaderState state = new(RecordJson.ReaderOptions);
    private Phase phase = Phase.BeforeArray;
    private long elements;
    private int elementStart;
    private int elementLength;
    private long discardedLines;
    private long discardedColumn;

    private enum Phase
    {
        BeforeArray,
        InArray,
        AfterArray,
        Done,
    }

    private enum Step
    {
        Element,
        NeedMoreData,
        End,
    }

    public static async Task<SplitResult> SplitAsync(Stream input, ChunkWriter chunks, CancellationToken ct)
    {
        using var splitter = new JsonArraySplitter();
        while (true)
        {
            var step = splitter.Next();
            if (step == Step.End)
            {
                break;
            }
            if (step == Step.NeedMoreData)
            {
                await splitter.FillAsync(input, ct).ConfigureAwait(false);
                continue;
            }
            if (!chunks.HasOpenChunk)
            {
                await chunks.OpenChunkAsync(ct).ConfigureAwait(false);
            }
            CompactJson.Write(splitter.Element, chunks.Output);
            chunks.Output.Write((byte)'\n');
            if (chunks.CompleteRecord())
            {
                await chunks.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        return await chunks.CompleteAsync(ct).ConfigureAwait(false);
    }

    private ReadOnlySpan<byte> Element => buffer.AsSpan(elementStart, elementLength);

    public void Dispose()
    {
        var rented = buffer;
        buffer = [];
        if (rented.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private Step Next()
    {
        var origin = start;
        var data = buffer.AsSpan(origin, end - origin);
        if (phase == Phase.BeforeArray && eof && data.IndexOfAnyExcept(" \t\r\n"u8) < 0)
        {
            phase = Phase.Done;
        }
        if (phase == Phase.Done)
        {
            return Step.End;
        }
        var reader = new Utf8JsonReader(data, eof, state);
        try
        {
            while (true)
            {
                if (!reader.Read())
                {
                    Commit(ref reader, origin);
                    if (phase == Phase.AfterArray && eof)
                    {
                        phase = Phase.Done;
                        return Step.End;
                    }
                    return Step.NeedMoreData;
                }
                switch (phase)
                {
                    case Phase.BeforeArray when reader.TokenType == JsonTokenType.StartArray:
                        phase = Phase.InArray;
                        break;
                    case Phase.BeforeArray:
                        throw Malformed(origin + (int)reader.TokenStartIndex, reader.TokenType == JsonTokenType.StartObject
                            ? "expected a JSON array of objects but the file is a single object (upload one object per line as JSONL, or wrap it in [ ])"
                            : $"expected a JSON array of objects but found {JsonErrors.Describe(reader.TokenType)}");
                    case Phase.InArray when reader.TokenType == JsonTokenType.EndArray:
                        phase = Phase.AfterArray;
                        break;
                    case Phase.InArray when reader.TokenType == JsonTokenType.StartObject:
                        var tokenStart = (int)reader.TokenStartIndex;
                        if (!reader.TrySkip())
                        {
                            return Step.NeedMoreData;
                        }
                        elementStart = origin + tokenStart;
                        elementLength = (int)reader.BytesConsumed - tokenStart;
                        elements++;
                        Commit(ref reader, origin);
                        return Step.Element;
                    case Phase.InArray:
                        throw Malformed(origin + (int)reader.TokenStartIndex,
                            $"element {elements + 1} of the array is {JsonErrors.Describe(reader.TokenType)}, not an object");
                    default:
                        throw Malformed(origin + (int)reader.TokenStartIndex, "unexpected content after the JSON array");
                }
                // Everything before this point has been handled; keep the state in case the next element is incomplete.
                Commit(ref reader, origin);
            }
        }
        catch (JsonException e)
        {
            throw JsonErrors.ToMalformedInput(e, lineOffset: 0);
        }
    }

    private void Commit(ref Utf8JsonReader reader, int origin)
    {
        start = origin + (int)reader.BytesConsumed;
        state = reader.CurrentState;
    }

    private async ValueTask FillAsync(Stream input, CancellationToken ct)
    {
        if (eof)
        {
            // Utf8JsonReader reports incomplete input itself once isFinalBlock is set, so this is unreachable.
            throw new InvalidOperationException("JSON reader asked for more data after the end of the input");
        }
        if (start > 0)
        {
            CountDiscarded(buffer.AsSpan(0, start));
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }
        if (end == buffer.Length)
        {
            if (end >= MaxElementBytes)
            {
                throw Malformed(0, $"an element of the array is larger than {MaxElementBytes / (1024 * 1024)} MB");
            }
            var grown = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
            buffer.AsSpan(0, end).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = grown;
        }
        var read = await input.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
        if (read == 0)
        {
            eof = true;
        }
        end += read;
    }

    private void CountDiscarded(ReadOnlySpan<byte> discarded)
    {
        var newlines = discarded.Count((byte)'\n');
        if (newlines == 0)
        {
            discardedColumn += discarded.Length;
            return;
        }
        discardedLines += newlines;
        discardedColumn = discarded.Length - 1 - discarded.LastIndexOf((byte)'\n');
    }

    private MalformedInputException Malformed(int bufferIndex, string problem)
    {
        var before = buffer.AsSpan(0, bufferIndex);
        var newlines = before.Count((byte)'\n');
        return newlines == 0
            ? new MalformedInputException(discardedLines + 1, discardedColumn + bufferIndex + 1, problem)
            : new MalformedInputException(discardedLines + newlines + 1, bufferIndex - before.LastIndexOf((byte)'\n'), problem);
    }
}
