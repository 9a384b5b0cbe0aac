using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Saas.Pipelines.Storage;

/// <summary>
/// The embedded database: SQLite in WAL mode. Reads open a pooled connection each; every write goes
/// through <see cref="GroupCommitWriter"/>, which batches concurrent units of work into one transaction.
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly string _connectionString;

    static Database()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    public Database(IOptions<FlowgateOptions> options)
    {
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
        Writer = new GroupCommitWriter(OpenWriterConnection, RestartWalWhenLarge);
        _checkpoints = Task.Run(() => CheckpointContinuouslyAsync(_stopping.Token));
    }

    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _checkpoints;

    /// <summary>Frames in the WAL as the background checkpoint last saw them.</summary>
    private long _walFrames;

    /// <summary>Past this many frames (64 MB of 4 KB pages) the writer itself finishes the checkpoint, so the WAL can start over.</summary>
    private const long MaxWalFrames = 16_384;

    public string FilePath { get; }

    private GroupCommitWriter Writer { get; }

    /// <summary>
    /// A connection for reads (WAL: readers never wait for the writer); disposing it returns it to this
    /// database's pool. Pooled connections live on with their prepared statements (see
    /// <see cref="PreparedStatements"/>), and map the database file into memory: a read transaction
    /// starts with a cold page cache after every commit, and mapped pages cost no system call.
    /// </summary>
    public SqliteConnection OpenConnection()
    {
        if (_idleReaders.TryTake(out var pooled))
        {
            return pooled;
        }
        var connection = new ReadConnection(this, _connectionString);
        connection.Open();
        connection.Execute("PRAGMA mmap_size = 268435456");
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
    /// </summary>
    private SqliteConnection OpenWriterConnection()
    {
        var connection = CreateConnection();
        connection.Execute("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -65536;");
        return connection;
    }

    /// <summary>
    /// Under a steady stream of commits a background checkpoint never catches up completely, and the
    /// WAL only starts over after one that does. So once the WAL is large, the writer — the only
    /// writer — finishes the checkpoint between two batches; the background one has done most of it.
    /// </summary>
    private void RestartWalWhenLarge(SqliteConnection writer)
    {
        if (Volatile.Read(ref _walFrames) > MaxWalFrames)
        {
            writer.Execute("PRAGMA wal_checkpoint(PASSIVE);");
            Volatile.Write(ref _walFrames, 0);
        }
    }

    private async Task CheckpointContinuouslyAsync(CancellationToken stopping)
    {
        using var connection = CreateConnection();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    var (_, frames, _) = connection.QuerySingle<(long Busy, long Frames, long Checkpointed)>("PRAGMA wal_checkpoint(PASSIVE);");
                    Volatile.Write(ref _walFrames, frames);
                }
                catch (SqliteException)
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Runs a unit of work in the next group commit; returns once it is durable.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default) =>
        Writer.WriteAsync(work, cancellationToken);

    public Task WriteAsync(Action<SqliteConnection, SqliteTransaction> work, CancellationToken cancellationToken = default) =>
        Writer.WriteAsync<object?>((c, t) => { work(c, t); return null; }, cancellationToken);

    private void Migrate()
    {
        using var connection = CreateConnection();
        connection.Execute("PRAGMA journal_mode = WAL;");
        connection.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
        var applied = connection.Query<long>("SELECT version FROM schema_migrations").ToHashSet();
        foreach (var (version, name, sql) in Migrations("Sqlite"))
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

    private static IEnumerable<(long Version, string Name, string Sql)> Migrations(string dialect)
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
    }
}
