using System.Data.Common;
using System.Diagnostics;
using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Saas.Pipelines.Storage;

/// <summary>
/// The engine's database: SQLite in WAL mode (the embedded default) or PostgreSQL
/// (<c>Flowgate:Database:Provider=postgres</c> with <c>ConnectionStrings:Flowgate</c>). Reads open a pooled
/// connection each; every write goes through <see cref="GroupCommitWriter"/>, which batches concurrent
/// units of work into one transaction (decision 020 for PostgreSQL).
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly string _connectionString = "";
    private readonly NpgsqlDataSource? _postgres;

    static Database()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    public Database(IOptions<FlowgateOptions> options, IConfiguration configuration)
    {
        Dialect = options.Value.Database.Provider switch
        {
            DatabaseOptions.Sqlite => SqlDialect.Sqlite,
            DatabaseOptions.Postgres => SqlDialect.Postgres,
            var other => throw new InvalidOperationException(
                $"Flowgate:Database:Provider is '{other}': use '{DatabaseOptions.Sqlite}' (the default) or '{DatabaseOptions.Postgres}' (with ConnectionStrings:Flowgate)"),
        };
        if (Dialect == SqlDialect.Postgres)
        {
            var connectionString = configuration.GetConnectionString("Flowgate") is { Length: > 0 } value
                ? value
                : throw new InvalidOperationException(
                    "Flowgate:Database:Provider=postgres needs ConnectionStrings:Flowgate (e.g. Host=127.0.0.1;Port=5432;Username=postgres;Database=flowgate)");
            _postgres = PostgresDataSource(connectionString);
            FilePath = "";
            MigratePostgres();
            Writer = new GroupCommitWriter(() => _postgres.OpenConnection(), (_, _) => false);
            _checkpoints = Task.CompletedTask;
            return;
        }
        var directory = Path.GetFullPath(options.Value.DataDirectory);
        Directory.CreateDirectory(directory);
        FilePath = Path.Combine(directory, "flowgate.db");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        Migrate();
        Writer = new GroupCommitWriter(OpenWriterConnection, AfterWriterBatch);
        _checkpoints = Task.Run(() => CheckpointContinuouslyAsync(_stopping.Token));
    }

    public SqlDialect Dialect { get; }

    /// <summary>
    /// Npgsql prepares a statement on the server once it has run a few times on a physical connection
    /// (automatic preparation), which is PostgreSQL's side of decision 006's prepared statements.
    /// </summary>
    private static NpgsqlDataSource PostgresDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
        }
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _checkpoints;

    /// <summary>Frames in the WAL, and of those the ones copied back, as the background checkpoint last saw them.</summary>
    private long _walFrames, _walBackfilled;

    /// <summary>
    /// Past this many frames (8 MB of 4 KB pages) the writer itself finishes the checkpoint, so the WAL can start over.
    /// Every cycle costs the writer fsyncs, and an fsync waits for all the dirty data the kernel holds: short cycles
    /// keep each stall short (a 64 MB WAL stalled commits for 50-90 ms per cycle under a flood, decision 027).
    /// </summary>
    private const long MaxWalFrames = 2_048;

    /// <summary>
    /// The writer finishes a checkpoint only when at most this many frames (512 KB) are left to copy: every write waits
    /// while it does, so it must be short (decision 027). Past <see cref="MaxWalFrames"/> the background checkpoint
    /// runs back to back to get there, while tenants writing more than their share wait (<see cref="GroupCommitWriter"/>).
    /// </summary>
    private const long FinishableFrames = 128;

    /// <summary>
    /// The background checkpoint copies back every 1 MB of new frames (at the latest every 200 ms). Each pass fsyncs the
    /// WAL and the database file, and an fsync waits for all the dirty data the kernel holds: passes of a few hundred
    /// frames keep every fsync, and the writer's stall behind it, short (decision 027; 200 ms passes under a flood
    /// fsynced ~10 MB each and stalled commits for 15-40 ms).
    /// </summary>
    private const long CheckpointEveryFrames = 256;

    private readonly SemaphoreSlim _walGrew = new(0);

    /// <summary>Frames the writer wrote since it last woke the background checkpoint; only the writer touches it.</summary>
    private long _framesSinceWake;

    public string FilePath { get; }

    private GroupCommitWriter Writer { get; }

    /// <summary>
    /// A connection for reads (WAL: readers never wait for the writer); disposing it returns it to this
    /// database's pool. Pooled connections live on with their prepared statements (see
    /// <see cref="PreparedStatements"/>). They do not map the database file into memory: SQLite unmaps the whole file
    /// at every read transaction that follows a commit, and under load those munmaps (hundreds per second) held the
    /// process's memory-map lock against every page fault (decision 027, session 8).
    /// </summary>
    public DbConnection OpenConnection()
    {
        if (_postgres is not null)
        {
            return _postgres.OpenConnection();
        }
        if (_idleReaders.TryTake(out var pooled))
        {
            return pooled;
        }
        var connection = new ReadConnection(this, _connectionString);
        connection.Open();
        return connection;
    }

    private const int MaxIdleReaders = 32;
    private readonly System.Collections.Concurrent.ConcurrentBag<ReadConnection> _idleReaders = [];

    private bool Return(ReadConnection connection)
    {
        if (_idleReaders.Count >= MaxIdleReaders)
        {
            return false;
        }
        _idleReaders.Add(connection);
        return true;
    }

    private sealed class ReadConnection(Database owner, string connectionString) : SqliteConnection(connectionString)
    {
        protected override void Dispose(bool disposing)
        {
            if (disposing && State == System.Data.ConnectionState.Open && owner.Return(this))
            {
                return;
            }
            base.Dispose(disposing);
        }
    }

    private SqliteConnection CreateConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>
    /// The writer's own connection. Commits do not fsync (WAL with synchronous=NORMAL survives a process
    /// crash) and do not checkpoint: copying pages back and the fsyncs that go with it happen on a
    /// background connection (<see cref="CheckpointContinuouslyAsync"/>), off the path of every commit.
    /// The page cache is small on purpose: SQLite walks its whole cache at the end of every write transaction
    /// (<c>pcache1TruncateUnsafe</c>), which with 64 MB cost ~0.5 ms per commit; 4 MB still holds the hot B-tree pages
    /// and a batch's dirty ones (decision 031). No commit truncates the WAL file (<c>journal_size_limit = -1</c>): after a
    /// long cycle under a flood, the first commit of the next one cut it back to the limit, in the writer, and waited for
    /// the writeback of every page cut off (one stall of every write for 6.1 s, decision 027, session 10). The background
    /// checkpoint truncates it once writes have stopped (<see cref="TruncateIdleWal"/>).
    /// </summary>
    private DbConnection OpenWriterConnection()
    {
        var connection = CreateConnection();
        connection.Execute("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = -1; PRAGMA cache_size = -4096;");
        return connection;
    }

    /// <summary>A WAL file larger than this is truncated once writes have stopped for <see cref="IdleBeforeTruncate"/>.</summary>
    private const long TruncateWalAbove = 64L * 1024 * 1024;

    private static readonly TimeSpan IdleBeforeTruncate = TimeSpan.FromSeconds(10);

    /// <summary>When the writer last wrote frames (a <see cref="Stopwatch"/> timestamp); only the writer sets it.</summary>
    private long _lastWrite = Stopwatch.GetTimestamp();

    /// <summary>The <see cref="_lastWrite"/> of the idle spell whose WAL is already small: nothing to look at until the next write.</summary>
    private long _idleWalChecked;

    /// <summary>
    /// On the background connection, once writes have stopped for a while: a WAL file grown past
    /// <see cref="TruncateWalAbove"/> by a flood is truncated. A write arriving meanwhile waits for that, once.
    /// </summary>
    private void TruncateIdleWal(DbConnection connection)
    {
        var lastWrite = Volatile.Read(ref _lastWrite);
        if (lastWrite == _idleWalChecked || Stopwatch.GetElapsedTime(lastWrite) < IdleBeforeTruncate)
        {
            return;
        }
        var wal = new FileInfo(FilePath + "-wal");
        if (wal.Exists && wal.Length > TruncateWalAbove)
        {
            // Without waiting (the connection has no busy timeout): if a reader or the writer is busy after all, it is tried
            // again at the next idle pass.
            if (connection.QuerySingle<(long Busy, long Frames, long Backfilled)>("PRAGMA wal_checkpoint(TRUNCATE);").Busy != 0)
            {
                return;
            }
        }
        _idleWalChecked = lastWrite;
    }

    /// <summary>
    /// After each batch of the writer: once it has written <see cref="CheckpointEveryFrames"/> frames since the last wake-up,
    /// the background checkpoint is woken.
    /// </summary>
    private void CountWrittenFrames(DbConnection writer)
    {
        const int cacheWrite = 9; // SQLITE_DBSTATUS_CACHE_WRITE: pages the connection wrote, in WAL mode frames appended
        SQLitePCL.raw.sqlite3_db_status(((SqliteConnection)writer).Handle, cacheWrite, out var written, out _, 1);
        if (written > 0)
        {
            Volatile.Write(ref _lastWrite, Stopwatch.GetTimestamp());
        }
        _framesSinceWake += written;
        if (_framesSinceWake >= CheckpointEveryFrames)
        {
            _framesSinceWake = 0;
            if (_walGrew.CurrentCount == 0)
            {
                _walGrew.Release();
            }
        }
    }

    /// <summary>
    /// Between two batches of the writer: counts the frames written (<see cref="CountWrittenFrames"/>), and sees that a large
    /// WAL starts over. Under a steady stream of commits a background checkpoint never catches up completely, and the WAL
    /// only starts over (at the writer's next transaction) after one that does. While several tenants write, the
    /// tenants that wrote more than their share wait (<see cref="GroupCommitWriter"/>) and the background checkpoint
    /// catches up on the others' trickle: the writer never stops for a checkpoint, whose fsyncs cost every waiting
    /// commit 2-12 ms 15-20 times a second under a flood (decision 027). Alone, a tenant is not held back: the writer
    /// finishes the checkpoint itself between two batches once the background one has left it little to copy (or when
    /// the WAL has grown far past its size anyway).
    /// </summary>
    /// <param name="heavyOwnersMayWait">Several tenants write, so the heavy ones can wait while the checkpoint catches up.</param>
    /// <returns>True while the WAL is large and the background checkpoint has not caught up: heavy writers then wait.</returns>
    private bool AfterWriterBatch(DbConnection writer, bool heavyOwnersMayWait)
    {
        CountWrittenFrames(writer);
        var frames = Volatile.Read(ref _walFrames);
        if (frames <= MaxWalFrames)
        {
            return false;
        }
        var left = frames - Volatile.Read(ref _walBackfilled);
        if (frames > 4 * MaxWalFrames || (!heavyOwnersMayWait && left <= FinishableFrames))
        {
            writer.Execute("PRAGMA wal_checkpoint(PASSIVE);");
            Volatile.Write(ref _walFrames, 0);
            return false;
        }
        // Copied back completely: the next write transaction starts the WAL over, whoever's it is.
        return left > 0;
    }

    /// <summary>
    /// Copies the WAL back in the background, at normal priority: at low priority it was preempted while holding WAL locks
    /// that every transaction's start needs (decision 027, session 8).
    /// </summary>
    private async Task CheckpointContinuouslyAsync(CancellationToken stopping)
    {
        using var connection = CreateConnection();
        // Its checkpoints never wait for a lock: PASSIVE ones do not anyway, and the idle TRUNCATE must not hold the write
        // lock while it waits for a reader.
        connection.Execute("PRAGMA busy_timeout = 0;");
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var large = false;
                try
                {
                    var (_, frames, backfilled) = connection.QuerySingle<(long Busy, long Frames, long Backfilled)>("PRAGMA wal_checkpoint(PASSIVE);");
                    Volatile.Write(ref _walBackfilled, backfilled);
                    Volatile.Write(ref _walFrames, frames);
                    large = frames > MaxWalFrames;
                    TruncateIdleWal(connection);
                }
                catch (SqliteException)
                {
                }
                await _walGrew.WaitAsync(TimeSpan.FromMilliseconds(large ? 1 : 200), stopping);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Runs a unit of work in the next group commit; returns once it is durable.</summary>
    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, T> work, CancellationToken cancellationToken = default) =>
        Writer.WriteAsync(null, work, cancellationToken);

    public Task WriteAsync(Action<DbConnection, DbTransaction> work, CancellationToken cancellationToken = default) =>
        Writer.WriteAsync<object?>(null, (c, t) => { work(c, t); return null; }, cancellationToken);

    /// <summary>
    /// A tenant's unit of work (null: several tenants' or the platform's): the writer takes tenants in turn, so a
    /// flood of one tenant's writes cannot delay another's.
    /// </summary>
    public Task<T> WriteAsync<T>(string? tenantId, Func<DbConnection, DbTransaction, T> work, CancellationToken cancellationToken = default) =>
        Writer.WriteAsync(tenantId, work, cancellationToken);

    /// <inheritdoc cref="WriteAsync{T}(string?, Func{DbConnection, DbTransaction, T}, CancellationToken)"/>
    public Task WriteAsync(string? tenantId, Action<DbConnection, DbTransaction> work, CancellationToken cancellationToken = default) =>
        Writer.WriteAsync<object?>(tenantId, (c, t) => { work(c, t); return null; }, cancellationToken);

    private void Migrate()
    {
        using var connection = CreateConnection();
        connection.Execute("PRAGMA journal_mode = WAL;");
        connection.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
        ApplyPendingMigrations(connection, SqlDialect.Sqlite);
    }

    /// <summary>
    /// Several processes (web hosts, the Functions app) may start at once: an advisory lock lets one
    /// of them migrate while the others wait, then find nothing left to do.
    /// </summary>
    private void MigratePostgres()
    {
        using var connection = _postgres!.OpenConnection();
        connection.Execute("SELECT pg_advisory_lock(7202611)");
        try
        {
            connection.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
            ApplyPendingMigrations(connection, SqlDialect.Postgres);
        }
        finally
        {
            connection.Execute("SELECT pg_advisory_unlock(7202611)");
        }
    }

    /// <summary>Each migration not yet in schema_migrations, in order, each in its own transaction with its record.</summary>
    private static void ApplyPendingMigrations(DbConnection connection, SqlDialect dialect)
    {
        var applied = connection.Query<long>("SELECT version FROM schema_migrations").ToHashSet();
        foreach (var (version, name, sql) in Migrations(dialect))
        {
            if (applied.Contains(version))
            {
                continue;
            }
            using var transaction = connection.BeginTransaction();
            connection.Execute(sql, transaction: transaction);
            connection.Execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @now)",
                new { version, name, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
                transaction);
            transaction.Commit();
        }
    }

    /// <summary>The migration scripts of a dialect, in version order (embedded from Storage/Migrations/{Sqlite|Postgres}).</summary>
    internal static IEnumerable<(long Version, string Name, string Sql)> Migrations(SqlDialect dialect)
    {
        var assembly = typeof(Database).Assembly;
        var prefix = $"{assembly.GetName().Name}.Storage.Migrations.{dialect}.";
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (long.Parse(name[..4]), name, reader.ReadToEnd());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _checkpoints;
        await Writer.DisposeAsync();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
