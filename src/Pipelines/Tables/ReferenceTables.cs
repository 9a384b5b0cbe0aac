using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Expressions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tables;

/// <summary>One uploaded version of a reference table.</summary>
/// <param name="KeyColumns">JSON array of the columns declared as the table's key at upload (checked present and unique), or <c>[]</c>.</param>
/// <param name="CreatedBy">Who uploaded it: a portal user's e-mail, an API key's id, or null (uploaded before this was recorded).</param>
public sealed record TableVersionRow(string Name, long Version, string Format, string Columns, long Rows, long Bytes, string BlobKey, long CreatedAt, string KeyColumns, string? CreatedBy)
{
    public IReadOnlyList<string> ColumnNames => JsonSerializer.Deserialize<List<string>>(Columns)!;

    public IReadOnlyList<string> KeyColumnNames => JsonSerializer.Deserialize<List<string>>(KeyColumns)!;
}

/// <summary>
/// Tenants' reference tables for the <c>lookup</c> step. Every upload is a new immutable version, kept as a
/// blob in its format (CSV or JSONL); a lookup reads a version once into an in-memory hash index on the
/// keys and columns it uses, shared by every chunk and run on this node that uses the same.
/// </summary>
public sealed partial class ReferenceTables(Database database, IBlobStore blobs, TimeProvider time)
{
    public const string NameRule = "1-64 characters: letters, digits, '_' or '-', starting with a letter";

    /// <summary>Rows a preview reads at most.</summary>
    public const int MaxPreviewRows = 100;

    /// <summary>Indexes kept in memory; past this the least recently used goes.</summary>
    private const int MaxCachedIndexes = 8;

    private const string VersionColumns = "name, version, format, columns, rows, bytes, blob_key, created_at, key_columns, created_by";

    private readonly ConcurrentDictionary<IndexKey, Lazy<Task<TableIndex>>> _indexes = new();
    private readonly ConcurrentDictionary<IndexKey, long> _lastUsed = new();

    public static bool IsValidName(string name) => Name().IsMatch(name);

    /// <summary>
    /// Stores an upload as the table's next version, reading it once to check it and count its rows. Declared
    /// <paramref name="keys"/> must have a value in every row and be unique, since a lookup only ever sees the first
    /// row of a key (decision 025). Nothing is kept of an upload that fails: its blob is deleted.
    /// </summary>
    /// <exception cref="RecordException">The content does not parse, or breaks a declared key; the message says at which line.</exception>
    public async Task<TableVersionRow> UploadAsync(
        string tenantId, string name, InputFormat format, Stream content, CancellationToken cancellationToken, IReadOnlyList<string>? keys = null, string? createdBy = null)
    {
        keys ??= [];
        var blobKey = $"{tenantId}/tables/{name}/{Ids.New("tv")}.{InputFormatNames.Of(format)}";
        try
        {
            await using (var stream = await blobs.OpenWriteAsync(blobKey, cancellationToken))
            {
                await content.CopyToAsync(stream, 1 << 16, cancellationToken);
            }
            var (rows, bytes, columns) = await CheckAsync(blobKey, format, keys, cancellationToken);
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            return await database.WriteAsync((connection, transaction) =>
            {
                const string sql = $"""
                    INSERT INTO reference_tables (tenant_id, name, version, format, columns, rows, bytes, blob_key, created_at, key_columns, created_by)
                    VALUES (@tenantId, @name, COALESCE((SELECT MAX(version) FROM reference_tables WHERE tenant_id = @tenantId AND name = @name), 0) + 1,
                            @format, @columns, @rows, @bytes, @blobKey, @now, @keyColumns, @createdBy)
                    RETURNING {VersionColumns}
                    """;
                return connection.QuerySingle<TableVersionRow>(sql, new
                {
                    tenantId, name, format = InputFormatNames.Of(format), columns = JsonSerializer.Serialize(columns), rows, bytes, blobKey, now,
                    keyColumns = JsonSerializer.Serialize(keys), createdBy,
                }, transaction);
            }, CancellationToken.None); // not cancelled once checked: the blob is deleted on failure, so a commit must not be.
        }
        catch
        {
            await blobs.DeleteAsync(blobKey, CancellationToken.None);
            throw;
        }
    }

    private async Task<(long Rows, long Bytes, List<string> Columns)> CheckAsync(string blobKey, InputFormat format, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        long rows = 0;
        var columns = new List<string>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        var firstLineOfKey = keys.Count == 0 ? null : new Dictionary<string, long>(StringComparer.Ordinal);
        await using var stream = await blobs.OpenReadAsync(blobKey, cancellationToken);
        await foreach (var (line, record) in ChunkReader.ReadNumberedAsync(stream, format, cancellationToken))
        {
            rows++;
            foreach (var column in record.Keys)
            {
                if (known.Add(column))
                {
                    columns.Add(column);
                }
            }
            if (firstLineOfKey is null)
            {
                continue;
            }
            if (keys.FirstOrDefault(k => record.GetValueOrDefault(k) is null or "") is { } missing)
            {
                throw new MalformedInputException(line, 1,
                    $"the key column '{missing}' has no value; every row needs one for the key ({string.Join(", ", keys)}). This row's columns are {string.Join(", ", record.Keys)}");
            }
            var key = TableIndex.Key(record, keys)!;
            if (!firstLineOfKey.TryAdd(key, line))
            {
                throw new MalformedInputException(line, 1,
                    $"the key {string.Join(", ", keys.Select(k => $"{k}={TextTemplate.ToText(record[k])}"))} repeats the row on line {firstLineOfKey[key]}; keys must be unique, a lookup would only ever see the first");
            }
        }
        return (rows, stream.Length, columns);
    }

