using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Passes an uploaded file through while checking that it is UTF-8 text: strips a UTF-8 BOM, rejects
/// UTF-16, archives and binary files up front, and reports the line and byte column of the first
/// invalid byte. Vectorized checks, so it costs a few percent of parsing. Does not own the inner stream.
/// </summary>
internal sealed class Utf8ValidatingStream(Stream inner) : Stream
{
    private readonly byte[] pending = new byte[4];
    private int pendingCount;
    private long pendingLine;
    private long pendingColumn;
    private bool started;
    private bool ended;
    private long line = 1;
    private long column = 1;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            var read = inner.Read(buffer);
            if (!started)
            {
                while (read < 4 && read < buffer.Length)
                {
                    var more = inner.Read(buffer[read..]);
                    if (more == 0)
                    {
                        break;
                    }
                    read += more;
                }
            }
            if (Accept(buffer, ref read))
            {
                return read;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (!started)
            {
                while (read < 4 && read < buffer.Length)
                {
                    var more = await inner.ReadAsync(buffer[read..], cancellationToken).ConfigureAwait(false);
                    if (more == 0)
                    {
                        break;
                    }
                    read += more;
                }
            }
            if (Accept(buffer.Span, ref read))
            {
                return read;
            }
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Checks freshly read bytes; false when they were all consumed (a lone BOM) and more must be read.</summary>
    private bool Accept(Span<byte> buffer, ref int read)
    {
        if (ended)
        {
            return true;
        }
        if (!started)
        {
            started = true;
            var withPreamble = read;
            read = StripPreamble(buffer, read);
            if (read == 0 && withPreamble > 0)
            {
                return false;
            }
        }
        if (read == 0)
        {
            ended = true;
            if (pendingCount > 0)
            {
                throw new MalformedInputException(pendingLine, pendingColumn,
                    "the file ends in the middle of a UTF-8 character; it is not UTF-8 text");
            }
            return true;
        }
        Validate(buffer[..read]);
        return true;
    }

    private int StripPreamble(Span<byte> buffer, int read)
    {
        var head = buffer[..read];
        if (head.StartsWith("\uFEFF"u8))
        {
            head[3..].CopyTo(buffer);
            return read - 3;
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            throw new MalformedInputException(1, 1, "the file is UTF-16 text; save it as UTF-8 and upload it again");
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]))
        {
            throw new MalformedInputException(1, 1, "the file is gzip-compressed; upload the uncompressed UTF-8 text");
        }
        if (head.StartsWith("PK\x03\x04"u8))
        {
            throw new MalformedInputException(1, 1,
                "the file is a ZIP archive (an Excel workbook?), not UTF-8 text; export it as CSV and upload that");
        }
        return read;
    }

    private void Validate(ReadOnlySpan<byte> data)
    {
        var nul = data.IndexOf((byte)0);
        if (nul >= 0)
        {
            var (l, c) = PositionOf(data, nul);
            throw new MalformedInputException(l, c, "the file contains a NUL byte; it looks binary (or UTF-16), not UTF-8 text");
        }

        var body = data;
        if (pendingCount > 0)
        {
            body = CompletePending(body);
        }

        var tail = IncompleteTailLength(body);
        var complete = body[..^tail];
        if (!Utf8.IsValid(complete))
        {
            var bad = FirstInvalidByte(complete);
            var (l, c) = PositionOf(data, data.Length - body.Length + bad);
            throw new MalformedInputException(l, c,
                $"invalid UTF-8 byte 0x{complete[bad]:X2}; the file is not UTF-8 text (save it as UTF-8 and upload it again)");
        }
        if (tail > 0)
        {
            (pendingLine, pendingColumn) = PositionOf(data, data.Length - tail);
            body[^tail..].CopyTo(pending);
            pendingCount = tail;
        }
        Advance(data);
    }

    /// <summary>Finishes a character split across two reads; returns the bytes after it.</summary>
    private ReadOnlySpan<byte> CompletePending(ReadOnlySpan<byte> data)
    {
        Span<byte> joined = stackalloc byte[8];
        pending.AsSpan(0, pendingCount).CopyTo(joined);
        var taken = Math.Min(4 - pendingCount, data.Length);
        data[..taken].CopyTo(joined[pendingCount..]);
        var status = Rune.DecodeFromUtf8(joined[..(pendingCount + taken)], out _, out var consumed);
        if (status == OperationStatus.NeedMoreData)
        {
            data.CopyTo(pending.AsSpan(pendingCount));
            pendingCount += data.Length;
            return [];
        }
        if (status != OperationStatus.Done)
        {
            throw new MalformedInputException(pendingLine, pendingColumn,
                "invalid UTF-8 byte sequence; the file is not UTF-8 text (save it as UTF-8 and upload it again)");
        }
        var used = consumed - pendingCount;
        pendingCount = 0;
        return data[used..];
    }

    /// <summary>How many bytes at the end start a multi-byte character that the next read completes.</summary>
    private static int IncompleteTailLength(ReadOnlySpan<byte> data)
    {
        for (var back = 1; back <= Math.Min(3, data.Length); back++)
        {
            var b = data[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }
            var needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back ? back : 0;
        }
        return 0;
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> data)
    {
        var at = 0;
        while (at < data.Length)
        {
            var ascii = data[at..].IndexOfAnyInRange((byte)0x80, (byte)0xFF);
            if (ascii < 0)
            {
                break;
            }
            at += ascii;
            if (Rune.DecodeFromUtf8(data[at..], out _, out var consumed) != OperationStatus.Done)
            {
                return at;
            }
            at += consumed;
        }
        return Math.Max(0, data.Length - 1);
    }

    private (long Line, long Column) PositionOf(ReadOnlySpan<byte> data, int index)
    {
        var before = data[..index];
        var newlines = before.Count((byte)'\n');
        return newlines == 0
            ? (line, column + index)
            : (line + newlines, index - before.LastIndexOf((byte)'\n'));
    }

    private void Advance(ReadOnlySpan<byte> data)
    {
        var newlines = data.Count((byte)'\n');
        if (newlines == 0)
        {
            column += data.Length;
            return;
        }
        line += newlines;
        column = data.Length - data.LastIndexOf((byte)'\n');
    }
}
