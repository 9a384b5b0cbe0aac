using System.Diagnostics;
using Dapper;
using Microsoft.Data.Sqlite;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tests.Storage;

/// <summary>
/// No commit truncates the WAL file: one that did stalled every write for seconds after a flood. The background checkpoint
/// truncates it once writes have stopped (decision 027, session 10).
/// </summary>
public sealed class WalTruncationTests
{
    [Fact]
    public async Task A_wal_grown_past_64_mb_is_truncated_once_writes_stop_and_keeps_every_write()
    {
        await using var engine = new Engine();
        var database = engine.Get<Database>();
        await database.WriteAsync((connection, transaction) => connection.Execute("CREATE TABLE wal_fill (data BLOB NOT NULL)", transaction: transaction));
        var wal = new FileInfo(database.FilePath + "-wal");
        var megabyte = new byte[1024 * 1024];
        Random.Shared.NextBytes(megabyte);

        // A reader holding its snapshot keeps the checkpoint from catching up, so the WAL grows as under a flood.
        using (var reader = (SqliteConnection)database.OpenConnection())
        using (var snapshot = reader.BeginTransaction(deferred: true))
        {
            reader.ExecuteScalar<long>("SELECT COUNT(*) FROM wal_fill", transaction: snapshot);
            for (var i = 0; i < 72; i++)
            {
                await database.WriteAsync((connection, transaction) =>
                    connection.Execute("INSERT INTO wal_fill (data) VALUES (@megabyte)", new { megabyte }, transaction));
            }
            wal.Refresh();
            Assert.True(wal.Length > 64L * 1024 * 1024, $"the WAL should have grown past 64 MB, it has {wal.Length:N0} bytes");
        }

        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(40))
        {
            wal.Refresh();
            if (wal.Length == 0)
            {
                break;
            }
            await Task.Delay(250);
        }
        Assert.Equal(0, wal.Length);
        Assert.True(waited.Elapsed >= TimeSpan.FromSeconds(5), $"truncated after {waited.Elapsed.TotalSeconds:0.0} s, before writes had stopped for long");
        using var check = database.OpenConnection();
        Assert.Equal(72, check.ExecuteScalar<long>("SELECT COUNT(*) FROM wal_fill"));
    }
}
