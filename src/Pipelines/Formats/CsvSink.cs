using System.Buffers;
using System.Text;
using System.Text.Json;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Writes JSONL chunk outputs as one CSV file: a first pass collects the field names in order of first
/// appearance, a second writes the rows. Values are copied from the JSON tokens without building
/// records: strings unescaped, numbers as written, nested values as compact JSON, null as empty.
/// </summary>
internal sealed class CsvSink
{
    private readonly Dictionary<string, int> columns = new(StringComparer.Ordinal);
    private readonly List<string> names = [];
    private readonly PropertyNameCache nameCache = new();
    private readonly SearchValues<byte> needsQuotes;
    private readonly byte delimiter;
    private string[] lastNameAt = new string[16];
    private int[] lastColumnAt = new int[16];

    private CsvSink(char delimiter)
    {
        this.delimiter = (byte)delimiter;
        needsQuotes = SearchValues.Create([this.delimiter, (byte)'"', (byte)'\r', (byte)'\n']);
    }

    public static async Task<long> WriteAsync(
        IReadOnlyList<Func<CancellationToken, Task<Stream>>> chunkOutputs, char delimiter, Stream destination, CancellationToken ct)
    {
        var sink = new CsvSink(delimiter);
        foreach (var open in chunkOutputs)
        {
            var stream = await open(ct).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var lines = new Utf8LineReader(stream);
                while (await lines.ReadLineAsync(ct).ConfigureAwait(false))
                {
                    sink.CollectNames(lines.Line, lines.LineNumber);
                }
            }
        }
        if (sink.names.Count == 0)
        {
            return 0;
        }

        using var output = new PooledByteBuffer(SinkWriter.FlushThreshold * 2);
        using var values = new PooledByteBuffer(4096);
        var slots = new (int Start, int Length)[sink.names.Count];
        sink.WriteHeader(output);
        long records = 0;
        foreach (var open in chunkOutputs)
        {
            var stream = await open(ct).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var lines = new Utf8LineReader(stream);
                while (await lines.ReadLineAsync(ct).ConfigureAwait(false))
                {
                    sink.WriteRow(lines.Line, lines.LineNumber, slots, values, output);
                    records++;
                    if (output.Count >= SinkWriter.FlushThreshold)
                    {
                        await destination.WriteAsync(output.WrittenMemory, ct).ConfigureAwait(false);
                        output.Clear();
                    }
                }
            }
        }
        await destination.WriteAsync(output.WrittenMemory, ct).ConfigureAwait(false);
        return records;
    }

    private void CollectNames(ReadOnlySpan<byte> line, long lineNumber)
    {
        var reader = StartObject(line, lineNumber);
        try
        {
            var ordinal = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                ColumnOf(ref reader, ordinal++, addNew: true);
                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException e)
        {
            throw JsonErrors.ToMalformedInput(e, lineOffset: lineNumber - 1);
        }
    }

    private void WriteRow(ReadOnlySpan<byte> line, long lineNumber, (int Start, int Length)[] slots, PooledByteBuffer values, PooledByteBuffer output)
    {
        Array.Fill(slots, (0, -1));
        values.Clear();
        var reader = StartObject(line, lineNumber);
        try
        {
            var ordinal = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var column = ColumnOf(ref reader, ordinal++, addNew: false);
                reader.Read();
                var start = values.Count;
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        var destination = values.GetSpan(reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length);
                        values.Advance(reader.CopyString(destination));
                        break;
                    case JsonTokenType.Number:
                        values.Write(reader.ValueSpan);
                        break;
                    case JsonTokenType.True:
                        values.Write("true"u8);
                        break;
                    case JsonTokenType.False:
                        values.Write("false"u8);
                        break;
                    case JsonTokenType.Null:
                        slots[column] = (0, -1);
                        continue;
                    default:
                        var tokenStart = (int)reader.TokenStartIndex;
                        reader.Skip();
                        CompactJson.Write(line[tokenStart..(int)reader.BytesConsumed], values);
                        break;
                }
                slots[column] = (start, values.Count - start);
            }
        }
        catch (JsonException e)
        {
            throw JsonErrors.ToMalformedInput(e, lineOffset: lineNumber - 1);
        }

        for (var i = 0; i < slots.Length; i++)
        {
            if (i > 0)
            {
                output.Write(delimiter);
            }
            var (start, length) = slots[i];
            if (length >= 0)
            {
                WriteField(values.WrittenSpan.Slice(start, length), output);
            }
        }
        output.Write((byte)'\n');
    }

    private void WriteHeader(PooledByteBuffer output)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (i > 0)
            {
                output.Write(delimiter);
            }
            WriteField(Encoding.UTF8.GetBytes(names[i]), output);
        }
        output.Write((byte)'\n');
    }

    private void WriteField(ReadOnlySpan<byte> value, PooledByteBuffer output)
    {
        if (!value.ContainsAny(needsQuotes))
        {
            output.Write(value);
            return;
        }
        output.Write((byte)'"');
        while (true)
        {
            var quote = value.IndexOf((byte)'"');
            if (quote < 0)
            {
                output.Write(value);
                break;
            }
            output.Write(value[..(quote + 1)]);
            output.Write((byte)'"');
            value = value[(quote + 1)..];
        }
        output.Write((byte)'"');
    }

    private static Utf8JsonReader StartObject(ReadOnlySpan<byte> line, long lineNumber)
    {
        var reader = new Utf8JsonReader(line, RecordJson.ReaderOptions);
        try
        {
            reader.Read();
        }
        catch (JsonException e)
        {
            throw JsonErrors.ToMalformedInput(e, lineOffset: lineNumber - 1);
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new MalformedInputException(lineNumber, reader.TokenStartIndex + 1,
                $"expected one JSON object per line but found {JsonErrors.Describe(reader.TokenType)}");
        }
        return reader;
    }

    private int ColumnOf(ref Utf8JsonReader reader, int ordinal, bool addNew)
    {
        var name = nameCache.Get(ref reader, ordinal);
        if (ordinal < lastNameAt.Length && ReferenceEquals(lastNameAt[ordinal], name))
        {
            return lastColumnAt[ordinal];
        }
        if (!columns.TryGetValue(name, out var column))
        {
            if (!addNew)
            {
                throw new RecordException($"field '{name}' appeared in a chunk output that changed between the two passes of the CSV sink");
            }
            column = names.Count;
            columns.Add(name, column);
            names.Add(name);
        }
        if (ordinal >= lastNameAt.Length)
        {
            Array.Resize(ref lastNameAt, Math.Max(ordinal + 1, lastNameAt.Length * 2));
            Array.Resize(ref lastColumnAt, lastNameAt.Length);
        }
        lastNameAt[ordinal] = name;
        lastColumnAt[ordinal] = column;
        return column;
    }
}
