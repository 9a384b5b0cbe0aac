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
        Writer = new GroupCommitWriter(OpenWriterConnection);
    }

    public string FilePath { get; }

    public GroupCommitWriter Writer { get; }

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
    /// crash). The writer checkpoints every 16 MB of WAL itself: being the only writer, its checkpoint
    /// completes and the WAL starts over, where a background checkpoint would be starved by the steady
    /// stream of commits and let the WAL grow without bound.
    /// </summary>
    private SqliteConnection OpenWriterConnection()
    {
        var connection = CreateConnection();
        connection.Execute("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 4000; PRAGMA cache_size = -65536;");
        return connection;
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

    public ValueTask DisposeAsync() => Writer.DisposeAsync();
}
