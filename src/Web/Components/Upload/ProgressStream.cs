namespace Saas.Web.Components.Upload;

/// <summary>Reads through to <paramref name="inner"/> and reports the bytes read so far, at most every 100 ms.</summary>
public sealed class ProgressStream(Stream inner, Func<long, Task> report) : Stream
{
    private long _read;
    private long _reportedAt = Environment.TickCount64;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        _read += read;
        if (Environment.TickCount64 - _reportedAt >= 100 || read == 0)
        {
            _reportedAt = Environment.TickCount64;
            await report(_read);
        }
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
