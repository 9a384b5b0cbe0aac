using System.Buffers;
using Azure.Storage.Blobs.Specialized;
using Saas.Pipelines.Limits;

namespace Saas.Pipelines.Blobs;

/// <summary>
/// Uploads a block blob as it is written: each full buffer is staged as an uncommitted block, and
/// disposing commits the block list, which replaces the blob whole in one operation. Until then
/// readers see the previous version (or nothing), never a partial one.
/// </summary>
internal sealed class BlockUploadStream(BlockBlobClient blob, int blockBytes) : Stream
{
    private readonly List<string> _blocks = [];
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(blockBytes);
    private int _filled;
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => SyncOverAsync.Run(() => WriteAsync(buffer.AsMemory(offset, count)).AsTask());

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(BlockUploadStream));
        while (data.Length > 0)
        {
            var take = Math.Min(data.Length, blockBytes - _filled);
            data[..take].CopyTo(buffer.AsMemory(_filled));
            _filled += take;
            _length += take;
            data = data[take..];
            if (_filled == blockBytes)
            {
                await StageAsync(cancellationToken);
            }
        }
    }

    public override void Flush() { }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            SyncOverAsync.Run(() => DisposeAsync().AsTask());
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_buffer is null)
        {
            return;
        }
        try
        {
            if (_filled > 0)
            {
                await StageAsync(CancellationToken.None);
            }
            await blob.CommitBlockListAsync(_blocks);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private async Task StageAsync(CancellationToken cancellationToken)
    {
        // Block ids must all have the same length; a random one per block keeps a concurrent writer's blocks apart.
        var id = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        using var content = new MemoryStream(_buffer!, 0, _filled, writable: false);
        await blob.StageBlockAsync(id, content, cancellationToken: cancellationToken);
        _blocks.Add(id);
        _filled = 0;
    }
}
