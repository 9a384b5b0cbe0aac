using System.Text;
using nietras.SeparatedValues;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Splits CSV into chunks of the header plus raw rows, checking quoting and field counts as it goes.
/// Columns in its errors count characters; blank lines are skipped.
/// </summary>
internal sealed class CsvSplitter(char delimiter)
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private int fieldCount = -1;
    private int nextRowLine = 1;

    public static async Task<SplitResult> SplitAsync(Stream input, char delimiter, ChunkWriter chunks, CancellationToken ct)
    {
        var splitter = new CsvSplitter(delimiter);
        var text = new StreamReader(input, Utf8, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);
        try
        {
            using var reader = await Sep.New(delimiter)
                .Reader(o => o with { HasHeader = false, DisableColCountCheck = true })
                .FromAsync(text, ct)
                .ConfigureAwait(false);
            while (await reader.MoveNextAsync(ct).ConfigureAwait(false))
            {
                var kind = splitter.Inspect(reader.Current);
                if (kind == RowKind.Header)
                {
                    chunks.Preamble = ToUtf8Line(reader.Current.Span);
                }
                else if (kind == RowKind.Record)
                {
                    if (!chunks.HasOpenChunk)
                    {
                        await chunks.OpenChunkAsync(ct).ConfigureAwait(false);
                    }
                    AppendLine(reader.Current.Span, chunks.Output);
                    if (chunks.CompleteRecord())
                    {
                        await chunks.FlushAsync(ct).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (NotSupportedException e) when (e.Message.Contains("maximum supported length", StringComparison.Ordinal))
        {
            throw new MalformedInputException(splitter.nextRowLine, 1,
                "a row runs past 16,777,216 characters; most likely a quoted field is never closed");
        }
        finally
        {
            text.Dispose();
        }
        return await chunks.CompleteAsync(ct).ConfigureAwait(false);
    }

    private enum RowKind
    {
        Blank,
        Header,
        Record,
    }

    private RowKind Inspect(SepReader.Row row)
    {
        var span = row.Span;
        // Sep numbers the very first row's line wrongly; it always starts on line 1.
        var firstLine = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
        nextRowLine = row.LineNumberToExcl;
        if (span.IsEmpty)
        {
            return RowKind.Blank;
        }
        CheckQuotesClosed(span, firstLine);
        if (fieldCount < 0)
        {
            CheckHeader(row, firstLine);
            fieldCount = row.ColCount;
            return RowKind.Header;
        }
        if (row.ColCount != fieldCount)
        {
            var found = row.ColCount;
            var (line, column) = Locate(span, found > fieldCount ? FieldStart(span, fieldCount) : span.Length, firstLine);
            throw new MalformedInputException(line, column, found > fieldCount
                ? $"expected {fieldCount} fields (as in the header) but found {found}; the first extra field starts here"
                : $"expected {fieldCount} fields (as in the header) but found {found}");
        }
        return RowKind.Record;
    }

    private static byte[] ToUtf8Line(ReadOnlySpan<char> span)
    {
        var bytes = new byte[Utf8.GetByteCount(span) + 1];
        Utf8.GetBytes(span, bytes);
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static void AppendLine(ReadOnlySpan<char> span, PooledByteBuffer output)
    {
        var destination = output.GetSpan(Utf8.GetMaxByteCount(span.Length) + 1);
        var written = Utf8.GetBytes(span, destination);
        destination[written] = (byte)'\n';
        output.Advance(written + 1);
    }

    // A row only ends inside an open quote at the end of the file, so an odd quote count means it never closed.
    private static void CheckQuotesClosed(ReadOnlySpan<char> span, int firstLine)
    {
        if (!span.Contains('"') || (span.Count('"') & 1) == 0)
        {
            return;
        }
        var open = -1;
        for (var i = span.IndexOf('"'); i >= 0 && i < span.Length; i++)
        {
            if (span[i] == '"')
            {
                open = open < 0 ? i : -1;
            }
        }
        var (line, column) = Locate(span, Math.Max(open, 0), firstLine);
        throw new MalformedInputException(line, column, "this quoted field is never closed (a closing \" is missing)");
    }

    private void CheckHeader(SepReader.Row row, int firstLine)
    {
        var span = row.Span;
        var seen = new Dictionary<string, int>(row.ColCount, StringComparer.Ordinal);
        for (var i = 0; i < row.ColCount; i++)
        {
            var name = Unquote(row[i].Span);
            string? problem = null;
            if (string.IsNullOrWhiteSpace(name))
            {
                problem = $"header field {i + 1} is empty; every column needs a name";
            }
            else if (!seen.TryAdd(name, i))
            {
                problem = $"column name '{name}' appears twice in the header (fields {seen[name] + 1} and {i + 1})";
            }
            if (problem is not null)
            {
                var (line, column) = Locate(span, FieldStart(span, i), firstLine);
                throw new MalformedInputException(line, column, problem);
            }
        }
    }

    private static string Unquote(ReadOnlySpan<char> field) =>
        field.Length >= 2 && field[0] == '"' && field[^1] == '"'
            ? field[1..^1].ToString().Replace("\"\"", "\"", StringComparison.Ordinal)
            : field.ToString();

    private int FieldStart(ReadOnlySpan<char> span, int field)
    {
        if (field == 0)
        {
            return 0;
        }
        var quoted = false;
        var index = 0;
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == delimiter && !quoted && ++index == field)
            {
                return i + 1;
            }
        }
        return span.Length;
    }

    private static (long Line, long Column) Locate(ReadOnlySpan<char> span, int offset, int firstLine)
    {
        long line = firstLine;
        var lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            var c = span[i];
            if (c == '\r' && i + 1 < span.Length && span[i + 1] == '\n')
            {
                i++;
            }
            if (c is '\r' or '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, offset - lineStart + 1);
    }
}
