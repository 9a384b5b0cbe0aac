using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Saas.Pipelines.Storage;

/// <summary>
/// SQLite allows one writer at a time, and a commit's fsync dominates a small transaction. So one
/// thread takes every pending unit of work, runs each inside a savepoint of a single transaction and
/// commits them together: a unit that throws is rolled back alone, the others still commit.
/// Callers are released only after the commit, so "awaited" means "durable".
/// </summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    private const int MaxBatch = 512;
    private readonly Channel<IUnit> _pending = Channel.CreateUnbounded<IUnit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<SqliteConnection> _open;
    private readonly Task _loop;

    public GroupCommitWriter(Func<SqliteConnection> open)
    {
        _open = open;
        _loop = Task.Run(LoopAsync);
    }

    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var unit = new Unit<T>(work);
        if (!_pending.Writer.TryWrite(unit))
        {
            throw new ObjectDisposedException(nameof(GroupCommitWriter), "the database is shutting down");
        }
        return unit.Completion.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<IUnit>(MaxBatch);
        SqliteConnection? connection = null;
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var unit))
            {
                batch.Add(unit);
            }
            try
            {
                connection ??= _open();
                Commit(connection, batch);
            }
            catch (Exception error)
            {
                connection?.Dispose();
                connection = null;
                foreach (var unit in batch)
                {
                    unit.Fail(error);
                }
            }
        }
        connection?.Dispose();
    }

    private static void Commit(SqliteConnection connection, List<IUnit> batch)
    {
        using var transaction = connection.BeginTransaction();
        var succeeded = new List<IUnit>(batch.Count);
        if (batch.Count == 1)
        {
            try
            {
                batch[0].Run(connection, transaction);
                succeeded.Add(batch[0]);
            }
            catch (Exception error)
            {
                transaction.Rollback();
                batch[0].Fail(error);
                return;
            }
        }
        else
        {
            foreach (var unit in batch)
            {
                transaction.Save("unit");
                try
                {
                    unit.Run(connection, transaction);
                    transaction.Release("unit");
                    succeeded.Add(unit);
                }
                catch (Exception error)
                {
                    transaction.Rollback("unit");
                    transaction.Release("unit");
                    unit.Fail(error);
                }
            }
        }
        transaction.Commit();
        foreach (var unit in succeeded)
        {
            unit.Complete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _loop;
    }

    private interface IUnit
    {
        void Run(SqliteConnection connection, SqliteTransaction transaction);
        void Complete();
        void Fail(Exception error);
    }

    private sealed class Unit<T>(Func<SqliteConnection, SqliteTransaction, T> work) : IUnit
    {
        private T _result = default!;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Run(SqliteConnection connection, SqliteTransaction transaction) => _result = work(connection, transaction);

        public void Complete() => Completion.TrySetResult(_result);

        public void Fail(Exception error) => Completion.TrySetException(error);
    }
}
