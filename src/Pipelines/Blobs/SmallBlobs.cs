using System.Data.Common;
using Saas.Pipelines.Limits;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Blobs;

/// <summary>
/// Blobs up to <see cref="MaxInlineBytes"/> live in the database, written by the transaction that
/// commits the step that produced them: creating a file costs more than running a small step, and
/// an inline output is committed atomically with its step. Larger blobs go to <see cref="IBlobStore"/>
/// under the same key. Readers do not need to know which is which.
/// </summary>
public sealed class SmallBlobs(Database database, IBlobStore store)
{
    public const int MaxInlineBytes = 64 * 1024;

    public static void Save(DbConnection connection, DbTransaction transaction, string tenantId, string key, ReadOnlyMemory<byte> data)
    {
        const string sql = """
            INSERT INTO small_blobs (key, tenant_id, data) VALUES (@key, @tenantId, @data)
            ON CONFLICT (key) DO UPDATE SET data = excluded.data
            """;
        connection.Prepared(sql, transaction).With("@key", key).With("@tenantId", tenantId).With("@data", data.ToArray()).ExecuteNonQuery();
    }

    /// <exception cref="FileNotFoundException">Neither the database nor the blob store has the key.</exception>
    public async Task<Stream> OpenReadAsync(string tenantId, string key, CancellationToken cancellationToken)
    {
        const string sql = "SELECT data FROM small_blobs WHERE key = @key AND tenant_id = @tenantId";
        byte[]? inline;
        using (var connection = database.OpenConnection())
        {
            inline = connection.Prepared(sql, null).With("@key", key).With("@tenantId", tenantId).ExecuteScalar() as byte[];
        }
        return inline is not null ? new MemoryStream(inline, writable: false) : await store.OpenReadAsync(key, cancellationToken);
    }

    /// <summary>A stream that keeps a small blob in memory and spills a large one to the blob store.</summary>
    public SpillingBlobStream OpenWrite(string key) => new(store, key);
}

/// <summary>
/// Buffers up to <see cref="SmallBlobs.MaxInlineBytes"/> in memory; past that, moves everything to a
/// blob-store stream under the key. After writing, either <see cref="Inline"/> holds the bytes (to save
/// in the commit) or <see cref="CompleteAsync"/> has put the blob in place.
/// </summary>
public sealed class SpillingBlobStream(IBlobStore store, string key) : Stream
{
    private readonly MemoryStream _memory = new();
    private Stream? _spilled;
    private Exception? _spillFailed;

    public string Key { get; } = key;

    /// <summary>The whole blob, when it stayed small.</summary>
    public ReadOnlyMemory<byte>? Inline => _spilled is null ? new ReadOnlyMemory<byte>(_memory.GetBuffer(), 0, (int)_memory.Length) : default(ReadOnlyMemory<byte>?);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _spilled?.Length ?? _memory.Length;
    public override long Position { get => Length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (FitsInline(count))
        {
            _memory.Write(buffer, offset, count);
            return;
        }
        SyncOverAsync.Run(() => WriteAsync(buffer.AsMemory(offset, count)).AsTask());
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private bool FitsInline(int count) => _spilled is null && _memory.Length + count <= SmallBlobs.MaxInlineBytes;

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (FitsInline(buffer.Length))
        {
            _memory.Write(buffer.Span);
            return;
        }
        if (_spillFailed is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_spillFailed);
        }
        if (_spilled is null)
        {
            try
            {
                _spilled = await store.OpenWriteAsync(Key, cancellationToken);
            }
            catch (Exception error)
            {
                _spillFailed = error;
                throw;
            }
            await _spilled.WriteAsync(_memory.GetBuffer().AsMemory(0, (int)_memory.Length), cancellationToken);
            _memory.SetLength(0);
        }
        await _spilled.WriteAsync(buffer, cancellationToken);
    }

    /// <summary>Puts a spilled blob in place; nothing to do for an inline one.</summary>
    public async Task CompleteAsync()
    {
        if (_spilled is not null)
        {
            await _spilled.DisposeAsync();
        }
    }

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