    /// <summary>Every version of every table, newest version first within a name.</summary>
    public IReadOnlyList<TableVersionRow> List(string tenantId, string? name = null)
    {
        const string sql = $"""
            SELECT {VersionColumns} FROM reference_tables
            WHERE tenant_id = @tenantId AND (@name IS NULL OR name = @name) ORDER BY name, version DESC
            """;
        using var connection = database.OpenConnection();
        return connection.Query<TableVersionRow>(sql, new { tenantId, name }).AsList();
    }

    /// <summary>The first <paramref name="limit"/> rows of a version (at most <see cref="MaxPreviewRows"/>).</summary>
    public async Task<IReadOnlyList<Record>> PreviewAsync(TableVersionRow table, int limit, CancellationToken cancellationToken)
    {
        var rows = new List<Record>();
        await using var stream = await blobs.OpenReadAsync(table.BlobKey, cancellationToken);
        await foreach (var row in Read(stream, InputFormatNames.Parse(table.Format), cancellationToken))
        {
            if (rows.Count == Math.Clamp(limit, 1, MaxPreviewRows))
            {
                break;
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// Deletes a table's versions (all of them, or one) and then their blobs: a failure in between leaves only
    /// unreferenced blobs, never a version without its rows.
    /// </summary>
    /// <returns>The versions deleted; empty when the tenant has no such table or version.</returns>
    public async Task<IReadOnlyList<TableVersionRow>> DeleteAsync(string tenantId, string name, long? version, CancellationToken cancellationToken)
    {
        var deleted = await database.WriteAsync((connection, transaction) =>
        {
            const string sql = $"""
                DELETE FROM reference_tables WHERE tenant_id = @tenantId AND name = @name AND (@version IS NULL OR version = @version)
                RETURNING {VersionColumns}
                """;
            return connection.Query<TableVersionRow>(sql, new { tenantId, name, version }, transaction).AsList();
        }, cancellationToken);
        foreach (var row in deleted)
        {
            await blobs.DeleteAsync(row.BlobKey, CancellationToken.None);
            foreach (var cached in _indexes.Keys.Where(k => k.TenantId == tenantId && k.Name == name && k.Version == row.Version))
            {
                _indexes.TryRemove(cached, out _);
                _lastUsed.TryRemove(cached, out _);
            }
        }
        return deleted;
    }

    /// <summary>The version a run uses: the newest uploaded at or before <paramref name="at"/> (the run's creation), so every chunk and retry of a run sees the same rows.</summary>
    public TableVersionRow? VersionAt(string tenantId, string name, long at)
    {
        const string sql = $"""
            SELECT {VersionColumns} FROM reference_tables
            WHERE tenant_id = @tenantId AND name = @name AND created_at <= @at ORDER BY version DESC LIMIT 1
            """;
        using var connection = database.OpenConnection();
        return connection.QuerySingleOrDefault<TableVersionRow>(sql, new { tenantId, name, at });
    }

    /// <summary>The table version indexed on <paramref name="keys"/>, holding <paramref name="columns"/> of each row; built once, then shared.</summary>
    public async Task<TableIndex> IndexAsync(string tenantId, TableVersionRow table, IReadOnlyList<string> keys, IReadOnlyList<string> columns, CancellationToken cancellationToken)
    {
        var key = new IndexKey(tenantId, table.Name, table.Version, string.Join('\u001f', keys), string.Join('\u001f', columns));
        _lastUsed[key] = Environment.TickCount64;
        var lazy = _indexes.GetOrAdd(key, _ => new Lazy<Task<TableIndex>>(() => BuildAsync(table, keys, columns)));
        try
        {
            var index = await lazy.Value.WaitAsync(cancellationToken);
            Evict();
            return index;
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            _indexes.TryRemove(new KeyValuePair<IndexKey, Lazy<Task<TableIndex>>>(key, lazy));
            throw;
        }
    }

    private async Task<TableIndex> BuildAsync(TableVersionRow table, IReadOnlyList<string> keys, IReadOnlyList<string> columns)
    {
        var index = new TableIndex(keys, columns, (int)Math.Min(table.Rows, int.MaxValue));
        await using var stream = await blobs.OpenReadAsync(table.BlobKey, CancellationToken.None);
        await foreach (var row in Read(stream, InputFormatNames.Parse(table.Format), CancellationToken.None))
        {
            index.Add(row);
        }
        return index;
    }

    private void Evict()
    {
        while (_indexes.Count > MaxCachedIndexes)
        {
            var oldest = _lastUsed.OrderBy(e => e.Value).First().Key;
            _indexes.TryRemove(oldest, out _);
            _lastUsed.TryRemove(oldest, out _);
        }
    }

    private static IAsyncEnumerable<Record> Read(Stream stream, InputFormat format, CancellationToken cancellationToken) =>
        format == InputFormat.Csv ? ChunkReader.ReadCsvAsync(stream, ',', cancellationToken) : ChunkReader.ReadJsonlAsync(stream, cancellationToken);

    private sealed record IndexKey(string TenantId, string Name, long Version, string Keys, string Columns);

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex Name();
}
