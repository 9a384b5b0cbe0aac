using System.Text.Json;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Writes a step's output as compact JSONL, one record per line, through a 64 KB buffer. Flushes on
/// dispose and does not dispose the destination.
/// </summary>
public sealed class JsonlRecordWriter : IAsyncDisposable
{
    private const int FlushThreshold = 64 * 1024;

    private readonly Stream destination;
    private readonly PooledByteBuffer buffer = new(FlushThreshold * 2);
    private readonly Utf8JsonWriter json;
    private readonly EncodedNameCache names = new();
    private bool disposed;

    private readonly long maxRecordBytes;

    /// <param name="maxRecordBytes">A record that serializes to more is refused with <see cref="RecordTooLargeException"/>.</param>
    public JsonlRecordWriter(Stream destination, long maxRecordBytes = long.MaxValue)
    {
        this.maxRecordBytes = maxRecordBytes;
        ArgumentNullException.ThrowIfNull(destination);
        this.destination = destination;
        json = new Utf8JsonWriter(buffer, RecordJson.WriterOptions);
    }

    public long Count { get; private set; }

    public ValueTask WriteAsync(Record record, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(record);
        var mark = buffer.Count;
        try
        {
            RecordJson.Write(json, record, names);
            json.Flush();
        }
        catch
        {
            // Drop the half-written record so the output stays one whole record per line.
            json.Reset();
            buffer.Truncate(mark);
            throw;
        }
        // Without a reset the writer would put a ',' before the next top-level object.
        json.Reset();
        if (buffer.Count - mark > maxRecordBytes)
        {
            var size = buffer.Count - mark;
            buffer.Truncate(mark);
            throw new RecordTooLargeException(Count + 1, size, maxRecordBytes);
        }
        buffer.Write((byte)'\n');
        Count++;
        return buffer.Count >= FlushThreshold ? FlushAsync(ct) : ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        try
        {
            await FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await destination.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            await json.DisposeAsync().ConfigureAwait(false);
            buffer.Dispose();
        }
    }

    private async ValueTask FlushAsync(CancellationToken ct)
    {
        if (buffer.Count == 0)
        {
            return;
        }
        await destination.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        buffer.Clear();
    }
}

/// <summary>A step made a record bigger than <c>Flowgate:Runtime:MaxRecordBytes</c>.</summary>
public sealed class RecordTooLargeException(long recordNumber, long bytes, long limit)
    : RecordException($"output record {recordNumber} is {bytes:N0} bytes, over the limit of {limit:N0} bytes per record (Flowgate:Runtime:MaxRecordBytes)");
