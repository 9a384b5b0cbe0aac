using System.Buffers;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Reads '\n'-terminated lines of UTF-8 from a stream through one pooled buffer, skipping blank lines
/// and dropping a '\r' before the '\n'. A line longer than <see cref="MaxLineBytes"/> is an error.
/// </summary>
internal sealed class Utf8LineReader(Stream stream) : IDisposable
{
    public const int MaxLineBytes = 64 * 1024 * 1024;

    private byte[] buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
    private int start;
    private int end;
    private int scanned;
    private bool eof;
    private int lineStart;
    private int lineLength;
    private long nextLineNumber = 1;

    /// <summary>1-based number of the current line in the stream.</summary>
    public long LineNumber { get; private set; }

    public ReadOnlySpan<byte> Line => buffer.AsSpan(lineStart, lineLength);

    public async ValueTask<bool> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            if (TryTakeLine())
            {
                if (!IsBlank(Line))
                {
                    return true;
                }
                continue;
            }
            if (eof)
            {
                return false;
            }
            await FillAsync(ct).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        var rented = buffer;
        buffer = [];
        if (rented.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private bool TryTakeLine()
    {
        var newline = buffer.AsSpan(scanned, end - scanned).IndexOf((byte)'\n');
        int length;
        int next;
        if (newline >= 0)
        {
            length = scanned + newline - start;
            next = scanned + newline + 1;
        }
        else if (eof && end > start)
        {
            length = end - start;
            next = end;
        }
        else
        {
            scanned = end;
            return false;
        }
        lineStart = start;
        lineLength = length > 0 && buffer[start + length - 1] == '\r' ? length - 1 : length;
        start = next;
        scanned = next;
        LineNumber = nextLineNumber++;
        return true;
    }

    private async ValueTask FillAsync(CancellationToken ct)
    {
        if (start > 0)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            scanned -= start;
            start = 0;
        }
        if (end == buffer.Length)
        {
            if (end >= MaxLineBytes)
            {
                throw new MalformedInputException(nextLineNumber, 1,
                    $"the line is longer than {MaxLineBytes / (1024 * 1024)} MB; one record must fit on a line of at most that size");
            }
            var grown = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
            buffer.AsSpan(0, end).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = grown;
        }
        var read = await stream.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
        if (read == 0)
        {
            eof = true;
        }
        end += read;
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(" \t\r"u8) < 0;
}
