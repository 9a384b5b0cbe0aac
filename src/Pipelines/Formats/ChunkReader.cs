using System.Runtime.CompilerServices;
using System.Text.Json;
using nietras.SeparatedValues;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>Reads a chunk back as records: the first step's input and every later step's input.</summary>
public static class ChunkReader
{
    /// <summary>Header plus rows as records of strings, fields in header order. Does not dispose the stream.</summary>
    public static async IAsyncEnumerable<Record> ReadCsvAsync(
        Stream chunk, char delimiter, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        CsvDelimiters.EnsureSupported(delimiter);
        using var reader = await Sep.New(delimiter)
            .Reader(o => o with { Unescape = true, DisableColCountCheck = true })
            .FromAsync(chunk, leaveOpen: true, ct)
            .ConfigureAwait(false);
        var names = reader.Header.ColNames.ToArray();
        while (await reader.MoveNextAsync(ct).ConfigureAwait(false))
        {
            var record = ToRecord(reader.Current, names);
            if (record is not null)
            {
                yield return record;
            }
        }
    }

    /// <summary>One JSON object per line; blank lines are skipped. Does not dispose the stream.</summary>
    public static async IAsyncEnumerable<Record> ReadJsonlAsync(Stream chunk, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        using var lines = new Utf8LineReader(chunk);
        var names = new PropertyNameCache();
        while (await lines.ReadLineAsync(ct).ConfigureAwait(false))
        {
            yield return ParseLine(lines.Line, lines.LineNumber, names);
        }
    }

    /// <summary>
    /// CSV (comma, header row) or JSONL records with the line each starts on, for checks that say where a row
    /// is (reference table uploads). The chunk readers above stay free of the bookkeeping.
    /// </summary>
    public static async IAsyncEnumerable<(long Line, Record Record)> ReadNumberedAsync(Stream stream, InputFormat format, [EnumeratorCancellation] CancellationToken ct)
    {
        if (format == InputFormat.Csv)
        {
            using var reader = await Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true })
                .FromAsync(stream, leaveOpen: true, ct).ConfigureAwait(false);
            var columns = reader.Header.ColNames.ToArray();
            while (await reader.MoveNextAsync(ct).ConfigureAwait(false))
            {
                if (ToRecord(reader.Current, columns) is { } record)
                {
                    yield return (reader.Current.LineNumberFrom, record);
                }
            }
            yield break;
        }
        using var lines = new Utf8LineReader(stream);
        var names = new PropertyNameCache();
        while (await lines.ReadLineAsync(ct).ConfigureAwait(false))
        {
            yield return (lines.LineNumber, ParseLine(lines.Line, lines.LineNumber, names));
        }
    }

    private static Record? ToRecord(SepReader.Row row, string[] names)
    {
        if (row.ColCount != names.Length)
        {
            if (row.ColCount == 1 && row[0].Span.IsEmpty)
            {
                return null;
            }
            throw new MalformedInputException(row.LineNumberFrom, 1,
                $"expected {names.Length} fields (as in the header) but found {row.ColCount}");
        }
        var record = new Record(names.Length);
        for (var i = 0; i < names.Length; i++)
        {
            record[names[i]] = row[i].ToString();
        }
        return record;
    }

    private static Record ParseLine(ReadOnlySpan<byte> line, long lineNumber, PropertyNameCache names)
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
            var record = RecordJson.Read(ref reader, names);
            if (reader.Read())
            {
                throw new MalformedInputException(lineNumber, reader.TokenStartIndex + 1,
                    "expected one JSON object per line but found more after it");
            }
            return record;
        }
        catch (JsonException e)
        {
            throw JsonErrors.ToMalformedInput(e, lineOffset: lineNumber - 1);
        }
        catch (InvalidOperationException e)
        {
            throw new MalformedInputException(lineNumber, 1, $"invalid JSON text: {e.Message}");
        }
    }
}
