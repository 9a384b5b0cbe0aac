using System.Diagnostics.Tracing;
using Dapper;
using Microsoft.Data.Sqlite;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tests.Storage;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WithoutParallelTests
{
    /// <summary>For tests that watch process-wide events, which other tests' work would disturb.</summary>
    public const string Name = "without parallel tests";
}

/// <summary>
/// Each <see cref="SqliteTransaction"/> leaves a finalizable SQLitePCL hook handle behind; under a flood the writer's
/// ~2,000 batches a second made every gen0 collection promote and finalize them (decision 027, session 10).
/// </summary>
[Collection(WithoutParallelTests.Name)]
public sealed class WriterFinalizationTests : IAsyncLifetime
{
    private const string HookHandle = "SQLitePCL.hook_handle";
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"flowgate-finalization-{Guid.NewGuid():N}.db");

    public Task InitializeAsync()
    {
        using var connection = Open();
        connection.Execute("PRAGMA journal_mode = WAL; CREATE TABLE writes (n INTEGER NOT NULL)");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _file, _file + "-wal", _file + "-shm" })
        {
            File.Delete(file);
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_writers_batches_leave_no_hook_handle_for_the_finalizer_where_sqlite_transactions_each_leave_one()
    {
        // Earlier tests' handles are finalized before counting starts.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var finalized = new FinalizedTypes();

        // The control: plain SqliteTransactions do leave them, so the listener sees what it should.
        RunSqliteTransactions(50);
        var before = await finalized.WaitForAsync(HookHandle, atLeast: 50);

        await using (var writer = new GroupCommitWriter(Open, (_, _) => false))
        {
            for (var n = 0; n < 300; n++)
            {
                await writer.WriteAsync<object?>("tenant", (connection, transaction) =>
                {
                    connection.Execute("INSERT INTO writes (n) VALUES (@n)", new { n }, transaction);
                    return null;
                }, CancellationToken.None);
            }
        }
        // The control again: once its 50 are seen, any the writer left (300 with a SqliteTransaction per batch) are too.
        RunSqliteTransactions(50);
        var after = await finalized.WaitForAsync(HookHandle, atLeast: before + 50);

        Assert.InRange(after - before, 50, 99);
        using var check = Open();
        Assert.Equal(300, check.ExecuteScalar<long>("SELECT COUNT(*) FROM writes"));
    }

    private void RunSqliteTransactions(int count)
    {
        using var connection = Open();
        for (var i = 0; i < count; i++)
        {
            using var transaction = connection.BeginTransaction();
            connection.Execute("INSERT INTO writes (n) VALUES (-1)", transaction: transaction);
            transaction.Rollback();
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={_file};Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>Counts the objects the finalizer runs, by type, from the runtime's own events.</summary>
    private sealed class FinalizedTypes : EventListener
    {
        private const EventKeywords Gc = (EventKeywords)0x1;
        private const EventKeywords Type = (EventKeywords)0x80000;
        private readonly Dictionary<string, int> _counts = [];

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, Gc | Type);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName != "FinalizeObject" || e.Payload?[0] is not { } id)
            {
                return;
            }
            var handle = id switch { nint n => n, ulong u => (nint)u, _ => 0 };
            var name = handle == 0 ? "?" : System.Type.GetTypeFromHandle(RuntimeTypeHandle.FromIntPtr(handle))?.FullName ?? "?";
            lock (_counts)
            {
                _counts[name] = _counts.GetValueOrDefault(name) + 1;
            }
        }

        /// <summary>Collects until at least that many of the type were finalized (at most 20 s); returns how many were.</summary>
        public async Task<int> WaitForAsync(string type, int atLeast)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                lock (_counts)
                {
                    if (_counts.GetValueOrDefault(type) >= atLeast)
                    {
                        break;
                    }
                }
                await Task.Delay(100);
            }
            // Events of the last collection may still be on their way: let them arrive before counting.
            await Task.Delay(500);
            lock (_counts)
            {
                return _counts.GetValueOrDefault(type);
            }
        }
    }
}
