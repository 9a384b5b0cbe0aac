namespace Saas.Pipelines.Formats;

/// <summary>
/// Writes records into chunks of at most <c>recordsPerChunk</c>, each started with the same preamble
/// (the CSV header, once known). A chunk is opened only when a record arrives for it, so exactly N records make
/// one chunk, not one full chunk and an empty one.
/// </summary>
internal sealed class ChunkWriter(Func<int, CancellationToken, Task<Stream>> openChunk, int recordsPerChunk)
    : IAsyncDisposable
{
    private const int FlushThreshold = 64 * 1024;

    private Stream? current;
    private int chunks;
    private int recordsInChunk;
    private long records;

    /// <summary>Where the caller appends the current record's bytes, '\n' included.</summary>
    public PooledByteBuffer Output { get; } = new(FlushThreshold * 2);

    public byte[] Preamble { get; set; } = [];

    public bool HasOpenChunk => current is not null;

    public async ValueTask OpenChunkAsync(CancellationToken ct)
    {
        current = await openChunk(chunks, ct).ConfigureAwait(false);
        chunks++;
        recordsInChunk = 0;
        Output.Write(Preamble);
    }

    /// <summary>Counts the record just appended; true when the caller must await <see cref="FlushAsync"/>.</summary>
    public bool CompleteRecord()
    {
        records++;
        recordsInChunk++;
        return recordsInChunk == recordsPerChunk || Output.Count >= FlushThreshold;
    }

    public async ValueTask FlushAsync(CancellationToken ct)
    {
        await current!.WriteAsync(Output.WrittenMemory, ct).ConfigureAwait(false);
        Output.Clear();
        if (recordsInChunk == recordsPerChunk)
        {
            await CloseChunkAsync(ct).ConfigureAwait(false);
        }
    }

    public async Task<SplitResult> CompleteAsync(CancellationToken ct)
    {
        if (chunks == 0)
        {
            await OpenChunkAsync(ct).ConfigureAwait(false);
        }
        if (current is not null)
        {
            await current.WriteAsync(Output.WrittenMemory, ct).ConfigureAwait(false);
            Output.Clear();
            await CloseChunkAsync(ct).ConfigureAwait(false);
        }
        return new SplitResult(chunks, records);
    }

    public async ValueTask DisposeAsync()
    {
        if (current is not null)
        {
            await current.DisposeAsync().ConfigureAwait(false);
            current = null;
        }
        Output.Dispose();
    }

    private async ValueTask CloseChunkAsync(CancellationToken ct)
    {
        var chunk = current!;
        current = null;
        await using (chunk.ConfigureAwait(false))
        {
            await chunk.FlushAsync(ct).ConfigureAwait(false);
        }
    }
}
