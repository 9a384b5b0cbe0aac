using System.Buffers;

namespace Saas.Pipelines.Formats;

/// <summary>
/// The sink: concatenates a run's chunk outputs (JSONL streams, in chunk order) into one file.
/// JSONL and JSON copy each line's bytes without parsing; CSV parses each line twice (names, then values).
/// </summary>
public static class SinkWriter
{
    internal const int FlushThreshold = 64 * 1024;

    public static async Task<long> WriteAsync(
        IReadOnlyList<Func<CancellationToken, Task<Stream>>> chunkOutputs,
        SinkFormat format,
        char csvDelimiter,
        Stream destination,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(chunkOutputs);
        ArgumentNullException.ThrowIfNull(destination);
        if (format == SinkFormat.Csv)
        {
            CsvDelimiters.EnsureSupported(csvDelimiter);
        }
        var written = format switch
        {
            SinkFormat.Jsonl => await ConcatenateAsync(chunkOutputs, destination, ct).ConfigureAwait(false),
            SinkFormat.Json => await WriteArrayAsync(chunkOutputs, destination, ct).ConfigureAwait(false),
            SinkFormat.Csv => await CsvSink.WriteAsync(chunkOutputs, csvDelimiter, destination, ct).ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown sink format"),
        };
        await destination.FlushAsync(ct).ConfigureAwait(false);
        return written;
    }

    /// <summary>Counts records as line ends, which holds for <see cref="JsonlRecordWriter"/> output.</summary>
    private static async Task<long> ConcatenateAsync(
        IReadOnlyList<Func<CancellationToken, Task<Stream>>> chunkOutputs, Stream destination, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            long records = 0;
            foreach (var open in chunkOutputs)
            {
                var stream = await open(ct).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    var last = (byte)'\n';
                    int read;
                    while ((read = await stream.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        records += buffer.AsSpan(0, read).Count((byte)'\n');
                        last = buffer[read - 1];
                        await destination.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                    }
                    if (last != '\n')
                    {
                        await destination.WriteAsync("\n"u8.ToArray(), ct).ConfigureAwait(false);
                        records++;
                    }
                }
            }
            return records;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<long> WriteArrayAsync(
        IReadOnlyList<Func<CancellationToken, Task<Stream>>> chunkOutputs, Stream destination, CancellationToken ct)
    {
        using var output = new PooledByteBuffer(FlushThreshold * 2);
        long records = 0;
        output.Write((byte)'[');
        foreach (var open in chunkOutputs)
        {
            var stream = await open(ct).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var lines = new Utf8LineReader(stream);
                while (await lines.ReadLineAsync(ct).ConfigureAwait(false))
                {
                    output.Write(records == 0 ? "\n"u8 : ",\n"u8);
                    output.Write(lines.Line.Trim(" \t\r"u8));
                    records++;
                    if (output.Count >= FlushThreshold)
                    {
                        await destination.WriteAsync(output.WrittenMemory, ct).ConfigureAwait(false);
                        output.Clear();
                    }
                }
            }
        }
        output.Write(records == 0 ? "]\n"u8 : "\n]\n"u8);
        await destination.WriteAsync(output.WrittenMemory, ct).ConfigureAwait(false);
        return records;
    }
}
