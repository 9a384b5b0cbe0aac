using Microsoft.Extensions.Options;

namespace Saas.Pipelines.Blobs;

/// <summary>Blobs as files under <c>{DataDirectory}/blobs</c>; writes go to a temporary file renamed into place.</summary>
public sealed class FolderBlobStore : IBlobStore
{
    private const int BufferSize = 1 << 16;
    private readonly string _root;

    /// <summary>Directories known to exist, so a write costs no mkdir walk; cleared when large.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _directories = new(StringComparer.Ordinal);

    public FolderBlobStore(IOptions<FlowgateOptions> options)
    {
        _root = Path.Combine(Path.GetFullPath(options.Value.DataDirectory), "blobs");
        Directory.CreateDirectory(_root);
    }

    public Task<Stream> OpenWriteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        EnsureDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Task.FromResult<Stream>(new RenameOnDisposeStream(file, temporary, path));
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"blob '{key}' does not exist", key);
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
        }
        return Task.CompletedTask;
    }

    public Task<DownloadLink> CreateDownloadLinkAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken) =>
        Task.FromResult(DownloadLink.Unavailable(
            "the folder blob store has no URL of its own: blobs are streamed by the API; set Flowgate:Blobs:Provider=azure for links that expire"));

    private void EnsureDirectory(string directory)
    {
        if (_directories.ContainsKey(directory))
        {
            return;
        }
        Directory.CreateDirectory(directory);
        if (_directories.Count > 100_000)
        {
            _directories.Clear();
        }
        _directories.TryAdd(directory, 0);
    }

    private string PathOf(string key)
    {
        if (key.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(key))
        {
            throw new ArgumentException($"blob key '{key}' is not a relative path", nameof(key));
        }
        return Path.Combine(_root, key);
    }

    private sealed class RenameOnDisposeStream(FileStream file, string temporary, string final) : Stream
    {
        private bool _done;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => file.Length;
        public override long Position { get => file.Position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => file.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => file.Write(buffer);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => file.WriteAsync(buffer, offset, count, cancellationToken);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => file.WriteAsync(buffer, cancellationToken);
        public override void WriteByte(byte value) => file.WriteByte(value);
        public override void Flush() => file.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => file.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_done)
            {
                _done = true;
                file.Dispose();
                File.Move(temporary, final, overwrite: true);
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_done)
            {
                _done = true;
                await file.DisposeAsync();
                File.Move(temporary, final, overwrite: true);
            }
            await base.DisposeAsync();
        }
    }
}
